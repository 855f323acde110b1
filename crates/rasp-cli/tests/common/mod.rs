//! Running the `rasp` binary from the tests that share it (each test binary
//! uses some of these, so the unused ones are not warned about).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `rasp ARGS` in `dir`.
pub fn rasp_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rasp")).args(args).current_dir(dir).output().expect("run rasp")
}

/// Runs `rasp ARGS` at the repository root (where `examples/` is).
pub fn rasp(args: &[&str]) -> Output {
    rasp_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), args)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh, empty directory for one test (the process id keeps test
/// binaries running at once apart).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rasp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The path of an example program.
pub fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(name).display().to_string()
}
