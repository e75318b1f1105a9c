//! The `nn-dsl` side: [`examples::Mnist`], the struct `network!` generates from
//! `examples/nets/mnist.nn`, loaded with [`Mnist::load`] and run with its own `forward`
//! (one `&[f32; 784]` in, `[f32; 10]` out) and `forward_batch` (an `ndarray` view of
//! rows in, an `Array2` out). Big batches run on rayon's global pool, whose size
//! `RAYON_NUM_THREADS` sets (`run.py` sets it to the thread count of every side).

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result, bail};
use examples::Mnist;
use nn_runtime::ndarray::{Array2, ArrayView2, Axis};

use crate::{Case, Data, INPUT, OUTPUT, Runner, Timing, classes_of_rows, measure};

/// The generated network with the book's weights.
pub struct Ours {
    net: Mnist,
}

impl Ours {
    pub fn load(weights: &Path) -> Result<Ours> {
        let net =
            Mnist::load(weights).with_context(|| format!("cannot load {}", weights.display()))?;
        Ok(Ours { net })
    }
}

impl Runner for Ours {
    fn threads(&self) -> String {
        rayon_threads()
    }

    fn time(&self, case: Case, data: &Data, repeats: NonZeroUsize) -> Result<Timing> {
        let net = &self.net;
        match case {
            Case::Single => {
                let images = data.images();
                measure(
                    repeats,
                    &data.labels,
                    || {
                        let mut out = Vec::with_capacity(images.len());
                        for image in images {
                            out.push(net.forward(image));
                        }
                        Ok(out)
                    },
                    |out: &Vec<[f32; OUTPUT]>| classes_of_rows(out.as_flattened()),
                )
            }
            Case::BatchAll | Case::Batch100 => {
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
            Case::ConvSingle | Case::ConvBatch100 => {
                bail!("the MLP does not run the convnet's cases")
            }
        }
    }
}

/// The thread pool nn-runtime runs big batches on, as the JSON lines report it (both
/// nn-dsl sides).
pub fn rayon_threads() -> String {
    format!(
        "RAYON_NUM_THREADS={} (rayon threads: {})",
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".to_owned()),
        rayon::current_num_threads()
    )
}
