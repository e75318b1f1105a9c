//! The `candle` side: three `candle_nn::Linear` layers with `candle_nn::ops::sigmoid` and
//! `candle_nn::ops::softmax_last_dim`, on the CPU, as a candle user writes the book's
//! network.
//!
//! The weights are read with candle's own safetensors loader. `Linear` holds its weight
//! `[out, in]` (PyTorch's layout) and computes `x · Wᵀ + b`; the book stores `W` as
//! `[in, out]`, so each `W` is transposed once, at load. The images are one `(n, 784)`
//! tensor made before timing; each call takes a `narrow` view of it (no copy), as the
//! other sides take views of the same pixels.
//!
//! candle's matmul (the `gemm` crate) asks `RAYON_NUM_THREADS` how many threads to use
//! on every call; when it is unset (or empty) it re-reads `/proc/cpuinfo` each time, which
//! makes a single-image forward ~10 times slower. `main` sets it to 2 when it is unset.
//!
//! The SimpleConvNet ([`CandleConvNet`]): `candle_nn::Conv2d` (30 filters 5x5, stride 1,
//! no padding; the weight `[30, 1, 5, 5]` is already candle's `[out, in, h, w]`), `relu`,
//! `max_pool2d(2)` (stride 2), `flatten_from(1)` (channel, row, column), two `Linear`
//! (weights transposed at load, as above) with `relu` between, and `softmax_last_dim`.
//! The images are one `(n, 1, 28, 28)` tensor made before timing, narrowed per call.

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use candle_core::{DType, Device, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Linear, Module};

use crate::{Case, Data, IMAGE_SHAPE, INPUT, OUTPUT, Runner, Timing, classes_of_rows, measure};

/// The network as candle-nn layers, and the images as one tensor.
pub struct Candle {
    layers: [Linear; 3],
    images: Tensor,
}

/// The tensor `name` of `tensors`, checked to be F32 of `shape`.
fn tensor(
    tensors: &std::collections::HashMap<String, Tensor>,
    name: &str,
    shape: &[usize],
) -> Result<Tensor> {
    let t = tensors
        .get(name)
        .with_context(|| format!("the weights have no tensor `{name}`"))?;
    ensure!(
        t.dims() == shape && t.dtype() == DType::F32,
        "`{name}` is {:?} {:?}, expected F32 {shape:?}",
        t.dtype(),
        t.dims()
    );
    Ok(t.clone())
}

impl Candle {
    pub fn load(weights: &Path, data: &Data) -> Result<Candle> {
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(weights, &device)
            .with_context(|| format!("cannot load {}", weights.display()))?;
        let sizes = [INPUT, 50, 100, OUTPUT];
        let mut layers = Vec::with_capacity(3);
        for (i, pair) in sizes.windows(2).enumerate() {
            let (inputs, outputs) = (pair[0], pair[1]);
            let w = tensor(&tensors, &format!("W{}", i + 1), &[inputs, outputs])?;
            let b = tensor(&tensors, &format!("b{}", i + 1), &[outputs])?;
            layers.push(Linear::new(w.t()?.contiguous()?, Some(b)));
        }
        let layers = <[Linear; 3]>::try_from(layers)
            .map_err(|_| anyhow::anyhow!("expected three layers"))?;
        let images = Tensor::from_slice(&data.pixels, (data.len(), INPUT), &device)?;
        Ok(Candle { layers, images })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let [l1, l2, l3] = &self.layers;
        let h = candle_nn::ops::sigmoid(&l1.forward(x)?)?;
        let h = candle_nn::ops::sigmoid(&l2.forward(&h)?)?;
        candle_nn::ops::softmax_last_dim(&l3.forward(&h)?)
    }
}

/// The classes of the rows of each output tensor.
fn classes(out: &[Tensor]) -> Result<Vec<usize>> {
    let mut classes = Vec::new();
    for y in out {
        classes.extend(classes_of_rows(&y.flatten_all()?.to_vec1::<f32>()?)?);
    }
    Ok(classes)
}

fn threads() -> String {
    format!(
        "RAYON_NUM_THREADS={} (gemm threads: {})",
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".to_owned()),
        candle_core::utils::get_num_threads()
    )
}

/// Times `forward` on `images` (first axis: the images) in calls of `case`'s batch size.
fn time_forward(
    images: &Tensor,
    forward: impl Fn(&Tensor) -> candle_core::Result<Tensor>,
    case: Case,
    data: &Data,
    repeats: NonZeroUsize,
) -> Result<Timing> {
    let n = data.len();
    let size = case.batch_size(n);
    measure(
        repeats,
        &data.labels,
        || {
            let mut out = Vec::with_capacity(n.div_ceil(size));
            for start in (0..n).step_by(size) {
                let x = images.narrow(0, start, size.min(n - start))?;
                out.push(forward(&x)?);
            }
            Ok(out)
        },
        |out: &Vec<Tensor>| classes(out),
    )
}

impl Runner for Candle {
    fn threads(&self) -> String {
        threads()
    }

    fn time(&self, case: Case, data: &Data, repeats: NonZeroUsize) -> Result<Timing> {
        time_forward(&self.images, |x| self.forward(x), case, data, repeats)
    }
}

/// The SimpleConvNet as candle-nn layers, and the images as one `(n, 1, 28, 28)` tensor.
pub struct CandleConvNet {
    conv: Conv2d,
    affine: [Linear; 2],
    images: Tensor,
}

impl CandleConvNet {
    pub fn load(weights: &Path, data: &Data) -> Result<CandleConvNet> {
        let device = Device::Cpu;
        let tensors = candle_core::safetensors::load(weights, &device)
            .with_context(|| format!("cannot load {}", weights.display()))?;
        let [channels, rows, columns] = IMAGE_SHAPE;
        let w1 = tensor(&tensors, "W1", &[30, channels, 5, 5])?;
        let b1 = tensor(&tensors, "b1", &[30])?;
        let config = Conv2dConfig {
            padding: 0,
            stride: 1,
            dilation: 1,
            groups: 1,
            ..Default::default()
        };
        let conv = Conv2d::new(w1, Some(b1), config);
        let flat = 30 * ((rows - 4) / 2) * ((columns - 4) / 2);
        let mut affine = Vec::with_capacity(2);
        for (name, inputs, outputs) in [("2", flat, 100), ("3", 100, OUTPUT)] {
            let w = tensor(&tensors, &format!("W{name}"), &[inputs, outputs])?;
            let b = tensor(&tensors, &format!("b{name}"), &[outputs])?;
            affine.push(Linear::new(w.t()?.contiguous()?, Some(b)));
        }
        let affine = <[Linear; 2]>::try_from(affine)
            .map_err(|_| anyhow::anyhow!("expected two affine layers"))?;
        ensure!(
            INPUT == channels * rows * columns,
            "an image is not 1x28x28"
        );
        let images =
            Tensor::from_slice(&data.pixels, (data.len(), channels, rows, columns), &device)?;
        Ok(CandleConvNet {
            conv,
            affine,
            images,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let [l2, l3] = &self.affine;
        let h = self.conv.forward(x)?.relu()?;
        let h = h.max_pool2d(2)?.flatten_from(1)?;
        let h = l2.forward(&h)?.relu()?;
        candle_nn::ops::softmax_last_dim(&l3.forward(&h)?)
    }
}

impl Runner for CandleConvNet {
    fn threads(&self) -> String {
        threads()
    }

    fn time(&self, case: Case, data: &Data, repeats: NonZeroUsize) -> Result<Timing> {
        time_forward(&self.images, |x| self.forward(x), case, data, repeats)
    }
}
