//! Which blocks are needed, and the sublayer each runs in.
//!
//! Liveness runs backwards from the readout: a block is kept when it writes
//! a direction something later reads. Placement runs forwards: each kept
//! block goes into the first sublayer of its kind after every direction it
//! reads is ready, so the model is as shallow as the program allows.

use crate::build::{BlockKind, Builder, OutputReadout};
use crate::residual::Dim;
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

    let mut first_write: HashMap<Dim, Sublayer> = HashMap::new();
    for (i, sublayer) in sublayers.iter().enumerate() {
        let Some(sublayer) = *sublayer else { continue };
        for &d in &access[i].writes {
            let e = first_write.entry(d).or_insert(sublayer);
            *e = (*e).min(sublayer);
        }
    }
    Schedule { sublayers, live, embedded, first_write, n_layers }
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
