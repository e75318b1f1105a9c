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
    /// The input shape: the first layer's input.
    pub input: Shape,
    /// The output shape: the last layer's output.
    pub output: Shape,
    /// The layers, in order; at least one.
    pub layers: Vec<Layer>,
    /// The loss it trains with (the `loss` statement, or the default); `None` for a
    /// network that cannot be trained (it has `step`).
    pub loss: Option<Loss>,
}

/// A loss function (LANGUAGE.md §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Loss {
    /// The batch mean of `−log softmax(a)[t]` for class indices `t`.
    CrossEntropy,
    /// The batch mean of `½ Σ (y − t)²`.
    Mse,
}

impl Loss {
    /// The names of the losses, as written in the language.
    pub const NAMES: [&'static str; 2] = ["cross_entropy", "mse"];

    /// The loss's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Loss::CrossEntropy => "cross_entropy",
            Loss::Mse => "mse",
        }
    }
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

    /// The most values one sample has between two layers (or at the input): what a
    /// batch needs per row in flight.
    pub fn widest(&self) -> usize {
        self.layers
            .iter()
            .map(|layer| layer.output.len())
            .fold(self.input.len(), usize::max)
    }
}

/// The shape of one sample between two layers: `[784]`, or `[1, 28, 28]` for channels
/// x height x width. Every size is in `1..=MAX_SIZE` and so is their product.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<usize>);

impl std::fmt::Debug for Shape {
    /// `Shape(1x28x28)`: as written, also in `{:#?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shape({self})")
    }
}

impl Shape {
    /// The number of values: the product of the sizes.
    pub fn len(&self) -> usize {
        self.0.iter().product()
    }

    /// Whether the shape holds no value (never, for a checked shape).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many sizes: 1 for a vector, 3 for channels x height x width.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// The sizes.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }
}

impl std::fmt::Display for Shape {
    /// As written in the language: `784`, `1x28x28`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, dim) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("x")?;
            }
            write!(f, "{dim}")?;
        }
        Ok(())
    }
}

/// What a layer computes: one variant per layer kind, with everything the kind needs
/// besides its input shape. Every per-kind fact lives in this type's methods; every
/// consumer matches on it without a catch-all arm, so that a new kind fails to compile
/// wherever it must be handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `affine N -> M`: `y = x·W + b` with `W: [N, M]`, `b: [M]`.
    Affine {
        /// `M`, the number of outputs.
        outputs: usize,
    },
    /// `conv CxHxW -> FxH'xW' kernel K stride S pad P`: `F` filters `W: [F, C, Kh, Kw]`
    /// and a bias `b: [F]`, zero padding.
    Conv2d {
        /// `F`, the number of filters (output channels).
        filters: usize,
        /// `[Kh, Kw]`.
        kernel: [usize; 2],
        /// `[Sh, Sw]`, 1 unless given.
        stride: [usize; 2],
        /// `[Ph, Pw]`, 0 unless given.
        pad: [usize; 2],
    },
    /// `maxpool CxHxW -> CxH'xW' size K stride S`: the maximum of each window, per
    /// channel; no padding, no parameters.
    MaxPool {
        /// `[Kh, Kw]`, the window.
        size: [usize; 2],
        /// `[Sh, Sw]`, the window's size unless given.
        stride: [usize; 2],
    },
    /// `flatten CxHxW -> N` with `N = C·H·W`, in `(c, h, w)` order.
    Flatten,
}

/// Why an op cannot take an input shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InferError {
    /// The input has `found` sizes where the op takes `expected` (1 for `affine`, 3 for
    /// the others).
    Rank {
        /// What the op takes.
        expected: usize,
        /// What it was given.
        found: usize,
    },
    /// The window (kernel or pool) is larger than the (padded) input along `axis` (0:
    /// height, 1: width).
    WindowTooLarge {
        /// 0 for the height, 1 for the width.
        axis: usize,
        /// The window's size along the axis.
        window: usize,
        /// The input's size along the axis, padding included.
        padded: usize,
    },
    /// The output would have more values than any shape may.
    TooLarge,
}

impl Op {
    /// Every kind with its name in the language, in the order `help` lists them.
    pub const KINDS: [&'static str; 4] = ["affine", "conv", "maxpool", "flatten"];

    /// The kind's name in the language.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Affine { .. } => "affine",
            Op::Conv2d { .. } => "conv",
            Op::MaxPool { .. } => "maxpool",
            Op::Flatten => "flatten",
        }
    }

    /// The rank of the input this op takes: 1 for `affine`, 3 (channels x height x
    /// width) for the others.
    pub fn input_rank(&self) -> usize {
        match self {
            Op::Affine { .. } => 1,
            Op::Conv2d { .. } | Op::MaxPool { .. } | Op::Flatten => 3,
        }
    }

    /// Whether the op applies an activation (`maxpool` and `flatten` do not).
    pub fn takes_activation(&self) -> bool {
        match self {
            Op::Affine { .. } | Op::Conv2d { .. } => true,
            Op::MaxPool { .. } | Op::Flatten => false,
        }
    }

    /// Whether the op owns parameter tensors (a weight and a bias).
    pub fn has_parameters(&self) -> bool {
        match self {
            Op::Affine { .. } | Op::Conv2d { .. } => true,
            Op::MaxPool { .. } | Op::Flatten => false,
        }
    }

    /// The output shape for `input`, with the arithmetic of LANGUAGE.md §8.
    pub fn infer(&self, input: &Shape) -> Result<Shape, InferError> {
        if input.rank() != self.input_rank() {
            return Err(InferError::Rank {
                expected: self.input_rank(),
                found: input.rank(),
            });
        }
        let dims = input.dims();
        let shape = match *self {
            Op::Affine { outputs } => Shape(vec![outputs]),
            Op::Conv2d {
                filters,
                kernel,
                stride,
                pad,
            } => {
                let [h, w] = window_output([dims[1], dims[2]], kernel, stride, pad)?;
                Shape(vec![filters, h, w])
            }
            Op::MaxPool { size, stride } => {
                let [h, w] = window_output([dims[1], dims[2]], size, stride, [0, 0])?;
                Shape(vec![dims[0], h, w])
            }
            Op::Flatten => Shape(vec![input.len()]),
        };
        let fits = shape
            .dims()
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
            .is_some_and(|n| n <= crate::check::MAX_SIZE);
        if fits {
            Ok(shape)
        } else {
            Err(InferError::TooLarge)
        }
    }

    /// The shapes of the op's parameter tensors for `input`, weight first: `[IN, OUT]`
    /// and `[OUT]` for `affine`, `[F, C, Kh, Kw]` and `[F]` for `conv`, none otherwise.
    pub fn tensor_shapes(&self, input: &Shape) -> Vec<Vec<usize>> {
        match *self {
            Op::Affine { outputs } => vec![vec![input.len(), outputs], vec![outputs]],
            Op::Conv2d {
                filters, kernel, ..
            } => {
                let channels = input.dims().first().copied().unwrap_or(0);
                vec![vec![filters, channels, kernel[0], kernel[1]], vec![filters]]
            }
            Op::MaxPool { .. } | Op::Flatten => Vec::new(),
        }
    }

    /// Multiply-adds for one sample: `IN·OUT` for `affine`, `F·H'·W'·C·Kh·Kw` for
    /// `conv`, none for `maxpool` and `flatten` (comparisons and copies only).
    pub fn multiply_adds(&self, input: &Shape, output: &Shape) -> u128 {
        match *self {
            Op::Affine { outputs } => input.len() as u128 * outputs as u128,
            Op::Conv2d { kernel, .. } => {
                let channels = input.dims().first().copied().unwrap_or(0);
                output.len() as u128 * (channels * kernel[0] * kernel[1]) as u128
            }
            Op::MaxPool { .. } | Op::Flatten => 0,
        }
    }

    /// The inputs that feed one output, which scales the initial weights (He or
    /// Xavier): `IN` for `affine`, `C·Kh·Kw` for `conv`; `None` without parameters.
    pub fn fan_in(&self, input: &Shape) -> Option<usize> {
        match *self {
            Op::Affine { .. } => Some(input.len()),
            Op::Conv2d { kernel, .. } => {
                Some(input.dims().first().copied().unwrap_or(0) * kernel[0] * kernel[1])
            }
            Op::MaxPool { .. } | Op::Flatten => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Op;

    /// One op of every kind: the match has no catch-all, so a new kind must be added
    /// here, and then its name must be in `KINDS` (which the checker resolves and
    /// suggests from).
    fn one_of_each() -> Vec<Op> {
        let every = [
            Op::Affine { outputs: 1 },
            Op::Conv2d {
                filters: 1,
                kernel: [1, 1],
                stride: [1, 1],
                pad: [0, 0],
            },
            Op::MaxPool {
                size: [1, 1],
                stride: [1, 1],
            },
            Op::Flatten,
        ];
        for op in every {
            match op {
                Op::Affine { .. } | Op::Conv2d { .. } | Op::MaxPool { .. } | Op::Flatten => {}
            }
        }
        every.to_vec()
    }

    #[test]
    fn every_kind_is_named_once_in_kinds() {
        let names: Vec<&str> = one_of_each().iter().map(Op::name).collect();
        assert_eq!(names, Op::KINDS);
        for op in one_of_each() {
            let checked = crate::compile(&format!(
                "network N {{ layer {} {} -> {} {} }}",
                op.name(),
                if op.input_rank() == 1 { "4" } else { "1x4x4" },
                match op {
                    Op::Affine { .. } => "1",
                    Op::Conv2d { .. } | Op::MaxPool { .. } => "1x4x4",
                    Op::Flatten => "16",
                },
                match op {
                    Op::Conv2d { .. } => "kernel 1",
                    Op::MaxPool { .. } => "size 1",
                    Op::Affine { .. } | Op::Flatten => "",
                },
            ));
            assert!(
                checked.diagnostics.is_empty(),
                "{}: {:?}",
                op.name(),
                checked.diagnostics
            );
            assert_eq!(checked.program.networks[0].layers[0].op.name(), op.name());
        }
    }
}

/// `(n + 2p − k) / s + 1` along height and width; an error when the window does not
/// fit in the padded input.
fn window_output(
    input: [usize; 2],
    window: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Result<[usize; 2], InferError> {
    let mut out = [0; 2];
    for axis in 0..2 {
        let padded = input[axis] + 2 * pad[axis];
        if window[axis] > padded {
            return Err(InferError::WindowTooLarge {
                axis,
                window: window[axis],
                padded,
            });
        }
        out[axis] = (padded - window[axis]) / stride[axis].max(1) + 1;
    }
    Ok(out)
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

/// A parameter tensor that a layer owns: its name in a parameter file (§4) and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
    /// `W1`, `b1`, or `hidden1.weight`, `hidden1.bias` for a named layer.
    pub name: String,
    /// The shape in the file: `[IN, OUT]`, `[OUT]`, `[F, C, Kh, Kw]`, `[F]`.
    pub shape: Vec<usize>,
    /// The values written inline in the definition, row-major, if any.
    pub values: Option<Values>,
}

impl TensorSpec {
    /// The number of values.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor holds no value (never, for a checked one).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
    /// What the layer computes.
    pub op: Op,
    /// The shape of one input sample.
    pub input: Shape,
    /// The shape of one output sample: `op.infer(&input)`.
    pub output: Shape,
    /// The activation, `Identity` when the source has no `act`.
    pub activation: Activation,
    /// The parameter tensors the op owns (weight, then bias), with inline values if the
    /// definition gives them; empty for `maxpool` and `flatten`.
    pub tensors: Vec<TensorSpec>,
}

impl Layer {
    /// The number of parameters: the values of every tensor.
    pub fn parameter_count(&self) -> u128 {
        self.tensors.iter().map(|t| t.len() as u128).sum()
    }

    /// Multiply-adds for one sample.
    pub fn multiply_adds(&self) -> u128 {
        self.op.multiply_adds(&self.input, &self.output)
    }

    /// Whether the parameters are written in the definition.
    pub fn has_inline_parameters(&self) -> bool {
        !self.tensors.is_empty() && self.tensors.iter().all(|t| t.values.is_some())
    }
}
