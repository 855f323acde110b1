//! Values of the surface language: atoms, lists, dicts, references to graph
//! nodes (s-ops and selectors) and functions. Lists and dicts are immutable
//! once built (RASP has no mutation), so they are shared behind `Rc`.

use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::graph::NodeId;
use crate::pyfmt;
use crate::pyops::{self, ArithOp, AtomKey, CmpOp};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::rc::Rc;

/// A function value. Defined by the interpreter; the core only needs to show it.
pub trait Callable: fmt::Debug {
    /// The function's own name (`f`), as given at its definition.
    fn name(&self) -> &str;
    /// How the REPL shows it: `console function: f(a, b)`.
    fn describe(&self) -> String;
    /// For downcasting in the interpreter.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A value of the surface language: what a name can be bound to, what an
/// expression evaluates to, and what a graph constant holds. Cloning is
/// cheap (lists, dicts and functions are shared).
#[derive(Debug, Clone)]
pub enum Value {
    /// A bool, int, float or str.
    Atom(Atom),
    /// A Python list (immutable in RASP).
    List(Rc<Vec<Value>>),
    /// A Python dict with atom keys.
    Dict(Rc<Dict>),
    /// An s-op: a node of the session's graph (the reference's
    /// `UnfinishedSequence`).
    Sop(NodeId),
    /// A selector: a node of the session's graph (`UnfinishedSelect`).
    Selector(NodeId),
    /// A function defined with `def` (the interpreter's own type).
    Function(Rc<dyn Callable>),
    /// A Python object the reference lets escape into expressions with no
    /// meaning in RASP (the `JustVal` wrapper of an application's result);
    /// it only has a type name, for Python's error messages.
    Opaque(&'static str),
}

/// A Python dict with atom keys: insertion order, Python key equality
/// (`{1: "a", True: "b"}` is `{1: 'b'}`: the first key stays, the value is replaced).
#[derive(Debug, Clone, Default)]
pub struct Dict {
    entries: Vec<(Atom, Value)>,
    index: HashMap<AtomKey, usize>,
}

impl Dict {
    /// An empty dict.
    pub fn new() -> Dict {
        Dict::default()
    }

    /// Python `d[key] = value`: a key equal to an existing one (`True` and
    /// `1`) replaces its value and keeps the first key and its position.
    pub fn insert(&mut self, key: Atom, value: Value) {
        match self.index.get(&AtomKey(key.clone())) {
            Some(&i) => self.entries[i].1 = value,
            None => {
                self.index.insert(AtomKey(key.clone()), self.entries.len());
                self.entries.push((key, value));
            }
        }
    }

    /// Python `d[key]` (by Python key equality), `None` if absent.
    pub fn get(&self, key: &Atom) -> Option<&Value> {
        self.index.get(&AtomKey(key.clone())).map(|&i| &self.entries[i].1)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dict has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries in insertion order, as Python iterates them.
    pub fn iter(&self) -> impl Iterator<Item = (&Atom, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The keys in insertion order.
    pub fn keys(&self) -> impl Iterator<Item = &Atom> {
        self.entries.iter().map(|(k, _)| k)
    }
}

impl Value {
    /// An int atom.
    pub fn int(v: i64) -> Value {
        Value::Atom(Atom::Int(v))
    }

    /// A bool atom.
    pub fn bool(v: bool) -> Value {
        Value::Atom(Atom::Bool(v))
    }

    /// A str atom holding a copy of `s`.
    pub fn str(s: &str) -> Value {
        Value::Atom(Atom::str(s))
    }

    /// A list of `items`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// The atom, if this is one.
    pub fn as_atom(&self) -> Option<&Atom> {
        match self {
            Value::Atom(a) => Some(a),
            _ => None,
        }
    }

    /// Python's type name for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Atom(a) => a.type_name(),
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Sop(_) => "UnfinishedSequence",
            Value::Selector(_) => "UnfinishedSelect",
            Value::Function(_) => "RASPFunction",
            Value::Opaque(name) => name,
        }
    }

    /// Python truthiness. S-ops, selectors and functions are objects: true.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Atom(a) => pyops::truthy(a),
            Value::List(l) => !l.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            _ => true,
        }
    }

    /// `isinstance(v, Iterable)`: strings, lists and dicts.
    pub fn is_iterable(&self) -> bool {
        matches!(self, Value::Atom(Atom::Str(_)) | Value::List(_) | Value::Dict(_))
    }

    /// The elements Python's `for x in v` would give: characters of a
    /// string, items of a list, keys of a dict. `None` if not iterable.
    pub fn iter_elements(&self) -> Option<Vec<Value>> {
        match self {
            Value::Atom(Atom::Str(s)) => Some(s.chars().map(char_value).collect()),
            Value::List(l) => Some(l.as_ref().clone()),
            Value::Dict(d) => Some(d.keys().map(|k| Value::Atom(k.clone())).collect()),
            _ => None,
        }
    }

    /// Python `str(v)`. `names` shows graph nodes (the reference prints
    /// `UnfinishedSequence object, name: N id: I`).
    pub fn py_str(&self, names: &dyn NodeNames) -> String {
        match self {
            Value::Atom(a) => pyfmt::py_str(a),
            _ => self.py_repr(names),
        }
    }

    /// Python `repr(v)`, however long.
    pub fn py_repr(&self, names: &dyn NodeNames) -> String {
        let mut text = String::new();
        self.write_repr(&mut text, names, usize::MAX);
        text
    }

    /// Python `str(v)`, refused with a Python-kind error past
    /// [`MAX_DISPLAY_BYTES`]: for displays of values a program built, which
    /// can hold the same big list many times over (`[range(10000000)] * 30`).
    pub fn py_str_checked(&self, names: &dyn NodeNames) -> EvalResult<String> {
        let text = match self {
            Value::Atom(a) => pyfmt::py_str_checked(a)?,
            _ => {
                let mut text = String::new();
                if !self.write_repr(&mut text, names, MAX_DISPLAY_BYTES) {
                    return Err(EvalError::python(format!(
                        "value too large to display (over {MAX_DISPLAY_BYTES} characters)"
                    )));
                }
                text
            }
        };
        Ok(text)
    }

    /// Appends `repr(v)` to `text`, stopping (and returning false) once the
    /// text is longer than `limit`. Nested lists and dicts are walked with a
    /// stack of open containers instead of recursion, so any depth of
    /// nesting takes time linear in the text and no call stack.
    fn write_repr(&self, text: &mut String, names: &dyn NodeNames, limit: usize) -> bool {
        /// The items of a list or dict being written, and how far.
        enum Items<'v> {
            List(std::slice::Iter<'v, Value>),
            Dict(std::slice::Iter<'v, (Atom, Value)>),
        }
        /// An open list or dict: its remaining items, and whether one was
        /// written already (then the next needs a separator).
        struct Open<'v> {
            items: Items<'v>,
            written_any: bool,
        }
        let mut open: Vec<Open<'_>> = Vec::new();
        let mut next = Some(self);
        loop {
            if let Some(value) = next.take() {
                match value {
                    Value::List(items) => {
                        text.push('[');
                        open.push(Open { items: Items::List(items.iter()), written_any: false });
                    }
                    Value::Dict(dict) => {
                        text.push('{');
                        open.push(Open { items: Items::Dict(dict.entries.iter()), written_any: false });
                    }
                    Value::Atom(a) => text.push_str(&pyfmt::py_repr(a)),
                    Value::Sop(id) => {
                        let _ = write!(text, "UnfinishedSequence object, name: {} id: {}", names.node_name(*id), id.0);
                    }
                    Value::Selector(id) => {
                        let _ = write!(text, "UnfinishedSelect object, name: {} id: {}", names.node_name(*id), id.0);
                    }
                    Value::Function(f) => {
                        let _ = write!(text, "<RASPFunction {}>", f.name());
                    }
                    Value::Opaque(name) => {
                        let _ = write!(text, "<{name} object>");
                    }
                }
            }
            if text.len() > limit {
                return false;
            }
            // The next item of the innermost open container, or close it.
            let Some(container) = open.last_mut() else {
                return true;
            };
            let separator = if container.written_any { ", " } else { "" };
            container.written_any = true;
            match &mut container.items {
                Items::List(items) => match items.next() {
                    Some(item) => {
                        text.push_str(separator);
                        next = Some(item);
                    }
                    None => {
                        text.push(']');
                        open.pop();
                    }
                },
                Items::Dict(entries) => match entries.next() {
                    Some((key, item)) => {
                        text.push_str(separator);
                        text.push_str(&pyfmt::py_repr(key));
                        text.push_str(": ");
                        next = Some(item);
                    }
                    None => {
                        text.push('}');
                        open.pop();
                    }
                },
            }
        }
    }
}

/// Most items a list may have (Python would try to allocate any size).
pub const MAX_LIST_LEN: usize = 10_000_000;

/// Longest display of a list or dict, in bytes ([`Value::py_str_checked`]).
pub const MAX_DISPLAY_BYTES: usize = 100_000_000;

/// Anything that can tell a node's current display name: the
/// [`Graph`](crate::Graph), or a stand-in for code that shows values
/// without one.
/// Displays of s-op and selector values print it.
pub trait NodeNames {
    /// Node `id`'s display name.
    fn node_name(&self, id: NodeId) -> String;
}

fn unsupported(op: ArithOp, a: &Value, b: &Value) -> EvalError {
    // Python names `pow` in this message as the operator and the builtin.
    let op = if op == ArithOp::Pow { "** or pow()" } else { op.symbol() };
    EvalError::python(format!("unsupported operand type(s) for {}: '{}' and '{}'", op, a.type_name(), b.type_name()))
}

/// Python's binary arithmetic on two values that are not s-ops or
/// selectors: atoms delegate to `pyops`, lists concatenate and repeat.
pub fn value_arith(op: ArithOp, a: &Value, b: &Value) -> EvalResult<Value> {
    match (a, b) {
        (Value::Atom(x), Value::Atom(y)) => pyops::arith(op, x, y).map(Value::Atom),
        // A str on the left is a Python sequence: its own rules speak first.
        (Value::Atom(Atom::Str(_)), other) if op == ArithOp::Add => {
            Err(EvalError::python(format!("can only concatenate str (not \"{}\") to str", other.type_name())))
        }
        (Value::Atom(Atom::Str(_)), other) if op == ArithOp::Mul => {
            Err(EvalError::python(format!("can't multiply sequence by non-int of type '{}'", other.type_name())))
        }
        (Value::List(x), Value::List(y)) if op == ArithOp::Add => {
            if x.len().saturating_add(y.len()) > MAX_LIST_LEN {
                return Err(EvalError::python(format!(
                    "list concatenation result too large (over {MAX_LIST_LEN} items)"
                )));
            }
            let mut items = x.as_ref().clone();
            items.extend(y.iter().cloned());
            Ok(Value::list(items))
        }
        (Value::List(x), other) if op == ArithOp::Add => {
            Err(EvalError::python(format!("can only concatenate list (not \"{}\") to list", other.type_name())))
        }
        (Value::List(l), Value::Atom(n)) | (Value::Atom(n), Value::List(l)) if op == ArithOp::Mul => {
            let times = repeat_count(n, l.len(), if matches!(a, Value::List(_)) { b } else { a })?;
            let mut items = Vec::with_capacity(l.len() * times);
            for _ in 0..times {
                items.extend(l.iter().cloned());
            }
            Ok(Value::list(items))
        }
        (Value::List(_), other) | (other, Value::List(_)) if op == ArithOp::Mul => {
            Err(EvalError::python(format!("can't multiply sequence by non-int of type '{}'", other.type_name())))
        }
        _ => Err(unsupported(op, a, b)),
    }
}

fn repeat_count(n: &Atom, unit: usize, shown: &Value) -> EvalResult<usize> {
    let count = match n {
        Atom::Bool(b) => i64::from(*b),
        Atom::Int(i) => *i,
        Atom::BigInt(_) => {
            return Err(EvalError::python("cannot fit 'int' into an index-sized integer"));
        }
        _ => {
            return Err(EvalError::python(format!(
                "can't multiply sequence by non-int of type '{}'",
                shown.type_name()
            )));
        }
    };
    let count = usize::try_from(count.max(0)).unwrap_or(0);
    if count.saturating_mul(unit.max(1)) > MAX_LIST_LEN {
        return Err(EvalError::python(format!("list repetition result too large (over {MAX_LIST_LEN} items)")));
    }
    Ok(count)
}

/// Python `==` between plain values, as a truth value. Selectors and
/// functions compare by identity; `==` with an s-op builds an s-op, which is
/// truthy, so it counts as equal (`"l" in [0, tokens]` is True in the reference).
pub(crate) fn value_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Sop(_), _) | (_, Value::Sop(_)) => true,
        (Value::Atom(x), Value::Atom(y)) => pyops::py_eq(x, y),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| value_eq(p, q)),
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| value_eq(v, w)))
        }
        (Value::Selector(x), Value::Selector(y)) => x == y,
        (Value::Function(x), Value::Function(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// Python's comparison operators between plain values.
pub fn value_compare(op: CmpOp, a: &Value, b: &Value) -> EvalResult<bool> {
    match op {
        CmpOp::Eq => return Ok(value_eq(a, b)),
        CmpOp::Ne => return Ok(!value_eq(a, b)),
        _ => {}
    }
    match (a, b) {
        (Value::Atom(x), Value::Atom(y)) => pyops::compare(op, x, y),
        (Value::List(x), Value::List(y)) => {
            // Lexicographic, as Python: the first unequal pair decides.
            for (p, q) in x.iter().zip(y.iter()) {
                if !value_eq(p, q) {
                    return value_compare(op, p, q);
                }
            }
            let (lx, ly) = (x.len(), y.len());
            Ok(match op {
                CmpOp::Lt => lx < ly,
                CmpOp::Le => lx <= ly,
                CmpOp::Gt => lx > ly,
                _ => lx >= ly,
            })
        }
        _ => Err(EvalError::python(format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        ))),
    }
}

/// Python's `x in container` for a list (by `==`).
pub fn list_contains(list: &[Value], x: &Value) -> bool {
    list.iter().any(|v| value_eq(v, x))
}

thread_local! {
    /// The one-character strings of ASCII, made once per thread.
    static ASCII: Vec<Value> = (0..128u8).map(|b| Value::str(char::from(b).encode_utf8(&mut [0; 4]))).collect();
}

/// The one-character string `c` as a value. ASCII characters share one
/// allocation per thread: a long input over a few letters is then a few
/// allocations instead of one per position, and the evaluators see equal
/// tokens as one pointer.
pub(crate) fn char_value(c: char) -> Value {
    ASCII.with(|ascii| ascii.get(c as usize).cloned()).unwrap_or_else(|| Value::str(c.encode_utf8(&mut [0; 4])))
}

/// The characters of `s` as one-character strings, appended to `out`, as
/// [`char_value`] makes them (the thread's table is looked up once).
pub(crate) fn push_char_values(s: &str, out: &mut Vec<Value>) {
    ASCII.with(|ascii| {
        out.extend(
            s.chars().map(|c| ascii.get(c as usize).cloned().unwrap_or_else(|| Value::str(c.encode_utf8(&mut [0; 4])))),
        )
    })
}
