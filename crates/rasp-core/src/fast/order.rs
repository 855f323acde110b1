//! Sorting a column into ranks, and locating query values among the ranks.
//!
//! Python orders strs by code point (Rust's byte order of UTF-8 is the
//! same order) and numbers exactly across int and float. A column is
//! *sortable* when that order is total on it: all strs, or numbers without
//! NaN and without ints beyond i64 (those go the row-by-row way).

use crate::atom::Atom;
use crate::graph::NodeId;
use crate::sequence::{SeqType, Sequence};
use std::cmp::Ordering;
use std::collections::HashMap;
use std::rc::Rc;

/// A number of a sortable column: never NaN.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NumKey {
    I(i64),
    F(f64),
}

impl NumKey {
    pub(crate) fn of(atom: &Atom) -> Option<NumKey> {
        match atom {
            Atom::Bool(b) => Some(NumKey::I(i64::from(*b))),
            Atom::Int(v) => Some(NumKey::I(*v)),
            Atom::Float(v) if !v.is_nan() => Some(NumKey::F(*v)),
            _ => None,
        }
    }
}

/// Python's exact comparison of an int with a (non-NaN) float.
fn int_float_cmp(i: i64, f: f64) -> Ordering {
    const EXACT: i64 = 1 << 53;
    if f.is_infinite() {
        return if f > 0.0 { Ordering::Less } else { Ordering::Greater };
    }
    if (-EXACT..=EXACT).contains(&i) {
        return (i as f64).partial_cmp(&f).unwrap_or(Ordering::Equal);
    }
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let t = f.trunc();
    if t >= TWO_63 {
        return Ordering::Less;
    }
    if t < -TWO_63 {
        return Ordering::Greater;
    }
    // |t| < 2**63 and integral: the conversion is exact.
    match i.cmp(&(t as i64)) {
        Ordering::Equal => 0.0.partial_cmp(&(f - t)).unwrap_or(Ordering::Equal),
        other => other,
    }
}

pub(crate) fn num_cmp(a: NumKey, b: NumKey) -> Ordering {
    match (a, b) {
        (NumKey::I(x), NumKey::I(y)) => x.cmp(&y),
        (NumKey::F(x), NumKey::F(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (NumKey::I(x), NumKey::F(y)) => int_float_cmp(x, y),
        (NumKey::F(x), NumKey::I(y)) => int_float_cmp(y, x).reverse(),
    }
}

fn str_of(atom: &Atom) -> &str {
    match atom {
        Atom::Str(s) => s,
        _ => "",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    Str,
    Num,
}

fn domain(seq: &Sequence) -> Domain {
    if seq.seq_type == SeqType::Str { Domain::Str } else { Domain::Num }
}

/// The keys of a column as Python orders them.
#[derive(Debug)]
pub(crate) struct ColumnOrder {
    pub domain: Domain,
    /// Rank of each position's value among the distinct values.
    pub rank: Vec<u32>,
    /// How many distinct values.
    pub distinct: usize,
    /// A position holding each rank's value.
    representative: Vec<u32>,
}

impl ColumnOrder {
    /// `None` when the column is not sortable.
    pub(crate) fn new(seq: &Sequence) -> Option<ColumnOrder> {
        let n = seq.values.len();
        let mut rank = vec![0u32; n];
        let mut representative = Vec::new();
        match domain(seq) {
            Domain::Str => {
                let mut ids: HashMap<&str, u32> = HashMap::new();
                let mut first: Vec<u32> = Vec::new();
                for (k, a) in seq.values.iter().enumerate() {
                    let next = ids.len() as u32;
                    let id = *ids.entry(str_of(a)).or_insert_with(|| {
                        first.push(k as u32);
                        next
                    });
                    rank[k] = id;
                }
                let mut by_value: Vec<u32> = (0..first.len() as u32).collect();
                by_value.sort_unstable_by(|&x, &y| {
                    str_of(&seq.values[first[x as usize] as usize])
                        .cmp(str_of(&seq.values[first[y as usize] as usize]))
                });
                let mut rank_of_id = vec![0u32; first.len()];
                for (r, &id) in by_value.iter().enumerate() {
                    rank_of_id[id as usize] = r as u32;
                    representative.push(first[id as usize]);
                }
                for r in &mut rank {
                    *r = rank_of_id[*r as usize];
                }
            }
            Domain::Num => {
                let keys: Vec<NumKey> = seq.values.iter().map(NumKey::of).collect::<Option<_>>()?;
                let mut sorted: Vec<u32> = (0..n as u32).collect();
                if keys.iter().all(|k| matches!(k, NumKey::I(_))) {
                    let ints: Vec<i64> = keys.iter().map(|k| if let NumKey::I(v) = k { *v } else { 0 }).collect();
                    if !ints.is_sorted() {
                        sorted.sort_unstable_by_key(|&k| ints[k as usize]);
                    }
                    let mut previous: Option<i64> = None;
                    for &k in &sorted {
                        let v = ints[k as usize];
                        if previous != Some(v) {
                            representative.push(k);
                            previous = Some(v);
                        }
                        rank[k as usize] = representative.len() as u32 - 1;
                    }
                } else {
                    sorted.sort_unstable_by(|&x, &y| num_cmp(keys[x as usize], keys[y as usize]));
                    let mut previous: Option<NumKey> = None;
                    for &k in &sorted {
                        let v = keys[k as usize];
                        if previous.is_none_or(|p| num_cmp(p, v) != Ordering::Equal) {
                            representative.push(k);
                            previous = Some(v);
                        }
                        rank[k as usize] = representative.len() as u32 - 1;
                    }
                }
            }
        }
        Some(ColumnOrder { domain: domain(seq), rank, distinct: representative.len(), representative })
    }
}

/// Where each query value falls among a key column's distinct values.
#[derive(Debug)]
pub(crate) enum Bounds {
    /// A str column against a number column: `==` never holds.
    Mismatch,
    /// `lower[q]`: how many distinct keys are `<` the query value;
    /// `upper[q]`: how many are `<=`.
    Ranks { lower: Vec<u32>, upper: Vec<u32> },
}

impl Bounds {
    /// `None` when the query column is not sortable.
    pub(crate) fn new(keys: &Sequence, order: &ColumnOrder, queries: &Sequence, same: bool) -> Option<Bounds> {
        if same {
            let upper = order.rank.iter().map(|r| r + 1).collect();
            return Some(Bounds::Ranks { lower: order.rank.clone(), upper });
        }
        let n = queries.values.len();
        let mut lower = Vec::with_capacity(n);
        let mut upper = Vec::with_capacity(n);
        let distinct = |r: usize| &keys.values[order.representative[r] as usize];
        match (order.domain, domain(queries)) {
            (Domain::Str, Domain::Str) => {
                let sorted: Vec<&str> = (0..order.distinct).map(|r| str_of(distinct(r))).collect();
                for q in &queries.values {
                    let q = str_of(q);
                    let lo = sorted.partition_point(|s| *s < q);
                    let hi = lo + sorted[lo..].partition_point(|s| *s <= q);
                    lower.push(lo as u32);
                    upper.push(hi as u32);
                }
            }
            (Domain::Num, Domain::Num) => {
                let sorted: Vec<NumKey> = (0..order.distinct).map(|r| NumKey::of(distinct(r))).collect::<Option<_>>()?;
                for q in &queries.values {
                    let q = NumKey::of(q)?;
                    let lo = sorted.partition_point(|s| num_cmp(*s, q) == Ordering::Less);
                    let hi = lo + sorted[lo..].partition_point(|s| num_cmp(*s, q) != Ordering::Greater);
                    lower.push(lo as u32);
                    upper.push(hi as u32);
                }
            }
            _ => return Some(Bounds::Mismatch),
        }
        Some(Bounds::Ranks { lower, upper })
    }
}

/// Largest prefix-mask table kept per key column (8 MB).
const MAX_MASK_WORDS: usize = 1 << 20;

/// Column orders and bounds of one input, computed once and shared by every
/// selector that compares the same columns.
#[derive(Default)]
pub(crate) struct OrderCache {
    orders: HashMap<NodeId, Option<Rc<ColumnOrder>>>,
    bounds: HashMap<(NodeId, NodeId), Option<Rc<Bounds>>>,
    masks: HashMap<NodeId, Option<Rc<Vec<u64>>>>,
}

impl OrderCache {
    pub(crate) fn clear(&mut self) {
        self.orders.clear();
        self.bounds.clear();
        self.masks.clear();
    }

    /// For a sortable key column, `(m + 1)` bit rows: row `r` holds the
    /// keys of rank `< r`. `None` when that would take more than
    /// `MAX_MASK_WORDS` words.
    pub(crate) fn masks(&mut self, key: NodeId, order: &ColumnOrder) -> Option<Rc<Vec<u64>>> {
        self.masks
            .entry(key)
            .or_insert_with(|| {
                let n = order.rank.len();
                let words = n.div_ceil(64);
                let m = order.distinct;
                if (m + 1).saturating_mul(words) > MAX_MASK_WORDS {
                    return None;
                }
                let mut masks = vec![0u64; (m + 1) * words];
                for (k, &r) in order.rank.iter().enumerate() {
                    masks[(r as usize + 1) * words + k / 64] |= 1 << (k % 64);
                }
                for r in 1..=m {
                    for w in 0..words {
                        masks[r * words + w] |= masks[(r - 1) * words + w];
                    }
                }
                Some(Rc::new(masks))
            })
            .clone()
    }

    pub(crate) fn order(&mut self, id: NodeId, seq: &Sequence) -> Option<Rc<ColumnOrder>> {
        self.orders.entry(id).or_insert_with(|| ColumnOrder::new(seq).map(Rc::new)).clone()
    }

    pub(crate) fn bounds(
        &mut self,
        key: NodeId,
        keys: &Sequence,
        query: NodeId,
        queries: &Sequence,
    ) -> Option<(Rc<ColumnOrder>, Rc<Bounds>)> {
        let order = self.order(key, keys)?;
        let bounds = self
            .bounds
            .entry((key, query))
            .or_insert_with(|| Bounds::new(keys, &order, queries, key == query).map(Rc::new))
            .clone()?;
        Some((order, bounds))
    }
}
