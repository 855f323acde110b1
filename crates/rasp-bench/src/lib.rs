//! rasp-bench: how fast the plain evaluator (the oracle) and the fast engine
//! (`rasp_core::BatchEvaluator`, and `FastEvaluator` behind the REPL) run the
//! library's sort and histogram and three example programs, one input at a
//! time, through the REPL and in batches, printed as markdown tables. Behind `rasp bench`; also a binary
//! of its own (`cargo run --release -p rasp-bench -- --quick`).
//!
//! Input: options (sizes, repeats, batch size, strategy). Output: the
//! tables. Inputs are random strings from a seeded generator, so runs time
//! the same inputs. Peak memory is measured in a fresh process per case
//! (this program run again with a hidden option): the allocator keeps freed
//! memory, so one process's peak would carry over from case to case.

#![warn(missing_docs)]

use clap::Args;
use rasp_core::{BatchEvaluator, BatchStrategy};
use rasp_core::{Evaluator, Graph, NodeId, Value};
use rasp_lang::{NoFiles, Session};
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

const REVERSE: &str = include_str!("../../../examples/reverse.rasp");
const DYCK: &str = include_str!("../../../examples/dyck.rasp");
const MOST_FREQUENT: &str = include_str!("../../../examples/most_frequent.rasp");

const ABOUT: &str = "Time the evaluators on library and example programs; print a markdown table";

const LONG_ABOUT: &str = "\
Time the evaluators on library and example programs; print a markdown table.

Programs: sort = sort(tokens, tokens) and hist = selector_width(select(tokens,
tokens, ==)) from the library; reverse, dyck2 and sort_by_most_freq_bos from
examples/. Inputs are random strings over a small alphabet from a seeded
generator, so every run times the same inputs.

For every length n: the time per input of the plain evaluator (the oracle,
up to --plain-max) and of the fast engine (median of repeats; up to 256
positions the fast engine keeps what depends on the length alone from one
input to the next, as in a batch, so repeats time the rest), and the peak
resident memory (VmHWM) of a fresh process that builds the programs and
evaluates one input. Then inputs per second on batches of length-16 inputs:
plain, fast on one thread, and fast batches over all cores, with the CPU
time the batch took per second of wall time (2.0: two cores were ours
throughout; less when other processes hold the cores) and the inputs per
second of that CPU time.

The REPL table (--tables repl, sizes --repl-sizes) applies sort and hist
to one random word through a session, as `rasp` does when they are typed
(parsing and printing included), with the engine the REPL uses and with
the plain one forced, and through the API (`Session::evaluate`, which the
facade's `Program::run` calls); with the CPU time of each (a busy machine
inflates wall time, not CPU time) and the peak memory of a fresh process.";

/// The longest input benchmarked: the engine's input limit.
const MAX_BENCH_LEN: u64 = rasp_core::MAX_INPUT_LEN as u64;

/// A count between `min` and `max`, so that a typo cannot ask for more
/// time or memory than the machine has (the largest size is the
/// interpreter's input limit).
fn count(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=max)
}

/// The options of `rasp bench` (and of the `rasp-bench` binary), parsed by
/// clap: flatten it into a command, then pass it to [`run`].
#[derive(Args, Debug)]
#[command(about = ABOUT, long_about = LONG_ABOUT)]
pub struct BenchArgs {
    /// Input lengths, comma-separated [default: 10,100,1000,10000,100000;
    /// with --quick up to 10000].
    #[arg(long, value_delimiter = ',', value_name = "N,...", value_parser = count(1, MAX_BENCH_LEN))]
    pub sizes: Option<Vec<usize>>,
    /// Fewer repeats, smaller batches and sizes up to 10000: a few seconds.
    #[arg(long)]
    pub quick: bool,
    /// The longest input the plain evaluator is timed on (it builds n × n
    /// selector matrices).
    #[arg(long, default_value_t = 1000, value_name = "N", value_parser = count(1, 100_000))]
    pub plain_max: usize,
    /// How many length-16 inputs per batch [default: 200000; --quick 20000].
    #[arg(long, value_name = "COUNT", value_parser = count(1, 10_000_000))]
    pub batch: Option<usize>,
    /// How the fast engine reads selectors: auto, structured (counting)
    /// or rows (bit rows).
    #[arg(long, default_value = "auto", value_parser = ["auto", "structured", "rows"])]
    pub strategy: String,
    /// Input lengths of the REPL table (sort and hist applied through a
    /// session, as `rasp` runs them), comma-separated [default:
    /// 10,100,300,1000,10000,100000,1000000; with --quick up to 10000].
    #[arg(long, value_delimiter = ',', value_name = "N,...", value_parser = count(1, MAX_BENCH_LEN))]
    pub repl_sizes: Option<Vec<usize>>,
    /// Only these tables: evaluators, repl, batch [default: all three].
    #[arg(long, value_delimiter = ',', value_name = "NAME,...", value_parser = ["evaluators", "repl", "batch"])]
    pub tables: Option<Vec<String>>,
    /// Only these programs: sort, hist, reverse, dyck2, most_freq.
    #[arg(long, value_delimiter = ',', value_name = "NAME,...")]
    pub programs: Option<Vec<String>>,
    /// Skip the memory measurements (they start a process per case).
    #[arg(long)]
    pub no_memory: bool,
    /// Internal: `PROGRAM:N:ENGINE` (engine plain, fast or none) evaluates
    /// one input and prints the process's peak resident memory in bytes.
    #[arg(long, hide = true, value_name = "CASE")]
    pub memory_case: Option<String>,
}

struct Program {
    name: &'static str,
    root: NodeId,
    prefix: &'static str,
    alphabet: &'static str,
}

/// xorshift64*: seeded, so every run times the same inputs.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

fn random_input(rng: &mut Rng, program: &Program, n: usize) -> String {
    let chars: Vec<char> = program.alphabet.chars().collect();
    let body = n.saturating_sub(program.prefix.chars().count());
    program.prefix.chars().chain((0..body).map(|_| chars[rng.below(chars.len())])).collect()
}

fn values(s: &str) -> Vec<Value> {
    s.chars().map(|c| Value::str(c.encode_utf8(&mut [0; 4]))).collect()
}

/// Builds the programs in one session.
fn programs(session: &mut Session) -> Result<Vec<Program>, String> {
    for (file, text) in [("reverse.rasp", REVERSE), ("dyck.rasp", DYCK), ("most_frequent.rasp", MOST_FREQUENT)] {
        session.run_file(file, text);
    }
    session.feed_line("bench_sort = sort(tokens, tokens);");
    session.feed_line("bench_hist = selector_width(select(tokens, tokens, ==));");
    session.take_output();
    let node = |name: &str| match session.lookup(name) {
        Some(Value::Sop(id)) => Ok(id),
        _ => Err(format!("{name} is not defined")),
    };
    let letters = "abcdefghij";
    Ok(vec![
        Program { name: "sort", root: node("bench_sort")?, prefix: "", alphabet: letters },
        Program { name: "hist", root: node("bench_hist")?, prefix: "", alphabet: letters },
        Program { name: "reverse", root: node("reverse")?, prefix: "", alphabet: letters },
        Program { name: "dyck2", root: node("dyck2")?, prefix: "", alphabet: "(){}" },
        Program { name: "most_freq", root: node("sort_by_most_freq_bos")?, prefix: "§", alphabet: letters },
    ])
}

/// This machine's fp32 matrix-multiply rate in GFLOP/s: the best of a few
/// products of two `size` x `size` matrices with ndarray's `dot` (the
/// matrixmultiply crate's sgemm, one thread), 2 FLOPs per multiply-add.
pub fn matmul_peak_gflops(size: usize) -> f64 {
    let size = size.max(1);
    // Values that stay finite and non-zero (no denormals slow the loop).
    let a = ndarray::Array2::<f32>::from_shape_fn((size, size), |(i, j)| ((i * 7 + j * 3) % 13) as f32 * 0.1 + 0.5);
    let b = a.t().to_owned();
    let mut best = f64::INFINITY;
    let mut checksum = 0.0f32;
    for _ in 0..4 {
        let start = Instant::now();
        let product = a.dot(&b);
        best = best.min(start.elapsed().as_secs_f64());
        checksum += product[[size / 2, size / 3]];
    }
    // Keeps the products from being optimised away.
    std::hint::black_box(checksum);
    2.0 * (size as f64).powi(3) / best / 1e9
}

/// Runs `f` at least `min` times and until `budget` is spent (at most
/// `max` times); the median time.
fn median_time(min: usize, max: usize, budget: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < min || (times.len() < max && start.elapsed() < budget) {
        let t = Instant::now();
        if !f() {
            return None;
        }
        times.push(t.elapsed());
    }
    times.sort_unstable();
    times.get(times.len() / 2).copied()
}

/// Runs `f` as [`median_time`] does; the median wall time, and the CPU
/// time of this thread per run (mean over all runs: Linux updates it at
/// scheduler ticks, too coarse for one short run), which other processes
/// on the machine do not inflate. `None` where schedstat is missing.
fn median_wall_and_cpu(
    min: usize,
    max: usize,
    budget: Duration,
    mut f: impl FnMut() -> bool,
) -> (Option<Duration>, Option<Duration>) {
    let mut runs = 0u32;
    let before = thread_cpu();
    let wall = median_time(min, max, budget, || {
        runs += 1;
        f()
    });
    let cpu = match (before, thread_cpu()) {
        (Some(a), Some(b)) if wall.is_some() && runs > 0 => Some(b.saturating_sub(a) / runs),
        _ => None,
    };
    (wall, cpu)
}

/// CPU time of the calling thread so far (Linux, nanoseconds resolution).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// This process's peak resident set size in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn show_time(d: Option<Duration>) -> String {
    let Some(d) = d else { return "error".to_string() };
    let s = d.as_secs_f64();
    if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn show_bytes(b: Option<u64>) -> String {
    match b {
        Some(b) if b < 100_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        Some(b) => format!("{:.0} MB", b as f64 / 1e6),
        None => "?".to_string(),
    }
}

fn show_rate(count: usize, d: Duration) -> String {
    let rate = count as f64 / d.as_secs_f64().max(1e-12);
    if rate >= 1e6 { format!("{:.2} M", rate / 1e6) } else { format!("{:.0}", rate) }
}

/// CPU time this process has used (user + system; Linux), in seconds.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// Peak memory of a fresh process evaluating one case.
fn memory_of(relaunch: &[&str], strategy: &str, case: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let output =
        Command::new(exe).args(relaunch).args(["--strategy", strategy, "--memory-case", case]).output().ok()?;
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

/// The `--memory-case` child: builds the programs, evaluates one input
/// once, prints the peak resident memory.
fn memory_case(case: &str, strategy: BatchStrategy, out: &mut dyn Write) -> Result<(), String> {
    let parts: Vec<&str> = case.split(':').collect();
    let [name, n, engine] = parts.as_slice() else {
        return Err(format!("bad memory case {case}"));
    };
    let n: usize = n.parse().map_err(|_| format!("bad length in {case}"))?;
    let mut session = Session::new(Box::new(NoFiles));
    let all = programs(&mut session)?;
    if *name == "repl" {
        let word = random_input(&mut Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64), &all[0], n);
        session.set_plain_engine(*engine == "plain");
        if !repl_sort_hist(&mut session, &word) {
            return Err(format!("{case} failed"));
        }
        return writeln!(out, "{}", peak_rss().ok_or("no VmHWM")?).map_err(io);
    }
    let ok = match all.iter().find(|p| p.name == *name) {
        None => *engine == "none",
        Some(program) => {
            let input = values(&random_input(&mut Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64), program, n));
            match *engine {
                "plain" => Evaluator::new().evaluate(&session.graph, program.root, &input).is_ok(),
                "fast" => {
                    BatchEvaluator::new(&session.graph, &[program.root]).with_strategy(strategy).eval(&input)[0].is_ok()
                }
                _ => true,
            }
        }
    };
    if !ok {
        return Err(format!("{case} failed"));
    }
    writeln!(out, "{}", peak_rss().ok_or("no VmHWM")?).map_err(io)
}

/// `bench_sort("word");` and `bench_hist("word");` fed to the session as
/// the REPL feeds typed lines, output drained; whether both printed a
/// result (the REPL prints `\t =  [...]` for an application).
fn repl_sort_hist(session: &mut Session, word: &str) -> bool {
    let mut ok = true;
    for name in ["bench_sort", "bench_hist"] {
        session.feed_line(&format!("{name}(\"{word}\");"));
        ok &= session.take_output().starts_with("\t =  [");
    }
    ok
}

/// Both programs through the API (`Session::evaluate`, which the facade's
/// `Program::run` calls), on the input as one string value.
fn api_sort_hist(session: &mut Session, roots: [NodeId; 2], word: &Value) -> bool {
    roots.iter().all(|&root| session.evaluate(root, word).is_ok())
}

fn io(e: std::io::Error) -> String {
    format!("cannot write: {e}")
}

/// Runs the benchmarks and writes the tables to `out`. `relaunch`: the
/// arguments that make this executable run the benchmarks again (`["bench"]`
/// for `rasp`), for the memory measurements.
pub fn run(args: &BenchArgs, out: &mut dyn Write, relaunch: &[&str]) -> Result<(), String> {
    let strategy = match args.strategy.as_str() {
        "structured" => BatchStrategy::Structured,
        "rows" => BatchStrategy::Rows,
        _ => BatchStrategy::Auto,
    };
    if let Some(case) = &args.memory_case {
        return memory_case(case, strategy, out);
    }
    let sizes = args
        .sizes
        .clone()
        .unwrap_or_else(|| if args.quick { vec![10, 100, 1000, 10_000] } else { vec![10, 100, 1000, 10_000, 100_000] });
    let batch = args.batch.unwrap_or(if args.quick { 20_000 } else { 200_000 });
    let (min_runs, max_runs, budget) =
        if args.quick { (1, 20, Duration::from_millis(100)) } else { (3, 200, Duration::from_millis(500)) };

    // Start-up: what `rasp` does before the first prompt.
    let startups = if args.quick { 5 } else { 20 };
    let startup = median_time(startups, startups, Duration::ZERO, || {
        let mut s = Session::new(Box::new(NoFiles));
        s.banner();
        !s.take_output().is_empty()
    });

    let mut session = Session::new(Box::new(NoFiles));
    let all = programs(&mut session)?;
    let chosen: Vec<&Program> =
        all.iter().filter(|p| args.programs.as_ref().is_none_or(|names| names.iter().any(|n| n == p.name))).collect();

    writeln!(out, "## rasp bench").map_err(io)?;
    writeln!(out).map_err(io)?;
    writeln!(
        out,
        "{} threads; {} build. REPL start-up (`Session::new` + banner): {} (median of {startups}).",
        BatchEvaluator::threads(),
        if cfg!(debug_assertions) { "debug (numbers are not representative)" } else { "release" },
        show_time(startup)
    )
    .map_err(io)?;
    writeln!(out).map_err(io)?;
    let wanted = |table: &str| args.tables.as_ref().is_none_or(|names| names.iter().any(|n| n == table));
    if wanted("evaluators") {
        evaluators_table(args, out, relaunch, strategy, &chosen, &session.graph, &sizes, (min_runs, max_runs, budget))?;
    }
    if wanted("repl") {
        repl_table(args, out, relaunch, &mut session, (min_runs, max_runs, budget))?;
    }
    if wanted("batch") {
        batch_table(out, strategy, &chosen, &session.graph, batch)?;
    }
    Ok(())
}

/// Distinct words per size in the REPL table: more than the engines memoise.
const WORDS_PER_SIZE: usize = 6;

/// `(min, max, budget)` of [`median_time`].
type Repeats = (usize, usize, Duration);

/// Time per input of both engines, and peak memory, per program and size.
#[allow(clippy::too_many_arguments)] // one call site; the options of one table
fn evaluators_table(
    args: &BenchArgs,
    out: &mut dyn Write,
    relaunch: &[&str],
    strategy: BatchStrategy,
    chosen: &[&Program],
    graph: &Graph,
    sizes: &[usize],
    (min_runs, max_runs, budget): Repeats,
) -> Result<(), String> {
    let baseline = if args.no_memory { None } else { memory_of(relaunch, &args.strategy, "none:0:none") };
    writeln!(
        out,
        "Time per input (median of repeats); peak resident memory of a process that builds the programs \
         ({} without evaluating anything) and evaluates one input.",
        show_bytes(baseline)
    )
    .map_err(io)?;
    writeln!(out).map_err(io)?;
    writeln!(out, "| program | n | plain | fast | plain peak RSS | fast peak RSS |").map_err(io)?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|").map_err(io)?;
    for program in chosen {
        let mut fast = BatchEvaluator::new(graph, &[program.root]).with_strategy(strategy);
        for &n in sizes {
            let input = values(&random_input(&mut Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64), program, n));
            let memory = |engine: &str| {
                if args.no_memory {
                    "–".to_string()
                } else {
                    show_bytes(memory_of(relaunch, &args.strategy, &format!("{}:{n}:{engine}", program.name)))
                }
            };
            let (plain_time, plain_mem) = if n <= args.plain_max {
                let ok = || Evaluator::new().evaluate(graph, program.root, &input).is_ok();
                (show_time(median_time(min_runs, max_runs, budget, ok)), memory("plain"))
            } else {
                ("–".to_string(), "–".to_string())
            };
            let fast_mem = memory("fast");
            let fast_time = median_time(min_runs, max_runs, budget, || fast.eval(&input)[0].is_ok());
            writeln!(
                out,
                "| {} | {n} | {plain_time} | {} | {plain_mem} | {} |",
                program.name,
                show_time(fast_time),
                fast_mem
            )
            .map_err(io)?;
        }
    }

    writeln!(out).map_err(io)?;
    Ok(())
}

/// `sort` and `hist` applied at the REPL (and through the API) at each
/// size: what a user waits for, parsing and printing included.
fn repl_table(
    args: &BenchArgs,
    out: &mut dyn Write,
    relaunch: &[&str],
    session: &mut Session,
    (min_runs, max_runs, budget): Repeats,
) -> Result<(), String> {
    let sizes = args.repl_sizes.clone().unwrap_or_else(|| {
        if args.quick { vec![10, 100, 300, 1000, 10_000] } else { vec![10, 100, 300, 1000, 10_000, 100_000, 1_000_000] }
    });
    let node = |name: &str| match session.lookup(name) {
        Some(Value::Sop(id)) => Ok(id),
        _ => Err(format!("{name} is not defined")),
    };
    let roots = [node("bench_sort")?, node("bench_hist")?];
    writeln!(
        out,
        "`bench_sort(\"...\"); bench_hist(\"...\");` (sort(tokens, tokens) and selector_width(select(tokens, \
         tokens, ==)) on one random word) fed to a session as the REPL feeds lines, output drained: the time for \
         both lines (median of repeats), with the engine the REPL chooses (auto) and with the plain engine \
         forced (up to --plain-max); the same two evaluations through the API (`Session::evaluate`, behind \
         `Program::run`); CPU times are this thread's (mean per run), which a busy machine does not inflate; and the \
         peak resident memory of a fresh process that starts a session and runs both \
         lines once."
    )
    .map_err(io)?;
    writeln!(out).map_err(io)?;
    writeln!(out, "| n | REPL, auto | its CPU time | REPL, plain | API, auto | its CPU time | REPL peak RSS |")
        .map_err(io)?;
    writeln!(out, "|---:|---:|---:|---:|---:|---:|---:|").map_err(io)?;
    let letters = Program { name: "repl", root: roots[0], prefix: "", alphabet: "abcdefghij" };
    for &n in &sizes {
        // Both engines memoise the last few inputs: every repeat takes the
        // next of more words than they keep, so each one evaluates afresh.
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
        let words: Vec<String> = (0..WORDS_PER_SIZE).map(|_| random_input(&mut rng, &letters, n)).collect();
        let mut next = 0;
        let mut word = || {
            next = (next + 1) % words.len();
            &words[next]
        };
        // Long inputs run a few times only: each takes a good part of a second.
        let (min, max) = if n >= 100_000 { (min_runs.min(3), 3) } else { (min_runs, max_runs) };
        session.set_plain_engine(false);
        let (auto, auto_cpu) = median_wall_and_cpu(min, max, budget, || repl_sort_hist(session, word()));
        let plain = if n <= args.plain_max {
            session.set_plain_engine(true);
            let time = median_time(min, max, budget, || repl_sort_hist(session, word()));
            session.set_plain_engine(false);
            show_time(time)
        } else {
            "–".to_string()
        };
        let values: Vec<Value> = words.iter().map(|w| Value::str(w)).collect();
        let mut at = 0;
        let (api, api_cpu) = median_wall_and_cpu(min, max, budget, || {
            at = (at + 1) % values.len();
            api_sort_hist(session, roots, &values[at])
        });
        let memory = if args.no_memory {
            "–".to_string()
        } else {
            show_bytes(memory_of(relaunch, &args.strategy, &format!("repl:{n}:auto")))
        };
        writeln!(
            out,
            "| {n} | {} | {} | {plain} | {} | {} | {memory} |",
            show_time(auto),
            show_time(auto_cpu),
            show_time(api),
            show_time(api_cpu)
        )
        .map_err(io)?;
    }
    writeln!(out).map_err(io)?;
    Ok(())
}

/// Inputs per second on batches of length-16 inputs.
fn batch_table(
    out: &mut dyn Write,
    strategy: BatchStrategy,
    chosen: &[&Program],
    graph: &Graph,
    batch: usize,
) -> Result<(), String> {
    writeln!(out, "Inputs per second on {batch} random inputs of length 16.").map_err(io)?;
    writeln!(out).map_err(io)?;
    writeln!(
        out,
        "| program | plain | fast, 1 thread | fast batch, {} threads | CPU use of the batch | fast batch per CPU-second |",
        BatchEvaluator::threads()
    )
    .map_err(io)?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|").map_err(io)?;
    for program in chosen {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let inputs: Vec<String> = (0..batch).map(|_| random_input(&mut rng, program, 16)).collect();
        let plain_count = (batch / 10).max(1);
        let t = Instant::now();
        let plain_ok =
            inputs[..plain_count].iter().all(|s| Evaluator::new().evaluate(graph, program.root, &values(s)).is_ok());
        let plain = t.elapsed();
        let mut fast = BatchEvaluator::new(graph, &[program.root]).with_strategy(strategy);
        let t = Instant::now();
        let single_ok = inputs.iter().all(|s| fast.eval(&values(s))[0].is_ok());
        let single = t.elapsed();
        let (t, cpu) = (Instant::now(), cpu_seconds());
        let results = fast.eval_batch(&inputs);
        let parallel = t.elapsed();
        let (cpu_use, per_cpu) = match (cpu, cpu_seconds()) {
            (Some(a), Some(b)) if b > a => (
                format!("{:.2}", (b - a) / parallel.as_secs_f64().max(1e-9)),
                show_rate(batch, Duration::from_secs_f64(b - a)),
            ),
            _ => ("?".to_string(), "?".to_string()),
        };
        let batch_ok = results.iter().all(|r| r[0].is_ok());
        let show = |ok: bool, count: usize, d: Duration| if ok { show_rate(count, d) } else { "error".to_string() };
        writeln!(
            out,
            "| {} | {} | {} | {} | {cpu_use} | {per_cpu} |",
            program.name,
            show(plain_ok, plain_count, plain),
            show(single_ok, batch, single),
            show(batch_ok, batch, parallel)
        )
        .map_err(io)?;
    }
    Ok(())
}
