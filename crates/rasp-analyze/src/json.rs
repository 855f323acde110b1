//! A small JSON writer: values are built in the order they are printed, so
//! the key order is stable.

use rasp_core::{Atom, Value, pyfmt};

#[derive(Debug, Clone)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    /// A number already spelled as JSON.
    Number(String),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    pub fn object(fields: Vec<(&str, Json)>) -> Json {
        Json::Object(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn str(s: &str) -> Json {
        Json::Str(s.to_string())
    }

    pub fn count(n: usize) -> Json {
        Json::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// An atom as JSON; floats JSON cannot spell (inf, nan) as strings.
    pub fn atom(a: &Atom) -> Json {
        match a {
            Atom::Bool(b) => Json::Bool(*b),
            Atom::Int(i) => Json::Int(*i),
            Atom::BigInt(b) => Json::Number(b.to_string()),
            Atom::Float(f) if f.is_finite() => Json::Number(pyfmt::py_repr(a)),
            Atom::Float(_) => Json::Str(pyfmt::py_repr(a)),
            Atom::Str(s) => Json::Str(s.to_string()),
        }
    }

    /// A (default) value: atoms and lists as JSON, anything else as its
    /// Python repr.
    pub fn value(v: &Value, names: &dyn rasp_core::NodeNames) -> Json {
        match v {
            Value::Atom(a) => Json::atom(a),
            Value::List(items) => Json::Array(items.iter().map(|x| Json::value(x, names)).collect()),
            other => Json::Str(other.py_repr(names)),
        }
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Json::Array(_) | Json::Object(_))
    }

    /// Two-space indentation; arrays of scalars on one line.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => out.push_str(&i.to_string()),
            Json::Number(n) => out.push_str(n),
            Json::Str(s) => write_string(out, s),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Array(items) if items.iter().all(Json::is_scalar) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, indent);
                }
                out.push(']');
            }
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    push_indent(out, indent + 1);
                    item.write(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push(']');
            }
            Json::Object(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Object(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    push_indent(out, indent + 1);
                    write_string(out, key);
                    out.push_str(": ");
                    value.write(out, indent + 1);
                }
                out.push('\n');
                push_indent(out, indent);
                out.push('}');
            }
        }
    }
}

fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_layout() {
        let j = Json::object(vec![
            ("a", Json::Array(vec![Json::Int(1), Json::Int(2)])),
            ("b", Json::str("q\"\\\n\u{1}§")),
            ("c", Json::Array(vec![])),
            ("d", Json::Array(vec![Json::object(vec![("x", Json::Null)])])),
        ]);
        let expected = "{\n  \"a\": [1, 2],\n  \"b\": \"q\\\"\\\\\\n\\u0001§\",\n  \"c\": [],\n  \"d\": [\n    {\n      \"x\": null\n    }\n  ]\n}\n";
        assert_eq!(j.pretty(), expected);
    }
}
