//! Recursion ends where the reference's does: it runs on Python's 1000-frame
//! limit, so the deepest call that works depends on how the recursive call
//! is written. Each row: a definition, a call template, and the largest n
//! for which the reference (tech-srl/RASP 0.1 on CPython 3.11) still
//! answers; n + 1 gives `something went wrong: maximum recursion depth exceeded`.

use rasp_lang::{NoFiles, Session};

const CASES: &[(&str, &str, usize)] = &[
    ("def fact(n) {\n return 1 if n < 1 else n * fact(n - 1);\n}", "fact({});", 108),
    ("def f(n) {\n return 0 if n < 1 else f(n - 1);\n}", "f({});", 140),
    ("def f(n) {\n return 0 if n < 1 else (f(n - 1));\n}", "f({});", 122),
    ("def f(n) {\n x = 0 if n < 1 else f(n - 1);\n return x;\n}", "f({});", 108),
    ("def f(n, m) {\n return 0 if n < 1 else f(n - 1, m);\n}", "f({}, 1);", 140),
    ("def f(n) {\n return 0 if n < 1 else f(n - 1);\n}", "y = f({});", 139),
    ("def f(n) {\n return 0 if n < 1 else f(n - 1);\n}", "[f({})];", 139),
    ("def f(n) {\n return indices if n < 1 else f(n - 1) + 1;\n}", "f({});", 108),
];

fn outcome(definition: &str, call: &str) -> String {
    let (definition, call) = (definition.to_string(), call.to_string());
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        for line in definition.lines() {
            session.feed_line(line);
        }
        let _ = session.take_output();
        session.feed_line(&call);
        session.take_output()
    })
}

#[test]
fn deep_recursion_fails_exactly_where_the_reference_fails() {
    for (definition, template, deepest) in CASES {
        let works = outcome(definition, &template.replace("{}", &deepest.to_string()));
        assert!(!works.contains("recursion"), "{template} with n = {deepest} should work:\n{works}");
        let fails = outcome(definition, &template.replace("{}", &(deepest + 1).to_string()));
        assert_eq!(
            fails,
            "something went wrong: maximum recursion depth exceeded\n",
            "{template} with n = {}",
            deepest + 1
        );
    }
}

#[test]
fn unbounded_recursion_is_an_error_and_the_session_goes_on() {
    let out = outcome("def f(n) {\n return f(n);\n}\nx = 5;", "f(1);");
    assert_eq!(out, "something went wrong: maximum recursion depth exceeded\n");
}
