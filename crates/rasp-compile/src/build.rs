//! Residual dimensions, readouts and blocks (attention heads and MLPs).
//!
//! Dimensions are symbolic here (in creation order); `assemble` orders them
//! by the layer that writes them and drops the ones nothing reads.

use crate::error::CompileError;
use crate::mlp::{self, InputRows, Neuron};
use crate::plan::{Affine, AffineMap, Basis, MlpInput, Plan, Planner, WrittenBy, affine_op};
use crate::residual::{Dim, Row, add_into, normalize};
use crate::values::{number, show};
use rasp_core::{Atom, NodeId, NodeKind};
use rasp_model::Encoding;
use std::collections::HashMap;

/// A block's index in [`Builder::blocks`] (creation order, which is a
/// topological order: a block only reads what earlier blocks write).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct BlockId(pub usize);

/// A named group of directions holding one s-op, feature or special
/// direction; becomes a [`rasp_model::Subspace`] in model.json.
#[derive(Debug, Clone)]
pub struct SubspaceInfo {
    pub name: String,
    pub node: Option<NodeId>,
    pub encoding: Encoding,
    pub dims: Vec<Dim>,
    pub values: Vec<Atom>,
    pub implicit: Option<Atom>,
    /// The block that writes it (`None`: the embedding).
    pub written_by: Option<BlockId>,
}

/// One weight of a head's query-key form: the logit gains
/// `scale * weight * x_query[query] * x_key[key]`.
#[derive(Clone, Copy, Debug)]
pub struct QkWeight {
    pub query: Dim,
    pub key: Dim,
    pub weight: f64,
}

/// One weight of a head's value-output map: the output direction `target`
/// gains `weight * x_key[source]`, averaged over the attended keys.
#[derive(Clone, Copy, Debug)]
pub struct OvWeight {
    pub source: Dim,
    pub target: Dim,
    pub weight: f64,
}

/// The attention head of an aggregate, in symbolic directions.
#[derive(Debug, Clone)]
pub struct HeadBlock {
    pub qk: Vec<QkWeight>,
    pub ov: Vec<OvWeight>,
    pub scale: f64,
    pub selector: String,
    /// The selector node: aggregates over the same selector in one layer
    /// share one head (as the analysis counts them).
    pub selector_node: NodeId,
    /// The aggregate it computes.
    pub aggregate: NodeId,
    pub computes: String,
}

/// What a block is.
#[derive(Debug, Clone)]
pub enum BlockKind {
    /// An attention head (an aggregate).
    Head(HeadBlock),
    /// Some neurons of an MLP sublayer (a map, or a feature a selector needs).
    Mlp(Vec<Neuron>),
}

/// A unit of computation that reads and writes residual directions;
/// `assemble` places each in a layer.
#[derive(Debug, Clone)]
pub struct Block {
    pub name: String,
    pub kind: BlockKind,
    /// Must run in the MLP right after this attention block (a default's
    /// correction), whatever its inputs say.
    pub after: Option<BlockId>,
}

/// How the output s-op is read from the final residual stream.
pub struct OutputReadout {
    pub encoding: Encoding,
    /// The value of each row (categorical), or every possible value (numerical).
    pub values: Vec<Atom>,
    /// One functional per output column.
    pub rows: Vec<Row>,
}

/// A feature recomputed from the inputs of the MLPs that make its bases
/// (see [`Builder::look_through`]).
struct LookThrough {
    inputs: Vec<InputRows>,
    points: Vec<Vec<usize>>,
    /// At each point, the feature's classes (`None`: the interpreter fails there).
    classes_per_point: Vec<Option<Vec<bool>>>,
}

/// A feature's index in [`Builder::features`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FeatureId(pub usize);

/// A categorical side of an attention score: boolean functions ("classes")
/// of a few bases, on the combinations inputs can produce.
#[derive(Debug, Clone)]
pub struct Feature {
    pub units: Vec<Basis>,
    pub points: Vec<Vec<usize>>,
    /// `classes[c][i]`: whether class c holds at `points[i]`.
    pub classes: Vec<Vec<bool>>,
    pub name: String,
    index: HashMap<Vec<usize>, usize>,
}

impl Feature {
    pub fn new(units: Vec<Basis>, points: Vec<Vec<usize>>, classes: Vec<Vec<bool>>, name: String) -> Feature {
        let index = points.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect();
        Feature { units, points, classes, name, index }
    }

    pub fn class_values(&self, point: &[usize]) -> Vec<bool> {
        match self.index.get(point) {
            Some(&i) => self.classes.iter().map(|c| c[i]).collect(),
            None => vec![false; self.classes.len()],
        }
    }
}

/// Builds the blocks (attention heads and MLP neurons) over symbolic
/// directions, and records which directions hold what.
pub struct Builder<'p, 'a> {
    pub planner: &'p Planner<'a>,
    /// A label per direction (indexed by [`Dim`]), for model.json.
    pub labels: Vec<String>,
    pub subspaces: Vec<SubspaceInfo>,
    pub blocks: Vec<Block>,
    /// Per raw token: its one-hot direction (`None`: the implicit token).
    pub token_dims: Vec<Option<Dim>>,
    /// Per position: its one-hot direction (`None`: the implicit position).
    pub position_dims: Vec<Option<Dim>>,
    /// Materialized one-hots: one row per value.
    one_hot_rows_of: HashMap<NodeId, Vec<Row>>,
    /// Materialized scalars.
    scalar_row_of: HashMap<NodeId, Row>,
    pub features: Vec<Feature>,
    feature_rows: HashMap<FeatureId, Vec<Row>>,
    pub leak: f64,
    selector_forms: HashMap<NodeId, crate::selector::Form>,
    /// Per one-hot read only by selects: which of its values a select can match.
    live_values: HashMap<NodeId, Vec<bool>>,
    /// Facts for the report (one line each).
    pub notes: Vec<String>,
    /// How much tighter than their own gaps numerical heads must be: MLPs
    /// that read several scalars through one projection amplify their
    /// errors (`mlp::Projection::amplification`).
    leak_divisor: f64,
    /// Each node's readable name (`rasp_core::ReadableNames`): what
    /// model.json, the report and the pictures call it.
    readable: HashMap<NodeId, String>,
}

impl<'p, 'a> Builder<'p, 'a> {
    pub fn new(planner: &'p Planner<'a>, leak: f64) -> Builder<'p, 'a> {
        let mut b = Builder {
            planner,
            labels: vec!["start".to_string(), "one".to_string()],
            subspaces: Vec::new(),
            blocks: Vec::new(),
            token_dims: Vec::new(),
            position_dims: Vec::new(),
            one_hot_rows_of: HashMap::new(),
            scalar_row_of: HashMap::new(),
            features: Vec::new(),
            feature_rows: HashMap::new(),
            leak,
            selector_forms: HashMap::new(),
            live_values: HashMap::new(),
            notes: Vec::new(),
            leak_divisor: 1.0,
            readable: {
                let names = rasp_core::ReadableNames::new(planner.graph);
                planner.nodes.iter().map(|&id| (id, names.name(id))).collect()
            },
        };
        b.subspace("start", None, Encoding::Numerical, vec![Dim::START], vec![], None, None);
        b.subspace("one", None, Encoding::Numerical, vec![Dim::ONE], vec![], None, None);
        let raw = planner.inference.raw_tokens.clone();
        let implicit_token = if planner.inference.bos { 0 } else { raw.len().saturating_sub(1) };
        let mut dims = Vec::new();
        for (i, t) in raw.iter().enumerate() {
            if i == implicit_token {
                b.token_dims.push(None);
            } else {
                let d = b.new_dim(format!("tokens:{t}"));
                dims.push(d);
                b.token_dims.push(Some(d));
            }
        }
        let values: Vec<Atom> =
            raw.iter().enumerate().filter(|&(i, _)| i != implicit_token).map(|(_, t)| Atom::str(t)).collect();
        b.subspace(
            "tokens",
            None,
            Encoding::Categorical,
            dims,
            values,
            raw.get(implicit_token).map(|t| Atom::str(t)),
            None,
        );
        let n_pos = planner.inference.n_pos;
        let mut dims = Vec::new();
        for i in 0..n_pos {
            if i + 1 == n_pos {
                b.position_dims.push(None);
            } else {
                let d = b.new_dim(format!("indices:{i}"));
                dims.push(d);
                b.position_dims.push(Some(d));
            }
        }
        let values = (0..n_pos.saturating_sub(1)).map(|i| Atom::Int(i as i64)).collect();
        let implicit = n_pos.checked_sub(1).map(|i| Atom::Int(i as i64));
        b.subspace("indices", None, Encoding::Categorical, dims, values, implicit, None);
        b
    }

    pub fn new_dim(&mut self, label: String) -> Dim {
        self.labels.push(label);
        Dim(self.labels.len() - 1)
    }

    /// Records node `id`'s one-hot subspace: `dims` hold, in order, the
    /// values `atoms[i]` with `keep(i)`, except the implicit one, which is
    /// the all-zero pattern.
    #[allow(clippy::too_many_arguments)]
    fn one_hot_subspace(
        &mut self,
        name: &str,
        id: NodeId,
        dims: Vec<Dim>,
        atoms: &[Atom],
        implicit: usize,
        written_by: BlockId,
        keep: impl Fn(usize) -> bool,
    ) {
        let values =
            atoms.iter().enumerate().filter(|&(i, _)| i != implicit && keep(i)).map(|(_, a)| a.clone()).collect();
        let implicit_value = atoms.get(implicit).cloned();
        self.subspace(name, Some(id), Encoding::Categorical, dims, values, implicit_value, Some(written_by));
    }

    #[allow(clippy::too_many_arguments)]
    fn subspace(
        &mut self,
        name: &str,
        node: Option<NodeId>,
        encoding: Encoding,
        dims: Vec<Dim>,
        values: Vec<Atom>,
        implicit: Option<Atom>,
        written_by: Option<BlockId>,
    ) {
        self.subspaces.push(SubspaceInfo {
            name: name.to_string(),
            node,
            encoding,
            dims,
            values,
            implicit,
            written_by,
        });
    }

    fn name(&self, id: NodeId) -> String {
        match self.readable.get(&id) {
            Some(name) => format!("{name}#{}", self.planner.shown_id(id)),
            None => format!("{}#{}", rasp_core::readable_name(self.planner.graph, id), self.planner.shown_id(id)),
        }
    }

    /// One-hot rows over a basis's values.
    pub fn basis_rows(&self, b: Basis) -> Result<Vec<Row>, CompileError> {
        let one_hot = |dims: &[Option<Dim>]| -> Vec<Row> {
            dims.iter()
                .map(|d| match d {
                    Some(d) => vec![(*d, 1.0)],
                    None => {
                        let mut r = vec![(Dim::ONE, 1.0)];
                        r.extend(dims.iter().flatten().map(|&o| (o, -1.0)));
                        r
                    }
                })
                .collect()
        };
        match b {
            Basis::Token => Ok(one_hot(&self.token_dims)),
            Basis::Position => Ok(one_hot(&self.position_dims)),
            Basis::Const => Ok(vec![vec![(Dim::ONE, 1.0)]]),
            Basis::Node(m) => {
                if let Some(rows) = self.one_hot_rows_of.get(&m) {
                    return Ok(rows.clone());
                }
                let row = self.scalar_row_of.get(&m).ok_or_else(|| internal(self, m, "read before it is computed"))?;
                self.two_valued_one_hot(m, row)
            }
        }
    }

    /// A scalar with two values v0 < v1 read as a one-hot: the rows of
    /// "is v0" and "is v1", affine in the scalar.
    fn two_valued_one_hot(&self, id: NodeId, row: &Row) -> Result<Vec<Row>, CompileError> {
        let xs = self.planner.inference.values(id).numbers().unwrap_or_default();
        let [v0, v1] = xs[..] else {
            return Err(internal(self, id, "a scalar without exactly two values read as one-hot"));
        };
        let mut low = vec![(Dim::ONE, v1 / (v1 - v0))];
        add_into(&mut low, row, -1.0 / (v1 - v0));
        let mut high = vec![(Dim::ONE, -v0 / (v1 - v0))];
        add_into(&mut high, row, 1.0 / (v1 - v0));
        Ok(vec![normalize(&low), normalize(&high)])
    }

    pub fn feature(&self, id: FeatureId) -> &Feature {
        &self.features[id.0]
    }

    /// The one-hot rows of an s-op, one per value of its value set.
    pub fn one_hot_rows(&self, id: NodeId) -> Result<Vec<Row>, CompileError> {
        let Plan::OneBasis { basis, table } = self.planner.plan(id) else {
            return Err(internal(self, id, "read as one-hot but not a function of one source"));
        };
        let rows = self.basis_rows(*basis)?;
        let value_set = self.planner.inference.values(id);
        let mut out: Vec<Row> = vec![Row::new(); value_set.len()];
        for (b, v) in table.iter().enumerate() {
            let Some(v) = v else { continue };
            let i = value_set
                .position(v)
                .ok_or_else(|| internal(self, id, "a value missing from its inferred value set"))?;
            add_into(&mut out[i], &rows[b], 1.0);
        }
        Ok(out.iter().map(normalize).collect())
    }

    /// The scalar row of a numeric s-op.
    pub fn scalar_row(&self, id: NodeId) -> Result<Row, CompileError> {
        match self.planner.plan(id) {
            Plan::OneBasis { basis, table } => {
                if let Basis::Node(m) = basis
                    && !self.one_hot_rows_of.contains_key(m)
                {
                    let row =
                        self.scalar_row_of.get(m).ok_or_else(|| internal(self, *m, "read before it is computed"))?;
                    let Affine { slope, offset } = self
                        .planner
                        .affine_in_basis(*basis, table)
                        .ok_or_else(|| internal(self, id, "read as a scalar but not affine in its source"))?;
                    let mut out = vec![(Dim::ONE, offset)];
                    add_into(&mut out, row, slope);
                    return Ok(normalize(&out));
                }
                let rows = self.basis_rows(*basis)?;
                let mut out = Row::new();
                for (b, v) in table.iter().enumerate() {
                    if let Some(x) = v.as_ref().and_then(number) {
                        add_into(&mut out, &rows[b], x);
                    }
                }
                Ok(normalize(&out))
            }
            Plan::SeveralBases => {
                let NodeKind::Map { op, inputs } = self.planner.graph.kind(id) else {
                    return Err(internal(self, id, "not a map"));
                };
                let AffineMap { coefficients, constant } = affine_op(self.planner.graph, op, inputs)
                    .ok_or_else(|| internal(self, id, "read as a scalar but not affine"))?;
                let mut out = vec![(Dim::ONE, constant)];
                for (&i, &w) in inputs.iter().zip(&coefficients) {
                    if w != 0.0 {
                        add_into(&mut out, &self.scalar_row(i)?, w);
                    }
                }
                Ok(normalize(&out))
            }
        }
    }

    /// Builds every block, in topological order.
    pub fn build_blocks(&mut self) -> Result<(), CompileError> {
        let nodes = self.planner.nodes.clone();
        // Selector forms first: they decide which values of a one-hot that
        // only selects read can ever matter.
        for &id in &nodes {
            if let NodeKind::Aggregate { selector, .. } = self.planner.graph.kind(id) {
                let averaging = self.planner.inference.averaging.contains(&id);
                let selector = match self.planner.width_encoded.get(&id) {
                    Some(encoding) => encoding.selector,
                    None => *selector,
                };
                let form = self.selector_form(selector, averaging)?;
                self.selector_forms.insert(id, form);
            }
        }
        self.live_values = self.live_from_forms();
        self.leak_divisor = self.projection_amplification();
        for id in nodes {
            let Some(m) = self.planner.materialized.get(&id).cloned() else { continue };
            if self.planner.width_encoded.contains_key(&id) {
                self.build_width_head(id)?;
            } else if matches!(self.planner.graph.kind(id), NodeKind::Aggregate { .. }) {
                self.build_head(id, m.categorical == Some(WrittenBy::Attention))?;
                if m.categorical == Some(WrittenBy::Mlp) {
                    self.build_mlp_node(id, true)?;
                }
            } else {
                self.build_mlp_node(id, m.categorical.is_some())?;
            }
        }
        Ok(())
    }

    /// The error amplification, doubled for a margin, of the projection
    /// through which an MLP reads the scalars among `units` (1 for fewer
    /// than two scalars). A width-encoded head is read as its z.
    fn scalars_amplification(&self, units: &[MlpInput]) -> f64 {
        let value_sets: Vec<Vec<f64>> = units
            .iter()
            .filter(|&&u| !self.planner.input_is_one_hot(u))
            .filter_map(|&u| match u {
                MlpInput::Basis(Basis::Node(x)) if self.planner.width_encoded.contains_key(&x) => {
                    self.planner.width_encoded.get(&x).map(|e| e.z_values.clone())
                }
                MlpInput::Basis(Basis::Node(x)) | MlpInput::Affine(x) => self.planner.inference.values(x).numbers(),
                MlpInput::Basis(_) => None,
            })
            .collect();
        if value_sets.len() < 2 {
            return 1.0;
        }
        let sets: Vec<&[f64]> = value_sets.iter().map(Vec::as_slice).collect();
        2.0 * mlp::Projection::new(&sets).amplification(&sets)
    }

    /// The largest error amplification of an MLP that reads several scalars,
    /// doubled for a margin (1 when none does).
    fn projection_amplification(&self) -> f64 {
        let mut worst: f64 = 1.0;
        for (&id, m) in &self.planner.materialized {
            if m.categorical != Some(WrittenBy::Mlp) && m.numerical != Some(WrittenBy::Mlp) {
                continue;
            }
            worst = worst.max(self.scalars_amplification(&self.planner.mlp_inputs(id).inputs));
        }
        // Features recomputed from several scalars (`look_through`).
        for feature in &self.features {
            let Some((units, _)) = self.look_through_units(feature) else { continue };
            worst = worst.max(self.scalars_amplification(&units));
        }
        worst
    }

    /// For each one-hot basis, the values some score term or feature reads
    /// (a non-zero table row or column, a feature class that holds there).
    fn live_from_forms(&self) -> HashMap<NodeId, Vec<bool>> {
        use crate::selector::Side;
        let mut live: HashMap<NodeId, Vec<bool>> = HashMap::new();
        let mut mark = |x: NodeId, v: usize, n: usize| {
            let e = live.entry(x).or_insert_with(|| vec![false; n]);
            if v < e.len() {
                e[v] = true;
            }
        };
        for form in self.selector_forms.values() {
            for t in &form.terms {
                for (side, query) in [(&t.query, true), (&t.key, false)] {
                    match side {
                        Side::Basis(Basis::Node(x)) => {
                            let n = self.planner.inference.values(*x).len();
                            for v in 0..n {
                                let used = if query {
                                    t.weights.get(v).is_some_and(|row| row.iter().any(|w| *w != 0.0))
                                } else {
                                    t.weights.iter().any(|row| row.get(v).is_some_and(|w| *w != 0.0))
                                };
                                if used {
                                    mark(*x, v, n);
                                }
                            }
                        }
                        Side::Feature(f) => {
                            let feature = self.feature(*f);
                            for (u, b) in feature.units.iter().enumerate() {
                                let Basis::Node(x) = b else { continue };
                                let n = self.planner.inference.values(*x).len();
                                for (i, p) in feature.points.iter().enumerate() {
                                    if feature.classes.iter().any(|c| c[i]) {
                                        mark(*x, p[u], n);
                                    }
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        live
    }

    fn mlp_input_rows(&self, u: MlpInput, owner: NodeId) -> Result<InputRows, CompileError> {
        let as_num = |id: NodeId, row: Row| -> Result<InputRows, CompileError> {
            let values = self
                .planner
                .inference
                .values(id)
                .numbers()
                .ok_or_else(|| internal(self, id, "a scalar of non-numbers"))?;
            Ok(InputRows::Scalar { row, values })
        };
        match u {
            MlpInput::Basis(Basis::Node(m)) if self.planner.width_encoded.contains_key(&m) => {
                let values = self.planner.width_encoded.get(&m).map(|e| e.z_values.clone()).unwrap_or_default();
                let row = self
                    .scalar_row_of
                    .get(&m)
                    .cloned()
                    .ok_or_else(|| internal(self, m, "read before it is computed"))?;
                Ok(InputRows::Scalar { row, values })
            }
            MlpInput::Basis(Basis::Node(m)) if m == owner => {
                as_num(m, self.scalar_row_of.get(&m).cloned().unwrap_or_default())
            }
            MlpInput::Basis(b) if self.planner.input_is_one_hot(u) => Ok(InputRows::OneHot(self.basis_rows(b)?)),
            MlpInput::Basis(Basis::Node(m)) => as_num(m, self.scalar_row_of.get(&m).cloned().unwrap_or_default()),
            MlpInput::Basis(_) => Err(CompileError::general("internal error: an embedding read as a scalar")),
            MlpInput::Affine(i) => {
                let row = self.scalar_row(i)?;
                if self.planner.input_is_one_hot(u) {
                    Ok(InputRows::OneHot(self.two_valued_one_hot(i, &row)?))
                } else {
                    as_num(i, row)
                }
            }
        }
    }

    /// An MLP computing a node from its inputs' sources.
    fn build_mlp_node(&mut self, id: NodeId, categorical: bool) -> Result<(), CompileError> {
        let units = self.planner.mlp_inputs(id).inputs;
        let points = self.planner.joint_points(&units);
        let values = self.planner.eval_definition(id, &units, &points);
        let (points, values) = self.width_points(&units, points, values);
        let mlp_inputs = units.iter().map(|&u| self.mlp_input_rows(u, id)).collect::<Result<Vec<_>, _>>()?;
        let value_set = self.planner.inference.values(id).clone();
        let name = self.name(id);
        let block = BlockId(self.blocks.len());
        if categorical {
            // Values no select can match (when only selects read it) need
            // nothing; otherwise the most frequent value is implicit.
            let live = match self.live_values.get(&id) {
                Some(l) if self.planner.select_only.contains(&id) => l.clone(),
                _ => vec![true; value_set.len()],
            };
            let mut counts = vec![0usize; value_set.len()];
            for v in values.iter().flatten() {
                if let Some(i) = value_set.position(v) {
                    counts[i] += 1;
                }
            }
            let implicit = if live.iter().all(|&l| l) {
                (0..value_set.len()).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0)
            } else {
                usize::MAX
            };
            // A value whose indicator is a function of one one-hot input (or
            // never holds) is read from that input: no dimension, no neurons.
            let class_of: Vec<Option<usize>> =
                values.iter().map(|v| v.as_ref().and_then(|v| value_set.position(v))).collect();
            let linear: Vec<Option<Row>> = (0..value_set.len())
                .map(
                    |i| if i == implicit || !live[i] { None } else { linear_class(&mlp_inputs, &points, &class_of, i) },
                )
                .collect();
            let mut dims = Vec::new();
            let mut dim_of = vec![None; value_set.len()];
            for (i, a) in value_set.atoms().iter().enumerate() {
                if i != implicit && live[i] && linear[i].is_none() {
                    let d = self.new_dim(format!("{name}:{}", show(a)));
                    dim_of[i] = Some(dims.len());
                    dims.push(d);
                }
            }
            let outputs: Vec<Option<Vec<f64>>> = values
                .iter()
                .map(|v| {
                    let i = value_set.position(v.as_ref()?)?;
                    let mut out = vec![0.0; dims.len()];
                    if let Some(k) = dim_of[i] {
                        out[k] = 1.0;
                    }
                    Some(out)
                })
                .collect();
            let neurons = mlp::build(&mlp_inputs, &points, &outputs, &dims)
                .map_err(|e| CompileError::at(self.planner.graph, id, &e))?;
            let mut rows: Vec<Row> = (0..value_set.len())
                .map(|i| match (&linear[i], dim_of[i]) {
                    (Some(r), _) => r.clone(),
                    (None, Some(k)) => vec![(dims[k], 1.0)],
                    (None, None) => Row::new(),
                })
                .collect();
            if implicit < value_set.len() {
                let mut r = vec![(Dim::ONE, 1.0)];
                for (i, row) in rows.iter().enumerate() {
                    if i != implicit {
                        add_into(&mut r, row, -1.0);
                    }
                }
                rows[implicit] = normalize(&r);
            }
            for (i, row) in rows.iter_mut().enumerate() {
                if !live[i] {
                    row.clear();
                }
            }
            self.one_hot_rows_of.insert(id, rows);
            self.one_hot_subspace(&name, id, dims, value_set.atoms(), implicit, block, |i| live[i]);
            self.blocks.push(Block { name, kind: BlockKind::Mlp(neurons), after: None });
        } else {
            let d = self.new_dim(name.clone());
            let outputs: Vec<Option<Vec<f64>>> = values.iter().map(|v| Some(vec![number(v.as_ref()?)?])).collect();
            let neurons = mlp::build(&mlp_inputs, &points, &outputs, &[d])
                .map_err(|e| CompileError::at(self.planner.graph, id, &e))?;
            self.scalar_row_of.insert(id, vec![(d, 1.0)]);
            self.subspace(&name, Some(id), Encoding::Numerical, vec![d], value_set.atoms().to_vec(), None, Some(block));
            self.blocks.push(Block { name, kind: BlockKind::Mlp(neurons), after: None });
        }
        Ok(())
    }

    /// Points over value indices of the MLP's units, with every
    /// width-encoded unit (`plan::WidthEncoding`) re-indexed by the head's
    /// output z instead of the aggregate's value: a point becomes one point
    /// per z that stands for its value, with the same result.
    fn width_points(
        &self,
        units: &[MlpInput],
        points: Vec<Vec<usize>>,
        values: Vec<Option<Atom>>,
    ) -> (Vec<Vec<usize>>, Vec<Option<Atom>>) {
        let mut points = points;
        let mut values = values;
        for (k, &u) in units.iter().enumerate() {
            let MlpInput::Basis(Basis::Node(m)) = u else { continue };
            let Some(encoding) = self.planner.width_encoded.get(&m) else { continue };
            let mut next_points = Vec::with_capacity(points.len());
            let mut next_values = Vec::with_capacity(values.len());
            for (p, v) in points.iter().zip(&values) {
                for (z, &value) in encoding.value_of_z.iter().enumerate() {
                    if value == p[k] {
                        let mut q = p.clone();
                        q[k] = z;
                        next_points.push(q);
                        next_values.push(v.clone());
                    }
                }
            }
            points = next_points;
            values = next_values;
        }
        (points, values)
    }

    /// The head of a width-encoded aggregate (`plan::WidthEncoding`): it
    /// attends to its selector's keys and the start token with equal
    /// scores, and averages 1 at the start token and the position weight
    /// at position 0.
    fn build_width_head(&mut self, id: NodeId) -> Result<(), CompileError> {
        let encoding =
            self.planner.width_encoded.get(&id).cloned().ok_or_else(|| internal(self, id, "not width-encoded"))?;
        let form = match self.selector_forms.remove(&id) {
            Some(f) => f,
            None => self.selector_form(encoding.selector, true)?,
        };
        let mut qk = self.score_weights(&form)?;
        // The start token is selected by every real query, like a BOS.
        *qk.entry((Dim::ONE, Dim::START)).or_insert(0.0) += 1.0;
        *qk.entry((Dim::START, Dim::START)).or_insert(0.0) += 1.0;
        let name = self.name(id);
        let block = BlockId(self.blocks.len());
        let d = self.new_dim(name.clone());
        let mut ov = vec![OvWeight { source: Dim::START, target: d, weight: 1.0 }];
        for &(source, w) in &self.scalar_row(encoding.first)? {
            ov.push(OvWeight { source, target: d, weight: w * encoding.position_weight });
        }
        let gap = encoding.z_values.windows(2).map(|w| w[1] - w[0]).fold(f64::INFINITY, f64::min);
        let mut leak = self.leak;
        if gap.is_finite() {
            leak = leak.min(gap / 8.0) / self.leak_divisor;
        }
        let keys = (self.planner.inference.n_pos + 1) as f64;
        let scale = (2.0 * (keys / leak).ln()).max(8.0);
        let selector_text = describe_selector(self.planner.graph, encoding.selector);
        self.notes.push(format!(
            "{name}: head over {selector_text} and the start token (the start token stands in for position 0 of \
             `or select(indices, 0, ==)`; it outputs (1 + {:.4}·[position 0 selected])/(width + 1), which MLPs read), \
             scale {scale:.2}",
            encoding.position_weight
        ));
        let qk = qk_entries(qk);
        let z_atoms: Vec<Atom> = encoding.z_values.iter().map(|&z| Atom::Float(z)).collect();
        self.scalar_row_of.insert(id, vec![(d, 1.0)]);
        self.subspace(&name, Some(id), Encoding::Numerical, vec![d], z_atoms, None, Some(block));
        self.blocks.push(Block {
            name: name.clone(),
            kind: BlockKind::Head(HeadBlock {
                qk,
                ov,
                scale,
                selector: selector_text,
                selector_node: encoding.selector,
                aggregate: id,
                computes: name,
            }),
            after: None,
        });
        Ok(())
    }

    /// The attention head of an aggregate.
    fn build_head(&mut self, id: NodeId, categorical: bool) -> Result<(), CompileError> {
        let NodeKind::Aggregate { selector, values, default } = self.planner.graph.kind(id).clone() else {
            return Err(internal(self, id, "not an aggregate"));
        };
        let averaging = self.planner.inference.averaging.contains(&id);
        let form = match self.selector_forms.remove(&id) {
            Some(f) => f,
            None => self.selector_form(selector, averaging)?,
        };
        let mut qk = self.score_weights(&form)?;
        // A real query scores the start position ½ (between "not selected",
        // ≤ 0, and "selected", ≥ 1); the start query looks only at itself.
        *qk.entry((Dim::ONE, Dim::START)).or_insert(0.0) += 0.5;
        *qk.entry((Dim::START, Dim::START)).or_insert(0.0) += 1.0;
        let name = self.name(id);
        let block = BlockId(self.blocks.len());
        let value_set = self.planner.inference.values(id).clone();
        let default = match default {
            Some(rasp_core::Value::Atom(a)) => a,
            _ => Atom::Int(0),
        };
        let mut ov: Vec<OvWeight> = Vec::new();
        let mut correction: Option<Row> = None;
        let range;
        if categorical {
            let implicit = value_set.position(&default).unwrap_or(0);
            let mut dims = Vec::new();
            let mut dim_of = vec![None; value_set.len()];
            for (i, a) in value_set.atoms().iter().enumerate() {
                if i != implicit {
                    let d = self.new_dim(format!("{name}:{}", show(a)));
                    dim_of[i] = Some(dims.len());
                    dims.push(d);
                }
            }
            let rows = self.one_hot_rows(values)?;
            for (i, a) in self.planner.inference.values(values).atoms().iter().enumerate() {
                let Some(k) = value_set.position(a).and_then(|j| dim_of[j]) else { continue };
                for &(src, w) in &rows[i] {
                    ov.push(OvWeight { source: src, target: dims[k], weight: w });
                }
            }
            range = 1.0;
            self.one_hot_rows_of.insert(id, one_hot_rows(&dim_of, &dims));
            self.one_hot_subspace(&name, id, dims, value_set.atoms(), implicit, block, |_| true);
        } else {
            let d = self.new_dim(name.clone());
            let row = self.scalar_row(values)?;
            for &(src, w) in &row {
                ov.push(OvWeight { source: src, target: d, weight: w });
            }
            let default_value = number(&default).ok_or_else(|| {
                CompileError::at(self.planner.graph, id, "a numerical aggregate needs a numeric default")
            })?;
            if default_value != 0.0 {
                // Keys carry value − default (the start key carries 0); the
                // MLP adds the default back at every real position.
                ov.push(OvWeight { source: Dim::ONE, target: d, weight: -default_value });
                correction = Some(vec![(d, default_value)]);
            }
            let nums = self.planner.inference.values(values).numbers().unwrap_or_default();
            range = nums.iter().map(|x| (x - default_value).abs()).fold(default_value.abs(), f64::max).max(1.0);
            self.scalar_row_of.insert(id, vec![(d, 1.0)]);
            self.subspace(&name, Some(id), Encoding::Numerical, vec![d], value_set.atoms().to_vec(), None, Some(block));
        }
        // Every unwanted key scores at least ½ below the wanted ones, so its
        // weight is at most e^(−scale/2) of theirs: pick the scale that keeps
        // the total leak below `leak` of the value range.
        // A scalar output is read by MLPs that tolerate an error of a quarter
        // of the gap between its neighbouring values: keep the leak far below.
        let mut leak = self.leak;
        if !categorical && let Some(xs) = value_set.numbers() {
            let gap =
                xs.windows(2).map(|w| w[1] - w[0]).filter(|g| *g > 1e-9 * (1.0 + range)).fold(f64::INFINITY, f64::min);
            if gap.is_finite() {
                leak = leak.min(gap / (8.0 * range)) / self.leak_divisor;
                if gap / range < 1e-5 {
                    self.notes.push(format!(
                        "{name}: values only {gap:.2e} apart (range {range}): near f32 precision, verify before use"
                    ));
                }
            }
        }
        let keys = (self.planner.inference.n_pos + 1) as f64;
        let scale = (2.0 * (keys * range / leak).ln()).max(8.0);
        let selector_text = describe_selector(self.planner.graph, selector);
        self.notes.push(format!(
            "{name}: head over {selector_text} ({}, {} terms), scale {scale:.2}",
            if averaging { "uniform weights: may average" } else { "selects at most one on defined inputs" },
            form.terms.len()
        ));
        let qk = qk_entries(qk);
        self.blocks.push(Block {
            name: name.clone(),
            kind: BlockKind::Head(HeadBlock {
                qk,
                ov,
                scale,
                selector: selector_text,
                selector_node: selector,
                aggregate: id,
                computes: name.clone(),
            }),
            after: None,
        });
        if let Some(out) = correction {
            self.blocks.push(Block {
                name: format!("{name} default"),
                kind: BlockKind::Mlp(vec![Neuron { input: vec![(Dim::ONE, 1.0)], output: out }]),
                after: Some(block),
            });
        }
        Ok(())
    }

    /// A selector's score as a bilinear form over residual dimensions:
    /// (query dimension, key dimension) → weight, summed over its terms.
    fn score_weights(&mut self, form: &crate::selector::Form) -> Result<HashMap<(Dim, Dim), f64>, CompileError> {
        let mut qk: HashMap<(Dim, Dim), f64> = HashMap::new();
        for term in &form.terms {
            let query_rows = self.side_rows(&term.query)?;
            let key_rows = self.side_rows(&term.key)?;
            for (query_class, row) in term.weights.iter().enumerate() {
                for (key_class, &w) in row.iter().enumerate() {
                    if w == 0.0 {
                        continue;
                    }
                    for &(query_dim, x) in &query_rows[query_class] {
                        for &(key_dim, y) in &key_rows[key_class] {
                            *qk.entry((query_dim, key_dim)).or_insert(0.0) += w * x * y;
                        }
                    }
                }
            }
        }
        Ok(qk)
    }

    /// The rows of one side of a score term, one per class.
    pub fn side_rows(&mut self, side: &crate::selector::Side) -> Result<Vec<Row>, CompileError> {
        use crate::selector::Side;
        match side {
            Side::Const => Ok(vec![vec![(Dim::ONE, 1.0)]]),
            Side::Basis(b) => self.basis_rows(*b),
            Side::Feature(f) => self.feature_rows(*f),
        }
    }

    fn feature_rows(&mut self, f: FeatureId) -> Result<Vec<Row>, CompileError> {
        if let Some(r) = self.feature_rows.get(&f) {
            return Ok(r.clone());
        }
        let feature = self.feature(f).clone();
        let rows = match feature.units.len() {
            0 => feature
                .classes
                .iter()
                .map(|c| if c.first().copied().unwrap_or(false) { vec![(Dim::ONE, 1.0)] } else { vec![] })
                .collect(),
            1 => {
                let base = self.basis_rows(feature.units[0])?;
                let mut rows = vec![Row::new(); feature.classes.len()];
                for (i, p) in feature.points.iter().enumerate() {
                    for (c, class) in feature.classes.iter().enumerate() {
                        if class[i] {
                            add_into(&mut rows[c], &base[p[0]], 1.0);
                        }
                    }
                }
                rows.iter().map(normalize).collect()
            }
            _ => {
                let LookThrough { inputs: mlp_inputs, points, classes_per_point: per_point } =
                    match self.look_through(&feature)? {
                        Some(recomputed) => recomputed,
                        None => LookThrough {
                            inputs: feature
                                .units
                                .iter()
                                .map(|&b| self.basis_rows(b).map(InputRows::OneHot))
                                .collect::<Result<Vec<_>, _>>()?,
                            points: feature.points.clone(),
                            classes_per_point: (0..feature.points.len())
                                .map(|i| Some(feature.classes.iter().map(|c| c[i]).collect()))
                                .collect(),
                        },
                    };
                // When the classes partition every input, the largest one
                // needs no dimension: it is `one` minus the others.
                let n_classes = feature.classes.len();
                let partition = per_point.iter().flatten().all(|v| v.iter().filter(|&&b| b).count() == 1);
                let implicit = if partition {
                    let mut counts = vec![0usize; n_classes];
                    for v in per_point.iter().flatten() {
                        if let Some(c) = v.iter().position(|&b| b) {
                            counts[c] += 1;
                        }
                    }
                    (0..n_classes).max_by_key(|&c| (counts[c], std::cmp::Reverse(c)))
                } else {
                    None
                };
                let mut dims = Vec::new();
                let mut rows = Vec::new();
                let mut live = Vec::new();
                for (c, class) in feature.classes.iter().enumerate() {
                    if class.iter().any(|&b| b) && Some(c) != implicit {
                        let d = self.new_dim(format!("{}:{c}", feature.name));
                        dims.push(d);
                        live.push(c);
                        rows.push(vec![(d, 1.0)]);
                    } else {
                        rows.push(vec![]);
                    }
                }
                if let Some(c) = implicit {
                    let mut r = vec![(Dim::ONE, 1.0)];
                    r.extend(dims.iter().map(|&d| (d, -1.0)));
                    rows[c] = r;
                }
                let outputs: Vec<Option<Vec<f64>>> = per_point
                    .iter()
                    .map(|v| v.as_ref().map(|v| live.iter().map(|&c| f64::from(u8::from(v[c]))).collect()))
                    .collect();
                let neurons = mlp::build(&mlp_inputs, &points, &outputs, &dims)
                    .map_err(|e| CompileError::general(format!("{}: {e}", feature.name)))?;
                let block = BlockId(self.blocks.len());
                self.subspace(
                    &feature.name,
                    None,
                    Encoding::Categorical,
                    dims,
                    live.iter().map(|&c| Atom::Int(c as i64)).collect(),
                    implicit.map(|c| Atom::Int(c as i64)),
                    Some(block),
                );
                self.blocks.push(Block { name: feature.name.clone(), kind: BlockKind::Mlp(neurons), after: None });
                rows
            }
        };
        self.feature_rows.insert(f, rows.clone());
        Ok(rows)
    }

    /// The inputs a feature is recomputed from by [`Builder::look_through`]
    /// (and the MLP-made one-hots it looks through), when it can be.
    fn look_through_units(&self, feature: &Feature) -> Option<(Vec<MlpInput>, Vec<NodeId>)> {
        let mut units: Vec<MlpInput> = Vec::new();
        let mut expanded: Vec<NodeId> = Vec::new();
        for &b in &feature.units {
            match b {
                Basis::Node(m)
                    if matches!(self.planner.graph.kind(m), NodeKind::Map { .. })
                        && self.planner.materialized.get(&m).is_some_and(|x| x.categorical == Some(WrittenBy::Mlp)) =>
                {
                    expanded.push(m);
                    for u in self.planner.mlp_inputs(m).inputs {
                        if !units.contains(&u) {
                            units.push(u);
                        }
                    }
                }
                _ => {
                    if !units.contains(&MlpInput::Basis(b)) {
                        units.push(MlpInput::Basis(b));
                    }
                }
            }
        }
        // Several scalars are read through one projection, within its limit.
        let combinations = units
            .iter()
            .filter(|&&u| !self.planner.input_is_one_hot(u))
            .fold(1usize, |acc, &u| acc.saturating_mul(self.planner.input_len(u).max(1)));
        let width_encoded = units
            .iter()
            .any(|u| matches!(u, MlpInput::Basis(Basis::Node(m)) if self.planner.width_encoded.contains_key(m)));
        if expanded.is_empty()
            || combinations > mlp::MAX_SCALAR_COMBINATIONS
            || width_encoded
            || self.planner.domain_size(&units) > 20_000
        {
            return None;
        }
        Some((units, expanded))
    }

    /// A feature over MLP-made one-hots, computed instead from those MLPs'
    /// own inputs, so that it is ready in the same layer as they are.
    fn look_through(&self, feature: &Feature) -> Result<Option<LookThrough>, CompileError> {
        let Some((units, expanded)) = self.look_through_units(feature) else { return Ok(None) };
        let points = self.planner.joint_points(&units);
        let values: HashMap<NodeId, Vec<Option<Atom>>> =
            expanded.iter().map(|&m| (m, self.planner.eval_definition(m, &units, &points))).collect();
        let mut per_point = Vec::with_capacity(points.len());
        for (i, p) in points.iter().enumerate() {
            let mut original = Vec::with_capacity(feature.units.len());
            let mut defined = true;
            for &b in &feature.units {
                let idx = match b {
                    Basis::Node(m) if values.contains_key(&m) => {
                        values[&m][i].as_ref().and_then(|v| self.planner.inference.values(m).position(v))
                    }
                    _ => units.iter().position(|&u| u == MlpInput::Basis(b)).map(|k| p[k]),
                };
                match idx {
                    Some(x) => original.push(x),
                    None => defined = false,
                }
            }
            per_point.push(defined.then(|| feature.class_values(&original)));
        }
        let mlp_inputs =
            units.iter().map(|&u| self.mlp_input_rows(u, NodeId(u32::MAX))).collect::<Result<Vec<_>, _>>()?;
        Ok(Some(LookThrough { inputs: mlp_inputs, points, classes_per_point: per_point }))
    }

    /// The readout of the output s-op: one-hot when it can be read as one
    /// (argmax decoding has the larger margin), else a scalar.
    pub fn readout(&self) -> Result<OutputReadout, CompileError> {
        let root = self.planner.root;
        let values = self.planner.inference.values(root).atoms().to_vec();
        if self.planner.readable_as_one_hot(root) {
            Ok(OutputReadout { encoding: Encoding::Categorical, values, rows: self.one_hot_rows(root)? })
        } else if self.planner.readable_as_scalar(root) {
            Ok(OutputReadout { encoding: Encoding::Numerical, values, rows: vec![self.scalar_row(root)?] })
        } else {
            Err(internal(self, root, "the output cannot be read"))
        }
    }
}

/// The row of "the output is value `class`" when that indicator is a
/// function of one one-hot input alone (an empty row when it never holds).
fn linear_class(
    mlp_inputs: &[InputRows],
    points: &[Vec<usize>],
    class_of: &[Option<usize>],
    class: usize,
) -> Option<Row> {
    if !class_of.contains(&Some(class)) {
        return Some(Row::new());
    }
    for (k, unit) in mlp_inputs.iter().enumerate() {
        let InputRows::OneHot(rows) = unit else { continue };
        let mut at: Vec<Option<bool>> = vec![None; rows.len()];
        let mut consistent = true;
        for (p, c) in points.iter().zip(class_of) {
            let Some(c) = c else { continue };
            let holds = *c == class;
            match at[p[k]] {
                None => at[p[k]] = Some(holds),
                Some(h) if h != holds => {
                    consistent = false;
                    break;
                }
                Some(_) => {}
            }
        }
        if consistent {
            let mut row = Row::new();
            for (a, h) in at.iter().enumerate() {
                if *h == Some(true) {
                    add_into(&mut row, &rows[a], 1.0);
                }
            }
            return Some(normalize(&row));
        }
    }
    None
}

fn one_hot_rows(dim_of: &[Option<usize>], dims: &[Dim]) -> Vec<Row> {
    dim_of
        .iter()
        .map(|k| match k {
            Some(k) => vec![(dims[*k], 1.0)],
            None => {
                let mut r = vec![(Dim::ONE, 1.0)];
                r.extend(dims.iter().map(|&d| (d, -1.0)));
                r
            }
        })
        .collect()
}

fn internal(b: &Builder, id: NodeId, what: &str) -> CompileError {
    CompileError::at(b.planner.graph, id, &format!("internal error: {what}"))
}

/// A selector as RASP would write it (names of its s-ops).
pub fn describe_selector(graph: &rasp_core::Graph, id: NodeId) -> String {
    match graph.kind(id) {
        NodeKind::Select { key, query, predicate } => {
            let names = rasp_core::ReadableNames::new(graph);
            format!("select({}, {}, {})", names.name(*key), names.name(*query), predicate.symbol())
        }
        NodeKind::SelectAll => "select all".to_string(),
        NodeKind::SelectAnd(a, b) => format!("({} and {})", describe_selector(graph, *a), describe_selector(graph, *b)),
        NodeKind::SelectOr(a, b) => format!("({} or {})", describe_selector(graph, *a), describe_selector(graph, *b)),
        NodeKind::SelectNot(a) => format!("not {}", describe_selector(graph, *a)),
        NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Constant(_)
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. } => graph.name(id).to_string(),
    }
}

/// A head's query-key weights as sorted entries, without the ones that
/// cancelled to (nearly) zero.
fn qk_entries(qk: HashMap<(Dim, Dim), f64>) -> Vec<QkWeight> {
    let mut entries: Vec<QkWeight> = qk
        .into_iter()
        .filter(|(_, w)| w.abs() > 1e-12)
        .map(|((query, key), weight)| QkWeight { query, key, weight })
        .collect();
    entries.sort_by_key(|entry| (entry.query, entry.key));
    entries
}
