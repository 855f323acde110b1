//! The syntax tree. Every node carries the byte span of the text it came from,
//! so later stages can point at what the user wrote.

use std::rc::Rc;

/// Byte offsets into the parsed text, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// Which running example a REPL command talks about (`set s-op example ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    Both,
    Sop,
    Selector,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `expr;`
    Expr(Expr),
    /// `a, b = e1, e2;` (names and values are never empty)
    Assign { names: Vec<Ident>, values: Vec<Expr> },
    /// `draw(sop [, input]);`
    Draw { sop: Expr, input: Option<Expr> },
    /// `load "path";` — `path` is the string's contents (without quotes).
    Load { path: String },
    /// `def name(params) { body; return e1, e2; }`
    FuncDef(Rc<FuncDef>),
    /// `for a, b in iterable { body }` (body is never empty)
    For { names: Vec<Ident>, iterable: Expr, body: Vec<Statement> },
    /// `set [s-op|selector] example EXPR` (no semicolon)
    SetExample { subset: Subset, example: Expr },
    /// `show [s-op|selector] example`
    ShowExample { subset: Subset },
    /// `[s-op|selector] examples on|off`
    ToggleExamples { subset: Subset, on: bool },
    /// `full seq display on|off`
    FullSeqDisplay { on: bool },
    /// `exit`, `exit()`, `quit`, `quit()`
    Exit,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FuncDef {
    pub name: Ident,
    pub params: Vec<Ident>,
    /// Statements before the `return` (only `Expr`, `Assign`, `Draw`, `Load`,
    /// `FuncDef`, `For`; never REPL commands).
    pub body: Vec<Statement>,
    /// The expressions after `return` (at least one).
    pub returns: Vec<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Pos,
    Round,
    Indicator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Pow,
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Eq,
    Le,
    Ge,
    Gt,
    Lt,
    And,
    Or,
}

impl BinaryOp {
    /// The operator as written in RASP source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Pow => "^",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Eq => "==",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::Gt => ">",
            BinaryOp::Lt => "<",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }
}

/// The comparison of `select(key, query, OP)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl SelectOp {
    pub fn symbol(self) -> &'static str {
        match self {
            SelectOp::Eq => "==",
            SelectOp::Ne => "!=",
            SelectOp::Lt => "<",
            SelectOp::Gt => ">",
            SelectOp::Le => "<=",
            SelectOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Decimal digits of a non-negative integer literal (may exceed i64).
    Int(String),
    /// Text of a float literal `DIGITS.DIGITS`.
    Float(String),
    /// Contents of a string literal, without the quotes (no escapes exist).
    Str(String),
    Var(String),
    /// `( e )` — kept because the reference names some values after the
    /// variable written directly (semantics.md §2.8 `in`), which parentheses hide.
    Paren(Box<Expr>),
    List(Vec<Expr>),
    /// `{k: v, ...}`
    Dict(Vec<(Expr, Expr)>),
    /// `[value for names in iterable]`
    ListComp {
        value: Box<Expr>,
        names: Vec<Ident>,
        iterable: Box<Expr>,
    },
    /// `{key: value for names in iterable}`
    DictComp {
        key: Box<Expr>,
        value: Box<Expr>,
        names: Vec<Ident>,
        iterable: Box<Expr>,
    },
    /// `not e`, `-e`, `+e`, `round(e)`, `indicator(e)`
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `then if cond else otherwise`
    Ternary {
        then: Box<Expr>,
        cond: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `element in container`
    In {
        element: Box<Expr>,
        container: Box<Expr>,
    },
    /// `select(key, query, op)`
    Select {
        key: Box<Expr>,
        query: Box<Expr>,
        op: SelectOp,
    },
    /// `aggregate(selector, values [, default])`
    Aggregate {
        selector: Box<Expr>,
        values: Box<Expr>,
        default: Option<Box<Expr>>,
    },
    /// `range(a, ...)` — arity is checked at run time, like the reference.
    Range(Vec<Expr>),
    /// `zip(a, ...)`
    Zip(Vec<Expr>),
    /// `len(e)`
    Len(Box<Expr>),
    /// `target[index]`
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `callee(args)` — a function call or the application of an s-op/selector.
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
}
