//! Applications to long inputs go to the structured engine; what they print
//! must be what the plain evaluator gives.

use rasp_core::{Evaluator, NodeValue, Value};
use rasp_lang::{NoFiles, Session, sequence_text};

fn text_input(n: usize) -> String {
    // A fixed pseudo-random word over a small alphabet.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b'a' + (state % 7) as u8)
        })
        .collect()
}

#[test]
fn long_applications_agree_with_the_plain_evaluator() {
    let checked = rasp_lang::with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        let programs = [
            ("hist", "selector_width(select(tokens, tokens, ==))"),
            ("sorted", "sort(tokens, tokens)"),
            ("mean", "aggregate(select(indices, indices, <=), indicator(tokens == \"a\"))"),
            ("last", "tokens[-1]"),
        ];
        let word = text_input(3_000);
        let elements: Vec<Value> = word.chars().map(|c| Value::str(&c.to_string())).collect();
        let mut checked = 0;
        for (name, expr) in programs {
            session.feed_line(&format!("{name} = {expr};"));
            let _ = session.take_output();
            session.feed_line(&format!("{name}(\"{word}\");"));
            let printed = session.take_output();
            let Some(Value::Sop(id)) = session.lookup(name) else { panic!("{name} is not defined") };
            let plain = Evaluator::new().evaluate(&session.graph, id, &elements);
            let Ok(NodeValue::Seq(seq)) = plain else { panic!("{name}: the plain evaluator failed: {plain:?}") };
            assert_eq!(printed, format!("\t =  {}\n", sequence_text(&seq)), "{name}");
            checked += 1;
        }
        checked
    });
    assert_eq!(checked, 4);
}

/// 200,000 positions, twice the old limit of 100,000: `"ba"` repeated, so
/// the answers are known by hand (every token occurs 100,000 times; sorted,
/// the a's come first).
#[test]
fn inputs_past_the_old_limit_run_through_the_repl() {
    let (hist, sorted) = rasp_lang::with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        session.feed_line("hist = selector_width(select(tokens, tokens, ==));");
        session.feed_line("sorted = sort(tokens, tokens);");
        let _ = session.take_output();
        let word = "ba".repeat(100_000);
        session.feed_line(&format!("hist(\"{word}\");"));
        let hist = session.take_output();
        session.feed_line(&format!("sorted(\"{word}\");"));
        (hist, session.take_output())
    });
    assert_eq!(hist, "\t =  [100000]*200000 (ints)\n");
    let letters: Vec<&str> = std::iter::repeat_n("a", 100_000).chain(std::iter::repeat_n("b", 100_000)).collect();
    assert_eq!(sorted, format!("\t =  [{}] (strings)\n", letters.join(", ")));
}

/// The limits that protect memory still hold: an input over
/// `MAX_INPUT_LEN` is refused before its elements are built, the plain
/// engine keeps its own limit, and a selector over `MAX_MATRIX_LEN`
/// positions is not shown (it would be an n × n grid).
#[test]
fn limits_still_refuse_what_they_must() {
    let (too_long, plain, grid) = rasp_lang::with_large_stack(|| {
        let mut session = Session::new(Box::new(NoFiles));
        session.feed_line("hist = selector_width(select(tokens, tokens, ==));");
        session.feed_line("same = select(tokens, tokens, ==);");
        let _ = session.take_output();
        let Some(Value::Sop(hist)) = session.lookup("hist") else { panic!("hist is not defined") };
        let Some(Value::Selector(same)) = session.lookup("same") else { panic!("same is not defined") };
        let huge = Value::str(&"a".repeat(rasp_core::MAX_INPUT_LEN + 1));
        let too_long = session.evaluate(hist, &huge).map(|_| ()).map_err(|e| e.message);
        session.set_plain_engine(true);
        let over_plain = Value::str(&"a".repeat(rasp_core::MAX_PLAIN_INPUT_LEN + 1));
        let plain = session.evaluate(hist, &over_plain).map(|_| ()).map_err(|e| e.message);
        session.set_plain_engine(false);
        let over_grid = Value::str(&"a".repeat(rasp_core::MAX_MATRIX_LEN + 1));
        let grid = session.evaluate(same, &over_grid).map(|_| ()).map_err(|e| e.message);
        (too_long, plain, grid)
    });
    assert_eq!(too_long, Err("input too long: 10000001 elements (the limit is 10000000)".to_string()));
    assert_eq!(plain, Err("input too long: 100001 elements (the limit is 100000)".to_string()));
    let grid = grid.expect_err("a selector over 20,000 positions is refused");
    assert!(grid.starts_with("input too long for a selector: 20001 positions"), "{grid}");
}
