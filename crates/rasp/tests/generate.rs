//! Generation (semantics.md §6): a program and its compiled decoder
//! generate the same sequences on every prompt up to length 4 over the
//! example's vocabulary, the decoder through its key/value cache; and
//! both agree with the task computed directly in Rust.

use rasp::{AttentionMask, CompileOptions, NoFiles, Program, generate_with_model};

fn example(file: &str) -> Program {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Program::from_source(file, &text, NoFiles).unwrap_or_else(|e| panic!("{e}"))
}

/// Every word of 1 to `max_len` tokens over `vocab`.
fn words(vocab: &[&str], max_len: usize) -> Vec<Vec<String>> {
    let mut all: Vec<Vec<String>> = vec![Vec::new()];
    let mut out = Vec::new();
    for _ in 0..max_len {
        all = all.iter().flat_map(|w| vocab.iter().map(move |t| [w.clone(), vec![t.to_string()]].concat())).collect();
        out.extend(all.iter().cloned());
    }
    out
}

/// Generates from every prompt with the program and with the compiled
/// model; checks both against `next` (the task itself, in Rust).
fn check(file: &str, sop: &str, vocab: &[&str], steps: usize, mask: AttentionMask, next: fn(&[String]) -> String) {
    let file = file.to_string();
    let sop = sop.to_string();
    let vocab: Vec<String> = vocab.iter().map(|t| t.to_string()).collect();
    rasp::with_large_stack(move || {
        let mut program = example(&file).with_mask(mask);
        let root = program.sop(&sop, "generate").expect("an s-op");
        let options = CompileOptions::new(vocab.clone(), None, 4 + steps - 1);
        let model = program.compile(root, &options).expect("compiles");
        let tokens: Vec<&str> = vocab.iter().map(String::as_str).collect();
        for prompt in words(&tokens, 4) {
            let by_program = program.generate(root, &prompt, None, steps).expect("program generates");
            let by_model = generate_with_model(&model, &prompt, steps).expect("model generates");
            assert_eq!(by_program.steps, by_model.steps, "{sop} {mask} from {prompt:?}");
            let mut expected = prompt.clone();
            for step in &by_program.steps {
                expected.push(next(&expected));
                assert_eq!(step, &expected, "{sop} {mask} from {prompt:?}");
            }
            // Every token after the first came from the cache.
            let cached = if mask == AttentionMask::Causal { steps - 1 } else { 0 };
            assert_eq!(by_model.cached_positions, cached, "{sop} from {prompt:?}");
        }
    });
}

fn parity_next(sequence: &[String]) -> String {
    (sequence.iter().filter(|t| *t == "1").count() % 2).to_string()
}

/// The smallest digit 1-4 seen that is larger than the last token, else
/// the smallest digit 1-4 seen (examples/sort_next.rasp), else "4".
fn sort_next(sequence: &[String]) -> String {
    let last = sequence.last().map(String::as_str).unwrap_or("0");
    let seen: Vec<&str> = ["1", "2", "3", "4"].into_iter().filter(|d| sequence.iter().any(|t| t == d)).collect();
    seen.iter().find(|d| **d > last).or(seen.first()).unwrap_or(&"4").to_string()
}

#[test]
fn parity_generates_alike() {
    check("parity.rasp", "parity", &["0", "1"], 3, AttentionMask::Causal, parity_next);
}

#[test]
fn causal_sort_generates_alike() {
    check("sort_next.rasp", "sort_next", &["0", "1", "2", "3", "4"], 2, AttentionMask::Causal, sort_next);
}

/// Prefix-LM models recompute while the sequence is within the prefix;
/// their outputs still match the interpreter's under the same mask.
#[test]
fn prefix_models_generate_like_the_interpreter() {
    rasp::with_large_stack(|| {
        let mask = AttentionMask::Prefix { length: 3 };
        let mut program = example("parity.rasp").with_mask(mask);
        let root = program.sop("parity", "generate").expect("an s-op");
        let options = CompileOptions::new(vec!["0".to_string(), "1".to_string()], None, 6);
        let model = program.compile(root, &options).expect("compiles");
        for prompt in words(&["0", "1"], 4) {
            let by_program = program.generate(root, &prompt, None, 3).expect("program generates");
            let by_model = generate_with_model(&model, &prompt, 3).expect("model generates");
            assert_eq!(by_program.steps, by_model.steps, "from {prompt:?}");
        }
    });
}

#[test]
fn addition_generates_the_sum() {
    rasp::with_large_stack(|| {
        let mut program = example("addition_generate.rasp").with_mask(AttentionMask::Causal);
        let root = program.sop("add_next", "generate").expect("an s-op");
        let vocab: Vec<String> = "0123456789+=".chars().map(String::from).collect();
        let model = program.compile(root, &CompileOptions::new(vocab, None, 8)).expect("compiles");
        for (a, b) in [(95u32, 17u32), (99, 1), (50, 50), (12, 34), (0, 0)] {
            let prompt: Vec<String> = format!("{a:02}+{b:02}=").chars().map(String::from).collect();
            let generated = program.generate(root, &prompt, None, 3).expect("generates");
            // The sum's three digits, least significant first.
            let sum = a + b;
            let expected: Vec<String> = [sum % 10, sum / 10 % 10, sum / 100].iter().map(u32::to_string).collect();
            assert_eq!(generated.steps.last().map(|s| s[6..].to_vec()), Some(expected), "{a}+{b}");
            let by_model = generate_with_model(&model, &prompt, 3).expect("model generates");
            assert_eq!(by_model.steps, generated.steps, "{a}+{b}");
            assert_eq!(by_model.cached_positions, 2);
        }
    });
}
