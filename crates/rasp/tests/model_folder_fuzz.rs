//! A model folder is untrusted input: whatever someone changed in it,
//! reading it back and verifying it ends in a model that verifies or in one
//! clear error, never a panic, a hang or a message that echoes the folder.
//!
//! Each case compiles reverse, writes its folder, changes one thing in
//! `model.json` or `model.safetensors` (a number made huge, negative or
//! fractional, a string made a path, an entry dropped or repeated, weight
//! bytes flipped or cut), then reads and verifies it. The case count is
//! proptest's (256); `PROPTEST_CASES=100000` makes a long campaign.

use proptest::prelude::*;
use rasp::{CompileOptions, ModelFolder, NoFiles, Program, VerifyOptions};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const REVERSE: &str = "\
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
";

/// The files of the compiled reverse (vocabulary abc, length 4).
fn original_files() -> &'static Vec<(String, Vec<u8>)> {
    static FILES: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    FILES.get_or_init(|| {
        let program = Program::from_source("reverse.rasp", REVERSE, NoFiles).expect("reverse loads");
        let sop = program.sop("reverse", "compile").expect("reverse is an s-op");
        let options = CompileOptions::new(vec!["a".into(), "b".into(), "c".into()], None, 4);
        let mut model = program.compile(sop, &options).expect("reverse compiles");
        model.config.program = Some(rasp::ProgramInfo { file: rasp::PROGRAM_FILE.into(), sop: "reverse".into() });
        rasp::model_files(&model, &program, false)
            .expect("files")
            .into_iter()
            .map(|file| (file.name.to_string(), file.bytes))
            .collect()
    })
}

/// One change to a folder.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the `index`-th JSON value (in document order) of model.json.
    JsonValue { index: usize, replacement: Json },
    /// Remove the `index`-th object entry or array element of model.json.
    JsonDrop { index: usize },
    /// Repeat the `index`-th array element of model.json.
    JsonRepeat { index: usize },
    /// XOR a byte of model.safetensors.
    WeightByte { offset: usize, mask: u8 },
    /// Cut model.safetensors short.
    WeightCut { keep: usize },
    /// Overwrite a weight with NaN, infinity or a huge value.
    WeightFloat { offset: usize, value: f32 },
}

fn replacement() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(serde_json::json!(1_000_000_000_000u64)),
        Just(serde_json::json!(-1)),
        Just(serde_json::json!(0)),
        Just(serde_json::json!(1.5)),
        Just(serde_json::json!(1e300)),
        Just(serde_json::json!(usize::MAX)),
        Just(serde_json::json!("")),
        Just(serde_json::json!("../../../../etc/passwd")),
        Just(serde_json::json!("/etc/passwd")),
        Just(serde_json::json!("<start>")),
        Just(serde_json::json!("a")),
        Just(serde_json::json!("x".repeat(100_000))),
        Just(Json::Null),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!(true)),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..2000usize, replacement()).prop_map(|(index, replacement)| Mutation::JsonValue { index, replacement }),
        (0..2000usize).prop_map(|index| Mutation::JsonDrop { index }),
        (0..2000usize).prop_map(|index| Mutation::JsonRepeat { index }),
        (0..100_000usize, 1..=255u8).prop_map(|(offset, mask)| Mutation::WeightByte { offset, mask }),
        (0..100_000usize).prop_map(|keep| Mutation::WeightCut { keep }),
        (0..100_000usize, prop_oneof![Just(f32::NAN), Just(f32::INFINITY), Just(-1e30f32), Just(1e30f32)])
            .prop_map(|(offset, value)| Mutation::WeightFloat { offset, value }),
    ]
}

/// Visits every JSON value in document order; `f` may change the one at
/// `target` (counting from 0) and says whether it did.
fn visit(value: &mut Json, counter: &mut usize, target: usize, f: &mut dyn FnMut(&mut Json) -> bool) -> bool {
    if *counter == target {
        return f(value);
    }
    *counter += 1;
    match value {
        Json::Array(items) => items.iter_mut().any(|item| visit(item, counter, target, f)),
        Json::Object(entries) => entries.values_mut().any(|item| visit(item, counter, target, f)),
        _ => false,
    }
}

fn mutate(files: &mut [(String, Vec<u8>)], mutation: &Mutation) {
    let find = |files: &mut [(String, Vec<u8>)], name: &str| files.iter().position(|(n, _)| n == name);
    match mutation {
        Mutation::JsonValue { .. } | Mutation::JsonDrop { .. } | Mutation::JsonRepeat { .. } => {
            let Some(at) = find(files, "model.json") else { return };
            let mut json: Json = serde_json::from_slice(&files[at].1).expect("model.json parses");
            let mut counter = 0;
            match mutation {
                Mutation::JsonValue { index, replacement } => {
                    visit(&mut json, &mut counter, *index % 400, &mut |v| {
                        *v = replacement.clone();
                        true
                    });
                }
                Mutation::JsonDrop { index } => {
                    visit(&mut json, &mut counter, *index % 400, &mut |v| match v {
                        Json::Array(items) if !items.is_empty() => {
                            items.pop();
                            true
                        }
                        Json::Object(entries) => {
                            let first = entries.keys().next().cloned();
                            first.is_some_and(|key| entries.remove(&key).is_some())
                        }
                        _ => false,
                    });
                }
                Mutation::JsonRepeat { index } => {
                    visit(&mut json, &mut counter, *index % 400, &mut |v| match v {
                        Json::Array(items) if !items.is_empty() => {
                            items.push(items[0].clone());
                            true
                        }
                        _ => false,
                    });
                }
                _ => {}
            }
            files[at].1 = serde_json::to_vec(&json).expect("serialises");
        }
        Mutation::WeightByte { offset, mask } => {
            let Some(at) = find(files, "model.safetensors") else { return };
            let bytes = &mut files[at].1;
            let offset = offset % bytes.len();
            bytes[offset] ^= mask;
        }
        Mutation::WeightCut { keep } => {
            let Some(at) = find(files, "model.safetensors") else { return };
            let bytes = &mut files[at].1;
            let keep = keep % bytes.len();
            bytes.truncate(keep);
        }
        Mutation::WeightFloat { offset, value } => {
            let Some(at) = find(files, "model.safetensors") else { return };
            let bytes = &mut files[at].1;
            // Past the header: the tensor data, 4-byte aligned.
            let header = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize + 8;
            let slots = (bytes.len() - header) / 4;
            let at = header + (offset % slots) * 4;
            bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
    }
}

fn write_folder(files: &[(String, Vec<u8>)], case: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rasp-folder-fuzz-{}-{case}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write");
    }
    dir
}

/// Reads and verifies the folder; returns the error message if any.
fn read_and_verify(dir: &Path) -> Result<(), String> {
    let folder = ModelFolder::read(dir).map_err(|e| e.message().to_string())?;
    let report = folder.program.verify(folder.sop, &folder.model, &VerifyOptions::default());
    // A changed weight may break the model: then verification says so.
    let text = rasp::verify_text(&folder.model, &report);
    assert!(!text.contains("NaN"), "a NaN printed as a figure:\n{text}");
    Ok(())
}

#[test]
fn the_unchanged_folder_verifies() {
    let dir = write_folder(original_files(), u64::MAX);
    assert_eq!(read_and_verify(&dir), Ok(()));
    let _ = std::fs::remove_dir_all(&dir);
}

proptest! {
    #[test]
    fn a_changed_folder_verifies_or_fails_clearly(mutation in mutation(), case in any::<u64>()) {
        let mut files = original_files().clone();
        mutate(&mut files, &mutation);
        let dir = write_folder(&files, case);
        let result = read_and_verify(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        if let Err(message) = result {
            prop_assert!(!message.trim().is_empty(), "empty error for {mutation:?}");
            prop_assert!(message.len() < 2_000, "a {}-byte message for {mutation:?}", message.len());
            prop_assert!(!message.contains("root:"), "the message shows another file: {message}");
        }
    }
}
