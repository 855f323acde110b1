//! Evaluation of statements and expressions: runs the surface language and
//! builds graph nodes. Follows the reference's Evaluator step by step where
//! the order of evaluation is observable (errors, `out`, eager checks).

use crate::diagnostic::{Frame, Location, Source};
use crate::env::{self, EnvRef};
use crate::function::Function;
use crate::names::{self, strdesc};
use crate::native::Native;
use crate::session::Session;
use rasp_core::pyops::{self, ArithOp, CmpOp, list_contains, value_arith, value_compare};
use rasp_core::{Atom, Dict, EvalError, MapOp, NodeId, NodeKind, NodeValue, Predicate, Value};
use rasp_syntax::{BinaryOp, Expr, ExprKind, FuncDef, Ident, SelectOp, Span, Statement, StatementKind, UnaryOp};
use std::rc::Rc;

/// Why a statement stopped: the error, the innermost expression (or
/// statement) responsible, and the user-function calls it happened in.
/// Boxed: results pass through every level of evaluation, and failures are rare.
#[derive(Debug, Clone)]
pub(crate) struct Failure(Box<FailureDetail>);

#[derive(Debug, Clone)]
struct FailureDetail {
    error: EvalError,
    place: Option<Place>,
    /// Innermost first: (function name, where it was called).
    calls: Vec<(String, Place)>,
}

/// A span of the chunk a statement was parsed from.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) source: Rc<Source>,
    pub(crate) span: Span,
}

impl Place {
    pub(crate) fn location(&self) -> Location {
        self.source.locate(self.span)
    }
}

impl Failure {
    pub(crate) fn error(&self) -> &EvalError {
        &self.0.error
    }

    /// Where the failure happened, once known.
    pub(crate) fn place(&self) -> Option<&Place> {
        self.0.place.as_ref()
    }

    /// The chain of calls as diagnostic frames, innermost first.
    pub(crate) fn frames(&self) -> Vec<Frame> {
        let calls = self.0.calls.iter();
        calls.map(|(function, site)| Frame::Call { function: function.clone(), site: site.location() }).collect()
    }

    /// Blames `span` unless a more inner expression already is: evaluation
    /// unwinds from the innermost expression outwards, so the first place
    /// attached is the one responsible.
    pub(crate) fn at(mut self, source: &Rc<Source>, span: Span) -> Failure {
        if self.0.place.is_none() {
            self.0.place = Some(Place { source: source.clone(), span });
        }
        self
    }

    /// The failure left the body of `function`, called at `span`. A failure
    /// without a place did not happen inside the body (the call itself was
    /// wrong, e.g. its argument count), so it gets no frame: the call site
    /// will be its place.
    fn called_from(mut self, function: &str, source: &Rc<Source>, span: Span) -> Failure {
        if self.0.place.is_some() {
            self.0.calls.push((function.to_string(), Place { source: source.clone(), span }));
        }
        self
    }
}

impl From<EvalError> for Failure {
    fn from(error: EvalError) -> Failure {
        Failure(Box::new(FailureDetail { error, place: None, calls: Vec::new() }))
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

fn rasp_err<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::rasp(message).into())
}

fn python_err<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::python(message).into())
}

fn unsupported<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::unsupported(message).into())
}

fn internal<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError::internal(message).into())
}

/// What evaluating a statement gives the REPL to show.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Named values (`x = ...;`, `x;`, `out`, a def, a multi-assignment).
    Named(Vec<(String, Value)>),
    /// An s-op or selector applied to an input (`rev("abc");`, `draw(...)`).
    Applied {
        value: NodeValue,
        input: Value,
    },
    /// A built-in's report, printed as it is.
    Message(String),
    Nothing,
}

/// The evaluation context of one statement: its scope, and the input that
/// an application being evaluated provides for eager checks (semantics.md §2.3).
pub(crate) struct Ctx {
    pub(crate) env: EnvRef,
    pub(crate) backup: Option<Value>,
    /// The s-op running example when this evaluator was made.
    pub(crate) example: Value,
    /// The text the statements being run were parsed from (spans point into it).
    pub(crate) source: Rc<Source>,
}

/// A call's single argument after its first evaluation (see
/// `Session::eval_argument_again`).
struct FirstEvaluation {
    value: Value,
    /// `Graph::version` before it.
    graph_version: u64,
    /// Whether it looked up a variable named `out`, which the callee's
    /// evaluation changes.
    read_out: bool,
    /// The deepest recursion check it made.
    peak_frames: usize,
}

/// Python's `range` and friends may not build absurd lists.
use rasp_core::MAX_LIST_LEN;

/// Python's default recursion limit. The reference's recursion depth is
/// Python's, so rasp counts the Python frames the reference would be in
/// and fails where it fails: `f(n)` recursing through `0 if n < 1 else
/// f(n - 1)` works up to n = 140 there, through `n * fact(n - 1)` up to 108.
pub(crate) const PY_RECURSION_LIMIT: usize = 1000;

/// Frames below the reference's `Evaluator.evaluate` for a console statement
/// (the interpreter's main loop), measured against the reference.
pub(crate) const STATEMENT_BASE_FRAMES: usize = 7;

/// An expression evaluates at least as `evaluateExpr` → `format_return` → `set_out`.
const LEAF_FRAMES: usize = 3;

/// The reference's Python frames from an expression's `evaluateExpr` down to
/// the `evaluateExpr` of its sub-expressions.
fn python_frames(kind: &ExprKind) -> usize {
    match kind {
        ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Str(_) | ExprKind::Var(_) => 0,
        // evaluateExpr → evaluateExpr (calls add their own frames inside)
        ExprKind::Paren(_) | ExprKind::Call { .. } => 1,
        // evaluateExpr → _evaluateList → <listcomp>; _evaluateZip → <listcomp>
        ExprKind::List(_) | ExprKind::Zip(_) => 3,
        // evaluateExpr → _evaluateRange → evaluateExprsList → <listcomp>;
        // evaluateExpr → _evaluateDict → <dictcomp> → make_dict_key
        ExprKind::Range(_) | ExprKind::Dict(_) => 4,
        ExprKind::DictComp { .. } => 3,
        // evaluateExpr → _evaluate<Kind>
        ExprKind::Unary { .. }
        | ExprKind::Binary { .. }
        | ExprKind::Ternary { .. }
        | ExprKind::In { .. }
        | ExprKind::Select { .. }
        | ExprKind::Aggregate { .. }
        | ExprKind::ListComp { .. }
        | ExprKind::Len(_)
        | ExprKind::Index { .. } => 2,
    }
}

impl Session {
    pub(crate) fn new_ctx(&self, env: EnvRef, source: Rc<Source>) -> Ctx {
        Ctx { env, backup: None, example: self.sop_example.clone(), source }
    }

    // ---- statements -------------------------------------------------------

    /// One statement: the reference's `Evaluator.evaluate`, one Python frame.
    pub(crate) fn eval_statement(&mut self, ctx: &mut Ctx, stmt: &Statement) -> Result<Outcome> {
        // A statement's own errors (a bad assignment, a `for` over a
        // non-list) blame the statement; its expressions' errors are placed already.
        self.framed(1, |s| s.eval_statement_framed(ctx, stmt)).map_err(|f| f.at(&ctx.source, stmt.span))
    }

    fn eval_statement_framed(&mut self, ctx: &mut Ctx, stmt: &Statement) -> Result<Outcome> {
        match &stmt.kind {
            StatementKind::Expr(e) => self.eval_top_expr(ctx, e),
            StatementKind::Assign { names, values } => self.eval_assign(ctx, names, values),
            StatementKind::FuncDef(def) => {
                let creator = ctx.env.borrow().name.clone();
                let source = ctx.source.clone();
                let f = Value::Function(Rc::new(Function { def: def.clone(), env: ctx.env.clone(), creator, source }));
                env::assign(&ctx.env, &def.name.name, f.clone())?;
                Ok(Outcome::Named(vec![(def.name.name.clone(), f)]))
            }
            StatementKind::Draw { sop, input } => self.eval_draw(ctx, sop, input.as_ref()),
            StatementKind::For { names, iterable, body } => self.framed(1, |s| s.eval_for(ctx, names, iterable, body)),
            StatementKind::Load { path } => {
                let env = ctx.env.clone();
                let site = Place { source: ctx.source.clone(), span: stmt.span };
                // loadFile → run → evaluate_tree → (the file's statements)
                self.framed(3, |s| s.load_file(path, &env, &site))?;
                Ok(Outcome::Nothing)
            }
            // The session runs REPL commands itself, and the parser allows
            // them only at the top level, so none reaches here.
            StatementKind::SetExample { .. }
            | StatementKind::ShowExample { .. }
            | StatementKind::ToggleExamples { .. }
            | StatementKind::FullSeqDisplay { .. }
            | StatementKind::SetAttention(_)
            | StatementKind::Exit => internal("a REPL command reached the statement evaluator"),
        }
    }

    /// `for names in iterable { body }`: the body runs in the current scope.
    fn eval_for(&mut self, ctx: &mut Ctx, names: &[Ident], iterable: &Expr, body: &[Statement]) -> Result<Outcome> {
        let over = self.eval_expr(ctx, iterable)?;
        let items = match &over {
            Value::List(_) | Value::Dict(_) => over.iter_elements().unwrap_or_default(),
            other => {
                // The iterable is what is wrong, not the whole loop.
                let message =
                    format!("for loop needs to iterate over a list or dict, but got: {}", other.py_str(&self.graph));
                return Err(Failure::from(EvalError::rasp(message)).at(&ctx.source, iterable.span));
            }
        };
        for item in items {
            let env = ctx.env.clone();
            self.bind_iteration(&env, names, item)?;
            for s in body {
                self.eval_statement(ctx, s)?;
            }
        }
        Ok(Outcome::Nothing)
    }

    fn eval_assign(&mut self, ctx: &mut Ctx, names: &[Ident], exprs: &[Expr]) -> Result<Outcome> {
        // assign → evaluateExprsList → <listcomp>
        let values = self.framed(3, |s| exprs.iter().map(|e| s.eval_expr(ctx, e)).collect::<Result<Vec<_>>>())?;
        let value = single_or_list(values);
        if names.len() == 1 {
            let name = &names[0].name;
            self.bind(&ctx.env, name, value.clone()).map_err(|f| f.at(&ctx.source, names[0].span))?;
            return Ok(Outcome::Named(vec![(name.clone(), value)]));
        }
        let items = match &value {
            Value::List(_) | Value::Dict(_) | Value::Atom(Atom::Str(_)) => value.iter_elements().unwrap_or_default(),
            other => return python_err(format!("object of type '{}' has no len()", other.type_name())),
        };
        if items.len() != names.len() {
            return rasp_err(format!("expected {} values, but got: {}", names.len(), items.len()));
        }
        let mut named = Vec::new();
        for (ident, item) in names.iter().zip(items) {
            self.bind(&ctx.env, &ident.name, item.clone()).map_err(|f| f.at(&ctx.source, ident.span))?;
            named.push((ident.name.clone(), item));
        }
        Ok(Outcome::Named(named))
    }

    /// Assignment: binds, and renames the s-op/selector object (semantics.md §2.3).
    fn bind(&mut self, env: &EnvRef, name: &str, value: Value) -> Result<()> {
        env::assign(env, name, value.clone())?;
        if let Value::Sop(id) | Value::Selector(id) = value {
            if self.library_calls.last() == Some(&true) {
                self.graph.rename_library_local(id, name);
            } else {
                self.graph.rename(id, name);
            }
        }
        Ok(())
    }

    fn eval_draw(&mut self, ctx: &mut Ctx, sop: &Expr, input: Option<&Expr>) -> Result<Outcome> {
        let example = match input {
            Some(e) => self.eval_expr(ctx, e)?,
            None => ctx.example.clone(),
        };
        let previous = ctx.backup.replace(example.clone());
        let target = self.eval_expr(ctx, sop);
        ctx.backup = previous;
        let target = target?;
        let Value::Sop(id) = target else {
            return rasp_err(format!("draw expects unfinished sequence, got: {}", target.py_str(&self.graph)));
        };
        let value = self.call_node(id, &example)?;
        self.drawings.push((id, example.clone()));
        Ok(Outcome::Applied { value, input: example })
    }

    /// Binds comprehension/loop names to one element (semantics.md §2.8).
    fn bind_iteration(&mut self, env: &EnvRef, names: &[Ident], item: Value) -> Result<()> {
        if names.len() == 1 {
            return self.bind_plain(env, &names[0].name, item);
        }
        match item.iter_elements() {
            Some(parts) if parts.len() == names.len() => {
                for (ident, part) in names.iter().zip(parts) {
                    self.bind_plain(env, &ident.name, part)?;
                }
                Ok(())
            }
            Some(parts) => rasp_err(format!(
                "iterating with {} names but got {} values ( {} )",
                names.len(),
                parts.len(),
                item.py_str(&self.graph)
            )),
            None => rasp_err(format!(
                "iterating with multiple iterator names, but got single iterator value: {}",
                item.py_str(&self.graph)
            )),
        }
    }

    fn bind_plain(&mut self, env: &EnvRef, name: &str, value: Value) -> Result<()> {
        env::assign(env, name, value)?;
        Ok(())
    }

    // ---- expressions ------------------------------------------------------

    /// An expression statement: `x;` names the result after the variable,
    /// anything else `out`; an application is shown, not named.
    fn eval_top_expr(&mut self, ctx: &mut Ctx, expr: &Expr) -> Result<Outcome> {
        match &expr.kind {
            ExprKind::Paren(inner) => self.framed(1, |s| s.eval_top_expr(ctx, inner)),
            ExprKind::Call { callee, args } => {
                let called = self.framed(1, |s| s.eval_call(ctx, callee, args, expr.span));
                match called.map_err(|f| f.at(&ctx.source, expr.span))? {
                    Called::Applied { value, input } => Ok(Outcome::Applied { value, input }),
                    Called::Value(v) => Ok(Outcome::Named(vec![("out".to_string(), v)])),
                    Called::Printed(text) => Ok(Outcome::Message(text)),
                }
            }
            ExprKind::Var(name) => Ok(Outcome::Named(vec![(name.clone(), self.eval_expr(ctx, expr)?)])),
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::List(_)
            | ExprKind::Dict(_)
            | ExprKind::ListComp { .. }
            | ExprKind::DictComp { .. }
            | ExprKind::Unary { .. }
            | ExprKind::Binary { .. }
            | ExprKind::Ternary { .. }
            | ExprKind::In { .. }
            | ExprKind::Select { .. }
            | ExprKind::Aggregate { .. }
            | ExprKind::Range(_)
            | ExprKind::Zip(_)
            | ExprKind::Len(_)
            | ExprKind::Index { .. } => Ok(Outcome::Named(vec![("out".to_string(), self.eval_expr(ctx, expr)?)])),
        }
    }

    /// Evaluates an expression to a value, with the reference's eager check
    /// of every s-op/selector and update of `out`.
    pub(crate) fn eval_expr(&mut self, ctx: &mut Ctx, expr: &Expr) -> Result<Value> {
        let chain = python_frames(&expr.kind);
        // The innermost failing expression is blamed: inner ones attach
        // their span first, and `at` keeps the first.
        self.framed(chain, |s| s.eval_expr_framed(ctx, expr)).map_err(|f| f.at(&ctx.source, expr.span))
    }

    /// Runs `f` as `frames` more Python frames of the reference deep,
    /// failing as Python does past its recursion limit. Every expression
    /// ends in two more frames (`format_return`, then `set_out`).
    pub(crate) fn framed<T>(&mut self, frames: usize, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if let Some(flag) = &self.interrupt
            && flag.load(std::sync::atomic::Ordering::Relaxed)
        {
            flag.store(false, std::sync::atomic::Ordering::Relaxed);
            return python_err("KeyboardInterrupt");
        }
        let deepest = self.py_frames + frames.max(LEAF_FRAMES);
        if deepest > PY_RECURSION_LIMIT {
            return python_err("maximum recursion depth exceeded");
        }
        self.py_frames_peak = self.py_frames_peak.max(deepest);
        self.py_frames += frames;
        let result = f(self);
        self.py_frames -= frames;
        result
    }

    fn eval_expr_framed(&mut self, ctx: &mut Ctx, expr: &Expr) -> Result<Value> {
        let value = match &expr.kind {
            ExprKind::Paren(inner) => return self.eval_expr(ctx, inner),
            ExprKind::Call { callee, args } => match self.eval_call(ctx, callee, args, expr.span)? {
                Called::Value(v) => return Ok(v),
                // The reference hands its `JustVal` wrapper on (semantics.md §3.2);
                // Python then fails on it by that type name.
                Called::Applied { .. } => Value::Opaque("JustVal"),
                Called::Printed(_) => {
                    return rasp_err("a built-in report can only be shown, not used in an expression");
                }
            },
            ExprKind::Var(name) => {
                if name == "out" {
                    // A repeated argument evaluation may not reuse a value that read `out`.
                    self.out_reads += 1;
                }
                env::lookup(&ctx.env, name)?
            }
            ExprKind::Int(digits) => Value::Atom(parse_int(digits)?),
            // The lexer only makes `DIGITS.DIGITS`, which always parses.
            ExprKind::Float(text) => match text.parse::<f64>() {
                Ok(number) => Value::Atom(Atom::Float(number)),
                Err(_) => return internal(format!("float literal the lexer accepted does not parse: {text}")),
            },
            ExprKind::Str(s) => Value::str(s),
            ExprKind::Binary { op, left, right } => {
                let l = self.eval_expr(ctx, left)?;
                let r = self.eval_expr(ctx, right)?;
                self.binary(*op, l, r)?
            }
            ExprKind::Unary { op, operand } => {
                let v = self.eval_expr(ctx, operand)?;
                self.unary(*op, v)?
            }
            ExprKind::Ternary { then, cond, otherwise } => self.eval_ternary(ctx, then, cond, otherwise)?,
            ExprKind::Aggregate { selector, values, default } => {
                let sel = self.eval_expr(ctx, selector)?;
                let vals = self.eval_expr(ctx, values)?;
                let vals = self.constant_sop(vals);
                let default = match default {
                    Some(d) => Some(self.eval_expr(ctx, d)?),
                    None => None,
                };
                let Value::Selector(sel) = sel else {
                    return rasp_err(format!("Expected selector, got: {}", strdesc(&sel, None, &self.graph)));
                };
                if let Some(d @ (Value::Sop(_) | Value::Selector(_))) = &default {
                    return rasp_err(format!("Expected atom, got: {}", strdesc(d, None, &self.graph)));
                }
                let values = self.sop_id(&vals)?;
                Value::Sop(self.graph.add(NodeKind::Aggregate { selector: sel, values, default }, "s-op", true))
            }
            ExprKind::Select { key, query, op } => {
                let k = self.eval_expr(ctx, key)?;
                let q = self.eval_expr(ctx, query)?;
                let k = self.constant_sop(k);
                let q = self.constant_sop(q);
                let (key, query) = (self.sop_id(&k)?, self.sop_id(&q)?);
                let predicate = predicate(*op);
                let id = self.graph.add(NodeKind::Select { key, query, predicate }, "plain select", true);
                // Kept for decoder mode's look-ahead check, which names the
                // select that reads later positions (semantics.md §6).
                self.select_sites.insert(id, ctx.source.locate(expr.span));
                Value::Selector(id)
            }
            ExprKind::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for e in items {
                    out.push(self.eval_expr(ctx, e)?);
                }
                Value::list(out)
            }
            ExprKind::Dict(entries) => {
                let mut dict = Dict::new();
                for (k, v) in entries {
                    let key = self.dict_key(ctx, k)?;
                    let value = self.eval_expr(ctx, v)?;
                    dict.insert(key, value);
                }
                Value::Dict(Rc::new(dict))
            }
            ExprKind::Index { target, index } => self.eval_index(ctx, target, index)?,
            ExprKind::Range(args) => self.eval_range(ctx, args)?,
            ExprKind::ListComp { value, names, iterable } => {
                let items = self.comprehension_items(ctx, iterable, "list")?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let scope = env::nested(&ctx.env);
                    let outer = std::mem::replace(&mut ctx.env, scope.clone());
                    let result = self.bind_iteration(&scope, names, item).and_then(|_| self.eval_expr(ctx, value));
                    ctx.env = outer;
                    out.push(result?);
                }
                Value::list(out)
            }
            ExprKind::DictComp { key, value, names, iterable } => {
                let items = self.comprehension_items(ctx, iterable, "dict")?;
                let mut dict = Dict::new();
                for item in items {
                    let scope = env::nested(&ctx.env);
                    let outer = std::mem::replace(&mut ctx.env, scope.clone());
                    let result = self.bind_iteration(&scope, names, item).and_then(|_| {
                        let k = self.dict_key(ctx, key)?;
                        let v = self.eval_expr(ctx, value)?;
                        Ok((k, v))
                    });
                    ctx.env = outer;
                    let (k, v) = result?;
                    dict.insert(k, v);
                }
                Value::Dict(Rc::new(dict))
            }
            ExprKind::In { element, container } => self.eval_in(ctx, element, container)?,
            ExprKind::Zip(args) => self.eval_zip(ctx, args)?,
            ExprKind::Len(arg) => {
                let v = self.eval_expr(ctx, arg)?;
                match &v {
                    Value::List(l) => Value::int(l.len() as i64),
                    other => {
                        return rasp_err(format!(
                            "attempting to compute length of non-list: {}",
                            strdesc(other, None, &self.graph)
                        ));
                    }
                }
            }
        };
        self.finish(ctx, value)
    }

    /// The reference's `format_return`: eager check, then `out`.
    fn finish(&mut self, ctx: &mut Ctx, value: Value) -> Result<Value> {
        if let Value::Sop(id) | Value::Selector(id) = value {
            self.eager_check(ctx, id)?;
        }
        env::set_out(&ctx.env, value.clone());
        Ok(value)
    }

    /// Spec §2.3: every new s-op/selector is run at once, on the input of
    /// the application being evaluated if there is one, else on the s-op
    /// example. (The reference means to try both, but a misspelt name in
    /// its `_test_res` makes each trial fail, so only that one run counts;
    /// a function body therefore always checks on the example.)
    fn eager_check(&mut self, ctx: &Ctx, id: NodeId) -> Result<()> {
        let input = ctx.backup.clone().unwrap_or_else(|| ctx.example.clone());
        let positions = match &input {
            Value::List(items) => items.len(),
            Value::Atom(rasp_core::Atom::Str(text)) => text.chars().count(),
            Value::Dict(dict) => dict.len(),
            _ => 0,
        };
        if self.graph.is_selector(id) && positions > rasp_core::MAX_MATRIX_LEN {
            // A selector this long is never built as a matrix (it could not
            // be shown either): check the s-ops it compares, and leave its
            // predicate to the aggregates that use it, which the structured
            // engine evaluates without the matrix. Otherwise every selector,
            // and so every aggregate, would fail on a long running example.
            for sop in self.selector_sops(id) {
                self.call_node(sop, &input)?;
            }
            return Ok(());
        }
        self.call_node(id, &input)?;
        Ok(())
    }

    /// The s-ops a selector compares, through `and`, `or` and `not`.
    fn selector_sops(&self, id: NodeId) -> Vec<NodeId> {
        let mut sops = Vec::new();
        let mut pending = vec![id];
        while let Some(node) = pending.pop() {
            for input in self.graph.kind(node).inputs() {
                if self.graph.is_selector(input) {
                    pending.push(input);
                } else {
                    sops.push(input);
                }
            }
        }
        sops
    }

    /// Runs a node on an input value (the reference's `Unfinished.call`).
    pub(crate) fn call_node(&mut self, id: NodeId, input: &Value) -> std::result::Result<NodeValue, EvalError> {
        // Counted before the elements are built: 100,000,000 characters
        // would take gigabytes as values only to be refused.
        let positions = match input {
            Value::Atom(rasp_core::Atom::Str(text)) => text.chars().count(),
            Value::List(items) => items.len(),
            Value::Dict(dict) => dict.len(),
            _ => 0,
        };
        rasp_core::check_input_len(positions)?;
        let elements = match self.evaluator.elements(input) {
            Some(e) if !e.is_empty() => e,
            _ => {
                return Err(EvalError::rasp(format!(
                    "RASP sequences/selectors expect non-empty iterables, got: {}",
                    input.py_str(&self.graph)
                )));
            }
        };
        // The structured engine unless the plain one is asked for
        // (`engine.rs` says why).
        self.evaluator.evaluate(&self.graph, id, &elements)
    }

    fn sop_id(&self, v: &Value) -> Result<NodeId> {
        match v {
            Value::Sop(id) => Ok(*id),
            other => rasp_err(format!("Expected sequence, got: {}", strdesc(other, None, &self.graph))),
        }
    }

    /// The reference's `toseq`: anything but an s-op becomes a constant s-op
    /// named by its Python `str`.
    pub(crate) fn constant_sop(&mut self, v: Value) -> Value {
        match v {
            Value::Sop(_) => v,
            other => {
                let name = other.py_str(&self.graph);
                Value::Sop(self.graph.add(NodeKind::Constant(other), &name, false))
            }
        }
    }

    fn value_name(&self, v: &Value) -> String {
        match v {
            Value::Sop(id) | Value::Selector(id) => self.graph.name(*id).to_string(),
            other => other.py_str(&self.graph),
        }
    }

    fn map(&mut self, op: MapOp, inputs: Vec<NodeId>, name: &str) -> Value {
        Value::Sop(self.graph.add(NodeKind::Map { op, inputs }, name, false))
    }

    // ---- operators ----------------------------------------------------------

    fn binary(&mut self, op: BinaryOp, l: Value, r: Value) -> Result<Value> {
        let operator = match op {
            BinaryOp::And => return self.logic(true, l, r),
            BinaryOp::Or => return self.logic(false, l, r),
            BinaryOp::Add => Operator::Arith(ArithOp::Add),
            BinaryOp::Sub => Operator::Arith(ArithOp::Sub),
            BinaryOp::Mul => Operator::Arith(ArithOp::Mul),
            BinaryOp::Div => Operator::Arith(ArithOp::Div),
            BinaryOp::Mod => Operator::Arith(ArithOp::Mod),
            BinaryOp::Pow => Operator::Arith(ArithOp::Pow),
            BinaryOp::Eq => Operator::Compare(CmpOp::Eq),
            BinaryOp::Lt => Operator::Compare(CmpOp::Lt),
            BinaryOp::Gt => Operator::Compare(CmpOp::Gt),
            BinaryOp::Le => Operator::Compare(CmpOp::Le),
            BinaryOp::Ge => Operator::Compare(CmpOp::Ge),
        };
        if matches!(l, Value::Selector(_)) || matches!(r, Value::Selector(_)) {
            return rasp_err(format!("Cannot apply {} to selector(s)", op.symbol()));
        }
        // The reference names `^` after Python's `pow`.
        let symbol = if op == BinaryOp::Pow { "pow" } else { op.symbol() };
        match (&l, &r) {
            (Value::Sop(a), Value::Sop(b)) => {
                let name = format!("( {} {} {} )", self.graph.name(*a), symbol, self.graph.name(*b));
                let map_op = match operator {
                    Operator::Arith(o) => MapOp::Arith(o),
                    Operator::Compare(o) => MapOp::Compare(o),
                };
                Ok(self.map(map_op, vec![*a, *b], &name))
            }
            (Value::Sop(s), other) | (other, Value::Sop(s)) => {
                let sop_left = matches!(l, Value::Sop(_));
                let (s, other) = (*s, other.clone());
                let other_name = other.py_str(&self.graph);
                let sop_name = self.graph.name(s).to_string();
                match operator {
                    Operator::Arith(o) => {
                        let name = if sop_left {
                            format!("( {sop_name} {symbol} {other_name} )")
                        } else {
                            format!("( {other_name} {symbol} {sop_name} )")
                        };
                        let map_op = MapOp::ArithConst { op: o, constant: other, constant_on_left: !sop_left };
                        Ok(self.map(map_op, vec![s], &name))
                    }
                    Operator::Compare(o) => {
                        // An atom on the left makes Python call the s-op's reflected
                        // comparison: `2 < x` runs as `x > 2` (semantics.md §2.4).
                        let o = if sop_left { o } else { reflect(o) };
                        let name = format!("( {sop_name} {} {other_name} )", o.symbol());
                        let map_op = MapOp::CompareConst { op: o, constant: other, constant_on_left: false };
                        Ok(self.map(map_op, vec![s], &name))
                    }
                }
            }
            _ => match operator {
                Operator::Arith(o) => Ok(value_arith(o, &l, &r)?),
                Operator::Compare(o) => Ok(Value::bool(value_compare(o, &l, &r)?)),
            },
        }
    }

    /// `and` / `or`: elementwise on s-ops, a combined selector on
    /// selectors, Python's operand-returning `and`/`or` on anything else.
    fn logic(&mut self, and: bool, l: Value, r: Value) -> Result<Value> {
        let is_sel = |v: &Value| matches!(v, Value::Selector(_));
        let is_sop = |v: &Value| matches!(v, Value::Sop(_));
        if is_sop(&l) || is_sop(&r) {
            if is_sel(&l) || is_sel(&r) {
                return rasp_err("Cannot apply and/or between selector and non-selector");
            }
            let symbol = if and { BinaryOp::And.symbol() } else { BinaryOp::Or.symbol() };
            let name = format!("( {} {} {})", self.value_name(&l), symbol, self.value_name(&r));
            let (a, b) = (self.constant_sop(l), self.constant_sop(r));
            let inputs = vec![self.sop_id(&a)?, self.sop_id(&b)?];
            return Ok(self.map(if and { MapOp::And } else { MapOp::Or }, inputs, &name));
        }
        if is_sel(&l) || is_sel(&r) {
            let (Value::Selector(a), Value::Selector(b)) = (&l, &r) else {
                return rasp_err("Cannot apply and/or between selector and non-selector");
            };
            let kind = if and { NodeKind::SelectAnd(*a, *b) } else { NodeKind::SelectOr(*a, *b) };
            return Ok(Value::Selector(self.graph.add(kind, "plain select", true)));
        }
        // Python's `and`/`or` return an operand.
        Ok(if l.truthy() == and { r } else { l })
    }

    fn unary(&mut self, op: UnaryOp, v: Value) -> Result<Value> {
        if let Value::Sop(id) = v {
            let name = self.graph.name(id).to_string();
            let (map_op, name) = match op {
                UnaryOp::Not => (MapOp::Not, format!("( not {name} )")),
                UnaryOp::Neg => (MapOp::Neg, format!("( - {name} )")),
                UnaryOp::Pos => (MapOp::Pos, format!("( + {name} )")),
                UnaryOp::Round => (MapOp::Round, format!("( round {name} )")),
                UnaryOp::Indicator => (MapOp::Indicator, format!("I({name})")),
            };
            return Ok(self.map(map_op, vec![id], &name));
        }
        match (op, &v) {
            (UnaryOp::Not, Value::Selector(id)) => {
                Ok(Value::Selector(self.graph.add(NodeKind::SelectNot(*id), "plain select", true)))
            }
            (UnaryOp::Not, other) => Ok(Value::bool(!other.truthy())),
            (UnaryOp::Indicator, other) => {
                rasp_err(format!("indicator operator expects s-op, got: {}", other.py_str(&self.graph)))
            }
            (UnaryOp::Neg, Value::Atom(a)) => Ok(Value::Atom(pyops::neg(a)?)),
            (UnaryOp::Pos, Value::Atom(a)) => Ok(Value::Atom(pyops::pos(a)?)),
            (UnaryOp::Round, Value::Atom(a)) => Ok(Value::Atom(pyops::round(a)?)),
            (UnaryOp::Neg, other) => python_err(format!("bad operand type for unary -: '{}'", other.type_name())),
            (UnaryOp::Pos, other) => python_err(format!("bad operand type for unary +: '{}'", other.type_name())),
            (UnaryOp::Round, other) => {
                python_err(format!("type {} doesn't define __round__ method", other.type_name()))
            }
        }
    }

    fn eval_ternary(&mut self, ctx: &mut Ctx, then: &Expr, cond: &Expr, otherwise: &Expr) -> Result<Value> {
        let c = self.eval_expr(ctx, cond)?;
        if matches!(c, Value::Sop(_) | Value::Selector(_)) {
            let t = self.eval_expr(ctx, then)?;
            let o = self.eval_expr(ctx, otherwise)?;
            let (c, t, o) = (self.constant_sop(c), self.constant_sop(t), self.constant_sop(o));
            let inputs = vec![self.sop_id(&c)?, self.sop_id(&t)?, self.sop_id(&o)?];
            let name = format!(
                "{} if {} else {}",
                self.graph.name(inputs[1]),
                self.graph.name(inputs[0]),
                self.graph.name(inputs[2])
            );
            return Ok(self.map(MapOp::Ternary, inputs, &name));
        }
        // Only the chosen branch runs, so recursion on atoms terminates.
        if c.truthy() { self.eval_expr(ctx, then) } else { self.eval_expr(ctx, otherwise) }
    }

    fn dict_key(&mut self, ctx: &mut Ctx, e: &Expr) -> Result<Atom> {
        match self.eval_expr(ctx, e)? {
            Value::Atom(a) => Ok(a),
            other => rasp_err(format!(
                "dictionary keys can only be atoms, but instead got: {}",
                strdesc(&other, None, &self.graph)
            )),
        }
    }

    fn comprehension_items(&mut self, ctx: &mut Ctx, iterable: &Expr, what: &str) -> Result<Vec<Value>> {
        let over = self.eval_expr(ctx, iterable)?;
        match &over {
            Value::List(_) | Value::Dict(_) => Ok(over.iter_elements().unwrap_or_default()),
            other => {
                let message = format!(
                    "{what} comprehension should have got a list or dict to loop over, but got: {}",
                    other.py_str(&self.graph)
                );
                Err(Failure::from(EvalError::rasp(message)).at(&ctx.source, iterable.span))
            }
        }
    }

    fn eval_range(&mut self, ctx: &mut Ctx, args: &[Expr]) -> Result<Value> {
        let mut values = Vec::new();
        for e in args {
            values.push(self.eval_expr(ctx, e)?);
        }
        if !(1..=3).contains(&values.len()) {
            return rasp_err(format!("wrong number of inputs to range, expected: 1, 2, or 3, got: {}", values.len()));
        }
        let mut ints = Vec::new();
        for v in &values {
            match v {
                Value::Atom(Atom::Int(i)) => ints.push(*i),
                Value::Atom(Atom::Bool(b)) => ints.push(i64::from(*b)),
                Value::Atom(Atom::BigInt(_)) => return python_err("Python int too large to convert to C ssize_t"),
                _ => {
                    return rasp_err(format!(
                        "range expects all integer inputs, but got: {}",
                        strdesc(&Value::list(values.clone()), None, &self.graph)
                    ));
                }
            }
        }
        let (start, stop, step) = match ints.as_slice() {
            [stop] => (0, *stop, 1),
            [start, stop] => (*start, *stop, 1),
            [start, stop, step] => (*start, *stop, *step),
            _ => return internal("range arguments were counted as 1 to 3 above"),
        };
        if step == 0 {
            return python_err("range() arg 3 must not be zero");
        }
        let (span, stride) = if step > 0 {
            ((i128::from(stop) - i128::from(start)).max(0), i128::from(step))
        } else {
            ((i128::from(start) - i128::from(stop)).max(0), -i128::from(step))
        };
        let count = (span + stride - 1) / stride;
        if count > MAX_LIST_LEN as i128 {
            return python_err(format!(
                "range too long to build a list ({count} elements; the limit is {MAX_LIST_LEN})"
            ));
        }
        let items = (0..count as i64).map(|i| Value::int(start + i * step)).collect();
        Ok(Value::list(items))
    }

    fn eval_zip(&mut self, ctx: &mut Ctx, args: &[Expr]) -> Result<Value> {
        let mut lists = Vec::new();
        for e in args {
            lists.push(self.eval_expr(ctx, e)?);
        }
        let mut columns = Vec::new();
        for (i, l) in lists.iter().enumerate() {
            match l {
                Value::List(items) => columns.push(items.clone()),
                other => {
                    return rasp_err(format!(
                        "attempting to zip lists, but {} -th element is not list: {}",
                        i + 1,
                        strdesc(other, None, &self.graph)
                    ));
                }
            }
        }
        let n = columns.first().map_or(0, |c| c.len());
        for (i, c) in columns.iter().enumerate() {
            if c.len() != n {
                return rasp_err(format!(
                    "attempting to zip lists of length {n} , but {} -th list has length {}",
                    i + 1,
                    c.len()
                ));
            }
        }
        Ok(Value::list((0..n).map(|j| Value::list(columns.iter().map(|c| c[j].clone()).collect())).collect()))
    }

    fn eval_in(&mut self, ctx: &mut Ctx, element: &Expr, container: &Expr) -> Result<Value> {
        let x = self.eval_expr(ctx, element)?;
        let c = self.eval_expr(ctx, container)?;
        let container_name = container.kind.as_var().map_or_else(|| c.py_str(&self.graph), str::to_string);
        match &x {
            Value::Sop(id) => {
                let Value::List(items) = &c else {
                    return rasp_err(format!(
                        "\"[s-op] in X\" expects X to be list of atoms, but got non-list: {}",
                        strdesc(&c, None, &self.graph)
                    ));
                };
                let atoms: Option<Vec<Atom>> = items.iter().map(|v| v.as_atom().cloned()).collect();
                let Some(atoms) = atoms else {
                    return rasp_err(format!(
                        "\"[s-op] in X\" expects X to be list of atoms, but got list with values: {}",
                        strdesc(&c, None, &self.graph)
                    ));
                };
                let name = format!("{} in {}", self.graph.name(*id), container_name);
                Ok(self.map(MapOp::InList(Rc::new(atoms)), vec![*id], &name))
            }
            Value::Atom(a) => match &c {
                Value::List(items) => Ok(Value::bool(list_contains(items, &x))),
                Value::Sop(s) => {
                    // As the reference builds it (semantics.md §2.8): the mean of an
                    // indicator over the shared full selector, `> 0`.
                    let constant = Value::Atom(a.clone());
                    let indicator = self.graph.add(
                        NodeKind::Map {
                            op: MapOp::CompareConst { op: CmpOp::Eq, constant, constant_on_left: false },
                            inputs: vec![*s],
                        },
                        "s-op",
                        true,
                    );
                    let indicator =
                        self.graph.add(NodeKind::Map { op: MapOp::Indicator, inputs: vec![indicator] }, "s-op", true);
                    let all = self.graph.select_all();
                    let mean = self.graph.add(
                        NodeKind::Aggregate { selector: all, values: indicator, default: None },
                        "s-op",
                        true,
                    );
                    let map_op =
                        MapOp::CompareConst { op: CmpOp::Gt, constant: Value::int(0), constant_on_left: false };
                    Ok(self.map(map_op, vec![mean], "( s-op > 0 )"))
                }
                other => rasp_err(format!(
                    "\"[atom] in X\" expects X to be list or s-op, but got: {}",
                    strdesc(other, None, &self.graph)
                )),
            },
            Value::Selector(_) => rasp_err(
                "don't check if select is contained in list/dict: unless exact same instance, unable to check equivalence of selects",
            ),
            Value::Function(_) => rasp_err(
                "don't check if function is contained in list/dict: unless exact same instance, unable to check equivalence of functions",
            ),
            other => rasp_err(format!(
                "\"A in X\" expects A to be s-op or atom, but got A: {}",
                strdesc(other, None, &self.graph)
            )),
        }
    }

    /// Indexing (semantics.md §2.8). Operands are evaluated "with a name": a plain
    /// variable gives its name, anything else `out`.
    fn eval_index(&mut self, ctx: &mut Ctx, target: &Expr, index: &Expr) -> Result<Value> {
        let t = self.eval_expr(ctx, target)?;
        let i = self.eval_expr(ctx, index)?;
        // Quirk: the reference asks a parenthesised operand for a name it
        // does not have (semantics.md §2.8 note), and Python raises.
        for (e, v) in [(target, &t), (index, &i)] {
            if matches!(e.kind, ExprKind::Paren(_)) {
                return python_err(format!("'{}' object has no attribute 'val'", v.type_name()));
            }
        }
        let target_name = names::operand_name(target);
        let index_name = names::operand_name(index);
        // A list, string or dict indexed by an s-op: an elementwise lookup table.
        if let (Value::List(_) | Value::Dict(_) | Value::Atom(Atom::Str(_)), Value::Sop(id)) = (&t, &i) {
            let name = format!("{target_name}[{index_name}]");
            let kind = NodeKind::Map { op: MapOp::Lookup(Rc::new(t.clone())), inputs: vec![*id] };
            return Ok(Value::Sop(self.graph.add(kind, &name, true)));
        }
        match &t {
            Value::List(_) | Value::Atom(Atom::Str(_)) => {
                let (len, kind) = match &t {
                    Value::List(l) => (l.len(), "list"),
                    Value::Atom(Atom::Str(s)) => (s.chars().count(), "string"),
                    _ => return internal("indexing: the target was matched as a list or string"),
                };
                match &i {
                    Value::Atom(a @ (Atom::Int(_) | Atom::Bool(_) | Atom::BigInt(_))) => {
                        let position = match a {
                            Atom::Int(v) => Some(*v),
                            Atom::Bool(b) => Some(i64::from(*b)),
                            _ => None,
                        };
                        let in_range = position.filter(|&p| p < len as i64 && -p <= len as i64);
                        let Some(p) = in_range else {
                            return rasp_err(format!(
                                "index {} out of range for {kind} of length {len}",
                                rasp_core::pyfmt::py_str(a)
                            ));
                        };
                        let p = if p < 0 { p + len as i64 } else { p } as usize;
                        Ok(match &t {
                            Value::List(l) => l[p].clone(),
                            Value::Atom(Atom::Str(s)) => {
                                Value::str(&s.chars().nth(p).map(String::from).unwrap_or_default())
                            }
                            _ => return internal("indexing: the target was matched as a list or string"),
                        })
                    }
                    other => rasp_err(format!(
                        "index into {kind} has to be s-op or integer, got: {}",
                        strdesc(other, None, &self.graph)
                    )),
                }
            }
            Value::Dict(d) => match &i {
                Value::Atom(a) => d.get(a).cloned().ok_or_else(|| {
                    Failure::from(EvalError::rasp(format!(
                        "index [ {} ] not in dict.",
                        rasp_core::pyfmt::strdesc_atom(a)
                    )))
                }),
                other => rasp_err(format!(
                    "index into dict has to be s-op or atom (i.e., string, int, float, bool), got: {}",
                    strdesc(other, None, &self.graph)
                )),
            },
            Value::Sop(s) => {
                let position = match &i {
                    Value::Atom(Atom::Int(v)) => *v,
                    Value::Atom(Atom::Bool(b)) => i64::from(*b),
                    other => {
                        return rasp_err(format!(
                            "index into sequence has to be integer, got: {}",
                            strdesc(other, None, &self.graph)
                        ));
                    }
                };
                let source = self.graph.name(*s).to_string();
                let where_ = if position >= 0 {
                    self.constant_sop(i.clone())
                } else {
                    // `length + i`, as the reference: one more layer.
                    let length = env::lookup(&ctx.env, "length")?;
                    let sum = self.binary(BinaryOp::Add, length.clone(), i.clone())?;
                    if let Value::Sop(id) = sum {
                        let length_name = self.value_name(&length);
                        self.graph.rename(id, &format!("{length_name}{position}"));
                    }
                    sum
                };
                let where_ = self.sop_id(&where_)?;
                let indices = self.builtins.indices;
                let select = self.graph.add(
                    NodeKind::Select { key: indices, query: where_, predicate: Predicate::Eq },
                    &format!("load from {}", i.py_str(&self.graph)),
                    true,
                );
                let name = format!("{source}[{}]", i.py_str(&self.graph));
                Ok(Value::Sop(self.graph.add(
                    NodeKind::Aggregate { selector: select, values: *s, default: None },
                    &name,
                    false,
                )))
            }
            other => rasp_err(format!(
                "can only index into a list, dict, string,or sequence, but instead got: {}",
                strdesc(other, None, &self.graph)
            )),
        }
    }

    // ---- calls --------------------------------------------------------------

    /// A call or application; `call_span` is the whole call expression
    /// (the call site named in the chain of a failure inside a function).
    fn eval_call(&mut self, ctx: &mut Ctx, callee: &Expr, args: &[Expr], call_span: Span) -> Result<Called> {
        // The single argument is evaluated first as the input for eager
        // checks of the callee (so `(tokens_int + 1)([1, 2])` works), and
        // evaluated again for the call itself, as in the reference, unless
        // the second evaluation could not differ (`eval_argument_again`).
        let previous = ctx.backup.clone();
        let mut first_argument = None;
        if args.len() == 1 {
            match self.eval_argument(ctx, &args[0]) {
                Ok(evaluated) => {
                    ctx.backup = Some(evaluated.value.clone());
                    first_argument = Some(evaluated);
                }
                Err(e) => {
                    ctx.backup = previous;
                    return Err(e);
                }
            }
        }
        let f = self.eval_expr(ctx, callee);
        ctx.backup = previous;
        match f? {
            Value::Sop(id) | Value::Selector(id) => {
                if args.len() != 1 {
                    return rasp_err(format!(
                        "wrong number of args for evaluate unfinished- expected: 1, got: {}.",
                        args.len()
                    ));
                }
                // evaluateExpr → _evaluateApplication → evaluateExpr
                let input = self.eval_argument_again(ctx, &args[0], first_argument, 1)?;
                if !input.is_iterable() {
                    return rasp_err(format!(
                        "Applying unfinished expects iterable input, got: {}",
                        strdesc(&input, None, &self.graph)
                    ));
                }
                let value = self.call_node(id, &input)?;
                Ok(Called::Applied { value, input })
            }
            Value::Function(func) => {
                if let Some(native) = func.as_any().downcast_ref::<Native>() {
                    let values = match (args, first_argument) {
                        ([argument], first) => vec![self.eval_argument_again(ctx, argument, first, 1)?],
                        _ => {
                            self.framed(1, |s| args.iter().map(|a| s.eval_expr(ctx, a)).collect::<Result<Vec<_>>>())?
                        }
                    };
                    if values.len() != native.params.len() {
                        return rasp_err(format!(
                            "wrong number of args for {}- expected: {}, got: {}.",
                            native.name,
                            native.params.len(),
                            values.len()
                        ));
                    }
                    return Ok(Called::Printed((native.run)(&self.graph, self.evaluator.mask(), &values)?));
                }
                let Some(function) = func.as_any().downcast_ref::<Function>() else {
                    // Only this crate makes function values, and it makes these two.
                    return internal(format!("function value of unknown type: {}", func.describe()));
                };
                // evaluateExpr → _evaluateRASPFunction → <genexpr> → evaluateExpr
                let values = match (args, first_argument) {
                    ([argument], first) => vec![self.eval_argument_again(ctx, argument, first, 2)?],
                    _ => self.framed(2, |s| args.iter().map(|a| s.eval_expr(ctx, a)).collect::<Result<Vec<_>>>())?,
                };
                // evaluateExpr → _evaluateRASPFunction → RASPFunction.call
                let name = &function.def.name.name;
                let result = self.framed(2, |s| s.call_function(function, &values));
                let result = result.map_err(|f| f.called_from(name, &ctx.source, call_span))?;
                if let Value::Sop(id) | Value::Selector(id) = result {
                    let shown: Vec<String> = values.iter().map(|v| strdesc(v, Some(20), &self.graph)).collect();
                    self.graph.rename(id, &format!("{}({})", function.def.name.name, shown.join(" , ")));
                }
                Ok(Called::Value(self.finish(ctx, result)?))
            }
            other => unsupported(format!(
                "only functions, s-ops and selectors can be called, not a value of type {}",
                other.type_name()
            )),
        }
    }

    /// The first of the reference's two evaluations of a call's single
    /// argument, noting whether it changed or read anything a second
    /// evaluation could see differently.
    fn eval_argument(&mut self, ctx: &mut Ctx, argument: &Expr) -> Result<FirstEvaluation> {
        let graph_version = self.graph.version();
        let out_reads = self.out_reads;
        let outer_peak = std::mem::take(&mut self.py_frames_peak);
        let value = self.eval_expr(ctx, argument);
        let peak_frames = self.py_frames_peak;
        self.py_frames_peak = outer_peak.max(peak_frames);
        Ok(FirstEvaluation { value: value?, graph_version, read_out: self.out_reads != out_reads, peak_frames })
    }

    /// The reference's second evaluation of a call's single argument,
    /// `frames` Python frames deeper than the first. Evaluation is
    /// deterministic, so when nothing it depends on changed since the first
    /// (no node added or renamed, `out` not read) and the deeper recursion
    /// still fits, the first result is the second: this keeps nested calls
    /// `f(f(f(...)))` linear instead of doubling at every level, with the
    /// same output, ids and names as evaluating again.
    fn eval_argument_again(
        &mut self,
        ctx: &mut Ctx,
        argument: &Expr,
        first: Option<FirstEvaluation>,
        frames: usize,
    ) -> Result<Value> {
        if let Some(first) = first.filter(|_| self.reuse_arguments) {
            let unchanged = self.graph.version() == first.graph_version && !first.read_out;
            if unchanged && first.peak_frames + frames <= PY_RECURSION_LIMIT {
                // Every evaluation ends by storing its value in its scope's
                // `out` (the reference's `set_out`); evaluating again would too.
                env::set_out(&ctx.env, first.value.clone());
                return Ok(first.value);
            }
        }
        self.framed(frames, |s| s.eval_expr(ctx, argument))
    }

    pub(crate) fn call_function(&mut self, function: &Function, args: &[Value]) -> Result<Value> {
        let def = &function.def;
        let scope = env::nested(&function.env);
        if args.len() != def.params.len() {
            return rasp_err(format!(
                "wrong number of args for {}- expected: {}, got: {}.",
                def.name.name,
                def.params.len(),
                args.len()
            ));
        }
        for (p, v) in def.params.iter().zip(args) {
            env::assign(&scope, &p.name, v.clone())?;
        }
        self.run_body(scope, function)
    }

    fn run_body(&mut self, scope: EnvRef, function: &Function) -> Result<Value> {
        let def = &function.def;
        let mut ctx = self.new_ctx(scope, function.source.clone());
        self.library_calls.push(function.creator == crate::session::LIBRARY_PATH);
        let results = self.run_function_body(&mut ctx, def);
        self.library_calls.pop();
        Ok(single_or_list(results?))
    }

    fn run_function_body(&mut self, ctx: &mut Ctx, def: &FuncDef) -> Result<Vec<Value>> {
        for s in &def.body {
            self.eval_statement(ctx, s)?;
        }
        // call → evaluateExprsList → <listcomp> → evaluateExpr
        self.framed(2, |s| def.returns.iter().map(|e| s.eval_expr(ctx, e)).collect::<Result<Vec<_>>>())
    }
}

/// A binary operator other than `and`/`or`.
enum Operator {
    Arith(ArithOp),
    Compare(CmpOp),
}

/// What a call expression gave.
pub(crate) enum Called {
    Value(Value),
    /// An s-op or selector applied to an input: shown, not a value.
    Applied {
        value: NodeValue,
        input: Value,
    },
    /// A built-in's report.
    Printed(String),
}

/// `a = e;` binds the value, `a = e1, e2;` (and `return e1, e2;`) a list.
fn single_or_list(values: Vec<Value>) -> Value {
    match <[Value; 1]>::try_from(values) {
        Ok([value]) => value,
        Err(values) => Value::list(values),
    }
}

fn reflect(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

fn predicate(op: SelectOp) -> Predicate {
    match op {
        SelectOp::Eq => Predicate::Eq,
        SelectOp::Ne => Predicate::Ne,
        SelectOp::Lt => Predicate::Lt,
        SelectOp::Gt => Predicate::Gt,
        SelectOp::Le => Predicate::Le,
        SelectOp::Ge => Predicate::Ge,
    }
}

/// An integer literal: the lexer only makes decimal digits, which always parse.
fn parse_int(digits: &str) -> Result<Atom> {
    match digits.parse::<i64>() {
        Ok(v) => Ok(Atom::Int(v)),
        Err(_) => match digits.parse::<num_bigint::BigInt>() {
            Ok(big) => Ok(Atom::from_bigint(big)),
            Err(_) => internal(format!("integer literal the lexer accepted does not parse: {digits}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::{NoFiles, Session};

    /// Everything the REPL prints for `lines`, with arguments evaluated
    /// twice as the reference does, or once where that changes nothing.
    fn transcript(lines: &str, reuse_arguments: bool) -> String {
        let lines = lines.to_string();
        // Deep recursion needs the stack the front ends give the interpreter.
        crate::with_large_stack(move || {
            let mut session = Session::new(Box::new(NoFiles));
            session.reuse_arguments = reuse_arguments;
            for line in lines.lines() {
                session.feed_line(line);
            }
            session.take_output()
        })
    }

    /// Evaluating a call's argument once must print exactly what evaluating
    /// it twice prints: the same values, node ids, names (which calls
    /// rename) and errors, the recursion limit included.
    #[track_caller]
    fn check_same(lines: &str) {
        let twice = transcript(lines, false);
        let once = transcript(lines, true);
        assert_eq!(once, twice, "program:\n{lines}");
    }

    #[test]
    fn nested_calls_print_what_evaluating_twice_prints() {
        // Atoms only: nothing changes, so the first value is reused.
        check_same("def f(a) { return a; }\nf(f(f(f(1))));\nf(f([1, 2]));");
        // The argument makes nodes: ids must match the reference's count.
        check_same("def f(a) { return a; }\nx = f(f(tokens + 1));\nx;\ny = tokens * 2;\ny;");
        // Calls rename what they return, and the names read earlier names.
        check_same("def g(a) { return a; }\nz = g(g(g(tokens)));\nz;\n[g(g(indices)), g(tokens)];");
        // `out` changes between the two evaluations.
        check_same("def f(a) { return a; }\n5;\nf(out);\nout;\nf(f(out));\nout;");
        check_same("def h(a) { return out; }\n7;\nh(h(3));\nout;");
        // Applying an s-op to an input, and a library function.
        check_same("(tokens + \"x\")(\"ab\");\nlength(\"abc\");\nreverse(\"abcd\");");
        // Errors in the argument.
        check_same("def f(a) { return a; }\nf(f(undefined_name));\nf(f(1 / 0));");
    }

    #[test]
    fn recursion_limit_is_where_evaluating_twice_puts_it() {
        // `f(g(k))`: the second evaluation of `g(k)` is deeper than the
        // first, so around the limit it is the one that fails. (`g`'s own
        // argument is an atom, so evaluating twice stays cheap here.)
        let mut program = String::from("def f(a) { return a; }\ndef g(n) { return 0 if n < 1 else g(n - 1); }\n");
        // Parentheses add one frame each, so every distance to the limit occurs.
        for depth in 100..=150 {
            for parens in 0..8 {
                program.push_str(&format!("f({}g({depth}){});\n", "(".repeat(parens), ")".repeat(parens)));
            }
        }
        let twice = transcript(&program, false);
        assert!(twice.contains("maximum recursion depth exceeded"), "no depth reached the limit:\n{twice}");
        assert!(twice.contains("value: out =  0"), "every depth failed:\n{twice}");
        assert_eq!(transcript(&program, true), twice);
    }

    #[test]
    fn nested_calls_take_linear_time() {
        // Evaluated twice at every level this would be 2^60 evaluations.
        let mut session = Session::new(Box::new(NoFiles));
        let depth = 60;
        let call = format!("{}41{}", "f(".repeat(depth), ")".repeat(depth));
        for line in ["def f(a) { return a + 0; }".to_string(), format!("x = {call};"), "x;".to_string()] {
            session.feed_line(&line);
        }
        let output = session.take_output();
        assert!(output.contains("value: x =  41"), "{output}");
    }
}
