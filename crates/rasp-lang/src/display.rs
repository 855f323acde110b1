//! The reference's print formats (semantics.md §3), byte for byte. Python's
//! `print(a, b)` joins with single spaces; the layouts below spell that out.

use crate::session::Session;
use rasp_core::pyfmt;
use rasp_core::pyops::{self, AtomKey};
use rasp_core::{Atom, EvalError, EvalResult, NodeValue, SelectorMatrix, Sequence, Value};
use std::fmt::Write;

/// How the REPL shows a selector cell that the attention mask hides
/// (semantics.md §6): neither `1` nor the blank of an unselected cell.
pub const MASKED_CELL: &str = "·";

/// A sequence as the REPL prints it (semantics.md §3.1): `[v1, v2] (TYPEs)`,
/// or `[v]*n (TYPEs)` when all n > 1 values are equal under Python equality
/// (`1 == 1.0 == True`). The text after `\t =  ` when an s-op is applied at
/// the REPL; for front ends that show a [`rasp_core::Sequence`] the same way.
pub fn sequence_text(seq: &Sequence) -> String {
    let values = &seq.values;
    let body = if values.len() > 1 && all_equal(values) {
        format!("[{}]*{}", pyfmt::small_str(&values[0]), values.len())
    } else {
        // One string for the whole list: a million positions print without
        // a million small strings (a string shows as itself).
        let mut text = String::with_capacity(values.len() * 3 + 2);
        text.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            match v {
                Atom::Str(s) => text.push_str(s),
                other => text.push_str(&pyfmt::small_str(other)),
            }
        }
        text.push(']');
        text
    };
    format!("{} ({}s)", body, seq.seq_type.name())
}

/// Python's `len(set(values)) == 1`.
fn all_equal(values: &[Atom]) -> bool {
    let first = AtomKey(values[0].clone());
    values.iter().all(|v| AtomKey(v.clone()) == first && pyops::py_eq(v, &values[0]))
}

/// The reference's `formatstr`: strings in double quotes, the rest as Python `str`.
/// Fails on a display past `MAX_DISPLAY_BYTES`.
pub(crate) fn formatstr(v: &Value, session: &Session) -> EvalResult<String> {
    match v {
        Value::Atom(Atom::Str(s)) => Ok(format!("\"{s}\"")),
        other => other.py_str_checked(&session.graph),
    }
}

impl Session {
    /// Text of a value, in the reference's value colour when colours are on.
    fn val(&self, text: &str) -> String {
        if self.colors { format!("\x1b[36m{text}\x1b[0m") } else { text.to_string() }
    }

    /// Text of a label, in the reference's general (dark grey) colour.
    fn label(&self, text: &str) -> String {
        if self.colors { format!("\x1b[90m{text}\x1b[0m") } else { text.to_string() }
    }

    /// An item of a nested list or dict: `print_named_val` calling itself,
    /// one more Python frame deep, so lists nested past Python's recursion
    /// limit fail as the reference's print does (instead of printing a
    /// quadratic number of tabs, or overflowing the stack).
    fn print_nested(&mut self, name: Option<&str>, value: &Value, ntabs: usize, extra: &str) -> EvalResult<()> {
        if self.py_frames + 1 > crate::interp::PY_RECURSION_LIMIT {
            return Err(EvalError::python("maximum recursion depth exceeded while getting the repr of an object"));
        }
        self.py_frames += 1;
        let printed = self.print_named_val(name, value, ntabs, extra);
        self.py_frames -= 1;
        printed
    }

    /// `print_named_val` (semantics.md §3.2). Writes as it goes: an evaluation
    /// failure part-way leaves what was printed, like the reference.
    pub(crate) fn print_named_val(
        &mut self,
        name: Option<&str>,
        value: &Value,
        ntabs: usize,
        extra: &str,
    ) -> EvalResult<()> {
        let pref = "\t".repeat(ntabs);
        match value {
            Value::Sop(id) => {
                let shown = name.map(str::to_string).unwrap_or_else(|| self.graph.name(*id).to_string());
                self.write(&format!("{}\n", self.label(&format!("{pref} {extra}    s-op: {shown}"))));
                if self.show_sop_examples {
                    let example = self.sop_example.clone();
                    let desc = format!("{shown}({}) =", formatstr(&example, self)?);
                    if self.verbose {
                        self.write(&format!("{pref} \t Example:"));
                        let result = self.call_node(*id, &example)?;
                        let seq = result.as_seq().cloned();
                        if let Some(seq) = seq {
                            let input = self.sel_example.clone();
                            self.print_seq_verbose(&input, &seq, &pref, &desc);
                        }
                    } else {
                        let result = self.call_node(*id, &example)?;
                        if let NodeValue::Seq(seq) = result {
                            self.write(&format!(
                                "{} {}\n",
                                self.label(&format!("{pref} \t Example: {desc}")),
                                self.val(&sequence_text(&seq))
                            ));
                        }
                    }
                }
            }
            Value::Selector(id) => {
                let shown = name.map(str::to_string).unwrap_or_else(|| self.graph.name(*id).to_string());
                self.write(&format!("{}\n", self.label(&format!("{pref} {extra}    selector: {shown}"))));
                if self.show_sel_examples {
                    self.write(&format!("{pref} \t Example:\n"));
                    let example = self.sel_example.clone();
                    let result = self.call_node(*id, &example)?;
                    if let NodeValue::Sel(m) = result {
                        self.print_select(&example, &m, &pref);
                    }
                }
            }
            Value::Function(f) => {
                self.write(&format!("{}\n", self.label(&format!("{pref} {extra}    {}", f.describe()))));
            }
            Value::List(items) => {
                let named = format!("   list: {}", name.map(|n| format!("{n} = ")).unwrap_or_default());
                self.write(&format!("{pref} {extra} {named}"));
                if items.iter().all(is_flat) {
                    let text = value.py_str_checked(&self.graph)?;
                    self.write_display(&format!("{}\n", self.val(&text)))?;
                } else {
                    self.write(&format!("{pref} [\n"));
                    for item in items.iter() {
                        self.print_nested(None, item, ntabs + 2, "")?;
                    }
                    self.write(&format!("{pref}{}]\n", " ".repeat(named.chars().count() + 2)));
                }
            }
            Value::Dict(d) => {
                let named = format!("   dict: {}", name.map(|n| format!("{n} = ")).unwrap_or_default());
                self.write(&format!("{pref} {extra} {named}"));
                if d.iter().all(|(_, v)| is_flat(v)) {
                    let text = value.py_str_checked(&self.graph)?;
                    self.write_display(&format!("{}\n", self.val(&text)))?;
                } else {
                    self.write(&format!("{pref} {{\n"));
                    let entries: Vec<(Atom, Value)> = d.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    for (k, v) in entries {
                        let key = formatstr(&Value::Atom(k), self)?;
                        self.print_nested(None, &v, ntabs + 3, &format!("{key} : "))?;
                    }
                    self.write(&format!("{pref}{}}}\n", " ".repeat(named.chars().count() + 2)));
                }
            }
            Value::Atom(_) | Value::Opaque(_) => {
                let named = name.map(|n| format!("{n} = ")).unwrap_or_default();
                let text = formatstr(value, self)?;
                let line = format!("{} {}\n", self.label(&format!("{pref}    value: {named}")), self.val(&text));
                self.write_display(&line)?;
            }
        }
        Ok(())
    }

    /// The result of an application or a draw: `\t =  [..] (TYPEs)`, or a grid.
    pub(crate) fn print_applied(&mut self, value: &NodeValue, input: &Value) {
        match value {
            NodeValue::Sel(m) => {
                self.write("\t = \n");
                self.print_select(input, m, "");
            }
            NodeValue::Seq(seq) if self.verbose => {
                self.write("\t = ");
                self.print_seq_verbose(input, seq, "", "");
            }
            NodeValue::Seq(seq) => {
                let text = sequence_text(seq);
                self.write(&format!("\t =  {}\n", self.val(&text)));
            }
        }
    }

    /// `print_select`: the example along the top, one row per query.
    pub(crate) fn print_select(&mut self, example: &Value, matrix: &SelectorMatrix, extra_pref: &str) {
        let elements: Vec<String> =
            example.iter_elements().unwrap_or_default().iter().map(|v| v.py_str(&self.graph)).collect();
        self.write(&format!("{extra_pref} \t\t\t     {}\n", self.val(&elements.join(" "))));
        // Under an attention mask (semantics.md §6) the cells a query may
        // not see show `MASKED_CELL`, so a blank always means "visible, not
        // selected". Bidirectional grids are the reference's.
        let mask = self.evaluator.mask();
        for (q, label) in elements.iter().enumerate().take(matrix.len()) {
            let cells: Vec<&str> = (0..matrix.len())
                .map(|k| match (matrix.get(q, k), mask.allows(q, k)) {
                    (true, _) => "1",
                    (false, true) => " ",
                    (false, false) => MASKED_CELL,
                })
                .collect();
            self.write(&format!("{extra_pref} \t\t\t {} | {}\n", self.val(label), self.val(&cells.join(" "))));
        }
    }

    /// Verbose mode (`full seq display on`, semantics.md §3.2): input and output
    /// rows, right-aligned; identical values get the short form.
    fn print_seq_verbose(&mut self, example: &Value, seq: &Sequence, extra_pref: &str, desc: &str) {
        let values = &seq.values;
        if all_equal(values) {
            let text = sequence_text(seq);
            self.write(&format!(" {desc} {} [skipped full display: identical values]\n", self.val(&text)));
            return;
        }
        self.write("\n");
        let example_values = example.iter_elements().unwrap_or_default();
        // The reference labels the input row after turning it into strings,
        // so it always reads `(strings)`.
        let input_cells = clean_bools_values(&example_values, self);
        let input_type = "string";
        let output_atoms: Vec<Value> = values.iter().cloned().map(Value::Atom).collect();
        let output_cells = clean_bools_values(&output_atoms, self);
        let width = input_cells.iter().chain(&output_cells).map(|s| s.chars().count()).max().unwrap_or(0);
        let neat = |cells: &[String]| -> String {
            cells
                .iter()
                .map(|c| format!("{}{}", " ".repeat(width - c.chars().count()), c))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let (input_line, output_line) = (neat(&input_cells), neat(&output_cells));
        let mut text = String::new();
        let _ = writeln!(text, "{extra_pref} \t\tinput:   {input_line} \t ({input_type}s)");
        let _ = writeln!(text, "{extra_pref} \t\toutput:  {output_line} \t ({}s)", seq.seq_type.name());
        self.write(&text);
    }
}

/// The reference's `cleanboolslist`: if the first value is a bool, show only
/// the less frequent truth value (`T`/`F`), both on a tie.
fn clean_bools_values(values: &[Value], session: &Session) -> Vec<String> {
    if let Some(Value::Atom(Atom::Bool(_))) = values.first() {
        let is = |v: &Value, b: bool| matches!(v, Value::Atom(a) if pyops::py_eq(a, &Atom::Bool(b)));
        let trues = values.iter().filter(|v| is(v, true)).count();
        let falses = values.iter().filter(|v| is(v, false)).count();
        let t = if trues <= falses { "T" } else { "" };
        let f = if falses <= trues { "F" } else { "" };
        return values.iter().map(|v| if v.truthy() { t } else { f }.to_string()).collect();
    }
    values.iter().map(|v| v.py_str(&session.graph)).collect()
}

/// A list element that prints inside Python's flat list repr.
fn is_flat(v: &Value) -> bool {
    !matches!(v, Value::List(_) | Value::Dict(_) | Value::Sop(_) | Value::Selector(_))
}
