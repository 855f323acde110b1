//! rasp-syntax: text → syntax tree for the RASP language of tech-srl/RASP 0.1.
//!
//! Input: the text of one REPL input (lines joined as the REPL joins them) or
//! of a file chunk. Output: the statements it holds, or the knowledge that the
//! text is an unfinished statement (the REPL then reads another line), or a
//! syntax error with the span where parsing failed.
//!
//! Invariants: no evaluation happens here; nothing panics on any input; every
//! node carries the byte span of its text. Comments are dropped by the lexer.
//! The lexer and grammar follow docs/semantics.md §1.
//!
//! The entry point is [`parse`]; the syntax tree it returns starts at
//! [`Statement`]. [`tokenize`] and the token types are for tools and tests
//! that look at tokens (the parser runs the lexer itself).

#![warn(missing_docs)]

mod ast;
mod lexer;
mod parser;

pub use ast::{
    AttentionSetting, BinaryOp, Expr, ExprKind, FuncDef, Ident, SelectOp, Span, Statement, StatementKind, Subset,
    UnaryOp,
};
pub use lexer::{Token, TokenKind, tokenize};
pub use parser::{MAX_EXPR_HEIGHT, ParseOutcome, SyntaxError, parse};
