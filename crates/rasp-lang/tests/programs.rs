//! Runs the program tests in `tests/programs/*.rasp`: each file is RASP
//! run as a loaded file would be (cwd = the repository root), with
//! assertion lines `#= EXPR => EXPECTED`: the statement `EXPR;` must print
//! `\t =  EXPECTED` (an application) or `    value: out =  EXPECTED` (an
//! atom). Expected values were computed independently of RASP (plain
//! Python over the task's definition) and checked against the reference.

use libtest_mimic::{Arguments, Failed, Trial};
use rasp_lang::Session;
use std::path::{Path, PathBuf};

mod common;

use common::DirLoader;

fn check_file(root: PathBuf, text: String) -> Result<usize, String> {
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(DirLoader(root)));
        let mut checked = 0;
        let mut setup = String::new();
        for (number, line) in text.lines().enumerate() {
            let Some(assertion) = line.strip_prefix("#=") else {
                setup.push_str(line);
                setup.push('\n');
                continue;
            };
            if !setup.trim().is_empty() {
                session.run_file("setup", &setup);
                let printed = session.take_output();
                // Errors come as diagnostics; a value that fails to show still prints.
                let errors: String = session.take_diagnostics().iter().map(|d| d.render(false)).collect();
                if !errors.is_empty() || printed.contains("fails on evaluation") || printed.contains("went wrong") {
                    return Err(format!("setup before line {} failed:\n{errors}{printed}", number + 1));
                }
                setup.clear();
            }
            let Some((expr, expected)) = assertion.split_once("=>") else {
                return Err(format!("line {}: an assertion needs `EXPR => EXPECTED`", number + 1));
            };
            let (expr, expected) = (expr.trim(), expected.trim());
            session.feed_line(&format!("{expr};"));
            let printed = session.take_output();
            let got = printed
                .strip_prefix("\t =  ")
                .or_else(|| printed.strip_prefix("    value: out =  "))
                .map(str::trim_end)
                .unwrap_or(printed.trim_end());
            if got != expected {
                return Err(format!("line {}: {expr}\n expected: {expected}\n      got: {printed}", number + 1));
            }
            checked += 1;
        }
        Ok(checked)
    })
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join("tests/programs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "rasp")).collect()
        })
        .unwrap_or_default();
    files.sort();
    let trials = files
        .into_iter()
        .map(|path| {
            let name = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let root = root.clone();
            Trial::test(name, move || {
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                match check_file(root, text) {
                    Ok(0) => Err(Failed::from("no assertions in file")),
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.into()),
                }
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
