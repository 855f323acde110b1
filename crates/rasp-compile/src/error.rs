//! Compile errors name the s-op (or selector) and say why.

use rasp_core::{Graph, NodeId};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The node the problem is about, with its display name.
    pub node: Option<(NodeId, String)>,
    pub reason: String,
}

impl CompileError {
    pub fn at(graph: &Graph, id: NodeId, reason: &str) -> CompileError {
        CompileError { node: Some((id, graph.name(id).to_string())), reason: reason.to_string() }
    }

    pub fn general(reason: impl Into<String>) -> CompileError {
        CompileError { node: None, reason: reason.into() }
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.node {
            Some((id, name)) => write!(f, "cannot compile `{name}` (node {}): {}", id.0, self.reason),
            None => write!(f, "cannot compile: {}", self.reason),
        }
    }
}

impl std::error::Error for CompileError {}
