//! [`Flatten`]: a `(c, h, w)` sample seen as a flat vector, which it already is.

use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, CowArray, Ix2};

use crate::layer::{self, Layer};
use crate::optim::Optimizer;
use crate::train::Train;
use crate::{Float, InitRng, LoadError, ShapeError, Tensors};

/// The `flatten CxHxW -> N` layer: `N = C·H·W` values in `(c, h, w)` order.
///
/// Samples are passed flat in row-major `(c, h, w)` order already, so flattening
/// changes nothing: [`forward`](Self::forward) returns its input (a reference, no
/// copy), and a batch goes through as the same view. The layer exists so that a
/// network's layers match its definition one to one.
///
/// ```
/// use nn_runtime::Flatten;
///
/// let flatten = Flatten::<f32, 4>::new();
/// let x = [1.0, 2.0, 3.0, 4.0];  // 1x2x2
/// assert!(std::ptr::eq(flatten.forward(&x), &x));
/// ```
pub struct Flatten<T, const N: usize> {
    elem: PhantomData<fn() -> T>,
}

impl<T: Float, const N: usize> Flatten<T, N> {
    /// The layer (it has no parameters).
    pub const fn new() -> Self {
        Self { elem: PhantomData }
    }

    /// One sample: the input itself.
    #[inline(always)]
    pub fn forward<'a>(&self, x: &'a [T; N]) -> &'a [T; N] {
        x
    }

    /// A batch, one sample per row: a copy of `x` (use [`forward`](Self::forward) or
    /// the view itself to avoid it). A width other than `N` is a [`ShapeError`].
    ///
    /// ```
    /// use nn_runtime::{Flatten, ndarray::array};
    ///
    /// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
    /// assert_eq!(Flatten::<f64, 2>::new().forward_batch(x.view())?, x);
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    pub fn forward_batch(&self, x: ArrayView2<'_, T>) -> Result<ndarray::Array2<T>, ShapeError> {
        layer::check_rows(&x, N, None)?;
        Ok(x.to_owned())
    }
}

impl<T: Float, const N: usize> Default for Flatten<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Clone for Flatten<T, N> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, const N: usize> Copy for Flatten<T, N> {}

impl<T, const N: usize> PartialEq for Flatten<T, N> {
    /// Always equal: the layer has nothing but its size.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T, const N: usize> fmt::Debug for Flatten<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flatten").field("size", &N).finish()
    }
}

impl<T: Float, const N: usize> Layer for Flatten<T, N> {
    type Elem = T;
    type Config = ();
    const INPUT: usize = N;
    const OUTPUT: usize = N;

    fn zeros((): ()) -> Self {
        Self::new()
    }

    fn random((): (), _: &mut InitRng) -> Self {
        Self::new()
    }

    fn load((): (), _: &mut Tensors, names: &[&str]) -> Result<Self, LoadError> {
        assert!(
            names.is_empty(),
            "a flatten layer has no tensors, but {} names were given",
            names.len()
        );
        Ok(Self::new())
    }

    fn multiply_adds(&self) -> usize {
        0
    }

    fn forward_rows<'a>(&self, x: ArrayView2<'a, T>) -> Result<CowArray<'a, T, Ix2>, ShapeError> {
        layer::check_rows(&x, N, None)?;
        Ok(CowArray::from(x))
    }

    fn forward_rows_into(&self, x: ArrayView2<'_, T>, out: &mut [T]) -> Result<(), ShapeError> {
        layer::check_rows(&x, N, Some((out, N)))?;
        layer::each_row(x, out, N, |x, out| out.copy_from_slice(x));
        Ok(())
    }
}

impl<T: Float, const N: usize> Train for Flatten<T, N> {
    type Gradients = ();

    fn zero_gradients(&self) {}

    /// A copy (generated code passes the input view on instead of calling this).
    fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        _: bool,
    ) -> Result<(), ShapeError> {
        Layer::forward_rows_into(self, x, out)
    }

    /// The gradient passes through unchanged.
    fn backward(
        &self,
        _: ArrayView2<'_, T>,
        _: ArrayView2<'_, T>,
        dy: ArrayViewMut2<'_, T>,
        _: bool,
        (): &mut (),
        dx: Option<ArrayViewMut2<'_, T>>,
        _: &mut Vec<T>,
    ) {
        if let Some(mut dx) = dx {
            dx.assign(&dy);
        }
    }

    fn visit(&self, _: &[&str], _: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {}

    fn visit_mut(&mut self, _: &[&str], _: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {}

    fn update<O: Optimizer<T> + ?Sized>(&mut self, _: &[&str], (): &(), _: &mut O) {}
}
