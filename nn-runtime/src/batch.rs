//! Running a batch through a whole network in blocks of rows.
//!
//! A network's `forward_batch` could run each layer over the whole batch in turn, but
//! then every intermediate result is as big as the batch (4 MB for MNIST's second layer
//! at 10,000 images: fresh pages, and out of cache by the time the next layer reads
//! it), and each layer forks and joins its own threads. [`run`] instead gives each
//! thread blocks of rows that it takes through every layer while they are in cache;
//! only the output is as big as the batch. Generated code reaches it as
//! `nn_runtime::__private::forward_in_blocks`; the layers' own `forward_batch` use it too.

use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

use crate::{Float, ShapeError};

/// Multiply-adds in a batch from which threads pay off: below it (about 20 µs of work)
/// waking them costs more than they save. A batch of 100 MNIST images (4.5 M) goes to
/// both cores; a batch of 32 (1.5 M) stays on one.
pub const PARALLEL_WORK: usize = 1 << 21;

/// The most rows a block has: 256 rows of MNIST's widest layer (100 `f32`) are 100 KB,
/// which stays in a core's L2 cache and under glibc's threshold for fresh pages.
pub const BLOCK_ROWS: usize = 256;

/// The bytes of the widest intermediate result of a block, which bounds its rows: a
/// convolution's output of 30×24×24 `f32` is 69 KB a sample, so 256 rows of it would be
/// 17 MB, far out of cache; 256 KiB keeps a block of such rows in L2.
pub const BLOCK_BYTES: usize = 256 * 1024;

/// The fewest rows a block has (when the batch has that many): the intermediate
/// results are allocated once per block, so not once per sample however wide they are.
pub const MIN_BLOCK_ROWS: usize = 4;

/// What a sample costs a network: the numbers that decide how a batch is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowCost {
    /// Multiply-adds per sample, all layers together: from [`PARALLEL_WORK`] in the
    /// whole batch on, rayon's threads share the blocks.
    pub multiply_adds: usize,
    /// Values per sample of the widest result between layers (inputs and outputs
    /// included): a block has at most 256 KiB of them, and at most
    /// 256 rows.
    pub widest: usize,
}

impl RowCost {
    /// The rows of a block of `T` for this cost: [`BLOCK_BYTES`] of the widest result,
    /// between [`MIN_BLOCK_ROWS`] and [`BLOCK_ROWS`].
    fn block_rows<T>(self) -> usize {
        (BLOCK_BYTES / self.widest.max(1).saturating_mul(size_of::<T>()))
            .clamp(MIN_BLOCK_ROWS, BLOCK_ROWS)
    }
}

/// Runs `forward` over `x` (one sample per row, `inputs` wide) in blocks of rows and
/// returns the `outputs`-wide results, row for row.
///
/// `forward(block, out)` must write the results of `block` to `out`, row-major
/// (`block.nrows() × outputs` values). From [`PARALLEL_WORK`] multiply-adds in all (by
/// `cost`), rayon's threads take the blocks, otherwise the calling thread does; a block
/// has as many rows as [`RowCost`] allows. A width other than `inputs` is a
/// [`ShapeError`], and so is the first error `forward` returns.
///
/// ```
/// use nn_runtime::{Activation, Affine, ndarray::array};
/// use nn_runtime::__private::{Layer, RowCost, forward_in_blocks};
///
/// // XOR as the book builds it: NAND and OR, then AND.
/// let gates = Affine::<f32, 2, 2>::from_static(&[[-0.5, 0.5], [-0.5, 0.5]], &[0.7, -0.2], Activation::Step);
/// let and = Affine::<f32, 2, 1>::from_static(&[[0.5], [0.5]], &[-0.7], Activation::Step);
/// let cost = RowCost { multiply_adds: 6, widest: 2 };
/// let x = array![[0., 0.], [0., 1.], [1., 0.], [1., 1.]];
/// let y = forward_in_blocks(x.view(), 2, 1, cost, |x, out| {
///     let h = Layer::forward_rows(&gates, x)?;
///     Layer::forward_rows_into(&and, h.view(), out)
/// })?;
/// assert_eq!(y, array![[0.], [1.], [1.], [0.]]);
/// assert!(forward_in_blocks(array![[1., 1., 1.]].view(), 2, 1, cost, |_, _| Ok(())).is_err());
/// # Ok::<(), nn_runtime::ShapeError>(())
/// ```
pub fn run<T, F>(
    x: ArrayView2<'_, T>,
    inputs: usize,
    outputs: usize,
    cost: RowCost,
    forward: F,
) -> Result<Array2<T>, ShapeError>
where
    T: Float,
    F: Fn(ArrayView2<'_, T>, &mut [T]) -> Result<(), ShapeError> + Sync,
{
    if x.ncols() != inputs {
        return Err(ShapeError::input_width(inputs, x.ncols()));
    }
    let rows = x.nrows();
    let mut y = Array2::zeros((rows, outputs));
    if rows == 0 || outputs == 0 {
        return Ok(y);
    }
    let out = y
        .as_slice_mut()
        .expect("a new array is contiguous and row-major");
    let parallel = rows.saturating_mul(cost.multiply_adds) >= PARALLEL_WORK;
    let most = cost.block_rows::<T>();
    // In parallel, at least one block per thread, and whole groups of 4 rows (the
    // batch kernels take 4 samples at a time).
    let block = if parallel {
        rows.div_ceil(rayon::current_num_threads())
            .next_multiple_of(4)
            .min(most)
    } else {
        most
    };
    let run = |(i, out): (usize, &mut [T])| {
        let start = i * block;
        forward(x.slice(s![start..start + out.len() / outputs, ..]), out)
    };
    if parallel {
        out.par_chunks_mut(block * outputs)
            .enumerate()
            .try_for_each(run)?;
    } else {
        out.chunks_mut(block * outputs)
            .enumerate()
            .try_for_each(run)?;
    }
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Every row reaches `forward` once, in a block no bigger than `BLOCK_ROWS`, and
    /// lands in its own row of the result, threaded or not.
    #[test]
    fn every_row_is_computed_once_and_in_place() {
        for (rows, work) in [
            (1, 1),
            (5, 1),
            (257, 1),
            (1000, 1),
            (3, PARALLEL_WORK),
            (1001, 1 << 12),
        ] {
            let x = Array2::from_shape_fn((rows, 2), |(i, j)| (i * 2 + j) as f64);
            let cost = RowCost {
                multiply_adds: work,
                widest: 1,
            };
            let y = run(x.view(), 2, 3, cost, |x, out| {
                assert!(x.nrows() <= BLOCK_ROWS && out.len() == x.nrows() * 3);
                for (row, out) in x.rows().into_iter().zip(out.chunks_exact_mut(3)) {
                    out.copy_from_slice(&[row[0], row[1], row[0] + row[1]]);
                }
                Ok(())
            })
            .expect("width 2");
            for i in 0..rows {
                let i_f = i as f64;
                assert_eq!(
                    y.row(i).to_vec(),
                    [2.0 * i_f, 2.0 * i_f + 1.0, 4.0 * i_f + 1.0],
                    "{rows} rows, row {i}"
                );
            }
        }
    }

    /// The widest intermediate result bounds a block's rows: a convolution's 17,280
    /// `f32` per sample give blocks of 4 rows, threaded or not; MNIST's 100 give 256.
    #[test]
    fn wide_rows_make_small_blocks() {
        for (widest, most) in [(17_280, MIN_BLOCK_ROWS), (100, BLOCK_ROWS), (1000, 65)] {
            let cost = RowCost {
                multiply_adds: 1,
                widest,
            };
            assert_eq!(cost.block_rows::<f32>(), most, "{widest}");
            for multiply_adds in [1, PARALLEL_WORK] {
                let x = Array2::<f32>::zeros((300, 1));
                let cost = RowCost {
                    multiply_adds,
                    widest,
                };
                run(x.view(), 1, 1, cost, |x, _| {
                    assert!(x.nrows() <= most, "{} rows of {widest}", x.nrows());
                    Ok(())
                })
                .expect("width 1");
            }
        }
    }

    #[test]
    fn an_error_from_a_block_is_returned() {
        let x = Array2::<f32>::zeros((600, 4));
        let cost = RowCost {
            multiply_adds: PARALLEL_WORK,
            widest: 1,
        };
        let err = run(x.view(), 4, 1, cost, |x, _| {
            if x.nrows() > 0 {
                Err(ShapeError::new("test", 1, 2))
            } else {
                Ok(())
            }
        });
        assert_eq!(err, Err(ShapeError::new("test", 1, 2)));
        let cost = RowCost {
            multiply_adds: 1,
            widest: 1,
        };
        let empty = run(Array2::<f32>::zeros((0, 4)).view(), 4, 2, cost, |_, _| {
            Ok(())
        });
        assert_eq!(empty.map(|y| y.dim()), Ok((0, 2)));
    }
}
