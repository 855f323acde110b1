//! Compile errors name the s-op (or selector) and say why.

use rasp_core::{Graph, NodeId};
use std::fmt;

/// Why a program could not be compiled, about which node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    /// The node the problem is about, with its display name.
    pub node: Option<(NodeId, String)>,
    /// What is wrong, in words a user can act on.
    pub reason: String,
}

impl CompileError {
    /// An error about node `id` of `graph`.
    pub fn at(graph: &Graph, id: NodeId, reason: &str) -> CompileError {
        CompileError { node: Some((id, graph.name(id).to_string())), reason: reason.to_string() }
    }

    /// An error about the options or the program as a whole.
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
