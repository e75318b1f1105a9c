//! Differential test of the generated code: networks of every layer kind, written with
//! `network!` in varied geometry (strides, padding, rectangular kernels and pools,
//! several channels, two convolutions in a row, networks that end in a conv or a
//! flatten), in `f32` and `f64`, agree with a plain reference computed in `f64` from the
//! formulas of LANGUAGE.md §4 and §8, for random weights, biases and inputs (with
//! zeros, as images have), one sample at a time and in batches.
//!
//! The architectures are fixed (the macro runs at compile time); the parameters and
//! inputs are drawn by proptest.

mod common;

use common::{Raw, safetensors};
use nn_runtime::ndarray::Array2;
use nn_runtime::{Activation, Affine, Conv2d, Flatten, InitRng, MaxPool2d, network};
use proptest::prelude::*;

network! {
    network Small<f64> {
        layer conv 2x7x6 -> 3x4x4 kernel 3x2 stride 2 pad 1 act tanh
        layer maxpool 3x4x4 -> 3x3x3 size 2 stride 1
        layer flatten 3x3x3 -> 27
        layer affine 27 -> 5 act softmax
    }
    network Strided {
        layer conv 3x9x9 -> 4x3x3 kernel 3 stride 3 act relu
        layer flatten 4x3x3 -> 36
        layer affine 36 -> 4 act sigmoid
    }
    network Padded {
        layer conv 1x5x5 -> 2x7x7 kernel 1 pad 1 act leaky_relu(0.1)
        layer maxpool 2x7x7 -> 2x3x3 size 3 stride 2
        layer flatten 2x3x3 -> 18
        layer affine 18 -> 3
    }
    network TwoConvs<f64> {
        layer conv 1x12x12 -> 4x10x10 kernel 3 act relu
        layer maxpool 4x10x10 -> 4x5x5 size 2
        layer conv 4x5x5 -> 6x5x5 kernel 3 pad 1 act relu
        layer flatten 6x5x5 -> 150
        layer affine 150 -> 10 act softmax
    }
    network Wide {
        layer conv 2x4x40 -> 3x4x38 kernel 1x3
        layer maxpool 3x4x38 -> 3x2x19 size 2
        layer flatten 3x2x19 -> 114
        layer affine 114 -> 2 act tanh
    }
    network ConvLast {
        layer conv 1x6x6 -> 2x4x4 kernel 3 act sigmoid
    }
    network FlattenLast<f64> {
        layer maxpool 2x4x4 -> 2x2x2 size 2
        layer flatten 2x2x2 -> 8
    }
    network RectStride<f64> {
        layer conv 3x11x8 -> 5x6x5 kernel 3x2 stride 2 pad 1 act relu
        layer maxpool 5x6x5 -> 5x2x2 size 3x2 stride 2x3
        layer flatten 5x2x2 -> 20
        layer affine 20 -> 3 act softmax
    }
}

/// `f32` or `f64`, widened for the reference.
trait Elem: nn_runtime::Float {
    fn wide(self) -> f64;
    fn raw(name: &str, shape: &[usize], values: &[f64]) -> Raw;
}

impl Elem for f32 {
    fn wide(self) -> f64 {
        f64::from(self)
    }
    fn raw(name: &str, shape: &[usize], values: &[f64]) -> Raw {
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        Raw::f32(name, shape, &narrow)
    }
}

impl Elem for f64 {
    fn wide(self) -> f64 {
        self
    }
    fn raw(name: &str, shape: &[usize], values: &[f64]) -> Raw {
        Raw::f64(name, shape, values)
    }
}

/// A layer computed from its formula, in `f64`, from its own parameters.
trait Reference {
    fn reference(&self, x: &[f64]) -> Vec<f64>;
}

fn activate<T: Elem>(activation: Activation<T>, y: &mut [f64]) {
    match activation {
        Activation::Identity => {}
        Activation::Step => y
            .iter_mut()
            .for_each(|v| *v = f64::from(u8::from(*v > 0.0))),
        Activation::Sigmoid => y.iter_mut().for_each(|v| *v = 1.0 / (1.0 + (-*v).exp())),
        Activation::Relu => y
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
        Activation::LeakyRelu(a) => {
            y.iter_mut()
                .for_each(|v| *v = if *v > 0.0 { *v } else { a.wide() * *v });
        }
        Activation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Softmax => {
            let m = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = y.iter().map(|v| (v - m).exp()).sum();
            y.iter_mut().for_each(|v| *v = (*v - m).exp() / sum);
        }
    }
}

impl<T: Elem, const IN: usize, const OUT: usize> Reference for Affine<T, IN, OUT> {
    /// `act(x·W + b)`, `W: [IN, OUT]`.
    fn reference(&self, x: &[f64]) -> Vec<f64> {
        let w = self.weight();
        let mut y: Vec<f64> = (0..OUT)
            .map(|o| self.bias()[o].wide() + (0..IN).map(|i| x[i] * w[[i, o]].wide()).sum::<f64>())
            .collect();
        activate(self.activation(), &mut y);
        y
    }
}

impl<T: Elem, const IN: usize, const OUT: usize> Reference for Conv2d<T, IN, OUT> {
    /// `y[f,i,j] = act(b[f] + Σ W[f,c,u,v] · x[c, i·S+u−P, j·S+v−P])`, zero padding.
    fn reference(&self, x: &[f64]) -> Vec<f64> {
        let config = self.config();
        let [c_in, h, w] = config.input;
        let [_, oh, ow] = config.output();
        let ([kh, kw], [sh, sw], [ph, pw]) = (config.kernel, config.stride, config.pad);
        let weight = self.weight();
        let mut y = Vec::with_capacity(OUT);
        for f in 0..config.filters {
            for i in 0..oh {
                for j in 0..ow {
                    let mut sum = self.bias()[f].wide();
                    for c in 0..c_in {
                        for u in 0..kh {
                            for v in 0..kw {
                                let row = (i * sh + u) as isize - ph as isize;
                                let col = (j * sw + v) as isize - pw as isize;
                                if (0..h as isize).contains(&row) && (0..w as isize).contains(&col)
                                {
                                    let xv = x[(c * h + row as usize) * w + col as usize];
                                    sum += weight[[f, c, u, v]].wide() * xv;
                                }
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        activate(config.activation, &mut y);
        y
    }
}

impl<T: Elem, const IN: usize, const OUT: usize> Reference for MaxPool2d<T, IN, OUT> {
    /// The maximum of each window, per channel.
    fn reference(&self, x: &[f64]) -> Vec<f64> {
        let config = self.config();
        let [c_in, h, w] = config.input;
        let [_, oh, ow] = config.output();
        let ([kh, kw], [sh, sw]) = (config.size, config.stride);
        let mut y = Vec::with_capacity(OUT);
        for c in 0..c_in {
            for i in 0..oh {
                for j in 0..ow {
                    let mut m = f64::NEG_INFINITY;
                    for u in 0..kh {
                        for v in 0..kw {
                            m = m.max(x[(c * h + i * sh + u) * w + j * sw + v]);
                        }
                    }
                    y.push(m);
                }
            }
        }
        y
    }
}

impl<T: Elem, const N: usize> Reference for Flatten<T, N> {
    /// The same values in the same `(c, h, w)` order.
    fn reference(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

/// Random parameters for the tensors `(name, shape)`, as a safetensors file in `T`.
fn parameters<T: Elem>(tensors: &[(&str, &[usize])], rng: &mut InitRng) -> tempfile::NamedTempFile {
    let raws: Vec<Raw> = tensors
        .iter()
        .map(|(name, shape)| {
            let values: Vec<f64> = (0..shape.iter().product())
                .map(|_| rng.normal() * 0.5)
                .collect();
            T::raw(name, shape, &values)
        })
        .collect();
    let file = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(file.path(), safetensors(&raws)).expect("write the parameters");
    file
}

/// A batch of `rows` inputs, about a third of them exactly 0.
fn inputs(rows: usize, width: usize, rng: &mut InitRng) -> Array2<f64> {
    Array2::from_shape_fn((rows, width), |_| {
        if rng.uniform() < 0.35 {
            0.0
        } else {
            rng.normal()
        }
    })
}

/// `got` and `want` agree to `tolerance`, relative to the larger of 1 and `want`.
fn agree(
    got: impl IntoIterator<Item = f64>,
    want: &[f64],
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let got: Vec<f64> = got.into_iter().collect();
    prop_assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        prop_assert!(
            (g - w).abs() <= tolerance * w.abs().max(1.0),
            "value {k}: {g} vs {w}"
        );
    }
    Ok(())
}

macro_rules! differential {
    ($test:ident: $net:ident<$t:ty>, tolerance $tol:expr,
     tensors [$(($name:literal, [$($d:literal),*])),* $(,)?],
     layers [$($layer:ident),+ $(,)?]) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]
            #[test]
            fn $test(seed in any::<u64>(), rows in 1..7usize) {
                let mut rng = InitRng::new(seed);
                let file = parameters::<$t>(&[$(($name, &[$($d),*])),*], &mut rng);
                let net = $net::load(file.path()).expect("parameters of the network's shapes");
                let x = inputs(rows, $net::INPUT, &mut rng);
                let x_t = x.mapv(|v| v as $t);
                let batch = net.forward_batch(x_t.view()).expect("the network's width");
                for r in 0..rows {
                    let sample: [$t; $net::INPUT] = x_t.row(r).to_vec().try_into().expect("INPUT values");
                    // The reference starts from the sample as the network sees it.
                    let mut want: Vec<f64> = sample.iter().map(|&v| v.wide()).collect();
                    $( want = net.$layer.reference(&want); )+
                    let single = net.forward(&sample);
                    agree(single.iter().map(|&v| v.wide()), &want, $tol)?;
                    agree(batch.row(r).iter().map(|&v| v.wide()), &want, $tol)?;
                }
            }
        }
    };
}

differential!(small_f64: Small<f64>, tolerance 1e-12,
    tensors [("W1", [3, 2, 3, 2]), ("b1", [3]), ("W2", [27, 5]), ("b2", [5])],
    layers [layer1, layer2, layer3, layer4]);
differential!(strided_f32: Strided<f32>, tolerance 1e-4,
    tensors [("W1", [4, 3, 3, 3]), ("b1", [4]), ("W2", [36, 4]), ("b2", [4])],
    layers [layer1, layer2, layer3]);
differential!(padded_f32: Padded<f32>, tolerance 1e-4,
    tensors [("W1", [2, 1, 1, 1]), ("b1", [2]), ("W2", [18, 3]), ("b2", [3])],
    layers [layer1, layer2, layer3, layer4]);
differential!(two_convs_f64: TwoConvs<f64>, tolerance 1e-12,
    tensors [("W1", [4, 1, 3, 3]), ("b1", [4]), ("W2", [6, 4, 3, 3]), ("b2", [6]),
             ("W3", [150, 10]), ("b3", [10])],
    layers [layer1, layer2, layer3, layer4, layer5]);
differential!(wide_f32: Wide<f32>, tolerance 1e-4,
    tensors [("W1", [3, 2, 1, 3]), ("b1", [3]), ("W2", [114, 2]), ("b2", [2])],
    layers [layer1, layer2, layer3, layer4]);
differential!(conv_last_f32: ConvLast<f32>, tolerance 1e-4,
    tensors [("W1", [2, 1, 3, 3]), ("b1", [2])],
    layers [layer1]);
differential!(flatten_last_f64: FlattenLast<f64>, tolerance 0.0,
    tensors [],
    layers [layer1, layer2]);
differential!(rect_stride_f64: RectStride<f64>, tolerance 1e-12,
    tensors [("W1", [5, 3, 3, 2]), ("b1", [5]), ("W2", [20, 3]), ("b2", [3])],
    layers [layer1, layer2, layer3, layer4]);
