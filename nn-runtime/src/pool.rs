//! [`MaxPool2d`]: the maximum of each window of a `(c, h, w)` sample, per channel, with
//! its geometry in a [`Pool2dConfig`].

use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use ndarray::{Array2, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, CowArray, Ix2};

use crate::batch::{self, RowCost};
use crate::layer::{self, Layer};
use crate::optim::Optimizer;
use crate::train::Train;
use crate::{Float, InitRng, LoadError, ShapeError, Tensors, simd};

/// The geometry of a `maxpool CxHxW -> CxH'xW' size Kh x Kw stride Sh x Sw` layer (no
/// padding): `H' = (H − Kh) / Sh + 1`, `W' = (W − Kw) / Sw + 1`, integer division, so
/// columns and rows that no whole window reaches are left out.
///
/// ```
/// use nn_runtime::Pool2dConfig;
///
/// let pool = Pool2dConfig { input: [30, 24, 24], size: [2, 2], stride: [2, 2] };
/// assert_eq!(pool.output(), [30, 12, 12]);
/// assert_eq!((pool.input_len(), pool.output_len()), (17_280, 4_320));
/// let odd = Pool2dConfig { input: [1, 7, 5], size: [3, 2], stride: [2, 2] };
/// assert_eq!(odd.output(), [1, 3, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dConfig {
    /// The input's `[C, H, W]`.
    pub input: [usize; 3],
    /// The window's `[Kh, Kw]`.
    pub size: [usize; 2],
    /// The steps between windows, `[Sh, Sw]` (the `.nn` default is the size).
    pub stride: [usize; 2],
}

impl Pool2dConfig {
    /// The output's `[C, H', W']`; a dimension is 0 where the window is bigger than
    /// the input or the stride is 0.
    pub const fn output(&self) -> [usize; 3] {
        let [c, h, w] = self.input;
        [
            c,
            out_dim(h, 0, self.size[0], self.stride[0]),
            out_dim(w, 0, self.size[1], self.stride[1]),
        ]
    }

    /// Values per input sample, `C·H·W`.
    pub const fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.input[2]
    }

    /// Values per output sample, `C·H'·W'`.
    pub const fn output_len(&self) -> usize {
        let [c, h, w] = self.output();
        c * h * w
    }

    /// Panics unless the geometry is valid and takes `input` values to `output`.
    fn check(&self, input: usize, output: usize) {
        let [c, h, w] = self.input;
        assert!(
            c > 0 && h > 0 && w > 0,
            "maxpool: the input {c}x{h}x{w} has a zero size"
        );
        assert!(
            self.stride[0] > 0 && self.stride[1] > 0,
            "maxpool: the stride {:?} has a zero",
            self.stride
        );
        assert!(
            (1..=h).contains(&self.size[0]) && (1..=w).contains(&self.size[1]),
            "maxpool: the window {:?} does not fit in the input {c}x{h}x{w}",
            self.size
        );
        assert!(
            self.input_len() == input && self.output_len() == output,
            "maxpool: {self:?} takes {} values to {}, but the layer's type takes {input} to {output}",
            self.input_len(),
            self.output_len()
        );
    }

    fn geometry(&self) -> simd::PoolGeometry {
        let [c, h, w] = self.input;
        let [_, oh, ow] = self.output();
        simd::PoolGeometry {
            c,
            h,
            w,
            kh: self.size[0],
            kw: self.size[1],
            sh: self.stride[0],
            sw: self.stride[1],
            oh,
            ow,
        }
    }
}

/// `(n + 2·pad − k) / stride + 1`, or 0 if the window does not fit or the stride is 0.
pub(crate) const fn out_dim(n: usize, pad: usize, k: usize, stride: usize) -> usize {
    match (n + 2 * pad).checked_sub(k) {
        Some(room) if stride > 0 && k > 0 => room / stride + 1,
        _ => 0,
    }
}

/// The `maxpool` layer from `IN = C·H·W` to `OUT = C·H'·W'` values: `y[c,i,j]` is the
/// maximum of `x[c, i·Sh + u, j·Sw + v]` over the window `0 ≤ u < Kh`, `0 ≤ v < Kw`.
///
/// A NaN in a window makes that output NaN, as numpy's `max` does (not `fmax`).
///
/// ```
/// use nn_runtime::{MaxPool2d, Pool2dConfig};
///
/// let pool = MaxPool2d::<f32, 16, 4>::new(Pool2dConfig { input: [1, 4, 4], size: [2, 2], stride: [2, 2] });
/// let x = [
///     1.0, 2.0, 0.0, -1.0,
///     3.0, 4.0, -5.0, -2.0,
///     0.0, 0.0, 7.0, 8.0,
///     0.0, f32::NAN, 9.0, 6.0,
/// ];
/// let y = pool.forward(&x);
/// assert_eq!(y[..2], [4.0, 0.0]);
/// assert!(y[2].is_nan() && y[3] == 9.0);
/// ```
pub struct MaxPool2d<T, const IN: usize, const OUT: usize> {
    config: Pool2dConfig,
    elem: PhantomData<fn() -> T>,
}

impl<T: Float, const IN: usize, const OUT: usize> MaxPool2d<T, IN, OUT> {
    /// The layer with this geometry.
    ///
    /// # Panics
    /// If `config` takes another number of values than `IN` to another than `OUT`, has
    /// a zero size or stride, or a window bigger than the input: the code generator
    /// checks all of it, so this is a programming error.
    ///
    /// ```should_panic
    /// use nn_runtime::{MaxPool2d, Pool2dConfig};
    /// // 30x24x24 pooled by 2 is 30x12x12 = 4320 values, not 4000.
    /// MaxPool2d::<f32, 17280, 4000>::new(Pool2dConfig { input: [30, 24, 24], size: [2, 2], stride: [2, 2] });
    /// ```
    pub fn new(config: Pool2dConfig) -> Self {
        config.check(IN, OUT);
        Self {
            config,
            elem: PhantomData,
        }
    }

    /// The backward pass for one sample: the gradient `dy` with respect to the output
    /// goes, for each window, to the first of its maxima in `x` (row by row, as the
    /// book's `Pooling.backward` takes `argmax`); every other input gets 0.
    ///
    /// ```
    /// use nn_runtime::{MaxPool2d, Pool2dConfig};
    ///
    /// let pool = MaxPool2d::<f64, 4, 1>::new(Pool2dConfig { input: [1, 2, 2], size: [2, 2], stride: [2, 2] });
    /// assert_eq!(pool.backward(&[1.0, 3.0, 3.0, 0.0], &[5.0]), [0.0, 5.0, 0.0, 0.0]);
    /// ```
    pub fn backward(&self, x: &[T; IN], dy: &[T; OUT]) -> [T; IN] {
        let mut dx = [T::zero(); IN];
        self.backward_into(x, dy, &mut dx);
        dx
    }

    /// [`backward_into`](Self::backward_into) for 2×2 windows with stride 2 (the
    /// book's pooling), knowing the outputs `y`: the first of the four inputs that
    /// equals its window's maximum takes the gradient, chosen without a branch so that
    /// the loop over a row vectorises.
    fn backward_2x2(&self, x: &[T], y: &[T], dy: &[T], dx: &mut [T]) {
        let [c, h, w] = self.config.input;
        let [_, oh, ow] = self.config.output();
        if h % 2 != 0 || w % 2 != 0 {
            dx.fill(T::zero()); // the last row or column is in no window
        }
        for ch in 0..c {
            for i in 0..oh {
                let top = &x[(ch * h + 2 * i) * w..][..2 * ow];
                let bottom = &x[(ch * h + 2 * i + 1) * w..][..2 * ow];
                let at = (ch * oh + i) * ow;
                let (ys, gs) = (&y[at..at + ow], &dy[at..at + ow]);
                let (dtop, dbottom) = dx[(ch * h + 2 * i) * w..].split_at_mut(w);
                simd::pool_backward_2x2(top, bottom, ys, gs, dtop, dbottom);
            }
        }
    }

    /// [`backward`](Self::backward) on slices of one sample, `dx` overwritten.
    fn backward_into(&self, x: &[T], dy: &[T], dx: &mut [T]) {
        let config = self.config();
        let [c, h, w] = config.input;
        let [_, oh, ow] = config.output();
        let ([kh, kw], [sh, sw]) = (config.size, config.stride);
        dx.fill(T::zero());
        for ch in 0..c {
            for i in 0..oh {
                for j in 0..ow {
                    let mut best = (ch * h + i * sh) * w + j * sw;
                    for u in 0..kh {
                        for v in 0..kw {
                            let at = (ch * h + i * sh + u) * w + j * sw + v;
                            // Strictly greater: the first maximum keeps the gradient.
                            if x[at] > x[best] {
                                best = at;
                            }
                        }
                    }
                    dx[best] = dx[best] + dy[(ch * oh + i) * ow + j];
                }
            }
        }
    }

    /// The geometry.
    pub fn config(&self) -> Pool2dConfig {
        self.config
    }

    /// One sample, without allocating.
    #[inline]
    pub fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        // Not zeroed first: the kernel writes every output.
        let mut y = MaybeUninit::<[T; OUT]>::uninit();
        // SAFETY: `[MaybeUninit<T>; OUT]` has the layout of `MaybeUninit<[T; OUT]>`.
        let out = unsafe { &mut *y.as_mut_ptr().cast::<[MaybeUninit<T>; OUT]>() };
        simd::max_pool_uninit(&self.config.geometry(), x, out);
        // SAFETY: `max_pool_uninit` wrote every element.
        unsafe { y.assume_init() }
    }

    /// A batch, one flat sample per row (any layout), in blocks of rows shared by
    /// rayon's threads. A width other than `IN` is a [`ShapeError`].
    ///
    /// ```
    /// use nn_runtime::{MaxPool2d, Pool2dConfig, ndarray::array};
    ///
    /// // Two channels of one row of 3, windows of 2 overlapping by 1.
    /// let pool = MaxPool2d::<f64, 6, 4>::new(Pool2dConfig { input: [2, 1, 3], size: [1, 2], stride: [1, 1] });
    /// let y = pool.forward_batch(array![[1., 3., 2., -1., -2., -3.]].view())?;
    /// assert_eq!(y, array![[3., 3., -1., -2.]]);
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    pub fn forward_batch(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, ShapeError> {
        // A comparison per input value: cheap, but the threads pay off on big batches.
        let cost = RowCost {
            multiply_adds: IN,
            widest: IN,
        };
        batch::run(x, IN, OUT, cost, |x, out| {
            Layer::forward_rows_into(self, x, out)
        })
    }
}

impl<T, const IN: usize, const OUT: usize> Clone for MaxPool2d<T, IN, OUT> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const IN: usize, const OUT: usize> Copy for MaxPool2d<T, IN, OUT> {}

impl<T, const IN: usize, const OUT: usize> PartialEq for MaxPool2d<T, IN, OUT> {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl<T, const IN: usize, const OUT: usize> fmt::Debug for MaxPool2d<T, IN, OUT> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MaxPool2d")
            .field("config", &self.config)
            .finish()
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Layer for MaxPool2d<T, IN, OUT> {
    type Elem = T;
    type Config = Pool2dConfig;
    const INPUT: usize = IN;
    const OUTPUT: usize = OUT;

    fn zeros(config: Pool2dConfig) -> Self {
        Self::new(config)
    }

    fn random(config: Pool2dConfig, _: &mut InitRng) -> Self {
        Self::new(config)
    }

    fn load(config: Pool2dConfig, _: &mut Tensors, names: &[&str]) -> Result<Self, LoadError> {
        assert!(
            names.is_empty(),
            "a maxpool layer has no tensors, but {} names were given",
            names.len()
        );
        Ok(Self::new(config))
    }

    fn multiply_adds(&self) -> usize {
        0
    }

    fn forward_rows<'a>(&self, x: ArrayView2<'a, T>) -> Result<CowArray<'a, T, Ix2>, ShapeError> {
        layer::check_rows(&x, IN, None)?;
        // Not zeroed first: every row is written.
        let mut y = Array2::uninit((x.nrows(), OUT));
        let out = y
            .as_slice_mut()
            .expect("a new array is contiguous and row-major");
        let x = x.as_standard_layout();
        let geometry = self.config.geometry();
        for (row, out) in x.rows().into_iter().zip(out.chunks_exact_mut(OUT)) {
            let row = row
                .to_slice()
                .expect("a row of a standard-layout array is contiguous");
            simd::max_pool_uninit(&geometry, row, out);
        }
        // SAFETY: `max_pool_uninit` wrote every row (`OUT` > 0: the config checks it).
        Ok(CowArray::from(unsafe { y.assume_init() }))
    }

    fn forward_rows_into(&self, x: ArrayView2<'_, T>, out: &mut [T]) -> Result<(), ShapeError> {
        layer::check_rows(&x, IN, Some((out, OUT)))?;
        let geometry = self.config.geometry();
        layer::each_row(x, out, OUT, |x, y| simd::max_pool(&geometry, x, y));
        Ok(())
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Train for MaxPool2d<T, IN, OUT> {
    type Gradients = ();

    fn zero_gradients(&self) {}

    fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        _: bool,
    ) -> Result<(), ShapeError> {
        Layer::forward_rows_into(self, x, out)
    }

    /// Each output's gradient to the first maximum of its window (the book's
    /// `Pooling.backward` with `argmax`), summed where windows overlap.
    fn backward(
        &self,
        x: ArrayView2<'_, T>,
        y: ArrayView2<'_, T>,
        dy: ArrayViewMut2<'_, T>,
        _: bool,
        (): &mut (),
        dx: Option<ArrayViewMut2<'_, T>>,
        _: &mut Vec<T>,
    ) {
        let Some(mut dx) = dx else { return };
        let (x, y) = (x.as_standard_layout(), y.as_standard_layout());
        let halving = self.config.size == [2, 2] && self.config.stride == [2, 2];
        let rows = x.rows().into_iter().zip(y.rows()).zip(dy.rows());
        for (((x, y), dy), mut dx) in rows.zip(dx.rows_mut()) {
            let (Some(x), Some(y), Some(dy), Some(dx)) =
                (x.to_slice(), y.to_slice(), dy.to_slice(), dx.as_slice_mut())
            else {
                unreachable!("training buffers and standard-layout rows are contiguous");
            };
            if halving {
                self.backward_2x2(x, y, dy, dx);
            } else {
                self.backward_into(x, dy, dx);
            }
        }
    }

    fn visit(&self, _: &[&str], _: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {}

    fn visit_mut(&mut self, _: &[&str], _: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {}

    fn update<O: Optimizer<T> + ?Sized>(&mut self, _: &[&str], (): &(), _: &mut O) {}
}

#[cfg(test)]
mod training_tests {
    use super::*;
    use ndarray::Array2;

    /// The 2×2 path agrees with the general one, ties (relu's zeros) and an odd size
    /// (a row and a column in no window) included.
    #[test]
    fn the_halving_backward_sends_each_gradient_to_the_first_maximum() {
        const IN: usize = 2 * 7 * 5;
        const OUT: usize = 2 * 3 * 2;
        let pool = MaxPool2d::<f64, IN, OUT>::new(Pool2dConfig {
            input: [2, 7, 5],
            size: [2, 2],
            stride: [2, 2],
        });
        let x = Array2::from_shape_fn((3, IN), |(r, k)| {
            f64::from(((r * 7 + k * 5) % 3 == 0) as u8)
        });
        let dy = Array2::from_shape_fn((3, OUT), |(r, k)| (r * OUT + k) as f64 + 1.0);
        let mut y = vec![0.0; 3 * OUT];
        Train::forward_train(&pool, x.view(), &mut y, true).expect("sizes fit");
        let y = Array2::from_shape_vec((3, OUT), y).expect("3 rows");
        let mut dx = Array2::from_elem((3, IN), f64::NAN);
        let mut dy_scratch = dy.clone();
        Train::backward(
            &pool,
            x.view(),
            y.view(),
            dy_scratch.view_mut(),
            true,
            &mut (),
            Some(dx.view_mut()),
            &mut Vec::new(),
        );
        for r in 0..3 {
            let xr: [f64; IN] = x.row(r).to_vec().try_into().expect("IN values");
            let dyr: [f64; OUT] = dy.row(r).to_vec().try_into().expect("OUT values");
            assert_eq!(
                dx.row(r).to_vec(),
                pool.backward(&xr, &dyr).to_vec(),
                "row {r}"
            );
        }
    }
}
