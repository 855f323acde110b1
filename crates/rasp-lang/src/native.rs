//! Built-in functions a front end adds to the console (e.g. `analyze(sop);`
//! from the CLI): they read the graph and print a report. They are ordinary
//! console variables, so user code may rebind their names.

use rasp_core::{AttentionMask, Callable, EvalResult, Graph, Value};
use std::rc::Rc;

/// What a built-in does: given the graph, the session's attention mask
/// (semantics.md §6) and its arguments, a report to print (as a
/// statement's result). An error fails the statement like any other
/// evaluation error. Registered with
/// [`Session::register_native`](crate::Session::register_native).
pub type NativeFn = Rc<dyn Fn(&Graph, AttentionMask, &[Value]) -> EvalResult<String>>;

pub(crate) struct Native {
    pub(crate) name: String,
    pub(crate) params: Vec<String>,
    pub(crate) run: NativeFn,
}

impl std::fmt::Debug for Native {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Native({})", self.name)
    }
}

impl Callable for Native {
    fn name(&self) -> &str {
        &self.name
    }

    fn describe(&self) -> String {
        format!("built-in function: {}({})", self.name, self.params.join(", "))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
