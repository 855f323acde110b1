//! rasp-core: the graph IR of RASP programs, atom values with the Python
//! semantics of the reference (tech-srl/RASP 0.1), and evaluation.
//!
//! Input: graph nodes built by the interpreter (`rasp-lang`) or any other
//! front end, and inputs (sequences of values). Output: evaluated sequences
//! and selector matrices, bit-exact with the reference, or the error the
//! reference would raise. Invariants: pure (no IO, no printing, no global
//! state); nothing panics on user-influenced data; node ids are a
//! topological order.
//!
//! A front end builds a [`Graph`] of [`Node`]s (or lets `rasp-lang` build
//! it), then evaluates a node on an input with the plain [`Evaluator`] (the
//! oracle, memoised per input) or with the structured engine: a
//! [`FastEvaluator`] (memoised per input, as the REPL uses it) or, for many
//! inputs, a [`BatchEvaluator`] (planned once); the same results, selectors
//! never stored as n × n bits. Results are [`NodeValue`]s: a [`Sequence`] of
//! [`Atom`]s or a [`SelectorMatrix`]; failures are [`EvalError`]s typed by
//! whose fault they are ([`ErrorKind`]).
//!
//! # What is exported, and why
//!
//! The modules are private; the root exports the types a caller names.
//! Two groups of free functions stay in small public modules instead,
//! because they read better qualified and their names would be ambiguous at
//! the root (`round`, `neg`, `truthy`, `py_str`):
//!
//! * [`pyops`]: Python's operators as the reference applies them, on atoms
//!   (`pyops::arith`, `pyops::compare`, `pyops::round`, ...) and on plain
//!   values (`pyops::value_arith`, ...), with their documented limits;
//! * [`pyfmt`]: Python's printed forms of atoms (`pyfmt::py_str`,
//!   `pyfmt::py_repr`, ...) and the reference's own short forms.
//!
//! [`ArithOp`] and [`CmpOp`] are defined in `pyops` and also exported at
//! the root, because the graph IR carries them ([`MapOp::Arith`],
//! [`Predicate::mirrored_on_query`]); both paths name the same types.

#![warn(missing_docs)]

mod atom;
mod error;
mod eval;
mod fast;
mod graph;
mod library;
mod mask;
pub mod pyfmt;
pub mod pyops;
mod readable;
mod sequence;
mod value;

pub use atom::Atom;
pub use error::{ErrorKind, EvalError, EvalResult};
pub use eval::{Evaluator, MAX_INPUT_LEN, MAX_MATRIX_LEN, MAX_PLAIN_INPUT_LEN, NodeValue, check_input_len};
pub use fast::{
    BatchEvaluator, BatchInput, BatchStrategy, FastEvaluator, OwnedAtom, OwnedNodeValue, OwnedSequence, OwnedValue,
    same_result,
};
pub use graph::{AggregateParts, Graph, MapOp, Node, NodeId, NodeKind, Predicate, TokenConversion};
pub use library::{
    LibraryWidth, as_inverted_width, as_selects_first, is_indicator_of_first, is_select_at_zero, library_width,
};
pub use mask::AttentionMask;
pub use pyops::{ArithOp, CmpOp};
pub use readable::{ReadableNames, is_placeholder_name, readable_name};
pub use sequence::{SelectorMatrix, SeqType, Sequence};
pub use value::{Callable, Dict, MAX_DISPLAY_BYTES, MAX_LIST_LEN, NodeNames, Value};
