//! Diagnostics: errors as a person reads them in file mode and at a
//! terminal — what went wrong, where (file, line, column, the source line
//! with carets under the failing expression) and through which calls and
//! loads. The piped REPL never shows these: it prints the reference's text
//! (semantics.md §3.4), which has no locations.

use rasp_core::ErrorKind;
use rasp_syntax::Span;
use std::fmt::Write as _;
use std::rc::Rc;

/// The text statements were parsed from: a file (or the console) and the
/// way back from the parser's offsets to the file's.
///
/// The parser does not see files: it sees chunks, lines joined as the
/// reference's line reader joins them (comment lines dropped, a space after
/// each unfinished line, semantics.md §1.4), so an offset in a chunk is not an
/// offset in the file. Every chunk shares its file's name and text (`Rc`,
/// never copied per statement or call) and keeps where each of its lines
/// came from.
#[derive(Debug)]
pub(crate) struct Source {
    name: Rc<str>,
    text: Rc<str>,
    /// The line number of `text`'s first line: 1 for a file; at the console,
    /// where each statement's lines are a text of their own, the number of
    /// the line in the session, so that places in different statements differ.
    first_line: usize,
    lines: Vec<ChunkLine>,
}

/// One line of a chunk: where it starts in the chunk and in the original
/// text, its line number in the original text (0-based), and how many bytes
/// of it the chunk kept (0 for a comment line).
#[derive(Debug, Clone, Copy)]
struct ChunkLine {
    in_chunk: usize,
    in_text: usize,
    line_in_text: usize,
    kept: usize,
}

impl Source {
    /// The offset in the original text of an offset in the chunk. Offsets
    /// past a line's kept text (the joining space) land at its end.
    fn origin(&self, offset: usize) -> usize {
        match self.lines.iter().rev().find(|line| line.in_chunk <= offset) {
            Some(line) => line.in_text + (offset - line.in_chunk).min(line.kept),
            None => 0,
        }
    }

    /// File, line, column and source line of a span of the chunk.
    pub(crate) fn locate(&self, span: Span) -> Location {
        let text: &str = &self.text;
        let start = floor_char_boundary(text, self.origin(span.start));
        let end = floor_char_boundary(text, self.origin(span.end).max(start));
        // The chunk's lines know their line numbers, so a place costs the
        // length of its line, not of the text before it: a file of 30,000
        // statements locates every select without rescanning the file.
        let (line_start, line_in_text) = match self.lines.iter().rev().find(|line| line.in_text <= start) {
            Some(line) => {
                let within = text.get(line.in_text..start).unwrap_or("");
                let last_break = within.rfind('\n').map(|i| line.in_text + i + 1);
                (last_break.unwrap_or(line.in_text), line.line_in_text + within.matches('\n').count())
            }
            None => {
                let before = text.get(..start).unwrap_or("");
                (before.rfind('\n').map_or(0, |i| i + 1), before.matches('\n').count())
            }
        };
        let line_end = text.get(start..).and_then(|rest| rest.find('\n')).map_or(text.len(), |i| start + i);
        let line_text = text.get(line_start..line_end).unwrap_or("");
        let covered = text.get(start..end.min(line_end)).unwrap_or("");
        Location {
            file: self.name.to_string(),
            line: line_in_text + self.first_line,
            column: text.get(line_start..start).unwrap_or("").chars().count() + 1,
            span: Span::new(start, end),
            line_text: line_text.strip_suffix('\r').unwrap_or(line_text).to_string(),
            width: covered.chars().count().max(1),
        }
    }
}

/// The largest char boundary at or below `offset` (so slicing never panics).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Builds the chunk the parser sees, line by line, remembering where each
/// line came from so that spans can be traced back to the file.
#[derive(Debug, Default)]
pub(crate) struct ChunkReader {
    /// What the parser is given.
    pub(crate) text: String,
    lines: Vec<ChunkLine>,
}

impl ChunkReader {
    /// Adds a line (as read) found at `in_text` in the original text, where
    /// it is line `line_in_text` (0-based). A comment line adds nothing, as
    /// the reference's reader skips it.
    pub(crate) fn push_line(&mut self, line: &str, in_text: usize, line_in_text: usize) {
        let kept = if line.trim().starts_with('#') { "" } else { line };
        self.lines.push(ChunkLine { in_chunk: self.text.len(), in_text, line_in_text, kept: kept.len() });
        self.text.push_str(kept);
    }

    /// The statement is unfinished: the reference joins the next line with a space.
    pub(crate) fn continue_statement(&mut self) {
        self.text.push(' ');
    }

    /// The chunk read so far as a source of `name`/`text` (whose first line
    /// is line `first_line`), and an empty reader.
    pub(crate) fn take_source(&mut self, name: &Rc<str>, text: &Rc<str>, first_line: usize) -> Rc<Source> {
        self.text.clear();
        let lines = std::mem::take(&mut self.lines);
        Rc::new(Source { name: name.clone(), text: text.clone(), first_line, lines })
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.lines.clear();
    }
}

/// A place in a source, as shown to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file's name as given (`prog.rasp`, `lib.rasp` for `load "lib";`),
    /// or `<console>` for a statement typed at the REPL. Owned, so that
    /// diagnostics can be sent between threads.
    pub file: String,
    /// 1-based line in the file (at the console: in the session, counting
    /// every line typed).
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offsets into the file's text.
    pub span: Span,
    /// The whole line the span starts on, without its newline.
    pub line_text: String,
    /// Characters the span covers on that line (at least 1).
    pub width: usize,
}

impl Location {
    /// The text the span covers on its first line.
    pub fn text(&self) -> String {
        self.line_text.chars().skip(self.column.saturating_sub(1)).take(self.width).collect()
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One step between the top level and the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The failure happened inside a user function.
    Call {
        /// The function's name.
        function: String,
        /// The call expression.
        site: Location,
    },
    /// The failure happened in a `load`ed file.
    Load {
        /// The file, as `load "lib";` names it: `lib.rasp`.
        file: String,
        /// The `load` statement.
        site: Location,
    },
}

impl Frame {
    fn note(&self) -> String {
        match self {
            Frame::Call { function, site } => format!("in {function}(...), called at {site}"),
            Frame::Load { file, site } => format!("in {file}, loaded at {site}"),
        }
    }
}

/// What went wrong, by whose fault (see `rasp_core::ErrorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// The text is not a RASP statement.
    Syntax,
    /// Evaluation failed.
    Runtime(ErrorKind),
}

/// An error with its place and the calls and loads it happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Syntax, or which kind of evaluation error (whose fault it is).
    pub kind: DiagnosticKind,
    /// The reference's message, without its REPL decoration.
    pub message: String,
    /// Where it happened; `None` only when no text is to blame.
    pub location: Option<Location>,
    /// Innermost first: the function the failure is in, then its caller, ...
    pub call_chain: Vec<Frame>,
}

impl Diagnostic {
    /// Builds a diagnostic, tidying the reference's message for a person:
    /// one line, without its `Error: ` prefix (the header says `error:`).
    pub(crate) fn new(
        kind: DiagnosticKind,
        message: &str,
        location: Option<Location>,
        call_chain: Vec<Frame>,
    ) -> Diagnostic {
        let one_line = message.replace('\n', " ").replace('\t', "");
        let message = one_line.trim().strip_prefix("Error: ").unwrap_or(one_line.trim()).to_string();
        Diagnostic { kind, message, location, call_chain }
    }

    /// The diagnostic as rustc and ruff show theirs: a header, the place,
    /// the source line with carets under the span, then one note per frame
    /// (a frame repeated in a row, as in deep recursion, is shown once with
    /// a count). ANSI colours when `color`.
    pub fn render(&self, color: bool) -> String {
        let paint =
            |code: &str, text: &str| if color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() };
        let header = match self.kind {
            DiagnosticKind::Syntax => format!("cannot parse: {}", self.message),
            DiagnosticKind::Runtime(ErrorKind::Program | ErrorKind::Python) => self.message.clone(),
            DiagnosticKind::Runtime(ErrorKind::Unsupported) => format!("not supported: {}", self.message),
            DiagnosticKind::Runtime(ErrorKind::Internal) => {
                format!("internal error in rasp (please report): {}", self.message)
            }
        };
        let mut out = format!("{}{}\n", paint("1;31", "error"), paint("1", &format!(": {header}")));
        let gutter = self.location.as_ref().map_or(1, |at| at.line.to_string().len() + 1);
        let pad = " ".repeat(gutter);
        if let Some(at) = &self.location {
            let _ = writeln!(out, "{pad}{} {at}", paint("1;34", "-->"));
            let bar = paint("1;34", "|");
            let _ = writeln!(out, "{pad} {bar}");
            let number = paint("1;34", &at.line.to_string());
            let _ = writeln!(out, " {number} {bar} {}", expand_tabs(&at.line_text));
            // Tabs show as four spaces, so carets count them as four.
            let before: String = at.line_text.chars().take(at.column.saturating_sub(1)).collect();
            let indent = " ".repeat(expand_tabs(&before).chars().count());
            let carets = paint("1;31", &"^".repeat(at.width));
            let _ = writeln!(out, "{pad} {bar} {indent}{carets}");
        }
        let mut frames = self.call_chain.iter().peekable();
        while let Some(frame) = frames.next() {
            let mut repeats = 0;
            while frames.next_if(|next| *next == frame).is_some() {
                repeats += 1;
            }
            let more = if repeats > 0 { format!(" (and {repeats} more times)") } else { String::new() };
            let _ =
                writeln!(out, "{pad} {} {}{more}", paint("1;34", "="), paint("1", &format!("note: {}", frame.note())));
        }
        out
    }
}

fn expand_tabs(text: &str) -> String {
    text.replace('\t', "    ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A statement late in a file, over two lines, one of them a comment:
    /// places on its lines get the file's line numbers and columns, from the
    /// line numbers the chunk keeps (no count of the text before it).
    #[test]
    fn locates_places_late_in_a_file() {
        let earlier = "x = 1;\n".repeat(1000);
        let statement = ["y = select(indices,\n", "# a comment\n", "   indices, ==);\n"];
        let text = format!("{earlier}{}", statement.concat());
        let mut reader = ChunkReader::default();
        let mut offset = earlier.len();
        for (number, line) in statement.iter().enumerate() {
            reader.push_line(line, offset, 1000 + number);
            offset += line.len();
            if number == 0 {
                reader.continue_statement();
            }
        }
        let chunk = reader.text.clone();
        let source = reader.take_source(&Rc::from("prog.rasp"), &Rc::from(text.as_str()), 1);
        let second = chunk.rfind("indices").expect("in the chunk");
        let at = source.locate(Span::new(second, second + "indices".len()));
        assert_eq!((at.line, at.column, at.width), (1003, 4, 7));
        assert_eq!(at.line_text, "   indices, ==);");
        let first = chunk.find("select").expect("in the chunk");
        let at = source.locate(Span::new(first, first + "select".len()));
        assert_eq!((at.line, at.column, at.line_text.as_str()), (1001, 5, "y = select(indices,"));
    }

    /// Renders a diagnostic of `kind` saying `Error: boom` at `span` of
    /// `text` (read as one chunk).
    fn check(text: &str, span: Span, kind: DiagnosticKind, chain: Vec<Frame>, expected: &str) {
        let mut reader = ChunkReader::default();
        let mut offset = 0;
        for (number, line) in text.split_inclusive('\n').enumerate() {
            reader.push_line(line, offset, number);
            offset += line.len();
        }
        let source = reader.take_source(&Rc::from("prog.rasp"), &Rc::from(text), 1);
        let at = source.locate(span);
        let diagnostic = Diagnostic::new(kind, "Error: boom", Some(at), chain);
        assert_eq!(diagnostic.render(false), expected);
    }

    #[test]
    fn carets_stop_at_the_end_of_the_first_line() {
        check(
            "x = 1;\ny = (2 +\n  3);\n",
            Span::new(11, 20),
            DiagnosticKind::Runtime(ErrorKind::Program),
            vec![],
            concat!("error: boom\n", "  --> prog.rasp:2:5\n", "   |\n", " 2 | y = (2 +\n", "   |     ^^^^\n",),
        );
    }

    #[test]
    fn columns_count_characters_and_tabs_show_as_spaces() {
        check(
            "\tx = \"é\" + 1;\n",
            Span::new(5, 13),
            DiagnosticKind::Runtime(ErrorKind::Python),
            vec![],
            concat!(
                "error: boom\n",
                "  --> prog.rasp:1:6\n",
                "   |\n",
                " 1 |     x = \"é\" + 1;\n",
                "   |         ^^^^^^^\n",
            ),
        );
    }

    #[test]
    fn repeated_frames_are_counted_not_listed() {
        let site = |column| Location {
            file: "prog.rasp".to_string(),
            line: 3,
            column,
            span: Span::new(0, 1),
            line_text: String::new(),
            width: 1,
        };
        let call = |column| Frame::Call { function: "f".to_string(), site: site(column) };
        check(
            "f(1);\n",
            Span::new(0, 4),
            DiagnosticKind::Runtime(ErrorKind::Program),
            vec![call(20), call(20), call(20), call(1)],
            concat!(
                "error: boom\n",
                "  --> prog.rasp:1:1\n",
                "   |\n",
                " 1 | f(1);\n",
                "   | ^^^^\n",
                "   = note: in f(...), called at prog.rasp:3:20 (and 2 more times)\n",
                "   = note: in f(...), called at prog.rasp:3:1\n",
            ),
        );
    }

    #[test]
    fn an_internal_error_is_worded_as_a_bug_in_rasp() {
        check(
            "x = y;\n",
            Span::new(4, 5),
            DiagnosticKind::Runtime(ErrorKind::Internal),
            vec![],
            concat!(
                "error: internal error in rasp (please report): boom\n",
                "  --> prog.rasp:1:5\n",
                "   |\n",
                " 1 | x = y;\n",
                "   |     ^\n",
            ),
        );
    }

    #[test]
    fn unsupported_and_syntax_errors_say_so() {
        let expected = |header: &str| format!("error: {header}\n  --> prog.rasp:1:1\n   |\n 1 | x\n   | ^\n");
        let unsupported = DiagnosticKind::Runtime(ErrorKind::Unsupported);
        check("x", Span::new(0, 1), unsupported, vec![], &expected("not supported: boom"));
        check("x", Span::new(0, 1), DiagnosticKind::Syntax, vec![], &expected("cannot parse: boom"));
    }

    #[test]
    fn colours_wrap_the_parts_when_asked() {
        let at = Location {
            file: "p.rasp".to_string(),
            line: 1,
            column: 1,
            span: Span::new(0, 1),
            line_text: "x".to_string(),
            width: 1,
        };
        let diagnostic = Diagnostic::new(DiagnosticKind::Runtime(ErrorKind::Program), "boom", Some(at), vec![]);
        let coloured = diagnostic.render(true);
        assert!(coloured.starts_with("\x1b[1;31merror\x1b[0m\x1b[1m: boom\x1b[0m\n"), "{coloured:?}");
        assert!(coloured.contains("\x1b[1;31m^\x1b[0m"), "{coloured:?}");
    }
}
