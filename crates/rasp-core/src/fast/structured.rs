//! Counts and sums over structured selectors in O(n log n).
//!
//! For every query q, and a selector given as a signed sum of conjunctions
//! (`plan.rs`), this computes over the selected keys k: how many there are,
//! the sum of their positions (when exactly one is selected, that is its
//! position), and the sum of integer weights (the values, when their sum
//! is provably what Python's left-to-right sum gives).
//!
//! In one conjunction the literals on one key column intersect into one
//! interval of that column's ranks. A column whose interval is the same for
//! every query (`select(indices, 0, ==)`, `select(flag, True, ==)`) only
//! filters the keys. What remains is a range query in 0, 1 or 2 dimensions:
//! a total, a prefix-sum lookup, or an offline sweep with a Fenwick tree.
//! Three or more varying dimensions give up (the caller goes row by row).
//! An attention mask adds one dimension, the key's position (each query
//! sees a prefix of the positions), as if it were one more literal.

use super::order::{Bounds, ColumnOrder, OrderCache};
use super::plan::{LitOp, Term};
use crate::graph::NodeId;
use crate::mask::AttentionMask;
use crate::sequence::Sequence;
use std::ops::{AddAssign, Sub};
use std::rc::Rc;

/// Count, position sum and weight sum over some keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Acc {
    pub count: i64,
    pub positions: i64,
    pub weights: i128,
}

impl AddAssign for Acc {
    fn add_assign(&mut self, o: Acc) {
        self.count += o.count;
        self.positions += o.positions;
        self.weights += o.weights;
    }
}

impl Sub for Acc {
    type Output = Acc;
    fn sub(self, o: Acc) -> Acc {
        Acc { count: self.count - o.count, positions: self.positions - o.positions, weights: self.weights - o.weights }
    }
}

/// Per query totals, accumulated over terms with their signs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Total {
    pub count: i128,
    pub positions: i128,
    pub weights: i128,
}

impl Total {
    fn add(&mut self, coefficient: i64, a: Acc) {
        let c = i128::from(coefficient);
        self.count += c * i128::from(a.count);
        self.positions += c * i128::from(a.positions);
        self.weights += c * a.weights;
    }
}

fn point(k: usize, weights: Option<&[i64]>) -> Acc {
    Acc { count: 1, positions: k as i64, weights: weights.map_or(0, |w| i128::from(w[k])) }
}

/// The interval of key ranks `key OP query` selects, given the query's
/// bounds among `m` distinct keys.
pub(crate) fn interval(op: LitOp, lower: u32, upper: u32, m: u32) -> (u32, u32) {
    match op {
        LitOp::Eq => (lower, upper),
        LitOp::Lt => (0, lower),
        LitOp::Le => (0, upper),
        LitOp::Gt => (upper, m),
        LitOp::Ge => (lower, m),
    }
}

/// One key column of a conjunction: each query's interval of ranks.
struct Dim {
    order: Rc<ColumnOrder>,
    lo: Vec<u32>,
    hi: Vec<u32>,
}

/// Totals per query for a selector's terms, in `totals` (emptied first),
/// or `None` when a column is not sortable or a conjunction has more than
/// two varying dimensions.
pub(crate) fn term_totals<'a>(
    terms: &[super::plan::Term],
    n: usize,
    column: &dyn Fn(NodeId) -> Option<&'a Sequence>,
    cache: &mut OrderCache,
    weights: Option<&[i64]>,
    mask: AttentionMask,
    mut totals: Vec<Total>,
) -> Option<Vec<Total>> {
    // `totals` is the last call's buffer: refilling it spares the pages
    // of a fresh allocation (48 bytes a position).
    totals.clear();
    totals.resize(n, Total::default());
    if n == 0 {
        return Some(totals);
    }
    for term in terms {
        add_term(term, n, column, cache, weights, mask, &mut totals)?;
    }
    Some(totals)
}

fn add_term<'a>(
    term: &Term,
    n: usize,
    column: &dyn Fn(NodeId) -> Option<&'a Sequence>,
    cache: &mut OrderCache,
    weights: Option<&[i64]>,
    mask: AttentionMask,
    totals: &mut [Total],
) -> Option<()> {
    // Group the literals by key column (they are sorted by key).
    let mut dims: Vec<Dim> = Vec::new();
    let mut statics: Vec<(Rc<ColumnOrder>, u32, u32)> = Vec::new();
    let mut active: Option<Vec<bool>> = None;
    let mut i = 0;
    while i < term.literals.len() {
        let key = term.literals[i].key;
        let mut j = i;
        while j < term.literals.len() && term.literals[j].key == key {
            j += 1;
        }
        let keys = column(key)?;
        let order = cache.order(key, keys)?;
        let m = order.distinct as u32;
        let mut lo = cache.take_filled(n, 0);
        let mut hi = cache.take_filled(n, m);
        for literal in &term.literals[i..j] {
            let queries = column(literal.query)?;
            let (_, bounds) = cache.bounds(key, keys, literal.query, queries)?;
            match (bounds.as_ref(), literal.op) {
                (Bounds::Mismatch, LitOp::Eq) => hi.fill(0),
                // An ordering between str and number raised at the select.
                (Bounds::Mismatch, _) => return None,
                (Bounds::Ranks { lower, upper }, op) => {
                    for q in 0..n {
                        let (a, b) = interval(op, lower[q], upper[q], m);
                        lo[q] = lo[q].max(a);
                        hi[q] = hi[q].min(b);
                    }
                }
            }
        }
        if !classify(order, lo, hi, &mut dims, &mut statics, &mut active, cache) {
            return Some(()); // selects nothing for any query
        }
        i = j;
    }
    // The attention mask is one more range: query q sees the keys of
    // positions 0..visible_keys(q, n) (semantics.md §6).
    if mask.hides_any(n) {
        let hi: Vec<u32> = (0..n).map(|q| mask.visible_keys(q, n) as u32).collect();
        let lo = cache.take_filled(n, 0);
        if !classify(Rc::new(ColumnOrder::positions(n)), lo, hi, &mut dims, &mut statics, &mut active, cache) {
            return Some(());
        }
    }
    if dims.len() > 2 {
        return None;
    }
    let included: Vec<u32> =
        (0..n as u32).filter(|&k| statics.iter().all(|(o, lo, hi)| (*lo..*hi).contains(&o.rank[k as usize]))).collect();
    let on = |q: usize| active.as_ref().is_none_or(|a| a[q]);
    let c = term.coefficient;
    match dims.as_slice() {
        [] => {
            let mut all = Acc::default();
            for &k in &included {
                all += point(k as usize, weights);
            }
            for (q, t) in totals.iter_mut().enumerate() {
                if on(q) {
                    t.add(c, all);
                }
            }
        }
        [x] => {
            let mut prefix = vec![Acc::default(); x.order.distinct + 1];
            for &k in &included {
                prefix[x.order.rank[k as usize] as usize + 1] += point(k as usize, weights);
            }
            for r in 1..prefix.len() {
                let before = prefix[r - 1];
                prefix[r] += before;
            }
            for (q, t) in totals.iter_mut().enumerate() {
                let (a, b) = (x.lo[q] as usize, x.hi[q] as usize);
                if a < b && on(q) {
                    t.add(c, prefix[b] - prefix[a]);
                }
            }
        }
        [x, y] => {
            let (active, point) = (active.as_deref(), |k: usize| point(k, weights));
            if included.len() <= FEW_KEYS {
                few_keys(x, y, &included, point, c, active, totals);
            } else if single_ranks(x) {
                grouped(x, y, &included, point, c, active, totals);
            } else if single_ranks(y) {
                grouped(y, x, &included, point, c, active, totals);
            } else {
                sweep(x, y, &included, weights, c, active, totals);
            }
        }
        _ => return None,
    }
    for d in dims {
        cache.give(d.lo);
        cache.give(d.hi);
    }
    Some(())
}

/// Files one key column's per-query intervals `lo..hi` as a static filter
/// or a varying dimension. A column is static when every query that
/// selects anything there selects the same interval: it then only filters
/// keys (and turns the other queries off). `false` when no query selects
/// anything (the term adds nothing).
/// `lo` and `hi` go back to `cache`'s spare buffers unless they become a
/// dimension.
fn classify(
    order: Rc<ColumnOrder>,
    mut lo: Vec<u32>,
    mut hi: Vec<u32>,
    dims: &mut Vec<Dim>,
    statics: &mut Vec<(Rc<ColumnOrder>, u32, u32)>,
    active: &mut Option<Vec<bool>>,
    cache: &mut OrderCache,
) -> bool {
    let n = lo.len();
    for q in 0..n {
        if lo[q] >= hi[q] {
            lo[q] = 0;
            hi[q] = 0;
        }
    }
    let Some(first) = (0..n).find(|&q| lo[q] < hi[q]) else {
        cache.give(lo);
        cache.give(hi);
        return false;
    };
    let (lo0, hi0) = (lo[first], hi[first]);
    if (0..n).all(|q| lo[q] == hi[q] || (lo[q], hi[q]) == (lo0, hi0)) {
        if (0..n).any(|q| lo[q] == hi[q]) {
            let active = active.get_or_insert_with(|| vec![true; n]);
            for q in 0..n {
                active[q] &= lo[q] < hi[q];
            }
        }
        statics.push((order, lo0, hi0));
        cache.give(lo);
        cache.give(hi);
    } else {
        dims.push(Dim { order, lo, hi });
    }
    true
}

/// Up to this many keys, a two-dimensional term tests each key against
/// each query (`selector_width`'s `sel and select(indices, 0, ==)` keeps
/// one key) instead of sorting events.
const FEW_KEYS: usize = 8;

fn contains(d: &Dim, q: usize, k: usize) -> bool {
    (d.lo[q]..d.hi[q]).contains(&d.order.rank[k])
}

/// Two varying dimensions over a few keys: key by key.
fn few_keys(
    x: &Dim,
    y: &Dim,
    included: &[u32],
    point: impl Fn(usize) -> Acc,
    c: i64,
    active: Option<&[bool]>,
    totals: &mut [Total],
) {
    for (q, t) in totals.iter_mut().enumerate() {
        if active.is_some_and(|a| !a[q]) {
            continue;
        }
        let mut sum = Acc::default();
        for &k in included {
            let k = k as usize;
            if contains(x, q, k) && contains(y, q, k) {
                sum += point(k);
            }
        }
        t.add(c, sum);
    }
}

/// Whether every query's interval in `d` holds at most one rank: the
/// dimension of an `==` literal.
fn single_ranks(d: &Dim) -> bool {
    d.lo.iter().zip(&d.hi).all(|(lo, hi)| hi.saturating_sub(*lo) <= 1)
}

/// Two varying dimensions where `x` is an equality (`single_ranks`): the
/// keys grouped by their x rank and sorted by y rank within a group, with
/// prefix sums, so each query takes two binary searches in its group
/// (`sort`'s `select(key, key, ==) and select(indices, indices, <)`).
fn grouped(
    x: &Dim,
    y: &Dim,
    included: &[u32],
    point: impl Fn(usize) -> Acc,
    c: i64,
    active: Option<&[bool]>,
    totals: &mut [Total],
) {
    let (mut keys, start) = bucket(included, x.order.distinct, |&k| x.order.rank[k as usize] as usize);
    let y_rank = |k: &u32| y.order.rank[*k as usize];
    for group in start.windows(2) {
        let group = &mut keys[group[0]..group[1]];
        if !group.is_sorted_by_key(y_rank) {
            group.sort_unstable_by_key(y_rank);
        }
    }
    let ranks: Vec<u32> = keys.iter().map(y_rank).collect();
    let mut prefix = Vec::with_capacity(keys.len() + 1);
    let mut running = Acc::default();
    prefix.push(running);
    for &k in &keys {
        running += point(k as usize);
        prefix.push(running);
    }
    // Per group, where the last query's bounds fell: queries usually come
    // with growing bounds (`indices < q` over q = 0, 1, ...), and a search
    // forward from there touches a few nearby cache lines instead of a
    // whole binary search.
    let mut cursors = vec![(0usize, 0usize); x.order.distinct];
    for (q, t) in totals.iter_mut().enumerate() {
        let (xl, xh, yl, yh) = (x.lo[q], x.hi[q], y.lo[q], y.hi[q]);
        if xl >= xh || yl >= yh || active.is_some_and(|a| !a[q]) {
            continue;
        }
        let (from, to) = (start[xl as usize], start[xl as usize + 1]);
        let group = &ranks[from..to];
        let cursor = &mut cursors[xl as usize];
        cursor.0 = seek(group, cursor.0, yl);
        cursor.1 = seek(group, cursor.1, yh);
        t.add(c, prefix[from + cursor.1] - prefix[from + cursor.0]);
    }
}

/// `ranks.partition_point(|r| r < bound)` (`ranks` ascending), searched
/// from `cursor` (a previous answer): forward by doubling steps when the
/// answer lies ahead, else by bisection of what lies before.
fn seek(ranks: &[u32], cursor: usize, bound: u32) -> usize {
    let cursor = cursor.min(ranks.len());
    if cursor > 0 && ranks[cursor - 1] >= bound {
        return ranks[..cursor].partition_point(|&r| r < bound);
    }
    // Every rank before `low` is below `bound`.
    let mut low = cursor;
    let mut step = 1;
    while low + step <= ranks.len() && ranks[low + step - 1] < bound {
        low += step;
        step *= 2;
    }
    let high = (low + step).min(ranks.len());
    low + ranks[low..high].partition_point(|&r| r < bound)
}

/// Fenwick tree over ranks `0..m` of a `y` dimension: counts and
/// position sums, and weight sums only when there are weights.
struct Fenwick {
    counts: Vec<(i64, i64)>,
    weights: Option<Vec<i128>>,
}

impl Fenwick {
    fn new(m: usize, weighted: bool) -> Fenwick {
        Fenwick { counts: vec![(0, 0); m + 1], weights: weighted.then(|| vec![0; m + 1]) }
    }

    fn add(&mut self, rank: usize, position: usize, weight: i64) {
        let mut i = rank + 1;
        while i < self.counts.len() {
            self.counts[i].0 += 1;
            self.counts[i].1 += position as i64;
            if let Some(w) = &mut self.weights {
                w[i] += i128::from(weight);
            }
            i += i & i.wrapping_neg();
        }
    }

    /// Sum over ranks `< y`.
    fn prefix(&self, y: usize) -> Acc {
        let mut s = Acc::default();
        let mut i = y;
        while i > 0 {
            s.count += self.counts[i].0;
            s.positions += self.counts[i].1;
            if let Some(w) = &self.weights {
                s.weights += w[i];
            }
            i &= i - 1;
        }
        s
    }
}

/// Buckets `items` by `key(item) < buckets`, stably.
fn bucket<T: Copy>(items: &[T], buckets: usize, key: impl Fn(&T) -> usize) -> (Vec<T>, Vec<usize>) {
    let mut start = vec![0usize; buckets + 1];
    for it in items {
        start[key(it) + 1] += 1;
    }
    for b in 1..=buckets {
        start[b] += start[b - 1];
    }
    let mut fill = start.clone();
    let mut out = items.to_vec(); // every slot is overwritten once
    for it in items {
        let b = key(it);
        out[fill[b]] = *it;
        fill[b] += 1;
    }
    (out, start)
}

/// Two varying dimensions: per query, the keys in a rectangle of ranks.
/// F(x, y) = the keys with x-rank < x and y-rank < y; a rectangle is
/// F(xh, yh) - F(xl, yh) - F(xh, yl) + F(xl, yl), all four taken in one
/// sweep over x.
fn sweep(
    x: &Dim,
    y: &Dim,
    included: &[u32],
    weights: Option<&[i64]>,
    c: i64,
    active: Option<&[bool]>,
    totals: &mut [Total],
) {
    let (mx, my) = (x.order.distinct, y.order.distinct);
    let (points, point_start) = bucket(included, mx, |&k| x.order.rank[k as usize] as usize);
    // (x, y, query, sign)
    let mut events: Vec<(u32, u32, u32, i8)> = Vec::with_capacity(4 * totals.len());
    for q in 0..totals.len() {
        let (xl, xh, yl, yh) = (x.lo[q], x.hi[q], y.lo[q], y.hi[q]);
        if xl >= xh || yl >= yh || active.is_some_and(|a| !a[q]) {
            continue;
        }
        for (ex, ey, sign) in [(xh, yh, 1), (xl, yh, -1), (xh, yl, -1), (xl, yl, 1)] {
            if ex > 0 && ey > 0 {
                events.push((ex, ey, q as u32, sign));
            }
        }
    }
    let (events, event_start) = bucket(&events, mx + 1, |e| e.0 as usize);
    let mut tree = Fenwick::new(my, weights.is_some());
    for ex in 1..=mx {
        // Now every key with x-rank < ex is in the tree.
        for &k in &points[point_start[ex - 1]..point_start[ex]] {
            let k = k as usize;
            tree.add(y.order.rank[k] as usize, k, weights.map_or(0, |w| w[k]));
        }
        for &(_, ey, q, sign) in &events[event_start[ex]..event_start[ex + 1]] {
            totals[q as usize].add(c * i64::from(sign), tree.prefix(ey as usize));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::seek;

    /// `seek` answers as `partition_point` does, from every cursor, for
    /// bounds below, among and above the ranks (with repeats).
    #[test]
    fn seek_agrees_with_partition_point_from_any_cursor() {
        let ranks = [0u32, 0, 1, 3, 3, 3, 4, 7, 9, 9, 12];
        for bound in 0..15 {
            let want = ranks.partition_point(|&r| r < bound);
            for cursor in 0..=ranks.len() + 2 {
                assert_eq!(seek(&ranks, cursor, bound), want, "bound {bound}, cursor {cursor}");
            }
        }
        assert_eq!(seek(&[], 0, 5), 0);
    }
}
