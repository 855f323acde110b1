//! Evaluated values: a sequence (one atom per position, of one type) and a
//! selector matrix (bit-packed, one row per query position).

use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::mask::AttentionMask;
use crate::value::{NodeNames, Value};

/// The type label the reference gives a sequence (semantics.md §2.1): the
/// first of str, bool, int, float that every value is an instance of, so a
/// bool/int mix is `Int` and an int/float mix is `Float`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqType {
    /// Every value is a str.
    Str,
    /// Every value is an int or a bool, not all bools.
    Int,
    /// Every value is a number, at least one a float.
    Float,
    /// Every value is a bool.
    Bool,
}

impl SeqType {
    /// `string`, `int`, `float`, `bool` (displays add an `s`).
    pub fn name(self) -> &'static str {
        match self {
            SeqType::Str => "string",
            SeqType::Int => "int",
            SeqType::Float => "float",
            SeqType::Bool => "bool",
        }
    }

    /// Whether the aggregate may average it: the reference's type check
    /// says "int" or "float" (a bool/int mix is "int", all-bool is not).
    pub fn is_numeric(self) -> bool {
        matches!(self, SeqType::Int | SeqType::Float)
    }
}

/// How the reference shows the values in a type error: computed s-ops
/// build a Python tuple, token s-ops a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shown {
    Tuple,
    List,
}

/// An evaluated s-op: one atom per input position, all of one [`SeqType`].
#[derive(Debug, Clone)]
pub struct Sequence {
    /// The value at each position, in input order.
    pub values: Vec<Atom>,
    /// The type the reference gives the whole sequence; it decides, for
    /// example, whether an aggregate may average it.
    pub seq_type: SeqType,
}

/// The reference's `lazy_type_check` on atoms: the first of str, bool,
/// int, float that all values are instances of (bools are ints), else
/// "float" for an int/float mix, else `None` (mismatched).
pub(crate) fn classify(values: &[Atom]) -> Option<SeqType> {
    // One pass: which kinds occur (every sequence an engine builds is
    // classified, so this is on the path of every node).
    const STR: u8 = 1;
    const BOOL: u8 = 2;
    const INT: u8 = 4;
    const FLOAT: u8 = 8;
    let seen = values.iter().fold(0u8, |seen, a| {
        seen | match a {
            Atom::Str(_) => STR,
            Atom::Bool(_) => BOOL,
            Atom::Int(_) | Atom::BigInt(_) => INT,
            Atom::Float(_) => FLOAT,
        }
    });
    // An empty sequence is all strs, as `all` over nothing holds.
    match seen {
        0 | STR => Some(SeqType::Str),
        BOOL => Some(SeqType::Bool),
        _ if seen & STR != 0 => None,
        _ if seen & FLOAT == 0 => Some(SeqType::Int),
        _ => Some(SeqType::Float),
    }
}

impl Sequence {
    /// Builds a sequence from computed values, with the reference's errors
    /// for mixed or non-atom values (semantics.md §2.1).
    pub(crate) fn from_values(values: Vec<Value>, shown: Shown, names: &dyn NodeNames) -> EvalResult<Sequence> {
        if values.iter().any(|v| !matches!(v, Value::Atom(_))) {
            return Err(EvalError::rasp(format!(
                "attempted to create sequence with illegal val types (vals must be bool, float, int or string):\n\t\t {}",
                show_values(&values, shown, names)
            )));
        }
        let atoms: Vec<Atom> = values
            .into_iter()
            .filter_map(|v| match v {
                Value::Atom(a) => Some(a),
                _ => None,
            })
            .collect();
        Sequence::from_atoms(atoms, shown, names)
    }

    /// Builds a sequence from atoms, with the reference's error when their
    /// types do not agree (semantics.md §2.1).
    pub(crate) fn from_atoms(values: Vec<Atom>, shown: Shown, names: &dyn NodeNames) -> EvalResult<Sequence> {
        match classify(&values) {
            Some(seq_type) => Ok(Sequence { values, seq_type }),
            None => {
                let as_values: Vec<Value> = values.into_iter().map(Value::Atom).collect();
                Err(EvalError::rasp(format!(
                    "attempted to create sequence with vals of different types:\n\t\t {}",
                    show_values(&as_values, shown, names)
                )))
            }
        }
    }

    /// The number of positions.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the sequence has no positions (an empty input).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

fn show_values(values: &[Value], shown: Shown, names: &dyn NodeNames) -> String {
    let parts: Vec<String> = values.iter().map(|v| v.py_repr(names)).collect();
    match shown {
        Shown::List => format!("[{}]", parts.join(", ")),
        Shown::Tuple if parts.len() == 1 => format!("({},)", parts[0]),
        Shown::Tuple => format!("({})", parts.join(", ")),
    }
}

/// A selector evaluated on an input of length n: `n` rows (queries) of `n`
/// bits (keys), 64 keys per word. Query `q` selects key `k` when
/// `get(q, k)`; an aggregate at position `q` reads the selected keys.
///
/// Only evaluation builds matrices; callers read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorMatrix {
    n: usize,
    words_per_row: usize,
    bits: Vec<u64>,
}

impl SelectorMatrix {
    /// `n` × `n`, nothing selected.
    pub(crate) fn empty(n: usize) -> SelectorMatrix {
        let words_per_row = n.div_ceil(64);
        SelectorMatrix { n, words_per_row, bits: vec![0; words_per_row * n] }
    }

    /// `n` × `n`, everything selected.
    pub(crate) fn full(n: usize) -> SelectorMatrix {
        let mut m = SelectorMatrix::empty(n);
        for q in 0..n {
            for k in 0..n {
                m.set(q, k);
            }
        }
        m
    }

    /// The input length n (the number of queries, and of keys).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the matrix is 0 × 0 (an empty input).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Selects `key` for `query`.
    pub(crate) fn set(&mut self, query: usize, key: usize) {
        self.bits[query * self.words_per_row + key / 64] |= 1 << (key % 64);
    }

    /// Whether `query` selects `key`. Panics if either is `>= len()`.
    pub fn get(&self, query: usize, key: usize) -> bool {
        self.bits[query * self.words_per_row + key / 64] & (1 << (key % 64)) != 0
    }

    /// The bit words of one query's row (key `k` is bit `k % 64` of word
    /// `k / 64`; bits past n are zero).
    pub(crate) fn row(&self, query: usize) -> &[u64] {
        &self.bits[query * self.words_per_row..(query + 1) * self.words_per_row]
    }

    /// Keys selected by `query`, ascending. Panics if `query >= len()`.
    pub fn selected(&self, query: usize) -> impl Iterator<Item = usize> + '_ {
        set_bits(self.row(query))
    }

    /// How many keys `query` selects (the selector width at that position).
    /// Panics if `query >= len()`.
    pub fn count(&self, query: usize) -> usize {
        self.row(query).iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Clears every cell the mask hides: each row keeps only its first
    /// `mask.visible_keys(q, n)` keys (semantics.md §6).
    pub(crate) fn apply_mask(&mut self, mask: AttentionMask) {
        if mask.is_bidirectional() {
            return;
        }
        for q in 0..self.n {
            let visible = mask.visible_keys(q, self.n);
            let row = &mut self.bits[q * self.words_per_row..(q + 1) * self.words_per_row];
            clear_from(row, visible);
        }
    }

    /// Combines two matrices word by word.
    pub(crate) fn zip_with(&self, other: &SelectorMatrix, f: impl Fn(u64, u64) -> u64) -> SelectorMatrix {
        let bits = self.bits.iter().zip(&other.bits).map(|(&a, &b)| f(a, b)).collect();
        SelectorMatrix { n: self.n, words_per_row: self.words_per_row, bits }
    }

    /// Complement (only the n real key bits of each row).
    pub(crate) fn not(&self) -> SelectorMatrix {
        let mut out = self.clone();
        for q in 0..self.n {
            for w in 0..self.words_per_row {
                let valid = if (w + 1) * 64 <= self.n { u64::MAX } else { (1u64 << (self.n % 64)) - 1 };
                out.bits[q * self.words_per_row + w] = !self.bits[q * self.words_per_row + w] & valid;
            }
        }
        out
    }
}

/// Clears the bits of keys `from..` of a bit row (64 cells a word).
pub(crate) fn clear_from(row: &mut [u64], from: usize) {
    for (w, word) in row.iter_mut().enumerate() {
        let start = w * 64;
        if from <= start {
            *word = 0;
        } else if from < start + 64 {
            *word &= (1u64 << (from - start)) - 1;
        }
    }
}

/// The positions of the set bits of a bit row (64 cells a word), ascending.
pub(crate) fn set_bits(row: &[u64]) -> impl Iterator<Item = usize> + '_ {
    row.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(w * 64 + bit)
        })
    })
}
