//! The `tract` side: the network as an ONNX graph (`MatMul`, `Add`, `Sigmoid`, `MatMul`,
//! `Add`, `Sigmoid`, `MatMul`, `Add`, `Softmax`; opset 13; input `x` of shape `[N, 784]`)
//! run by tract-onnx, as a tract user runs an exported model.
//!
//! The graph is built here, in memory, from the weights file (the same graph
//! `onnxruntime_reference.py` writes with the `onnx` package), or read from `--onnx FILE`
//! (`run.py` passes the file that script wrote, so that tract and onnxruntime run the
//! same model). tract is best used with concrete shapes: for each batch size the model is
//! given the input fact `f32 [batch, 784]`, optimised (`into_optimized`) and made
//! runnable once, before timing, and one `SimpleState` per plan is reused across calls.
//! Each call copies its images into a tract `Tensor` (tract takes owned inputs), which
//! is timed. tract runs on one thread (its default executor).
//!
//! The SimpleConvNet ([`Tract::load_convnet`]) is the same: the graph `Conv` (30 filters
//! 5x5, stride 1, no padding), `Relu`, `MaxPool` (2x2, stride 2), `Flatten` (axis 1),
//! `Gemm` (W2 `[4320, 100]`, b2), `Relu`, `Gemm`, `Softmax`, input `x` `[N, 1, 28, 28]`,
//! built here from `simple_convnet.safetensors` or read from `--convnet-onnx FILE` (the
//! `target/convnet.onnx` that `onnxruntime_reference.py` writes), given the fact
//! `f32 [batch, 1, 28, 28]` per batch size.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::{Case, Data, IMAGE_SHAPE, INPUT, OUTPUT, Runner, Timing, classes_of_rows, measure};

/// The ONNX model, ready to be specialised for each batch size.
pub struct Tract {
    model: InferenceModel,
    source: String,
    /// The shape of one image as the model takes it: `[784]` or `[1, 28, 28]`.
    image: Vec<usize>,
}

impl Tract {
    /// The MLP: reads `onnx` if given, else builds the graph from `weights`.
    pub fn load(weights: &Path, onnx: Option<&Path>) -> Result<Tract> {
        Tract::new(onnx, || mlp_proto(weights), vec![INPUT])
    }

    /// The SimpleConvNet: reads `onnx` if given, else builds the graph from `weights`.
    pub fn load_convnet(weights: &Path, onnx: Option<&Path>) -> Result<Tract> {
        Tract::new(onnx, || convnet_proto(weights), IMAGE_SHAPE.to_vec())
    }

    fn new(
        onnx: Option<&Path>,
        proto: impl FnOnce() -> Result<pb::ModelProto>,
        image: Vec<usize>,
    ) -> Result<Tract> {
        let (model, source) = match onnx {
            Some(file) => (
                tract_onnx::onnx()
                    .model_for_path(file)
                    .with_context(|| format!("cannot load the ONNX model {}", file.display()))?,
                file.display().to_string(),
            ),
            None => (
                tract_onnx::onnx()
                    .model_for_proto_model(&proto()?)
                    .context("tract cannot read the ONNX graph built in memory")?,
                "built in memory".to_owned(),
            ),
        };
        Ok(Tract {
            model,
            source,
            image,
        })
    }

    /// The shape of a batch of `batch` images.
    fn batch_shape(&self, batch: usize) -> Vec<usize> {
        std::iter::once(batch)
            .chain(self.image.iter().copied())
            .collect()
    }

    /// The model optimised for batches of `batch` images, with a state to run it.
    fn state(&self, batch: usize) -> Result<TypedSimpleState> {
        let plan = self
            .model
            .clone()
            .with_input_fact(0, f32::fact(self.batch_shape(batch)).into())?
            .into_optimized()?
            .into_runnable()?;
        plan.spawn()
    }
}

impl Runner for Tract {
    fn threads(&self) -> String {
        format!("1 (tract's default executor); ONNX model {}", self.source)
    }

    fn time(&self, case: Case, data: &Data, repeats: NonZeroUsize) -> Result<Timing> {
        let n = data.len();
        let size = case.batch_size(n);
        // One optimised plan per batch size this case uses (the last batch may be smaller),
        // with the shape of its input.
        let mut states: HashMap<usize, (TypedSimpleState, Vec<usize>)> = HashMap::new();
        for start in (0..n).step_by(size) {
            let len = size.min(n - start);
            if let std::collections::hash_map::Entry::Vacant(entry) = states.entry(len) {
                entry.insert((self.state(len)?, self.batch_shape(len)));
            }
        }
        measure(
            repeats,
            &data.labels,
            || {
                let mut out = Vec::with_capacity(n.div_ceil(size));
                for start in (0..n).step_by(size) {
                    let len = size.min(n - start);
                    let (state, shape) = states
                        .get_mut(&len)
                        .context("no plan for this batch size")?;
                    let x = Tensor::from_shape(
                        shape,
                        &data.pixels[start * INPUT..(start + len) * INPUT],
                    )?;
                    let mut y = state.run(tvec![x.into_tvalue()])?;
                    out.push(y.remove(0));
                }
                Ok(out)
            },
            |out: &Vec<TValue>| {
                let mut classes = Vec::with_capacity(n);
                for y in out {
                    ensure!(
                        y.shape().last() == Some(&OUTPUT),
                        "tract gave an output of shape {:?}",
                        y.shape()
                    );
                    classes.extend(classes_of_rows(y.try_as_plain_ram()?.as_slice::<f32>()?)?);
                }
                Ok(classes)
            },
        )
    }
}

/// ONNX's element type code for `float`.
const FLOAT: i32 = pb::tensor_proto::DataType::Float as i32;

/// The tensors `shapes` of the safetensors file `weights` as ONNX initialisers, each
/// checked to be F32 of its shape.
fn initializers(weights: &Path, shapes: &[(&str, &[usize])]) -> Result<Vec<pb::TensorProto>> {
    let bytes =
        std::fs::read(weights).with_context(|| format!("cannot read {}", weights.display()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a safetensors file", weights.display()))?;
    shapes
        .iter()
        .map(|&(name, shape)| {
            let view = file
                .tensor(name)
                .with_context(|| format!("{} has no tensor `{name}`", weights.display()))?;
            ensure!(
                view.dtype() == safetensors::Dtype::F32 && view.shape() == shape,
                "`{name}` in {} is {:?} {:?}, expected F32 {shape:?}",
                weights.display(),
                view.dtype(),
                view.shape()
            );
            Ok(pb::TensorProto {
                name: name.to_owned(),
                dims: shape.iter().map(|&d| d as i64).collect(),
                data_type: FLOAT,
                // safetensors stores little-endian, as ONNX's raw_data does.
                raw_data: view.data().to_vec(),
                ..Default::default()
            })
        })
        .collect()
}

/// A node of one output, named after it.
fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        name: output.to_owned(),
        op_type: op.to_owned(),
        input: inputs.iter().map(|&s| s.to_owned()).collect(),
        output: vec![output.to_owned()],
        ..Default::default()
    }
}

/// An integer attribute.
fn int(name: &str, i: i64) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.to_owned(),
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

/// A list-of-integers attribute.
fn ints(name: &str, ints: &[i64]) -> pb::AttributeProto {
    pb::AttributeProto {
        name: name.to_owned(),
        r#type: pb::attribute_proto::AttributeType::Ints as i32,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

/// A float tensor of shape `[N, dims...]`, `N` dynamic.
fn value(name: &str, dims: &[usize]) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{Dimension, dimension::Value};
    let dim = |value| Dimension {
        value: Some(value),
        ..Default::default()
    };
    pb::ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: FLOAT,
                shape: Some(pb::TensorShapeProto {
                    dim: std::iter::once(dim(Value::DimParam("N".to_owned())))
                        .chain(dims.iter().map(|&d| dim(Value::DimValue(d as i64))))
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An opset-13, IR-version-8 model of one graph, input `x` and output `y`.
fn model(
    name: &str,
    node: Vec<pb::NodeProto>,
    initializer: Vec<pb::TensorProto>,
    image: &[usize],
) -> pb::ModelProto {
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "mlp-bench".to_owned(),
        graph: Some(pb::GraphProto {
            name: name.to_owned(),
            node,
            initializer,
            input: vec![value("x", image)],
            output: vec![value("y", &[OUTPUT])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The MLP as an ONNX model, with the weights of `weights` as initialisers.
fn mlp_proto(weights: &Path) -> Result<pb::ModelProto> {
    let sizes = [INPUT, 50, 100, OUTPUT];
    let names: Vec<(String, String)> = (1..sizes.len())
        .map(|i| (format!("W{i}"), format!("b{i}")))
        .collect();
    let mut shapes: Vec<(&str, &[usize])> = Vec::new();
    for (pair, (w, b)) in sizes.windows(2).zip(&names) {
        shapes.push((w, pair));
        shapes.push((b, &pair[1..]));
    }
    let initializer = initializers(weights, &shapes)?;
    let mut nodes = Vec::new();
    let mut x = "x".to_owned();
    for (i, (w, b)) in names.iter().enumerate() {
        let (a, z) = (format!("a{}", i + 1), format!("z{}", i + 1));
        nodes.push(node("MatMul", &[&x, w], &format!("{a}_matmul")));
        nodes.push(node("Add", &[&format!("{a}_matmul"), b], &a));
        x = if i + 2 < sizes.len() {
            nodes.push(node("Sigmoid", &[&a], &z));
            z
        } else {
            a
        };
    }
    let mut softmax = node("Softmax", &[&x], "y");
    softmax.attribute.push(int("axis", -1));
    nodes.push(softmax);
    Ok(model("mnist_mlp", nodes, initializer, &[INPUT]))
}

/// The SimpleConvNet as an ONNX model, with the weights of `weights` as initialisers:
/// the graph `onnxruntime_reference.py` writes to `target/convnet.onnx`.
fn convnet_proto(weights: &Path) -> Result<pb::ModelProto> {
    let [channels, rows, columns] = IMAGE_SHAPE;
    let flat = 30 * ((rows - 4) / 2) * ((columns - 4) / 2);
    let initializer = initializers(
        weights,
        &[
            ("W1", &[30, channels, 5, 5]),
            ("b1", &[30]),
            ("W2", &[flat, 100]),
            ("b2", &[100]),
            ("W3", &[100, OUTPUT]),
            ("b3", &[OUTPUT]),
        ],
    )?;
    let mut conv = node("Conv", &["x", "W1", "b1"], "c1");
    conv.attribute = vec![
        ints("kernel_shape", &[5, 5]),
        ints("strides", &[1, 1]),
        ints("pads", &[0, 0, 0, 0]),
    ];
    let mut pool = node("MaxPool", &["r1"], "p1");
    pool.attribute = vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
    let mut flatten = node("Flatten", &["p1"], "f1");
    flatten.attribute.push(int("axis", 1));
    let mut softmax = node("Softmax", &["a3"], "y");
    softmax.attribute.push(int("axis", -1));
    let nodes = vec![
        conv,
        node("Relu", &["c1"], "r1"),
        pool,
        flatten,
        node("Gemm", &["f1", "W2", "b2"], "a2"),
        node("Relu", &["a2"], "r2"),
        node("Gemm", &["r2", "W3", "b3"], "a3"),
        softmax,
    ];
    Ok(model("simple_convnet", nodes, initializer, &IMAGE_SHAPE))
}
