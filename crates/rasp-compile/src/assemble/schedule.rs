//! Which blocks are needed, and the sublayer each runs in.
//!
//! Liveness runs backwards from the readout: a block is kept when it writes
//! a direction something later reads. Placement runs forwards: each kept
//! block goes into the first sublayer of its kind after every direction it
//! reads is ready, so the model is as shallow as the program allows.

use crate::build::{BlockKind, Builder, OutputReadout};
use crate::residual::Dim;
use rasp_core::{Graph, NodeId, NodeKind};
use std::collections::{BTreeSet, HashMap};
use std::fmt;

/// Where in the network something is computed: the embedding, or the
/// attention or MLP sublayer of a layer. Ordered by execution.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Sublayer(i64);

impl Sublayer {
    /// Before every layer: what the token and position embeddings write.
    pub const EMBEDDING: Sublayer = Sublayer(-1);

    /// After every sublayer: sorts directions no kept block writes last.
    pub const NEVER: Sublayer = Sublayer(i64::MAX);

    /// The attention sublayer of `layer`.
    pub fn attention(layer: usize) -> Sublayer {
        Sublayer(2 * layer as i64)
    }

    /// The MLP sublayer of `layer`.
    pub fn mlp(layer: usize) -> Sublayer {
        Sublayer(2 * layer as i64 + 1)
    }

    fn is_attention(self) -> bool {
        self.0 >= 0 && self.0 % 2 == 0
    }

    /// The layer this sublayer belongs to (the embedding counts as layer 0).
    fn layer(self) -> usize {
        usize::try_from(self.0.max(0) / 2).unwrap_or(0)
    }

    /// The first attention sublayer that runs after this one.
    fn first_attention_after(self) -> Sublayer {
        if self.is_attention() { Sublayer(self.0 + 2) } else { Sublayer(self.0 + 1) }
    }

    /// The first MLP sublayer that runs after this one.
    fn first_mlp_after(self) -> Sublayer {
        if self.is_attention() { Sublayer(self.0 + 1) } else { Sublayer(self.0 + 2) }
    }

    /// The sublayer right after this one.
    fn next(self) -> Sublayer {
        Sublayer(self.0 + 1)
    }
}

impl fmt::Display for Sublayer {
    /// As model.json's `written_by` says it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Sublayer::EMBEDDING {
            write!(f, "embedding")
        } else {
            write!(f, "layer {} {}", self.layer(), if self.is_attention() { "attention" } else { "mlp" })
        }
    }
}

/// The directions a block reads and writes.
struct Access {
    reads: BTreeSet<Dim>,
    writes: BTreeSet<Dim>,
}

/// The kept blocks, where they run, and the directions the model needs.
pub struct Schedule {
    /// Per block (by [`crate::build::BlockId`]): its sublayer, or `None`
    /// when nothing reads what it writes.
    pub sublayers: Vec<Option<Sublayer>>,
    /// Every direction something reads (with `start` and `one`).
    pub live: BTreeSet<Dim>,
    /// The directions the embeddings write.
    pub embedded: BTreeSet<Dim>,
    /// Per live direction written by a kept block: the first sublayer that writes it.
    pub first_write: HashMap<Dim, Sublayer>,
    pub n_layers: usize,
    /// Why the model has more layers than the program's attention depth
    /// (the analysis's count): one line per head placed later than its
    /// depth and per layer without heads, naming the block it waits for.
    pub layer_notes: Vec<String>,
}

impl Schedule {
    /// Whether block `block` runs in `sublayer`.
    pub fn runs_in(&self, block: usize, sublayer: Sublayer) -> bool {
        self.sublayers.get(block).copied().flatten() == Some(sublayer)
    }
}

pub fn schedule(builder: &Builder, readout: &OutputReadout) -> Schedule {
    let access: Vec<Access> = builder.blocks.iter().map(|block| block_access(&block.kind)).collect();
    let n_blocks = access.len();

    let mut live: BTreeSet<Dim> = readout.rows.iter().flat_map(|r| r.iter().map(|&(d, _)| d)).collect();
    live.insert(Dim::START);
    live.insert(Dim::ONE);
    let mut kept = vec![false; n_blocks];
    for i in (0..n_blocks).rev() {
        if access[i].writes.iter().any(|d| live.contains(d)) {
            kept[i] = true;
            live.extend(access[i].reads.iter().copied());
        }
    }

    let embedded: BTreeSet<Dim> =
        builder.subspaces.iter().filter(|s| s.written_by.is_none()).flat_map(|s| s.dims.iter().copied()).collect();
    let mut ready: HashMap<Dim, Sublayer> = embedded.iter().map(|&d| (d, Sublayer::EMBEDDING)).collect();
    let mut sublayers: Vec<Option<Sublayer>> = vec![None; n_blocks];
    for i in 0..n_blocks {
        if !kept[i] {
            continue;
        }
        let inputs_ready = access[i]
            .reads
            .iter()
            .map(|d| ready.get(d).copied().unwrap_or(Sublayer::EMBEDDING))
            .max()
            .unwrap_or(Sublayer::EMBEDDING);
        let sublayer = match builder.blocks[i].after {
            Some(head) => sublayers[head.0].unwrap_or(Sublayer::EMBEDDING).next(),
            None => match builder.blocks[i].kind {
                BlockKind::Head(_) => inputs_ready.first_attention_after(),
                BlockKind::Mlp(_) => inputs_ready.first_mlp_after(),
            },
        };
        sublayers[i] = Some(sublayer);
        for &d in &access[i].writes {
            let e = ready.entry(d).or_insert(sublayer);
            *e = (*e).max(sublayer);
        }
    }
    let n_layers = sublayers.iter().flatten().max().map_or(0, |last| last.layer() + 1);
    let layer_notes = layer_notes(builder, &access, &sublayers, &ready_after(builder, &access, &sublayers), n_layers);

    let mut first_write: HashMap<Dim, Sublayer> = HashMap::new();
    for (i, sublayer) in sublayers.iter().enumerate() {
        let Some(sublayer) = *sublayer else { continue };
        for &d in &access[i].writes {
            let e = first_write.entry(d).or_insert(sublayer);
            *e = (*e).min(sublayer);
        }
    }
    Schedule { sublayers, live, embedded, first_write, n_layers, layer_notes }
}

fn block_access(kind: &BlockKind) -> Access {
    match kind {
        BlockKind::Head(h) => Access {
            reads: h
                .qk
                .iter()
                .flat_map(|entry| [entry.query, entry.key])
                .chain(h.ov.iter().map(|entry| entry.source))
                .collect(),
            writes: h.ov.iter().map(|entry| entry.target).collect(),
        },
        BlockKind::Mlp(neurons) => Access {
            reads: neurons.iter().flat_map(|n| n.input.iter().map(|&(d, _)| d)).collect(),
            writes: neurons.iter().flat_map(|n| n.output.iter().map(|&(d, _)| d)).collect(),
        },
    }
}

/// Per direction, the kept block that writes it last (the one its readers wait for).
fn ready_after(builder: &Builder, access: &[Access], sublayers: &[Option<Sublayer>]) -> HashMap<Dim, usize> {
    let mut writer: HashMap<Dim, usize> = HashMap::new();
    for (i, sublayer) in sublayers.iter().enumerate() {
        if sublayer.is_none() || i >= builder.blocks.len() {
            continue;
        }
        for &d in &access[i].writes {
            let e = writer.entry(d).or_insert(i);
            if sublayers[*e] < *sublayer {
                *e = i;
            }
        }
    }
    writer
}

/// The attention depth of every aggregate `root`'s graph holds: 1 + the
/// largest depth of the aggregates its selector and values read through
/// elementwise maps and selectors (the analysis's greedy rule).
pub fn attention_depths(graph: &Graph, nodes: &[NodeId]) -> HashMap<NodeId, usize> {
    let mut depth: HashMap<NodeId, usize> = HashMap::new();
    // Nodes come in id order, which is topological.
    let mut sorted = nodes.to_vec();
    sorted.sort();
    for id in sorted {
        let below = graph.kind(id).inputs().iter().map(|i| depth.get(i).copied().unwrap_or(0)).max().unwrap_or(0);
        // Only an aggregate is an attention layer.
        let own = if graph.kind(id).as_aggregate().is_some() { below + 1 } else { below };
        depth.insert(id, own);
    }
    depth
}

/// Lines saying why a head runs later than its attention depth, and why a
/// layer has no heads: the block each waits for, and what kind of block
/// that is.
fn layer_notes(
    builder: &Builder,
    access: &[Access],
    sublayers: &[Option<Sublayer>],
    writer: &HashMap<Dim, usize>,
    n_layers: usize,
) -> Vec<String> {
    let graph = builder.planner.graph;
    let depths = attention_depths(graph, &builder.planner.nodes);
    // The latest-placed block among those writing what block `i` reads.
    let waits_for = |i: usize| -> Option<usize> {
        access[i].reads.iter().filter_map(|d| writer.get(d).copied()).filter(|&w| w != i).max_by_key(|&w| sublayers[w])
    };
    let why = |w: usize| -> String {
        let block = &builder.blocks[w];
        let place =
            sublayers[w].map_or_else(|| "the embedding".to_string(), |s| format!("the MLP of layer {}", s.layer() + 1));
        match &block.kind {
            BlockKind::Mlp(_) if block.name.contains("classes of") || block.name.contains(" where not ") => format!(
                "the feature `{}` ({place}): its selector compares several sources at once (or masks one by \
                 another select), which a score over the sum of their embeddings cannot give exactly with \
                 uniform weights, so an MLP forms the products first",
                block.name
            ),
            BlockKind::Mlp(_) => format!(
                "`{}` ({place}), which the MLP it feeds could not be fused with: together they would read more \
                 combinations of scalar values than one float32 projection tells apart ({}) or more input \
                 combinations than one MLP may tabulate ({})",
                block.name,
                crate::mlp::MAX_SCALAR_COMBINATIONS,
                crate::plan::MAX_MLP_DOMAIN
            ),
            BlockKind::Head(_) => format!("`{}` ({place})", block.name),
        }
    };
    // How many layers later than its depth each aggregate's head runs; a
    // head is noted only when it adds to the delay it inherits.
    let mut offset: HashMap<NodeId, usize> = HashMap::new();
    for (i, block) in builder.blocks.iter().enumerate() {
        if let (BlockKind::Head(head), Some(sublayer)) = (&block.kind, sublayers[i]) {
            let depth = depths.get(&head.aggregate).copied().unwrap_or(0);
            offset.insert(head.aggregate, (sublayer.layer() + 1).saturating_sub(depth));
        }
    }
    let mut inherited: HashMap<NodeId, usize> = HashMap::new();
    let mut sorted = builder.planner.nodes.clone();
    sorted.sort();
    for &id in &sorted {
        let from_inputs = graph
            .kind(id)
            .inputs()
            .iter()
            .map(|i| match graph.kind(*i) {
                NodeKind::Aggregate { .. } => {
                    offset.get(i).copied().unwrap_or(0).max(inherited.get(i).copied().unwrap_or(0))
                }
                _ => inherited.get(i).copied().unwrap_or(0),
            })
            .max()
            .unwrap_or(0);
        inherited.insert(id, from_inputs);
    }
    let mut notes = Vec::new();
    for (i, block) in builder.blocks.iter().enumerate() {
        let (BlockKind::Head(head), Some(sublayer)) = (&block.kind, sublayers[i]) else { continue };
        let depth = depths.get(&head.aggregate).copied().unwrap_or(0);
        let layer = sublayer.layer() + 1;
        let own = layer.saturating_sub(depth);
        if own > inherited.get(&head.aggregate).copied().unwrap_or(0)
            && let Some(w) = waits_for(i)
        {
            notes.push(format!(
                "layer {layer}: head `{}` has attention depth {depth} but waits for {}",
                head.computes,
                why(w)
            ));
        }
    }
    for layer in 0..n_layers {
        let has_heads = builder
            .blocks
            .iter()
            .enumerate()
            .any(|(i, b)| matches!(b.kind, BlockKind::Head(_)) && sublayers[i] == Some(Sublayer::attention(layer)));
        if has_heads {
            continue;
        }
        for (i, block) in builder.blocks.iter().enumerate() {
            if sublayers[i] == Some(Sublayer::mlp(layer))
                && block.after.is_none()
                && let Some(w) = waits_for(i)
                && sublayers[w].is_some_and(|s| !s.is_attention() && s.layer() + 1 == layer)
                && matches!(block.kind, BlockKind::Mlp(_))
            {
                notes.push(format!("layer {}: no heads; its MLP `{}` waits for {}", layer + 1, block.name, why(w)));
            }
        }
    }
    notes
}
