//! Training, trained attention and the table runs (the `train` feature).

use super::{AttentionArgs, InputsArg, TableArgs, TrainArgs};
use crate::files::say;
use rasp::parse_vocab;
use rasp_train::table::{self, Record, TASKS};
use rasp_train::{InputKind, Metrics, Progress, TargetProgram, TaskSpec, TrainConfig};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// Runs FILE and finds the s-op NAME in it.
fn load_program(file: &Path, sop: &str) -> Result<(rasp::Program, rasp::NodeId), String> {
    crate::program::load_sop(file, sop, "training").map_err(|e| e.to_string())
}

/// Prints training progress on stderr: one \r-updated line on a terminal,
/// a line per evaluation otherwise.
fn progress_printer(label: String) -> impl FnMut(&Progress) {
    let tty = std::io::stderr().is_terminal();
    let mut last_val: Option<f64> = None;
    move |p: &Progress| {
        let evaluated = p.val_accuracy.is_some();
        last_val = p.val_accuracy.or(last_val);
        if !(evaluated || (tty && p.step.is_multiple_of(10))) {
            return;
        }
        let val = match last_val {
            Some(v) => format!("{:.2}% (best {:.2}%)", 100.0 * v, 100.0 * p.best_val_accuracy),
            None => "–".to_string(),
        };
        let line = format!(
            "{label}step {}/{}  loss {:.4}  val acc {val}  lr {:.1e}  {:.0} s",
            p.step, p.max_steps, p.loss, p.lr, p.seconds
        );
        let mut err = std::io::stderr().lock();
        let _ = if tty { write!(err, "\r{} {line:<100}", bar(p.step, p.max_steps)) } else { writeln!(err, "{line}") };
        let _ = err.flush();
    }
}

/// `[#####...............]`: the share of the step cap done (a run that
/// plateaus stops before the bar fills).
fn bar(step: usize, max_steps: usize) -> String {
    const WIDTH: usize = 20;
    let done = (step.min(max_steps) * WIDTH).checked_div(max_steps).unwrap_or(WIDTH);
    format!("[{}{}]", "#".repeat(done), ".".repeat(WIDTH - done))
}

fn end_progress() {
    if std::io::stderr().is_terminal() {
        eprintln!();
    }
}

fn summary(m: &Metrics) -> String {
    let mut out = format!(
        "{}: (L, H, d) = ({}, {}, {}), {} parameters; compiled size {:?}\n\
         token accuracy {:.2}%, sequence accuracy {:.2}% on {} test inputs\n\
         {} steps ({}; best at {}), {:.1} min, {:.0} ms/step\n",
        m.task,
        m.model.layers,
        m.model.heads,
        m.model.d_model,
        m.params,
        m.compiled_heads_per_layer,
        100.0 * m.token_accuracy,
        100.0 * m.sequence_accuracy,
        m.config.test_inputs,
        m.steps,
        m.stop,
        m.best_step,
        m.seconds / 60.0,
        m.ms_per_step
    );
    for h in &m.head_matches {
        out.push_str(&match (h.best_head, h.distance) {
            (Some(b), Some(d)) => format!(
                "  program layer {} head {} ({}): closest trained head {}, distance {d:.3}\n",
                h.layer,
                h.index + 1,
                h.selector,
                b + 1
            ),
            _ => format!(
                "  program layer {} head {} ({}): no trained layer {}\n",
                h.layer,
                h.index + 1,
                h.selector,
                h.layer
            ),
        });
    }
    out
}

pub(super) fn run_train(args: TrainArgs) -> ExitCode {
    let (loaded, root) = match load_program(&args.file, &args.sop) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("rasp: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mask = args.mask.mask();
    let program = TargetProgram::new(loaded.graph(), root, args.bos.is_some()).with_mask(mask);
    let task = TaskSpec {
        vocab: parse_vocab(&args.vocab),
        min_len: args.min_len,
        max_len: args.max_len,
        bos: args.bos.clone(),
        inputs: match args.inputs {
            InputsArg::Uniform => InputKind::Uniform,
            InputsArg::Dyck => InputKind::Dyck,
        },
    };
    let layers = args.layers.unwrap_or(program.layers);
    let heads = args.heads.unwrap_or(program.max_heads().max(1));
    if layers == 0 {
        eprintln!("rasp: {} needs no attention layer; give --layers to train anyway", args.sop);
        return ExitCode::FAILURE;
    }
    if let Err(e) = rasp_train::check_output_dir(&args.output) {
        eprintln!("rasp: cannot write the output directory: {e}");
        return ExitCode::FAILURE;
    }
    let mut config = TrainConfig::new(task, layers, heads);
    config.d_model = args.d_model;
    config.max_steps = args.steps;
    config.batch = args.batch;
    config.lr = args.lr;
    config.eval_every = args.eval_every;
    config.patience = args.patience;
    config.seed = args.seed;
    config.attn_supervision = args.attn_supervision;
    config.causal = mask.is_causal();
    config.prefix_len = mask.prefix_len();
    let resume = match checkpoint_to_resume(&args.output, args.resume) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rasp: {e}");
            return ExitCode::FAILURE;
        }
    };
    let interrupt = interrupt_flag();
    let control =
        rasp_train::TrainControl { checkpoint_dir: Some(&args.output), resume, interrupt: interrupt.as_deref() };
    let result = rasp_train::train_with(&program, &config, control, &mut progress_printer(String::new()));
    end_progress();
    let (model, mut metrics) = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rasp: {e}");
            return ExitCode::FAILURE;
        }
    };
    metrics.file = args.file.display().to_string();
    if let Err(e) = rasp_train::save(&args.output, &model, &metrics) {
        eprintln!("rasp: {e}");
        return ExitCode::FAILURE;
    }
    let mut written = format!("wrote {0}/model.safetensors and {0}/metrics.json\n", args.output.display());
    if metrics.stop == "interrupted" {
        written.push_str(&format!(
            "interrupted at step {}: the best parameters so far are saved; the same command with --resume \
             continues from {}\n",
            metrics.steps,
            rasp_train::Checkpoint::path(&args.output).display()
        ));
    } else if let Err(e) = rasp_train::Checkpoint::remove(&args.output) {
        eprintln!("rasp: {e}");
    }
    crate::files::say_then_exit(&format!("{}{written}", summary(&metrics)))
}

/// The checkpoint `--resume` continues, or an error: `--resume` without a
/// checkpoint, or a checkpoint that a fresh run would overwrite.
fn checkpoint_to_resume(dir: &Path, resume: bool) -> Result<Option<rasp_train::Checkpoint>, String> {
    let checkpoint = rasp_train::Checkpoint::read(dir).map_err(|e| e.to_string())?;
    let path = rasp_train::Checkpoint::path(dir);
    match (checkpoint, resume) {
        (Some(c), true) => {
            eprintln!("resuming from {} at step {}", path.display(), c.steps());
            Ok(Some(c))
        }
        (None, true) => Err(format!("--resume: there is no checkpoint {}", path.display())),
        (Some(c), false) => Err(format!(
            "{} holds an unfinished run (step {}): add --resume to continue it, or remove the file to start again",
            path.display(),
            c.steps()
        )),
        (None, false) => Ok(None),
    }
}

/// A flag the first Ctrl-C sets (the run then stops after its step and
/// saves); a second Ctrl-C exits at once. None if no handler could be set.
fn interrupt_flag() -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let flag = std::sync::Arc::new(AtomicBool::new(false));
    let handler_flag = flag.clone();
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("\nrasp: interrupted; stopping after this step (Ctrl-C again to quit at once)");
    });
    installed.ok().map(|()| flag)
}

/// `rasp attention` on a directory written by `rasp train`.
pub(super) fn trained_attention(args: &AttentionArgs) -> Result<String, String> {
    let comparison = rasp::TrainedAttention::compute(&args.dir, args.file.as_deref(), &args.input, args.samples)
        .map_err(|e| e.to_string())?;
    crate::files::write_atomic(&args.output, comparison.to_svg().as_bytes())?;
    Ok(format!("{}wrote {}\n", comparison.report(), args.output.display()))
}

pub(super) fn run_table(args: TableArgs) -> ExitCode {
    match table_cmd(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rasp: {e}");
            ExitCode::FAILURE
        }
    }
}

fn read_records(path: &Path) -> Result<Vec<Record>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => table::parse_records(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

fn table_cmd(args: &TableArgs) -> Result<(), String> {
    let records = read_records(&args.output)?;
    if args.markdown {
        return say(&table::markdown(&records));
    }
    let wanted: Option<Vec<String>> = args.tasks.as_ref().map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    if let Some(w) = &wanted
        && let Some(bad) = w.iter().find(|n| !TASKS.iter().any(|t| t.name == n.as_str()))
    {
        return Err(format!(
            "unknown task {bad:?}; the tasks are {}",
            TASKS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
        ));
    }
    let done: std::collections::BTreeSet<_> = records.iter().map(Record::key).collect();
    let mut pending = Vec::new();
    for task in TASKS.iter().filter(|t| wanted.as_ref().is_none_or(|w| w.iter().any(|n| n == t.name))) {
        for size in task.sizes {
            for seed in table::SEEDS {
                if args.seeds.as_ref().is_some_and(|only| !only.contains(&seed)) {
                    continue;
                }
                if !done.contains(&table::key(task, size, seed, args.max_steps)) {
                    pending.push((task, size, seed));
                }
            }
        }
    }
    let limit = args.limit.unwrap_or(usize::MAX);
    if args.dry_run {
        for (task, size, seed) in pending.iter().take(limit) {
            say(&format!(
                "{} ({}, {}, {}) seed {seed}: {}\n",
                task.name, size.layers, size.heads, size.d_model, size.role
            ))?;
        }
        return say(&format!("{} runs to do\n", pending.len()));
    }
    for (n, (task, size, seed)) in pending.iter().take(limit).enumerate() {
        // Another invocation (say one per seed, or per task) may have finished
        // this run since the list was made: read the results again.
        if read_records(&args.output)?.iter().any(|r| r.key() == table::key(task, size, *seed, args.max_steps)) {
            say(&format!(
                "{} ({}, {}, {}) seed {seed}: already in {}, skipped\n",
                task.name,
                size.layers,
                size.heads,
                size.d_model,
                args.output.display()
            ))?;
            continue;
        }
        let file = args.examples.join(task.file);
        let (loaded, root) = load_program(&file, task.sop)?;
        let program = TargetProgram::new(loaded.graph(), root, task.bos);
        let spec = TaskSpec {
            vocab: task.vocab(),
            min_len: 1,
            max_len: table::MAX_LEN,
            bos: task.bos.then(|| table::BOS.to_string()),
            inputs: task.inputs(),
        };
        let mut config = TrainConfig::new(spec, size.layers, size.heads);
        config.d_model = size.d_model;
        config.max_steps = args.max_steps;
        config.seed = *seed;
        let label = format!(
            "[{}/{}] {} ({}, {}, {}) seed {seed}: ",
            n + 1,
            pending.len().min(limit),
            task.name,
            size.layers,
            size.heads,
            size.d_model
        );
        let result = rasp_train::train(&program, &config, &mut progress_printer(label.clone()));
        end_progress();
        let (model, mut metrics) = result.map_err(|e| format!("{}: {e}", task.name))?;
        metrics.file = file.display().to_string();
        if let Some(dir) = &args.models {
            let sub = dir.join(format!("{}-{}-{}-{}-{seed}", task.name, size.layers, size.heads, size.d_model));
            rasp_train::save(&sub, &model, &metrics).map_err(|e| e.to_string())?;
        }
        let record = Record::new(task, size, &metrics);
        let line = record.to_json_line();
        // Appended, not rewritten: results already there stay whatever
        // happens to this run. The directory is created as for every output.
        if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&args.output)
            .map_err(|e| format!("{}: {e}", args.output.display()))?;
        writeln!(f, "{line}").map_err(|e| format!("{}: {e}", args.output.display()))?;
        say(&format!(
            "{label}token {:.2}%, sequence {:.2}%, {} steps ({}), {:.1} min\n",
            100.0 * metrics.token_accuracy,
            100.0 * metrics.sequence_accuracy,
            metrics.steps,
            metrics.stop,
            metrics.seconds / 60.0
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn progress_bar() {
        assert_eq!(bar(0, 40_000), "[....................]");
        assert_eq!(bar(10_000, 40_000), "[#####...............]");
        assert_eq!(bar(40_000, 40_000), "[####################]");
        assert_eq!(bar(50, 0), "[####################]");
    }
}
