//! The reduced Table 1 (docs/experiments.md): which runs, how their
//! results are recorded (one JSON line per finished run, so the table can be
//! built over several sessions), and the markdown table.

use crate::data::InputKind;
use crate::train::Metrics;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A task of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableTask {
    /// The name in the table and in `--tasks`.
    pub name: &'static str,
    /// The example program, a file name in `examples/`.
    pub file: &'static str,
    /// The s-op of that program the model learns.
    pub sop: &'static str,
    /// Whether inputs start with the BOS token [`BOS`] (the programs
    /// written for BOS expect it).
    pub bos: bool,
    /// Vocabulary: the first 16 lowercase letters, or Dyck-1's brackets and
    /// a neutral token.
    pub dyck: bool,
    /// The sizes it is trained at, the compiled size first.
    pub sizes: &'static [TableSize],
}

/// One size to train a task at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSize {
    /// The model's layers.
    pub layers: usize,
    /// The model's heads per layer.
    pub heads: usize,
    /// The model's width.
    pub d_model: usize,
    /// "compiled", "one layer fewer", ...
    pub role: &'static str,
    /// The paper's figure for this row, with its evidence mark.
    pub paper: &'static str,
}

const fn size(layers: usize, heads: usize, d_model: usize, role: &'static str, paper: &'static str) -> TableSize {
    TableSize { layers, heads, d_model, role, paper }
}

/// The BOS token of the tasks that use one (a character outside every
/// vocabulary).
pub const BOS: &str = "§";
/// The longest input of every task, BOS not counted.
pub const MAX_LEN: usize = 16;
/// Every row is trained once per seed; the table reports the best.
pub const SEEDS: [u64; 2] = [0, 1];

/// The rows, cheapest task first within the order of value of
/// experiments.md §2.2.
pub const TASKS: &[TableTask] = &[
    TableTask {
        name: "hist_bos",
        file: "histogram.rasp",
        sop: "hist_bos",
        bos: true,
        dyck: false,
        sizes: &[size(1, 1, 64, "compiled", "100% [recall]")],
    },
    TableTask {
        name: "reverse",
        file: "reverse.rasp",
        sop: "reverse",
        bos: false,
        dyck: false,
        sizes: &[
            size(2, 1, 64, "compiled", "99.99% [recall]"),
            size(1, 1, 64, "one layer fewer", "23.1% [2nd]"),
            size(1, 2, 128, "one layer fewer, 2× heads and width", "41.2% [2nd]"),
        ],
    },
    TableTask {
        name: "hist_nobos",
        file: "histogram.rasp",
        sop: "hist",
        bos: false,
        dyck: false,
        sizes: &[
            size(1, 2, 64, "compiled", "99.97% [recall]"),
            size(1, 1, 64, "one head fewer", "lower, no number [recall]"),
        ],
    },
    TableTask {
        name: "double_hist",
        file: "double_histogram.rasp",
        sop: "double_hist_bos",
        bos: true,
        dyck: false,
        sizes: &[
            size(2, 2, 64, "compiled", "99.58% [recall] / 99.0% [2nd]"),
            size(1, 2, 64, "one layer fewer", "40.5% (layer or head) [2nd]"),
            size(2, 1, 64, "one head fewer", "40.5% (layer or head) [2nd]"),
        ],
    },
    TableTask {
        name: "sort",
        file: "sort.rasp",
        sop: "sort_bos",
        bos: true,
        dyck: false,
        sizes: &[size(2, 1, 64, "compiled", "99.96% [recall]"), size(1, 1, 64, "one layer fewer", "about 99% [2nd]")],
    },
    TableTask {
        name: "dyck1",
        file: "dyck.rasp",
        sop: "dyck1",
        bos: false,
        dyck: true,
        sizes: &[
            size(2, 1, 64, "compiled", "99.67% [recall]"),
            size(1, 1, 64, "one layer fewer", "lower, no number [recall]"),
        ],
    },
];

impl TableTask {
    /// The task's vocabulary: `( ) a` for Dyck tasks, else the letters
    /// `a` to `p`.
    pub fn vocab(&self) -> Vec<String> {
        if self.dyck {
            ["(", ")", "a"].iter().map(|s| s.to_string()).collect()
        } else {
            ('a'..='p').map(|c| c.to_string()).collect()
        }
    }

    /// How the task's inputs are drawn: the Dyck mix or uniform.
    pub fn inputs(&self) -> InputKind {
        if self.dyck { InputKind::Dyck } else { InputKind::Uniform }
    }
}

/// One finished run, as a line of the results file.
///
/// The fields are those of [`TableTask`], [`TableSize`] and the run's
/// [`Metrics`] of the same names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`TableTask::name`]
    pub task: String,
    /// [`TableSize::role`]
    pub role: String,
    /// [`TableSize::layers`]
    pub layers: usize,
    /// [`TableSize::heads`]
    pub heads: usize,
    /// [`TableSize::d_model`]
    pub d_model: usize,
    /// The run's seed.
    pub seed: u64,
    /// [`Metrics::params`]
    pub params: usize,
    /// [`Metrics::token_accuracy`]
    pub token_accuracy: f64,
    /// [`Metrics::sequence_accuracy`]
    pub sequence_accuracy: f64,
    /// [`Metrics::val_token_accuracy`]
    pub val_token_accuracy: f64,
    /// [`Metrics::steps`]
    pub steps: usize,
    /// [`Metrics::best_step`]
    pub best_step: usize,
    /// [`Metrics::stop`]
    pub stop: String,
    /// [`Metrics::seconds`]
    pub seconds: f64,
    /// [`Metrics::ms_per_step`]
    pub ms_per_step: f64,
    /// The configured cap on steps.
    pub max_steps: usize,
    /// Mean total-variation distance of each program head (in the model's
    /// layers) to its closest trained head; see `attention`.
    pub head_distances: Vec<Option<f64>>,
}

impl Record {
    /// The record of a finished run of `task` at `size`.
    pub fn new(task: &TableTask, size: &TableSize, m: &Metrics) -> Record {
        Record {
            task: task.name.to_string(),
            role: size.role.to_string(),
            layers: size.layers,
            heads: size.heads,
            d_model: size.d_model,
            seed: m.config.seed,
            params: m.params,
            token_accuracy: m.token_accuracy,
            sequence_accuracy: m.sequence_accuracy,
            val_token_accuracy: m.val_token_accuracy,
            steps: m.steps,
            best_step: m.best_step,
            stop: m.stop.clone(),
            seconds: m.seconds,
            ms_per_step: m.ms_per_step,
            max_steps: m.config.max_steps,
            head_distances: m.head_matches.iter().map(|h| h.distance).collect(),
        }
    }

    /// The record as one line of JSON (no newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What identifies a run: a finished run with the same key is skipped.
    /// The step cap is part of it, so a short trial run (`--max-steps 10`)
    /// never stands in for the real one.
    pub fn key(&self) -> RunKey {
        (self.task.clone(), self.layers, self.heads, self.d_model, self.seed, self.max_steps)
    }
}

/// What identifies a run ([`Record::key`]): task, layers, heads, width, seed
/// and step cap.
pub type RunKey = (String, usize, usize, usize, u64, usize);

/// The key ([`Record::key`]) of the run of `task` at `size` with `seed` and
/// at most `max_steps` steps.
pub fn key(task: &TableTask, size: &TableSize, seed: u64, max_steps: usize) -> RunKey {
    (task.name.to_string(), size.layers, size.heads, size.d_model, seed, max_steps)
}

/// Reads a results file's records (blank lines ignored; a bad line is an
/// error naming its number).
pub fn parse_records(text: &str) -> Result<Vec<Record>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The markdown table: one line per task and size, in the order of
/// [`TASKS`], the best seed first (as the paper reports the best run), with
/// every seed's token accuracy.
pub fn markdown(records: &[Record]) -> String {
    // Of several runs of one size and seed (trial runs with fewer steps,
    // then the real one), the one allowed the most steps counts.
    let mut longest: BTreeMap<(String, usize, usize, usize, u64), &Record> = BTreeMap::new();
    for r in records {
        let run = longest.entry((r.task.clone(), r.layers, r.heads, r.d_model, r.seed)).or_insert(r);
        if r.max_steps > run.max_steps {
            *run = r;
        }
    }
    let mut by_key: BTreeMap<(String, usize, usize, usize), Vec<&Record>> = BTreeMap::new();
    for r in longest.into_values() {
        by_key.entry((r.task.clone(), r.layers, r.heads, r.d_model)).or_default().push(r);
    }
    let mut out = String::from(
        "| Task | Size (L, H, d) | Role | Params | Token acc. (best) | Sequence acc. (best) | Token acc. per seed | Steps (best) | Minutes per run | Attention distance | Paper |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for task in TASKS {
        for s in task.sizes {
            let Some(runs) = by_key.get(&(task.name.to_string(), s.layers, s.heads, s.d_model)) else {
                out.push_str(&format!(
                    "| {} | ({}, {}, {}) | {} | | not run yet | | | | | | {} |\n",
                    task.name, s.layers, s.heads, s.d_model, s.role, s.paper
                ));
                continue;
            };
            let mut runs = runs.clone();
            runs.sort_by_key(|r| r.seed);
            let best = runs
                .iter()
                .max_by(|a, b| a.token_accuracy.total_cmp(&b.token_accuracy).then(b.seed.cmp(&a.seed)))
                .copied()
                .unwrap_or(runs[0]);
            let per_seed: Vec<String> =
                runs.iter().map(|r| format!("{} (seed {})", pct(r.token_accuracy), r.seed)).collect();
            let minutes: Vec<String> = runs.iter().map(|r| format!("{:.1}", r.seconds / 60.0)).collect();
            let distances: Vec<String> =
                best.head_distances.iter().map(|d| d.map_or("–".to_string(), |d| format!("{d:.2}"))).collect();
            out.push_str(&format!(
                "| {} | ({}, {}, {}) | {} | {} | **{}** | {} | {} | {} | {} | {} | {} |\n",
                task.name,
                s.layers,
                s.heads,
                s.d_model,
                s.role,
                best.params,
                pct(best.token_accuracy),
                pct(best.sequence_accuracy),
                per_seed.join(", "),
                best.steps,
                minutes.join(", "),
                distances.join(" / "),
                s.paper
            ));
        }
    }
    out
}
