//! Exact ReLU MLPs for functions on finite domains.
//!
//! Inputs ("units") are one-hots (read as sums of residual dimensions) and
//! scalars with known finite value sets. The output is a vector
//! per input combination (a one-hot, a scalar, or feature bits).
//!
//! * One-hots only: the combinations with the same output vector are
//!   covered by disjoint boxes X₁×…×Xₚ (combinations the input never
//!   produces are free to include); a box is one neuron
//!   `relu(Σᵢ Σ_{a∈Xᵢ} xᵢ[a] − (p−1))`, exactly 1 inside and 0 outside.
//! * With a scalar x of sorted values v₀<…<v_{K−1}: for each one-hot
//!   combination the function of x is f(v₀) plus steps at the midpoints;
//!   a step at t of height Δ is `Δ·(relu(L(x−t)+½) − relu(L(x−t)−½))`
//!   with L = 2/gap, which is exactly 0 below t−gap/4 and exactly 1 above
//!   t+gap/4, so x may be off by a quarter of the gap. The step is gated
//!   to its box by adding C·(box sum − p) with C large enough to push it
//!   below zero outside. Steps with equal heights share boxes.
//! * Several scalars are read through one linear projection that is
//!   injective on the grid of their values ([`Projection`]), and then as
//!   one scalar.

use crate::residual::{Dim, Row, add_into, normalize};
use std::collections::{BTreeMap, HashMap};

/// How an MLP reads one of its inputs from the residual stream.
pub enum InputRows {
    /// One row per value (their sum is the `one` direction).
    OneHot(Vec<Row>),
    /// A scalar and its possible values, ascending.
    Scalar { row: Row, values: Vec<f64> },
}

/// One hidden unit: `output * relu(input · x)`.
#[derive(Debug, Clone)]
pub struct Neuron {
    pub input: Row,
    pub output: Row,
}

/// Scalar values closer than float precision can tell apart: indices
/// `first..=last` of the sorted values.
#[derive(Clone, Copy, Debug)]
struct Cluster {
    first: usize,
    last: usize,
}

/// A box X₁×…×Xₚ of one-hot value combinations (`sets[unit][value]`: value
/// inside) and the output vector a neuron gives inside it.
struct OutputBox {
    sets: Vec<Vec<bool>>,
    output: Vec<f64>,
}

/// The gate of a box: the sum of the rows of its one-hot sets, and how many
/// inputs that sum counts (it reaches `counted` exactly inside the box).
struct BoxGate {
    row: Row,
    counted: usize,
}

/// Most combinations of scalar values one MLP reads (the product of the
/// scalars' value-set sizes): the projection that merges them spreads that
/// many values over one line, and float32 must still tell them apart.
pub const MAX_SCALAR_COMBINATIONS: usize = 1 << 12;

/// Several scalars read as one: `Σ coefficients[j] · x_j`, which takes a
/// different value on every combination of their values, at least `gap`
/// apart (a mixed radix: each scalar's coefficient spaces its values
/// wider than the whole range of the ones before it).
#[derive(Clone, Debug)]
pub struct Projection {
    pub coefficients: Vec<f64>,
    /// The smallest distance between the projections of two combinations.
    pub gap: f64,
}

impl Projection {
    /// The projection for scalars with these (ascending) value sets.
    pub fn new(value_sets: &[&[f64]]) -> Projection {
        let mut coefficients = Vec::with_capacity(value_sets.len());
        let mut range = 0.0;
        let mut gap = f64::INFINITY;
        for values in value_sets {
            let own_gap = values.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
            let own_range = match (values.first(), values.last()) {
                (Some(lo), Some(hi)) => hi - lo,
                _ => 0.0,
            };
            if !own_gap.is_finite() || own_gap <= 0.0 {
                // One value: nothing to tell apart.
                coefficients.push(0.0);
                continue;
            }
            // The first scalar sets the gap; each later one steps by more
            // than the accumulated range plus that gap.
            let c = if gap.is_finite() { (range + gap) / own_gap } else { 1.0 };
            if !gap.is_finite() {
                gap = own_gap;
            }
            coefficients.push(c);
            range += c * own_range;
        }
        Projection { coefficients, gap }
    }

    /// How much the scalars' own errors are amplified relative to the
    /// projection's gap: an MLP reading the projection tolerates an error
    /// of a quarter gap, so scalar j, whose error is a fraction ε of its own
    /// gap g_j, contributes c_j·g_j·ε; the sum over j divided by the gap is
    /// what ε is multiplied by.
    pub fn amplification(&self, value_sets: &[&[f64]]) -> f64 {
        let mut total = 0.0;
        for (c, values) in self.coefficients.iter().zip(value_sets) {
            let own_gap = values.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
            if own_gap.is_finite() {
                total += c * own_gap;
            }
        }
        if self.gap.is_finite() && self.gap > 0.0 { total / self.gap } else { 1.0 }
    }
}

/// Merges several scalar units into one (their [`Projection`]), so that the
/// single-scalar construction applies: one hidden layer computes any
/// function of several scalars on the finite grid of their values.
fn merge_scalars(units: &[InputRows], points: &[Vec<usize>]) -> Result<(Vec<InputRows>, Vec<Vec<usize>>), String> {
    let scalar_ks: Vec<usize> = (0..units.len()).filter(|&k| matches!(units[k], InputRows::Scalar { .. })).collect();
    let value_sets: Vec<&[f64]> = scalar_ks
        .iter()
        .map(|&k| match &units[k] {
            InputRows::Scalar { values, .. } => values.as_slice(),
            InputRows::OneHot(_) => &[],
        })
        .collect();
    let combinations = value_sets.iter().fold(1usize, |acc, v| acc.saturating_mul(v.len().max(1)));
    if combinations > MAX_SCALAR_COMBINATIONS {
        return Err(format!(
            "its MLP would read {combinations} combinations of scalar values (limit {MAX_SCALAR_COMBINATIONS})"
        ));
    }
    let projection = Projection::new(&value_sets);
    let project = |point: &[usize]| -> f64 {
        scalar_ks.iter().zip(&value_sets).zip(&projection.coefficients).map(|((&k, v), c)| c * v[point[k]]).sum()
    };
    let mut merged_values: Vec<f64> = points.iter().map(|p| project(p)).collect();
    merged_values.sort_by(f64::total_cmp);
    merged_values.dedup();
    let mut row = Row::new();
    for (&k, c) in scalar_ks.iter().zip(&projection.coefficients) {
        if let InputRows::Scalar { row: r, .. } = &units[k]
            && *c != 0.0
        {
            add_into(&mut row, r, *c);
        }
    }
    let first = scalar_ks[0];
    let mut merged_units = Vec::with_capacity(units.len() - scalar_ks.len() + 1);
    let mut new_points: Vec<Vec<usize>> = vec![Vec::with_capacity(units.len()); points.len()];
    for (k, unit) in units.iter().enumerate() {
        match unit {
            InputRows::OneHot(rows) => {
                merged_units.push(InputRows::OneHot(rows.clone()));
                for (new, old) in new_points.iter_mut().zip(points) {
                    new.push(old[k]);
                }
            }
            InputRows::Scalar { .. } if k == first => {
                merged_units.push(InputRows::Scalar { row: normalize(&row), values: merged_values.clone() });
                for (new, old) in new_points.iter_mut().zip(points) {
                    let z = project(old);
                    let index = merged_values.partition_point(|&v| v < z);
                    new.push(index);
                }
            }
            InputRows::Scalar { .. } => {}
        }
    }
    Ok((merged_units, new_points))
}

/// Builds the neurons. `points[i]` gives a value index per unit and
/// `outputs[i]` the output vector there (`None`: the interpreter fails
/// there, any output will do). Output vectors have one entry per `out_dims`.
/// Thresholds are weights on [`Dim::ONE`]: the network has no biases.
/// Several scalars are first merged into one ([`Projection`]).
pub fn build(
    units: &[InputRows],
    points: &[Vec<usize>],
    outputs: &[Option<Vec<f64>>],
    out_dims: &[Dim],
) -> Result<Vec<Neuron>, String> {
    if units.iter().filter(|u| matches!(u, InputRows::Scalar { .. })).count() > 1 {
        let (merged_units, merged_points) = merge_scalars(units, points)?;
        return build(&merged_units, &merged_points, outputs, out_dims);
    }
    let scalar_k = units.iter().position(|u| matches!(u, InputRows::Scalar { .. }));
    let one_hot_ks: Vec<usize> = (0..units.len()).filter(|&k| Some(k) != scalar_k).collect();
    let lens: Vec<usize> = one_hot_ks
        .iter()
        .map(|&k| match &units[k] {
            InputRows::OneHot(rows) => rows.len(),
            InputRows::Scalar { .. } => 0,
        })
        .collect();
    // Per one-hot combination, the output along the scalar's values.
    let k_len = match scalar_k.map(|k| &units[k]) {
        Some(InputRows::Scalar { values, .. }) => values.len(),
        _ => 1,
    };
    let mut combos: BTreeMap<Vec<usize>, Vec<Option<Vec<f64>>>> = BTreeMap::new();
    for (p, out) in points.iter().zip(outputs) {
        let key: Vec<usize> = one_hot_ks.iter().map(|&k| p[k]).collect();
        let j = scalar_k.map_or(0, |k| p[k]);
        let slot = combos.entry(key).or_insert_with(|| vec![None; k_len]);
        if let Some(o) = out {
            slot[j] = Some(o.clone());
        }
    }
    // Scalar values closer than float precision can tell apart form one
    // cluster; a function must agree on a cluster.
    let values: &[f64] = match scalar_k.map(|k| &units[k]) {
        Some(InputRows::Scalar { values, .. }) => values,
        _ => &[0.0],
    };
    let mut clusters: Vec<Cluster> = Vec::new();
    for j in 0..k_len {
        match clusters.last_mut() {
            Some(cluster) if values[j] - values[cluster.last] <= 1e-9 * (1.0 + values[j].abs()) => cluster.last = j,
            _ => clusters.push(Cluster { first: j, last: j }),
        }
    }
    // Per combination, the output on each cluster; undefined clusters take
    // the previous one's output so that they add no step.
    let mut filled: Vec<(Vec<usize>, Vec<Vec<f64>>)> = Vec::new();
    for (key, column) in combos {
        let Some(first) = column.iter().flatten().next().cloned() else { continue };
        let mut last = first;
        let mut col = Vec::with_capacity(clusters.len());
        for &Cluster { first: lo, last: hi } in &clusters {
            let mut seen: Option<&Vec<f64>> = None;
            for v in column[lo..=hi].iter().flatten() {
                match seen {
                    Some(w) if w != v => {
                        return Err(format!(
                            "an input of its MLP takes the values {} and {}, only {:.1e} apart, with different \
                             results; a float32 network cannot tell them apart",
                            values[lo],
                            values[hi],
                            values[hi] - values[lo]
                        ));
                    }
                    _ => seen = Some(v),
                }
            }
            if let Some(v) = seen {
                last = v.clone();
            }
            col.push(last.clone());
        }
        filled.push((key, col));
    }
    let keys: Vec<Vec<usize>> = filled.iter().map(|(k, _)| k.clone()).collect();
    let one_hot_rows: Vec<&Vec<Row>> = one_hot_ks
        .iter()
        .filter_map(|&k| match &units[k] {
            InputRows::OneHot(rows) => Some(rows),
            InputRows::Scalar { .. } => None,
        })
        .collect();
    let mut neurons = Vec::new();
    let base: Vec<Vec<f64>> = filled.iter().map(|(_, c)| c[0].clone()).collect();
    for output_box in cover(&keys, &base, &lens) {
        let BoxGate { row: gate, counted } = box_gate(&output_box.sets, &one_hot_rows, &lens);
        let mut input = gate;
        input.push((Dim::ONE, -(counted as f64 - 1.0)));
        if counted == 0 {
            input = vec![(Dim::ONE, 1.0)];
        }
        neurons.push(Neuron { input: normalize(&input), output: output_row(out_dims, &output_box.output, 1.0) });
    }
    if let Some(InputRows::Scalar { row, values }) = scalar_k.map(|k| &units[k]) {
        let v_max = values.last().copied().unwrap_or(0.0);
        for c in 1..clusters.len() {
            let steps: Vec<Vec<f64>> =
                filled.iter().map(|(_, col)| col[c].iter().zip(&col[c - 1]).map(|(a, b)| a - b).collect()).collect();
            if steps.iter().all(|s| s.iter().all(|v| v.abs() < 1e-12)) {
                continue;
            }
            let (below, above) = (values[clusters[c - 1].last], values[clusters[c].first]);
            let gap = above - below;
            let t = (above + below) / 2.0;
            let slope = 2.0 / gap;
            let big = slope * (v_max - t) + 1.5;
            for output_box in cover(&keys, &steps, &lens) {
                let BoxGate { row: gate, counted } = box_gate(&output_box.sets, &one_hot_rows, &lens);
                for (offset, sign) in [(0.5, 1.0), (-0.5, -1.0)] {
                    let mut input = Row::new();
                    add_into(&mut input, row, slope);
                    input.push((Dim::ONE, -slope * t + offset));
                    if counted > 0 {
                        add_into(&mut input, &gate, big);
                        input.push((Dim::ONE, -big * counted as f64));
                    }
                    neurons.push(Neuron {
                        input: normalize(&input),
                        output: output_row(out_dims, &output_box.output, sign),
                    });
                }
            }
        }
    }
    Ok(merge(neurons))
}

fn output_row(out_dims: &[Dim], vector: &[f64], factor: f64) -> Row {
    out_dims.iter().zip(vector).filter(|(_, v)| v.abs() > 1e-12).map(|(&d, &v)| (d, v * factor)).collect()
}

/// A box's gate. Units whose set is everything are skipped: their sum is
/// `one`, which the neuron's offset already counts.
fn box_gate(sets: &[Vec<bool>], one_hot_rows: &[&Vec<Row>], lens: &[usize]) -> BoxGate {
    let mut row = Row::new();
    let mut counted = 0;
    for (i, set) in sets.iter().enumerate() {
        if set.iter().filter(|&&b| b).count() == lens[i] {
            continue;
        }
        counted += 1;
        for (a, &inside) in set.iter().enumerate() {
            if inside {
                add_into(&mut row, &one_hot_rows[i][a], 1.0);
            }
        }
    }
    BoxGate { row, counted }
}

/// Neurons with the same input add their outputs.
fn merge(neurons: Vec<Neuron>) -> Vec<Neuron> {
    let mut index: HashMap<Vec<(Dim, u64)>, usize> = HashMap::new();
    let mut out: Vec<Neuron> = Vec::new();
    for n in neurons {
        let key: Vec<(Dim, u64)> = n.input.iter().map(|&(d, w)| (d, w.to_bits())).collect();
        match index.get(&key) {
            Some(&i) => {
                let mut o = out[i].output.clone();
                add_into(&mut o, &n.output, 1.0);
                out[i].output = normalize(&o);
            }
            None => {
                index.insert(key, out.len());
                out.push(n);
            }
        }
    }
    out.retain(|n| !n.output.is_empty());
    out
}

/// Disjoint boxes covering, for each non-zero output vector, the
/// combinations that have it, and no combination that has another vector.
/// Combinations not in `keys` are free.
fn cover(keys: &[Vec<usize>], vectors: &[Vec<f64>], lens: &[usize]) -> Vec<OutputBox> {
    let bits = |v: &Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
    let mut groups: BTreeMap<Vec<u64>, (Vec<f64>, Vec<usize>)> = BTreeMap::new();
    for (i, v) in vectors.iter().enumerate() {
        if v.iter().all(|x| x.abs() < 1e-12) {
            continue;
        }
        groups.entry(bits(v)).or_insert_with(|| (v.clone(), Vec::new())).1.push(i);
    }
    let n_units = lens.len();
    let mut out = Vec::new();
    for (_, (vector, members)) in groups {
        let member_set: std::collections::HashSet<usize> = members.iter().copied().collect();
        // forbidden[(unit, value)] = combinations (indices) with that value.
        let mut forbidden: HashMap<(usize, usize), Vec<usize>> = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            if !member_set.contains(&i) {
                for (u, &v) in key.iter().enumerate() {
                    forbidden.entry((u, v)).or_default().push(i);
                }
            }
        }
        let mut covered = vec![false; keys.len()];
        for &start in &members {
            if covered[start] {
                continue;
            }
            let mut sets: Vec<Vec<bool>> = lens.iter().map(|&l| vec![false; l]).collect();
            for u in 0..n_units {
                sets[u][keys[start][u]] = true;
            }
            if n_units <= 8 && keys.len() <= 200_000 {
                for u in 0..n_units {
                    for v in 0..lens[u] {
                        if sets[u][v] {
                            continue;
                        }
                        let clash = forbidden.get(&(u, v)).is_some_and(|list| {
                            list.iter().any(|&i| (0..n_units).all(|w| w == u || sets[w][keys[i][w]]))
                        });
                        if !clash {
                            sets[u][v] = true;
                        }
                    }
                }
            }
            for &i in &members {
                if !covered[i] && (0..n_units).all(|w| sets[w][keys[i][w]]) {
                    covered[i] = true;
                    // A covered combination must not be covered again.
                    for (u, &v) in keys[i].iter().enumerate() {
                        forbidden.entry((u, v)).or_default().push(i);
                    }
                }
            }
            out.push(OutputBox { sets, output: vector.clone() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(neurons: &[Neuron], x: &HashMap<Dim, f64>, n_out: usize) -> Vec<f64> {
        let mut out = vec![0.0; n_out];
        for n in neurons {
            let h: f64 = n.input.iter().map(|(d, w)| w * x.get(d).copied().unwrap_or(0.0)).sum::<f64>().max(0.0);
            for &(d, w) in &n.output {
                out[d.0 - 100] += h * w;
            }
        }
        out
    }

    #[test]
    fn two_one_hots_and_a_scalar() {
        // units: a in 0..3 (dims 10..13), b in 0..2 (dims 20..22), x in {0, 0.5, 2}
        let one = Dim::ONE;
        let one_hot = |base: usize, n: usize| InputRows::OneHot((0..n).map(|i| vec![(Dim(base + i), 1.0)]).collect());
        let xs = [0.0, 0.5, 2.0];
        let units =
            vec![one_hot(10, 3), one_hot(20, 2), InputRows::Scalar { row: vec![(Dim(30), 1.0)], values: xs.to_vec() }];
        let f = |a: usize, b: usize, x: f64| -> f64 {
            if b == 1 { (a as f64) * x } else { (a == 2) as u8 as f64 + x.floor() }
        };
        let mut points = Vec::new();
        let mut outputs = Vec::new();
        for a in 0..3 {
            for b in 0..2 {
                for (j, &x) in xs.iter().enumerate() {
                    points.push(vec![a, b, j]);
                    outputs.push(Some(vec![f(a, b, x)]));
                }
            }
        }
        let neurons = build(&units, &points, &outputs, &[Dim(100)]).expect("builds");
        for a in 0..3 {
            for b in 0..2 {
                for &x in &xs {
                    for noise in [-0.1, 0.0, 0.1] {
                        let mut input = HashMap::new();
                        input.insert(one, 1.0);
                        input.insert(Dim(10 + a), 1.0);
                        input.insert(Dim(20 + b), 1.0);
                        input.insert(Dim(30), x + noise);
                        let y = eval(&neurons, &input, 1)[0];
                        assert!((y - f(a, b, x)).abs() < 1e-9, "a={a} b={b} x={x}: {y}");
                    }
                }
            }
        }
    }

    /// Two scalars and a one-hot in one MLP: the scalars are read through
    /// their projection; a function that is not separable in them
    /// (`[x - y < 0]`, computed here by hand) comes out exactly, with noise.
    #[test]
    fn two_scalars() {
        let one = Dim::ONE;
        let xs = [0.0, 0.25, 0.5, 1.0];
        let ys = [0.0, 1.0 / 3.0, 0.5, 1.0];
        let units = vec![
            InputRows::OneHot((0..2).map(|i| vec![(Dim(10 + i), 1.0)]).collect()),
            InputRows::Scalar { row: vec![(Dim(30), 1.0)], values: xs.to_vec() },
            InputRows::Scalar { row: vec![(Dim(31), 1.0)], values: ys.to_vec() },
        ];
        let f = |a: usize, x: f64, y: f64| -> f64 { if a == 0 { f64::from(u8::from(x < y)) } else { 2.0 } };
        let mut points = Vec::new();
        let mut outputs = Vec::new();
        for a in 0..2 {
            for (i, &x) in xs.iter().enumerate() {
                for (j, &y) in ys.iter().enumerate() {
                    points.push(vec![a, i, j]);
                    outputs.push(Some(vec![f(a, x, y)]));
                }
            }
        }
        let neurons = build(&units, &points, &outputs, &[Dim(100)]).expect("builds");
        let projection = Projection::new(&[&xs, &ys]);
        // Noise each scalar may carry: a quarter of the projection's gap,
        // split between them by their coefficients.
        let noise = projection.gap / (8.0 * projection.coefficients.iter().sum::<f64>());
        for a in 0..2 {
            for &x in &xs {
                for &y in &ys {
                    for (dx, dy) in [(-noise, noise), (0.0, 0.0), (noise, -noise)] {
                        let mut input = HashMap::new();
                        input.insert(one, 1.0);
                        input.insert(Dim(10 + a), 1.0);
                        input.insert(Dim(30), x + dx);
                        input.insert(Dim(31), y + dy);
                        let out = eval(&neurons, &input, 1)[0];
                        assert!((out - f(a, x, y)).abs() < 1e-9, "a={a} x={x} y={y}: {out}");
                    }
                }
            }
        }
    }
}
