//! Every size limit is enforced at the operation that would pass it, with a
//! message; the session answers afterwards. And what used to crash or hang:
//! s-ops inside input lists, deeply nested list displays, Ctrl-C.

use rasp_lang::{NoFiles, Session};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Feeds `lines` to a fresh session (with the stack front ends give it) and
/// returns everything it printed.
fn run(lines: impl Into<String>) -> String {
    let lines: String = lines.into();
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        for line in lines.lines() {
            session.feed_line(line);
        }
        session.take_output()
    })
}

#[track_caller]
fn check(lines: &'static str, expected_message: &str) {
    let output = run(lines);
    assert!(output.contains(expected_message), "expected {expected_message:?} in:\n{}", tail(&output));
    // The session still answers, with what was defined before.
    assert!(output.trim_end().ends_with("value: ok =  1"), "the session stopped answering:\n{}", tail(&output));
}

fn tail(text: &str) -> &str {
    let start = text.char_indices().rev().nth(600).map_or(0, |(i, _)| i);
    &text[start..]
}

#[test]
fn integer_products_are_bounded() {
    check("x = 2 ^ 600000;\ny = x * x;\nok = 1;", "integer result too large (over 1000000 bits)");
}

#[test]
fn list_concatenation_is_bounded() {
    check("a = range(6000000);\nb = a + a;\nok = 1;", "list concatenation result too large (over 10000000 items)");
}

#[test]
fn what_one_statement_prints_is_bounded() {
    // Two items of about 89 MB of text each: the second passes 100 MB.
    check("x = [range(10000000)] * 2;\nok = 1;", "output too large to display (over 100000000 characters)");
}

#[test]
fn lists_nested_past_the_recursion_limit_fail_to_print() {
    check(
        "x = [];\nfor i in range(3000) { x = [x]; }\nx;\nok = 1;",
        "maximum recursion depth exceeded while getting the repr of an object",
    );
}

#[test]
fn lists_nested_within_the_limit_print_in_full() {
    let output = run("x = [];\nfor i in range(100) { x = [x]; }\nx;");
    assert!(!output.contains("maximum recursion depth"), "{}", tail(&output));
    // One line per level (the innermost, `[]`, with its parent's line or its own).
    assert!(output.matches("list:").count() >= 100, "{}", tail(&output));
}

#[test]
fn an_sop_inside_an_input_list_is_shown_by_its_name() {
    let output = run("tokens([tokens]);");
    assert!(output.contains("[UnfinishedSequence object, name: tokens id: 0] (strings)"), "{output}");
}

#[test]
fn an_interrupt_stops_the_running_statement_and_keeps_the_session() {
    let flag = Arc::new(AtomicBool::new(false));
    let setter = flag.clone();
    let output = rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        session.set_interrupt_flag(flag);
        session.feed_line("before = 1;");
        // The interrupt arrives while the loop runs (it would take minutes).
        let interrupter = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            setter.store(true, Ordering::Relaxed);
        });
        session.feed_line("for i in range(10000000) { y = i; }");
        let _ = interrupter.join();
        session.feed_line("before;");
        session.take_output()
    });
    assert!(output.contains("KeyboardInterrupt"), "{output}");
    assert!(output.trim_end().ends_with("value: before =  1"), "{output}");
}

#[test]
fn a_running_example_too_long_for_a_selector_grid_still_checks_definitions() {
    let output = run(format!(
        "set example \"{}\"\nexamples off\nflip = select(indices, length - indices - 1, ==);\n\
         y = aggregate(flip, tokens);\ny(\"abc\");\nok = 1;",
        "a".repeat(20_001)
    ));
    // The selector over 20,001 positions is not built, and the aggregate
    // using it runs on the structured engine.
    assert!(!output.contains("input too long for a selector"), "{}", tail(&output));
    assert!(output.contains("[c, b, a] (strings)"), "{}", tail(&output));
    assert!(output.trim_end().ends_with("value: ok =  1"), "{}", tail(&output));
}
