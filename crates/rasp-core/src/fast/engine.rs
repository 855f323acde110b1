//! One input through a plan, node by node in id order, with the plain
//! evaluator's rules for every s-op and lazy selectors.
//!
//! Elementwise nodes (tokens, constants, maps) call the very functions the
//! plain evaluator calls, position by position, so their values and errors
//! are the same by construction. Selectors are not materialised: a
//! `select` only checks that it would not raise; an aggregate reads its
//! selector through counting (`structured.rs`) or row by row (`rows.rs`).
//!
//! A failing node fails every node that reads it; each root reports the
//! error of its failing ancestor with the smallest id, which is the error
//! the plain evaluator stops at when asked for that root alone.

use super::BatchStrategy;
use super::order::OrderCache;
use super::plan::{Plan, SelectorPlan};
use super::rows::{Matrices, Rows};
use super::structured::{Total, term_totals};
use crate::atom::Atom;
use crate::error::{EvalError, EvalResult};
use crate::eval::{MAX_INPUT_LEN, MAX_MATRIX_LEN, NodeValue, apply_map, convert_token, input_too_long, mean};
use crate::graph::{Graph, MapOp, NodeId, NodeKind, Predicate, TokenConversion};
use crate::mask::AttentionMask;
use crate::pyops;
use crate::sequence::{SelectorMatrix, SeqType, Sequence, Shown, classify, clear_from, set_bits};
use crate::value::Value;
use std::rc::Rc;

/// Up to this length `BatchStrategy::Auto` reads selectors row by row: with
/// rows of a few words and prefix masks that beats sorting.
pub(crate) const ROWS_UP_TO: usize = 256;

/// Inputs up to this length keep their length-only values for the next
/// input (see [`Engine::share_across_inputs`]).
const SHARE_UP_TO: usize = ROWS_UP_TO;

/// Largest selector DAG kept as whole matrices (words, 2 MB).
const MATRIX_WORDS: usize = 1 << 18;

#[derive(Debug, Clone)]
enum Slot {
    Empty,
    Seq(Rc<Sequence>),
    /// A selector: nothing is stored, it is read through its definition.
    Sel,
    /// Failed, with the failing ancestor of smallest id and its error.
    Failed(NodeId, Rc<EvalError>),
}

/// The per-thread state: one slot per planned node, buffers reused from
/// one input to the next.
pub(crate) struct Engine {
    slots: Vec<Slot>,
    pool: Vec<Vec<Atom>>,
    /// Empty `Rc`s of dropped sequences, reused.
    shells: Vec<Rc<Sequence>>,
    cache: OrderCache,
    /// Row buffers of the last `Rows`, reused.
    row_buffers: Vec<u64>,
    matrices: Matrices,
    strategy: BatchStrategy,
    mask: AttentionMask,
    /// See [`Engine::keep_all`].
    keep_all: bool,
    /// See [`Engine::share_across_inputs`]; and the length of the input
    /// whose length-only values are kept.
    share: bool,
    /// Whether the current input shares (it is short enough).
    sharing: bool,
    shared_len: Option<usize>,
    /// While sharing: per node id, whether the plan's node is length-only.
    length_only_ids: Vec<bool>,
    /// The buffer of the last aggregate's per-query totals, reused.
    totals: Vec<Total>,
    /// An aggregate's integer weights and 0/1 weights as bits, reused.
    weights: Vec<i64>,
    ones: Vec<u64>,
    /// See [`Engine::match_by_value`]: per key value, its key; per query,
    /// its key or [`NO_KEY`].
    key_of_value: Vec<u32>,
    matched: Vec<u32>,
}

/// No key (in [`Engine::match_by_value`]'s tables).
const NO_KEY: u32 = u32::MAX;

/// Values of a sequence under construction: atoms, until a value that is
/// not an atom arrives (only the reference's error message needs those).
struct Builder {
    atoms: Vec<Atom>,
    values: Option<Vec<Value>>,
}

impl Builder {
    fn new(mut atoms: Vec<Atom>) -> Builder {
        atoms.clear();
        Builder { atoms, values: None }
    }

    #[inline]
    fn push(&mut self, v: Value) {
        match (&mut self.values, v) {
            (None, Value::Atom(a)) => self.atoms.push(a),
            (None, other) => {
                let mut values: Vec<Value> = self.atoms.drain(..).map(Value::Atom).collect();
                values.push(other);
                self.values = Some(values);
            }
            (Some(values), v) => values.push(v),
        }
    }

    #[inline]
    fn push_atom(&mut self, a: Atom) {
        match &mut self.values {
            None => self.atoms.push(a),
            Some(values) => values.push(Value::Atom(a)),
        }
    }

    /// As `Sequence::from_values`: the same type label, the same errors.
    fn finish(self, shown: Shown, graph: &Graph) -> EvalResult<Sequence> {
        match self.values {
            Some(values) => Sequence::from_values(values, shown, graph),
            None => match classify(&self.atoms) {
                Some(seq_type) => Ok(Sequence { values: self.atoms, seq_type }),
                None => Sequence::from_atoms(self.atoms, shown, graph),
            },
        }
    }
}

fn missing() -> EvalError {
    EvalError::internal("missing s-op value")
}

fn seq_in<'a>(slots: &'a [Slot], plan: &Plan, id: NodeId) -> Option<&'a Rc<Sequence>> {
    match plan.slot(id).map(|s| &slots[s]) {
        Some(Slot::Seq(rc)) => Some(rc),
        _ => None,
    }
}

impl Engine {
    /// An engine for any plan: its tables grow to the plans it runs.
    pub(crate) fn new(strategy: BatchStrategy, mask: AttentionMask) -> Engine {
        Engine {
            slots: Vec::new(),
            pool: Vec::new(),
            shells: Vec::new(),
            cache: OrderCache::default(),
            row_buffers: Vec::new(),
            matrices: Matrices::default(),
            strategy,
            mask,
            keep_all: false,
            share: false,
            sharing: false,
            shared_len: None,
            length_only_ids: Vec::new(),
            totals: Vec::new(),
            weights: Vec::new(),
            ones: Vec::new(),
            key_of_value: Vec::new(),
            matched: Vec::new(),
        }
    }

    /// Every root's value on `input`, or the error the plain evaluator
    /// gives for that root.
    pub(crate) fn run(&mut self, graph: &Graph, plan: &Plan, input: &[Value]) -> Vec<EvalResult<NodeValue>> {
        self.run_given(graph, plan, input, &|_| None)
    }

    /// `run`, with the values of the plan's known nodes from `given`.
    pub(crate) fn run_given(
        &mut self,
        graph: &Graph,
        plan: &Plan,
        input: &[Value],
        given: &dyn Fn(NodeId) -> Option<Rc<Sequence>>,
    ) -> Vec<EvalResult<NodeValue>> {
        if input.len() > MAX_INPUT_LEN {
            let e = input_too_long(input.len(), MAX_INPUT_LEN);
            return plan.roots.iter().map(|_| Err(e.clone())).collect();
        }
        // Values that depend on the length alone are still those of the
        // last input when it had the same length.
        // Long inputs keep nothing: their values are dropped as soon as
        // nobody reads them, to bound memory, and there are few of them.
        self.sharing = self.share && input.len() <= SHARE_UP_TO;
        let reuse = self.sharing && self.shared_len == Some(input.len()) && self.slots.len() == plan.order.len();
        self.recycle(plan, reuse);
        self.slots.resize(plan.order.len(), Slot::Empty);
        self.cache.clear();
        self.cache.grow(plan.id_bound());
        self.matrices.clear(reuse);
        self.matrices.grow(plan.id_bound());
        self.shared_len = if self.sharing { Some(input.len()) } else { None };
        if self.sharing && self.length_only_ids.len() != plan.id_bound() {
            self.length_only_ids = vec![false; plan.id_bound()];
            for (&id, &only) in plan.order.iter().zip(&plan.length_only) {
                self.length_only_ids[id.index()] = only;
            }
        }
        for (i, &id) in plan.order.iter().enumerate() {
            if reuse && plan.length_only[i] {
                continue;
            }
            if plan.known[i] {
                self.slots[i] = match given(id) {
                    Some(seq) => Slot::Seq(seq),
                    None => Slot::Failed(id, Rc::new(EvalError::internal("missing known value"))),
                };
                continue;
            }
            let inherited = plan.inputs[i]
                .iter()
                .filter_map(|&p| match self.slots.get(p as usize) {
                    Some(Slot::Failed(origin, e)) => Some((*origin, e)),
                    _ => None,
                })
                .min_by_key(|(origin, _)| *origin)
                .map(|(origin, e)| (origin, e.clone()));
            let computed = match (inherited, plan.widths[i]) {
                (Some((origin, e)), _) => Err((origin, e)),
                (None, Some(selector)) => self.width(graph, plan, selector, input.len()).map_err(|e| (id, Rc::new(e))),
                (None, None) => self.node(graph, plan, id, input).map_err(|e| (id, Rc::new(e))),
            };
            self.slots[i] = computed.unwrap_or_else(|(origin, e)| Slot::Failed(origin, e));
            if !self.keep_all {
                self.release_dead(plan, i);
            }
        }
        plan.roots.iter().map(|&root| self.root_value(graph, plan, root, input.len())).collect()
    }

    /// Keeps every value until the next input (for a memoising caller,
    /// which reads them with [`Engine::computed`]); otherwise values are
    /// dropped after their last reader, which bounds the memory of long
    /// inputs by the values alive at once instead of all of them.
    pub(crate) fn keep_all(&mut self, keep: bool) {
        self.keep_all = keep;
    }

    /// For an engine that runs one plan on many inputs: values (and
    /// selector matrices) that depend on the input's length alone (see
    /// `Plan::length_only`) are computed once per length, not per input
    /// (for inputs up to `SHARE_UP_TO` positions).
    /// Only for a single plan: the kept values are found by position.
    pub(crate) fn share_across_inputs(&mut self, share: bool) {
        self.share = share;
        self.shared_len = None;
    }

    /// The sequences computed by the last run (known ones excluded).
    pub(crate) fn computed<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = (NodeId, &'a Rc<Sequence>)> + 'a {
        plan.order.iter().zip(&self.slots).zip(&plan.known).filter_map(|((id, slot), known)| match slot {
            Slot::Seq(rc) if !known => Some((*id, rc)),
            _ => None,
        })
    }

    /// Drops the sequences whose last reader is position `i`, giving their
    /// buffers back to the pool; roots stay.
    fn release_dead(&mut self, plan: &Plan, i: usize) {
        let reads = &plan.inputs[i];
        for &p in reads.iter().chain(std::iter::once(&(i as u32))) {
            let p = p as usize;
            if p >= self.slots.len()
                || plan.is_root[p]
                || plan.last_use[p] as usize != i
                || (self.sharing && plan.length_only[p])
            {
                continue;
            }
            // A selector's value is read through its key and query columns
            // (by aggregates later on): only s-ops nobody reads later go.
            if let Slot::Seq(_) = &self.slots[p]
                && let Slot::Seq(rc) = std::mem::replace(&mut self.slots[p], Slot::Empty)
            {
                self.give_back(rc);
            }
        }
    }

    /// Keeps the buffer and the `Rc` of a sequence nobody else holds, for
    /// the next sequences ([`Engine::builder`], [`Engine::wrap`]).
    fn give_back(&mut self, mut rc: Rc<Sequence>) {
        if let Some(seq) = Rc::get_mut(&mut rc) {
            let mut values = std::mem::take(&mut seq.values);
            values.clear();
            self.pool.push(values);
            self.shells.push(rc);
        }
    }

    /// `seq` as a slot, in a kept `Rc` if there is one (a batch of short
    /// inputs then allocates no `Rc` per node and input).
    fn wrap(&mut self, seq: Sequence) -> EvalResult<Slot> {
        if let Some(mut rc) = self.shells.pop()
            && let Some(slot) = Rc::get_mut(&mut rc)
        {
            *slot = seq;
            return Ok(Slot::Seq(rc));
        }
        Ok(Slot::Seq(Rc::new(seq)))
    }

    /// Gives the buffers of the last input's sequences back to the pool.
    /// With `keep`, the length-only values stay.
    fn recycle(&mut self, plan: &Plan, keep: bool) {
        for i in 0..self.slots.len() {
            if keep && plan.length_only.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Slot::Seq(rc) = std::mem::replace(&mut self.slots[i], Slot::Empty) {
                self.give_back(rc);
            }
        }
    }

    fn builder(&mut self, n: usize) -> Builder {
        let mut b = Builder::new(self.pool.pop().unwrap_or_default());
        b.atoms.reserve(n);
        b
    }

    fn root_value(&mut self, graph: &Graph, plan: &Plan, root: NodeId, n: usize) -> EvalResult<NodeValue> {
        match plan.slot(root).map(|s| &self.slots[s]) {
            Some(Slot::Seq(rc)) => Ok(NodeValue::Seq(rc.clone())),
            Some(Slot::Failed(_, e)) => Err(e.as_ref().clone()),
            Some(Slot::Sel) => {
                // Only a selector asked for as a value is materialised, and
                // the plain evaluator's limit on that holds here too.
                if n > MAX_MATRIX_LEN {
                    return Err(EvalError::rasp(format!(
                        "input too long for a selector: {n} positions (selectors are n × n matrices here, at most {MAX_MATRIX_LEN} positions)"
                    )));
                }
                let dag = &plan.selector(root).ok_or_else(|| EvalError::internal("no rows"))?.dag;
                let slots = &self.slots;
                let column = |id: NodeId| seq_in(slots, plan, id).cloned();
                let mut rows = Rows::new(graph, dag, n, &column, &mut self.cache, Vec::new(), false)?;
                let mut matrix = SelectorMatrix::empty(n);
                for q in 0..n {
                    for k in set_bits(rows.fill(q)?) {
                        matrix.set(q, k);
                    }
                }
                matrix.apply_mask(self.mask);
                Ok(NodeValue::Sel(Rc::new(matrix)))
            }
            _ => Err(EvalError::internal("node not evaluated")),
        }
    }

    fn seq(&self, plan: &Plan, id: NodeId) -> EvalResult<&Rc<Sequence>> {
        seq_in(&self.slots, plan, id).ok_or_else(missing)
    }

    fn node(&mut self, graph: &Graph, plan: &Plan, id: NodeId, input: &[Value]) -> EvalResult<Slot> {
        let n = input.len();
        match graph.kind(id) {
            NodeKind::Tokens(conversion) => {
                let mut b = self.builder(n);
                for v in input {
                    match (conversion, v) {
                        // `str(s)` is `s`: share it instead of copying.
                        (TokenConversion::Str | TokenConversion::AsIs, Value::Atom(a @ Atom::Str(_))) => {
                            b.push_atom(a.clone())
                        }
                        _ => b.push(convert_token(*conversion, v, graph)?),
                    }
                }
                self.wrap(b.finish(Shown::List, graph)?)
            }
            NodeKind::Indices => {
                let mut b = self.builder(n);
                b.atoms.extend((0..n).map(|i| Atom::Int(i as i64)));
                self.wrap(Sequence { values: b.atoms, seq_type: SeqType::Int })
            }
            NodeKind::Constant(v) => {
                let mut b = self.builder(n);
                match v {
                    Value::Atom(a) => b.atoms.resize(n, a.clone()),
                    _ => {
                        for _ in 0..n {
                            b.push(v.clone());
                        }
                    }
                }
                self.wrap(b.finish(Shown::Tuple, graph)?)
            }
            NodeKind::Map { op, inputs } => {
                let mut b = self.builder(n);
                // Maps read one to three columns: their slices go on the
                // stack, not into a vector per node and input.
                let mut on_stack: [&[Atom]; 3] = [&[]; 3];
                let mut on_heap: Vec<&[Atom]> = Vec::new();
                for (i, &p) in inputs.iter().enumerate() {
                    let column = self.seq(plan, p)?.values.as_slice();
                    match on_stack.get_mut(i) {
                        Some(slot) if inputs.len() <= 3 => *slot = column,
                        _ => on_heap.push(column),
                    }
                }
                let columns: &[&[Atom]] = if inputs.len() <= 3 { &on_stack[..inputs.len()] } else { &on_heap };
                if map_atoms(op, columns, &mut b.atoms)? {
                    // Maps whose every result has one type need no scan
                    // for the sequence's type.
                    let known = match op {
                        MapOp::Not
                        | MapOp::Compare(_)
                        | MapOp::CompareConst { .. }
                        | MapOp::And
                        | MapOp::Or
                        | MapOp::InList(_) => Some(SeqType::Bool),
                        MapOp::Indicator | MapOp::Round => Some(SeqType::Int),
                        _ => None,
                    };
                    if let Some(seq_type) = known
                        && n > 0
                    {
                        return self.wrap(Sequence { values: b.atoms, seq_type });
                    }
                } else {
                    let mut args: Vec<&Atom> = Vec::with_capacity(columns.len());
                    for i in 0..n {
                        args.clear();
                        args.extend(columns.iter().map(|c| &c[i]));
                        b.push(apply_map(op, &args, inputs, graph)?);
                    }
                }
                self.wrap(b.finish(Shown::Tuple, graph)?)
            }
            NodeKind::Select { key, query, predicate } => {
                let keys = self.seq(plan, *key)?;
                let queries = self.seq(plan, *query)?;
                let ordering = !matches!(predicate, Predicate::Eq | Predicate::Ne);
                // Columns hold one kind each (str, or numbers), so an
                // ordering raises iff the kinds differ, and then at the
                // first cell (semantics.md §2.5: `query OP' key`).
                if ordering && n > 0 && ((keys.seq_type == SeqType::Str) != (queries.seq_type == SeqType::Str)) {
                    pyops::compare(predicate.mirrored_on_query(), &queries.values[0], &keys.values[0])?;
                }
                Ok(Slot::Sel)
            }
            NodeKind::SelectAll | NodeKind::SelectAnd(..) | NodeKind::SelectOr(..) | NodeKind::SelectNot(_) => {
                Ok(Slot::Sel)
            }
            NodeKind::Aggregate { selector, values, default } => {
                let s = self.aggregate(graph, plan, *selector, *values, default.as_ref(), n)?;
                self.wrap(s)
            }
        }
    }

    /// `f(q, row)` for every query q, on the rows of the selector whose
    /// sub-DAG is `dag`, each with the keys the mask hides cleared
    /// (semantics.md §6). Small selectors are kept whole and shared between
    /// aggregates; large ones go one row at a time.
    fn each_row(
        &mut self,
        graph: &Graph,
        plan: &Plan,
        dag: &[NodeId],
        n: usize,
        mut f: impl FnMut(usize, &[u64]) -> EvalResult<()>,
    ) -> EvalResult<()> {
        let slots = &self.slots;
        let column_rc = |id: NodeId| seq_in(slots, plan, id).cloned();
        let words = n.div_ceil(64);
        let whole = n.saturating_mul(words).saturating_mul(dag.len()) <= MATRIX_WORDS;
        let matrix = if whole {
            let kept = &self.length_only_ids;
            let keep = |id: NodeId| self.sharing && kept.get(id.index()).copied().unwrap_or(false);
            Some(self.matrices.matrix(graph, dag, n, &column_rc, &mut self.cache, &keep)?)
        } else {
            None
        };
        let matrix = matrix.map(|at| self.matrices.words(at, n * words));
        let mut lazy = match matrix {
            Some(_) => None,
            None => Some(Rows::new(
                graph,
                dag,
                n,
                &column_rc,
                &mut self.cache,
                std::mem::take(&mut self.row_buffers),
                false,
            )?),
        };
        // Rows are copied only when the mask hides something.
        let mut masked_row = Vec::new();
        for q in 0..n {
            let row = match (&mut lazy, &matrix) {
                (Some(rows), _) => rows.fill(q)?,
                (None, Some(m)) => &m[q * words..(q + 1) * words],
                (None, None) => return Err(EvalError::internal("no rows")),
            };
            let visible = self.mask.visible_keys(q, n);
            let row = if visible < n {
                masked_row.clear();
                masked_row.extend_from_slice(row);
                clear_from(&mut masked_row, visible);
                masked_row.as_slice()
            } else {
                row
            };
            f(q, row)?;
        }
        if let Some(rows) = lazy {
            self.row_buffers = rows.into_buffers();
        }
        Ok(())
    }

    /// Each query's count of selected keys (and sum of `weights` over
    /// them), by counting over the selector's terms (`structured.rs`), when
    /// the strategy and the length call for it and the selector expands
    /// into terms; `None` means the caller reads rows instead.
    fn counted(
        &mut self,
        plan: &Plan,
        selector_plan: &SelectorPlan,
        n: usize,
        weights: Option<&[i64]>,
    ) -> Option<Vec<Total>> {
        let structured = match self.strategy {
            BatchStrategy::Rows => false,
            BatchStrategy::Structured => true,
            BatchStrategy::Auto => n > ROWS_UP_TO,
        };
        if !structured {
            return None;
        }
        let terms = selector_plan.terms.as_ref()?;
        let slots = &self.slots;
        let column_of = |id: NodeId| seq_in(slots, plan, id).map(Rc::as_ref);
        let buffer = std::mem::take(&mut self.totals);
        term_totals(terms, n, &column_of, &mut self.cache, weights, self.mask, buffer).filter(|t| consistent(t, n))
    }

    /// The library's `selector_width(selector)` ([`crate::library_width`]):
    /// the number of keys each query selects, as ints, counted directly.
    fn width(&mut self, graph: &Graph, plan: &Plan, selector: NodeId, n: usize) -> EvalResult<Slot> {
        let mut b = self.builder(n);
        let selector_plan = plan.selector(selector).ok_or_else(|| EvalError::internal("no rows"))?;
        let totals = self.counted(plan, selector_plan, n, None);
        match totals {
            Some(totals) => {
                b.atoms.extend(totals.iter().map(|t| Atom::Int(t.count as i64)));
                self.totals = totals;
            }
            None => self.each_row(graph, plan, &selector_plan.dag, n, |_, row| {
                b.push_atom(Atom::Int(row.iter().map(|w| i64::from(w.count_ones())).sum()));
                Ok(())
            })?,
        }
        // As the library's `round` gives: ints (an empty input's type is
        // the one every empty map result gets).
        self.wrap(b.finish(Shown::Tuple, graph)?)
    }

    /// For `select(key, query, ==)` on int columns where no key value
    /// occurs twice (`select(target_pos, indices, ==)` in `sort`: a
    /// permutation), each query selects at most the one key holding its
    /// value: finds it by a table of key values into `self.matched` (before
    /// the mask), with no selector rows. `false` for any other selector or
    /// columns, which the rows or the counting then handle.
    fn match_by_value(&mut self, graph: &Graph, plan: &Plan, selector: NodeId, n: usize) -> bool {
        let NodeKind::Select { key, query, predicate: Predicate::Eq } = *graph.kind(selector) else { return false };
        let (Some(keys), Some(queries)) = (seq_in(&self.slots, plan, key), seq_in(&self.slots, plan, query)) else {
            return false;
        };
        let int = |a: &Atom| if let Atom::Int(v) = a { Some(*v) } else { None };
        let Some(low) = keys.values.iter().map(int).try_fold(i64::MAX, |low, v| v.map(|v| low.min(v))) else {
            return false;
        };
        // A table of twice the positions (plus a few) holds any
        // permutation-like key column; wider ones go the usual way.
        let span = 2 * n + 64;
        self.key_of_value.clear();
        self.key_of_value.resize(span, NO_KEY);
        for (k, a) in keys.values.iter().enumerate() {
            let Some(at) = int(a).and_then(|v| usize::try_from(v.abs_diff(low)).ok()).filter(|&at| at < span) else {
                return false;
            };
            if self.key_of_value[at] != NO_KEY {
                return false;
            }
            self.key_of_value[at] = k as u32;
        }
        self.matched.clear();
        for a in &queries.values {
            let Some(v) = int(a) else { return false };
            let at = v.checked_sub(low).and_then(|d| usize::try_from(d).ok()).filter(|&at| at < span);
            self.matched.push(at.map_or(NO_KEY, |at| self.key_of_value[at]));
        }
        true
    }

    /// The reference's aggregate (semantics.md §2.6), as `eval::aggregate` computes
    /// it, on a lazy selector.
    fn aggregate(
        &mut self,
        graph: &Graph,
        plan: &Plan,
        selector: NodeId,
        values: NodeId,
        default: Option<&Value>,
        n: usize,
    ) -> EvalResult<Sequence> {
        let column = self.seq(plan, values)?.clone();
        let default = default.cloned().unwrap_or(Value::int(0));
        let numeric = column.seq_type.is_numeric();
        // Buffers reused from aggregate to aggregate (an error on the way
        // only costs the next one an allocation).
        let mut weight_buffer = std::mem::take(&mut self.weights);
        let mut ones_buffer = std::mem::take(&mut self.ones);
        let weights: Option<&[i64]> =
            if numeric && weights_into(&column, &mut weight_buffer) { Some(&weight_buffer) } else { None };
        let mut b = self.builder(n);
        if self.match_by_value(graph, plan, selector, n) {
            for (q, &k) in self.matched.iter().enumerate() {
                match default {
                    _ if k != NO_KEY && (k as usize) < self.mask.visible_keys(q, n) => {
                        b.push_atom(column.values[k as usize].clone())
                    }
                    Value::Atom(ref a) => b.push_atom(a.clone()),
                    ref other => b.push(other.clone()),
                }
            }
            self.weights = weight_buffer;
            self.ones = ones_buffer;
            return b.finish(Shown::Tuple, graph);
        }
        let selector_plan = plan.selector(selector).ok_or_else(|| EvalError::internal("no rows"))?;
        let totals = self.counted(plan, selector_plan, n, weights);
        let slots = &self.slots;
        let dag = &selector_plan.dag;
        let column_rc = |id: NodeId| seq_in(slots, plan, id).cloned();
        let mut rows: Option<Rows> = None;
        match totals {
            Some(totals) => {
                for (q, t) in totals.iter().enumerate() {
                    match t.count {
                        0 => b.push(default.clone()),
                        1 => b.push_atom(column.values[t.positions as usize].clone()),
                        count => {
                            if !numeric {
                                return Err(non_numbers(&column, graph));
                            }
                            let mean = if weights.is_some() {
                                t.weights as f64 / count as f64
                            } else {
                                let rows = match &mut rows {
                                    Some(r) => r,
                                    None => rows.insert(Rows::new(
                                        graph,
                                        dag,
                                        n,
                                        &column_rc,
                                        &mut self.cache,
                                        std::mem::take(&mut self.row_buffers),
                                        false,
                                    )?),
                                };
                                let mut row = rows.fill(q)?.to_vec();
                                clear_from(&mut row, self.mask.visible_keys(q, n));
                                mean(&row, &column, count as usize)?
                            };
                            b.push_atom(Atom::Float(mean));
                        }
                    }
                }
                if let Some(r) = rows {
                    self.row_buffers = r.into_buffers();
                }
                self.totals = totals;
            }
            None => {
                // 0/1 weights (indicators): a sum is a popcount.
                let ones: Option<&Vec<u64>> = match weights {
                    Some(w) if w.iter().all(|&x| x == 0 || x == 1) => {
                        ones_buffer.clear();
                        ones_buffer.resize(n.div_ceil(64), 0);
                        for (k, _) in w.iter().enumerate().filter(|(_, x)| **x == 1) {
                            ones_buffer[k / 64] |= 1 << (k % 64);
                        }
                        Some(&ones_buffer)
                    }
                    _ => None,
                };
                self.each_row(graph, plan, dag, n, |_, row| {
                    // Most rows select nothing or one key: those need no
                    // count (and the machine may lack a popcount instruction).
                    match at_most_one(row) {
                        Some(None) => match &default {
                            Value::Atom(a) => b.push_atom(a.clone()),
                            other => b.push(other.clone()),
                        },
                        Some(Some(k)) => b.push_atom(column.values[k].clone()),
                        None => {
                            let count: usize = row.iter().map(|w| w.count_ones() as usize).sum();
                            if !numeric {
                                return Err(non_numbers(&column, graph));
                            }
                            let mean = match (ones, weights) {
                                (Some(bits), _) => {
                                    let total: u32 = row.iter().zip(bits).map(|(r, b)| (r & b).count_ones()).sum();
                                    f64::from(total) / count as f64
                                }
                                (None, Some(w)) => {
                                    let total: i128 = set_bits(row).map(|k| i128::from(w[k])).sum();
                                    total as f64 / count as f64
                                }
                                (None, None) => mean(row, &column, count)?,
                            };
                            b.push_atom(Atom::Float(mean));
                        }
                    }
                    Ok(())
                })?;
            }
        }
        self.weights = weight_buffer;
        self.ones = ones_buffer;
        b.finish(Shown::Tuple, graph)
    }
}

/// A map whose results are atoms, position by position with the same
/// functions `eval::apply_map` calls, without wrapping each atom in a
/// `Value`. `Ok(false)` (nothing pushed) for the maps it leaves to
/// `apply_map`: lookups, and constants that are not atoms.
fn map_atoms(op: &MapOp, columns: &[&[Atom]], out: &mut Vec<Atom>) -> EvalResult<bool> {
    let (Some(&a), b) = (columns.first(), columns.get(1).copied()) else {
        return Ok(false);
    };
    match (op, b) {
        (MapOp::Neg, _) => {
            for x in a {
                out.push(pyops::neg(x)?);
            }
        }
        (MapOp::Pos, _) => {
            for x in a {
                out.push(pyops::pos(x)?);
            }
        }
        (MapOp::Round, _) => {
            for x in a {
                out.push(pyops::round(x)?);
            }
        }
        (MapOp::Not, _) => out.extend(a.iter().map(|x| Atom::Bool(!pyops::truthy(x)))),
        (MapOp::Indicator, _) => out.extend(a.iter().map(|x| Atom::Int(i64::from(pyops::truthy(x))))),
        (MapOp::Arith(o), Some(b)) => {
            for (x, y) in a.iter().zip(b) {
                out.push(match pyops::quick_arith(*o, x, y) {
                    Some(v) => v,
                    None => pyops::arith(*o, x, y)?,
                });
            }
        }
        (MapOp::Compare(o), Some(b)) => {
            for (x, y) in a.iter().zip(b) {
                let holds = match pyops::quick_compare(*o, x, y) {
                    Some(holds) => holds,
                    None => pyops::compare(*o, x, y)?,
                };
                out.push(Atom::Bool(holds));
            }
        }
        (MapOp::ArithConst { op, constant: Value::Atom(c), constant_on_left }, _) => {
            for x in a {
                let (p, q) = if *constant_on_left { (c, x) } else { (x, c) };
                out.push(match pyops::quick_arith(*op, p, q) {
                    Some(v) => v,
                    None => pyops::arith(*op, p, q)?,
                });
            }
        }
        (MapOp::CompareConst { op, constant: Value::Atom(c), constant_on_left }, _) => {
            for x in a {
                let (p, q) = if *constant_on_left { (c, x) } else { (x, c) };
                let holds = match pyops::quick_compare(*op, p, q) {
                    Some(holds) => holds,
                    None => pyops::compare(*op, p, q)?,
                };
                out.push(Atom::Bool(holds));
            }
        }
        (MapOp::And, Some(b)) => {
            out.extend(a.iter().zip(b).map(|(x, y)| Atom::Bool(pyops::truthy(x) && pyops::truthy(y))));
        }
        (MapOp::Or, Some(b)) => {
            out.extend(a.iter().zip(b).map(|(x, y)| Atom::Bool(pyops::truthy(x) || pyops::truthy(y))));
        }
        (MapOp::Ternary, Some(then)) => {
            let Some(&otherwise) = columns.get(2) else {
                return Ok(false);
            };
            for ((c, x), y) in a.iter().zip(then).zip(otherwise) {
                out.push(if pyops::truthy(c) { x.clone() } else { y.clone() });
            }
        }
        (MapOp::InList(items), _) => out.extend(a.iter().map(|x| Atom::Bool(items.iter().any(|v| pyops::py_eq(x, v))))),
        _ => return Ok(false),
    }
    Ok(true)
}

/// The selected key of a row that selects at most one: `Some(None)` for
/// none, `Some(Some(k))` for key k; `None` when it selects several.
fn at_most_one(row: &[u64]) -> Option<Option<usize>> {
    let mut found = None;
    for (w, &word) in row.iter().enumerate() {
        if word == 0 {
            continue;
        }
        if found.is_some() || word & (word - 1) != 0 {
            return None;
        }
        found = Some(w * 64 + word.trailing_zeros() as usize);
    }
    Some(found)
}

/// Counts must be counts, and a single selection a position: anything
/// else would be a bug in the counting, and the rows are taken instead.
fn consistent(totals: &[Total], n: usize) -> bool {
    let n = n as i128;
    totals.iter().all(|t| (0..=n).contains(&t.count) && (t.count != 1 || (0..n).contains(&t.positions)))
}

/// Integer weights whose sum over any selection is exactly the sum Python
/// computes left to right: ints of an int column; for a float column,
/// integral values whose absolute values add up to at most 2**53 (every
/// partial sum is then exact, in any order). `None` otherwise.
/// They go into `out` (emptied first); `false`, with `out` unspecified,
/// when there are none.
fn weights_into(column: &Sequence, out: &mut Vec<i64>) -> bool {
    const EXACT: i64 = 1 << 53;
    out.clear();
    match column.seq_type {
        SeqType::Int => {
            for a in &column.values {
                out.push(match a {
                    Atom::Int(v) => *v,
                    Atom::Bool(b) => i64::from(*b),
                    _ => return false,
                });
            }
            true
        }
        SeqType::Float => {
            let mut budget: i128 = 0;
            for a in &column.values {
                let w = match a {
                    Atom::Bool(b) => i64::from(*b),
                    Atom::Int(v) if (-EXACT..=EXACT).contains(v) => *v,
                    Atom::Float(f) if f.fract() == 0.0 && f.abs() <= EXACT as f64 => *f as i64,
                    _ => return false,
                };
                budget += i128::from(w.unsigned_abs());
                if budget > i128::from(EXACT) {
                    return false;
                }
                out.push(w);
            }
            true
        }
        _ => false,
    }
}

fn non_numbers(column: &Sequence, graph: &Graph) -> EvalError {
    let shown: Vec<Value> = column.values.iter().cloned().map(Value::Atom).collect();
    EvalError::python(format!(
        "asked to average multiple values, but they are non-numbers: {}",
        Value::list(shown).py_repr(graph)
    ))
}
