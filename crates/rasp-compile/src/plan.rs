//! Which s-ops get residual dimensions, and how they are encoded.
//!
//! Only three things write to the residual stream: the embeddings (input
//! tokens and positions, one-hot), attention heads (aggregates) and MLPs.
//! Every other s-op is read *linearly* from what is there:
//! * a function of one categorical source (a one-hot) is a sum of its
//!   dimensions (`tokens == "a"`, `indices + 1`, `length - 1` of a one-hot
//!   length): categorical maps of one input never need an MLP;
//! * a numerical source gives a scalar; affine maps of scalars (`x + y`,
//!   `x - 1`, `3 * x`) stay scalars;
//! * a scalar with two values is also a one-hot (x and 1 - x, rescaled).
//!
//! A node is *materialized* (given its own dimensions, by an MLP) only when
//! a consumer needs a form it cannot read linearly: a selector needs
//! one-hot keys and queries, an aggregate needs a one-hot or a scalar value,
//! the output needs either. Materialization is a fixpoint: each round
//! materializes what the last round could not read.

use crate::error::CompileError;
use crate::infer::Inference;
use crate::values::{ValueSet, apply, convert_token, number};
use rasp_core::pyops::ArithOp;
use rasp_core::{Atom, Graph, MapOp, NodeId, NodeKind, Value};
use rasp_model::Encoding;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// Largest input domain (argument combinations) of one MLP.
pub const MAX_MLP_DOMAIN: usize = 1 << 17;

/// Something one-hot or scalar in the residual stream that other s-ops are
/// functions of.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Basis {
    /// The input token (one-hot over BOS and the vocabulary).
    Token,
    /// The position (one-hot over 0..n_pos).
    Position,
    /// Nothing: constants (the `one` direction).
    Const,
    /// A materialized s-op.
    Node(NodeId),
}

/// How an s-op is read from the residual stream.
#[derive(Clone, Debug)]
pub enum Plan {
    /// A function of one basis: `table[i]` is the value for the basis's
    /// i-th value (`None` where the interpreter raises).
    OneBasis { basis: Basis, table: Vec<Option<Atom>> },
    /// A function of several bases, not materialized.
    SeveralBases,
}

/// The block that writes a materialized s-op's dimensions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WrittenBy {
    /// The attention head of an aggregate.
    Attention,
    /// An MLP computing the s-op from its inputs.
    Mlp,
}

/// How a materialized node is held; both may be present (an averaging
/// aggregate's scalar plus a one-hot copy made by an MLP).
#[derive(Clone, Debug, Default)]
pub struct Materialization {
    /// A one-hot copy, and what writes it.
    pub categorical: Option<WrittenBy>,
    /// A scalar copy, and what writes it.
    pub numerical: Option<WrittenBy>,
}

impl Materialization {
    fn one_hot(by: WrittenBy) -> Materialization {
        Materialization { categorical: Some(by), numerical: None }
    }

    fn scalar(by: WrittenBy) -> Materialization {
        Materialization { categorical: None, numerical: Some(by) }
    }
}

/// An input of an MLP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum MlpInput {
    /// A basis, read as a one-hot or (a materialized s-op) as a scalar.
    Basis(Basis),
    /// An affine combination of scalars that has no dimensions of its own,
    /// read as a scalar.
    Affine(NodeId),
}

/// The form a consumer must be able to read an s-op in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Need {
    /// A one-hot: select keys and queries, categorical aggregates' values.
    OneHot,
    /// A scalar: numerical aggregates' values.
    Scalar,
    /// Either: the output s-op.
    Either,
}

/// The slope and offset of `value = slope * basis + offset`.
#[derive(Clone, Copy, Debug)]
pub struct Affine {
    pub slope: f64,
    pub offset: f64,
}

/// A map that is affine in its inputs: `Σ coefficients[i] * input[i] + constant`.
#[derive(Clone, Debug)]
pub struct AffineMap {
    pub coefficients: Vec<f64>,
    pub constant: f64,
}

/// What the MLP materializing an s-op reads.
#[derive(Clone, Debug)]
pub struct MlpInputs {
    /// Its inputs, in a fixed order.
    pub inputs: Vec<MlpInput>,
    /// The unmaterialized maps of several bases between those inputs and
    /// the s-op, which the MLP computes along the way.
    pub folded: Vec<NodeId>,
}

/// Decides which s-ops get residual dimensions ("materialized") and how
/// every other s-op is read from those.
pub struct Planner<'a> {
    pub graph: &'a Graph,
    pub inference: &'a Inference,
    /// Ancestors of the root, topological order.
    pub nodes: Vec<NodeId>,
    pub root: NodeId,
    /// The s-ops with dimensions of their own, and their encodings.
    pub materialized: BTreeMap<NodeId, Materialization>,
    pub plans: HashMap<NodeId, Plan>,
    consumers: HashMap<NodeId, Vec<NodeId>>,
    /// What `plan` answers for an s-op without a plan of its own.
    unplanned: Plan,
    /// MLP-made one-hots read only by selects: values no select can match
    /// need no dimension.
    pub select_only: HashSet<NodeId>,
    /// Aggregates `aggregate(sel or select(indices, 0, ==), indicator(indices
    /// == 0))` (the library's selector_width) computed with the start token
    /// as their BOS, in one head and one layer (see [`WidthEncoding`]).
    pub width_encoded: HashMap<NodeId, WidthEncoding>,
    /// After a rewrite ([`crate::rewrite`]), the caller's node each copied
    /// node stands for; empty otherwise.
    pub origin: HashMap<NodeId, NodeId>,
}

/// How the head of `aggregate(sel or at0, indicator(indices == 0))` (at0 =
/// `select(indices, 0, ==)`) is computed without an MLP feature first.
///
/// Its value is 1/(w + 1 − b), w the number of positions `sel` selects and
/// b whether position 0 is one of them. Attention cannot score `sel or at0`
/// with uniform weights from the sum of embeddings (position 0 would score
/// twice when `sel` selects it too), so the head attends to `sel` and to the
/// start token instead, with equal scores, and carries 1 from the start
/// token and `position_weight` (under 1/(n+1)) from position 0: it outputs
/// z = (1 + position_weight·b)/(w + 1), which differs for every (w, b).
/// Only MLPs read the head, and they read the aggregate's value through z.
#[derive(Clone, Debug)]
pub struct WidthEncoding {
    /// `sel`: the selector the head attends with (plus the start token).
    pub selector: NodeId,
    /// `indicator(indices == 0)`: read at the keys, weighted.
    pub first: NodeId,
    pub position_weight: f64,
    /// The possible outputs z, ascending.
    pub z_values: Vec<f64>,
    /// For each z, the index of the aggregate's value in its value set.
    pub value_of_z: Vec<usize>,
}

impl<'a> Planner<'a> {
    pub fn new(
        graph: &'a Graph,
        inference: &'a Inference,
        nodes: Vec<NodeId>,
        root: NodeId,
        overrides: &[(String, Encoding)],
    ) -> Result<Planner<'a>, CompileError> {
        let mut consumers: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        for &id in &nodes {
            for i in graph.kind(id).inputs() {
                consumers.entry(i).or_default().push(id);
            }
        }
        let mut p = Planner {
            graph,
            inference,
            nodes,
            root,
            materialized: BTreeMap::new(),
            plans: HashMap::new(),
            consumers,
            unplanned: Plan::SeveralBases,
            select_only: HashSet::new(),
            width_encoded: HashMap::new(),
            origin: HashMap::new(),
        };
        p.width_encoded = p.find_width_encoded();
        p.initial(overrides)?;
        p.fixpoint()?;
        p.select_only = p.find_select_only();
        Ok(p)
    }

    /// The aggregates to compute as [`WidthEncoding`]s: the pattern, read
    /// only by maps of it alone (so every reader is an MLP, which can read
    /// z), never the output.
    fn find_width_encoded(&self) -> HashMap<NodeId, WidthEncoding> {
        let graph = self.graph;
        let mut out = HashMap::new();
        // With a BOS, position 0 is the BOS, which `sel` leaves alone and
        // the selector's own form scores cheaply: keep the program's head.
        if self.inference.bos {
            return out;
        }
        for &id in &self.nodes {
            let Some((sel, _)) = rasp_core::as_inverted_width(graph, id) else { continue };
            let NodeKind::Aggregate { values, .. } = graph.kind(id) else { continue };
            if id == self.root {
                continue;
            }
            let readers = self.consumers.get(&id).map(Vec::as_slice).unwrap_or(&[]);
            let only_maps_of_it = readers.iter().all(|&r| {
                matches!(graph.kind(r), NodeKind::Map { inputs, .. }
                    if inputs.iter().all(|&i| i == id || matches!(graph.kind(i), NodeKind::Constant(_))))
            });
            if readers.is_empty() || !only_maps_of_it {
                continue;
            }
            let Some(aggregate_values) = self.values(id).numbers() else { continue };
            let n = self.inference.n_pos;
            let position_weight = 1.0 / (2.0 * (n as f64 + 2.0));
            let mut pairs: Vec<(f64, usize)> = Vec::new();
            for w in 0..=n {
                for b in 0..=usize::from(w >= 1) {
                    let z = (1.0 + position_weight * b as f64) / (w as f64 + 1.0);
                    let value = 1.0 / ((w + 1 - b) as f64);
                    if let Some(k) = aggregate_values.iter().position(|&x| (x - value).abs() <= 1e-12) {
                        pairs.push((z, k));
                    }
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            pairs.dedup_by(|a, b| a.0 == b.0);
            out.insert(
                id,
                WidthEncoding {
                    selector: sel,
                    first: *values,
                    position_weight,
                    z_values: pairs.iter().map(|p| p.0).collect(),
                    value_of_z: pairs.iter().map(|p| p.1).collect(),
                },
            );
        }
        out
    }

    /// The id model.json names `id` by: the caller's node a rewritten copy
    /// stands for, so tools reading the model beside the program find it.
    pub fn shown_id(&self, id: NodeId) -> u32 {
        self.origin.get(&id).unwrap_or(&id).0
    }

    fn values(&self, id: NodeId) -> &ValueSet {
        self.inference.values(id)
    }

    fn override_for(&self, id: NodeId, overrides: &[(String, Encoding)]) -> Option<Encoding> {
        overrides.iter().rev().find(|(name, _)| name == self.graph.name(id)).map(|(_, e)| *e)
    }

    /// Aggregates are attention heads; their encoding is decided up front.
    fn initial(&mut self, overrides: &[(String, Encoding)]) -> Result<(), CompileError> {
        for (name, _) in overrides {
            if !self.nodes.iter().any(|&id| self.graph.name(id) == name && !self.graph.is_selector(id)) {
                return Err(CompileError::general(format!(
                    "--encoding names `{name}`, which is not an s-op the output depends on"
                )));
            }
        }
        for i in 0..self.nodes.len() {
            let id = self.nodes[i];
            let forced = self.override_for(id, overrides);
            match self.graph.kind(id) {
                NodeKind::Aggregate { .. } => {
                    let averaging = self.inference.averaging.contains(&id);
                    let numeric = self.values(id).all_numeric();
                    let encoding = match forced {
                        Some(Encoding::Categorical) if averaging => {
                            return Err(CompileError::at(
                                self.graph,
                                id,
                                "cannot be categorical: it can average several positions, and an attention head \
                                 averages one-hot vectors into a mixture, not into the one-hot of the mean",
                            ));
                        }
                        Some(Encoding::Numerical) if !numeric => {
                            return Err(CompileError::at(
                                self.graph,
                                id,
                                "cannot be numerical: its values include strings",
                            ));
                        }
                        Some(e) => e,
                        None if averaging => Encoding::Numerical,
                        None if !numeric => Encoding::Categorical,
                        None if self.wants_one_hot(id) => Encoding::Categorical,
                        None => Encoding::Numerical,
                    };
                    let materialization = match encoding {
                        Encoding::Categorical => Materialization::one_hot(WrittenBy::Attention),
                        Encoding::Numerical => Materialization::scalar(WrittenBy::Attention),
                    };
                    self.materialized.insert(id, materialization);
                }
                NodeKind::Map { .. } => match forced {
                    Some(Encoding::Categorical) => {
                        self.materialized.insert(id, Materialization::one_hot(WrittenBy::Mlp));
                    }
                    Some(Encoding::Numerical) => {
                        if !self.values(id).all_numeric() {
                            return Err(CompileError::at(
                                self.graph,
                                id,
                                "cannot be numerical: its values include strings",
                            ));
                        }
                        self.materialized.insert(id, Materialization::scalar(WrittenBy::Mlp));
                    }
                    None => {}
                },
                NodeKind::Tokens(_) | NodeKind::Indices | NodeKind::Constant(_) => {
                    if forced.is_some() {
                        return Err(CompileError::at(
                            self.graph,
                            id,
                            "its encoding is fixed (tokens and indices are one-hot embeddings, constants are the `one` direction)",
                        ));
                    }
                }
                NodeKind::Select { .. }
                | NodeKind::SelectAll
                | NodeKind::SelectAnd(..)
                | NodeKind::SelectOr(..)
                | NodeKind::SelectNot(_) => {}
            }
        }
        Ok(())
    }

    /// Whether an s-op (or a one-input map of it) is a select key or query.
    fn wants_one_hot(&self, id: NodeId) -> bool {
        let mut stack = vec![id];
        let mut seen = HashSet::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            for &c in self.consumers.get(&x).map(Vec::as_slice).unwrap_or(&[]) {
                match self.graph.kind(c) {
                    NodeKind::Select { .. } => return true,
                    NodeKind::Map { inputs, .. } => {
                        let others = inputs.iter().filter(|&&i| i != x && !self.is_const(i)).count();
                        if others == 0 {
                            stack.push(c);
                        }
                    }
                    NodeKind::Tokens(_)
                    | NodeKind::Indices
                    | NodeKind::Constant(_)
                    | NodeKind::Aggregate { .. }
                    | NodeKind::SelectAll
                    | NodeKind::SelectAnd(..)
                    | NodeKind::SelectOr(..)
                    | NodeKind::SelectNot(_) => {}
                }
            }
        }
        false
    }

    fn find_select_only(&self) -> HashSet<NodeId> {
        let mut out = HashSet::new();
        for (&x, m) in &self.materialized {
            if m.categorical != Some(WrittenBy::Mlp) || !matches!(self.graph.kind(x), NodeKind::Map { .. }) {
                continue;
            }
            let on_x = |y: NodeId| matches!(self.plan(y), Plan::OneBasis { basis: Basis::Node(b), .. } if *b == x);
            let ok = self.nodes.iter().filter(|&&y| on_x(y)).all(|&y| {
                y != self.root
                    && self.consumers.get(&y).map(Vec::as_slice).unwrap_or(&[]).iter().all(|&c| {
                        match self.graph.kind(c) {
                            NodeKind::Select { .. } => true,
                            NodeKind::Map { .. } => on_x(c),
                            NodeKind::Tokens(_)
                            | NodeKind::Indices
                            | NodeKind::Constant(_)
                            | NodeKind::Aggregate { .. }
                            | NodeKind::SelectAll
                            | NodeKind::SelectAnd(..)
                            | NodeKind::SelectOr(..)
                            | NodeKind::SelectNot(_) => false,
                        }
                    })
            });
            if ok {
                out.insert(x);
            }
        }
        out
    }

    fn is_const(&self, id: NodeId) -> bool {
        matches!(self.graph.kind(id), NodeKind::Constant(_))
    }

    fn fixpoint(&mut self) -> Result<(), CompileError> {
        for _round in 0..10_000 {
            // One change per round, earliest node first: giving an early
            // node dimensions often makes later demands readable for free.
            self.compute_plans();
            let mut needs = self.demands()?;
            needs.sort_by_key(|&(id, _)| id);
            let mut changed = false;
            for (id, need) in needs {
                if self.satisfy(id, need)? {
                    changed = true;
                    break;
                }
            }
            if !changed {
                return Ok(());
            }
        }
        Err(CompileError::general("internal error: materialization does not converge"))
    }

    pub fn basis_len(&self, b: Basis) -> usize {
        match b {
            Basis::Token => self.inference.raw_tokens.len(),
            Basis::Position => self.inference.n_pos,
            Basis::Const => 1,
            Basis::Node(m) => self.values(m).len(),
        }
    }

    fn compute_plans(&mut self) {
        let mut plans = HashMap::new();
        for &id in &self.nodes {
            let plan = if self.materialized.contains_key(&id) {
                Plan::OneBasis {
                    basis: Basis::Node(id),
                    table: self.values(id).atoms().iter().cloned().map(Some).collect(),
                }
            } else {
                match self.graph.kind(id) {
                    NodeKind::Tokens(conversion) => Plan::OneBasis {
                        basis: Basis::Token,
                        table: self
                            .inference
                            .raw_tokens
                            .iter()
                            .map(|t| convert_token(*conversion, &Value::str(t)))
                            .collect(),
                    },
                    NodeKind::Indices => Plan::OneBasis {
                        basis: Basis::Position,
                        table: (0..self.inference.n_pos).map(|p| Some(Atom::Int(p as i64))).collect(),
                    },
                    NodeKind::Constant(Value::Atom(a)) => {
                        Plan::OneBasis { basis: Basis::Const, table: vec![Some(a.clone())] }
                    }
                    NodeKind::Map { op, inputs } => self.map_plan(&plans, op, inputs),
                    // A list or dict constant is no s-op value; aggregates
                    // are always materialized; selectors are no s-ops.
                    NodeKind::Constant(_)
                    | NodeKind::Aggregate { .. }
                    | NodeKind::Select { .. }
                    | NodeKind::SelectAll
                    | NodeKind::SelectAnd(..)
                    | NodeKind::SelectOr(..)
                    | NodeKind::SelectNot(_) => continue,
                }
            };
            plans.insert(id, plan);
        }
        self.plans = plans;
    }

    fn map_plan(&self, plans: &HashMap<NodeId, Plan>, op: &MapOp, inputs: &[NodeId]) -> Plan {
        let mut bases = BTreeSet::new();
        let mut tables = Vec::with_capacity(inputs.len());
        for i in inputs {
            match plans.get(i) {
                Some(Plan::OneBasis { basis, table }) => {
                    if *basis != Basis::Const {
                        bases.insert(*basis);
                    }
                    tables.push((*basis, table));
                }
                _ => return Plan::SeveralBases,
            }
        }
        if bases.len() > 1 {
            return Plan::SeveralBases;
        }
        let basis = bases.into_iter().next().unwrap_or(Basis::Const);
        let len = self.basis_len(basis);
        let column = |(b, t): &(Basis, &Vec<Option<Atom>>), row: usize| -> Option<Atom> {
            if *b == Basis::Const { t.first().cloned().flatten() } else { t.get(row).cloned().flatten() }
        };
        let defined: Vec<usize> = (0..len).filter(|&r| tables.iter().all(|t| column(t, r).is_some())).collect();
        let cols: Vec<Vec<Atom>> =
            tables.iter().map(|t| defined.iter().map(|&r| column(t, r).unwrap_or(Atom::Int(0))).collect()).collect();
        let results = apply(op, &cols);
        let mut table = vec![None; len];
        for (r, v) in defined.into_iter().zip(results) {
            table[r] = v;
        }
        Plan::OneBasis { basis, table }
    }

    pub fn plan(&self, id: NodeId) -> &Plan {
        self.plans.get(&id).unwrap_or(&self.unplanned)
    }

    /// Whether a basis can be read as a one-hot.
    pub fn basis_is_one_hot(&self, b: Basis) -> bool {
        match b {
            Basis::Token | Basis::Position | Basis::Const => true,
            Basis::Node(m) if self.width_encoded.contains_key(&m) => false,
            Basis::Node(m) => {
                let mat = self.materialized.get(&m).cloned().unwrap_or_default();
                mat.categorical.is_some() || (mat.numerical.is_some() && self.values(m).len() == 2)
            }
        }
    }

    pub fn readable_as_one_hot(&self, id: NodeId) -> bool {
        match self.plan(id) {
            Plan::OneBasis { basis, .. } => self.basis_is_one_hot(*basis),
            Plan::SeveralBases => false,
        }
    }

    pub fn readable_as_scalar(&self, id: NodeId) -> bool {
        if !self.values(id).all_numeric() {
            return false;
        }
        match self.plan(id) {
            Plan::OneBasis { basis, table } => {
                self.basis_is_one_hot(*basis) || self.affine_in_basis(*basis, table).is_some()
            }
            Plan::SeveralBases => self.is_affine_of_scalars(id),
        }
    }

    /// The s-op as an affine function of a scalar basis, when it is one.
    pub fn affine_in_basis(&self, basis: Basis, table: &[Option<Atom>]) -> Option<Affine> {
        let Basis::Node(m) = basis else { return None };
        // A width-encoded head holds z, of which its value is no affine map.
        if self.width_encoded.contains_key(&m) {
            return None;
        }
        let xs = self.values(m).numbers()?;
        let points: Vec<(f64, f64)> =
            xs.iter().zip(table).filter_map(|(&x, v)| Some((x, number(v.as_ref()?)?))).collect();
        let (x0, y0) = *points.first()?;
        let (slope, offset) = match points.iter().find(|(x, _)| *x != x0) {
            Some(&(x1, y1)) => {
                let slope = (y1 - y0) / (x1 - x0);
                (slope, y0 - slope * x0)
            }
            None => (0.0, y0),
        };
        let fits = points.iter().all(|&(x, y)| (slope * x + offset - y).abs() <= 1e-9 * (1.0 + y.abs()));
        fits.then_some(Affine { slope, offset })
    }

    /// An affine map of scalars that needs no dimensions of its own.
    pub fn is_affine_of_scalars(&self, id: NodeId) -> bool {
        let NodeKind::Map { op, inputs } = self.graph.kind(id) else { return false };
        if !matches!(self.plan(id), Plan::SeveralBases) {
            return false;
        }
        affine_op(self.graph, op, inputs).is_some() && inputs.iter().all(|&i| self.readable_as_scalar(i))
    }

    fn demands(&self) -> Result<Vec<(NodeId, Need)>, CompileError> {
        let mut out = vec![(self.root, Need::Either)];
        for &id in &self.nodes {
            match self.graph.kind(id) {
                NodeKind::Aggregate { values, .. } => {
                    let one_hot =
                        self.materialized.get(&id).is_some_and(|m| m.categorical == Some(WrittenBy::Attention));
                    out.push((*values, if one_hot { Need::OneHot } else { Need::Scalar }));
                }
                NodeKind::Select { key, query, .. } => {
                    out.push((*key, Need::OneHot));
                    out.push((*query, Need::OneHot));
                }
                // Maps are read from their inputs (the MLPs' demands below).
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::SelectAll
                | NodeKind::SelectAnd(..)
                | NodeKind::SelectOr(..)
                | NodeKind::SelectNot(_) => {}
            }
        }
        for (&id, m) in &self.materialized {
            if m.categorical == Some(WrittenBy::Mlp) || m.numerical == Some(WrittenBy::Mlp) {
                out.extend(self.mlp_demands(id)?);
            }
        }
        Ok(out)
    }

    fn satisfy(&mut self, id: NodeId, need: Need) -> Result<bool, CompileError> {
        let numeric = self.values(id).all_numeric();
        match need {
            Need::OneHot if !self.readable_as_one_hot(id) => {
                // A function of an MLP-made scalar with not many more values:
                // make the scalar one-hot instead (its functions are then free).
                if let Plan::OneBasis { basis: Basis::Node(m), .. } = self.plan(id).clone()
                    && m != id
                    && self
                        .materialized
                        .get(&m)
                        .is_some_and(|x| x.numerical == Some(WrittenBy::Mlp) && x.categorical.is_none())
                    && self.values(m).len() <= 2 * self.values(id).len() + 2
                {
                    self.materialized.insert(m, Materialization::one_hot(WrittenBy::Mlp));
                    return Ok(true);
                }
                // An MLP-made scalar is replaced by the one-hot (the scalar is
                // read linearly from it); an attention-made one stays.
                let entry = self.materialized.entry(id).or_default();
                entry.categorical = Some(WrittenBy::Mlp);
                if entry.numerical == Some(WrittenBy::Mlp) {
                    entry.numerical = None;
                }
                Ok(true)
            }
            Need::Scalar if !self.readable_as_scalar(id) => {
                if !numeric {
                    return Err(CompileError::at(self.graph, id, "is used as a number but its values include strings"));
                }
                if self.materialized.get(&id).is_some_and(|m| m.categorical.is_some() || m.numerical.is_some()) {
                    return Err(CompileError::at(self.graph, id, "internal error: materialized but not readable"));
                }
                self.materialized.insert(id, Materialization::scalar(WrittenBy::Mlp));
                Ok(true)
            }
            Need::Either if !self.readable_as_one_hot(id) && !self.readable_as_scalar(id) => {
                let wanted = if numeric {
                    Materialization::scalar(WrittenBy::Mlp)
                } else {
                    Materialization::one_hot(WrittenBy::Mlp)
                };
                let entry = self.materialized.entry(id).or_default();
                if entry.categorical.is_none() && entry.numerical.is_none() {
                    *entry = wanted;
                } else {
                    entry.categorical = Some(WrittenBy::Mlp);
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// What the MLP that materializes `id` reads.
    pub fn mlp_inputs(&self, id: NodeId) -> MlpInputs {
        let mut inputs = BTreeSet::new();
        let mut folded = Vec::new();
        match self.graph.kind(id).as_map() {
            Some((_, args)) => self.collect_inputs(args, &mut inputs, &mut folded),
            // Anything else is already in the stream (an aggregate's head
            // output): the MLP re-encodes it.
            None => {
                inputs.insert(MlpInput::Basis(Basis::Node(id)));
            }
        }
        MlpInputs { inputs: inputs.into_iter().collect(), folded }
    }

    fn collect_inputs(&self, inputs: &[NodeId], units: &mut BTreeSet<MlpInput>, expanded: &mut Vec<NodeId>) {
        for &i in inputs {
            match self.plan(i) {
                Plan::OneBasis { basis: Basis::Const, .. } => {}
                Plan::OneBasis { basis, .. } => {
                    units.insert(MlpInput::Basis(*basis));
                }
                Plan::SeveralBases if self.is_affine_of_scalars(i) => {
                    units.insert(MlpInput::Affine(i));
                }
                Plan::SeveralBases => {
                    if !expanded.contains(&i) {
                        expanded.push(i);
                        if let NodeKind::Map { inputs, .. } = self.graph.kind(i) {
                            self.collect_inputs(inputs, units, expanded);
                        }
                    }
                }
            }
        }
    }

    /// Whether an MLP reads a unit as a one-hot (else as a scalar).
    pub fn input_is_one_hot(&self, u: MlpInput) -> bool {
        match u {
            MlpInput::Basis(b) => self.basis_is_one_hot(b),
            MlpInput::Affine(i) => self.values(i).len() == 2,
        }
    }

    pub fn input_len(&self, u: MlpInput) -> usize {
        match u {
            MlpInput::Basis(b) => self.basis_len(b),
            MlpInput::Affine(i) => self.values(i).len(),
        }
    }

    fn mlp_demands(&self, id: NodeId) -> Result<Vec<(NodeId, Need)>, CompileError> {
        let MlpInputs { inputs: units, folded: expanded } = self.mlp_inputs(id);
        let mut out = Vec::new();
        // One MLP layer computes exact step functions of one scalar (or of
        // one projection of several); beyond the limits of a projection,
        // further scalars must first become one-hot.
        let mut scalars: Vec<MlpInput> = units.iter().copied().filter(|&u| !self.input_is_one_hot(u)).collect();
        // Scalars with few value combinations are read together, through one
        // projection (`mlp::Projection`): the whole chain of maps is then one
        // MLP, as the analysis counts it.
        let combinations = scalars.iter().fold(1usize, |acc, &u| acc.saturating_mul(self.input_len(u).max(1)));
        let fused = combinations <= crate::mlp::MAX_SCALAR_COMBINATIONS && self.domain_size(&units) <= MAX_MLP_DOMAIN;
        if scalars.len() > 1 && !fused {
            // First choice: give dimensions to the largest folded
            // sub-expressions that one MLP can compute (few enough scalar
            // combinations; `"T" if depth == 0 else "P"` of dyck1's verdict,
            // or `opens` and `closes` of `opens - closes + x`), outermost
            // first: they are then ready in the same layer as their inputs.
            let mut covered: HashSet<NodeId> = HashSet::new();
            for &e in &expanded {
                if covered.contains(&e) {
                    continue;
                }
                let NodeKind::Map { inputs, .. } = self.graph.kind(e) else { continue };
                let mut sub_units = BTreeSet::new();
                let mut sub_expanded = Vec::new();
                self.collect_inputs(inputs, &mut sub_units, &mut sub_expanded);
                let sub_units: Vec<MlpInput> = sub_units.into_iter().collect();
                let sub_scalars: Vec<MlpInput> =
                    sub_units.iter().copied().filter(|&u| !self.input_is_one_hot(u)).collect();
                let sub_combinations =
                    sub_scalars.iter().fold(1usize, |acc, &u| acc.saturating_mul(self.input_len(u).max(1)));
                // The limit on combinations is a projection's (several
                // scalars on one line); one scalar is read as it is, its
                // steps as far apart as its own values (`mlp`).
                if (sub_scalars.len() <= 1 || sub_combinations <= crate::mlp::MAX_SCALAR_COMBINATIONS)
                    && self.domain_size(&sub_units) <= MAX_MLP_DOMAIN
                {
                    out.push((e, Need::Either));
                    covered.extend(sub_expanded);
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            // Then: one-input functions of a scalar (`mean > 0`) as one-hots.
            let mut frontier: Vec<NodeId> = self.map_inputs(id).to_vec();
            for &e in &expanded {
                if let NodeKind::Map { inputs, .. } = self.graph.kind(e) {
                    frontier.extend(inputs.iter().copied());
                }
            }
            for x in frontier {
                if let Plan::OneBasis { basis: Basis::Node(m), .. } = self.plan(x)
                    && *m != x
                    && !self.basis_is_one_hot(Basis::Node(*m))
                    && !out.contains(&(x, Need::OneHot))
                {
                    out.push((x, Need::OneHot));
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
            // Last: one-hot copies of all scalars but the one with most values.
            scalars.sort_by_key(|&u| std::cmp::Reverse(self.input_len(u)));
            for &u in scalars.iter().skip(1) {
                match u {
                    MlpInput::Basis(Basis::Node(m)) | MlpInput::Affine(m) => out.push((m, Need::OneHot)),
                    MlpInput::Basis(_) => {}
                }
            }
            return Ok(out);
        }
        if self.domain_size(&units) > MAX_MLP_DOMAIN {
            let top: Vec<NodeId> = self.map_inputs(id).iter().copied().filter(|i| expanded.contains(i)).collect();
            if top.is_empty() {
                return Err(CompileError::at(
                    self.graph,
                    id,
                    &format!(
                        "the MLP computing it would read {} combinations of input values (limit {MAX_MLP_DOMAIN})",
                        self.domain_size(&units)
                    ),
                ));
            }
            out.extend(top.into_iter().map(|i| (i, Need::Either)));
        }
        Ok(out)
    }

    /// The inputs of a map (nothing for other kinds of node).
    fn map_inputs(&self, id: NodeId) -> &[NodeId] {
        self.graph.kind(id).as_map().map_or(&[], |(_, inputs)| inputs)
    }

    /// How many value combinations an MLP over `units` must tabulate.
    pub fn domain_size(&self, units: &[MlpInput]) -> usize {
        let both = units.contains(&MlpInput::Basis(Basis::Token)) && units.contains(&MlpInput::Basis(Basis::Position));
        let mut size: usize = if both { self.inference.reachable.len() } else { 1 };
        for &u in units {
            if both && matches!(u, MlpInput::Basis(Basis::Token | Basis::Position)) {
                continue;
            }
            size = size.saturating_mul(self.input_len(u));
        }
        size
    }

    /// Every combination of unit values an input can produce (value indices
    /// per unit, in `units` order); (token, position) pairs are only the
    /// reachable ones.
    pub fn joint_points(&self, units: &[MlpInput]) -> Vec<Vec<usize>> {
        let ti = units.iter().position(|&u| u == MlpInput::Basis(Basis::Token));
        let pi = units.iter().position(|&u| u == MlpInput::Basis(Basis::Position));
        let mut points: Vec<Vec<usize>> = vec![vec![0; units.len()]];
        if let (Some(ti), Some(pi)) = (ti, pi) {
            points = self
                .inference
                .reachable
                .iter()
                .map(|at| {
                    let mut v = vec![0; units.len()];
                    v[ti] = at.token;
                    v[pi] = at.position;
                    v
                })
                .collect();
        }
        for (k, &u) in units.iter().enumerate() {
            if ti.is_some() && pi.is_some() && (Some(k) == ti || Some(k) == pi) {
                continue;
            }
            let len = self.input_len(u);
            let mut next = Vec::with_capacity(points.len() * len);
            for p in &points {
                for v in 0..len {
                    let mut q = p.clone();
                    q[k] = v;
                    next.push(q);
                }
            }
            points = next;
        }
        points
    }

    /// The value of `id` at each point (its definition, even when `id` is
    /// materialized: this is what its MLP computes).
    pub fn eval_definition(&self, id: NodeId, units: &[MlpInput], points: &[Vec<usize>]) -> Vec<Option<Atom>> {
        let mut memo = HashMap::new();
        match self.graph.kind(id).as_map() {
            Some((op, inputs)) => self.eval_map(op, inputs, units, points, &mut memo),
            // An aggregate's MLP copies its head's output: the value is the input's.
            None => {
                let k = units.iter().position(|&u| u == MlpInput::Basis(Basis::Node(id)));
                points.iter().map(|p| k.and_then(|k| self.values(id).atoms().get(p[k]).cloned())).collect()
            }
        }
    }

    fn eval_map(
        &self,
        op: &MapOp,
        inputs: &[NodeId],
        units: &[MlpInput],
        points: &[Vec<usize>],
        memo: &mut HashMap<NodeId, Vec<Option<Atom>>>,
    ) -> Vec<Option<Atom>> {
        let cols: Vec<Vec<Option<Atom>>> = inputs.iter().map(|&i| self.eval_node(i, units, points, memo)).collect();
        let defined: Vec<usize> = (0..points.len()).filter(|&r| cols.iter().all(|c| c[r].is_some())).collect();
        let args: Vec<Vec<Atom>> =
            cols.iter().map(|c| defined.iter().map(|&r| c[r].clone().unwrap_or(Atom::Int(0))).collect()).collect();
        let results = apply(op, &args);
        let mut out = vec![None; points.len()];
        for (r, v) in defined.into_iter().zip(results) {
            out[r] = v;
        }
        out
    }

    fn eval_node(
        &self,
        id: NodeId,
        units: &[MlpInput],
        points: &[Vec<usize>],
        memo: &mut HashMap<NodeId, Vec<Option<Atom>>>,
    ) -> Vec<Option<Atom>> {
        if let Some(v) = memo.get(&id) {
            return v.clone();
        }
        let out = if let Some(k) = units.iter().position(|&u| u == MlpInput::Affine(id)) {
            points.iter().map(|p| self.values(id).atoms().get(p[k]).cloned()).collect()
        } else {
            match self.plan(id) {
                Plan::OneBasis { basis: Basis::Const, table } => vec![table.first().cloned().flatten(); points.len()],
                Plan::OneBasis { basis, table } => match units.iter().position(|&u| u == MlpInput::Basis(*basis)) {
                    Some(k) => points.iter().map(|p| table.get(p[k]).cloned().flatten()).collect(),
                    None => vec![None; points.len()],
                },
                Plan::SeveralBases => match self.graph.kind(id) {
                    NodeKind::Map { op, inputs } => self.eval_map(op, inputs, units, points, memo),
                    NodeKind::Tokens(_)
                    | NodeKind::Indices
                    | NodeKind::Constant(_)
                    | NodeKind::Aggregate { .. }
                    | NodeKind::Select { .. }
                    | NodeKind::SelectAll
                    | NodeKind::SelectAnd(..)
                    | NodeKind::SelectOr(..)
                    | NodeKind::SelectNot(_) => vec![None; points.len()],
                },
            }
        };
        memo.insert(id, out.clone());
        out
    }
}

/// The affine form of a map: coefficients per input plus a constant, when
/// the map is affine in its (numeric) inputs.
pub fn affine_op(graph: &Graph, op: &MapOp, inputs: &[NodeId]) -> Option<AffineMap> {
    let constant = |id: NodeId| match graph.kind(id) {
        NodeKind::Constant(Value::Atom(a)) => number(a),
        NodeKind::Constant(_)
        | NodeKind::Tokens(_)
        | NodeKind::Indices
        | NodeKind::Map { .. }
        | NodeKind::Aggregate { .. }
        | NodeKind::Select { .. }
        | NodeKind::SelectAll
        | NodeKind::SelectAnd(..)
        | NodeKind::SelectOr(..)
        | NodeKind::SelectNot(_) => None,
    };
    let map = |coefficients: Vec<f64>, constant: f64| Some(AffineMap { coefficients, constant });
    let value_number = |v: &Value| v.as_atom().and_then(number);
    match (op, inputs) {
        (MapOp::Neg, [_]) => map(vec![-1.0], 0.0),
        (MapOp::Pos, [_]) => map(vec![1.0], 0.0),
        (MapOp::Arith(ArithOp::Add), [_, _]) => map(vec![1.0, 1.0], 0.0),
        (MapOp::Arith(ArithOp::Sub), [_, _]) => map(vec![1.0, -1.0], 0.0),
        (MapOp::Arith(ArithOp::Mul), [left, right]) => match (constant(*left), constant(*right)) {
            (Some(factor), _) => map(vec![0.0, factor], 0.0),
            (_, Some(factor)) => map(vec![factor, 0.0], 0.0),
            _ => None,
        },
        (MapOp::Arith(ArithOp::Div), [_, divisor]) => {
            constant(*divisor).filter(|d| *d != 0.0).and_then(|d| map(vec![1.0 / d, 0.0], 0.0))
        }
        (MapOp::ArithConst { op, constant, constant_on_left }, [_]) => {
            let k = value_number(constant)?;
            match (op, constant_on_left) {
                (ArithOp::Add, _) => map(vec![1.0], k),
                (ArithOp::Sub, false) => map(vec![1.0], -k),
                (ArithOp::Sub, true) => map(vec![-1.0], k),
                (ArithOp::Mul, _) => map(vec![k], 0.0),
                (ArithOp::Div, false) if k != 0.0 => map(vec![1.0 / k], 0.0),
                _ => None,
            }
        }
        _ => None,
    }
}
