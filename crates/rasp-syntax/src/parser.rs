//! Parser: tokens → statements (semantics.md §1.2, §1.3), plus the REPL's verdict on
//! text that does not parse: unfinished (read another line) or an error
//! (semantics.md §1.4 step 5).
//!
//! A hand-written recursive-descent parser; binary operators go through one
//! precedence table ([`infix_operator`]). It stops at the first error, like
//! the reference (whose error listener raises on the first report), and words
//! its messages after ANTLR's default error strategy (semantics.md §1.5):
//! * a token that cannot be matched is "extraneous" when the token after it
//!   is what was expected (ANTLR would delete it), "missing X" when it is
//!   what may follow the expected X (ANTLR would insert X), and "mismatched"
//!   otherwise;
//! * a statement starting with an identifier is decided by its second token
//!   (`,`/`=` → assignment, an operator or `;` → expression), and a list or
//!   dict is decided after its first element; failing there is ANTLR's
//!   "no viable alternative at input '…'" (token texts joined without
//!   spaces).

use std::fmt;
use std::rc::Rc;

use crate::ast::*;
use crate::lexer::{self, Token, TokenKind, escape_for_display};

/// Deepest nesting of brackets, prefix operators and def/for bodies that the
/// parser accepts (it recurses once per level). Deeper input is an error
/// ("nested too deeply") rather than a stack overflow.
pub(crate) const MAX_NESTING: usize = 200;

/// Greatest height of an expression tree (a literal has height 1). Loops
/// build left-leaning chains (`1 + 1 + …`, `f(1)(2)…`) without recursing, so
/// this is checked separately; it guarantees every consumer of the tree
/// (including its `Drop`) a bounded recursion depth.
pub const MAX_EXPR_HEIGHT: usize = 500;

/// What [`parse`] concluded about a text.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseOutcome {
    /// The text is one or more complete statements.
    Complete(Vec<Statement>),
    /// The text is the beginning of a statement (or holds no statement at
    /// all): the REPL should read another line and parse again.
    Incomplete,
    /// The text cannot become valid by appending more text (or is one of the
    /// cases the reference gives up on).
    Error(SyntaxError),
}

/// A syntax (or lexer) error: where, and an ANTLR-style message that names
/// the offending token.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    /// Where the offending token is, in byte offsets (for a lexer error,
    /// the text that could not be lexed).
    pub span: Span,
    /// The message worded as ANTLR words it (`extraneous input '3'
    /// expecting ';'`, `token recognition error at: '$'`), without the
    /// REPL's `!! antlr exception:` frame around it (semantics.md §1.5).
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// Parses `src` with the reference's top rule `r : statement+ EOF`.
///
/// `Incomplete` when parsing first fails at the end of the text (this
/// includes empty or comment-only text), or when a statement's closing `;` is
/// missing before a token that could follow it (ANTLR's "missing ';' at 'X'",
/// which the reference treats as unfinished: `b = 2 c = 3;`).
pub fn parse(src: &str) -> ParseOutcome {
    let lexed = lexer::lex(src);
    let mut parser = Parser::new(src, &lexed.tokens);
    let result = parser.program();
    if let Some(lex_error) = lexed.error {
        // ANTLR lexes on demand: the lexer error is reported as soon as the
        // parser looks at the token position of the bad character. A syntax
        // error found without looking that far comes first.
        let bad_char_token = lexed.tokens.len().saturating_sub(1);
        return match result {
            Err(fail) if parser.max_peek < bad_char_token => (*fail).into_outcome(),
            _ => ParseOutcome::Error(lex_error),
        };
    }
    match result {
        Ok(statements) => ParseOutcome::Complete(statements),
        Err(fail) => (*fail).into_outcome(),
    }
}

// ---------------------------------------------------------------------------
// Token sets (for deciding what may come where, and for messages)

/// A set of token kinds, plus ANTLR's `Comment` (which our lexer drops, but
/// which ANTLR lists in several expected sets, semantics.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TokenSet(u64);

const COMMENT_BIT: u64 = 1 << 63;

impl TokenSet {
    const EMPTY: TokenSet = TokenSet(0);

    const fn of(kinds: &[TokenKind]) -> TokenSet {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= 1 << kinds[i] as u32;
            i += 1;
        }
        TokenSet(bits)
    }

    const fn union(self, other: TokenSet) -> TokenSet {
        TokenSet(self.0 | other.0)
    }

    const fn with_comment(self) -> TokenSet {
        TokenSet(self.0 | COMMENT_BIT)
    }

    fn contains(self, kind: TokenKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }

    /// ANTLR's rendering: `';'` for one token, `{a, b, …}` in token-type
    /// order otherwise (`Comment` sits between `String` and `ID`).
    fn describe(self) -> String {
        let mut names = Vec::new();
        for &kind in TokenKind::ALL {
            if kind == TokenKind::Id && self.0 & COMMENT_BIT != 0 {
                names.push("Comment");
            }
            if self.contains(kind) {
                names.push(kind.display_name());
            }
        }
        match names.as_slice() {
            [one] => (*one).to_string(),
            _ => format!("{{{}}}", names.join(", ")),
        }
    }
}

use TokenKind as K;

/// Tokens that can begin an expression.
const EXPR_START: TokenSet = TokenSet::of(&[
    K::LParen,
    K::LBrace,
    K::AggregateOpen,
    K::LBracket,
    K::Not,
    K::Minus,
    K::Plus,
    K::Round,
    K::Indicator,
    K::SelectOpen,
    K::RangeOpen,
    K::ZipOpen,
    K::LenOpen,
    K::Float,
    K::PosInt,
    K::Str,
    K::Id,
]);

/// Tokens that can begin a statement allowed in a def/for body.
const RASP_START: TokenSet = EXPR_START.union(TokenSet::of(&[K::Load, K::Draw, K::Def, K::For]));

/// Tokens that can begin a top-level statement (REPL commands included).
const STATEMENT_START: TokenSet = RASP_START.union(TokenSet::of(&[
    K::Set,
    K::SOp,
    K::Selector,
    K::Show,
    K::FullSeqDisplay,
    K::Examples,
    K::ExitCall,
    K::Exit,
    K::Quit,
    K::QuitCall,
]));

/// Tokens that continue an expression after a complete operand (postfix and
/// binary operators, `if`, `in`).
const CONTINUATION: TokenSet = TokenSet::of(&[
    K::LBracket,
    K::LParen,
    K::Caret,
    K::Star,
    K::Slash,
    K::Percent,
    K::Plus,
    K::Minus,
    K::EqEq,
    K::Le,
    K::Ge,
    K::Gt,
    K::Lt,
    K::And,
    K::Or,
    K::If,
    K::In,
]);

/// What may follow a closing bracket of an expression anywhere (used only to
/// word "missing ')' at ';'"-style messages).
const EXPR_FOLLOW: TokenSet = CONTINUATION.union(TokenSet::of(&[
    K::Semi,
    K::Comma,
    K::RParen,
    K::RBracket,
    K::RBrace,
    K::Colon,
    K::Else,
    K::For,
    K::LBrace,
    K::Eof,
]));

const SELECT_OPS: TokenSet = TokenSet::of(&[K::EqEq, K::Le, K::Ge, K::Gt, K::Lt, K::NotEq]);
const ON_OFF: TokenSet = TokenSet::of(&[K::On, K::Off]);
const SUBSET_OR_EXAMPLE: TokenSet = TokenSet::of(&[K::SOp, K::Selector, K::Example]);

/// Where a statement sits; decides which statements are allowed and what may
/// follow its `;` (which decides "missing ';'" = unfinished, semantics.md §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    TopLevel,
    DefBody,
    ForBody,
}

impl Context {
    /// Tokens that may directly follow a complete statement here.
    fn follow(self) -> TokenSet {
        match self {
            Context::TopLevel => STATEMENT_START.union(TokenSet::of(&[K::Eof])),
            Context::DefBody => RASP_START.union(TokenSet::of(&[K::Return])),
            Context::ForBody => RASP_START.union(TokenSet::of(&[K::RBrace])),
        }
    }
}

// ---------------------------------------------------------------------------
// Binary operators: the one precedence table (semantics.md §1.3)

/// An infix construct: a binary operator, the ternary `a if c else b`, or
/// `a in b`.
#[derive(Debug, Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    Ternary,
    In,
}

/// Binding power of each infix construct; higher binds tighter. All are
/// left-associative: the right operand is parsed at `power + 1`. Prefix
/// operators and postfix `[i]`/`(args)` bind tighter than all of these.
fn infix_operator(kind: TokenKind) -> Option<(u8, Infix)> {
    use BinaryOp::*;
    let (power, infix) = match kind {
        // `in` is the loosest of all: `2 in [1] if True else [2]` is
        // `2 in ([1] if True else [2])`.
        K::In => (1, Infix::In),
        // Looser than and/or: `1 or 0 if False else 5` = `(1 or 0) if …`.
        K::If => (2, Infix::Ternary),
        // `and` and `or` share one level: `True or False and False` is
        // `(True or False) and False`.
        K::And => (3, Infix::Binary(And)),
        K::Or => (3, Infix::Binary(Or)),
        K::EqEq => (4, Infix::Binary(Eq)),
        K::Le => (4, Infix::Binary(Le)),
        K::Ge => (4, Infix::Binary(Ge)),
        K::Gt => (4, Infix::Binary(Gt)),
        K::Lt => (4, Infix::Binary(Lt)),
        K::Plus => (5, Infix::Binary(Add)),
        K::Minus => (5, Infix::Binary(Sub)),
        // `%` is *below* `*` and `/`: `7 % 4 * 2` is `7 % (4 * 2)`.
        K::Percent => (6, Infix::Binary(Mod)),
        K::Star => (7, Infix::Binary(Mul)),
        K::Slash => (7, Infix::Binary(Div)),
        // Left-associative, unlike Python: `2 ^ 3 ^ 2` is `(2 ^ 3) ^ 2`.
        K::Caret => (8, Infix::Binary(Pow)),
        _ => return None,
    };
    Some((power, infix))
}

// ---------------------------------------------------------------------------
// Failures

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailKind {
    /// The text may still become valid: reported as `Incomplete`.
    Unfinished,
    /// A syntax error.
    Syntax,
    /// Nesting beyond [`MAX_NESTING`] or [`MAX_EXPR_HEIGHT`]; never
    /// rewritten into another message.
    TooDeep,
}

#[derive(Debug)]
struct Fail {
    kind: FailKind,
    /// Index of the offending token.
    token: usize,
    span: Span,
    message: String,
}

impl Fail {
    fn into_outcome(self) -> ParseOutcome {
        match self.kind {
            FailKind::Unfinished => ParseOutcome::Incomplete,
            FailKind::Syntax | FailKind::TooDeep => {
                ParseOutcome::Error(SyntaxError { span: self.span, message: self.message })
            }
        }
    }
}

/// Failures are boxed to keep `Result`s small: each nesting level of the
/// recursive descent holds several, and deep input must fit the stack of an
/// unoptimised build.
type PResult<T> = Result<T, Box<Fail>>;

/// An expression and the height of its tree.
struct Node {
    expr: Expr,
    height: usize,
}

/// ANTLR's single-token recovery that applies at a mismatch; it only picks
/// the wording here, since parsing stops at the first error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recovery {
    /// The token after the offending one is the expected one.
    DeleteFound,
    /// The offending token may follow the expected one.
    InsertExpected,
    None,
}

// ---------------------------------------------------------------------------
// The parser

struct Parser<'a> {
    src: &'a str,
    tokens: &'a [Token],
    /// Index of the current token.
    pos: usize,
    /// End of the last consumed token (for spans).
    prev_end: usize,
    depth: usize,
    /// Furthest token index the parser has looked at (see [`parse`]).
    max_peek: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str, tokens: &'a [Token]) -> Parser<'a> {
        Parser { src, tokens, pos: 0, prev_end: 0, depth: 0, max_peek: 0 }
    }

    // -- token access -------------------------------------------------------

    /// The token `ahead` places after the current one (the final `Eof`
    /// repeats forever).
    fn peek_at(&mut self, ahead: usize) -> Token {
        let index = self.index_at(ahead);
        self.max_peek = self.max_peek.max(index);
        self.tokens
            .get(index)
            .copied()
            .unwrap_or(Token { kind: K::Eof, span: Span::new(self.src.len(), self.src.len()) })
    }

    fn index_at(&self, ahead: usize) -> usize {
        (self.pos + ahead).min(self.tokens.len().saturating_sub(1))
    }

    fn peek(&mut self) -> Token {
        self.peek_at(0)
    }

    fn at(&mut self, kind: TokenKind) -> bool {
        self.peek().kind == kind
    }

    /// Consumes the current token (never moves past `Eof`).
    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token.kind != K::Eof {
            self.pos += 1;
            self.prev_end = token.span.end;
        }
        token
    }

    fn eat(&mut self, kind: TokenKind) -> Option<Token> {
        if self.at(kind) { Some(self.bump()) } else { None }
    }

    /// Consumes the current token and returns its text.
    fn bump_text(&mut self) -> &'a str {
        let token = self.bump();
        self.text(token)
    }

    fn text(&self, token: Token) -> &'a str {
        token.text(self.src)
    }

    /// The token's text as it appears quoted in messages.
    fn shown(&self, token: Token) -> String {
        if token.kind == K::Eof { "<EOF>".to_string() } else { escape_for_display(self.text(token)) }
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.prev_end.max(start))
    }

    // -- errors -------------------------------------------------------------

    fn fail_at(&mut self, token_index: usize, kind: FailKind, message: String) -> Box<Fail> {
        let token = self.tokens.get(token_index).copied();
        let span = token.map_or(Span::new(self.src.len(), self.src.len()), |t| t.span);
        let at_end = token.is_none_or(|t| t.kind == K::Eof);
        // Parsing that fails at the end of the text is always unfinished.
        let kind = if at_end && kind == FailKind::Syntax { FailKind::Unfinished } else { kind };
        Box::new(Fail { kind, token: token_index, span, message })
    }

    /// How ANTLR's default strategy would recover from the current token not
    /// being in `expected`; `follow` is what may come after the expected
    /// token at this spot.
    fn recovery(&mut self, expected: TokenSet, follow: TokenSet) -> Recovery {
        let found = self.peek();
        let next = self.peek_at(1);
        if found.kind != K::Eof && expected.contains(next.kind) {
            Recovery::DeleteFound
        } else if follow.contains(found.kind) {
            Recovery::InsertExpected
        } else {
            Recovery::None
        }
    }

    /// The current token is not in `expected`: "extraneous input" when the
    /// next token is expected (ANTLR would delete this one), "missing X"
    /// when this token may follow the expected one (ANTLR would insert it),
    /// "mismatched input" otherwise.
    fn unexpected(&mut self, expected: TokenSet, follow: TokenSet) -> Box<Fail> {
        let recovery = self.recovery(expected, follow);
        self.unexpected_with(expected, recovery, FailKind::Syntax)
    }

    fn unexpected_with(&mut self, expected: TokenSet, recovery: Recovery, kind: FailKind) -> Box<Fail> {
        let found = self.peek();
        let shown = self.shown(found);
        let wanted = expected.describe();
        let message = match recovery {
            Recovery::DeleteFound => format!("extraneous input '{shown}' expecting {wanted}"),
            Recovery::InsertExpected => format!("missing {wanted} at '{shown}'"),
            Recovery::None => format!("mismatched input '{shown}' expecting {wanted}"),
        };
        self.fail_at(self.pos, kind, message)
    }

    fn expect(&mut self, kind: TokenKind, follow: TokenSet) -> PResult<Token> {
        match self.eat(kind) {
            Some(token) => Ok(token),
            None => Err(self.unexpected(TokenSet::of(&[kind]), follow)),
        }
    }

    fn expect_id(&mut self, follow: TokenSet) -> PResult<Ident> {
        let token = self.expect(K::Id, follow)?;
        Ok(Ident { name: self.text(token).to_string(), span: token.span })
    }

    /// The `;` that ends a statement (or a `return`). Missing before a token
    /// that may follow it (and not just before a `;`, which would make the
    /// token extraneous) the text counts as unfinished: the reference's REPL
    /// treats ANTLR's "missing ';' at 'X'" like end of input (semantics.md §1.4).
    fn expect_semicolon(&mut self, follow: TokenSet) -> PResult<Token> {
        if let Some(token) = self.eat(K::Semi) {
            return Ok(token);
        }
        let expected = TokenSet::of(&[K::Semi]);
        let recovery = self.recovery(expected, follow);
        let kind = match recovery {
            Recovery::InsertExpected => FailKind::Unfinished,
            Recovery::DeleteFound | Recovery::None => FailKind::Syntax,
        };
        Err(self.unexpected_with(expected, recovery, kind))
    }

    /// ANTLR's "no viable alternative": no alternative of a decision that
    /// started at token `start` can match the token at `offending`.
    fn no_viable(&mut self, start: usize, offending: usize) -> Box<Fail> {
        let offending_token = self.tokens.get(offending).copied();
        let input = match offending_token {
            Some(token) if token.kind != K::Eof => {
                let last = offending.min(self.tokens.len().saturating_sub(1));
                let texts: String =
                    self.tokens.get(start..=last).unwrap_or(&[]).iter().map(|t| self.text(*t)).collect();
                escape_for_display(&texts)
            }
            _ => "<EOF>".to_string(),
        };
        self.fail_at(offending, FailKind::Syntax, format!("no viable alternative at input '{input}'"))
    }

    /// Goes one nesting level deeper, refusing to go past [`MAX_NESTING`]
    /// (deep input must not overflow the stack). Every successful `enter`
    /// is paired with a `leave`.
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            let found = self.peek();
            let shown = self.shown(found);
            return Err(self.fail_at(
                self.pos,
                FailKind::TooDeep,
                format!("expression nested too deeply (more than {MAX_NESTING} levels) at '{shown}'"),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// A failure while "predicting" between alternatives that share a
    /// prefix starting at token `start` (list vs list comprehension, dict vs
    /// dict comprehension): ANTLR scans ahead before choosing, so any syntax
    /// error inside surfaces as "no viable alternative" from `start`.
    fn prediction_failed(&mut self, start: usize, fail: Box<Fail>) -> Box<Fail> {
        match fail.kind {
            FailKind::Syntax => self.no_viable(start, fail.token),
            FailKind::Unfinished | FailKind::TooDeep => fail,
        }
    }

    // -- statements ---------------------------------------------------------

    /// `r : statement+ EOF`
    fn program(&mut self) -> PResult<Vec<Statement>> {
        let mut statements = Vec::new();
        loop {
            let token = self.peek();
            if token.kind == K::Eof && !statements.is_empty() {
                return Ok(statements);
            }
            if !STATEMENT_START.contains(token.kind) {
                let expected = STATEMENT_START.with_comment();
                return Err(if statements.is_empty() {
                    self.unexpected(expected, TokenSet::EMPTY)
                } else {
                    // ANTLR's loop-back sync always calls it extraneous.
                    let shown = self.shown(token);
                    let wanted = TokenSet::of(&[K::Eof]).union(expected).describe();
                    self.fail_at(self.pos, FailKind::Syntax, format!("extraneous input '{shown}' expecting {wanted}"))
                });
            }
            statements.push(self.statement(Context::TopLevel)?);
        }
    }

    fn statement(&mut self, context: Context) -> PResult<Statement> {
        let token = self.peek();
        let start = token.span.start;
        let top = context == Context::TopLevel;
        let kind = match token.kind {
            K::Set if top && self.attention_setting_follows() => self.set_attention()?,
            K::Set if top => self.set_example()?,
            K::Show if top => self.show_example()?,
            K::SOp | K::Selector | K::Examples if top => self.toggle_examples()?,
            K::FullSeqDisplay if top => {
                self.bump();
                StatementKind::FullSeqDisplay { on: self.on_off()? }
            }
            K::Exit | K::ExitCall | K::Quit | K::QuitCall if top => {
                self.bump();
                StatementKind::Exit
            }
            K::Load => self.load(context)?,
            K::Draw => self.draw(context)?,
            K::Def => StatementKind::FuncDef(Rc::new(self.func_def()?)),
            K::For => self.for_loop(context)?,
            K::Id => self.id_statement(context)?,
            kind if EXPR_START.contains(kind) => self.expr_statement(context)?,
            _ => {
                let expected = if top { STATEMENT_START } else { RASP_START }.with_comment();
                return Err(self.unexpected(expected, TokenSet::EMPTY));
            }
        };
        Ok(Statement { kind, span: self.span_from(start) })
    }

    /// A statement starting with an identifier: its second token decides
    /// between assignment (`ID (, ID)* = …`) and expression statement.
    fn id_statement(&mut self, context: Context) -> PResult<StatementKind> {
        let second = self.peek_at(1).kind;
        if second == K::Comma || second == K::Assign {
            self.assignment(context)
        } else if second == K::Semi || CONTINUATION.contains(second) {
            self.expr_statement(context)
        } else {
            Err(self.no_viable(self.pos, self.index_at(1)))
        }
    }

    fn expr_statement(&mut self, context: Context) -> PResult<StatementKind> {
        let expr = self.expr()?;
        self.expect_semicolon(context.follow())?;
        Ok(StatementKind::Expr(expr))
    }

    /// `ID (, ID)* = expr (, expr)* ;`
    fn assignment(&mut self, context: Context) -> PResult<StatementKind> {
        let names = self.id_list(TokenSet::of(&[K::Assign]))?;
        self.expect(K::Assign, EXPR_START)?;
        let values = self.expr_list()?;
        self.expect_semicolon(context.follow())?;
        Ok(StatementKind::Assign { names, values })
    }

    /// `draw ( expr [, expr] ) ;`
    fn draw(&mut self, context: Context) -> PResult<StatementKind> {
        self.bump();
        self.expect(K::LParen, EXPR_START)?;
        let sop = self.expr()?;
        let input = match self.eat(K::Comma) {
            Some(_) => Some(self.expr()?),
            None => None,
        };
        self.expect(K::RParen, TokenSet::of(&[K::Semi]))?;
        self.expect_semicolon(context.follow())?;
        Ok(StatementKind::Draw { sop, input })
    }

    /// `load STRING ;`
    fn load(&mut self, context: Context) -> PResult<StatementKind> {
        self.bump();
        let file = self.expect(K::Str, TokenSet::of(&[K::Semi]))?;
        let path = string_contents(self.text(file)).to_string();
        self.expect_semicolon(context.follow())?;
        Ok(StatementKind::Load { path })
    }

    /// `def ID ( [ID (, ID)*] ) { body* return expr (, expr)* ; }`
    fn func_def(&mut self) -> PResult<FuncDef> {
        let start = self.bump().span.start;
        let name = self.expect_id(TokenSet::of(&[K::LParen]))?;
        self.expect(K::LParen, TokenSet::of(&[K::Id, K::RParen]))?;
        let params = if self.at(K::Id) { self.id_list(TokenSet::of(&[K::RParen]))? } else { Vec::new() };
        self.expect(K::RParen, TokenSet::of(&[K::LBrace]))?;
        self.expect(K::LBrace, RASP_START.union(TokenSet::of(&[K::Return])))?;
        self.enter()?;
        let body_and_returns = self.def_body();
        self.leave();
        let (body, returns) = body_and_returns?;
        if !self.at(K::RBrace) {
            // ANTLR checks this spot when entering the optional trailing
            // comments, which reports without offering to insert the `}`.
            let expected = TokenSet::of(&[K::RBrace]).with_comment();
            return Err(self.unexpected(expected, TokenSet::EMPTY));
        }
        self.bump();
        Ok(FuncDef { name, params, body, returns, span: self.span_from(start) })
    }

    /// `body* return expr (, expr)* ;` inside a def.
    fn def_body(&mut self) -> PResult<(Vec<Statement>, Vec<Expr>)> {
        let mut body = Vec::new();
        while !self.at(K::Return) {
            if !RASP_START.contains(self.peek().kind) {
                return Err(if body.is_empty() {
                    let expected = RASP_START.union(TokenSet::of(&[K::Return]));
                    self.unexpected(expected.with_comment(), TokenSet::EMPTY)
                } else {
                    self.unexpected(TokenSet::of(&[K::Return]), EXPR_START)
                });
            }
            body.push(self.statement(Context::DefBody)?);
        }
        self.bump();
        let returns = self.expr_list()?;
        self.expect_semicolon(TokenSet::of(&[K::RBrace]))?;
        Ok((body, returns))
    }

    /// `for ID (, ID)* in expr { body+ }`
    fn for_loop(&mut self, context: Context) -> PResult<StatementKind> {
        self.bump();
        let names = self.id_list(TokenSet::of(&[K::In]))?;
        self.expect(K::In, EXPR_START)?;
        let iterable = self.expr()?;
        self.expect(K::LBrace, RASP_START)?;
        self.enter()?;
        let body = self.for_body();
        self.leave();
        let body = body?;
        self.expect(K::RBrace, context.follow())?;
        Ok(StatementKind::For { names, iterable, body })
    }

    /// The statements of a `for` body (at least one).
    fn for_body(&mut self) -> PResult<Vec<Statement>> {
        if !RASP_START.contains(self.peek().kind) {
            return Err(self.unexpected(RASP_START.with_comment(), TokenSet::EMPTY));
        }
        let mut body = Vec::new();
        while RASP_START.contains(self.peek().kind) {
            body.push(self.statement(Context::ForBody)?);
        }
        Ok(body)
    }

    /// `ID (, ID)*`; `follow` is what comes after the list.
    fn id_list(&mut self, follow: TokenSet) -> PResult<Vec<Ident>> {
        let item_follow = follow.union(TokenSet::of(&[K::Comma]));
        let mut names = vec![self.expect_id(item_follow)?];
        while self.eat(K::Comma).is_some() {
            names.push(self.expect_id(item_follow)?);
        }
        Ok(names)
    }

    // -- REPL commands (top level only, no `;`) ------------------------------

    /// `[s-op|selector]` after `set`/`show`, then `example`.
    fn subset_then_example(&mut self, follow: TokenSet) -> PResult<Subset> {
        let subset = match self.peek().kind {
            K::SOp => Subset::Sop,
            K::Selector => Subset::Selector,
            K::Example => Subset::Both,
            _ => return Err(self.unexpected(SUBSET_OR_EXAMPLE, TokenSet::EMPTY)),
        };
        if subset != Subset::Both {
            self.bump();
        }
        self.expect(K::Example, follow)?;
        Ok(subset)
    }

    /// `set [s-op|selector] example EXPR`
    fn set_example(&mut self) -> PResult<StatementKind> {
        self.bump();
        let subset = self.subset_then_example(EXPR_START)?;
        let example = self.expr()?;
        Ok(StatementKind::SetExample { subset, example })
    }

    /// Whether `set` is followed by the word `causal` or `prefix`: rasp's
    /// own REPL commands, which the reference's grammar rejects (so no
    /// input it accepts changes meaning).
    fn attention_setting_follows(&mut self) -> bool {
        let next = self.peek_at(1);
        next.kind == K::Id && matches!(self.text(next), "causal" | "prefix")
    }

    /// `set causal on|off` or `set prefix N` (semantics.md §6).
    fn set_attention(&mut self) -> PResult<StatementKind> {
        self.bump();
        let word = self.bump_text();
        if word == "causal" {
            let on = self.on_off()?;
            return Ok(StatementKind::SetAttention(if on {
                AttentionSetting::Causal
            } else {
                AttentionSetting::Bidirectional
            }));
        }
        let token = self.peek();
        if token.kind != K::PosInt {
            return Err(self.unexpected(TokenSet::of(&[K::PosInt]), Context::TopLevel.follow()));
        }
        let digits = self.bump_text();
        match digits.parse::<usize>() {
            Ok(length) => Ok(StatementKind::SetAttention(AttentionSetting::Prefix(length))),
            Err(_) => {
                let index = self.pos - 1;
                Err(self.fail_at(index, FailKind::Syntax, format!("prefix length {digits} is too large")))
            }
        }
    }

    /// `show [s-op|selector] example`
    fn show_example(&mut self) -> PResult<StatementKind> {
        self.bump();
        let follow = Context::TopLevel.follow();
        let subset = self.subset_then_example(follow)?;
        Ok(StatementKind::ShowExample { subset })
    }

    /// `[s-op|selector] examples on|off`
    fn toggle_examples(&mut self) -> PResult<StatementKind> {
        let subset = match self.bump().kind {
            K::SOp => Subset::Sop,
            K::Selector => Subset::Selector,
            _ => Subset::Both,
        };
        if subset != Subset::Both {
            self.expect(K::Examples, ON_OFF)?;
        }
        let on = self.on_off()?;
        Ok(StatementKind::ToggleExamples { subset, on })
    }

    fn on_off(&mut self) -> PResult<bool> {
        match self.peek().kind {
            K::On | K::Off => Ok(self.bump().kind == K::On),
            _ => Err(self.unexpected(ON_OFF, Context::TopLevel.follow())),
        }
    }

    // -- expressions ----------------------------------------------------------
    //
    // Internally every expression comes with the height of its tree. The
    // recursion guard (`enter`) bounds how deep the parser itself recurses;
    // the height bounds the trees built by loops (`1 + 1 + …`, `f(1)(2)…`),
    // which would otherwise be arbitrarily deep and overflow the stack of
    // whoever walks (or merely drops) them.

    /// An expression for a statement.
    fn expr(&mut self) -> PResult<Expr> {
        Ok(self.node()?.expr)
    }

    /// `expr (, expr)*` for a statement.
    fn expr_list(&mut self) -> PResult<Vec<Expr>> {
        Ok(self.node_list()?.0)
    }

    fn node(&mut self) -> PResult<Node> {
        self.node_above(0)
    }

    /// `expr (, expr)*` and the greatest height among them.
    fn node_list(&mut self) -> PResult<(Vec<Expr>, usize)> {
        let mut exprs = Vec::new();
        let mut height = 0;
        loop {
            let node = self.node()?;
            height = height.max(node.height);
            exprs.push(node.expr);
            if self.eat(K::Comma).is_none() {
                return Ok((exprs, height));
            }
        }
    }

    /// A new node over children whose greatest height is `child_height`,
    /// spanning from `start` to the last consumed token.
    fn make(&mut self, kind: ExprKind, start: usize, child_height: usize) -> PResult<Node> {
        let height = child_height + 1;
        if height > MAX_EXPR_HEIGHT {
            let last = self.pos.saturating_sub(1);
            let shown = self.tokens.get(last).map_or(String::new(), |t| self.shown(*t));
            return Err(self.fail_at(
                last,
                FailKind::TooDeep,
                format!("expression nested too deeply (more than {MAX_EXPR_HEIGHT} levels) at '{shown}'"),
            ));
        }
        Ok(Node { expr: Expr { kind, span: self.span_from(start) }, height })
    }

    /// Precedence climbing: an operand, then every infix construct whose
    /// binding power is at least `min_power`.
    fn node_above(&mut self, min_power: u8) -> PResult<Node> {
        self.enter()?;
        let result = self.operand_and_infixes(min_power);
        self.leave();
        result
    }

    fn operand_and_infixes(&mut self, min_power: u8) -> PResult<Node> {
        let mut left = self.prefix()?;
        while let Some((power, infix)) = infix_operator(self.peek().kind) {
            if power < min_power {
                break;
            }
            left = self.infix(left, power, infix)?;
        }
        Ok(left)
    }

    /// The rest of an infix construct whose operator is the current token.
    /// (Kept out of `operand_and_infixes`, like the pieces of `primary`, so
    /// that each nesting level costs little stack in unoptimised builds.)
    fn infix(&mut self, left: Node, power: u8, infix: Infix) -> PResult<Node> {
        self.bump();
        let start = left.expr.span.start;
        let mut height = left.height;
        let left = Box::new(left.expr);
        let kind = match infix {
            Infix::Binary(op) => {
                let right = self.node_above(power + 1)?;
                height = height.max(right.height);
                ExprKind::Binary { op, left, right: Box::new(right.expr) }
            }
            Infix::Ternary => {
                // The condition is a full expression (it is enclosed by
                // `if … else`); the last operand binds tighter (left-assoc).
                let cond = self.node()?;
                self.expect(K::Else, EXPR_START)?;
                let otherwise = self.node_above(power + 1)?;
                height = height.max(cond.height).max(otherwise.height);
                ExprKind::Ternary { then: left, cond: Box::new(cond.expr), otherwise: Box::new(otherwise.expr) }
            }
            Infix::In => {
                let container = self.node_above(power + 1)?;
                height = height.max(container.height);
                ExprKind::In { element: left, container: Box::new(container.expr) }
            }
        };
        self.make(kind, start, height)
    }

    /// Prefix `not`, `-`, `+`: their operand is a postfix expression (or
    /// another prefix one), so `-2 ^ 2` is `(-2) ^ 2` and `not 1 == 2` is
    /// `(not 1) == 2` (semantics.md §1.3).
    fn prefix(&mut self) -> PResult<Node> {
        let op = match self.peek().kind {
            K::Not => UnaryOp::Not,
            K::Minus => UnaryOp::Neg,
            K::Plus => UnaryOp::Pos,
            _ => return self.postfix(),
        };
        let start = self.bump().span.start;
        self.enter()?;
        let operand = self.prefix();
        self.leave();
        let operand = operand?;
        let kind = ExprKind::Unary { op, operand: Box::new(operand.expr) };
        self.make(kind, start, operand.height)
    }

    /// A primary followed by any number of `[index]` and `(args)`.
    fn postfix(&mut self) -> PResult<Node> {
        let mut node = self.primary()?;
        loop {
            let start = node.expr.span.start;
            let (kind, height) = match self.peek().kind {
                K::LBracket => {
                    self.bump();
                    let index = self.node()?;
                    self.expect(K::RBracket, EXPR_FOLLOW)?;
                    let height = node.height.max(index.height);
                    (ExprKind::Index { target: Box::new(node.expr), index: Box::new(index.expr) }, height)
                }
                K::LParen => {
                    self.bump();
                    let (args, args_height) = self.call_args()?;
                    let height = node.height.max(args_height);
                    (ExprKind::Call { callee: Box::new(node.expr), args }, height)
                }
                _ => return Ok(node),
            };
            node = self.make(kind, start, height)?;
        }
    }

    /// After the `(` of a call: `[expr (, expr)*] )`.
    fn call_args(&mut self) -> PResult<(Vec<Expr>, usize)> {
        if self.eat(K::RParen).is_some() {
            return Ok((Vec::new(), 0));
        }
        if !EXPR_START.contains(self.peek().kind) {
            let expected = EXPR_START.union(TokenSet::of(&[K::RParen]));
            return Err(self.unexpected(expected, TokenSet::EMPTY));
        }
        let args = self.node_list()?;
        self.expect(K::RParen, EXPR_FOLLOW)?;
        Ok(args)
    }

    fn primary(&mut self) -> PResult<Node> {
        let token = self.peek();
        let start = token.span.start;
        let (kind, child_height) = match token.kind {
            K::PosInt => (ExprKind::Int(self.bump_text().to_string()), 0),
            K::Float => (ExprKind::Float(self.bump_text().to_string()), 0),
            K::Str => (ExprKind::Str(string_contents(self.bump_text()).to_string()), 0),
            K::Id => (ExprKind::Var(self.bump_text().to_string()), 0),
            K::LParen => self.parenthesised()?,
            K::LBracket => self.list_or_comprehension()?,
            K::LBrace => self.dict_or_comprehension()?,
            K::AggregateOpen => self.aggregate()?,
            K::SelectOpen => self.select()?,
            K::RangeOpen | K::ZipOpen | K::LenOpen => self.builtin_call(token.kind)?,
            K::Round | K::Indicator => self.round_or_indicator(token.kind)?,
            _ => return Err(self.unexpected(EXPR_START, TokenSet::EMPTY)),
        };
        self.make(kind, start, child_height)
    }

    /// The closing `)` of a construct that is a complete operand.
    fn close_paren(&mut self) -> PResult<()> {
        self.expect(K::RParen, EXPR_FOLLOW).map(|_| ())
    }

    /// `( e )`
    fn parenthesised(&mut self) -> PResult<(ExprKind, usize)> {
        self.bump();
        let inner = self.node()?;
        self.close_paren()?;
        Ok((ExprKind::Paren(Box::new(inner.expr)), inner.height))
    }

    /// `aggregate( s, v [, d] )`
    fn aggregate(&mut self) -> PResult<(ExprKind, usize)> {
        self.bump();
        let selector = self.node()?;
        self.expect(K::Comma, EXPR_START)?;
        let values = self.node()?;
        let mut height = selector.height.max(values.height);
        let default = match self.eat(K::Comma) {
            Some(_) => {
                let default = self.node()?;
                height = height.max(default.height);
                Some(Box::new(default.expr))
            }
            None => None,
        };
        self.close_paren()?;
        let kind = ExprKind::Aggregate { selector: Box::new(selector.expr), values: Box::new(values.expr), default };
        Ok((kind, height))
    }

    /// `select( k, q, OP )`
    fn select(&mut self) -> PResult<(ExprKind, usize)> {
        self.bump();
        let key = self.node()?;
        self.expect(K::Comma, EXPR_START)?;
        let query = self.node()?;
        self.expect(K::Comma, SELECT_OPS)?;
        let op = self.select_op()?;
        self.close_paren()?;
        let height = key.height.max(query.height);
        Ok((ExprKind::Select { key: Box::new(key.expr), query: Box::new(query.expr), op }, height))
    }

    /// `range( e, … )`, `zip( e, … )`, `len( e )` (the `(` is part of the
    /// first token).
    fn builtin_call(&mut self, kind: TokenKind) -> PResult<(ExprKind, usize)> {
        self.bump();
        let result = if kind == K::LenOpen {
            let arg = self.node()?;
            (ExprKind::Len(Box::new(arg.expr)), arg.height)
        } else {
            let (args, height) = self.node_list()?;
            let expr = if kind == K::RangeOpen { ExprKind::Range(args) } else { ExprKind::Zip(args) };
            (expr, height)
        };
        self.close_paren()?;
        Ok(result)
    }

    /// `round ( e )`, `indicator ( e )` — these take a separate `(` token
    /// (semantics.md §1.1).
    fn round_or_indicator(&mut self, kind: TokenKind) -> PResult<(ExprKind, usize)> {
        self.bump();
        let op = if kind == K::Round { UnaryOp::Round } else { UnaryOp::Indicator };
        self.expect(K::LParen, EXPR_START)?;
        let operand = self.node()?;
        self.close_paren()?;
        Ok((ExprKind::Unary { op, operand: Box::new(operand.expr) }, operand.height))
    }

    fn select_op(&mut self) -> PResult<SelectOp> {
        let op = match self.peek().kind {
            K::EqEq => SelectOp::Eq,
            K::NotEq => SelectOp::Ne,
            K::Lt => SelectOp::Lt,
            K::Gt => SelectOp::Gt,
            K::Le => SelectOp::Le,
            K::Ge => SelectOp::Ge,
            _ => return Err(self.unexpected(SELECT_OPS, TokenSet::of(&[K::RParen]))),
        };
        self.bump();
        Ok(op)
    }

    /// `[a, b, …]` or `[value for names in iterable]`.
    fn list_or_comprehension(&mut self) -> PResult<(ExprKind, usize)> {
        let open = self.pos;
        self.bump();
        if self.eat(K::RBracket).is_some() {
            return Ok((ExprKind::List(Vec::new()), 0));
        }
        match self.node() {
            Ok(first) => self.list_rest(open, first),
            Err(fail) => Err(self.prediction_failed(open, fail)),
        }
    }

    /// The rest of a list or list comprehension opened at token `open`,
    /// after its first element. (Split from `list_or_comprehension` to keep
    /// the frame that recursion passes through small.)
    fn list_rest(&mut self, open: usize, first: Node) -> PResult<(ExprKind, usize)> {
        match self.peek().kind {
            K::For => {
                self.bump();
                let (names, iterable) = self.comprehension_tail(K::RBracket)?;
                let height = first.height.max(iterable.height);
                let value = Box::new(first.expr);
                let kind = ExprKind::ListComp { value, names, iterable: Box::new(iterable.expr) };
                Ok((kind, height))
            }
            K::Comma | K::RBracket => {
                let mut height = first.height;
                let mut items = vec![first.expr];
                while self.eat(K::Comma).is_some() {
                    let item = self.node()?;
                    height = height.max(item.height);
                    items.push(item.expr);
                }
                self.expect(K::RBracket, EXPR_FOLLOW)?;
                Ok((ExprKind::List(items), height))
            }
            _ => Err(self.no_viable(open, self.pos)),
        }
    }

    /// `{k: v, …}` or `{key: value for names in iterable}`.
    fn dict_or_comprehension(&mut self) -> PResult<(ExprKind, usize)> {
        let open = self.pos;
        self.bump();
        if self.eat(K::RBrace).is_some() {
            return Ok((ExprKind::Dict(Vec::new()), 0));
        }
        match self.first_entry(open) {
            Ok((key, value)) => self.dict_rest(open, key, value),
            Err(fail) => Err(self.prediction_failed(open, fail)),
        }
    }

    /// The rest of a dict or dict comprehension opened at token `open`,
    /// after its first entry.
    fn dict_rest(&mut self, open: usize, key: Node, value: Node) -> PResult<(ExprKind, usize)> {
        let mut height = key.height.max(value.height);
        match self.peek().kind {
            K::For => {
                self.bump();
                let (names, iterable) = self.comprehension_tail(K::RBrace)?;
                height = height.max(iterable.height);
                let kind = ExprKind::DictComp {
                    key: Box::new(key.expr),
                    value: Box::new(value.expr),
                    names,
                    iterable: Box::new(iterable.expr),
                };
                Ok((kind, height))
            }
            K::Comma | K::RBrace => {
                let mut entries = vec![(key.expr, value.expr)];
                while self.eat(K::Comma).is_some() {
                    let key = self.node()?;
                    self.expect(K::Colon, EXPR_START)?;
                    let value = self.node()?;
                    height = height.max(key.height).max(value.height);
                    entries.push((key.expr, value.expr));
                }
                self.expect(K::RBrace, EXPR_FOLLOW)?;
                Ok((ExprKind::Dict(entries), height))
            }
            _ => Err(self.no_viable(open, self.pos)),
        }
    }

    /// `key: value` at the start of a dict (or dict comprehension) opened
    /// at token `open`.
    fn first_entry(&mut self, open: usize) -> PResult<(Node, Node)> {
        let key = self.node()?;
        if self.eat(K::Colon).is_none() {
            let offending = self.pos;
            return Err(self.no_viable(open, offending));
        }
        Ok((key, self.node()?))
    }

    /// After `for` in a comprehension: `names in iterable` and the closing
    /// bracket.
    fn comprehension_tail(&mut self, close: TokenKind) -> PResult<(Vec<Ident>, Node)> {
        let names = self.id_list(TokenSet::of(&[K::In]))?;
        self.expect(K::In, EXPR_START)?;
        let iterable = self.node()?;
        self.expect(close, EXPR_FOLLOW)?;
        Ok((names, iterable))
    }
}

/// The text between the quotes of a string token.
fn string_contents(token_text: &str) -> &str {
    token_text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).unwrap_or(token_text)
}
