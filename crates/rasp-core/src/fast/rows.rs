//! Row-by-row evaluation of a selector: one query's row of keys as bits,
//! 64 keys a word, computed on demand instead of storing n × n bits.
//!
//! A comparison on sortable columns (`order.rs`) tests ranks, or, while the
//! table fits, takes the row from a table of prefix masks in n/64 word
//! operations. Other columns (NaN, huge ints) compare cell by cell with
//! Python's rules, in the order the plain evaluator does.

use super::order::{Bounds, ColumnOrder, OrderCache, packed_str};
use super::plan::LitOp;
use super::structured::interval;
use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::graph::{Graph, NodeId, NodeKind, Predicate};
use crate::pyops::{self, CmpOp};
use crate::sequence::Sequence;
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
    /// One word per query (inputs of at most 64 positions).
    Words(Vec<u64>),
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

/// The rows of one selector on one input: one query at a time, or every
/// row of every node of the DAG at once (`all`: a whole matrix).
pub(crate) struct Rows {
    ops: Vec<RowOp>,
    n: usize,
    words: usize,
    /// Rows kept per node: 1, or n when all are kept.
    kept: usize,
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
        mut buffers: Vec<u64>,
        all: bool,
    ) -> EvalResult<Rows> {
        let missing = || EvalError::internal("missing s-op value");
        let mut ops = Vec::with_capacity(dag.len());
        for &id in dag {
            // `dag` is sorted, and holds every input of its members.
            let at = |x: &NodeId| dag.binary_search(x).map_err(|_| EvalError::internal("selector order"));
            let op = match graph.kind(id) {
                NodeKind::Select { key, query, predicate } => {
                    let keys = column(*key).ok_or_else(missing)?;
                    let queries = column(*query).ok_or_else(missing)?;
                    let (op, negate) = literal_op(*predicate);
                    let small = if n <= 64 { small_rows(&keys, &queries, *predicate) } else { None };
                    if let Some(words) = small {
                        ops.push(RowOp::Words(words));
                        continue;
                    }
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
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::Aggregate { .. } => return Err(EvalError::internal("not a selector")),
            };
            ops.push(op);
        }
        let words = n.div_ceil(64);
        let kept = if all { n } else { 1 };
        buffers.clear();
        buffers.resize(ops.len() * kept * words, 0);
        let mut rows = Rows { buffers, ops, n, words, kept };
        if all {
            for q in 0..n {
                rows.compute(q, q)?;
            }
        }
        Ok(rows)
    }

    /// The row buffers, for the next `Rows` to reuse.
    pub(crate) fn into_buffers(self) -> Vec<u64> {
        self.buffers
    }

    /// The row of query `q` of the last node: bit k set iff key k is
    /// selected.
    pub(crate) fn fill(&mut self, q: usize) -> EvalResult<&[u64]> {
        self.compute(q, 0)?;
        let words = self.words;
        let at = (self.ops.len().saturating_sub(1) * self.kept) * words;
        Ok(&self.buffers[at..at + words])
    }

    /// Every node's row of query `q`, into row slot `slot` of each node.
    fn compute(&mut self, q: usize, slot: usize) -> EvalResult<()> {
        let (words, kept) = (self.words, self.kept);
        for i in 0..self.ops.len() {
            let (before, rest) = self.buffers.split_at_mut((i * kept + slot) * words);
            let out = &mut rest[..words];
            let row = |j: usize| &before[(j * kept + slot) * words..(j * kept + slot + 1) * words];
            match &self.ops[i] {
                RowOp::Ranks { order, bounds, masks, op, negate } => {
                    let Bounds::Ranks { lower, upper } = bounds.as_ref() else {
                        return Err(EvalError::internal("bounds"));
                    };
                    let (lo, hi) = interval(*op, lower[q], upper[q], order.distinct as u32);
                    let (lo, hi) = (lo as usize, hi.max(lo) as usize);
                    match masks {
                        Some(m) => {
                            let (a, b) = (&m[lo * words..(lo + 1) * words], &m[hi * words..(hi + 1) * words]);
                            for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                                *o = x ^ y;
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
                        for (w, o) in out.iter_mut().enumerate() {
                            *o ^= self_valid(self.n, w);
                        }
                    }
                }
                RowOp::Words(rows) => {
                    if let (Some(o), Some(w)) = (out.first_mut(), rows.get(q)) {
                        *o = *w;
                    }
                }
                RowOp::Constant(on) => {
                    for (w, o) in out.iter_mut().enumerate() {
                        *o = if *on { self_valid(self.n, w) } else { 0 };
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
                    for (w, o) in out.iter_mut().enumerate() {
                        *o = self_valid(self.n, w);
                    }
                }
                RowOp::And(a, b) => {
                    let (a, b) = (row(*a), row(*b));
                    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                        *o = x & y;
                    }
                }
                RowOp::Or(a, b) => {
                    let (a, b) = (row(*a), row(*b));
                    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
                        *o = x | y;
                    }
                }
                RowOp::Not(a) => {
                    let a = row(*a);
                    for (w, (o, x)) in out.iter_mut().zip(a).enumerate() {
                        *o = !x & self_valid(self.n, w);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The ints of a column (bools count as ints) into `out` (emptied first);
/// `false`, with `out` unspecified, when a value is not one.
fn ints_into(seq: &Sequence, out: &mut Vec<i64>) -> bool {
    out.clear();
    for a in &seq.values {
        out.push(match a {
            Atom::Int(v) => *v,
            Atom::Bool(b) => i64::from(*b),
            _ => return false,
        });
    }
    true
}

/// Appends one word per query: bit k set iff `hit(keys[k], query)`.
fn push_words(keys: &[i64], queries: &[i64], out: &mut Vec<u64>, hit: impl Fn(i64, i64) -> bool) {
    out.extend(
        queries.iter().map(|&q| keys.iter().enumerate().fold(0u64, |w, (k, &key)| w | (u64::from(hit(key, q)) << k))),
    );
}

/// Appends the rows of `select(keys, queries, predicate)` on int columns
/// of at most 64 positions, one word each, by direct comparison.
fn push_int_words(keys: &[i64], queries: &[i64], predicate: Predicate, out: &mut Vec<u64>) {
    match predicate {
        Predicate::Eq => push_words(keys, queries, out, |k, q| k == q),
        Predicate::Ne => push_words(keys, queries, out, |k, q| k != q),
        Predicate::Lt => push_words(keys, queries, out, |k, q| k < q),
        Predicate::Le => push_words(keys, queries, out, |k, q| k <= q),
        Predicate::Gt => push_words(keys, queries, out, |k, q| k > q),
        Predicate::Ge => push_words(keys, queries, out, |k, q| k >= q),
    }
}

/// Two columns of short strs (at most 7 bytes each, see `packed_str`) as
/// dense ranks in one order, into `key_ranks` and `query_ranks`: comparing
/// ranks is comparing the strs as Python does. `same`: the columns are one
/// node. `false`, with the outputs unspecified, when a value is not such a
/// str.
fn str_ranks_into(
    keys: &Sequence,
    queries: &Sequence,
    same: bool,
    key_ranks: &mut Vec<i64>,
    query_ranks: &mut Vec<i64>,
    packed: &mut Vec<(u64, u32)>,
) -> bool {
    let n = keys.values.len();
    packed.clear();
    let columns: &[&Sequence] = if same { &[keys] } else { &[keys, queries] };
    for (c, column) in columns.iter().enumerate() {
        for (k, a) in column.values.iter().enumerate() {
            let Some(word) = packed_str(a) else { return false };
            packed.push((word, (c * n + k) as u32));
        }
    }
    packed.sort_unstable_by_key(|&(word, _)| word);
    key_ranks.clear();
    key_ranks.resize(n, 0);
    query_ranks.clear();
    query_ranks.resize(queries.values.len(), 0);
    let mut rank = -1;
    let mut previous = None;
    for &(word, at) in packed.iter() {
        if previous != Some(word) {
            rank += 1;
            previous = Some(word);
        }
        let at = at as usize;
        match key_ranks.get_mut(at) {
            Some(slot) => *slot = rank,
            None => query_ranks[at - n] = rank,
        }
    }
    if same {
        query_ranks.copy_from_slice(key_ranks);
    }
    true
}

/// Keys whose values span more than this go by direct comparison.
const MAX_SPAN: u64 = 256;

/// The keys of an int column of at most 64 positions by value, when their
/// values span at most `MAX_SPAN` (indices, positions, counts, constants,
/// ranks): `prefix[i]` holds the keys of value `< min + i`, so a query's
/// row is one entry or the difference of two, O(n + span) for a selector
/// instead of n² comparisons.
#[derive(Default)]
struct ByValue {
    min: i64,
    max: i64,
    span: usize,
    prefix: Vec<u64>,
}

impl ByValue {
    /// Tables `keys`; `false` when their values spread wider.
    fn build(&mut self, keys: &[i64]) -> bool {
        let Some(&first) = keys.first() else {
            // No keys: every row is empty.
            (self.min, self.max, self.span) = (0, -1, 0);
            self.prefix.clear();
            self.prefix.push(0);
            return true;
        };
        let (min, max) = keys.iter().fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let span = max.abs_diff(min);
        if span >= MAX_SPAN {
            return false;
        }
        let span = span as usize + 1;
        let prefix = &mut self.prefix;
        prefix.clear();
        prefix.resize(span + 1, 0);
        for (k, &v) in keys.iter().enumerate() {
            prefix[v.abs_diff(min) as usize + 1] |= 1 << k;
        }
        for i in 1..=span {
            prefix[i] |= prefix[i - 1];
        }
        (self.min, self.max, self.span) = (min, max, span);
        true
    }

    /// Appends the row of every query of `select(keys, queries, predicate)`.
    fn push_rows(&self, queries: &[i64], predicate: Predicate, out: &mut Vec<u64>) {
        let (min, max, span) = (self.min, self.max, self.span);
        let prefix = &self.prefix[..];
        let all = prefix[span];
        // How many value slots lie below q, and at or below q.
        let below = move |q: i64| {
            if q <= min {
                0
            } else if q > max {
                span
            } else {
                q.abs_diff(min) as usize
            }
        };
        let through = move |q: i64| {
            if q < min {
                0
            } else if q >= max {
                span
            } else {
                q.abs_diff(min) as usize + 1
            }
        };
        out.reserve(queries.len());
        let rows = queries.iter();
        match predicate {
            Predicate::Eq => out.extend(rows.map(|&q| prefix[through(q)] ^ prefix[below(q)])),
            Predicate::Ne => out.extend(rows.map(|&q| all ^ prefix[through(q)] ^ prefix[below(q)])),
            Predicate::Lt => out.extend(rows.map(|&q| prefix[below(q)])),
            Predicate::Le => out.extend(rows.map(|&q| prefix[through(q)])),
            Predicate::Gt => out.extend(rows.map(|&q| all ^ prefix[through(q)])),
            Predicate::Ge => out.extend(rows.map(|&q| all ^ prefix[below(q)])),
        }
    }
}

/// The rows of `select(keys, queries, predicate)` for at most 64
/// positions on ints, by direct comparison; `None` for other columns
/// (strs are cheaper sorted once than compared n² times).
fn small_rows(keys: &Sequence, queries: &Sequence, predicate: Predicate) -> Option<Vec<u64>> {
    let (mut key_ints, mut query_ints) = (Vec::new(), Vec::new());
    if !ints_into(keys, &mut key_ints) || !ints_into(queries, &mut query_ints) {
        return None;
    }
    let mut out = Vec::with_capacity(queries.values.len());
    push_int_words(&key_ints, &query_ints, predicate, &mut out);
    Some(out)
}

/// The bits of word `w` that are real keys.
fn self_valid(n: usize, w: usize) -> u64 {
    if (w + 1) * 64 <= n { u64::MAX } else { (1u64 << (n % 64)) - 1 }
}

/// Whole selector matrices of one input, n rows of n/64 words, kept per
/// selector node while they are small: aggregates whose selectors share
/// parts (`sel or at0`, `sel and at0`) then compute those parts once.
/// All matrices of an input live in one buffer, kept from input to input,
/// so a batch of short inputs allocates nothing here.
#[derive(Default)]
pub(crate) struct Matrices {
    /// Per node id: where its matrix starts in `arena`, if computed.
    at: Vec<Option<usize>>,
    /// The nodes computed for this input only, and those kept for the
    /// next input of the same length (see [`Matrices::clear`]).
    touched: Vec<usize>,
    kept: Vec<usize>,
    arena: Vec<u64>,
    /// Row buffers for selectors that go through [`Rows`].
    spare: Vec<u64>,
    /// Int columns of a comparison (inputs of at most 64 positions).
    key_ints: Vec<i64>,
    query_ints: Vec<i64>,
    /// The key column of the last small select by value, and its
    /// `(key, query)` pair while `key_ints` and `query_ints` hold it.
    by_value: ByValue,
    by_value_of: Option<(NodeId, NodeId)>,
    /// Packed strs and their positions, for [`str_ranks_into`].
    packed: Vec<(u64, u32)>,
    /// Words per matrix of the last input.
    size: usize,
}

impl Matrices {
    /// Makes room for node ids below `nodes` (the table only grows).
    pub(crate) fn grow(&mut self, nodes: usize) {
        if self.at.len() < nodes {
            self.at.resize(nodes, None);
        }
    }

    /// Forgets the matrices of the last input; with `keep`, except those
    /// `matrix` was told to keep (they depend on the length alone, and the
    /// next input has the same), which move to the front of the buffer.
    pub(crate) fn clear(&mut self, keep: bool) {
        self.by_value_of = None;
        for &i in &self.touched {
            self.at[i] = None;
        }
        self.touched.clear();
        if !keep {
            for &i in &self.kept {
                self.at[i] = None;
            }
            self.kept.clear();
            self.arena.clear();
            return;
        }
        // Kept matrices all have the last input's size, and sit in the
        // buffer in the order they were made: moving each to the end of
        // the ones before it never overwrites one still to move.
        let size = self.size;
        let mut end = 0;
        for &i in &self.kept {
            if let Some(start) = self.at[i] {
                self.arena.copy_within(start..start + size, end);
                self.at[i] = Some(end);
                end += size;
            }
        }
        self.arena.truncate(end);
    }

    /// `size` words of the matrices from `at` (as [`Matrices::matrix`]
    /// returned it).
    pub(crate) fn words(&self, at: usize, size: usize) -> &[u64] {
        &self.arena[at..at + size]
    }

    /// Where the matrix of the last node of `dag` (ascending, closed under
    /// selector inputs) starts (read it with [`Matrices::words`]),
    /// computing the missing ones of `dag` in order. Those for which `keep`
    /// holds are kept by [`Matrices::clear`] when asked to.
    pub(crate) fn matrix(
        &mut self,
        graph: &Graph,
        dag: &[NodeId],
        n: usize,
        column: &dyn Fn(NodeId) -> Option<Rc<Sequence>>,
        cache: &mut OrderCache,
        keep: &dyn Fn(NodeId) -> bool,
    ) -> EvalResult<usize> {
        let words = n.div_ceil(64);
        let size = n * words;
        self.size = size;
        let internal = || EvalError::internal("selector matrix");
        for &id in dag {
            let i = id.index();
            if self.at.get(i).is_none_or(Option::is_some) {
                continue;
            }
            let get = |m: &Matrices, x: &NodeId| m.at.get(x.index()).copied().flatten().ok_or_else(internal);
            let start = self.arena.len();
            match graph.kind(id) {
                NodeKind::Select { key, query, predicate } if n <= 64 => {
                    let keys = column(*key).ok_or_else(internal)?;
                    let queries = column(*query).ok_or_else(internal)?;
                    if !self.push_small_select(*key, &keys, *query, &queries, *predicate, cache) {
                        let rows = Rows::new(graph, &[id], n, column, cache, std::mem::take(&mut self.spare), true)?;
                        let buffer = rows.into_buffers();
                        self.arena.extend_from_slice(&buffer);
                        self.spare = buffer;
                    }
                }
                NodeKind::Select { .. } | NodeKind::SelectAll => {
                    let rows = Rows::new(graph, &[id], n, column, cache, std::mem::take(&mut self.spare), true)?;
                    let buffer = rows.into_buffers();
                    self.arena.extend_from_slice(&buffer);
                    self.spare = buffer;
                }
                NodeKind::SelectAnd(a, b) => {
                    let (a, b) = (get(self, a)?, get(self, b)?);
                    for j in 0..size {
                        let word = self.arena[a + j] & self.arena[b + j];
                        self.arena.push(word);
                    }
                }
                NodeKind::SelectOr(a, b) => {
                    let (a, b) = (get(self, a)?, get(self, b)?);
                    for j in 0..size {
                        let word = self.arena[a + j] | self.arena[b + j];
                        self.arena.push(word);
                    }
                }
                NodeKind::SelectNot(a) => {
                    let a = get(self, a)?;
                    for j in 0..size {
                        let word = !self.arena[a + j] & self_valid(n, j % words.max(1));
                        self.arena.push(word);
                    }
                }
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::Aggregate { .. } => return Err(internal()),
            }
            if self.arena.len() != start + size {
                return Err(internal());
            }
            self.at[i] = Some(start);
            if keep(id) {
                self.kept.push(i);
            } else {
                self.touched.push(i);
            }
        }
        let last = dag.last().ok_or_else(internal)?;
        self.at.get(last.index()).copied().flatten().ok_or_else(internal)
    }

    /// Appends the matrix of `select(keys, queries, predicate)` for at most
    /// 64 positions, a word per query, without building [`Rows`]: ints by
    /// direct comparison, other sortable columns from the prefix masks of
    /// their ranks. `false` (nothing appended) for columns that are not
    /// sortable, which go cell by cell.
    fn push_small_select(
        &mut self,
        key: NodeId,
        keys: &Sequence,
        query: NodeId,
        queries: &Sequence,
        predicate: Predicate,
        cache: &mut OrderCache,
    ) -> bool {
        let n = queries.values.len();
        // Selects on the same columns (`<` and `==` of one pair, as `sort`
        // has) share the table.
        if self.by_value_of == Some((key, query)) {
            self.by_value.push_rows(&self.query_ints, predicate, &mut self.arena);
            return true;
        }
        self.by_value_of = None;
        if ints_into(keys, &mut self.key_ints) && ints_into(queries, &mut self.query_ints) {
            if self.by_value.build(&self.key_ints) {
                self.by_value_of = Some((key, query));
                self.by_value.push_rows(&self.query_ints, predicate, &mut self.arena);
            } else {
                push_int_words(&self.key_ints, &self.query_ints, predicate, &mut self.arena);
            }
            return true;
        }
        if str_ranks_into(keys, queries, key == query, &mut self.key_ints, &mut self.query_ints, &mut self.packed)
            && self.by_value.build(&self.key_ints)
        {
            self.by_value_of = Some((key, query));
            self.by_value.push_rows(&self.query_ints, predicate, &mut self.arena);
            return true;
        }
        let (op, negate) = literal_op(predicate);
        let flip = if negate { self_valid(n, 0) } else { 0 };
        match cache.bounds(key, keys, query, queries) {
            Some((_, bounds)) if matches!(*bounds, Bounds::Mismatch) && op == LitOp::Eq => {
                self.arena.extend(std::iter::repeat_n(flip, n));
                true
            }
            Some((order, bounds)) => {
                let (Bounds::Ranks { lower, upper }, Some(masks)) = (bounds.as_ref(), cache.masks(key, &order)) else {
                    return false;
                };
                let distinct = order.distinct as u32;
                self.arena.extend(lower.iter().zip(upper).map(|(&l, &u)| {
                    let (lo, hi) = interval(op, l, u, distinct);
                    (masks[lo as usize] ^ masks[hi.max(lo) as usize]) ^ flip
                }));
                true
            }
            None => false,
        }
    }
}
