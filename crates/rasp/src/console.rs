//! Reading a console line the way the `rasp` REPL does before it reaches
//! the session, for every front end with a prompt of its own.

/// `help` or `help NAME` typed at a fresh prompt (no semicolon, like the
/// other REPL commands): `Some(None)` asks for the overview,
/// `Some(Some(name))` for one name, `None` means the line is not a help
/// request (give it to the session). Answer with [`crate::help`].
pub fn help_request(line: &str) -> Option<Option<&str>> {
    let mut words = line.split_whitespace();
    if words.next() != Some("help") {
        return None;
    }
    match (words.next(), words.next()) {
        (None, _) => Some(None),
        (Some(topic), None) if !topic.ends_with(';') => Some(Some(topic)),
        (Some(_), _) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::help_request;

    #[test]
    fn help_lines() {
        assert_eq!(help_request("help"), Some(None));
        assert_eq!(help_request("  help sort "), Some(Some("sort")));
        assert_eq!(help_request("help(x);"), None);
        assert_eq!(help_request("help x;"), None);
        assert_eq!(help_request("help a b"), None);
        assert_eq!(help_request("x = 1;"), None);
    }
}
