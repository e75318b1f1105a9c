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

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::{Case, Data, INPUT, OUTPUT, Runner, Timing, classes_of_rows, measure};

/// The ONNX model, ready to be specialised for each batch size.
pub struct Tract {
    model: InferenceModel,
    source: String,
}

impl Tract {
    /// Reads `onnx` if given, else builds the graph from `weights`.
    pub fn load(weights: &Path, onnx: Option<&Path>) -> Result<Tract> {
        let (model, source) = match onnx {
            Some(file) => (
                tract_onnx::onnx()
                    .model_for_path(file)
                    .with_context(|| format!("cannot load the ONNX model {}", file.display()))?,
                file.display().to_string(),
            ),
            None => (
                tract_onnx::onnx()
                    .model_for_proto_model(&mlp_proto(weights)?)
                    .context("tract cannot read the ONNX graph built in memory")?,
                "built in memory".to_owned(),
            ),
        };
        Ok(Tract { model, source })
    }

    /// The model optimised for batches of `batch` images, with a state to run it.
    fn state(&self, batch: usize) -> Result<TypedSimpleState> {
        let plan = self
            .model
            .clone()
            .with_input_fact(0, f32::fact([batch, INPUT]).into())?
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
        // One optimised plan per batch size this case uses (the last batch may be smaller).
        let mut states: HashMap<usize, TypedSimpleState> = HashMap::new();
        for start in (0..n).step_by(size) {
            let len = size.min(n - start);
            if let std::collections::hash_map::Entry::Vacant(entry) = states.entry(len) {
                entry.insert(self.state(len)?);
            }
        }
        measure(
            repeats,
            &data.labels,
            || {
                let mut out = Vec::with_capacity(n.div_ceil(size));
                for start in (0..n).step_by(size) {
                    let len = size.min(n - start);
                    let state = states
                        .get_mut(&len)
                        .context("no plan for this batch size")?;
                    let x = Tensor::from_shape(
                        &[len, INPUT],
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

/// The MLP as an ONNX model, with the weights of `weights` as initialisers.
fn mlp_proto(weights: &Path) -> Result<pb::ModelProto> {
    let bytes =
        std::fs::read(weights).with_context(|| format!("cannot read {}", weights.display()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a safetensors file", weights.display()))?;
    let tensor = |name: &str, shape: &[usize]| -> Result<pb::TensorProto> {
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
    };
    let node = |op: &str, inputs: &[&str], output: &str| pb::NodeProto {
        name: output.to_owned(),
        op_type: op.to_owned(),
        input: inputs.iter().map(|&s| s.to_owned()).collect(),
        output: vec![output.to_owned()],
        ..Default::default()
    };
    let value = |name: &str, width: i64| {
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
                        dim: vec![
                            dim(Value::DimParam("N".to_owned())),
                            dim(Value::DimValue(width)),
                        ],
                    }),
                })),
                ..Default::default()
            }),
            ..Default::default()
        }
    };

    let sizes = [INPUT, 50, 100, OUTPUT];
    let mut initializer = Vec::new();
    let mut nodes = Vec::new();
    let mut x = "x".to_owned();
    for (i, pair) in sizes.windows(2).enumerate() {
        let (w, b) = (format!("W{}", i + 1), format!("b{}", i + 1));
        initializer.push(tensor(&w, pair)?);
        initializer.push(tensor(&b, &pair[1..])?);
        let (a, z) = (format!("a{}", i + 1), format!("z{}", i + 1));
        nodes.push(node("MatMul", &[&x, &w], &format!("{a}_matmul")));
        nodes.push(node("Add", &[&format!("{a}_matmul"), &b], &a));
        x = if i + 2 < sizes.len() {
            nodes.push(node("Sigmoid", &[&a], &z));
            z
        } else {
            a
        };
    }
    let mut softmax = node("Softmax", &[&x], "y");
    softmax.attribute.push(pb::AttributeProto {
        name: "axis".to_owned(),
        r#type: pb::attribute_proto::AttributeType::Int as i32,
        i: -1,
        ..Default::default()
    });
    nodes.push(softmax);

    Ok(pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: "mlp-bench".to_owned(),
        graph: Some(pb::GraphProto {
            name: "mnist_mlp".to_owned(),
            node: nodes,
            initializer,
            input: vec![value("x", INPUT as i64)],
            output: vec![value("y", OUTPUT as i64)],
            ..Default::default()
        }),
        ..Default::default()
    })
}
