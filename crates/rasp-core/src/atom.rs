//! Atoms: the values one position of an s-op can hold, with the semantics of
//! the Python values the reference computes with (semantics.md §2.1, §2.4).

use num_bigint::BigInt;
use std::rc::Rc;

/// A Python `bool`, `int`, `float` or `str`.
///
/// Ints are arbitrary precision like Python's: `Int` holds every value that
/// fits an i64, `BigInt` only values that do not (the constructors in
/// `pyops` keep that normal form, so equal ints always have equal variants).
#[derive(Debug, Clone)]
pub enum Atom {
    Bool(bool),
    Int(i64),
    BigInt(Rc<BigInt>),
    Float(f64),
    Str(Rc<str>),
}

impl Atom {
    pub fn str(s: &str) -> Atom {
        Atom::Str(Rc::from(s))
    }

    /// Normal form for an arbitrary-precision int.
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
