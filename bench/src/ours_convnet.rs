//! The `nn-dsl` side of the SimpleConvNet (chapter 7): `examples::SimpleConvNet`, the
//! struct `network!` generates from `examples/nets/simple_convnet.nn` (conv 30 5x5 + relu, maxpool
//! 2x2, flatten, affine 4320-100 + relu, affine 100-10 + softmax), loaded with
//! `SimpleConvNet::load` from `examples/data/simple_convnet.safetensors` and run with its
//! own `forward` (one `&[f32; 784]`, the image `1x28x28` flat in channel, row, column
//! order, in; `[f32; 10]` out) and `forward_batch` (an `ndarray` view of rows of 784 in,
//! an `Array2` of rows of 10 out), like `ours.rs` runs the MLP.
//!
//! Built with the `convnet-ours` feature (on by default).

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result};
use nn_runtime::ndarray::{Array2, ArrayView2, Axis};

use crate::{Case, Data, INPUT, OUTPUT, Runner, Timing, classes_of_rows, measure};

use examples::SimpleConvNet;

/// The generated network with the book's weights.
pub struct OursConvNet {
    net: SimpleConvNet,
}

impl OursConvNet {
    pub fn load(weights: &Path) -> Result<OursConvNet> {
        let net = SimpleConvNet::load(weights)
            .with_context(|| format!("cannot load {}", weights.display()))?;
        Ok(OursConvNet { net })
    }
}

impl Runner for OursConvNet {
    fn threads(&self) -> String {
        crate::ours::rayon_threads()
    }

    fn time(&self, case: Case, data: &Data, repeats: NonZeroUsize) -> Result<Timing> {
        let net = &self.net;
        match case {
            Case::ConvSingle => {
                let images = data.images();
                measure(
                    repeats,
                    &data.labels,
                    || {
                        let mut out = Vec::with_capacity(images.len());
                        for image in images {
                            let y: [f32; OUTPUT] = net.forward(image);
                            out.push(y);
                        }
                        Ok(out)
                    },
                    |out: &Vec<[f32; OUTPUT]>| classes_of_rows(out.as_flattened()),
                )
            }
            _ => {
                let all = ArrayView2::from_shape((data.len(), INPUT), &data.pixels)?;
                let size = case.batch_size(data.len());
                measure(
                    repeats,
                    &data.labels,
                    || {
                        let mut out = Vec::with_capacity(data.len().div_ceil(size));
                        for batch in all.axis_chunks_iter(Axis(0), size) {
                            out.push(net.forward_batch(batch)?);
                        }
                        Ok(out)
                    },
                    |out: &Vec<Array2<f32>>| {
                        let mut classes = Vec::with_capacity(data.len());
                        for y in out {
                            classes.extend(classes_of_rows(
                                y.as_slice().context("an output batch is not contiguous")?,
                            )?);
                        }
                        Ok(classes)
                    },
                )
            }
        }
    }
}
