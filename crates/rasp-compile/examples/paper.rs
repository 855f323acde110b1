//! Compiles one of the paper's programs and prints its shape:
//! `cargo run -p rasp-compile --example paper -- SOP VOCAB MAX_LEN [BOS]`.

use rasp_compile::{CompileOptions, PAPER_EXAMPLES, compile};
use rasp_core::Value;
use rasp_lang::{NoFiles, Session};
use std::fmt::Write as _;
use std::io::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: paper SOP VOCAB MAX_LEN [BOS]");
        std::process::exit(2);
    }
    rasp_lang::with_large_stack(move || {
        let mut s = Session::new(Box::new(NoFiles));
        s.run_file("paper.rasp", PAPER_EXAMPLES);
        let Some(Value::Sop(root)) = s.lookup(&args[0]) else {
            eprintln!("{} is not an s-op", args[0]);
            std::process::exit(1);
        };
        let vocab = args[1].split(',').map(str::to_string).collect();
        let max_len = args[2].parse().unwrap_or(5);
        let opts = CompileOptions::new(vocab, args.get(3).cloned(), max_len);
        let start = std::time::Instant::now();
        match compile(&s.graph, root, &opts) {
            Ok((model, report)) => {
                let seconds = start.elapsed().as_secs_f64();
                let mut out = String::new();
                let c = &model.config;
                let p = model.parameter_count();
                let _ = writeln!(
                    out,
                    "d_model {} layers {} params {} nonzero {} ({:.1} ms)",
                    c.d_model,
                    c.n_layers,
                    p.dense,
                    p.nonzero,
                    seconds * 1e3
                );
                for (l, layer) in c.layers.iter().enumerate() {
                    let _ = writeln!(out, "layer {l}:");
                    for h in &layer.heads {
                        let _ = writeln!(
                            out,
                            "  head {} over {} (d_head {}, d_value {}, scale {:.1})",
                            h.computes, h.selector, h.d_head, h.d_value, h.scale
                        );
                    }
                    let _ = writeln!(out, "  mlp {} hidden: {}", layer.mlp_hidden, layer.mlp_computes.join(", "));
                }
                for sub in &c.subspaces {
                    let _ = writeln!(
                        out,
                        "  [{:?}] {} {:?} ({}) {}",
                        sub.encoding,
                        sub.name,
                        sub.dims.len(),
                        sub.written_by,
                        sub.values.len()
                    );
                }
                for n in &report.notes {
                    let _ = writeln!(out, "note: {n}");
                }
                let _ = std::io::stdout().lock().write_all(out.as_bytes());
            }
            Err(e) => println!("{e}"),
        }
    })
}
