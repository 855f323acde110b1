//! Layer and head counts from `tests/data/counts.table` (format in the file),
//! one test per line.

mod common;

use libtest_mimic::{Arguments, Failed, Trial};
use rasp_analyze::{AnalyzeOptions, Schedule, analyze_with};
use rasp_core::Value;
use rasp_lang::{Session, SourceLoader};
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `load "x";` reads `x.rasp` relative to the workspace root.
struct RootFiles;

impl SourceLoader for RootFiles {
    fn load(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(workspace_root().join(path)).ok()
    }
}

struct Case {
    file: Option<String>,
    options: AnalyzeOptions,
    program: String,
    layers: usize,
    heads: String,
}

fn parse_table(text: &str) -> Result<Vec<(usize, Case)>, String> {
    let mut file = None;
    let mut cases = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(f) = line.strip_prefix('@') {
            let f = f.trim();
            file = if f == "-" { None } else { Some(f.to_string()) };
            continue;
        }
        let bad = || format!("counts.table line {}: cannot read {line:?}", n + 1);
        let (mut program, expected) = line.rsplit_once("=>").ok_or_else(bad)?;
        let mut options = AnalyzeOptions::default();
        if let Some(rest) = program.trim_start().strip_prefix('[') {
            let (flags, after) = rest.split_once(']').ok_or_else(bad)?;
            for flag in flags.split_whitespace() {
                match flag {
                    "best" => options.schedule = Schedule::Best,
                    "bos" => options.bos_selector_width = true,
                    _ => return Err(bad()),
                }
            }
            program = after;
        }
        let mut parts = expected.split_whitespace();
        let layers = parts.next().and_then(|l| l.parse().ok()).ok_or_else(bad)?;
        let heads = parts.next().ok_or_else(bad)?.to_string();
        cases.push((n + 1, Case { file: file.clone(), options, program: program.trim().to_string(), layers, heads }));
    }
    Ok(cases)
}

fn run(case: Case) -> Result<(), Failed> {
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(RootFiles));
        if let Some(file) = &case.file {
            let text = std::fs::read_to_string(workspace_root().join(file)).map_err(|e| format!("{file}: {e}"))?;
            session.run_file(file, &text);
            session.take_output();
            if session.had_file_errors() {
                let errors: String = session.take_diagnostics().iter().map(|d| d.render(false)).collect();
                return Err(format!("{file} has errors:\n{errors}").into());
            }
        }
        session.feed_line(&format!("analysis_target = {};", case.program));
        let output = session.take_output();
        let Some(Value::Sop(root)) = session.lookup("analysis_target") else {
            return Err(format!("{} is not an s-op:\n{output}", case.program).into());
        };
        let analysis = analyze_with(&session.graph, root, case.options);
        let got = (analysis.layers, analysis.heads_string());
        if got != (case.layers, case.heads.clone()) {
            return Err(format!(
                "{}: expected {} layers, heads {}; got {} layers, heads {}\n{}",
                case.program,
                case.layers,
                case.heads,
                got.0,
                got.1,
                analysis.report(&session.graph)
            )
            .into());
        }
        common::check_schedule(&session.graph, root, &analysis)
            .map_err(|e| format!("{e}\n{}", analysis.report(&session.graph)))?;
        Ok(())
    })
}

fn main() {
    let args = Arguments::from_args();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/counts.table");
    let text = std::fs::read_to_string(&path).expect("tests/data/counts.table");
    let cases = parse_table(&text).unwrap_or_else(|e| panic!("{e}"));
    let trials = cases
        .into_iter()
        .map(|(line, case)| {
            let mut name = format!("line {line:03}: ");
            if case.options.schedule == Schedule::Best {
                name.push_str("[best] ");
            }
            if case.options.bos_selector_width {
                name.push_str("[bos] ");
            }
            name.push_str(&case.program);
            Trial::test(name, move || run(case))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
