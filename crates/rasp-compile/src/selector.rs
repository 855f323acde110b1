//! Selectors as attention scores.
//!
//! A head's logit for (query q, key k) is a bilinear form Σ φ(q)ᵀ M ψ(k)
//! over one-hot "sides": the `one` direction, a basis (a one-hot s-op), or a
//! feature (boolean functions of a few bases, made by an MLP when they need
//! more than one). A selector compiles to such a form with:
//! * selected keys scoring ≥ 1 and unselected ≤ 0 ("separating"); and when
//!   the aggregate may average, every selected key scoring exactly 1, so
//!   the softmax weights are uniform.
//!
//! Constructions, cheapest first (each is checked on every combination of
//! base values before it is used; the last always works):
//! 1. all base selects read the same key and query sources: one exact 0/1
//!    table (`and`/`or`/`not` combine tables entry by entry);
//! 2. algebra on forms: `not a` = 1 − a (a exact), `a and b` = a + b − 1
//!    (selected: exactly 1; else ≤ 0), `a or b` = a + b when the two never
//!    both hold or only one key is selected anyway, and when b reads only
//!    the key (or only the query), `a or b` = a·(1−b) + b with a's key
//!    features switched off where b holds (a product with a one-hot, made by
//!    an MLP when a and b read different sources);
//! 3. the joint table: query classes = distinct rows of the selector over
//!    all its query sources, key classes = distinct columns; one exact 0/1
//!    table between them (features made by MLPs: "query/key products").

use crate::build::{Builder, Feature, FeatureId, describe_selector};
use crate::error::CompileError;
use crate::plan::{Basis, MlpInput, Plan};
use rasp_core::{NodeId, NodeKind};
use std::collections::{BTreeSet, HashMap};

/// The classes of a side at a point of given bases.
type ClassFn = Box<dyn Fn(&Builder, &[usize], &[Basis]) -> Vec<bool>>;

/// Largest number of query or key classes of a selector.
pub const MAX_CLASSES: usize = 4096;
/// Largest (query combination × key combination) count checked.
const MAX_CHECK: usize = 8_000_000;

/// One side (query or key) of a score term: what the query or key position
/// contributes, as a one-hot over classes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Side {
    /// The `one` direction: a single class that always holds.
    Const,
    /// The values of a basis.
    Basis(Basis),
    /// The classes of a feature.
    Feature(FeatureId),
}

#[derive(Debug, Clone)]
pub struct Term {
    pub query: Side,
    pub key: Side,
    /// weights[query class][key class]
    pub weights: Vec<Vec<f64>>,
}

#[derive(Debug, Clone, Default)]
pub struct Form {
    pub terms: Vec<Term>,
}

impl Form {
    fn constant(c: f64) -> Form {
        Form { terms: vec![Term { query: Side::Const, key: Side::Const, weights: vec![vec![c]] }] }
    }

    fn plus(mut self, other: Form) -> Form {
        self.terms.extend(other.terms);
        self
    }

    fn times(mut self, c: f64) -> Form {
        for t in &mut self.terms {
            for row in &mut t.weights {
                for v in row.iter_mut() {
                    *v *= c;
                }
            }
        }
        self
    }
}

/// A base select as a boolean table over its query and key sources.
#[derive(Debug, Clone)]
struct SelectTable {
    query: Basis,
    key: Basis,
    /// table[query value][key value]
    table: Vec<Vec<bool>>,
}

/// The bases a selector (or a score form) reads on either side.
struct Sources {
    queries: BTreeSet<Basis>,
    keys: BTreeSet<Basis>,
}

/// The query and key basis of a selector whose base selects all read the
/// same two (`Basis::Const` for a side nothing reads).
#[derive(Clone, Copy)]
struct SourcePair {
    query: Basis,
    key: Basis,
}

/// The base selects of a selector, each tabulated.
struct BaseSelects {
    tables: HashMap<NodeId, SelectTable>,
}

impl BaseSelects {
    /// The non-constant bases the selector's base selects read on the
    /// query side and on the key side.
    fn sources(&self) -> Sources {
        let mut queries = BTreeSet::new();
        let mut keys = BTreeSet::new();
        for t in self.tables.values() {
            if t.query != Basis::Const {
                queries.insert(t.query);
            }
            if t.key != Basis::Const {
                keys.insert(t.key);
            }
        }
        Sources { queries, keys }
    }

    fn holds(
        &self,
        graph: &rasp_core::Graph,
        sel: NodeId,
        qa: &dyn Fn(Basis) -> usize,
        ka: &dyn Fn(Basis) -> usize,
    ) -> bool {
        match graph.kind(sel) {
            NodeKind::Select { .. } => match self.tables.get(&sel) {
                Some(t) => t.table[qa(t.query)][ka(t.key)],
                None => false,
            },
            NodeKind::SelectAll => true,
            NodeKind::SelectAnd(a, b) => self.holds(graph, *a, qa, ka) && self.holds(graph, *b, qa, ka),
            NodeKind::SelectOr(a, b) => self.holds(graph, *a, qa, ka) || self.holds(graph, *b, qa, ka),
            NodeKind::SelectNot(a) => !self.holds(graph, *a, qa, ka),
            NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Aggregate { .. } => false,
        }
    }
}

fn side_bases(b: &Builder, side: &Side, out: &mut BTreeSet<Basis>) {
    match side {
        Side::Const => {}
        Side::Basis(x) => {
            if *x != Basis::Const {
                out.insert(*x);
            }
        }
        Side::Feature(f) => out.extend(b.feature(*f).units.iter().copied()),
    }
}

impl Builder<'_, '_> {
    fn base_selects(&self, sel: NodeId) -> Result<BaseSelects, CompileError> {
        let mut tables = HashMap::new();
        let mut stack = vec![sel];
        while let Some(s) = stack.pop() {
            match self.planner.graph.kind(s) {
                NodeKind::Select { key, query, predicate } => {
                    let (Plan::OneBasis { basis: kb, table: tk }, Plan::OneBasis { basis: qb, table: tq }) =
                        (self.planner.plan(*key), self.planner.plan(*query))
                    else {
                        return Err(CompileError::at(
                            self.planner.graph,
                            s,
                            "internal error: key or query not one-hot",
                        ));
                    };
                    let op = predicate.mirrored_on_query();
                    let table = tq
                        .iter()
                        .map(|q| {
                            tk.iter()
                                .map(|k| match (q, k) {
                                    (Some(q), Some(k)) => rasp_core::pyops::compare(op, q, k).unwrap_or(false),
                                    _ => false,
                                })
                                .collect()
                        })
                        .collect();
                    tables.insert(s, SelectTable { query: *qb, key: *kb, table });
                }
                NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => {
                    stack.push(*a);
                    stack.push(*b);
                }
                NodeKind::SelectNot(a) => stack.push(*a),
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::Aggregate { .. }
                | NodeKind::SelectAll => {}
            }
        }
        Ok(BaseSelects { tables })
    }

    /// The one query and one key basis the selector reads, if it reads no more.
    fn single_pair(&self, atoms: &BaseSelects, sel: NodeId) -> Option<SourcePair> {
        let mut qs = BTreeSet::new();
        let mut ks = BTreeSet::new();
        let mut stack = vec![sel];
        while let Some(s) = stack.pop() {
            match self.planner.graph.kind(s) {
                NodeKind::Select { .. } => {
                    let t = atoms.tables.get(&s)?;
                    if t.query != Basis::Const {
                        qs.insert(t.query);
                    }
                    if t.key != Basis::Const {
                        ks.insert(t.key);
                    }
                }
                NodeKind::SelectAnd(a, b) | NodeKind::SelectOr(a, b) => {
                    stack.push(*a);
                    stack.push(*b);
                }
                NodeKind::SelectNot(a) => stack.push(*a),
                NodeKind::Tokens(_)
                | NodeKind::Indices
                | NodeKind::Constant(_)
                | NodeKind::Map { .. }
                | NodeKind::Aggregate { .. }
                | NodeKind::SelectAll => {}
            }
        }
        if qs.len() > 1 || ks.len() > 1 {
            return None;
        }
        Some(SourcePair {
            query: qs.into_iter().next().unwrap_or(Basis::Const),
            key: ks.into_iter().next().unwrap_or(Basis::Const),
        })
    }

    fn exact_term(&self, atoms: &BaseSelects, sel: NodeId, SourcePair { query: qb, key: kb }: SourcePair) -> Term {
        let graph = self.planner.graph;
        let weights = (0..self.planner.basis_len(qb))
            .map(|qi| {
                (0..self.planner.basis_len(kb))
                    .map(|ki| {
                        let qa = |b: Basis| if b == Basis::Const { 0 } else { qi };
                        let ka = |b: Basis| if b == Basis::Const { 0 } else { ki };
                        f64::from(u8::from(atoms.holds(graph, sel, &qa, &ka)))
                    })
                    .collect()
            })
            .collect();
        let side = |b: Basis| if b == Basis::Const { Side::Const } else { Side::Basis(b) };
        Term { query: side(qb), key: side(kb), weights }
    }

    /// The score form of a selector; `uniform`: selected keys must score
    /// exactly 1 (the aggregate may average).
    pub fn selector_form(&mut self, sel: NodeId, uniform: bool) -> Result<Form, CompileError> {
        let atoms = self.base_selects(sel)?;
        if let Some(pair) = self.single_pair(&atoms, sel) {
            return Ok(Form { terms: vec![self.exact_term(&atoms, sel, pair)] });
        }
        if let Some(form) = self.algebraic(&atoms, sel)?
            && (self.conjunction_of_exact(&atoms, sel) || self.check(&atoms, sel, &form, uniform))
        {
            return Ok(form);
        }
        self.joint(&atoms, sel)
    }

    /// Whether `sel` is an `and` of parts that each read one query and one
    /// key source. Their algebraic form is a sum of exact 0/1 terms minus
    /// (parts − 1): exactly 1 where every part holds, at most 0 elsewhere.
    /// That needs no check, which matters when the parts' joint values are
    /// too many to check one by one (two selects over 64-value sources on
    /// each side already make 17 million pairs).
    fn conjunction_of_exact(&self, atoms: &BaseSelects, sel: NodeId) -> bool {
        match self.planner.graph.kind(sel) {
            NodeKind::SelectAnd(a, b) => self.conjunction_of_exact(atoms, *a) && self.conjunction_of_exact(atoms, *b),
            NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::SelectOr(..)
            | NodeKind::SelectNot(_)
            | NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Aggregate { .. } => self.single_pair(atoms, sel).is_some(),
        }
    }

    fn algebraic(&mut self, atoms: &BaseSelects, sel: NodeId) -> Result<Option<Form>, CompileError> {
        if let Some(pair) = self.single_pair(atoms, sel) {
            return Ok(Some(Form { terms: vec![self.exact_term(atoms, sel, pair)] }));
        }
        let graph = self.planner.graph;
        Ok(match graph.kind(sel) {
            NodeKind::SelectNot(a) => self.algebraic(atoms, *a)?.map(|f| Form::constant(1.0).plus(f.times(-1.0))),
            NodeKind::SelectAnd(a, b) => match (self.algebraic(atoms, *a)?, self.algebraic(atoms, *b)?) {
                (Some(x), Some(y)) => Some(x.plus(y).plus(Form::constant(-1.0))),
                _ => None,
            },
            NodeKind::SelectOr(a, b) => {
                let (a, b) = (*a, *b);
                let one_sided = |s: NodeId, key_side: bool| match self.single_pair(atoms, s) {
                    Some(SourcePair { query: Basis::Const, key }) if key_side && key != Basis::Const => Some(key),
                    Some(SourcePair { query, key: Basis::Const }) if !key_side && query != Basis::Const => Some(query),
                    _ => None,
                };
                let gate = [(b, a, true), (a, b, true), (b, a, false), (a, b, false)]
                    .into_iter()
                    .find_map(|(g, other, key_side)| one_sided(g, key_side).map(|basis| (g, other, key_side, basis)));
                match gate {
                    Some((g, other, key_side, basis)) => {
                        let Some(f) = self.algebraic(atoms, other)? else { return Ok(None) };
                        let gated = self.gate(atoms, f, g, basis, key_side);
                        let g_form = self.algebraic(atoms, g)?;
                        g_form.map(|gf| gated.plus(gf))
                    }
                    None => match (self.algebraic(atoms, a)?, self.algebraic(atoms, b)?) {
                        (Some(x), Some(y)) => Some(x.plus(y)),
                        _ => None,
                    },
                }
            }
            // A base select or select-all reading several sources has no
            // algebraic form: the joint table handles it.
            NodeKind::Select { .. }
            | NodeKind::SelectAll
            | NodeKind::Tokens(_)
            | NodeKind::Indices
            | NodeKind::Constant(_)
            | NodeKind::Map { .. }
            | NodeKind::Aggregate { .. } => None,
        })
    }

    /// `f` with its key (or query) side multiplied by "g does not hold",
    /// where g reads only `basis` on that side.
    fn gate(&mut self, atoms: &BaseSelects, f: Form, g: NodeId, basis: Basis, key_side: bool) -> Form {
        let graph = self.planner.graph;
        let g_values: Vec<bool> = (0..self.planner.basis_len(basis))
            .map(|i| {
                let at = |b: Basis| if b == Basis::Const { 0 } else { i };
                let zero = |_: Basis| 0usize;
                if key_side { atoms.holds(graph, g, &zero, &at) } else { atoms.holds(graph, g, &at, &zero) }
            })
            .collect();
        let mut terms = Vec::new();
        for t in f.terms {
            let side = if key_side { &t.key } else { &t.query };
            let (mut units, classes_of): (Vec<Basis>, ClassFn) = match side.clone() {
                Side::Const => (vec![], Box::new(|_: &Builder, _: &[usize], _: &[Basis]| vec![true])),
                Side::Basis(b) => {
                    let n = self.planner.basis_len(b);
                    (
                        vec![b],
                        Box::new(move |_: &Builder, p: &[usize], us: &[Basis]| {
                            let i = us.iter().position(|&u| u == b).map_or(0, |k| p[k]);
                            (0..n).map(|c| c == i).collect()
                        }),
                    )
                }
                Side::Feature(fid) => {
                    let fu = self.feature(fid).units.clone();
                    (
                        fu.clone(),
                        Box::new(move |bld: &Builder, p: &[usize], us: &[Basis]| {
                            let sub: Vec<usize> =
                                fu.iter().map(|u| us.iter().position(|x| x == u).map_or(0, |k| p[k])).collect();
                            bld.feature(fid).class_values(&sub)
                        }),
                    )
                }
            };
            if !units.contains(&basis) {
                units.push(basis);
            }
            units.sort();
            let points = self.planner.joint_points(&units.iter().map(|&b| MlpInput::Basis(b)).collect::<Vec<_>>());
            let gk = units.iter().position(|&u| u == basis).unwrap_or(0);
            let per_point: Vec<Vec<bool>> = points
                .iter()
                .map(|p| {
                    let on = !g_values[p[gk]];
                    classes_of(self, p, &units).into_iter().map(|c| c && on).collect()
                })
                .collect();
            let n_classes = per_point.first().map_or(0, Vec::len);
            let classes: Vec<Vec<bool>> = (0..n_classes).map(|c| per_point.iter().map(|v| v[c]).collect()).collect();
            let name = format!("{} where not {}", describe_side(self, side), describe_selector(graph, g));
            let fid = self.add_feature(units, points, classes, name);
            let new_side = Side::Feature(fid);
            terms.push(if key_side { Term { key: new_side, ..t } } else { Term { query: new_side, ..t } });
        }
        Form { terms }
    }

    /// Adds a feature after dropping the bases it does not depend on;
    /// returns the id of an equal feature if there is one.
    pub fn add_feature(
        &mut self,
        units: Vec<Basis>,
        points: Vec<Vec<usize>>,
        classes: Vec<Vec<bool>>,
        name: String,
    ) -> FeatureId {
        let (mut units, mut points, mut classes) = (units, points, classes);
        let mut u = 0;
        while u < units.len() {
            let mut groups: HashMap<Vec<usize>, Vec<bool>> = HashMap::new();
            let mut consistent = true;
            for (i, p) in points.iter().enumerate() {
                let key: Vec<usize> = p.iter().enumerate().filter(|&(k, _)| k != u).map(|(_, &v)| v).collect();
                let vals: Vec<bool> = classes.iter().map(|c| c[i]).collect();
                match groups.get(&key) {
                    Some(v) if *v != vals => {
                        consistent = false;
                        break;
                    }
                    Some(_) => {}
                    None => {
                        groups.insert(key, vals);
                    }
                }
            }
            if consistent {
                units.remove(u);
                let mut new_points: Vec<Vec<usize>> = groups.keys().cloned().collect();
                new_points.sort();
                classes = (0..classes.len()).map(|c| new_points.iter().map(|p| groups[p][c]).collect()).collect();
                points = new_points;
            } else {
                u += 1;
            }
        }
        for (i, f) in self.features.iter().enumerate() {
            if f.units == units && f.points == points && f.classes == classes {
                return FeatureId(i);
            }
        }
        self.features.push(Feature::new(units, points, classes, name));
        FeatureId(self.features.len() - 1)
    }

    /// Whether `form` separates the selector (and is uniform if asked) on
    /// every combination of its sources' values.
    fn check(&self, atoms: &BaseSelects, sel: NodeId, form: &Form, uniform: bool) -> bool {
        let Sources { queries: mut qset, keys: mut kset } = atoms.sources();
        for t in &form.terms {
            side_bases(self, &t.query, &mut qset);
            side_bases(self, &t.key, &mut kset);
        }
        let qs: Vec<Basis> = qset.into_iter().collect();
        let ks: Vec<Basis> = kset.into_iter().collect();
        let qpoints = self.planner.joint_points(&qs.iter().map(|&b| MlpInput::Basis(b)).collect::<Vec<_>>());
        let kpoints = self.planner.joint_points(&ks.iter().map(|&b| MlpInput::Basis(b)).collect::<Vec<_>>());
        if qpoints.len().saturating_mul(kpoints.len()) > MAX_CHECK {
            return false;
        }
        let vec_of = |side: &Side, bases: &[Basis], p: &[usize]| -> Vec<f64> {
            let at = |b: Basis| bases.iter().position(|&x| x == b).map_or(0, |k| p[k]);
            match side {
                Side::Const => vec![1.0],
                Side::Basis(b) => {
                    let mut v = vec![0.0; self.planner.basis_len(*b)];
                    v[at(*b)] = 1.0;
                    v
                }
                Side::Feature(f) => {
                    let sub: Vec<usize> = self.feature(*f).units.iter().map(|&u| at(u)).collect();
                    self.feature(*f).class_values(&sub).into_iter().map(|b| f64::from(u8::from(b))).collect()
                }
            }
        };
        // A key side is mostly one-hot: keep its index, so that a score is a
        // lookup per term instead of a dot product over the whole basis
        // (this check dominated compile time with bases of hundreds of values).
        let key_vector = |side: &Side, p: &[usize]| -> KeyVector {
            match side {
                Side::Basis(b) => KeyVector::OneHot(ks.iter().position(|&x| x == *b).map_or(0, |k| p[k])),
                Side::Const | Side::Feature(_) => KeyVector::Dense(vec_of(side, &ks, p)),
            }
        };
        let kvecs: Vec<Vec<KeyVector>> =
            kpoints.iter().map(|p| form.terms.iter().map(|t| key_vector(&t.key, p)).collect()).collect();
        for qp in &qpoints {
            let us: Vec<Vec<f64>> = form
                .terms
                .iter()
                .map(|t| {
                    let qv = vec_of(&t.query, &qs, qp);
                    let n = t.weights.first().map_or(0, Vec::len);
                    (0..n).map(|c2| qv.iter().zip(&t.weights).map(|(x, row)| x * row[c2]).sum()).collect()
                })
                .collect();
            let qa = |b: Basis| qs.iter().position(|&x| x == b).map_or(0, |k| qp[k]);
            for (kp, kv) in kpoints.iter().zip(&kvecs) {
                let score: f64 = us
                    .iter()
                    .zip(kv)
                    .map(|(u, k)| match k {
                        KeyVector::OneHot(index) => u.get(*index).copied().unwrap_or(0.0),
                        KeyVector::Dense(values) => u.iter().zip(values).map(|(a, b)| a * b).sum::<f64>(),
                    })
                    .sum();
                let ka = |b: Basis| ks.iter().position(|&x| x == b).map_or(0, |k| kp[k]);
                let selected = atoms.holds(self.planner.graph, sel, &qa, &ka);
                let ok = if selected {
                    if uniform { (score - 1.0).abs() < 1e-9 } else { score >= 1.0 - 1e-9 }
                } else {
                    score <= 1e-9
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }

    /// The always-exact construction: classes of query and key combinations.
    fn joint(&mut self, atoms: &BaseSelects, sel: NodeId) -> Result<Form, CompileError> {
        let Sources { queries: qset, keys: kset } = atoms.sources();
        let qs: Vec<Basis> = qset.into_iter().collect();
        let ks: Vec<Basis> = kset.into_iter().collect();
        let qpoints = self.planner.joint_points(&qs.iter().map(|&b| MlpInput::Basis(b)).collect::<Vec<_>>());
        let kpoints = self.planner.joint_points(&ks.iter().map(|&b| MlpInput::Basis(b)).collect::<Vec<_>>());
        if qpoints.len().saturating_mul(kpoints.len()) > 4 * MAX_CHECK {
            return Err(CompileError::at(
                self.planner.graph,
                sel,
                &format!(
                    "the selector reads {} query and {} key combinations of values; too many to tabulate",
                    qpoints.len(),
                    kpoints.len()
                ),
            ));
        }
        let graph = self.planner.graph;
        let table: Vec<Vec<bool>> = qpoints
            .iter()
            .map(|qp| {
                let qa = |b: Basis| qs.iter().position(|&x| x == b).map_or(0, |k| qp[k]);
                kpoints
                    .iter()
                    .map(|kp| {
                        let ka = |b: Basis| ks.iter().position(|&x| x == b).map_or(0, |k| kp[k]);
                        atoms.holds(graph, sel, &qa, &ka)
                    })
                    .collect()
            })
            .collect();
        let classes_of = |lines: Vec<Vec<bool>>| -> (Vec<Vec<bool>>, Vec<Option<usize>>) {
            let mut reps: Vec<Vec<bool>> = Vec::new();
            let mut of = Vec::with_capacity(lines.len());
            for l in lines {
                if l.iter().all(|&b| !b) {
                    of.push(None);
                    continue;
                }
                match reps.iter().position(|r| *r == l) {
                    Some(c) => of.push(Some(c)),
                    None => {
                        reps.push(l);
                        of.push(Some(reps.len() - 1));
                    }
                }
            }
            (reps, of)
        };
        let (qreps, qof) = classes_of(table.clone());
        let columns: Vec<Vec<bool>> = (0..kpoints.len()).map(|k| table.iter().map(|r| r[k]).collect()).collect();
        let (kreps, kof) = classes_of(columns);
        if qreps.len() > MAX_CLASSES || kreps.len() > MAX_CLASSES {
            return Err(CompileError::at(
                graph,
                sel,
                &format!(
                    "the selector needs {} query and {} key classes (limit {MAX_CLASSES})",
                    qreps.len(),
                    kreps.len()
                ),
            ));
        }
        // weights[qc][kc]: a representative query of qc against a representative key of kc.
        let qrep_point: Vec<usize> =
            (0..qreps.len()).map(|c| qof.iter().position(|&x| x == Some(c)).unwrap_or(0)).collect();
        let krep_point: Vec<usize> =
            (0..kreps.len()).map(|c| kof.iter().position(|&x| x == Some(c)).unwrap_or(0)).collect();
        let weights: Vec<Vec<f64>> = qrep_point
            .iter()
            .map(|&qi| krep_point.iter().map(|&ki| f64::from(u8::from(table[qi][ki]))).collect())
            .collect();
        let qclasses: Vec<Vec<bool>> = (0..qreps.len()).map(|c| qof.iter().map(|&x| x == Some(c)).collect()).collect();
        let kclasses: Vec<Vec<bool>> = (0..kreps.len()).map(|c| kof.iter().map(|&x| x == Some(c)).collect()).collect();
        let name = describe_selector(graph, sel);
        if qs == ks {
            // Queries and keys read the same sources: one set of classes
            // (same row class and same column class) can serve both sides.
            let mut shared: Vec<(Option<usize>, Option<usize>)> = Vec::new();
            let mut of = Vec::with_capacity(qpoints.len());
            for i in 0..qpoints.len() {
                let pair = (qof[i], kof[i]);
                if pair == (None, None) {
                    of.push(None);
                    continue;
                }
                match shared.iter().position(|&p| p == pair) {
                    Some(c) => of.push(Some(c)),
                    None => {
                        shared.push(pair);
                        of.push(Some(shared.len() - 1));
                    }
                }
            }
            if shared.len() <= qreps.len() + kreps.len() {
                let rep: Vec<usize> =
                    (0..shared.len()).map(|c| of.iter().position(|&x| x == Some(c)).unwrap_or(0)).collect();
                let weights: Vec<Vec<f64>> =
                    rep.iter().map(|&qi| rep.iter().map(|&ki| f64::from(u8::from(table[qi][ki]))).collect()).collect();
                let classes: Vec<Vec<bool>> =
                    (0..shared.len()).map(|c| of.iter().map(|&x| x == Some(c)).collect()).collect();
                let f = self.add_feature(qs, qpoints, classes, format!("classes of {name}"));
                self.notes
                    .push(format!("selector {name}: joint table, {} classes shared by queries and keys", shared.len()));
                return Ok(Form { terms: vec![Term { query: Side::Feature(f), key: Side::Feature(f), weights }] });
            }
        }
        let fq = self.add_feature(qs, qpoints, qclasses, format!("query classes of {name}"));
        let fk = self.add_feature(ks, kpoints, kclasses, format!("key classes of {name}"));
        self.notes.push(format!(
            "selector {name}: joint table, {} query classes x {} key classes",
            qreps.len(),
            kreps.len()
        ));
        Ok(Form { terms: vec![Term { query: Side::Feature(fq), key: Side::Feature(fk), weights }] })
    }
}

fn describe_side(b: &Builder, side: &Side) -> String {
    match side {
        Side::Const => "one".to_string(),
        Side::Basis(Basis::Token) => "tokens".to_string(),
        Side::Basis(Basis::Position) => "indices".to_string(),
        Side::Basis(Basis::Const) => "one".to_string(),
        Side::Basis(Basis::Node(n)) => b.planner.graph.name(*n).to_string(),
        Side::Feature(f) => b.feature(*f).name.clone(),
    }
}

/// One term's key-side vector at a key point, for [`Builder::check`]: the
/// index of the single 1 of a one-hot basis, or the whole vector.
enum KeyVector {
    OneHot(usize),
    Dense(Vec<f64>),
}
