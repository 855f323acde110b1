//! Environments (scopes), as the reference keeps them (semantics.md §2.9): the
//! console scope, function scopes nested in their defining scope, and
//! comprehension scopes. Each scope has its own reserved-name list, and a
//! loaded file's scope "steals" its public assignments into the loader.

use rasp_core::{EvalError, EvalResult, Value};
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

pub(crate) type EnvRef = Rc<RefCell<Env>>;

/// Names no scope may assign, besides its constants (semantics.md §2.9).
const RESERVED: [&str; 14] =
    ["if", "else", "not", "and", "or", "out", "def", "return", "range", "for", "in", "zip", "len", "get"];

#[derive(Debug)]
pub(crate) struct Env {
    pub(crate) name: String,
    parent: Option<EnvRef>,
    stealing: Option<EnvRef>,
    variables: HashMap<String, Value>,
    constants: HashMap<String, Value>,
    reserved: HashSet<String>,
    /// While the library loads, the console stores its names as reserved constants.
    pub(crate) storing_in_constants: bool,
}

impl Env {
    /// A scope holding the base constants (`tokens_str`, `indices`, `True`, ...).
    pub(crate) fn new(
        name: &str,
        parent: Option<EnvRef>,
        stealing: Option<EnvRef>,
        base: &[(String, Value)],
    ) -> EnvRef {
        let constants: HashMap<String, Value> = base.iter().cloned().collect();
        let mut reserved: HashSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
        reserved.extend(constants.keys().cloned());
        Rc::new(RefCell::new(Env {
            name: name.to_string(),
            parent,
            stealing,
            variables: HashMap::new(),
            constants,
            reserved,
            storing_in_constants: false,
        }))
    }

    /// The base constants every scope starts with.
    fn base(&self) -> Vec<(String, Value)> {
        // Every scope has the same base constants; take them from this one.
        let mut base: Vec<(String, Value)> = Vec::new();
        for name in
            ["tokens_asis", "tokens_str", "tokens_int", "tokens_bool", "tokens_float", "indices", "True", "False"]
        {
            if let Some(v) = self.constants.get(name) {
                base.push((name.to_string(), v.clone()));
            }
        }
        base
    }
}

pub(crate) fn lookup(env: &EnvRef, name: &str) -> EvalResult<Value> {
    let mut current = Some(env.clone());
    while let Some(scope) = current {
        let scope_ref = scope.borrow();
        if let Some(v) = scope_ref.constants.get(name).or_else(|| scope_ref.variables.get(name)) {
            return Ok(v.clone());
        }
        current = scope_ref.parent.clone();
    }
    Err(EvalError::rasp(format!("Error: Undefined variable: {name}")))
}

pub(crate) fn assign(env: &EnvRef, name: &str, value: Value) -> EvalResult<()> {
    let stealing = {
        let mut scope = env.borrow_mut();
        if scope.reserved.contains(name) {
            return Err(EvalError::rasp(format!("Error: Cannot set reserved name: {name}")));
        }
        if scope.storing_in_constants {
            scope.constants.insert(name.to_string(), value.clone());
            scope.reserved.insert(name.to_string());
        } else {
            scope.variables.insert(name.to_string(), value.clone());
        }
        scope.stealing.clone()
    };
    match stealing {
        Some(target) if !name.starts_with('_') && name != "out" => assign(&target, name, value),
        _ => Ok(()),
    }
}

/// `out` is set after every evaluated expression, bypassing the reserved check.
pub(crate) fn set_out(env: &EnvRef, value: Value) {
    env.borrow_mut().variables.insert("out".to_string(), value);
}

/// A scope nested in `env` (function call, comprehension iteration).
pub(crate) fn nested(env: &EnvRef) -> EnvRef {
    let (name, base) = {
        let scope = env.borrow();
        (format!("{}'", scope.name), scope.base())
    };
    Env::new(&name, Some(env.clone()), None, &base)
}

/// A copy of the scope's bindings (the reference's `snapshot`): constants
/// are copied but, as in the reference, the copy reserves only the base names.
pub(crate) fn snapshot(env: &EnvRef) -> EnvRef {
    let scope = env.borrow();
    let copy = Env::new(&scope.name, scope.parent.clone(), scope.stealing.clone(), &scope.base());
    {
        let mut c = copy.borrow_mut();
        c.constants = scope.constants.clone();
        c.variables = scope.variables.clone();
    }
    copy
}

/// Every name visible from `env` (for tab completion).
pub(crate) fn visible_names(env: &EnvRef) -> Vec<String> {
    let mut names = HashSet::new();
    let mut current = Some(env.clone());
    while let Some(scope) = current {
        let scope_ref = scope.borrow();
        names.extend(scope_ref.constants.keys().cloned());
        names.extend(scope_ref.variables.keys().cloned());
        current = scope_ref.parent.clone();
    }
    let mut names: Vec<String> = names.into_iter().collect();
    names.sort();
    names
}
