//! The program's errors as the editor marks them: the message, the text the
//! CLI prints for it, and its place as line and column and as offsets the
//! editor understands. The one place that turns the interpreter's
//! diagnostics into places in the editor.

use rasp::Session;
use serde_json::{Value as Json, json};

/// One error in the editor's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What went wrong, on one line.
    pub message: String,
    /// The error as the CLI shows it: header, `--> program.rasp:L:C`, the
    /// line with carets, and the calls it happened in.
    pub rendered: String,
    /// 1-based line and column (in characters), when the error has a place.
    pub line_column: Option<(usize, usize)>,
    /// The span in UTF-16 code units of the program's text (JavaScript
    /// string offsets, as the editor counts), when the error has a place
    /// in that text (not in a `load`ed file).
    pub range: Option<(usize, usize)>,
}

impl Diagnostic {
    /// `{message, rendered, line, column, from, to}`; absent places are null.
    pub fn to_json(&self) -> Json {
        json!({
            "message": self.message,
            "rendered": self.rendered,
            "line": self.line_column.map(|(line, _)| line),
            "column": self.line_column.map(|(_, column)| column),
            "from": self.range.map(|(from, _)| from),
            "to": self.range.map(|(_, to)| to),
        })
    }
}

/// Takes the errors `session` reported while running `source` as
/// [`crate::PROGRAM_NAME`].
pub fn from_session(session: &mut Session, source: &str) -> Vec<Diagnostic> {
    session
        .take_diagnostics()
        .into_iter()
        .map(|diagnostic| {
            let place = diagnostic.location.as_ref();
            let in_program = place.filter(|at| at.file == crate::PROGRAM_NAME);
            Diagnostic {
                message: diagnostic.message.clone(),
                rendered: diagnostic.render(false),
                line_column: in_program.map(|at| (at.line, at.column)),
                range: in_program.map(|at| {
                    let from = utf16_offset(source, at.span.start);
                    // An empty span still marks one character.
                    (from, utf16_offset(source, at.span.end).max(from))
                }),
            }
        })
        .collect()
}

/// The UTF-16 offset of byte `offset` of `text` (clamped to the text, and
/// back to the start of a character it falls inside).
fn utf16_offset(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::utf16_offset;

    #[test]
    fn offsets_count_utf16_units() {
        let text = "a§😀b";
        assert_eq!(utf16_offset(text, 0), 0);
        assert_eq!(utf16_offset(text, 1), 1);
        // § is two bytes and one unit; 😀 four bytes and two units.
        assert_eq!(utf16_offset(text, 3), 2);
        assert_eq!(utf16_offset(text, 7), 4);
        assert_eq!(utf16_offset(text, 5), 2);
        assert_eq!(utf16_offset(text, 100), 5);
    }
}
