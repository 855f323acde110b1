//! Runs every REPL transcript (`NAME.in` typed, `NAME.out` expected) in
//! `tests/conformance/` (the first, public cases) and `tests/transcripts/`
//! (our own cases), outputs recorded from the reference implementation.
//! The comparison rule of `tests/conformance/README.md`: identical line for
//! line, except that a line where the reference printed an ANTLR
//! syntax-error report only needs the same prompt and to say it is an error.
//! Each transcript runs twice: on the structured engine the REPL uses, and
//! on the plain engine (the oracle), so both print the reference's text.

use libtest_mimic::{Arguments, Failed, Trial};
use rasp_lang::{Session, drive};
use std::path::{Path, PathBuf};

mod common;

use common::DirLoader;

/// `plain`: evaluate with the plain engine (the oracle) instead of the
/// structured one the REPL uses; both must print the reference's text.
fn run_case(dir: &Path, input: &str, plain: bool) -> String {
    let dir = dir.to_path_buf();
    let input = input.to_string();
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(DirLoader(dir)));
        session.set_plain_engine(plain);
        // Lines as Python's input() gives them (split on \n only).
        let mut lines = input.split_inclusive('\n').map(|l| l.strip_suffix('\n').unwrap_or(l).to_string());
        let mut out = String::new();
        drive(&mut session, || lines.next(), |_| {}, |s| out.push_str(s));
        out
    })
}

fn lines_match(expected: &str, actual: &str) -> bool {
    if expected.contains("antlr exception") {
        let prompt = expected.split('\t').next().unwrap_or("");
        let lower = actual.to_lowercase();
        return actual.starts_with(prompt) && (lower.contains("error") || lower.contains("ignoring input"));
    }
    expected == actual
}

fn compare(expected: &str, actual: &str) -> Result<(), Failed> {
    let e: Vec<&str> = expected.split('\n').collect();
    let a: Vec<&str> = actual.split('\n').collect();
    for (i, (x, y)) in e.iter().zip(&a).enumerate() {
        if !lines_match(x, y) {
            return Err(
                format!("line {}:\n expected: {x:?}\n   actual: {y:?}\n--- whole output:\n{actual}", i + 1).into()
            );
        }
    }
    if e.len() != a.len() {
        return Err(format!("expected {} lines, got {}\n--- whole output:\n{actual}", e.len(), a.len()).into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests");
    let mut trials = Vec::new();
    for suite in ["conformance", "transcripts"] {
        let dir = root.join(suite);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "in"))
            .collect();
        names.sort();
        for path in names {
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            for plain in [false, true] {
                let name = format!("{suite}::{stem}{}", if plain { "::plain_engine" } else { "" });
                let (dir, path) = (dir.clone(), path.clone());
                trials.push(Trial::test(name, move || {
                    let input = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                    let expected = std::fs::read_to_string(path.with_extension("out"))
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    compare(&expected, &run_case(&dir, &input, plain))
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
