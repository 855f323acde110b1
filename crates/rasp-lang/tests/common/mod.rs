//! Shared by the file-driven test runners.

use rasp_lang::SourceLoader;
use std::path::PathBuf;

/// Reads `load`ed files relative to a folder, as the REPL reads them
/// relative to its working directory.
pub struct DirLoader(pub PathBuf);

impl SourceLoader for DirLoader {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}
