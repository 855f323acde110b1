//! Inputs and vocabularies given as text, read the same way by every front
//! end (`--input`, `--vocab`, a Python string, the playground's input box).

use crate::error::{Error, ErrorKind, Result};
use rasp_core::{Atom, Value};
use rasp_lang::Session;

/// An input as text: plain text is a string, one token per character. Text
/// starting with `[` or `"` is read as a RASP expression in `session`: a
/// list such as `[1, 2, 3]` or `["a", "b"]`, or a quoted string (`"[()]"`
/// for a string that starts with a bracket). The session is left as it was.
pub fn parse_input(session: &mut Session, text: &str) -> Result<Value> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('[') || trimmed.starts_with('"')) {
        return Ok(Value::str(text));
    }
    // `set example EXPR` evaluates EXPR exactly as the REPL reads
    // examples; the running example is restored right after.
    let before = session.sop_example.clone();
    let pending_output = session.take_output();
    session.feed_line(&format!("set example {trimmed}"));
    let incomplete = session.is_continuing();
    if incomplete {
        session.discard_pending();
    }
    let output = if incomplete { "the expression is incomplete".to_string() } else { session.take_output() };
    let value = std::mem::replace(&mut session.sop_example, before);
    session.restore_output(pending_output);
    if !output.trim().is_empty() {
        let reason = output.trim().trim_start_matches("!!ignoring input:").trim();
        return Err(Error::new(
            ErrorKind::Input,
            format!(
                "cannot read the input {text:?} as a RASP list or string: {reason}\n\
                 (for a string that starts with a bracket, quote it: '\"{trimmed}\"')"
            ),
        ));
    }
    match value {
        Value::List(_) | Value::Atom(Atom::Str(_)) => Ok(value),
        _ => Err(Error::new(ErrorKind::Input, format!("the input {text:?} is not a list or a string"))),
    }
}

/// A vocabulary as text: `a,b,c` is three tokens (trimmed, empty ones
/// dropped); text without commas is one token per character (`abcd`).
pub fn parse_vocab(text: &str) -> Vec<String> {
    if text.contains(',') {
        text.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
    } else {
        text.chars().map(|c| c.to_string()).collect()
    }
}

/// A model's input as text, read like every other input: text starting
/// with `[` or `"` is a RASP list or string (`["ab", "cd"]`), its elements'
/// text the tokens; plain text is split by [`split_word`].
pub fn parse_word(text: &str, vocab: &[String]) -> Result<Vec<String>> {
    let trimmed = text.trim();
    if !(trimmed.starts_with('[') || trimmed.starts_with('"')) {
        return Ok(split_word(text, vocab));
    }
    let mut session = Session::new(Box::new(rasp_lang::NoFiles));
    let value = parse_input(&mut session, text)?;
    let elements = value.iter_elements().unwrap_or_default();
    elements
        .iter()
        .map(|element| match element.as_atom() {
            Some(atom) => Ok(rasp_core::pyfmt::py_str(atom)),
            None => Err(Error::new(
                ErrorKind::Input,
                format!("the input {text:?} holds {}, not a token", element.py_str(&session.graph)),
            )),
        })
        .collect()
}

/// A word for a model with vocabulary `vocab`: one token per character when
/// every token is one character, else tokens separated by commas.
pub fn split_word(text: &str, vocab: &[String]) -> Vec<String> {
    if vocab.iter().all(|t| t.chars().count() == 1) {
        text.chars().map(String::from).collect()
    } else {
        text.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_vocab, parse_word, split_word};

    #[test]
    fn vocabularies() {
        assert_eq!(parse_vocab("a,b,c"), ["a", "b", "c"]);
        assert_eq!(parse_vocab("abc"), ["a", "b", "c"]);
        assert_eq!(parse_vocab("(,), {,}"), ["(", ")", "{", "}"]);
        assert_eq!(parse_vocab("one,two,,"), ["one", "two"]);
        assert_eq!(parse_vocab("§é"), ["§", "é"]);
    }

    #[test]
    fn words() {
        let letters = parse_vocab("abc");
        assert_eq!(split_word("cab", &letters), ["c", "a", "b"]);
        let words = parse_vocab("one,two");
        assert_eq!(split_word("two, one,two", &words), ["two", "one", "two"]);
    }

    #[test]
    fn words_as_rasp_lists_and_strings() {
        let words = parse_vocab("one,two");
        assert_eq!(parse_word("[\"two\", \"one\"]", &words), Ok(vec!["two".to_string(), "one".to_string()]));
        assert_eq!(parse_word("\"ab\"", &parse_vocab("ab")), Ok(vec!["a".to_string(), "b".to_string()]));
        assert_eq!(parse_word("[1, 2]", &words), Ok(vec!["1".to_string(), "2".to_string()]));
        assert!(parse_word("[tokens]", &words).is_err());
    }
}
