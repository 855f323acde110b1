//! Nothing panics or overflows the stack, whatever the input.

use rasp_syntax::{MAX_EXPR_HEIGHT, ParseOutcome, parse, tokenize};

/// Programs that exercise most of the grammar; every prefix of each is
/// parsed.
const PROGRAMS: [&str; 3] = [
    "total = 1 +\n\n  2;\n# a comment line\nselector_example = select(\n  indices,\n  indices,\n  ==);\n\
     def f(v) {\n  # comment\n  w = v * 3;\n  return w;\n}\nf(2);\ndef g(v) {\n  def h(u) {\n    return u;\n  }\n\
     return h(v);\n}\ng(5);\nnums = [1,\n  2,\n  3];\nnums;\n",
    "set s-op example \"héllo §\"\nshow selector example\ns-op examples off\nexamples on\n\
     full seq display on\nload \"lib/x\";\ndraw(aggregate(select(indices, length - indices - 1, ==), tokens), \"abc\");\n\
     a, b = {\"k\": 2.5, 3: [x for x in range(1, 4)]}, {k: v for k, v in zip(a, b)};\n\
     for i, j in zip(range(3), [1, 2, 3]) { c = i if j > 1 and not i else -j ^ 2 % 3; }\n\
     x = round(1.5) + indicator(tokens == \"a\") * len(f(x)[0]) in [1] ;\nquit()\n",
    "def rev(s) {\n  opp_idx = length - indices - 1;\n  flip = select(indices, opp_idx, ==);\n  \
     return aggregate(flip, s);\n}\nx = 1 if n < 1 else n * fact(n - 1);\nmatched+tokens in pairs;\n\
     y = 4 $ 2;\nz = 'q';\n\"unterminated\nexit()",
];

fn check(src: &str) {
    let _ = tokenize(src);
    let _ = parse(src);
}

#[test]
fn every_prefix_of_programs() {
    for program in PROGRAMS {
        for (end, _) in program.char_indices() {
            check(&program[..end]);
        }
        check(program);
        // The REPL joins lines with spaces; try that shape too.
        let joined = program.replace('\n', " ");
        for (end, _) in joined.char_indices() {
            check(&joined[..end]);
        }
    }
}

/// A tiny linear congruential generator, so the "random" inputs are fixed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn random_garbage() {
    const PIECES: [&str; 48] = [
        "x",
        "1",
        "2.5",
        "\"s\"",
        "\"",
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
        "!",
        "<",
        ">=",
        "+",
        "-",
        "*",
        "/",
        "%",
        "^",
        "not",
        "and",
        "if",
        "else",
        "in",
        "for",
        "def",
        "return",
        "set",
        "example",
        "s-op",
        "select(",
        "aggregate(",
        "range(",
        "full seq display",
        "on",
        "#",
        "\n",
        " ",
        "§",
        ".",
        "$",
    ];
    let mut rng = Lcg(0x5eed);
    for _ in 0..3000 {
        let len = (rng.next() % 40) as usize;
        let mut src = String::new();
        for _ in 0..len {
            src.push_str(PIECES[(rng.next() % PIECES.len() as u64) as usize]);
            if rng.next().is_multiple_of(3) {
                src.push(' ');
            }
        }
        check(&src);
    }
    for _ in 0..2000 {
        let len = (rng.next() % 30) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
        check(&String::from_utf8_lossy(&bytes));
    }
}

fn assert_too_deep(src: &str) {
    match parse(src) {
        ParseOutcome::Error(error) => {
            assert!(error.message.contains("nested too deeply"), "{}", error.message)
        }
        other => panic!("expected a nesting error, got {other:?}"),
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 100_000;
    assert_too_deep(&format!("x = {}1{};", "(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&format!("x = {}1{};", "[".repeat(depth), "]".repeat(depth)));
    assert_too_deep(&format!("x = {}1{};", "{1: ".repeat(depth), "}".repeat(depth)));
    assert_too_deep(&format!("x = {}1;", "-".repeat(depth)));
    assert_too_deep(&format!("x = {}1;", "not ".repeat(depth)));
    assert_too_deep(&format!("x = 1{};", " if 1".repeat(depth)));
    assert_too_deep(&format!("x = {}", "(".repeat(depth)));
    assert_too_deep(&format!("x = f{};", "(".repeat(depth)));
    assert_too_deep(&format!("x = {}1{};", "round(".repeat(depth), ")".repeat(depth)));
    assert_too_deep(&"def f() { ".repeat(depth));
    assert_too_deep(&"for x in y { ".repeat(depth));
    // Loops build left-leaning chains without recursing; their height is
    // capped too, so that dropping or walking the tree cannot overflow.
    assert_too_deep(&format!("x = 1{};", " + 1".repeat(depth)));
    assert_too_deep(&format!("x = 1{};", " if 1 else 2".repeat(depth)));
    assert_too_deep(&format!("x = f{};", "(1)".repeat(depth)));
    assert_too_deep(&format!("x = f{};", "[0]".repeat(depth)));
    assert_too_deep(&format!("x = 1{}", " in a".repeat(depth)));
    // The chain may also end in a syntax error or stay unfinished.
    assert_too_deep(&format!("x = 1{} )", " and 1".repeat(depth)));
    // Long but shallow input is fine.
    let wide_list = format!("x = [{}];", "1, ".repeat(depth) + "1");
    assert!(matches!(parse(&wide_list), ParseOutcome::Complete(_)));
    let many = "x = 1;\n".repeat(10_000);
    assert!(matches!(parse(&many), ParseOutcome::Complete(s) if s.len() == 10_000));
}

#[test]
fn moderate_nesting_is_fine() {
    let depth = 150;
    let cases = [
        format!("x = {}1{};", "(".repeat(depth), ")".repeat(depth)),
        format!("x = {}1{};", "[".repeat(depth), "]".repeat(depth)),
        format!("x = {}1;", "-".repeat(depth)),
        format!("{}return 1; {}}}", "def f() { ".repeat(60), "} return 1; ".repeat(59)),
        format!("{}x; {}", "for i in x { ".repeat(60), "} ".repeat(60)),
        format!("x = 1{};", " + 1".repeat(MAX_EXPR_HEIGHT - 1)),
        format!("x = f{};", "(1)".repeat(MAX_EXPR_HEIGHT - 1)),
    ];
    for src in cases {
        assert!(matches!(parse(&src), ParseOutcome::Complete(_)), "{:?}", parse(&src));
    }
}
