//! Helpers shared by the integration tests.

#![allow(dead_code)]

use rasp_syntax::*;

/// Prints an expression with every compound node in parentheses, so tests
/// can state precedence and associativity as text: `7 % 4 * 2` →
/// `(7 % (4 * 2))`.
pub fn show(expr: &Expr) -> String {
    let list = |items: &[Expr]| items.iter().map(show).collect::<Vec<_>>().join(", ");
    let names = |ids: &[Ident]| ids.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ");
    match &expr.kind {
        ExprKind::Int(text) | ExprKind::Float(text) | ExprKind::Var(text) => text.clone(),
        ExprKind::Str(text) => format!("\"{text}\""),
        ExprKind::Paren(inner) => format!("({})", show(inner)),
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::Dict(entries) => {
            let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{}: {}", show(k), show(v))).collect();
            format!("{{{}}}", entries.join(", "))
        }
        ExprKind::ListComp { value, names: ids, iterable } => {
            format!("[{} for {} in {}]", show(value), names(ids), show(iterable))
        }
        ExprKind::DictComp { key, value, names: ids, iterable } => {
            format!("{{{}: {} for {} in {}}}", show(key), show(value), names(ids), show(iterable))
        }
        ExprKind::Unary { op, operand } => match op {
            UnaryOp::Not => format!("(not {})", show(operand)),
            UnaryOp::Neg => format!("(-{})", show(operand)),
            UnaryOp::Pos => format!("(+{})", show(operand)),
            UnaryOp::Round => format!("round({})", show(operand)),
            UnaryOp::Indicator => format!("indicator({})", show(operand)),
        },
        ExprKind::Binary { op, left, right } => {
            format!("({} {} {})", show(left), op.symbol(), show(right))
        }
        ExprKind::Ternary { then, cond, otherwise } => {
            format!("({} if {} else {})", show(then), show(cond), show(otherwise))
        }
        ExprKind::In { element, container } => format!("({} in {})", show(element), show(container)),
        ExprKind::Select { key, query, op } => {
            format!("select({}, {}, {})", show(key), show(query), op.symbol())
        }
        ExprKind::Aggregate { selector, values, default } => match default {
            Some(d) => format!("aggregate({}, {}, {})", show(selector), show(values), show(d)),
            None => format!("aggregate({}, {})", show(selector), show(values)),
        },
        ExprKind::Range(args) => format!("range({})", list(args)),
        ExprKind::Zip(args) => format!("zip({})", list(args)),
        ExprKind::Len(arg) => format!("len({})", show(arg)),
        ExprKind::Index { target, index } => format!("({}[{}])", show(target), show(index)),
        ExprKind::Call { callee, args } => format!("({}({}))", show(callee), list(args)),
    }
}

/// Parses `src`, which must be exactly one statement, and returns it.
pub fn one_statement(src: &str) -> Statement {
    match parse(src) {
        ParseOutcome::Complete(mut statements) if statements.len() == 1 => statements.remove(0),
        other => panic!("{src:?}: expected one complete statement, got {other:?}"),
    }
}

/// Parses `src` as an expression statement (a `;` is appended) and prints
/// the expression fully parenthesised.
pub fn show_expr(src: &str) -> String {
    let with_semicolon = format!("{src};");
    match one_statement(&with_semicolon).kind {
        StatementKind::Expr(expr) => show(&expr),
        other => panic!("{src:?}: expected an expression statement, got {other:?}"),
    }
}

/// The error of a text that must not parse.
pub fn error_of(src: &str) -> SyntaxError {
    match parse(src) {
        ParseOutcome::Error(error) => error,
        other => panic!("{src:?}: expected a syntax error, got {other:?}"),
    }
}

/// ANTLR's expected set at the start of an expression (semantics.md §1.5).
pub const EXPR_SET: &str = "{'(', '{', 'aggregate(', '[', 'not', '-', '+', 'round', 'indicator', \
'select(', 'range(', 'zip(', 'len(', Float, PosInt, String, ID}";

/// ANTLR's expected set at the start of a statement (semantics.md §1.5).
pub const STATEMENT_SET: &str = "{'set', 's-op', 'selector', 'show', 'full seq display', \
'examples', 'exit()', 'exit', 'quit', 'quit()', 'load', 'draw', '(', 'def', '{', 'for', \
'aggregate(', '[', 'not', '-', '+', 'round', 'indicator', 'select(', 'range(', 'zip(', 'len(', \
Float, PosInt, String, Comment, ID}";
