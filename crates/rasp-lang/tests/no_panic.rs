//! Property tests: random programs and inputs never panic the interpreter,
//! and the REPL keeps its earlier definitions after any error.

use proptest::prelude::*;
use rasp_lang::{NoFiles, Session};

/// Fragments that recombine into plausible and implausible RASP.
const FRAGMENTS: &[&str] = &[
    "tokens",
    "indices",
    "length",
    "x",
    "y",
    "f",
    "full_s",
    "sort",
    "selector_width",
    "count",
    "shift",
    "max",
    "tokens_int",
    "tokens_float",
    "tokens_bool",
    "tokens_asis",
    "True",
    "False",
    "out",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    ":",
    "=",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "^",
    "and",
    "or",
    "not",
    "if",
    "else",
    "in",
    "for",
    "def",
    "return",
    "select(",
    "aggregate(",
    "range(",
    "zip(",
    "len(",
    "round",
    "indicator",
    "0",
    "1",
    "2",
    "-1",
    "3.5",
    "100",
    "\"a\"",
    "\"hello\"",
    "\"\"",
    "set example",
    "show example",
    "examples off",
    "examples on",
    "full seq display on",
    "full seq display off",
    "draw",
    "load \"nope\"",
    "#",
    "§",
];

/// Runs the lines, then checks the session still answers: returns what
/// `indices;` prints afterwards.
/// 200 cases a test, or `PROPTEST_CASES` for a long campaign.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(200)
}

fn run_lines(lines: Vec<String>) -> String {
    let mut session = Session::new(Box::new(NoFiles));
    for line in &lines {
        session.feed_line(line);
        let _ = session.take_output();
    }
    session.discard_pending();
    // Random lines may have set an example no s-op can run on.
    session.feed_line("set example \"hello\"");
    session.feed_line("indices;");
    session.take_output()
}

/// Well-formed expressions over s-ops, atoms, selectors and library calls.
fn sop_expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("tokens".to_string()),
        Just("indices".to_string()),
        Just("length".to_string()),
        (-3i64..10).prop_map(|v| v.to_string()),
        Just("\"l\"".to_string()),
        Just("2.5".to_string()),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        let op = prop_oneof![
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("%"),
            Just("^"),
            Just("=="),
            Just("<"),
            Just(">"),
            Just("and"),
            Just("or")
        ];
        let pred = prop_oneof![Just("=="), Just("!="), Just("<"), Just(">"), Just("<="), Just(">=")];
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(a, o, b)| format!("({a} {o} {b})")),
            inner.clone().prop_map(|a| format!("(not {a})")),
            inner.clone().prop_map(|a| format!("round({a})")),
            inner.clone().prop_map(|a| format!("indicator({a})")),
            (inner.clone(), inner.clone(), pred.clone(), inner.clone())
                .prop_map(|(k, q, p, v)| format!("aggregate(select({k}, {q}, {p}), {v})")),
            (inner.clone(), inner.clone(), pred, inner.clone(), inner.clone())
                .prop_map(|(k, q, p, v, d)| format!("aggregate(select({k}, {q}, {p}), {v}, {d})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("sort({a}, {b})")),
            inner.clone().prop_map(|a| format!("selector_width(select({a}, {a}, ==))")),
            (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, c, b)| format!("({a} if {c} else {b})")),
            inner.clone().prop_map(|a| format!("{a}[-1]")),
            inner.prop_map(|a| format!("({a} in [1, \"a\", 2.5])")),
        ]
    })
}

fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-e§]{1,8}".prop_map(|s| format!("\"{s}\"")),
        prop::collection::vec(-5i64..5, 1..7).prop_map(|v| format!("{v:?}")),
        prop::collection::vec(prop_oneof![Just("1"), Just("\"x\""), Just("2.5"), Just("True")], 1..5)
            .prop_map(|v| format!("[{}]", v.join(", "))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_fragments_never_panic(lines in prop::collection::vec(
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|w| w.join(" ")),
        1..8,
    )) {
        let after = rasp_lang::with_large_stack(move || run_lines(lines));
        prop_assert!(after.starts_with("     s-op: indices\n"), "{}", after);
    }

    #[test]
    fn random_programs_and_inputs_never_panic(e in sop_expr(), example in input(), apply in input()) {
        let lines = vec![
            format!("set example {example}"),
            format!("z = {e};"),
            "z;".to_string(),
            format!("z({apply});"),
            "full seq display on".to_string(),
            format!("z({apply});"),
        ];
        let after = rasp_lang::with_large_stack(move || run_lines(lines));
        prop_assert!(after.starts_with("     s-op: indices\n"), "{}", after);
    }

    /// Random files run in file mode: every diagnostic points into the
    /// file (its line is the file's line, its column within it), and
    /// rendering never panics.
    #[test]
    fn diagnostics_point_into_the_file(lines in prop::collection::vec(
        prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|w| w.join(" ")),
        1..8,
    )) {
        let text = lines.join("\n");
        let checked = text.clone();
        let (diagnostics, had_errors) = rasp_lang::with_large_stack(move || {
            let mut session = Session::new(Box::new(NoFiles));
            session.run_file("random.rasp", &checked);
            (session.take_diagnostics(), session.had_file_errors())
        });
        prop_assert_eq!(had_errors, !diagnostics.is_empty());
        let file_lines: Vec<&str> = text.split('\n').collect();
        for d in &diagnostics {
            let Some(at) = &d.location else { continue };
            prop_assert_eq!(&*at.file, "random.rasp");
            prop_assert!(at.line >= 1 && at.line <= file_lines.len(), "{:?}", at);
            prop_assert_eq!(at.line_text.as_str(), file_lines[at.line - 1]);
            prop_assert!(at.column >= 1 && at.column <= at.line_text.chars().count() + 1, "{:?}", at);
            let rendered = d.render(true);
            prop_assert!(rendered.contains(&at.line_text), "{}", rendered);
        }
    }

    /// After any statement, good or bad, an earlier definition still works.
    #[test]
    fn errors_keep_earlier_definitions(e in sop_expr()) {
        let kept = rasp_lang::with_large_stack(move || {
            let mut session = Session::new(Box::new(NoFiles));
            session.feed_line("keep = indices + 1;");
            session.feed_line(&format!("bad = {e};"));
            session.feed_line("q = 1 +"); // left unfinished
            session.discard_pending();
            let _ = session.take_output();
            session.feed_line("keep;");
            session.take_output()
        });
        prop_assert!(kept.contains("keep(\"hello\") = [1, 2, 3, 4, 5] (ints)"), "{}", kept);
    }
}
