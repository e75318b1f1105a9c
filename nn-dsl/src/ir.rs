//! The checked, typed representation of a source (the IR) that later stages consume:
//! sizes are numbers, activations and element types are enums, inline parameters are
//! typed vectors, and each layer knows the names of its parameter tensors. Only a
//! network without errors becomes IR.

use crate::span::Span;

/// The networks of a source that passed every check, in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Program {
    /// The networks.
    pub networks: Vec<Network>,
}

/// The element type of a network's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DType {
    /// 32-bit floats, the default.
    #[default]
    F32,
    /// 64-bit floats.
    F64,
}

impl DType {
    /// `"f32"` or `"f64"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
        }
    }
}

/// A checked network.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// The network's name, a valid Rust identifier.
    pub name: String,
    /// Where the name stands.
    pub name_span: Span,
    /// The element type.
    pub dtype: DType,
    /// The input size: the first layer's input size.
    pub input: usize,
    /// The output size: the last layer's output size.
    pub output: usize,
    /// The layers, in order; at least one.
    pub layers: Vec<Layer>,
}

impl Network {
    /// Total number of parameters (weights and biases).
    pub fn parameter_count(&self) -> u128 {
        self.layers.iter().map(Layer::parameter_count).sum()
    }

    /// Total multiply-adds for one sample.
    pub fn multiply_adds(&self) -> u128 {
        self.layers.iter().map(Layer::multiply_adds).sum()
    }
}

/// The kinds of layer the language knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LayerKind {
    /// `y = act(x·W + b)` with `W: [IN, OUT]`, `b: [OUT]`.
    Affine,
}

impl LayerKind {
    /// Every kind with its name in the language.
    pub const ALL: [(LayerKind, &'static str); 1] = [(LayerKind::Affine, "affine")];

    /// The kind's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Affine => "affine",
        }
    }
}

/// The struct field of unnamed layer `k` (counted from 1): `layer{k}`. The checker
/// reports a layer name that would clash with it (E008).
pub fn implicit_field_name(k: usize) -> String {
    format!("layer{k}")
}

/// An activation function, applied after the layer's affine map.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `x`
    Identity,
    /// `1 if x > 0 else 0`
    Step,
    /// `1 / (1 + exp(-x))`
    Sigmoid,
    /// `max(0, x)`
    Relu,
    /// `x if x > 0 else a·x`, with the slope `a` in the network's element type.
    LeakyRelu(Scalar),
    /// `tanh(x)`
    Tanh,
    /// `exp(x - max) / Σ exp(x - max)` over the whole row.
    Softmax,
}

impl Activation {
    /// The names of the activations, as written in the language.
    pub const NAMES: [&'static str; 7] = [
        "identity",
        "step",
        "sigmoid",
        "relu",
        "leaky_relu",
        "tanh",
        "softmax",
    ];

    /// The activation's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Step => "step",
            Activation::Sigmoid => "sigmoid",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
        }
    }
}

impl std::fmt::Display for Activation {
    /// As written in the language: `sigmoid`, `leaky_relu(0.01)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Activation::LeakyRelu(Scalar::F32(a)) => write!(f, "leaky_relu({a})"),
            Activation::LeakyRelu(Scalar::F64(a)) => write!(f, "leaky_relu({a})"),
            other => f.write_str(other.name()),
        }
    }
}

/// One number in the network's element type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar {
    /// In an `f32` network.
    F32(f32),
    /// In an `f64` network.
    F64(f64),
}

/// Numbers in the network's element type.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// In an `f32` network.
    F32(Vec<f32>),
    /// In an `f64` network.
    F64(Vec<f64>),
}

impl Values {
    /// How many numbers.
    pub fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Inline parameters of an affine layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// `IN × OUT` numbers, row-major: row `i` holds the weights of input `i`.
    pub weight: Values,
    /// `OUT` numbers.
    pub bias: Values,
}

/// A checked layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The layer's name, if the source gives one.
    pub name: Option<String>,
    /// Where the name stands.
    pub name_span: Option<Span>,
    /// Where the layer stands.
    pub span: Span,
    /// The layer's kind.
    pub kind: LayerKind,
    /// Input size, in `1..=16777216`.
    pub inputs: usize,
    /// Output size, in `1..=16777216`.
    pub outputs: usize,
    /// The activation, `Identity` when the source has no `act`.
    pub activation: Activation,
    /// Inline parameters, if given.
    pub params: Option<Params>,
    /// The name of the weight tensor in a parameter file (`W1`, `hidden1.weight`).
    pub weight_tensor: String,
    /// The name of the bias tensor in a parameter file (`b1`, `hidden1.bias`).
    pub bias_tensor: String,
}

impl Layer {
    /// Weights and biases: `IN·OUT + OUT`.
    pub fn parameter_count(&self) -> u128 {
        self.inputs as u128 * self.outputs as u128 + self.outputs as u128
    }

    /// Multiply-adds for one sample: `IN·OUT`.
    pub fn multiply_adds(&self) -> u128 {
        self.inputs as u128 * self.outputs as u128
    }
}
