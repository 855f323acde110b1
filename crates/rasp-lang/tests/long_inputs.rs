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
