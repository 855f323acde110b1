//! Values between Python and RASP. Inputs and outputs cross to and from the
//! interpreter thread as plain data (RASP values hold `Rc`s); they become
//! RASP values or Python objects on the side that uses them.

use crate::to_py_err;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};
use rasp::{Atom, Error, ErrorKind, Scalar, Value};

/// One element of an input list.
#[derive(Debug, Clone)]
pub enum PlainAtom {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

/// An input: a Python `str` (one token per character) or a list or tuple
/// of atoms (`str`, `int`, `float`, `bool`).
#[derive(Debug, Clone)]
pub enum PlainInput {
    Str(String),
    List(Vec<PlainAtom>),
}

fn input_error(py: Python<'_>, message: String) -> PyErr {
    to_py_err(py, &Error::new(ErrorKind::Input, message))
}

impl PlainInput {
    pub fn from_python(py: Python<'_>, input: &Bound<'_, PyAny>) -> PyResult<PlainInput> {
        if let Ok(text) = input.cast::<PyString>() {
            return Ok(PlainInput::Str(text.to_cow()?.into_owned()));
        }
        let items: Vec<Bound<'_, PyAny>> = if let Ok(list) = input.cast::<PyList>() {
            list.iter().collect()
        } else if let Ok(tuple) = input.cast::<PyTuple>() {
            tuple.iter().collect()
        } else {
            let kind = input.get_type().name()?;
            return Err(input_error(py, format!("an input is a str or a list of atoms, got {kind}")));
        };
        let atoms = items
            .iter()
            .enumerate()
            .map(|(position, item)| PlainAtom::from_python(py, item, position))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PlainInput::List(atoms))
    }

    /// The RASP value (on the interpreter's thread).
    pub fn to_value(&self) -> Value {
        match self {
            PlainInput::Str(text) => Value::str(text),
            PlainInput::List(atoms) => Value::list(atoms.iter().map(|a| Value::Atom(a.to_atom())).collect()),
        }
    }
}

impl PlainAtom {
    fn from_python(py: Python<'_>, item: &Bound<'_, PyAny>, position: usize) -> PyResult<PlainAtom> {
        // bool before int: Python's bools are ints.
        if let Ok(b) = item.cast::<PyBool>() {
            return Ok(PlainAtom::Bool(b.is_true()));
        }
        if item.cast::<PyInt>().is_ok() {
            return match item.extract::<i64>() {
                Ok(v) => Ok(PlainAtom::Int(v)),
                Err(_) => Err(input_error(py, format!("input element {position} does not fit in 64 bits"))),
            };
        }
        if let Ok(f) = item.cast::<PyFloat>() {
            return Ok(PlainAtom::Float(f.value()));
        }
        if let Ok(s) = item.cast::<PyString>() {
            return Ok(PlainAtom::Str(s.to_cow()?.into_owned()));
        }
        let kind = item.get_type().name()?;
        Err(input_error(py, format!("input element {position} is a {kind}; elements are str, int, float or bool")))
    }

    fn to_atom(&self) -> Atom {
        match self {
            PlainAtom::Bool(b) => Atom::Bool(*b),
            PlainAtom::Int(v) => Atom::Int(*v),
            PlainAtom::Float(v) => Atom::Float(*v),
            PlainAtom::Str(s) => Atom::str(s),
        }
    }
}

/// A value going to Python: an atom of a sequence, or a decoded output.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Bool(bool),
    Int(i64),
    /// An int beyond 64 bits, in decimal.
    BigInt(String),
    Float(f64),
    Str(String),
}

impl Out {
    pub fn from_atom(atom: &Atom) -> Out {
        match atom {
            Atom::Bool(b) => Out::Bool(*b),
            Atom::Int(v) => Out::Int(*v),
            Atom::BigInt(v) => Out::BigInt(v.to_string()),
            Atom::Float(v) => Out::Float(*v),
            Atom::Str(s) => Out::Str(s.to_string()),
        }
    }

    pub fn from_scalar(scalar: &Scalar) -> Out {
        match scalar {
            Scalar::Bool(b) => Out::Bool(*b),
            Scalar::Int(v) => Out::Int(*v),
            Scalar::Float(v) => Out::Float(*v),
            Scalar::Str(s) => Out::Str(s.clone()),
        }
    }

    pub fn to_python(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Out::Bool(b) => b.into_py_any(py),
            Out::Int(v) => v.into_py_any(py),
            Out::BigInt(digits) => Ok(py.import("builtins")?.getattr("int")?.call1((digits,))?.unbind()),
            Out::Float(v) => v.into_py_any(py),
            Out::Str(s) => s.into_py_any(py),
        }
    }
}
