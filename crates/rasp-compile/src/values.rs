//! Value sets and the evaluation of elementwise operations on them.
//!
//! Every operation is evaluated by the real evaluator (`rasp_core::Evaluator`)
//! on a tiny graph, so value sets follow the interpreter's Python semantics
//! exactly (int/float/bool, rounding, errors). An argument tuple on which the
//! operation raises is dropped: the interpreter would fail on any input that
//! reaches it, and the model need not agree with a failure.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{FromPrimitive, ToPrimitive, Zero};
use rasp_core::pyops::AtomKey;
use rasp_core::{Atom, Evaluator, Graph, MapOp, NodeKind, NodeValue, Value};
use rasp_model::Scalar;
use std::collections::HashMap;
use std::rc::Rc;

/// Distinct atoms by Python equality (`1 == 1.0 == True` is one value), in a
/// canonical order: numbers ascending, then strings. The representative of
/// equal numbers is the int (then the bool, then the float), so operations
/// that refuse floats (indexing) still see the int.
#[derive(Debug, Clone, Default)]
pub struct ValueSet {
    atoms: Vec<Atom>,
    index: HashMap<AtomKey, usize>,
}

fn rank(a: &Atom) -> u8 {
    match a {
        Atom::Int(_) | Atom::BigInt(_) => 0,
        Atom::Bool(_) => 1,
        Atom::Float(_) => 2,
        Atom::Str(_) => 3,
    }
}

/// The canonical order of atoms in a value set.
pub fn atom_order(a: &Atom, b: &Atom) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Atom::Str(x), Atom::Str(y)) => x.cmp(y),
        (Atom::Str(_), _) => Ordering::Greater,
        (_, Atom::Str(_)) => Ordering::Less,
        _ => {
            let x = number(a).unwrap_or(f64::NAN);
            let y = number(b).unwrap_or(f64::NAN);
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
    }
}

impl ValueSet {
    pub fn from_atoms(atoms: impl IntoIterator<Item = Atom>) -> ValueSet {
        let mut best: HashMap<AtomKey, Atom> = HashMap::new();
        for a in atoms {
            if let Atom::Float(f) = a
                && f.is_nan()
            {
                continue;
            }
            let key = AtomKey(a.clone());
            match best.get(&key) {
                Some(old) if rank(old) <= rank(&a) => {}
                _ => {
                    best.insert(key, a);
                }
            }
        }
        let mut sorted: Vec<Atom> = best.into_values().collect();
        sorted.sort_by(atom_order);
        // Floats closer than `verify` tells apart (0.3 and 0.1 + 0.2) are one
        // value: no float32 network can separate them, and a readout or MLP
        // holding both would decide between them by rounding noise. The
        // first (smallest) stands for the run; every member maps to it.
        let mut atoms: Vec<Atom> = Vec::with_capacity(sorted.len());
        let mut index: HashMap<AtomKey, usize> = HashMap::with_capacity(sorted.len());
        for a in sorted {
            if let (Some(Atom::Float(last)), Atom::Float(x)) = (atoms.last(), &a)
                && floats_merge(*last, *x)
            {
                index.insert(AtomKey(a.clone()), atoms.len() - 1);
                continue;
            }
            index.insert(AtomKey(a.clone()), atoms.len());
            atoms.push(a);
        }
        ValueSet { atoms, index }
    }

    pub fn atoms(&self) -> &[Atom] {
        &self.atoms
    }

    pub fn len(&self) -> usize {
        self.atoms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty()
    }

    /// The position of a value (by Python equality; a float also finds the
    /// value it is merged with, see [`floats_merge`]).
    pub fn position(&self, a: &Atom) -> Option<usize> {
        if let Some(&i) = self.index.get(&AtomKey(a.clone())) {
            return Some(i);
        }
        let Atom::Float(x) = a else { return None };
        let i = self.atoms.partition_point(|b| !matches!(b, Atom::Str(_)) && number(b).is_some_and(|y| y < *x));
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .find(|&j| matches!(self.atoms.get(j), Some(Atom::Float(y)) if floats_merge(*y, *x)))
    }

    /// Whether every value is a number (bools count).
    pub fn all_numeric(&self) -> bool {
        self.atoms.iter().all(Atom::is_number)
    }

    /// The values as numbers, when all are numbers.
    pub fn numbers(&self) -> Option<Vec<f64>> {
        self.atoms.iter().map(number).collect()
    }
}

/// Whether two floats are one value for the compiler: as close as
/// `verify` counts equal (relative 1e-9), i.e. rounding differences of one
/// exact number reached by different float operations.
pub fn floats_merge(a: f64, b: f64) -> bool {
    a != b && (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// A number as the model stores it (bools as 0/1).
pub fn number(a: &Atom) -> Option<f64> {
    match a {
        Atom::Str(_) => None,
        other => rasp_core::pyops::to_f64(other).ok(),
    }
}

pub fn to_scalar(a: &Atom) -> Scalar {
    match a {
        Atom::Bool(b) => Scalar::Bool(*b),
        Atom::Int(v) => Scalar::Int(*v),
        Atom::BigInt(v) => v.to_i64().map_or_else(|| Scalar::Float(v.to_f64().unwrap_or(f64::NAN)), Scalar::Int),
        Atom::Float(v) => Scalar::Float(*v),
        Atom::Str(s) => Scalar::Str(s.to_string()),
    }
}

/// Python's repr-like display for messages.
pub fn show(a: &Atom) -> String {
    rasp_core::pyfmt::py_repr(a)
}

/// Applies `op` to argument columns (all of one length): one result per
/// row, `None` where the interpreter raises.
pub fn apply(op: &MapOp, columns: &[Vec<Atom>]) -> Vec<Option<Atom>> {
    let len = columns.first().map_or(1, Vec::len);
    let mut out = vec![None; len];
    if len == 0 {
        return out;
    }
    apply_range(op, columns, 0, len, &mut out);
    out
}

/// Evaluates rows `from..to` in one go; on an error, splits the range so
/// that only the failing rows are dropped.
fn apply_range(op: &MapOp, columns: &[Vec<Atom>], from: usize, to: usize, out: &mut [Option<Atom>]) {
    match eval_rows(op, columns, from, to) {
        Some(values) => {
            for (slot, v) in out[from..to].iter_mut().zip(values) {
                *slot = Some(v);
            }
        }
        None if to - from > 1 => {
            let mid = from + (to - from) / 2;
            apply_range(op, columns, from, mid, out);
            apply_range(op, columns, mid, to, out);
        }
        None => {}
    }
}

fn eval_rows(op: &MapOp, columns: &[Vec<Atom>], from: usize, to: usize) -> Option<Vec<Atom>> {
    let mut graph = Graph::new();
    let indices = graph.add(NodeKind::Indices, "indices", false);
    let inputs: Vec<_> = columns
        .iter()
        .map(|c| {
            let table = Value::list(c[from..to].iter().map(|a| Value::Atom(a.clone())).collect());
            graph.add(NodeKind::Map { op: MapOp::Lookup(Rc::new(table)), inputs: vec![indices] }, "column", false)
        })
        .collect();
    let root = if inputs.is_empty() {
        // A map of no s-op (not built by the interpreter): nothing to apply.
        return None;
    } else {
        graph.add(NodeKind::Map { op: op.clone(), inputs }, "result", false)
    };
    let input = vec![Value::int(0); to - from];
    match Evaluator::new().evaluate(&graph, root, &input) {
        Ok(NodeValue::Seq(s)) => Some(s.values.clone()),
        _ => None,
    }
}

/// The value of a token s-op for one input token (by the evaluator).
pub fn convert_token(conversion: rasp_core::TokenConversion, token: &Value) -> Option<Atom> {
    let mut graph = Graph::new();
    let t = graph.add(NodeKind::Tokens(conversion), "tokens", false);
    match Evaluator::new().evaluate(&graph, t, std::slice::from_ref(token)) {
        Ok(NodeValue::Seq(s)) => s.values.first().cloned(),
        _ => None,
    }
}

/// An exact rational for a number atom (floats are dyadic rationals).
fn rational(a: &Atom) -> Option<BigRational> {
    match a {
        Atom::Bool(b) => Some(BigRational::from_integer(BigInt::from(u8::from(*b)))),
        Atom::Int(v) => Some(BigRational::from_integer(BigInt::from(*v))),
        Atom::BigInt(v) => Some(BigRational::from_integer(v.as_ref().clone())),
        Atom::Float(f) => BigRational::from_float(*f),
        Atom::Str(_) => None,
    }
}

/// Every mean the interpreter can produce by averaging `count` values of
/// `values` for count in 2..=max_count (it averages only when several
/// positions are selected): sums are enumerated exactly as rationals, then
/// divided and rounded to the nearest float once, as the interpreter's
/// `sum * 1.0 / count` does for ints. Fails when the set would exceed `limit`.
pub fn means(values: &ValueSet, max_count: usize, limit: usize) -> Result<Vec<Atom>, usize> {
    let nums: Vec<BigRational> = values.atoms().iter().filter_map(rational).collect();
    if nums.is_empty() {
        return Ok(vec![]);
    }
    let mut sums: Vec<BigRational> = nums.clone();
    let mut out: Vec<BigRational> = Vec::new();
    for count in 2..=max_count {
        let mut next: Vec<BigRational> = Vec::with_capacity(sums.len() * nums.len());
        for s in &sums {
            for v in &nums {
                next.push(s + v);
            }
        }
        next.sort();
        next.dedup();
        if next.len() > limit {
            return Err(next.len());
        }
        let c = BigRational::from_integer(BigInt::from(count));
        out.extend(next.iter().map(|s| s / &c));
        if out.len() > 4 * limit {
            out.sort();
            out.dedup();
            if out.len() > limit {
                return Err(out.len());
            }
        }
        sums = next;
    }
    out.sort();
    out.dedup();
    if out.len() > limit {
        return Err(out.len());
    }
    Ok(out.iter().map(|r| Atom::Float(rational_to_f64(r))).collect())
}

fn rational_to_f64(r: &BigRational) -> f64 {
    if r.is_zero() {
        return 0.0;
    }
    // Correctly rounded for the sizes that occur (numerator and
    // denominator well inside f64's exact integer range); otherwise close.
    match (r.numer().to_i64(), r.denom().to_i64()) {
        (Some(n), Some(d)) if n.unsigned_abs() < (1 << 53) && d < (1 << 53) => n as f64 / d as f64,
        _ => r.to_f64().or_else(|| BigRational::from_f64(0.0).and_then(|z| z.to_f64())).unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicate_floats_are_one_value() {
        let sum = 0.1 + 0.2;
        assert_ne!(sum, 0.3);
        let set = ValueSet::from_atoms([Atom::Float(sum), Atom::Float(0.3), Atom::Int(1), Atom::Float(0.5)]);
        assert_eq!(set.len(), 3);
        assert_eq!(set.position(&Atom::Float(0.3)), Some(0));
        assert_eq!(set.position(&Atom::Float(sum)), Some(0));
        assert_eq!(set.position(&Atom::Float(0.5)), Some(1));
        assert_eq!(set.position(&Atom::Float(0.4)), None);
        // Ints stay exact, however close.
        let big = ValueSet::from_atoms([Atom::Int(1 << 40), Atom::Int((1 << 40) + 1)]);
        assert_eq!(big.len(), 2);
    }
}
