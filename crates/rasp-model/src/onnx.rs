//! ONNX export: the same network as `Model`'s forward pass, written with a
//! few protobuf messages of `onnx.proto3` declared by hand (field numbers
//! as in the ONNX spec; no protoc step).
//!
//! Graph: input `ids` (int64, [batch, seq], start token and BOS included);
//! output `readout` (float, [batch, seq, n_out]) = final residual ·
//! unembed; position 0 is the start token and is not decoded. Operators:
//! Gather, Shape, Slice, Add, MatMul, Transpose, Mul, Softmax, Relu, and
//! for decoder models Concat (opset 17). A decoder's mask is a constant
//! [n_positions, n_positions] of 0 and -1e9 (0 weight after the softmax in
//! f32), sliced to the input length and added to the scaled logits.

use crate::Model;
use ndarray::Array2;
use prost::Message;

/// The top-level ONNX message (`onnx.proto3` `ModelProto`): what
/// [`Model::to_onnx`] encodes, and what a test or tool decodes it back into
/// to inspect the exported graph.
#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
    /// ONNX IR version the file follows.
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// The tool that wrote the file (`rasp`).
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// The version of that tool.
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// Free text for readers of the file.
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The network.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Operator sets the graph needs (the default domain, opset 17).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
}

/// An operator set the graph uses (`onnx.proto3` `OperatorSetIdProto`).
#[derive(Clone, PartialEq, Message)]
pub struct OperatorSetIdProto {
    /// Operator domain (empty: the default ONNX domain).
    #[prost(string, tag = "1")]
    pub domain: String,
    /// Operator set version.
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// The computation graph (`onnx.proto3` `GraphProto`).
#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
    /// Operators in topological order.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// The graph's name (names the output s-op).
    #[prost(string, tag = "2")]
    pub name: String,
    /// Weights and constants, by name.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// The forward pass in words ([`crate::FORWARD_DESCRIPTION`]).
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// Graph inputs (`ids`).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs (`readout`).
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
}

/// One operator application (`onnx.proto3` `NodeProto`).
#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
    /// Names of the values the operator reads.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Names of the values it produces.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// The node's own name.
    #[prost(string, tag = "3")]
    pub name: String,
    /// The ONNX operator (`MatMul`, `Softmax`, ...).
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// The operator's attributes.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
}

/// `AttributeProto.AttributeType` of an int attribute.
pub const ATTRIBUTE_INT: i32 = 2;
/// `AttributeProto.AttributeType` of an ints attribute.
pub const ATTRIBUTE_INTS: i32 = 7;

/// An operator attribute (`onnx.proto3` `AttributeProto`; only int and ints are written).
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
    /// Attribute name (`axis`, `perm`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value of an int attribute.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// Value of an ints attribute.
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
    /// Which of the values is set (2: int, 7: ints).
    #[prost(int32, tag = "20")]
    pub r#type: i32,
}

/// `TensorProto.DataType` of float32.
pub const FLOAT: i32 = 1;
/// `TensorProto.DataType` of int64.
pub const INT64: i32 = 7;

/// A constant tensor (`onnx.proto3` `TensorProto`): weights and shape constants.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
    /// Shape.
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// Element type (1: float32, 7: int64).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Elements of an int64 tensor.
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// The name nodes refer to it by.
    #[prost(string, tag = "8")]
    pub name: String,
    /// Elements of a float tensor, little-endian bytes.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// A graph input or output with its type (`onnx.proto3` `ValueInfoProto`).
#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
    /// The value's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
}

/// A value's type (`onnx.proto3` `TypeProto`; only tensors).
#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
    /// The tensor type.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorTypeProto>,
}

/// A tensor type: element type and shape (`onnx.proto3` `TypeProto.Tensor`).
#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
    /// Element type (1: float32, 7: int64).
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// Shape, possibly with named dimensions.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// A tensor shape (`onnx.proto3` `TensorShapeProto`).
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// One dimension of a shape: fixed (`dim_value`) or named (`dim_param`).
#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
    /// A fixed size.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    /// A named, variable size (`batch`, `seq`).
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

struct Builder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    counter: usize,
}

impl Builder {
    fn fresh(&mut self, stem: &str) -> String {
        self.counter += 1;
        format!("{stem}_{}", self.counter)
    }

    fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op.to_lowercase());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.clone()],
            name: out.clone(),
            op_type: op.to_string(),
            attribute: attrs,
        });
        out
    }

    fn weight(&mut self, name: &str, w: &Array2<f32>) -> String {
        self.initializers.push(TensorProto {
            dims: vec![w.nrows() as i64, w.ncols() as i64],
            data_type: FLOAT,
            int64_data: vec![],
            name: name.to_string(),
            raw_data: w.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name.to_string()
    }

    fn scalar(&mut self, name: &str, v: f32) -> String {
        self.initializers.push(TensorProto {
            dims: vec![],
            data_type: FLOAT,
            int64_data: vec![],
            name: name.to_string(),
            raw_data: v.to_le_bytes().to_vec(),
        });
        name.to_string()
    }

    fn ints(&mut self, name: &str, v: &[i64]) -> String {
        self.initializers.push(TensorProto {
            dims: vec![v.len() as i64],
            data_type: INT64,
            int64_data: v.to_vec(),
            name: name.to_string(),
            raw_data: vec![],
        });
        name.to_string()
    }
}

fn int_attr(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.to_string(), i, ints: vec![], r#type: ATTRIBUTE_INT }
}

fn ints_attr(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto { name: name.to_string(), i: 0, ints: ints.to_vec(), r#type: ATTRIBUTE_INTS }
}

fn value_info(name: &str, elem: i32, dims: &[Dimension]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: elem,
                shape: Some(TensorShapeProto { dim: dims.to_vec() }),
            }),
        }),
    }
}

fn symbolic(name: &str) -> Dimension {
    Dimension { dim_value: None, dim_param: Some(name.to_string()) }
}

fn fixed(n: usize) -> Dimension {
    Dimension { dim_value: Some(n as i64), dim_param: None }
}

/// The model as an ONNX `ModelProto`.
fn to_proto(model: &Model) -> ModelProto {
    let mut b = Builder { nodes: Vec::new(), initializers: Vec::new(), counter: 0 };
    let tokens = b.weight("embed.tokens", &model.token_embedding);
    let positions = b.weight("embed.positions", &model.position_embedding);
    let x = b.node("Gather", &[&tokens, "ids"], vec![int_attr("axis", 0)]);
    let shape = b.node("Shape", &["ids"], vec![]);
    let one = b.ints("const.one", &[1]);
    let two = b.ints("const.two", &[2]);
    let zero = b.ints("const.zero", &[0]);
    let seq = b.node("Slice", &[&shape, &one, &two], vec![]);
    let pos = b.node("Slice", &[&positions, &zero, &seq, &zero], vec![]);
    let mut x = b.node("Add", &[&x, &pos], vec![]);
    let mask = model.config.causal.then(|| {
        let n = model.position_embedding.nrows();
        let table = Array2::from_shape_fn((n, n), |(q, k)| if model.config.attends(q, k) { 0.0 } else { -1e9 });
        let table = b.weight("attention.mask", &table);
        let ends = b.node("Concat", &[&seq, &seq], vec![int_attr("axis", 0)]);
        let axes = b.ints("const.axes01", &[0, 1]);
        let starts = b.ints("const.zeros2", &[0, 0]);
        b.node("Slice", &[&table, &starts, &ends, &axes], vec![])
    });
    for (l, layer) in model.layers.iter().enumerate() {
        let mut update: Option<String> = None;
        for (h, head) in layer.heads.iter().enumerate() {
            let p = format!("layers.{l}.heads.{h}");
            let wq = b.weight(&format!("{p}.w_q"), &head.w_q);
            let wk = b.weight(&format!("{p}.w_k"), &head.w_k);
            let wv = b.weight(&format!("{p}.w_v"), &head.w_v);
            let wo = b.weight(&format!("{p}.w_o"), &head.w_o);
            let scale = b.scalar(&format!("{p}.scale"), head.scale);
            let q = b.node("MatMul", &[&x, &wq], vec![]);
            let k = b.node("MatMul", &[&x, &wk], vec![]);
            let v = b.node("MatMul", &[&x, &wv], vec![]);
            let kt = b.node("Transpose", &[&k], vec![ints_attr("perm", &[0, 2, 1])]);
            let logits = b.node("MatMul", &[&q, &kt], vec![]);
            let mut scaled = b.node("Mul", &[&logits, &scale], vec![]);
            if let Some(mask) = &mask {
                scaled = b.node("Add", &[&scaled, mask], vec![]);
            }
            let weights = b.node("Softmax", &[&scaled], vec![int_attr("axis", -1)]);
            let mixed = b.node("MatMul", &[&weights, &v], vec![]);
            let out = b.node("MatMul", &[&mixed, &wo], vec![]);
            update = Some(match update {
                None => out,
                Some(u) => b.node("Add", &[&u, &out], vec![]),
            });
        }
        if let Some(u) = update {
            x = b.node("Add", &[&x, &u], vec![]);
        }
        if let Some(mlp) = &layer.mlp {
            let w_in = b.weight(&format!("layers.{l}.mlp.w_in"), &mlp.w_in);
            let w_out = b.weight(&format!("layers.{l}.mlp.w_out"), &mlp.w_out);
            let pre = b.node("MatMul", &[&x, &w_in], vec![]);
            let hidden = b.node("Relu", &[&pre], vec![]);
            let out = b.node("MatMul", &[&hidden, &w_out], vec![]);
            x = b.node("Add", &[&x, &out], vec![]);
        }
    }
    let unembed = b.weight("unembed", &model.unembed);
    let readout = b.node("MatMul", &[&x, &unembed], vec![]);
    // Name the graph output.
    if let Some(last) = b.nodes.last_mut() {
        last.output = vec!["readout".to_string()];
    }
    let _ = readout;
    let graph = GraphProto {
        node: b.nodes,
        name: format!("rasp {}", model.config.readout.sop),
        initializer: b.initializers,
        doc_string: crate::FORWARD_DESCRIPTION.to_string(),
        input: vec![value_info("ids", INT64, &[symbolic("batch"), symbolic("seq")])],
        output: vec![value_info("readout", FLOAT, &[symbolic("batch"), symbolic("seq"), fixed(model.unembed.ncols())])],
    };
    ModelProto {
        ir_version: 8,
        producer_name: "rasp".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        doc_string: "Compiled from RASP; see model.json for the vocabulary and the readout".to_string(),
        graph: Some(graph),
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 17 }],
    }
}

/// The model as ONNX bytes.
pub(crate) fn export(model: &Model) -> Vec<u8> {
    to_proto(model).encode_to_vec()
}
