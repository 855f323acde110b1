//! The syntax tree. Every node carries the byte span of the text it came from,
//! so later stages can point at what the user wrote.

use std::rc::Rc;

/// Where a node's text is: byte offsets `start..end` into the text given to
/// [`parse`](crate::parse) (so `&src[span.start..span.end]` is that text).
///
/// Offsets count bytes, not characters: `"§"` is one character but two
/// bytes. Whoever shows a position to a person converts (rasp-lang's
/// diagnostics count columns in characters). At the REPL the parsed text
/// is a chunk of joined lines (semantics.md §1.4), not the file itself, so
/// spans are relative to that chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte of the text.
    pub start: usize,
    /// Offset just past the last byte (exclusive); equal to `start` for an
    /// empty span, such as the end of the input.
    pub end: usize,
}

impl Span {
    /// The span `start..end` (byte offsets, `end` exclusive).
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A name as written: a variable, parameter, loop name or function name.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The identifier's text (`[a-zA-Z_][a-zA-Z_0-9]*`, never a keyword).
    pub name: String,
    /// Where the name is written.
    pub span: Span,
}

/// Which running example a REPL command talks about (`set s-op example ...`).
/// The REPL keeps one example for s-ops and one for selectors
/// (semantics.md §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subset {
    /// No qualifier (`set example ...`, `show example`, `examples off`):
    /// both examples.
    Both,
    /// `s-op` qualifier: the example s-ops are shown on.
    Sop,
    /// `selector` qualifier: the example selectors are shown on.
    Selector,
}

/// The attention mask `set causal on|off` and `set prefix N` choose: an
/// extension of rasp, not reference RASP (semantics.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttentionSetting {
    /// `set causal off`: every position sees every other (the reference).
    Bidirectional,
    /// `set causal on`: a position sees itself and earlier positions.
    Causal,
    /// `set prefix N`: the first N positions see each other, causal after.
    Prefix(usize),
}

/// One statement: a RASP statement or a REPL command.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// What the statement is.
    pub kind: StatementKind,
    /// From the statement's first token through its `;` or closing `}`
    /// (the last token for REPL commands, which have no `;`).
    pub span: Span,
}

/// The statements of the grammar (semantics.md §1.2). The REPL commands
/// (`SetExample` to `Exit`) appear only at the top level, never inside a
/// `def` or `for` body.
#[derive(Debug, Clone, PartialEq)]
pub enum StatementKind {
    /// `expr;`
    Expr(Expr),
    /// `a, b = e1, e2;` (names and values are never empty). Only plain names
    /// can be assigned; the counts are matched at run time (semantics.md §2.8).
    Assign {
        /// The names assigned, in order.
        names: Vec<Ident>,
        /// The expressions after `=`, in order.
        values: Vec<Expr>,
    },
    /// `draw(sop [, input]);`
    Draw {
        /// The s-op to draw.
        sop: Expr,
        /// The input to draw it on; `None` draws it on the s-op example.
        input: Option<Expr>,
    },
    /// `load "path";` — runs `path.rasp` (semantics.md §2.9).
    Load {
        /// The string's contents, without quotes and without the `.rasp`
        /// the loader appends.
        path: String,
    },
    /// `def name(params) { body; return e1, e2; }`
    FuncDef(Rc<FuncDef>),
    /// `for a, b in iterable { body }` (body is never empty). Unlike a
    /// comprehension, the body runs in the current scope.
    For {
        /// The loop names (several unpack each element).
        names: Vec<Ident>,
        /// The list or dict iterated over.
        iterable: Expr,
        /// The statements run for each element (never REPL commands).
        body: Vec<Statement>,
    },
    /// `set [s-op|selector] example EXPR` (no semicolon)
    SetExample {
        /// Which example is set.
        subset: Subset,
        /// The new example (a string or a list, checked at run time).
        example: Expr,
    },
    /// `show [s-op|selector] example`
    ShowExample {
        /// Which example is shown.
        subset: Subset,
    },
    /// `[s-op|selector] examples on|off`
    ToggleExamples {
        /// Which kind of value stops (or starts) being shown on its example.
        subset: Subset,
        /// `true` for `on`.
        on: bool,
    },
    /// `full seq display on|off`: show s-op values as aligned rows of
    /// input and output values instead of one list (semantics.md §3.2).
    FullSeqDisplay {
        /// `true` for `on`.
        on: bool,
    },
    /// `set causal on|off` or `set prefix N` (no semicolon): the attention
    /// mask selectors are evaluated under. An extension: the reference has
    /// no such command and reads these lines as syntax errors.
    SetAttention(AttentionSetting),
    /// `exit`, `exit()`, `quit`, `quit()`
    Exit,
}

/// A function definition `def name(params) { body; return e1, e2; }`.
/// Shared (`Rc`) because the function value made from it outlives the
/// statement.
#[derive(Debug, Clone, PartialEq)]
pub struct FuncDef {
    /// The function's name (bound in the scope the `def` runs in).
    pub name: Ident,
    /// The parameter names, in order (possibly none).
    pub params: Vec<Ident>,
    /// Statements before the `return` (only `Expr`, `Assign`, `Draw`, `Load`,
    /// `FuncDef`, `For`; never REPL commands).
    pub body: Vec<Statement>,
    /// The expressions after `return` (at least one). Several make the
    /// call return a list.
    pub returns: Vec<Expr>,
    /// From `def` through the closing `}`.
    pub span: Span,
}

/// An expression and the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// From its first token through its last (the closing bracket of a
    /// call or index included).
    pub span: Span,
}

/// The prefix operators, and the two keywords that take one parenthesised
/// operand. All bind tighter than any binary operator (semantics.md §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `not e`: Python's `not`, elementwise on an s-op.
    Not,
    /// `-e`
    Neg,
    /// `+e`
    Pos,
    /// `round(e)`: Python's `round` to an int (half to even). `round` is a
    /// keyword, so `round (e)` with a space is the same.
    Round,
    /// `indicator(e)`: 1 where the s-op's value is truthy, 0 elsewhere
    /// (s-ops only, checked at run time).
    Indicator,
}

/// The binary operators of expressions, each with Python's meaning on
/// atoms and applied position by position when an operand is an s-op
/// (semantics.md §2.4). Every one is left-associative. There is no `!=`
/// here: RASP has it only as a [`SelectOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `^`: Python's `pow`, not exclusive or. Binds tighter than `*`.
    Pow,
    /// `*`
    Mul,
    /// `/`: true division (always a float).
    Div,
    /// `%`: Python's modulo. The reference's grammar puts it on a level of
    /// its own below `*` and `/`, so `7 % 4 * 2` is `7 % (4 * 2)`.
    Mod,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `==`
    Eq,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<`. Comparisons do not chain: `1 < 2 == True` is `(1 < 2) == True`.
    Lt,
    /// `and`: on the same level as `or` (the reference's grammar), so
    /// `a or b and c` is `(a or b) and c`.
    And,
    /// `or`: on the same level as `and`.
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

/// The comparison of `select(key, query, OP)`: the selector holds
/// `key[k] OP query[q]` in row `q`, column `k` (semantics.md §2.5). This
/// is the only place `!=` exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SelectOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`: key less than query.
    Lt,
    /// `>`: key greater than query.
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl SelectOp {
    /// The comparison as written in RASP source (`==`, `!=`, `<`, ...).
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

/// The expressions of the grammar (semantics.md §1.3). Calls, indexing and
/// the keyword forms (`select(`, `aggregate(`, ...) are distinct kinds
/// because the reference's grammar makes them distinct rules.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Decimal digits of a non-negative integer literal (may exceed i64:
    /// RASP integers are Python's, unbounded). `-3` is `Neg` applied to `3`.
    Int(String),
    /// Text of a float literal `DIGITS.DIGITS` (kept as text so the value is
    /// read exactly as Python reads it).
    Float(String),
    /// Contents of a string literal, without the quotes (no escapes exist).
    Str(String),
    /// A name, looked up when evaluated (`tokens`, `indices` and library
    /// names are ordinary names here).
    Var(String),
    /// `( e )` — kept because the reference names some values after the
    /// variable written directly (semantics.md §2.8 `in`), which parentheses
    /// hide, and because a parenthesised operand of indexing fails there
    /// (semantics.md §2.8, indexing).
    Paren(Box<Expr>),
    /// `[a, b, ...]`
    List(Vec<Expr>),
    /// `{k: v, ...}`, entries in the order written.
    Dict(Vec<(Expr, Expr)>),
    /// `[value for names in iterable]`
    ListComp {
        /// The element expression, evaluated once per element of `iterable`.
        value: Box<Expr>,
        /// The names bound to each element (several unpack it).
        names: Vec<Ident>,
        /// The list or dict (its keys) iterated over.
        iterable: Box<Expr>,
    },
    /// `{key: value for names in iterable}`
    DictComp {
        /// The key expression of each entry.
        key: Box<Expr>,
        /// The value expression of each entry.
        value: Box<Expr>,
        /// The names bound to each element (several unpack it).
        names: Vec<Ident>,
        /// The list or dict (its keys) iterated over.
        iterable: Box<Expr>,
    },
    /// `not e`, `-e`, `+e`, `round(e)`, `indicator(e)`
    Unary {
        /// Which operator.
        op: UnaryOp,
        /// What it applies to.
        operand: Box<Expr>,
    },
    /// `left op right`, for every operator of [`BinaryOp`].
    Binary {
        /// Which operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
    /// `then if cond else otherwise`. Left-associative, as in the reference's
    /// grammar (unlike Python): `a if b else c if d else e` is
    /// `(a if b else c) if d else e` (semantics.md §1.3).
    Ternary {
        /// The value when `cond` holds.
        then: Box<Expr>,
        /// The condition: an atom picks one branch (only that one is
        /// evaluated); an s-op picks position by position.
        cond: Box<Expr>,
        /// The value when `cond` does not hold.
        otherwise: Box<Expr>,
    },
    /// `element in container`, the loosest operator of all.
    In {
        /// The value looked for.
        element: Box<Expr>,
        /// The list or s-op looked in.
        container: Box<Expr>,
    },
    /// `select(key, query, op)`
    Select {
        /// The s-op (or atom) compared at the key (column) positions.
        key: Box<Expr>,
        /// The s-op (or atom) compared at the query (row) positions.
        query: Box<Expr>,
        /// The comparison.
        op: SelectOp,
    },
    /// `aggregate(selector, values [, default])`
    Aggregate {
        /// The selector choosing, for each position, what to average.
        selector: Box<Expr>,
        /// The s-op (or atom) whose selected values are combined.
        values: Box<Expr>,
        /// The value where nothing is selected; `None` when omitted (the
        /// int 0 then, semantics.md §2.6).
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
        /// The list, string, dict or s-op indexed.
        target: Box<Expr>,
        /// The index or key (an s-op gives an elementwise lookup).
        index: Box<Expr>,
    },
    /// `callee(args)` — a function call or the application of an s-op/selector.
    Call {
        /// What is called: a function, or an s-op or selector to apply.
        callee: Box<Expr>,
        /// The arguments, in order (an application takes exactly one input).
        args: Vec<Expr>,
    },
}

impl ExprKind {
    /// The name of a variable written directly; `None` for every other
    /// kind (a parenthesised variable included). The list of kinds is
    /// written once, here, for callers that only ask this.
    pub fn as_var(&self) -> Option<&str> {
        match self {
            ExprKind::Var(name) => Some(name),
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Paren(_)
            | ExprKind::List(_)
            | ExprKind::Dict(_)
            | ExprKind::ListComp { .. }
            | ExprKind::DictComp { .. }
            | ExprKind::Unary { .. }
            | ExprKind::Binary { .. }
            | ExprKind::Ternary { .. }
            | ExprKind::In { .. }
            | ExprKind::Select { .. }
            | ExprKind::Aggregate { .. }
            | ExprKind::Range(_)
            | ExprKind::Zip(_)
            | ExprKind::Len(_)
            | ExprKind::Index { .. }
            | ExprKind::Call { .. } => None,
        }
    }
}
