//! The forward pass, decoding and the file formats, on small hand-made models.

use ndarray::{Array2, array};
use prost::Message;
use rasp_model::{
    Encoding, FORMAT, FORMAT_VERSION, FORWARD_DESCRIPTION, Head, HeadConfig, Layer, LayerConfig, Mlp, Model,
    ModelConfig, OnnxModelProto, ParameterCount, Readout, ResidualDim, START_TOKEN, Scalar,
};

/// d = 3: [start, one, is_b]. One head copies the previous position's
/// `is_b` into nothing (scale only matters for the check), an MLP computes
/// relu(is_b) into dim 2 again (doubling it), the readout is categorical
/// over {a, b}.
fn tiny(encoding: Encoding) -> Model {
    let d = 3;
    let tokens = vec![START_TOKEN.to_string(), "a".to_string(), "b".to_string()];
    let token_embedding = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0]];
    let position_embedding = Array2::zeros((4, d));
    // Attend uniformly over real positions (start scores 1/2 less).
    let head = Head {
        w_q: array![[0.0], [1.0], [0.0]],
        w_k: array![[-0.5], [0.0], [0.0]],
        w_v: array![[0.0], [0.0], [0.0]],
        w_o: array![[0.0, 0.0, 0.0]],
        scale: 10.0,
    };
    let mlp = Mlp { w_in: array![[0.0], [0.0], [1.0]], w_out: array![[0.0, 0.0, 1.0]] };
    let (unembed, values) = match encoding {
        Encoding::Categorical => {
            (array![[0.0, 0.0], [1.0, -1.0], [-1.0, 1.0]], vec![Scalar::Str("a".into()), Scalar::Str("b".into())])
        }
        Encoding::Numerical => (array![[0.0], [0.0], [1.0]], vec![Scalar::Int(0), Scalar::Int(2)]),
    };
    let config = ModelConfig {
        format: FORMAT.to_string(),
        version: FORMAT_VERSION,
        program: None,
        d_model: d,
        n_layers: 1,
        activation: "relu".to_string(),
        layer_norm: false,
        biases: false,
        forward: FORWARD_DESCRIPTION.to_string(),
        tokens,
        start_token: START_TOKEN.to_string(),
        bos: None,
        vocab: vec!["a".to_string(), "b".to_string()],
        max_len: 3,
        n_positions: 4,
        layers: vec![LayerConfig {
            layer: 1,
            heads: vec![HeadConfig {
                d_head: 1,
                d_value: 1,
                scale: 10.0,
                computes: "x".into(),
                selector: "all".into(),
            }],
            mlp_hidden: 1,
            mlp_computes: vec!["y".into()],
        }],
        residual: (0..d).map(|i| ResidualDim { dim: i, label: format!("d{i}") }).collect(),
        subspaces: vec![],
        readout: Readout { sop: "out".into(), encoding, values },
        parameters: ParameterCount::default(),
        compiler: serde_json::Value::Null,
        causal: false,
        prefix_len: None,
    };
    Model {
        config,
        token_embedding,
        position_embedding,
        layers: vec![Layer { heads: vec![head], mlp: Some(mlp) }],
        unembed,
    }
}

#[test]
fn forward_and_decode() {
    let m = tiny(Encoding::Categorical);
    m.validate().expect("valid");
    let out = m.run(&[vec!["a", "b", "b"]]).expect("runs");
    let values: Vec<&Scalar> = out[0].iter().map(|d| &d.value).collect();
    assert_eq!(values, [&Scalar::Str("a".into()), &Scalar::Str("b".into()), &Scalar::Str("b".into())]);
    assert!(out[0].iter().all(|d| d.margin > 0.4), "{out:?}");
    let att = m.attention(&m.encode(&["a", "b"]).expect("encodes")).expect("runs");
    let row = att[0][0].row(1);
    // Query 1 spreads over the real positions, barely on the start token.
    assert!((row[1] - row[2]).abs() < 1e-6 && row[0] < 0.01, "{row:?}");
}

#[test]
fn numerical_readout_rounds_to_the_nearest_value() {
    let m = tiny(Encoding::Numerical);
    let out = m.run(&[vec!["b", "a"]]).expect("runs");
    assert_eq!(out[0][0].value, Scalar::Int(2));
    assert_eq!(out[0][1].value, Scalar::Int(0));
    assert!(out[0][0].margin > 0.99);
}

#[test]
fn bad_inputs_are_errors() {
    let m = tiny(Encoding::Categorical);
    assert!(m.encode(&["c"]).is_err());
    assert!(m.encode(&["a", "a", "a", "a"]).is_err());
    assert!(m.encode(&[START_TOKEN]).is_err());
}

#[test]
fn save_and_load_round_trip() {
    let m = tiny(Encoding::Categorical);
    let dir = std::env::temp_dir().join(format!("rasp-model-test-{}", std::process::id()));
    m.save(&dir).expect("saves");
    let back = Model::load(&dir).expect("loads");
    let mut expected = m.clone();
    expected.config.parameters = m.parameter_count();
    assert_eq!(back, expected);
    // 3x3 tokens + 4x3 positions + 4 head matrices of 3 + MLP 2x3 + readout 3x2.
    assert_eq!(back.parameter_count().dense, 9 + 12 + 12 + 6 + 6);
    // A config that names another format is refused.
    let json = std::fs::read_to_string(dir.join("model.json")).expect("reads");
    std::fs::write(dir.join("model.json"), json.replace(FORMAT, "something-else")).expect("writes");
    assert!(Model::load(&dir).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_weights_file_is_the_same_bytes_every_time_and_reads_as_safetensors() {
    let m = tiny(Encoding::Categorical);
    let first = m.safetensors_bytes().expect("serialises");
    for _ in 0..5 {
        assert_eq!(m.safetensors_bytes().expect("serialises"), first);
    }
    // Any safetensors reader takes it: the metadata and every tensor's values.
    let (header_len, metadata) = safetensors::SafeTensors::read_metadata(&first).expect("a safetensors header");
    assert_eq!((8 + header_len) % 8, 0, "the data starts 8-byte aligned");
    let extra = metadata.metadata().clone().expect("metadata");
    assert_eq!(extra.get("format").map(String::as_str), Some(FORMAT));
    let tensors = safetensors::SafeTensors::deserialize(&first).expect("deserialises");
    for (name, tensor) in m.tensors() {
        let view = tensors.tensor(&name).expect("every tensor is there");
        assert_eq!(view.shape(), [tensor.nrows(), tensor.ncols()]);
        let values: Vec<f32> =
            view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(values, tensor.iter().copied().collect::<Vec<f32>>(), "{name}");
    }
}

#[test]
fn onnx_encodes_a_graph_with_every_weight() {
    let m = tiny(Encoding::Categorical);
    let bytes = m.to_onnx();
    let proto = OnnxModelProto::decode(bytes.as_slice()).expect("decodes");
    let graph = proto.graph.expect("graph");
    for (name, _) in m.tensors() {
        assert!(graph.initializer.iter().any(|t| t.name == name), "{name} missing");
    }
    assert_eq!(graph.output[0].name, "readout");
    assert!(graph.node.iter().any(|n| n.op_type == "Softmax"));
    assert_eq!(proto.opset_import[0].version, 17);
}
