//! The 3-D layers as generated code uses them: `Conv2d`, `MaxPool2d` and `Flatten`
//! against plain references written from the formulas, single samples and batches in
//! any layout, the `Layer` trait, and loading.

mod common;

use common::{Raw, safetensors};
use nn_runtime::__private::{Layer, RowCost, forward_in_blocks};
use nn_runtime::ndarray::{Array2, ArrayView2, ShapeBuilder, s};
use nn_runtime::{
    Activation, Affine, Conv2d, Conv2dConfig, Flatten, Float, Format, InitRng, LoadError,
    MaxPool2d, Pool2dConfig, ShapeError, Tensors,
};

/// `act(b[f] + Σ W[f,c,u,v] · x[c, i·S+u−P, j·S+v−P])` with nested loops, in `f64`.
fn reference_conv<T: Float>(
    config: &Conv2dConfig<T>,
    weight: &[f64],
    bias: &[f64],
    x: &[f64],
) -> Vec<T> {
    let [c_in, h, w] = config.input;
    let [f_out, oh, ow] = config.output();
    let [kh, kw] = config.kernel;
    let mut y = Vec::new();
    for f in 0..f_out {
        for i in 0..oh {
            for j in 0..ow {
                let mut sum = bias[f];
                for c in 0..c_in {
                    for u in 0..kh {
                        for v in 0..kw {
                            let r = (i * config.stride[0] + u) as isize - config.pad[0] as isize;
                            let q = (j * config.stride[1] + v) as isize - config.pad[1] as isize;
                            if r >= 0 && q >= 0 && (r as usize) < h && (q as usize) < w {
                                sum += weight[((f * c_in + c) * kh + u) * kw + v]
                                    * x[(c * h + r as usize) * w + q as usize];
                            }
                        }
                    }
                }
                y.push(T::from_f64(sum));
            }
        }
    }
    config.activation.apply_in_place(&mut y);
    y
}

/// The maximum of each window, with nested loops.
fn reference_pool(config: &Pool2dConfig, x: &[f64]) -> Vec<f64> {
    let [c_in, h, w] = config.input;
    let [_, oh, ow] = config.output();
    let mut y = Vec::new();
    for c in 0..c_in {
        for i in 0..oh {
            for j in 0..ow {
                let mut m = f64::NEG_INFINITY;
                for u in 0..config.size[0] {
                    for v in 0..config.size[1] {
                        m = m.max(
                            x[(c * h + i * config.stride[0] + u) * w + j * config.stride[1] + v],
                        );
                    }
                }
                y.push(m);
            }
        }
    }
    y
}

fn to_f64<T: Float>(xs: impl IntoIterator<Item = T>) -> Vec<f64> {
    xs.into_iter()
        .map(|x| x.to_f64().unwrap_or(f64::NAN))
        .collect()
}

fn assert_close<T: Float>(got: &[T], want: &[T], tolerance: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (k, (a, b)) in to_f64(got.iter().copied())
        .iter()
        .zip(to_f64(want.iter().copied()))
        .enumerate()
    {
        assert!(
            (a - b).abs() <= tolerance * b.abs().max(1.0),
            "{what}, value {k}: {a} vs {b}"
        );
    }
}

/// A batch of `rows` samples of `n` values, in three layouts: row-major, column-major,
/// and every other row of a bigger matrix read backwards.
fn layouts<T: Float>(
    rows: usize,
    n: usize,
    rng: &mut InitRng,
) -> (Array2<T>, Array2<T>, Array2<T>) {
    let x = Array2::from_shape_fn((rows, n), |_| T::from_f64(rng.normal()));
    let mut column_major = Array2::zeros((rows, n).f());
    column_major.assign(&x);
    let mut big = Array2::from_elem((2 * rows, n), T::nan());
    for r in 0..rows {
        big.row_mut(2 * (rows - 1 - r) + 1).assign(&x.row(r));
    }
    (x, column_major, big)
}

/// A typed conv layer against the reference: one sample, and batches in three layouts.
fn check_conv<T: Float, const IN: usize, const OUT: usize>(
    config: Conv2dConfig<T>,
    seed: u64,
    tolerance: f64,
) {
    let mut rng = InitRng::new(seed);
    let conv = Conv2d::<T, IN, OUT>::random(config, &mut rng);
    // Random biases too, so that a bias in the wrong place shows.
    let bias: Vec<T> = (0..config.filters)
        .map(|_| T::from_f64(rng.normal()))
        .collect();
    let weight = conv.weight();
    let conv =
        Conv2d::<T, IN, OUT>::new(config, weight.as_slice().expect("standard layout"), &bias)
            .expect("lengths");
    assert_eq!(conv.weight(), weight);
    let (w64, b64) = (to_f64(weight.iter().copied()), to_f64(bias.iter().copied()));
    let (x, column_major, big) = layouts::<T>(5, IN, &mut rng);
    let strided: ArrayView2<'_, T> = big.slice(s![..;-2, ..]);
    let mut want = Vec::new();
    for row in x.rows() {
        let sample: [T; IN] = row.to_vec().try_into().expect("IN values");
        let expected = reference_conv(&config, &w64, &b64, &to_f64(sample));
        assert_close(
            &conv.forward(&sample),
            &expected,
            tolerance,
            &format!("{config:?} single"),
        );
        want.extend(expected);
    }
    for (layout, batch) in [
        ("row-major", x.view()),
        ("column-major", column_major.view()),
        ("strided", strided),
    ] {
        let y = conv.forward_batch(batch).expect("width IN");
        assert_close(
            y.as_slice().expect("row-major"),
            &want,
            tolerance,
            &format!("{config:?} {layout}"),
        );
    }
}

fn conv_config<T>(
    input: [usize; 3],
    filters: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    activation: Activation<T>,
) -> Conv2dConfig<T> {
    Conv2dConfig {
        input,
        filters,
        kernel,
        stride,
        pad,
        activation,
    }
}

#[test]
fn conv_layers_agree_with_the_reference() {
    check_conv::<f32, 784, 17_280>(
        conv_config([1, 28, 28], 30, [5, 5], [1, 1], [0, 0], Activation::Relu),
        1,
        1e-5,
    );
    // 3 channels, rectangular kernel, stride 2, pad 1: 3x9x11 -> 5x5x5.
    check_conv::<f32, 297, 125>(
        conv_config([3, 9, 11], 5, [3, 4], [2, 2], [1, 1], Activation::Identity),
        2,
        1e-5,
    );
    check_conv::<f64, 297, 125>(
        conv_config([3, 9, 11], 5, [3, 4], [2, 2], [1, 1], Activation::Tanh),
        3,
        1e-12,
    );
    // Stride 3 by 2, pad 2 by 1: 2x10x7 -> 9x5x4.
    check_conv::<f64, 140, 180>(
        conv_config(
            [2, 10, 7],
            9,
            [2, 3],
            [3, 2],
            [2, 1],
            Activation::LeakyRelu(0.1),
        ),
        4,
        1e-12,
    );
    // Softmax over the whole flat output sample.
    check_conv::<f32, 50, 98>(
        conv_config([2, 5, 5], 2, [1, 1], [1, 1], [1, 1], Activation::Softmax),
        5,
        1e-5,
    );
}

#[test]
fn pool_layers_agree_with_the_reference() {
    fn check<const IN: usize, const OUT: usize>(config: Pool2dConfig, seed: u64) {
        let pool = MaxPool2d::<f32, IN, OUT>::new(config);
        let mut rng = InitRng::new(seed);
        let (x, column_major, big) = layouts::<f32>(3, IN, &mut rng);
        let mut want = Vec::new();
        for row in x.rows() {
            let sample: [f32; IN] = row.to_vec().try_into().expect("IN values");
            let expected: Vec<f32> = reference_pool(&config, &to_f64(sample))
                .iter()
                .map(|&v| v as f32)
                .collect();
            assert_eq!(pool.forward(&sample)[..], expected[..], "{config:?}");
            want.extend(expected);
        }
        for batch in [x.view(), column_major.view(), big.slice(s![..;-2, ..])] {
            assert_eq!(
                pool.forward_batch(batch)
                    .expect("width IN")
                    .as_slice()
                    .expect("row-major"),
                &want[..]
            );
        }
    }
    check::<17_280, 4_320>(
        Pool2dConfig {
            input: [30, 24, 24],
            size: [2, 2],
            stride: [2, 2],
        },
        1,
    );
    // Stride other than the size, and windows that leave the last row and column out.
    check::<105, 18>(
        Pool2dConfig {
            input: [3, 7, 5],
            size: [3, 2],
            stride: [2, 2],
        },
        2,
    );
    check::<56, 18>(
        Pool2dConfig {
            input: [2, 4, 7],
            size: [2, 3],
            stride: [1, 2],
        },
        3,
    );
}

#[test]
fn a_nan_in_a_window_is_the_maximum() {
    let pool = MaxPool2d::<f64, 8, 2>::new(Pool2dConfig {
        input: [2, 2, 2],
        size: [2, 2],
        stride: [2, 2],
    });
    let y = pool.forward(&[1.0, f64::NAN, 3.0, 2.0, -1.0, -2.0, -3.0, -4.0]);
    assert!(y[0].is_nan() && y[1] == -1.0, "{y:?}");
}

#[test]
fn geometry_arithmetic() {
    let config = conv_config(
        [3, 32, 30],
        16,
        [3, 5],
        [2, 3],
        [1, 2],
        Activation::<f32>::Relu,
    );
    // (32 + 2 - 3) / 2 + 1 = 16, (30 + 4 - 5) / 3 + 1 = 10.
    assert_eq!(config.output(), [16, 16, 10]);
    assert_eq!(config.weight_shape(), [16, 3, 3, 5]);
    assert_eq!(
        (config.fan_in(), config.multiply_adds()),
        (45, 16 * 16 * 10 * 45)
    );
    let too_big = conv_config(
        [1, 2, 2],
        1,
        [5, 5],
        [1, 1],
        [1, 1],
        Activation::<f32>::Relu,
    );
    assert_eq!(too_big.output(), [1, 0, 0]);
}

#[test]
#[should_panic(expected = "takes 784 values to 17280, but the layer's type takes 784 to 17000")]
fn a_config_that_disagrees_with_the_type_panics() {
    let config = conv_config(
        [1, 28, 28],
        30,
        [5, 5],
        [1, 1],
        [0, 0],
        Activation::<f32>::Relu,
    );
    let _ = Conv2d::<f32, 784, 17_000>::zeros(config);
}

#[test]
#[should_panic(expected = "the stride [0, 1] has a zero")]
fn a_zero_stride_panics() {
    let _ = MaxPool2d::<f32, 4, 4>::new(Pool2dConfig {
        input: [1, 2, 2],
        size: [1, 1],
        stride: [0, 1],
    });
}

/// The book's SimpleConvNet as the generated code writes it.
struct SimpleConvNet {
    layer1: Conv2d<f32, 784, 17_280>,
    layer2: MaxPool2d<f32, 17_280, 4_320>,
    layer3: Flatten<f32, 4_320>,
    layer4: Affine<f32, 4_320, 100>,
    layer5: Affine<f32, 100, 10>,
}

const CONV: Conv2dConfig<f32> = Conv2dConfig {
    input: [1, 28, 28],
    filters: 30,
    kernel: [5, 5],
    stride: [1, 1],
    pad: [0, 0],
    activation: Activation::Relu,
};
const POOL: Pool2dConfig = Pool2dConfig {
    input: [30, 24, 24],
    size: [2, 2],
    stride: [2, 2],
};
const COST: RowCost = RowCost {
    multiply_adds: 432_000 + 432_000 + 1_000,
    widest: 17_280,
};

impl SimpleConvNet {
    fn load(tensors: &mut Tensors) -> Result<Self, LoadError> {
        Ok(SimpleConvNet {
            layer1: Layer::load(CONV, tensors, &["W1", "b1"])?,
            layer2: Layer::load(POOL, tensors, &[])?,
            layer3: Layer::load((), tensors, &[])?,
            layer4: Layer::load(Activation::Relu, tensors, &["W2", "b2"])?,
            layer5: Layer::load(Activation::Softmax, tensors, &["W3", "b3"])?,
        })
    }

    fn forward(&self, x: &[f32; 784]) -> [f32; 10] {
        let x = &self.layer1.forward(x);
        let x = &self.layer2.forward(x);
        let x = &self.layer3.forward(x);
        let x = &self.layer4.forward(x);
        self.layer5.forward(x)
    }

    fn forward_batch(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, ShapeError> {
        forward_in_blocks(x, 784, 10, COST, |x, out| {
            let x = Layer::forward_rows(&self.layer1, x)?;
            let x = Layer::forward_rows(&self.layer2, x.view())?;
            let x = Layer::forward_rows(&self.layer3, x.view())?;
            let x = Layer::forward_rows(&self.layer4, x.view())?;
            Layer::forward_rows_into(&self.layer5, x.view(), out)
        })
    }
}

/// A SimpleConvNet-shaped file with made-up values, and the network loaded from it.
fn simple_convnet_file(w1_shape: &[usize]) -> Vec<u8> {
    let mut rng = InitRng::new(5);
    let tensor = |name: &str, shape: &[usize], scale: f64, rng: &mut InitRng| {
        let values: Vec<f32> = (0..shape.iter().product())
            .map(|_| (scale * rng.normal()) as f32)
            .collect();
        Raw::f32(name, shape, &values)
    };
    safetensors(&[
        tensor("W1", w1_shape, 0.2, &mut rng),
        tensor("b1", &[30], 0.1, &mut rng),
        tensor("W2", &[4320, 100], 0.02, &mut rng),
        tensor("b2", &[100], 0.1, &mut rng),
        tensor("W3", &[100, 10], 0.1, &mut rng),
        tensor("b3", &[10], 0.1, &mut rng),
    ])
}

#[test]
fn the_simple_convnet_loads_and_agrees_single_and_batched() {
    let file = simple_convnet_file(&[30, 1, 5, 5]);
    let mut tensors = Tensors::from_bytes(&file, Format::Safetensors, "simple_convnet.safetensors")
        .expect("valid");
    let net = SimpleConvNet::load(&mut tensors).expect("the right shapes");
    tensors.finish().expect("every tensor used");
    let mut check = Tensors::from_bytes(&file, Format::Safetensors, "again").expect("valid");
    let w1: Vec<f32> = check.take("W1", &[30, 1, 5, 5]).expect("W1");
    assert_eq!(net.layer1.weight().as_slice().expect("OIHW"), &w1[..]);
    assert_eq!(
        net.layer1.bias(),
        &check.take::<f32>("b1", &[30]).expect("b1")[..]
    );

    let mut rng = InitRng::new(9);
    let images = Array2::from_shape_fn((9, 784), |(_, p)| {
        if p % 28 < 6 {
            0.0
        } else {
            rng.uniform() as f32
        }
    });
    let batch = net.forward_batch(images.view()).expect("width 784");
    for (r, row) in images.rows().into_iter().enumerate() {
        let x: [f32; 784] = row.to_vec().try_into().expect("784 values");
        let single = net.forward(&x);
        assert_close(
            &single,
            batch.row(r).as_slice().expect("row"),
            1e-5,
            &format!("image {r}"),
        );
        assert!((single.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

#[test]
fn a_conv_weight_of_the_wrong_shape_names_both_shapes() {
    let file = simple_convnet_file(&[30, 5, 5, 1]);
    let mut tensors =
        Tensors::from_bytes(&file, Format::Safetensors, "convnet.safetensors").expect("valid");
    let err =
        Conv2d::<f32, 784, 17_280>::load(CONV, &mut tensors, "W1", "b1").expect_err("wrong shape");
    assert!(matches!(err, LoadError::WrongShape { .. }));
    assert_eq!(
        err.to_string(),
        "convnet.safetensors: tensor `W1` has shape [30, 5, 5, 1] but the network expects [30, 1, 5, 5]"
    );
    let err = <Conv2d<f32, 784, 17_280> as Layer>::load(CONV, &mut tensors, &["W1", "b9"])
        .expect_err("wrong shape");
    assert!(
        err.to_string().contains("`W1` has shape [30, 5, 5, 1]"),
        "{err}"
    );
}

#[test]
fn flatten_is_a_view() {
    let flatten = Flatten::<f64, 6>::new();
    let x = Array2::from_shape_fn((4, 6), |(r, c)| (r * 6 + c) as f64);
    let y = Layer::forward_rows(&flatten, x.view()).expect("width 6");
    assert!(y.is_view() && y.as_ptr() == x.as_ptr());
    let mut out = vec![0.0; 24];
    Layer::forward_rows_into(&flatten, x.t().as_standard_layout().t(), &mut out).expect("width 6");
    assert_eq!(out, x.as_slice().expect("row-major"));
    assert_eq!(
        Layer::forward_rows(&flatten, Array2::zeros((1, 5)).view()).map(|_| ()),
        Err(ShapeError::input_width(6, 5))
    );
}
