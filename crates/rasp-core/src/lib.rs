//! rasp-core: the graph IR of RASP programs, atom values with the Python
//! semantics of the reference (tech-srl/RASP 0.1), and evaluation.
//!
//! Input: graph nodes built by the interpreter (`rasp-lang`) or any other
//! front end, and inputs (sequences of values). Output: evaluated sequences
//! and selector matrices, bit-exact with the reference, or the error the
//! reference would raise. Invariants: pure (no IO, no printing, no global
//! state); nothing panics on user-influenced data; node ids are a
//! topological order.

pub mod atom;
pub mod error;
pub mod eval;
pub mod fast;
pub mod graph;
pub mod pyfmt;
pub mod pyops;
pub mod sequence;
pub mod value;

pub use atom::Atom;
pub use error::{ErrorKind, EvalError, EvalResult};
pub use eval::{Evaluator, NodeValue};
pub use fast::{BatchEvaluator, BatchInput, OwnedNodeValue, OwnedValue};
pub use graph::{Graph, MapOp, Node, NodeId, NodeKind, Predicate, TokenConversion};
pub use sequence::{SelectorMatrix, SeqType, Sequence};
pub use value::{Callable, Dict, Value};
