//! Complete / Incomplete / Error verdicts (semantics.md §1.4 step 5) and error
//! messages (semantics.md §1.5).

mod common;

use common::{EXPR_SET, STATEMENT_SET, error_of, one_statement};
use rasp_syntax::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Complete with this many statements.
    Complete(usize),
    Incomplete,
    Error,
}

fn verdict(src: &str) -> Verdict {
    match parse(src) {
        ParseOutcome::Complete(statements) => Verdict::Complete(statements.len()),
        ParseOutcome::Incomplete => Verdict::Incomplete,
        ParseOutcome::Error(_) => Verdict::Error,
    }
}

#[test]
fn verdicts() {
    use Verdict::*;
    let cases = [
        // Unfinished: parsing fails at the end of the text.
        ("", Incomplete),
        ("   ", Incomplete),
        ("# only a comment", Incomplete),
        ("x = 1 +", Incomplete),
        ("total = 1 +   2", Incomplete),
        ("def f(v) {", Incomplete),
        ("def f(v) {   w = v * 3;", Incomplete),
        ("def f(v) {   w = v * 3; return w;", Incomplete),
        ("def f(v) {   w = v * 3; # a comment swallows the rest   return w; }", Incomplete),
        ("select(", Incomplete),
        ("select(a, b,", Incomplete),
        ("set example", Incomplete),
        ("set s-op", Incomplete),
        ("show", Incomplete),
        ("s-op examples", Incomplete),
        ("full seq display", Incomplete),
        ("nums = [1,", Incomplete),
        ("x = (1 +", Incomplete),
        ("x = [1 +", Incomplete),
        ("{\"a\":", Incomplete),
        ("x", Incomplete),
        ("a, b", Incomplete),
        ("for i in range(3) {", Incomplete),
        ("for i in range(3) { x = i;", Incomplete),
        ("a = 1; b", Incomplete),
        ("1 if x", Incomplete),
        ("load", Incomplete),
        ("draw(x)", Incomplete),
        // Unfinished: a missing `;` before something that may follow it.
        ("b = 2 c = 3;", Incomplete),
        ("b = 2 c = 3; a;", Incomplete),
        ("b = 2 show example", Incomplete),
        ("f(1) c = 3;", Incomplete),
        ("load \"a\" x = 1;", Incomplete),
        ("def f(x) { y = x return y; }", Incomplete),
        ("def f(x) { return x }", Incomplete),
        ("for i in x { y = 1 }", Incomplete),
        // Errors.
        ("x = = 3;", Error),
        ("y = 4 $ 2;", Error),
        ("select(indices, indices, +);", Error),
        ("indices != 2;", Error),
        ("7 // 2;", Error),
        ("selector = 1;", Error),
        ("on = 2;", Error),
        ("x = 'q';", Error),
        ("x = 3 3;", Error),
        ("b = 2 c;", Error),
        ("tokens;;", Error),
        ("aggregate(full_s);", Error),
        ("def f() { }", Error),
        ("def f() { x = 1; }", Error),
        ("def f() { return 1; x = 2; }", Error),
        ("def f(x) { return x };", Error),
        ("for in;", Error),
        ("for i in x { }", Error),
        ("for i in x { return 1; }", Error),
        ("if;", Error),
        ("l[0] = 3;", Error),
        ("set example \"a\";", Error),
        ("show example;", Error),
        ("exit;", Error),
        ("x c = 3;", Error),
        ("full  seq display on", Error),
        ("[1 2];", Error),
        ("x = (1;", Error),
        ("1.;", Error),
        ("\"abc;", Error),
        ("a.b;", Error),
        ("x = 1 $", Error),
        ("def f() { show example return 1; }", Error),
        ("return 1;", Error),
        ("set example set example hello", Error),
        ("def 3", Error),
        ("x = [1,];", Error),
        ("f(,);", Error),
        ("a, 3 = 1;", Error),
        ("a, b;", Error),
        ("{1, 2};", Error),
        // Complete.
        ("a = 1; b = 2;", Complete(2)),
        ("x; # comment", Complete(1)),
        ("x;\n# comment\ny;", Complete(2)),
        ("set example [\"a\", \"b\"] + [\"c\"]", Complete(1)),
        ("set s-op example \"hi\"", Complete(1)),
        ("set selector example \"hi\"", Complete(1)),
        ("show example", Complete(1)),
        ("show s-op example", Complete(1)),
        ("examples off", Complete(1)),
        ("s-op examples on", Complete(1)),
        ("selector examples off", Complete(1)),
        ("full seq display on", Complete(1)),
        ("exit", Complete(1)),
        ("exit()", Complete(1)),
        ("quit", Complete(1)),
        ("quit()", Complete(1)),
        ("show example # a comment", Complete(1)),
        ("load \"lib/helpers\";", Complete(1)),
        ("draw(x);", Complete(1)),
        ("draw (x, \"abc\");", Complete(1)),
        ("def f(x) { return x + 1; }", Complete(1)),
        ("def f() { return 1, 2; }", Complete(1)),
        ("def f(a, b) { c = a; draw(c); load \"x\"; for i in c { d = i; } return c; }", Complete(1)),
        ("def g(v) {   def h(u) {     return u;   }   return h(v); }", Complete(1)),
        ("for i in range(5) { x = i; }", Complete(1)),
        ("for a, b in zip(x, y) { c = a; def f() { return 1; } }", Complete(1)),
        ("1 if n < 1 else n * fact(n - 1);", Complete(1)),
        ("matched+tokens in pairs;", Complete(1)),
        ("{\"a\": 1, 2.5: \"x\"};", Complete(1)),
        ("{k: v for k, v in zip(a, b)};", Complete(1)),
        ("aggregate(sel, vals, 0);", Complete(1)),
        ("f();", Complete(1)),
        ("(tokens_int + 1)([1, 2]);", Complete(1)),
        ("a, b = 1, 2;", Complete(1)),
        ("x == 1;", Complete(1)),
        ("x;", Complete(1)),
        ("-x;", Complete(1)),
        ("round (x);", Complete(1)),
        ("set example \"a\" x = 1;", Complete(2)),
        ("show example exit", Complete(2)),
        ("aggregate (full_s, x);", Complete(1)),
        ("range (3);", Complete(1)),
        ("x = 1;\n\n\ny = 2;\n", Complete(2)),
    ];
    for (src, expected) in cases {
        assert_eq!(verdict(src), expected, "verdict of {src:?}: {:?}", parse(src));
    }
}

#[test]
fn error_messages() {
    let cases = [
        ("x = = 3;", format!("extraneous input '=' expecting {EXPR_SET}"), (4, 5)),
        ("y = 4 $ 2;", "token recognition error at: '$'".to_string(), (6, 7)),
        (
            "select(indices, indices, +);",
            "mismatched input '+' expecting {'==', '<=', '>=', '>', '<', '!='}".to_string(),
            (25, 26),
        ),
        ("indices != 2;", "no viable alternative at input 'indices!='".to_string(), (8, 10)),
        ("7 // 2;", format!("extraneous input '/' expecting {EXPR_SET}"), (3, 4)),
        ("selector = 1;", "mismatched input '=' expecting 'examples'".to_string(), (9, 10)),
        ("on = 2;", format!("mismatched input 'on' expecting {STATEMENT_SET}"), (0, 2)),
        ("x = 'q';", "token recognition error at: '''".to_string(), (4, 5)),
        ("if;", format!("mismatched input 'if' expecting {STATEMENT_SET}"), (0, 2)),
        ("for in;", "missing ID at 'in'".to_string(), (4, 6)),
        ("x = 3 3;", "extraneous input '3' expecting ';'".to_string(), (6, 7)),
        ("aggregate(full_s);", "mismatched input ')' expecting ','".to_string(), (16, 17)),
        (
            "def f() { }",
            "mismatched input '}' expecting {'load', 'draw', '(', 'def', '{', 'for', 'return', \
             'aggregate(', '[', 'not', '-', '+', 'round', 'indicator', 'select(', 'range(', \
             'zip(', 'len(', Float, PosInt, String, Comment, ID}"
                .to_string(),
            (10, 11),
        ),
        ("tokens;;", format!("extraneous input ';' expecting {{<EOF>, {}", &STATEMENT_SET[1..]), (7, 8)),
        ("set example \"hey\";", format!("extraneous input ';' expecting {{<EOF>, {}", &STATEMENT_SET[1..]), (17, 18)),
        ("full  seq display on", "no viable alternative at input 'fullseq'".to_string(), (6, 9)),
        ("x = (1;", "missing ')' at ';'".to_string(), (6, 7)),
        ("set example set example hello", format!("mismatched input 'set' expecting {EXPR_SET}"), (12, 15)),
        ("l[0] = 3;", "mismatched input '=' expecting ';'".to_string(), (5, 6)),
        ("x c = 3;", "no viable alternative at input 'xc'".to_string(), (2, 3)),
        ("[1 2];", "no viable alternative at input '[12'".to_string(), (3, 4)),
        ("[1 + ;];", "no viable alternative at input '[1+;'".to_string(), (5, 6)),
        ("x = [select(a, b, +)];", "no viable alternative at input '[select(a,b,+'".to_string(), (18, 19)),
        ("{1, 2};", "no viable alternative at input '{1,'".to_string(), (2, 3)),
        ("x = 1 if y;", "mismatched input ';' expecting 'else'".to_string(), (10, 11)),
        ("def f() { return 1; x = 2; }", "mismatched input 'x' expecting {'}', Comment}".to_string(), (20, 21)),
        ("def f() { x = 1; }", "mismatched input '}' expecting 'return'".to_string(), (17, 18)),
        ("for i in x { y; ) }", "extraneous input ')' expecting '}'".to_string(), (16, 17)),
        ("for i in x { y; ) z }", "mismatched input ')' expecting '}'".to_string(), (16, 17)),
        ("b = 2 c;", "extraneous input 'c' expecting ';'".to_string(), (6, 7)),
        ("1.;", "token recognition error at: '.'".to_string(), (1, 2)),
        ("\"abc;", "token recognition error at: '\"abc;'".to_string(), (0, 5)),
        ("f(;", format!("mismatched input ';' expecting {}", EXPR_SET.replace("'(', ", "'(', ')', ")), (2, 3)),
    ];
    for (src, message, (start, end)) in cases {
        let error = error_of(src);
        assert_eq!(error.message, message, "message for {src:?}");
        assert_eq!(error.span, Span::new(start, end), "span for {src:?}");
    }
}

/// A lexer error is reported unless the parser already failed on the text
/// before the bad character (ANTLR lexes on demand).
#[test]
fn lexer_error_versus_earlier_syntax_error() {
    let cases = [
        ("x = = $", "token recognition error at: '$'"),
        ("x = 3 3 $", "token recognition error at: '$'"),
        ("x c d $", "no viable alternative at input 'xc'"),
        ("if $", "token recognition error at: '$'"),
        ("if x $", "extraneous input 'if' expecting"),
        ("if ; $", "mismatched input 'if' expecting"),
        ("tokens;; $", "extraneous input ';' expecting {<EOF>"),
        ("$ if", "token recognition error at: '$'"),
    ];
    for (src, prefix) in cases {
        let error = error_of(src);
        assert!(error.message.starts_with(prefix), "{src:?}: got {:?}", error.message);
    }
    // A missing `;` found before the bad character still counts as unfinished.
    assert_eq!(parse("b = 2 c = 3 $"), ParseOutcome::Incomplete);
    // ... unless deciding so needed the token at the bad character.
    assert!(matches!(parse("b = 2 c $"), ParseOutcome::Error(_)));
}

#[test]
fn statement_shapes() {
    let statement = one_statement("a, b = 1, 2;");
    match statement.kind {
        StatementKind::Assign { names, values } => {
            assert_eq!(names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
            assert_eq!(names[1].span, Span::new(3, 4));
            assert_eq!(values.len(), 2);
        }
        other => panic!("not an assignment: {other:?}"),
    }
    assert_eq!(statement.span, Span::new(0, 12));

    match one_statement("load \"lib/helpers\";").kind {
        StatementKind::Load { path } => assert_eq!(path, "lib/helpers"),
        other => panic!("not a load: {other:?}"),
    }
    match one_statement("draw(x, \"abc\");").kind {
        StatementKind::Draw { input: Some(_), .. } => {}
        other => panic!("not a draw with input: {other:?}"),
    }
    match one_statement("def f(a, b) { c = a; return c, b; }").kind {
        StatementKind::FuncDef(def) => {
            assert_eq!(def.name.name, "f");
            assert_eq!(def.params.len(), 2);
            assert_eq!(def.body.len(), 1);
            assert_eq!(def.returns.len(), 2);
            assert_eq!(def.span, Span::new(0, 35));
        }
        other => panic!("not a def: {other:?}"),
    }
    match one_statement("for a, b in zip(x, y) { c = a; d; }").kind {
        StatementKind::For { names, body, .. } => {
            assert_eq!(names.len(), 2);
            assert_eq!(body.len(), 2);
        }
        other => panic!("not a for: {other:?}"),
    }
    let commands = [
        ("set example \"hi\"", "SetExample { subset: Both"),
        ("set s-op example \"hi\"", "SetExample { subset: Sop"),
        ("set selector example \"hi\"", "SetExample { subset: Selector"),
        ("show example", "ShowExample { subset: Both }"),
        ("show s-op example", "ShowExample { subset: Sop }"),
        ("show selector example", "ShowExample { subset: Selector }"),
        ("examples on", "ToggleExamples { subset: Both, on: true }"),
        ("s-op examples off", "ToggleExamples { subset: Sop, on: false }"),
        ("selector examples on", "ToggleExamples { subset: Selector, on: true }"),
        ("full seq display off", "FullSeqDisplay { on: false }"),
        ("full seq display on", "FullSeqDisplay { on: true }"),
        ("exit", "Exit"),
        ("quit()", "Exit"),
        // rasp's decoder-mode commands (an extension, semantics.md §6).
        ("set causal on", "SetAttention(Causal)"),
        ("set causal off", "SetAttention(Bidirectional)"),
        ("set prefix 3", "SetAttention(Prefix(3))"),
    ];
    for (src, debug_prefix) in commands {
        let statement = one_statement(src);
        let debug = format!("{:?}", statement.kind);
        assert!(debug.starts_with(debug_prefix), "{src:?}: {debug}");
        assert_eq!(statement.span, Span::new(0, src.len()), "{src:?}");
    }
}

#[test]
fn expression_spans() {
    let src = "x = -a[0] + f(b, \"§\") * (c);";
    let StatementKind::Assign { values, .. } = one_statement(src).kind else { panic!("not an assignment") };
    let sum = &values[0];
    assert_eq!(&src[sum.span.start..sum.span.end], "-a[0] + f(b, \"§\") * (c)");
    let ExprKind::Binary { left, right, .. } = &sum.kind else { panic!("not binary") };
    assert_eq!(&src[left.span.start..left.span.end], "-a[0]");
    assert_eq!(&src[right.span.start..right.span.end], "f(b, \"§\") * (c)");
    let ExprKind::Binary { left: call, right: paren, .. } = &right.kind else { panic!("not binary") };
    assert_eq!(&src[call.span.start..call.span.end], "f(b, \"§\")");
    assert_eq!(&src[paren.span.start..paren.span.end], "(c)");
    let ExprKind::Call { args, .. } = &call.kind else { panic!("not a call") };
    assert_eq!(args[1].kind, ExprKind::Str("§".to_string()));

    let src = "1 if a else 2 in round (b);";
    let StatementKind::Expr(expr) = one_statement(src).kind else { panic!("not an expr") };
    assert_eq!(expr.span, Span::new(0, src.len() - 1));
    let ExprKind::In { element, container } = &expr.kind else { panic!("not in") };
    assert_eq!(&src[element.span.start..element.span.end], "1 if a else 2");
    assert_eq!(&src[container.span.start..container.span.end], "round (b)");
}

/// Feeds the conformance inputs through the REPL's line accumulation (semantics.md
/// §1.4: lines joined without a newline, comment-only lines blanked, a space
/// appended after an unfinished parse) and checks the resulting sequence of
/// verdicts.
#[test]
fn repl_line_accumulation() {
    fn run(input: &str) -> String {
        let mut pending = String::new();
        let mut log = String::new();
        for line in input.lines() {
            let line = if line.trim().starts_with('#') { "" } else { line };
            pending.push_str(line);
            match parse(&pending) {
                ParseOutcome::Complete(statements) => {
                    log.push(if statements.len() == 1 { 'R' } else { 'W' });
                    pending.clear();
                }
                ParseOutcome::Incomplete => {
                    log.push('.');
                    pending.push(' ');
                }
                ParseOutcome::Error(_) => {
                    log.push('E');
                    pending.clear();
                }
            }
        }
        log
    }
    // R = ran one statement, W = several statements ("something went
    // wrong"), E = syntax error, . = continuation prompt.
    let syntax_errors = "x = = 3;\ny = 4 $ 2;\nselect(indices, indices, +);\nindices != 2;\n\
        7 // 2;\na = 1; b = 2;\na;\nselector = 1;\non = 2;\nx = 'q';\nok = 1;\nok;\n";
    assert_eq!(run(syntax_errors), "EEEEEWREEERR");
    let missing_semicolon = "a = 1;\nb = 2\nc = 3;\na;\n";
    assert_eq!(run(missing_semicolon), "R...");
    let multiline = "total = 1 +\n\n  2;\n\n# a comment line on its own\n   # an indented comment line\n\
        selector_example = select(\n  indices,\n  indices,\n  ==);\ndef f(v) {\n  \
        # comment lines inside a body are fine\n  w = v * 3;\n\n  return w;\n}\nf(2);\n\
        def g(v) {\n  def h(u) {\n    return u;\n  }\n  return h(v);\n}\ng(5);\nnums = [1,\n  2,\n  3];\nnums;\n";
    assert_eq!(run(multiline), "..R......R.....RR.....RR..RR");
    let trailing_comment = "ok = 1; # trailing comments are fine on single-line statements\nok;\n\
        def broken(v) {\n  r = v + 1; # but a trailing comment inside a multi-line body swallows the rest\n\
        return r;\n}\nbroken(1);\nok;\n";
    assert_eq!(run(trailing_comment), "RR......");
}
