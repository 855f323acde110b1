//! Decoder mode at the REPL (semantics.md §6): `set causal on|off` and
//! `set prefix N`, an extension the reference does not have. Expected
//! outputs are written by hand: under the causal mask a position sees
//! itself and the positions before it.

use rasp_lang::{NoFiles, Session, drive};

fn run(input: &str) -> String {
    let input = input.to_string();
    rasp_lang::with_large_stack(move || {
        let mut session = Session::new(Box::new(NoFiles));
        let mut lines = input.lines().map(str::to_string).collect::<Vec<_>>().into_iter();
        let mut out = String::new();
        drive(&mut session, || lines.next(), |_| {}, |s| out.push_str(s));
        out
    })
}

#[test]
fn causal_length_counts_up() {
    let out = run("set causal on\nlength(\"abcd\");\nset causal off\nlength(\"abcd\");\n");
    assert!(out.contains("\t =  [1, 2, 3, 4] (ints)\n"), "{out}");
    assert!(out.contains("\t =  [4]*4 (ints)\n"), "{out}");
    // The commands themselves print nothing.
    assert!(!out.contains("error"), "{out}");
}

#[test]
fn prefix_sees_the_prompt_whole() {
    let out = run("set prefix 2\nlength(\"abcde\");\n");
    assert!(out.contains("\t =  [2, 2, 3, 4, 5] (ints)\n"), "{out}");
}

#[test]
fn masked_cells_show_a_dot() {
    let out = run("set causal on\nselect(tokens, tokens, ==)(\"aab\");\n");
    // Rows are queries: a sees a; a sees a a; b sees only itself.
    let grid = " \t\t\t     a a b\n \t\t\t a | 1 · ·\n \t\t\t a | 1 1 ·\n \t\t\t b |     1\n";
    assert!(out.contains(grid), "{out}");
}

#[test]
fn running_example_follows_the_mask() {
    let out = run("set causal on\nhist = selector_width(select(tokens, tokens, ==));\n");
    assert!(out.contains("hist(\"hello\") = [1, 1, 1, 2, 1] (ints)"), "{out}");
}

#[test]
fn off_by_default() {
    let out = run("length(\"abcd\");\n");
    assert!(out.contains("\t =  [4]*4 (ints)\n"), "{out}");
}
