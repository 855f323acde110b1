//! How the reference describes values inside messages and generated names.

use rasp_core::pyfmt::strdesc_atom;
use rasp_core::{Graph, Value};
use rasp_syntax::{Expr, ExprKind};

/// The reference's `strdesc`: s-ops and selectors by name, strings in
/// double quotes, lists and dicts recursively; with a cap, a longer list or
/// dict text becomes `(list)` / `(dict)` (used in function-result names).
pub(crate) fn strdesc(v: &Value, cap: Option<usize>, graph: &Graph) -> String {
    match v {
        Value::Sop(id) | Value::Selector(id) => graph.name(*id).to_string(),
        Value::Atom(a) => strdesc_atom(a),
        Value::List(items) => {
            let parts: Vec<String> = items.iter().map(|x| strdesc(x, None, graph)).collect();
            let text = format!("[{}]", parts.join(", "));
            capped(text, cap, "(list)")
        }
        Value::Dict(d) => {
            let parts: Vec<String> =
                d.iter().map(|(k, x)| format!("{}: {}", strdesc_atom(k), strdesc(x, None, graph))).collect();
            let text = format!("{{{}}}", parts.join(", "));
            capped(text, cap, "(dict)")
        }
        Value::Function(f) => f.describe(),
        Value::Opaque(_) => v.py_repr(graph),
    }
}

fn capped(text: String, cap: Option<usize>, short: &str) -> String {
    match cap {
        Some(c) if text.chars().count() > c => short.to_string(),
        _ => text,
    }
}

/// The name an indexing operand gets: its variable name, else `out`.
pub(crate) fn operand_name(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Var(name) => name.clone(),
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Str(_)
        | ExprKind::Paren(_)
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
        | ExprKind::Index { .. }
        | ExprKind::Call { .. } => "out".to_string(),
    }
}
