//! Operator precedence and associativity (semantics.md §1.3), shown by printing the
//! parsed expression fully parenthesised.

mod common;

use common::show_expr;

#[test]
fn precedence_table() {
    let cases = [
        // `%` is below `*` and `/`.
        ("7 % 4 * 2", "(7 % (4 * 2))"),
        ("2 * 3 % 4", "((2 * 3) % 4)"),
        ("8 / 2 % 3", "((8 / 2) % 3)"),
        // `^` is left-associative.
        ("2 ^ 3 ^ 2", "((2 ^ 3) ^ 2)"),
        ("2 * 3 ^ 2", "(2 * (3 ^ 2))"),
        // Prefix operators take only a postfix expression as operand.
        ("-2 ^ 2", "((-2) ^ 2)"),
        ("not 1 == 2", "((not 1) == 2)"),
        ("not 0 + 1", "((not 0) + 1)"),
        ("- - 3", "(-(-3))"),
        ("not -x", "(not (-x))"),
        ("+x * 2", "((+x) * 2)"),
        ("2 ^ -1", "(2 ^ (-1))"),
        ("-x[0]", "(-(x[0]))"),
        ("not f(x)", "(not (f(x)))"),
        // Postfix operators chain left to right.
        ("f(x)(y)", "((f(x))(y))"),
        ("x[0][1]", "((x[0])[1])"),
        ("f()[2]", "((f())[2])"),
        ("(tokens_int + 1)([1, 2])", "(((tokens_int + 1))([1, 2]))"),
        ("round(x)[0]", "(round(x)[0])"),
        // Arithmetic.
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 < 2 == True", "((1 < 2) == True)"),
        ("a + 1 >= b * 2", "((a + 1) >= (b * 2))"),
        // `and` and `or` share one level.
        ("True or False and False", "((True or False) and False)"),
        ("a and b or c", "((a and b) or c)"),
        ("a == 1 and b < 2", "((a == 1) and (b < 2))"),
        // The ternary is left-associative and looser than and/or.
        ("1 if True else 2 if False else 3", "((1 if True else 2) if False else 3)"),
        ("1 or 0 if False else 5", "((1 or 0) if False else 5)"),
        ("1 if True else 0 and 0", "(1 if True else (0 and 0))"),
        ("x if a in b else y", "(x if (a in b) else y)"),
        ("x if c else y in z", "((x if c else y) in z)"),
        ("1 if n < 1 else n * fact(n - 1)", "(1 if (n < 1) else (n * (fact((n - 1)))))"),
        // `in` is the loosest of all, left-associative.
        ("1 + 2 in [3]", "((1 + 2) in [3])"),
        ("1 in [1] and False", "(1 in ([1] and False))"),
        ("2 in [1] if True else [2]", "(2 in ([1] if True else [2]))"),
        ("a in b in c", "((a in b) in c)"),
        ("matched+tokens in pairs", "((matched + tokens) in pairs)"),
        // Primaries.
        ("(1 + 2) * 3", "(((1 + 2)) * 3)"),
        ("round (x + 1) * 2", "(round((x + 1)) * 2)"),
        ("indicator(tokens == \"a\")", "indicator((tokens == \"a\"))"),
        ("select(indices, indices, <=)", "select(indices, indices, <=)"),
        ("select(k, q, !=)", "select(k, q, !=)"),
        ("aggregate(sel, vals, 0)", "aggregate(sel, vals, 0)"),
        ("aggregate(sel, vals)", "aggregate(sel, vals)"),
        ("range(1, n + 1)", "range(1, (n + 1))"),
        ("zip(a, b, c)", "zip(a, b, c)"),
        ("len(x)", "len(x)"),
        ("[]", "[]"),
        ("{}", "{}"),
        ("[x * 2 for x in range(5)]", "[(x * 2) for x in range(5)]"),
        ("[a for a, b in zip(x, y)]", "[a for a, b in zip(x, y)]"),
        ("[x for x in a in b]", "[x for x in (a in b)]"),
        ("{\"a\": 1, 2.5: \"x\"}", "{\"a\": 1, 2.5: \"x\"}"),
        ("{k: v for k, v in zip(a, b)}", "{k: v for k, v in zip(a, b)}"),
        ("[[1, 2], [3]]", "[[1, 2], [3]]"),
        ("f()", "(f())"),
        ("\"§\" + x", "(\"§\" + x)"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ];
    for (src, expected) in cases {
        assert_eq!(show_expr(src), expected, "parsing {src:?}");
    }
}
