//! Random programs: whatever compiles must agree with the interpreter on
//! every input (small vocabulary and length, checked exhaustively).

mod common;

use rasp_compile::{CompileOptions, Rng, VerifyOptions, compile, verify};

/// A selector: a select of two numeric s-ops, or and/or/not of smaller ones.
fn selector(rng: &mut Rng, nums: &[String], depth: usize) -> String {
    let ops = ["==", "!=", "<", ">", "<=", ">="];
    if depth == 0 || rng.below(3) == 0 {
        return match rng.below(6) {
            0 => format!("select(tokens_str, tokens_str, {})", rng.pick(&["==", "<", "!="])),
            1 => format!("select(indices, {}, ==)", rng.below(3)),
            _ => {
                let a = &nums[rng.below(nums.len())];
                let b = &nums[rng.below(nums.len())];
                format!("select({a}, {b}, {})", rng.pick(&ops))
            }
        };
    }
    match rng.below(3) {
        0 => format!("({} and {})", selector(rng, nums, depth - 1), selector(rng, nums, depth - 1)),
        1 => format!("({} or {})", selector(rng, nums, depth - 1), selector(rng, nums, depth - 1)),
        _ => format!("not {}", selector(rng, nums, depth - 1)),
    }
}

/// A program of a few numeric and string s-ops, selectors and aggregates;
/// the last definition is `res`.
fn program(rng: &mut Rng) -> String {
    let mut nums: Vec<String> = vec!["indices".into(), "tokens_int".into(), "length".into()];
    let mut strs: Vec<String> = vec!["tokens_str".into()];
    let mut sels: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    let ops = ["==", "!=", "<", ">", "<=", ">="];
    let steps = 3 + rng.below(4);
    for i in 0..steps {
        let name = format!("v{i}");
        let a = nums[rng.below(nums.len())].clone();
        let b = nums[rng.below(nums.len())].clone();
        let expr = match rng.below(10) {
            0 => format!("{a} + {b}"),
            1 => format!("{a} - {}", rng.below(3)),
            2 => format!("indicator({a} {} {b})", rng.pick(&ops)),
            3 => format!("{a} if {b} > 1 else {}", rng.below(3)),
            4 | 5 => {
                let sel = selector(rng, &nums, 2);
                sels.push(sel.clone());
                let v = nums[rng.below(nums.len())].clone();
                match rng.below(3) {
                    0 => format!("aggregate({sel}, indicator({v} > 0))"),
                    1 => format!("selector_width({sel})"),
                    _ => format!("round(aggregate({sel}, {v}, 0))"),
                }
            }
            6 => {
                let s = strs[rng.below(strs.len())].clone();
                let sel = format!("select(indices, {a} - 1, ==)");
                strs.push(format!("{name}s"));
                lines.push(format!("{name}s = aggregate({sel}, {s}, \"-\");"));
                format!("indicator({name}s == \"1\")")
            }
            7 => format!("({a} * {b}) % 3"),
            8 => format!("max({a}, {b})"),
            _ => format!("round(aggregate(select({a}, {b}, {}), {a}))", rng.pick(&ops)),
        };
        lines.push(format!("{name} = {expr};"));
        nums.push(name);
    }
    let last = nums.last().cloned().unwrap_or_default();
    let res = match rng.below(3) {
        0 => format!("res = {last};"),
        1 => format!("res = \"x\" if {last} > 0 else tokens_str;"),
        _ => format!("res = {last} + indices;"),
    };
    lines.push(res);
    let _ = sels;
    lines.join("\n")
}

#[test]
fn random_programs_agree_with_the_interpreter() {
    let mut compiled = 0;
    let mut refused = Vec::new();
    let cases: usize = std::env::var("RASP_RANDOM_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(150);
    let mut rng = Rng(std::env::var("RASP_RANDOM_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2026));
    for case in 0..cases {
        let source = program(&mut rng);
        let src = source.clone();
        let outcome = rasp_lang::with_large_stack(move || {
            let mut s = rasp_lang::Session::new(Box::new(rasp_lang::NoFiles));
            s.run_file("random.rasp", &format!("set example [1, 2]\n{src}"));
            let _ = s.take_output();
            let Some(rasp_core::Value::Sop(root)) = s.lookup("res") else { return None };
            let max_len = std::env::var("RASP_RANDOM_LEN").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
            let bos = std::env::var("RASP_RANDOM_BOS").ok();
            let opts = CompileOptions::new(common::vocab("0,1,2"), bos, max_len);
            match compile(&s.graph, root, &opts) {
                Ok((model, _)) => {
                    let r = verify(&s.graph, root, &model, &VerifyOptions::default());
                    Some(Ok((r.mismatches, r.examples, r.inputs_checked)))
                }
                Err(e) => Some(Err(e.to_string())),
            }
        });
        match outcome {
            None => {}
            Some(Ok((mismatches, examples, checked))) => {
                compiled += 1;
                assert_eq!(mismatches, 0, "case {case}:\n{source}\nchecked {checked}: {examples:?}");
            }
            Some(Err(e)) => refused.push(e),
        }
    }
    eprintln!("{compiled} random programs compiled and verified; {} refused: {refused:?}", refused.len());
    assert!(compiled >= cases / 2, "only {compiled} compiled: {refused:?}");
}
