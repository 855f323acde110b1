//! Row-by-row evaluation of a selector: one query's row of keys as bits,
//! 64 keys a word, computed on demand instead of storing n × n bits.
//!
//! A comparison on sortable columns (`order.rs`) tests ranks, or, while the
//! table fits, takes the row from a table of prefix masks in n/64 word
//! operations. Other columns (NaN, huge ints) compare cell by cell with
//! Python's rules, in the order the plain evaluator does.

use super::order::{Bounds, ColumnOrder, OrderCache};
use super::plan::LitOp;
use super::structured::interval;
use crate::error::{EvalError, EvalResult};
use crate::graph::{Graph, NodeId, NodeKind, Predicate};
use crate::pyops::{self, CmpOp};
use crate::sequence::Sequence;
use std::collections::HashMap;
use std::rc::Rc;

enum RowOp {
    /// `key OP query` (`!=` is the complement of `==`) on ranks.
    Ranks {
        order: Rc<ColumnOrder>,
        bounds: Rc<Bounds>,
        masks: Option<Rc<Vec<u64>>>,
        op: LitOp,
        negate: bool,
    },
    Constant(bool),
    Cells {
        keys: Rc<Sequence>,
        queries: Rc<Sequence>,
        op: CmpOp,
    },
    All,
    And(usize, usize),
    Or(usize, usize),
    Not(usize),
}

/// The rows of one selector on one input.
pub(crate) struct Rows {
    ops: Vec<RowOp>,
    n: usize,
    words: usize,
    buffers: Vec<u64>,
}

fn literal_op(predicate: Predicate) -> (LitOp, bool) {
    match predicate {
        Predicate::Eq => (LitOp::Eq, false),
        Predicate::Ne => (LitOp::Eq, true),
        Predicate::Lt => (LitOp::Lt, false),
        Predicate::Le => (LitOp::Le, false),
        Predicate::Gt => (LitOp::Gt, false),
        Predicate::Ge => (LitOp::Ge, false),
    }
}

impl Rows {
    /// `dag`: the selector's nodes, ascending (the last is the selector).
    pub(crate) fn new(
        graph: &Graph,
        dag: &[NodeId],
        n: usize,
        column: &dyn Fn(NodeId) -> Option<Rc<Sequence>>,
        cache: &mut OrderCache,
    ) -> EvalResult<Rows> {
        let missing = || EvalError::rasp("internal error: missing s-op value");
        let mut index: HashMap<NodeId, usize> = HashMap::new();
        let mut ops = Vec::with_capacity(dag.len());
        for &id in dag {
            let at = |x: &NodeId| index.get(x).copied().ok_or_else(|| EvalError::rasp("internal error: selector order"));
            let op = match graph.kind(id) {
                NodeKind::Select { key, query, predicate } => {
                    let keys = column(*key).ok_or_else(missing)?;
                    let queries = column(*query).ok_or_else(missing)?;
                    let (op, negate) = literal_op(*predicate);
                    match cache.bounds(*key, &keys, *query, &queries) {
                        Some((_, bounds)) if matches!(*bounds, Bounds::Mismatch) && op == LitOp::Eq => {
                            RowOp::Constant(negate)
                        }
                        Some((order, bounds)) if !matches!(*bounds, Bounds::Mismatch) => {
                            let masks = cache.masks(*key, &order);
                            RowOp::Ranks { order, bounds, masks, op, negate }
                        }
                        _ => RowOp::Cells { keys, queries, op: predicate.mirrored_on_query() },
                    }
                }
                NodeKind::SelectAll => RowOp::All,
                NodeKind::SelectAnd(a, b) => RowOp::And(at(a)?, at(b)?),
                NodeKind::SelectOr(a, b) => RowOp::Or(at(a)?, at(b)?),
                NodeKind::SelectNot(a) => RowOp::Not(at(a)?),
                _ => return Err(EvalError::rasp("internal error: not a selector")),
            };
            index.insert(id, ops.len());
            ops.push(op);
        }
        let words = n.div_ceil(64);
        Ok(Rows { buffers: vec![0; ops.len() * words], ops, n, words })
    }

    /// The row of query `q`: bit k set iff key k is selected.
    pub(crate) fn fill(&mut self, q: usize) -> EvalResult<&[u64]> {
        let words = self.words;
        for i in 0..self.ops.len() {
            let (before, rest) = self.buffers.split_at_mut(i * words);
            let out = &mut rest[..words];
            let row = |j: usize| &before[j * words..(j + 1) * words];
            match &self.ops[i] {
                RowOp::Ranks { order, bounds, masks, op, negate } => {
                    let Bounds::Ranks { lower, upper } = bounds.as_ref() else {
                        return Err(EvalError::rasp("internal error: bounds"));
                    };
                    let (lo, hi) = interval(*op, lower[q], upper[q], order.distinct as u32);
                    let (lo, hi) = (lo as usize, hi.max(lo) as usize);
                    match masks {
                        Some(m) => {
                            let (a, b) = (&m[lo * words..(lo + 1) * words], &m[hi * words..(hi + 1) * words]);
                            for w in 0..words {
                                out[w] = a[w] ^ b[w];
                            }
                        }
                        None => {
                            out.fill(0);
                            for (k, &r) in order.rank.iter().enumerate() {
                                if (lo..hi).contains(&(r as usize)) {
                                    out[k / 64] |= 1 << (k % 64);
                                }
                            }
                        }
                    }
                    if *negate {
                        for w in 0..words {
                            out[w] ^= self_valid(self.n, w);
                        }
                    }
                }
                RowOp::Constant(on) => {
                    for w in 0..words {
                        out[w] = if *on { self_valid(self.n, w) } else { 0 };
                    }
                }
                RowOp::Cells { keys, queries, op } => {
                    out.fill(0);
                    let qv = &queries.values[q];
                    for (k, kv) in keys.values.iter().enumerate() {
                        if pyops::compare(*op, qv, kv)? {
                            out[k / 64] |= 1 << (k % 64);
                        }
                    }
                }
                RowOp::All => {
                    for w in 0..words {
                        out[w] = self_valid(self.n, w);
                    }
                }
                RowOp::And(a, b) => {
                    let (a, b) = (row(*a), row(*b));
                    for w in 0..words {
                        out[w] = a[w] & b[w];
                    }
                }
                RowOp::Or(a, b) => {
                    let (a, b) = (row(*a), row(*b));
                    for w in 0..words {
                        out[w] = a[w] | b[w];
                    }
                }
                RowOp::Not(a) => {
                    let a = row(*a);
                    for w in 0..words {
                        out[w] = !a[w] & self_valid(self.n, w);
                    }
                }
            }
        }
        let last = self.ops.len().saturating_sub(1);
        Ok(&self.buffers[last * words..(last + 1) * words])
    }
}

/// The bits of word `w` that are real keys.
fn self_valid(n: usize, w: usize) -> u64 {
    if (w + 1) * 64 <= n { u64::MAX } else { (1u64 << (n % 64)) - 1 }
}

/// Set bits of a row, ascending.
pub(crate) fn selected(row: &[u64]) -> impl Iterator<Item = usize> + '_ {
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
