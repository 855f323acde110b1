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

/// A str of at most 7 bytes as a word that orders as Python orders strs:
/// its UTF-8 bytes from the top (byte order is code point order), zeros
/// after them, and its length in the lowest byte. Two strs that agree up to
/// the shorter one's length differ only in the padding and the length
/// (`"a"` against `"a\0"`), where the shorter is smaller, as in Python.
/// `None` for longer strs and for atoms that are not strs.
pub(crate) fn packed_str(atom: &Atom) -> Option<u64> {
    let Atom::Str(s) = atom else { return None };
    let bytes = s.as_bytes();
    if bytes.len() > 7 {
        return None;
    }
    // Byte by byte: a copy of a few bytes would call memcpy.
    let word = bytes.iter().enumerate().fold(0u64, |word, (i, &b)| word | u64::from(b) << (56 - 8 * i));
    Some(word | bytes.len() as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Domain {
    Str,
    Num,
}

fn domain(seq: &Sequence) -> Domain {
    if seq.seq_type == SeqType::Str { Domain::Str } else { Domain::Num }
}

/// Str columns longer than this are numbered by hashing before sorting;
/// shorter ones are sorted directly (a hash table costs more than a few
/// comparisons).
const HASH_FROM: usize = 64;

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
    /// The positions `0..n` themselves (all distinct, rank = position):
    /// the column an attention mask ranges over.
    pub(crate) fn positions(n: usize) -> ColumnOrder {
        let rank: Vec<u32> = (0..n as u32).collect();
        ColumnOrder { domain: Domain::Num, representative: rank.clone(), rank, distinct: n }
    }

    /// `None` when the column is not sortable.
    pub(crate) fn new(seq: &Sequence) -> Option<ColumnOrder> {
        let n = seq.values.len();
        let mut rank = vec![0u32; n];
        let mut representative = Vec::with_capacity(n);
        match domain(seq) {
            Domain::Str if n <= HASH_FROM && seq.values.iter().all(|a| packed_str(a).is_some()) => {
                // Short strs compare as their packed words: no byte
                // comparisons while sorting.
                let packed: Vec<u64> = seq.values.iter().map(|a| packed_str(a).unwrap_or(0)).collect();
                let mut sorted: Vec<u32> = (0..n as u32).collect();
                sorted.sort_unstable_by_key(|&k| packed[k as usize]);
                let mut previous: Option<u64> = None;
                for &k in &sorted {
                    let v = packed[k as usize];
                    if previous != Some(v) {
                        representative.push(k);
                        previous = Some(v);
                    }
                    rank[k as usize] = representative.len() as u32 - 1;
                }
            }
            Domain::Str if n <= HASH_FROM => {
                let mut sorted: Vec<u32> = (0..n as u32).collect();
                sorted.sort_unstable_by(|&x, &y| str_of(&seq.values[x as usize]).cmp(str_of(&seq.values[y as usize])));
                let mut previous: Option<&str> = None;
                for &k in &sorted {
                    let v = str_of(&seq.values[k as usize]);
                    if previous != Some(v) {
                        representative.push(k);
                        previous = Some(v);
                    }
                    rank[k as usize] = representative.len() as u32 - 1;
                }
            }
            Domain::Str => {
                // Inputs hold few distinct strings (characters, words):
                // number them by hashing, once per position, and sort only
                // the distinct ones. Equal strings often share one
                // allocation, which the previous position's check catches.
                let mut number: HashMap<&str, u32> = HashMap::new();
                let mut first: Vec<u32> = Vec::new();
                let mut numbers: Vec<u32> = Vec::with_capacity(n);
                // Equal tokens usually share one allocation (inputs are
                // split into shared characters): a small table keyed by
                // address answers most positions without hashing the text.
                let mut by_address: [(usize, u32); 64] = [(0, 0); 64];
                for (k, a) in seq.values.iter().enumerate() {
                    let v = str_of(a);
                    let address = v.as_ptr() as usize;
                    let slot = &mut by_address[(address >> 4) % 64];
                    let id = if slot.0 == address && !v.is_empty() {
                        slot.1
                    } else {
                        let id = *number.entry(v).or_insert_with(|| {
                            first.push(k as u32);
                            first.len() as u32 - 1
                        });
                        *slot = (address, id);
                        id
                    };
                    numbers.push(id);
                }
                let text = |id: u32| str_of(&seq.values[first[id as usize] as usize]);
                let mut by_text: Vec<u32> = (0..first.len() as u32).collect();
                by_text.sort_unstable_by(|&x, &y| text(x).cmp(text(y)));
                let mut rank_of = vec![0u32; first.len()];
                for (r, &id) in by_text.iter().enumerate() {
                    rank_of[id as usize] = r as u32;
                    representative.push(first[id as usize]);
                }
                for (r, id) in rank.iter_mut().zip(&numbers) {
                    *r = rank_of[*id as usize];
                }
            }
            Domain::Num => {
                // Int columns (the common case: positions, counts) are read
                // straight from the atoms; only floats need `NumKey`s.
                let ints = int_values(&seq.values);
                let keys: Vec<NumKey> = match &ints {
                    Some(_) => Vec::new(),
                    None => seq.values.iter().map(NumKey::of).collect::<Option<_>>()?,
                };
                if let Some(ints) = ints {
                    if let Some((ranks, representatives)) = dense_ranks(&ints) {
                        return Some(ColumnOrder {
                            domain: Domain::Num,
                            distinct: representatives.len(),
                            rank: ranks,
                            representative: representatives,
                        });
                    }
                    let mut rank_in_order = |k: u32, previous: &mut Option<i64>| {
                        let v = ints[k as usize];
                        if *previous != Some(v) {
                            representative.push(k);
                            *previous = Some(v);
                        }
                        rank[k as usize] = representative.len() as u32 - 1;
                    };
                    let mut previous: Option<i64> = None;
                    if ints.is_sorted() {
                        for k in 0..n as u32 {
                            rank_in_order(k, &mut previous);
                        }
                    } else {
                        let mut sorted: Vec<u32> = (0..n as u32).collect();
                        sorted.sort_unstable_by_key(|&k| ints[k as usize]);
                        for &k in &sorted {
                            rank_in_order(k, &mut previous);
                        }
                    }
                } else {
                    let mut sorted: Vec<u32> = (0..n as u32).collect();
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

/// Ranks of an unsorted int column whose values span at most twice its
/// length (positions computed from positions, such as `sort`'s target
/// positions), by counting instead of sorting; with a position holding
/// each rank's value. `None` for other columns (sorted ones, short ones,
/// sparse values), which are sorted.
fn dense_ranks(ints: &[i64]) -> Option<(Vec<u32>, Vec<u32>)> {
    let n = ints.len();
    if n <= HASH_FROM || ints.is_sorted() {
        return None;
    }
    let (min, max) = (*ints.iter().min()?, *ints.iter().max()?);
    let span = usize::try_from(max.checked_sub(min)?).ok()?.checked_add(1)?;
    if span > 2 * n {
        return None;
    }
    let mut first = vec![u32::MAX; span];
    for (k, &v) in ints.iter().enumerate() {
        let slot = &mut first[(v - min) as usize];
        if *slot == u32::MAX {
            *slot = k as u32;
        }
    }
    let mut rank_of = vec![0u32; span];
    let mut representatives = Vec::new();
    for (value, &k) in first.iter().enumerate() {
        if k != u32::MAX {
            rank_of[value] = representatives.len() as u32;
            representatives.push(k);
        }
    }
    let ranks = ints.iter().map(|&v| rank_of[(v - min) as usize]).collect();
    Some((ranks, representatives))
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

/// Python's order between two atoms of sortable columns of one domain.
fn atom_cmp(a: &Atom, b: &Atom) -> Ordering {
    match (a, b) {
        (Atom::Int(x), Atom::Int(y)) => x.cmp(y),
        (Atom::Str(x), Atom::Str(y)) => x.as_ref().cmp(y.as_ref()),
        _ => match (NumKey::of(a), NumKey::of(b)) {
            (Some(x), Some(y)) => num_cmp(x, y),
            _ => Ordering::Equal,
        },
    }
}

impl Bounds {
    /// Merges the distinct values of both columns (both sortable).
    pub(crate) fn new(
        keys: &Sequence,
        key_order: &ColumnOrder,
        queries: &Sequence,
        query_order: &ColumnOrder,
        same: bool,
    ) -> Bounds {
        if same {
            let upper = key_order.rank.iter().map(|r| r + 1).collect();
            return Bounds::Ranks { lower: key_order.rank.clone(), upper };
        }
        if key_order.domain != query_order.domain {
            return Bounds::Mismatch;
        }
        let key = |r: usize| &keys.values[key_order.representative[r] as usize];
        let m = key_order.distinct;
        let mut lower_of = Vec::with_capacity(query_order.distinct);
        let mut upper_of = Vec::with_capacity(query_order.distinct);
        let mut k = 0;
        for &position in &query_order.representative {
            let v = &queries.values[position as usize];
            while k < m && atom_cmp(key(k), v) == Ordering::Less {
                k += 1;
            }
            lower_of.push(k as u32);
            upper_of.push((k + usize::from(k < m && atom_cmp(key(k), v) == Ordering::Equal)) as u32);
        }
        let lower = query_order.rank.iter().map(|&r| lower_of[r as usize]).collect();
        let upper = query_order.rank.iter().map(|&r| upper_of[r as usize]).collect();
        Bounds::Ranks { lower, upper }
    }
}

/// Largest prefix-mask table kept per key column (8 MB).
const MAX_MASK_WORDS: usize = 1 << 20;

/// How many spare buffers an `OrderCache` keeps.
const MAX_SPARE: usize = 8;

/// `(key, query)` and their bounds (`None`: not sortable).
type KnownBounds = ((NodeId, NodeId), Option<Rc<Bounds>>);

/// Column orders and bounds of one input, computed once and shared by every
/// selector that compares the same columns. Indexed by node id; cleared
/// between inputs by resetting only what was set.
#[derive(Default)]
pub(crate) struct OrderCache {
    orders: Vec<Option<Option<Rc<ColumnOrder>>>>,
    masks: Vec<Option<Option<Rc<Vec<u64>>>>>,
    touched: Vec<usize>,
    /// Few pairs per program: a list beats hashing.
    bounds: Vec<KnownBounds>,
    /// Spare `u32` buffers for the counting (`structured.rs`), kept from
    /// term to term and input to input: long inputs would otherwise map
    /// fresh pages for every term.
    spare: Vec<Vec<u32>>,
}

impl OrderCache {
    /// Makes room for node ids below `nodes` (tables only grow).
    pub(crate) fn grow(&mut self, nodes: usize) {
        if self.orders.len() < nodes {
            self.orders.resize(nodes, None);
            self.masks.resize(nodes, None);
        }
    }

    pub(crate) fn clear(&mut self) {
        for &i in &self.touched {
            self.orders[i] = None;
            self.masks[i] = None;
        }
        self.touched.clear();
        self.bounds.clear();
    }

    /// A buffer of `n` copies of `value`, reusing a spare one.
    pub(crate) fn take_filled(&mut self, n: usize, value: u32) -> Vec<u32> {
        let mut buffer = self.spare.pop().unwrap_or_default();
        buffer.clear();
        buffer.resize(n, value);
        buffer
    }

    /// Keeps `buffer` for [`OrderCache::take_filled`] (a few at most).
    pub(crate) fn give(&mut self, buffer: Vec<u32>) {
        if self.spare.len() < MAX_SPARE {
            self.spare.push(buffer);
        }
    }

    pub(crate) fn order(&mut self, id: NodeId, seq: &Sequence) -> Option<Rc<ColumnOrder>> {
        let i = id.index();
        if i >= self.orders.len() {
            return ColumnOrder::new(seq).map(Rc::new);
        }
        if let Some(known) = &self.orders[i] {
            return known.clone();
        }
        let order = ColumnOrder::new(seq).map(Rc::new);
        self.orders[i] = Some(order.clone());
        self.touched.push(i);
        order
    }

    pub(crate) fn bounds(
        &mut self,
        key: NodeId,
        keys: &Sequence,
        query: NodeId,
        queries: &Sequence,
    ) -> Option<(Rc<ColumnOrder>, Rc<Bounds>)> {
        let order = self.order(key, keys)?;
        if let Some((_, known)) = self.bounds.iter().find(|(pair, _)| *pair == (key, query)) {
            return Some((order, known.clone()?));
        }
        let bounds = self.order(query, queries).map(|q| Rc::new(Bounds::new(keys, &order, queries, &q, key == query)));
        self.bounds.push(((key, query), bounds.clone()));
        Some((order, bounds?))
    }

    /// For a sortable key column, `(m + 1)` bit rows: row `r` holds the
    /// keys of rank `< r`. `None` when that would take more than
    /// `MAX_MASK_WORDS` words.
    pub(crate) fn masks(&mut self, key: NodeId, order: &ColumnOrder) -> Option<Rc<Vec<u64>>> {
        let i = key.index();
        if let Some(Some(known)) = self.masks.get(i) {
            return known.clone();
        }
        let n = order.rank.len();
        let words = n.div_ceil(64);
        let m = order.distinct;
        let masks = if (m + 1).saturating_mul(words) > MAX_MASK_WORDS {
            None
        } else {
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
        };
        if i < self.masks.len() {
            self.masks[i] = Some(masks.clone());
            self.touched.push(i);
        }
        masks
    }
}

/// The values as integers when every one is an int or a bool (a bool counts
/// as 0 or 1, as in Python); `None` when any is not.
pub(super) fn int_values(values: &[Atom]) -> Option<Vec<i64>> {
    values
        .iter()
        .map(|a| match a {
            Atom::Int(v) => Some(*v),
            Atom::Bool(b) => Some(i64::from(*b)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed words order short strs as Rust orders `str`s (by bytes,
    /// which is code point order, Python's), ties included.
    #[test]
    fn packed_strs_keep_python_order() {
        let texts = [
            "", "\0", "\0\0", "a", "a\0", "a\0\0", "ab", "abc", "b", "z", "é", "\u{7f}", "\u{80}", "€", "😀",
            "abcdefg", "abcdeff", "😀a",
        ];
        for x in texts {
            for y in texts {
                let (px, py) = (packed_str(&Atom::str(x)), packed_str(&Atom::str(y)));
                assert_eq!(px.zip(py).map(|(a, b)| a.cmp(&b)), Some(x.cmp(y)), "{x:?} against {y:?}");
            }
        }
        assert_eq!(packed_str(&Atom::str("abcdefgh")), None);
        assert_eq!(packed_str(&Atom::Int(3)), None);
    }
}
