//! Atoms: the values one position of an s-op can hold, with the semantics of
//! the Python values the reference computes with (semantics.md §2.1, §2.4).

use num_bigint::BigInt;
use std::rc::Rc;

/// A Python `bool`, `int`, `float` or `str`.
///
/// Ints are arbitrary precision like Python's: `Int` holds every value that
/// fits an i64, `BigInt` only values that do not (the constructors in
/// `pyops` keep that normal form, so equal ints always have equal variants).
/// Build a big int with [`Atom::from_bigint`], never `Atom::BigInt` directly.
///
/// Cloning is cheap: strings and big ints are shared behind `Rc` (which is
/// also why atoms stay on one thread; see [`crate::OwnedAtom`]).
#[derive(Debug, Clone)]
pub enum Atom {
    /// Python `True` / `False`. Bools are ints in Python arithmetic and
    /// comparisons (`True + 1 == 2`), but keep their type in sequences.
    Bool(bool),
    /// An int that fits an i64.
    Int(i64),
    /// An int that does not fit an i64 (never one that does).
    BigInt(Rc<BigInt>),
    /// A Python float (IEEE double; NaN and the infinities included).
    Float(f64),
    /// A Python str (Unicode text; RASP strings are usually one character).
    Str(Rc<str>),
}

impl Atom {
    /// A `str` atom holding a copy of `s`.
    pub fn str(s: &str) -> Atom {
        Atom::Str(Rc::from(s))
    }

    /// An int atom in normal form: `Int` if the value fits an i64, else
    /// `BigInt`.
    pub fn from_bigint(v: BigInt) -> Atom {
        match i64::try_from(&v) {
            Ok(small) => Atom::Int(small),
            Err(_) => Atom::BigInt(Rc::new(v)),
        }
    }

    /// Python's type name, as used in its error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Atom::Bool(_) => "bool",
            Atom::Int(_) | Atom::BigInt(_) => "int",
            Atom::Float(_) => "float",
            Atom::Str(_) => "str",
        }
    }

    /// `isinstance(v, int)` — true for bools too, as in Python.
    pub fn is_int_like(&self) -> bool {
        matches!(self, Atom::Bool(_) | Atom::Int(_) | Atom::BigInt(_))
    }

    /// `isinstance(v, (int, float))` — bools count, as in Python.
    pub fn is_number(&self) -> bool {
        !matches!(self, Atom::Str(_))
    }
}
