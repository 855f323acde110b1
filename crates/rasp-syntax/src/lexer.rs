//! Lexer: text → tokens, following the reference's ANTLR lexer (semantics.md §1.1).
//!
//! ANTLR picks the longest match and, on a tie, the literal keyword over
//! `ID`. A hand-written lexer reproduces that with a few look-aheads:
//! `aggregate(` `select(` `range(` `zip(` `len(` `exit()` `quit()` are single
//! tokens only when the `(` follows the word directly, `s-op` is one token
//! wherever it starts a token, and `full seq display` is one token only with
//! single spaces. Comments (`#` to end of line) are dropped: the parser never
//! sees them (a deliberate simplification of the ANTLR grammar, where
//! comments are tokens allowed only at statement boundaries).

use crate::ast::Span;
use crate::parser::SyntaxError;

/// Declares `TokenKind` and `TokenKind::ALL` from one list, so the two
/// cannot drift apart.
macro_rules! token_kinds {
    ($(#[$enum_doc:meta])* { $( $(#[$doc:meta])* $name:ident, )* }) => {
        $(#[$enum_doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum TokenKind {
            $( $(#[$doc])* $name, )*
        }

        impl TokenKind {
            /// Every kind, in declaration (= ANTLR token-type) order.
            pub const ALL: &'static [TokenKind] = &[$(TokenKind::$name,)*];
        }
    };
}

token_kinds! {
    /// The kind of a token. The variants are declared in the reference grammar's
    /// token-type order, so sorting by kind gives ANTLR's order in
    /// "expecting {…}" sets (semantics.md §1.5).
    {
        /// End of input (always the last token of [`tokenize`]'s list).
        Eof,
        /// `;`, which ends a RASP statement (REPL commands take none).
        Semi,
        /// `set`
        Set,
        /// `s-op`: one token wherever it starts a token, so never `s - op`.
        SOp,
        /// `selector`
        Selector,
        /// `example`
        Example,
        /// `show`
        Show,
        /// `full seq display` (exactly one space between the words).
        FullSeqDisplay,
        /// `on`
        On,
        /// `off`
        Off,
        /// `examples`
        Examples,
        /// `exit()` written without spaces.
        ExitCall,
        /// `exit` (without `()` directly after it).
        Exit,
        /// `quit` (without `()` directly after it).
        Quit,
        /// `quit()` written without spaces.
        QuitCall,
        /// `load`
        Load,
        /// `=`
        Assign,
        /// `draw` (a keyword; it takes an ordinary `(`).
        Draw,
        /// `(`
        LParen,
        /// `,`
        Comma,
        /// `)`
        RParen,
        /// `:`
        Colon,
        /// `def`
        Def,
        /// `{`
        LBrace,
        /// `}`
        RBrace,
        /// `for`
        For,
        /// `in`
        In,
        /// `return`
        Return,
        /// `aggregate(` (the `(` directly after the word).
        AggregateOpen,
        /// `[`
        LBracket,
        /// `]`
        RBracket,
        /// `not`
        Not,
        /// `-` (prefix or binary).
        Minus,
        /// `+` (prefix or binary).
        Plus,
        /// `round` (a keyword; it takes an ordinary `(`, a space before it is fine).
        Round,
        /// `indicator` (a keyword; it takes an ordinary `(`).
        Indicator,
        /// `^` (Python's `pow`).
        Caret,
        /// `*`
        Star,
        /// `/`
        Slash,
        /// `%`
        Percent,
        /// `==`
        EqEq,
        /// `<=`
        Le,
        /// `>=`
        Ge,
        /// `>`
        Gt,
        /// `<`
        Lt,
        /// `select(`
        SelectOpen,
        /// `!=` (only meaningful inside `select(…)`).
        NotEq,
        /// `and`
        And,
        /// `or`
        Or,
        /// `if`
        If,
        /// `else`
        Else,
        /// `range(`
        RangeOpen,
        /// `zip(`
        ZipOpen,
        /// `len(`
        LenOpen,
        /// `DIGITS.DIGITS`
        Float,
        /// `DIGITS`
        PosInt,
        /// `"…"`; the span includes the quotes.
        Str,
        /// `[a-zA-Z_][a-zA-Z_0-9]*` that is not a keyword.
        Id,
    }
}

impl TokenKind {
    /// The name ANTLR uses for this token type in error messages:
    /// `';'`, `'set'`, `ID`, `<EOF>`, …
    pub fn display_name(self) -> &'static str {
        use TokenKind::*;
        match self {
            Eof => "<EOF>",
            Semi => "';'",
            Set => "'set'",
            SOp => "'s-op'",
            Selector => "'selector'",
            Example => "'example'",
            Show => "'show'",
            FullSeqDisplay => "'full seq display'",
            On => "'on'",
            Off => "'off'",
            Examples => "'examples'",
            ExitCall => "'exit()'",
            Exit => "'exit'",
            Quit => "'quit'",
            QuitCall => "'quit()'",
            Load => "'load'",
            Assign => "'='",
            Draw => "'draw'",
            LParen => "'('",
            Comma => "','",
            RParen => "')'",
            Colon => "':'",
            Def => "'def'",
            LBrace => "'{'",
            RBrace => "'}'",
            For => "'for'",
            In => "'in'",
            Return => "'return'",
            AggregateOpen => "'aggregate('",
            LBracket => "'['",
            RBracket => "']'",
            Not => "'not'",
            Minus => "'-'",
            Plus => "'+'",
            Round => "'round'",
            Indicator => "'indicator'",
            Caret => "'^'",
            Star => "'*'",
            Slash => "'/'",
            Percent => "'%'",
            EqEq => "'=='",
            Le => "'<='",
            Ge => "'>='",
            Gt => "'>'",
            Lt => "'<'",
            SelectOpen => "'select('",
            NotEq => "'!='",
            And => "'and'",
            Or => "'or'",
            If => "'if'",
            Else => "'else'",
            RangeOpen => "'range('",
            ZipOpen => "'zip('",
            LenOpen => "'len('",
            Float => "Float",
            PosInt => "PosInt",
            Str => "String",
            Id => "ID",
        }
    }
}

/// One token: its kind and the byte span of its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offsets of its text in the lexed text (for `Str`, the quotes
    /// included; for `Eof`, an empty span at the end).
    pub span: Span,
}

impl Token {
    /// The token's text in `src` (the text it was lexed from); `""` for
    /// `Eof` or a span that does not fit `src`.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.span.start..self.span.end).unwrap_or("")
    }
}

/// Splits `src` into tokens, ending with an `Eof` token. Comments and
/// whitespace are dropped. Fails on the first character no token can start
/// with (or an unterminated string), with ANTLR's message
/// `token recognition error at: 'X'`.
pub fn tokenize(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let lexed = lex(src);
    match lexed.error {
        Some(error) => Err(error),
        None => Ok(lexed.tokens),
    }
}

/// The result of lexing as far as possible: the tokens before the first bad
/// character, always ended by an `Eof` token (placed at the bad character
/// when there is one), and the lexer error if any. The parser needs the
/// tokens before a lexer error to decide which error comes first (semantics.md §1.5:
/// ANTLR lexes lazily, so a syntax error earlier in the text wins).
pub(crate) struct Lexed {
    pub(crate) tokens: Vec<Token>,
    pub(crate) error: Option<SyntaxError>,
}

pub(crate) fn lex(src: &str) -> Lexed {
    let mut lexer = Lexer { src, bytes: src.as_bytes(), pos: 0, tokens: Vec::new() };
    let error = lexer.run().err();
    let end = lexer.pos.min(src.len());
    lexer.tokens.push(Token { kind: TokenKind::Eof, span: Span::new(end, end) });
    Lexed { tokens: lexer.tokens, error }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    /// Always on a char boundary: every step advances over ASCII bytes or
    /// over a whole token that ends before an ASCII byte (or at the end).
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), SyntaxError> {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => self.pos = self.line_end(self.pos),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.word(),
                b'0'..=b'9' => self.number(),
                b'"' => self.string()?,
                _ => self.punctuation()?,
            }
        }
        Ok(())
    }

    fn push(&mut self, kind: TokenKind, end: usize) {
        self.tokens.push(Token { kind, span: Span::new(self.pos, end) });
        self.pos = end;
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn rest(&self, at: usize) -> &str {
        self.src.get(at..).unwrap_or("")
    }

    /// Index of the first CR or LF at or after `from` (or the end).
    fn line_end(&self, from: usize) -> usize {
        let mut at = from;
        while let Some(b) = self.byte(at) {
            if b == b'\r' || b == b'\n' {
                break;
            }
            at += 1;
        }
        at
    }

    /// An identifier, a keyword, or one of the multi-character literal tokens
    /// that begin with a word (`s-op`, `full seq display`, `aggregate(`, …).
    fn word(&mut self) {
        let start = self.pos;
        let mut end = start;
        while let Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'0'..=b'9') = self.byte(end) {
            end += 1;
        }
        let word = self.src.get(start..end).unwrap_or("");
        let after = self.rest(end);
        // Longest match: these literals are longer than the identifier that
        // is their prefix, so they win whenever they match completely.
        if word == "s" && after.starts_with("-op") {
            return self.push(TokenKind::SOp, end + 3);
        }
        if word == "full" && after.starts_with(" seq display") {
            return self.push(TokenKind::FullSeqDisplay, end + " seq display".len());
        }
        if after.starts_with('(') {
            let open = match word {
                "aggregate" => Some(TokenKind::AggregateOpen),
                "select" => Some(TokenKind::SelectOpen),
                "range" => Some(TokenKind::RangeOpen),
                "zip" => Some(TokenKind::ZipOpen),
                "len" => Some(TokenKind::LenOpen),
                _ => None,
            };
            if let Some(kind) = open {
                return self.push(kind, end + 1);
            }
        }
        if after.starts_with("()") {
            match word {
                "exit" => return self.push(TokenKind::ExitCall, end + 2),
                "quit" => return self.push(TokenKind::QuitCall, end + 2),
                _ => {}
            }
        }
        // Same length: the literal keyword beats ID.
        let kind = keyword(word).unwrap_or(TokenKind::Id);
        self.push(kind, end)
    }

    /// `PosInt`, or `Float` = `PosInt '.' PosInt`. `1.` is `1` followed by a
    /// stray `.` (a lexer error); `1e5` is `1` then the identifier `e5`.
    fn number(&mut self) {
        let digits_end = |lexer: &Self, mut at: usize| {
            while let Some(b'0'..=b'9') = lexer.byte(at) {
                at += 1;
            }
            at
        };
        let int_end = digits_end(self, self.pos);
        if self.byte(int_end) == Some(b'.') && matches!(self.byte(int_end + 1), Some(b'0'..=b'9')) {
            let end = digits_end(self, int_end + 1);
            return self.push(TokenKind::Float, end);
        }
        self.push(TokenKind::PosInt, int_end)
    }

    /// `"` then anything but `"`, CR, LF, then `"`. No escapes.
    fn string(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let mut at = start + 1;
        loop {
            match self.byte(at) {
                Some(b'"') => {
                    self.push(TokenKind::Str, at + 1);
                    return Ok(());
                }
                // ANTLR's error text runs up to and including the character
                // where the match failed (the line break), if any.
                Some(b'\r' | b'\n') => return Err(self.recognition_error(start, at + 1)),
                None => return Err(self.recognition_error(start, at)),
                Some(_) => at += 1,
            }
        }
    }

    fn punctuation(&mut self) -> Result<(), SyntaxError> {
        use TokenKind::*;
        let start = self.pos;
        let two = match self.rest(start).get(..2) {
            Some("==") => Some(EqEq),
            Some("<=") => Some(Le),
            Some(">=") => Some(Ge),
            Some("!=") => Some(NotEq),
            _ => None,
        };
        if let Some(kind) = two {
            self.push(kind, start + 2);
            return Ok(());
        }
        let one = match self.byte(start) {
            Some(b';') => Semi,
            Some(b'=') => Assign,
            Some(b'(') => LParen,
            Some(b',') => Comma,
            Some(b')') => RParen,
            Some(b':') => Colon,
            Some(b'{') => LBrace,
            Some(b'}') => RBrace,
            Some(b'[') => LBracket,
            Some(b']') => RBracket,
            Some(b'-') => Minus,
            Some(b'+') => Plus,
            Some(b'^') => Caret,
            Some(b'*') => Star,
            Some(b'/') => Slash,
            Some(b'%') => Percent,
            Some(b'>') => Gt,
            Some(b'<') => Lt,
            Some(b'!') => {
                // `!` can only begin `!=`; ANTLR's error text includes the
                // character that broke the match.
                let next_len = self.rest(start + 1).chars().next().map_or(0, char::len_utf8);
                return Err(self.recognition_error(start, start + 1 + next_len));
            }
            _ => {
                let len = self.rest(start).chars().next().map_or(1, char::len_utf8);
                return Err(self.recognition_error(start, start + len));
            }
        };
        self.push(one, start + 1);
        Ok(())
    }

    fn recognition_error(&self, start: usize, end: usize) -> SyntaxError {
        let end = end.min(self.src.len());
        let text = self.src.get(start..end).unwrap_or("");
        SyntaxError {
            span: Span::new(start, end),
            message: format!("token recognition error at: '{}'", escape_for_display(text)),
        }
    }
}

/// Keywords that look like identifiers (semantics.md §1.1: these words can never be
/// names).
fn keyword(word: &str) -> Option<TokenKind> {
    use TokenKind::*;
    Some(match word {
        "set" => Set,
        "selector" => Selector,
        "example" => Example,
        "show" => Show,
        "on" => On,
        "off" => Off,
        "examples" => Examples,
        "exit" => Exit,
        "quit" => Quit,
        "load" => Load,
        "draw" => Draw,
        "def" => Def,
        "for" => For,
        "in" => In,
        "return" => Return,
        "not" => Not,
        "round" => Round,
        "indicator" => Indicator,
        "and" => And,
        "or" => Or,
        "if" => If,
        "else" => Else,
        _ => return None,
    })
}

/// Token text as ANTLR shows it inside quotes in error messages: line
/// breaks and tabs are escaped.
pub(crate) fn escape_for_display(text: &str) -> String {
    text.replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t")
}
