//! Lexer quirks (semantics.md §1.1).

use rasp_syntax::{Span, TokenKind, tokenize};

fn kinds(src: &str) -> Vec<TokenKind> {
    match tokenize(src) {
        Ok(tokens) => tokens.iter().map(|t| t.kind).collect(),
        Err(error) => panic!("{src:?}: unexpected lexer error {error:?}"),
    }
}

fn texts(src: &str) -> Vec<&str> {
    match tokenize(src) {
        Ok(tokens) => tokens.iter().map(|t| t.text(src)).collect(),
        Err(error) => panic!("{src:?}: unexpected lexer error {error:?}"),
    }
}

use TokenKind::*;

#[test]
fn token_kinds() {
    let cases: &[(&str, &[TokenKind])] = &[
        ("", &[Eof]),
        ("  \t\r\n ", &[Eof]),
        // `aggregate(` & co. are single tokens only with the `(` attached.
        ("aggregate(x, y)", &[AggregateOpen, Id, Comma, Id, RParen, Eof]),
        ("aggregate (x, y)", &[Id, LParen, Id, Comma, Id, RParen, Eof]),
        ("select( range( zip( len(", &[SelectOpen, RangeOpen, ZipOpen, LenOpen, Eof]),
        ("range (3)", &[Id, LParen, PosInt, RParen, Eof]),
        ("aggregatex(", &[Id, LParen, Eof]),
        ("round (x) indicator(x)", &[Round, LParen, Id, RParen, Indicator, LParen, Id, RParen, Eof]),
        ("exit() quit() exit quit", &[ExitCall, QuitCall, Exit, Quit, Eof]),
        ("exit ()", &[Exit, LParen, RParen, Eof]),
        ("exits()", &[Id, LParen, RParen, Eof]),
        // Numbers: `1e5` is `1` then `e5`.
        ("1e5", &[PosInt, Id, Eof]),
        ("1.5 007 3.14159", &[Float, PosInt, Float, Eof]),
        // `s-op` is a keyword wherever a token starts with it.
        ("s-op", &[SOp, Eof]),
        ("x s-op s-ops", &[Id, SOp, SOp, Id, Eof]),
        ("s - op", &[Id, Minus, Id, Eof]),
        ("as-op", &[Id, Minus, Id, Eof]),
        // `full seq display` needs single spaces.
        ("full seq display on", &[FullSeqDisplay, On, Eof]),
        ("full  seq display", &[Id, Id, Id, Eof]),
        ("full seq", &[Id, Id, Eof]),
        // Keywords beat ID on ties, lose to longer identifiers.
        (
            "set selector example show on off examples load draw def for in return",
            &[Set, Selector, Example, Show, On, Off, Examples, Load, Draw, Def, For, In, Return, Eof],
        ),
        ("not round indicator and or if else", &[Not, Round, Indicator, And, Or, If, Else, Eof]),
        ("sets define True _x9", &[Id, Id, Id, Id, Eof]),
        // Punctuation, longest first.
        (
            "; = ( , ) : { } [ ] - + ^ * / %",
            &[
                Semi, Assign, LParen, Comma, RParen, Colon, LBrace, RBrace, LBracket, RBracket, Minus, Plus, Caret,
                Star, Slash, Percent, Eof,
            ],
        ),
        ("== <= >= > < != ===", &[EqEq, Le, Ge, Gt, Lt, NotEq, EqEq, Assign, Eof]),
        ("a<=b", &[Id, Le, Id, Eof]),
        // Comments are dropped.
        ("x; # comment ; y", &[Id, Semi, Eof]),
        ("x # c\ny", &[Id, Id, Eof]),
        ("x # c\r\ny", &[Id, Id, Eof]),
        ("#", &[Eof]),
        // Strings.
        ("\"§\"", &[Str, Eof]),
        ("\"a # not a comment\"", &[Str, Eof]),
        ("\"it's\" \"\"", &[Str, Str, Eof]),
    ];
    for (src, expected) in cases {
        assert_eq!(kinds(src), expected.to_vec(), "lexing {src:?}");
    }
}

#[test]
fn token_texts_and_spans() {
    assert_eq!(texts("aggregate(s, \"é§\")"), ["aggregate(", "s", ",", "\"é§\"", ")", ""]);
    assert_eq!(texts("full seq display off"), ["full seq display", "off", ""]);
    let src = "x = \"é\";";
    let tokens = tokenize(src).expect("lexes");
    let spans: Vec<Span> = tokens.iter().map(|t| t.span).collect();
    assert_eq!(spans, [Span::new(0, 1), Span::new(2, 3), Span::new(4, 8), Span::new(8, 9), Span::new(9, 9)]);
}

#[test]
fn lexer_errors() {
    // (input, error text as shown by ANTLR, span of the offending text)
    let cases = [
        ("$", "token recognition error at: '$'", Span::new(0, 1)),
        ("y = 4 $ 2;", "token recognition error at: '$'", Span::new(6, 7)),
        ("x = 'q';", "token recognition error at: '''", Span::new(4, 5)),
        ("1.", "token recognition error at: '.'", Span::new(1, 2)),
        ("1.x", "token recognition error at: '.'", Span::new(1, 2)),
        (".5", "token recognition error at: '.'", Span::new(0, 1)),
        ("a.b", "token recognition error at: '.'", Span::new(1, 2)),
        ("!", "token recognition error at: '!'", Span::new(0, 1)),
        ("!x", "token recognition error at: '!x'", Span::new(0, 2)),
        ("\"abc;", "token recognition error at: '\"abc;'", Span::new(0, 5)),
        ("\"ab\ncd\"", "token recognition error at: '\"ab\\n'", Span::new(0, 4)),
        ("x = é;", "token recognition error at: 'é'", Span::new(4, 6)),
        ("§", "token recognition error at: '§'", Span::new(0, 2)),
        ("x\u{0}", "token recognition error at: '\u{0}'", Span::new(1, 2)),
    ];
    for (src, message, span) in cases {
        match tokenize(src) {
            Err(error) => {
                assert_eq!(error.message, message, "lexing {src:?}");
                assert_eq!(error.span, span, "lexing {src:?}");
                assert_eq!(error.to_string(), message);
            }
            Ok(tokens) => panic!("{src:?}: expected a lexer error, got {tokens:?}"),
        }
    }
}

#[test]
fn display_names_follow_token_type_order() {
    assert_eq!(TokenKind::ALL.len(), TokenKind::Id as usize + 1);
    for (index, kind) in TokenKind::ALL.iter().enumerate() {
        assert_eq!(*kind as usize, index);
    }
    assert_eq!(Eof.display_name(), "<EOF>");
    assert_eq!(FullSeqDisplay.display_name(), "'full seq display'");
    assert_eq!(Str.display_name(), "String");
    assert_eq!(Id.display_name(), "ID");
}
