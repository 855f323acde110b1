//! Compiled models as plain matrices (`rasp::arrays`): the residual
//! streams, readout scores and their decoding agree with the model's own
//! run, shapes are checked, and `model_json` is the file `rasp compile`
//! writes.

use rasp::{CompileOptions, ErrorKind, Matrix, NoFiles, Program, Scalar};

const HISTOGRAM: &str = include_str!("../../../examples/histogram.rasp");

fn hist_bos() -> (Program, rasp::Model) {
    let program = Program::from_source("histogram.rasp", HISTOGRAM, NoFiles).expect("loads");
    let sop = program.sop("hist_bos", "compile").expect("an s-op");
    let options = CompileOptions::new(vec!["a".into(), "b".into(), "c".into()], Some("§".into()), 4);
    let model = program.compile(sop, &options).expect("compiles");
    (program, model)
}

#[test]
fn residuals_scores_and_decoding_agree_with_the_model() {
    let (_, model) = hist_bos();
    let words: Vec<Vec<&str>> = vec![vec!["a", "a", "b", "a"], vec!["c"], vec!["b", "c"]];
    let residuals = rasp::residual_streams(&model, &words).expect("runs");
    let run = model.run(&words).expect("runs");
    for ((residual, word), expected) in residuals.iter().zip(&words).zip(&run) {
        // start token, BOS, then the word
        assert_eq!((residual.rows, residual.cols), (word.len() + 2, model.config.d_model));
        let decoded = rasp::decode_residual(&model, residual).expect("decodes");
        assert_eq!(&decoded, expected);
        let scores = rasp::readout_scores(&model, residual).expect("scores");
        assert_eq!((scores.rows, scores.cols), (word.len() + 1, rasp::readout_width(&model)));
        let from_scores = rasp::decode_scores(&model, &scores).expect("decodes");
        let values: Vec<Scalar> = from_scores.iter().map(|d| d.value.clone()).collect();
        let wanted: Vec<Scalar> = expected.iter().map(|d| d.value.clone()).collect();
        assert_eq!(values, wanted);
    }
    // hist_bos("§aaba") = [0, 3, 3, 1, 3], worked out by hand.
    let first: Vec<Scalar> = run[0].iter().map(|d| d.value.clone()).collect();
    let counts: Vec<f64> = first.iter().map(|s| s.as_f64().expect("a number")).collect();
    assert_eq!(counts, [0.0, 3.0, 3.0, 1.0, 3.0]);
}

#[test]
fn shapes_are_checked() {
    let (_, model) = hist_bos();
    let d = model.config.d_model;
    let wrong = Matrix::new(3, d + 1, vec![0.0; 3 * (d + 1)]).expect("shape");
    assert_eq!(rasp::decode_residual(&model, &wrong).map_err(|e| e.kind()), Err(ErrorKind::Input));
    assert_eq!(rasp::readout_scores(&model, &wrong).map_err(|e| e.kind()), Err(ErrorKind::Input));
    assert_eq!(rasp::decode_scores(&model, &wrong).map_err(|e| e.kind()), Err(ErrorKind::Input));
    let empty = Matrix::new(0, d, vec![]).expect("shape");
    assert_eq!(rasp::decode_residual(&model, &empty).map_err(|e| e.kind()), Err(ErrorKind::Input));
    let too_long = vec![vec!["a"; 5]];
    assert_eq!(rasp::residual_streams(&model, &too_long).map_err(|e| e.kind()), Err(ErrorKind::Input));
    let unknown = vec![vec!["z"]];
    assert_eq!(rasp::residual_streams(&model, &unknown).map_err(|e| e.kind()), Err(ErrorKind::Input));
}

#[test]
fn weights_and_config_are_the_files() {
    let (program, model) = hist_bos();
    let files = rasp::model_files(&model, &program, false).expect("files");
    let json = rasp::model_json(&model).expect("json");
    assert_eq!(files[0].name, "model.json");
    assert_eq!(files[0].bytes, json.into_bytes());
    let weights = rasp::weights(&model);
    let tensors = model.tensors();
    assert_eq!(weights.len(), tensors.len());
    for ((name, matrix), (tensor_name, tensor)) in weights.iter().zip(&tensors) {
        assert_eq!(name, tensor_name);
        assert_eq!((matrix.rows, matrix.cols), tensor.dim());
        assert!(matrix.data.iter().zip(tensor.iter()).all(|(a, b)| a == b), "{name}");
    }
    assert_eq!(weights[0].0, "embed.tokens");
    assert_eq!(weights[0].1.rows, model.config.tokens.len());
}

#[test]
fn a_missing_model_folder_is_an_io_error() {
    let missing = std::env::temp_dir().join(format!("rasp-no-such-model-{}", std::process::id()));
    let error = rasp::ModelFolder::read(&missing).err().expect("nothing to read");
    assert_eq!(error.kind(), ErrorKind::Io, "{error}");
}

#[test]
fn attention_patterns_are_the_models() {
    let (_, model) = hist_bos();
    let word = ["a", "b", "a"];
    let patterns = rasp::attention_patterns(&model, &word).expect("runs");
    let ids = model.encode(&word).expect("encodes");
    let expected = model.attention(&ids).expect("runs");
    assert_eq!(patterns.len(), model.config.n_layers);
    for (layer, wanted) in patterns.iter().zip(&expected) {
        assert_eq!(layer.len(), wanted.len());
        for (matrix, array) in layer.iter().zip(wanted) {
            assert_eq!((matrix.rows, matrix.cols), (ids.len(), ids.len()));
            assert!(matrix.data.iter().zip(array.iter()).all(|(a, b)| a == b));
        }
    }
    assert_eq!(rasp::attention_patterns(&model, &["z"]).map_err(|e| e.kind()), Err(ErrorKind::Input));
}
