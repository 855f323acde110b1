//! RASP functions: closures over their defining scope (semantics.md §2.8).

use crate::diagnostic::Source;
use crate::env::EnvRef;
use rasp_core::Callable;
use rasp_syntax::FuncDef;
use std::rc::Rc;

/// A function value made by `def`: `Value::Function` holds it behind
/// `rasp_core::Callable`, and calls downcast to it.
#[derive(Debug)]
pub(crate) struct Function {
    pub(crate) def: Rc<FuncDef>,
    /// The scope the `def` ran in; calls nest inside it.
    pub(crate) env: EnvRef,
    /// The defining scope's name (`console`, `console'`, a file path).
    pub(crate) creator: String,
    /// The text the `def` was parsed from: errors in the body point into it
    /// (a function from a `load`ed file keeps that file's name and text).
    pub(crate) source: Rc<Source>,
}

impl Function {
    pub(crate) fn params(&self) -> impl Iterator<Item = &str> {
        self.def.params.iter().map(|p| p.name.as_str())
    }
}

impl Callable for Function {
    fn name(&self) -> &str {
        &self.def.name.name
    }

    fn describe(&self) -> String {
        let params: Vec<&str> = self.params().collect();
        format!("{} function: {}({})", self.creator, self.def.name.name, params.join(", "))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
