//! [`Affine`]: the typed layer `y = act(x·W + b)` with its sizes in its type.

use std::fmt;

use ndarray::{
    Array2, ArrayView1, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, CowArray, Ix2,
    ShapeBuilder,
};

use crate::batch::{self, RowCost};
use crate::layer::{self, Layer};
use crate::optim::Optimizer;
use crate::train::{self, LayerGradients, Train};
use crate::{Activation, Float, InitRng, LoadError, ShapeError, Tensors, simd};
use ndarray::Zip;

/// An affine layer `y = act(x·W + b)` from `IN` inputs to `OUT` outputs.
///
/// `W` has shape `[IN, OUT]`, row-major, one row per input (as in the book and numpy:
/// `np.dot(x, W) + b`); `b` has `OUT` elements. Both live on the heap, so a 784×50
/// layer is never built on the stack. The sizes are part of the type: a layer that
/// takes 3 values cannot be given 2, and layers chain only when the sizes agree.
///
/// The first layer of the book's three-layer network (chapter 3):
///
/// ```
/// use nn_runtime::{Activation, Affine};
///
/// let layer = Affine::<f64, 2, 3>::from_static(
///     &[[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]],
///     &[0.1, 0.2, 0.3],
///     Activation::Sigmoid,
/// );
/// let z = layer.forward(&[1.0, 0.5]);
/// let book = [0.57444252, 0.66818777, 0.75026011];
/// assert!(z.iter().zip(book).all(|(z, b)| (z - b).abs() < 1e-8));
/// ```
pub struct Affine<T, const IN: usize, const OUT: usize> {
    /// The weights, row `i` (those of input `i`) at `offset + i * STRIDE ..` for `OUT`
    /// values. Rows start on 64-byte boundaries: a row of 50 `f32` is 200 bytes, and
    /// packed rows would make nearly every vector load straddle two cache lines.
    storage: Box<[T]>,
    /// Where row 0 starts in `storage`: the first 64-byte-aligned element.
    offset: usize,
    bias: Box<[T; OUT]>,
    activation: Activation<T>,
    /// Whether every weight is finite, so that an input of 0 contributes exactly
    /// nothing (`0·w = 0`) and [`forward`](Self::forward) may skip it.
    weights_finite: bool,
}

impl<T: Float, const IN: usize, const OUT: usize> Affine<T, IN, OUT> {
    /// Checked when a constructor is instantiated: a layer without inputs or outputs is
    /// a compile error, not a panic in `forward`.
    const SIZES_OK: () = assert!(
        IN > 0 && OUT > 0 && IN.checked_mul(OUT).is_some(),
        "an affine layer needs at least one input and one output"
    );

    /// The layer with the given parameters: `weight` holds `IN * OUT` values row-major
    /// (row `i` is the weights of input `i`), `bias` holds `OUT` values.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine};
    ///
    /// let layer = Affine::<f32, 2, 1>::new(&[0.5, 0.5], &[-0.7], Activation::Step)?;
    /// assert_eq!(layer.forward(&[1.0, 1.0]), [1.0]);  // AND
    /// assert_eq!(layer.forward(&[1.0, 0.0]), [0.0]);
    ///
    /// let err = Affine::<f32, 2, 1>::new(&[0.5], &[-0.7], Activation::Step).unwrap_err();
    /// assert_eq!(err.to_string(), "wrong weight length (IN × OUT, row-major): expected 2, found 1");
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    pub fn new(weight: &[T], bias: &[T], activation: Activation<T>) -> Result<Self, ShapeError> {
        if weight.len() != IN * OUT {
            return Err(ShapeError::new(
                "weight length (IN × OUT, row-major)",
                IN * OUT,
                weight.len(),
            ));
        }
        if bias.len() != OUT {
            return Err(ShapeError::new("bias length", OUT, bias.len()));
        }
        Ok(Self::from_parts(weight.to_vec(), bias.to_vec(), activation))
    }

    /// The layer with parameters written as Rust arrays, one row per input. This is what
    /// the code generated for inline parameters calls, with `'static` literals, so the
    /// arrays are never copied onto the stack.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine};
    ///
    /// // NAND and OR side by side: column 1 is NAND, column 2 is OR.
    /// let layer = Affine::<f32, 2, 2>::from_static(
    ///     &[[-0.5, 0.5], [-0.5, 0.5]],
    ///     &[0.7, -0.2],
    ///     Activation::Step,
    /// );
    /// assert_eq!(layer.forward(&[1.0, 1.0]), [0.0, 1.0]);
    /// assert_eq!(layer.weight()[[0, 1]], 0.5);
    /// ```
    pub fn from_static(
        weight: &[[T; OUT]; IN],
        bias: &[T; OUT],
        activation: Activation<T>,
    ) -> Self {
        Self::from_parts(weight.as_flattened().to_vec(), bias.to_vec(), activation)
    }

    /// The layer with every weight and bias zero.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine};
    ///
    /// let layer = Affine::<f32, 784, 50>::zeros(Activation::Sigmoid);
    /// assert_eq!(layer.forward(&[1.0; 784]), [0.5; 50]);
    /// ```
    pub fn zeros(activation: Activation<T>) -> Self {
        Self::from_parts(vec![T::zero(); IN * OUT], vec![T::zero(); OUT], activation)
    }

    /// The layer with random weights and zero biases. The weights are normal with mean
    /// 0 and standard deviation `sqrt(2 / IN)` (He) when the activation is
    /// relu-family, `sqrt(1 / IN)` (Xavier, as the book has it) otherwise. They are
    /// drawn row by row (all of input 0's weights first), so the same generator state
    /// gives the same layer.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine, InitRng};
    ///
    /// let mut rng = InitRng::new(42);
    /// let layer = Affine::<f32, 100, 50>::random(&mut rng, Activation::Relu);
    /// let again = Affine::<f32, 100, 50>::random(&mut InitRng::new(42), Activation::Relu);
    /// assert_eq!(layer, again);
    /// assert!(layer.bias().iter().all(|&b| b == 0.0));
    /// ```
    pub fn random(rng: &mut InitRng, activation: Activation<T>) -> Self {
        let gain = if activation.is_relu_family() {
            2.0
        } else {
            1.0
        };
        let std = (gain / IN as f64).sqrt();
        let weight = (0..IN * OUT)
            .map(|_| T::from_f64(std * rng.normal()))
            .collect();
        Self::from_parts(weight, vec![T::zero(); OUT], activation)
    }

    /// The layer with its weight and bias taken from a parameter file: the tensors
    /// `weight_name` of shape `[IN, OUT]` and `bias_name` of shape `[OUT]`, of this
    /// layer's element type exactly.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine, Tensors};
    ///
    /// let mut tensors = Tensors::open("tests/data/sample_weight.safetensors")?;
    /// let layer = Affine::<f32, 784, 50>::load(&mut tensors, "W1", "b1", Activation::Sigmoid)?;
    /// assert_eq!(layer.bias()[0], -0.067503154);
    ///
    /// // The next tensors have other shapes: the error says which and how.
    /// let err = Affine::<f32, 50, 50>::load(&mut tensors, "W2", "b2", Activation::Sigmoid)
    ///     .unwrap_err();
    /// assert!(err.to_string().ends_with("tensor `W2` has shape [50, 100] but the network expects [50, 50]"));
    /// # Ok::<(), nn_runtime::LoadError>(())
    /// ```
    pub fn load(
        tensors: &mut Tensors,
        weight_name: &str,
        bias_name: &str,
        activation: Activation<T>,
    ) -> Result<Self, LoadError> {
        let weight = tensors.take::<T>(weight_name, &[IN, OUT])?;
        let bias = tensors.take::<T>(bias_name, &[OUT])?;
        Ok(Self::from_parts(weight, bias, activation))
    }

    /// Elements per 64 bytes: rows are padded to a multiple of this.
    const LANES: usize = 64 / size_of::<T>();

    /// The distance between two rows in `storage`: `OUT` rounded up to 64 bytes.
    const STRIDE: usize = OUT.div_ceil(Self::LANES) * Self::LANES;

    /// `weight.len() == IN * OUT` and `bias.len() == OUT`, checked by every caller.
    fn from_parts(weight: Vec<T>, bias: Vec<T>, activation: Activation<T>) -> Self {
        let () = Self::SIZES_OK;
        debug_assert_eq!(weight.len(), IN * OUT);
        let bias: Box<[T; OUT]> = bias
            .into_boxed_slice()
            .try_into()
            .expect("every constructor passes a bias of OUT values");
        // One 64-byte line of slack to align row 0; the padding stays zero.
        let mut storage = vec![T::zero(); IN * Self::STRIDE + Self::LANES].into_boxed_slice();
        let offset = storage.as_ptr().align_offset(64).min(Self::LANES);
        for (i, row) in weight.chunks_exact(OUT).enumerate() {
            let start = offset + i * Self::STRIDE;
            storage[start..start + OUT].copy_from_slice(row);
        }
        Self {
            weights_finite: weight.iter().all(|w| w.is_finite()),
            storage,
            offset,
            bias,
            activation,
        }
    }

    /// The rows of `W` from row 0 on: `IN` rows `STRIDE` apart.
    fn rows(&self) -> &[T] {
        &self.storage[self.offset..]
    }

    /// One sample: `act(x·W + b)`, without allocating.
    ///
    /// The loop runs over the inputs and, inside, over the outputs, so the inner loop
    /// walks one row of `W` and the output array together and vectorises. When every
    /// weight is finite, inputs that are 0 are skipped (then they add exactly nothing):
    /// reading `W` is the cost of one sample, and inputs such as images are mostly 0
    /// (81 % of MNIST's pixels). With AVX-512 every such input is skipped, elsewhere
    /// those that are 0 four in a row. The code for the CPU's best level runs (see
    /// `simd/mod.rs`): a plain `cargo build` gets the fast code.
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine};
    ///
    /// let layer = Affine::<f32, 2, 2>::new(&[1.0, 2.0, 3.0, 4.0], &[0.5, 0.0], Activation::Identity)?;
    /// assert_eq!(layer.forward(&[1.0, 1.0]), [4.5, 6.0]);
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    #[inline]
    pub fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        simd::affine_single(
            self.rows(),
            Self::STRIDE,
            &self.bias,
            x,
            self.activation,
            self.weights_finite,
        )
    }

    /// A batch, one sample per row: `x` of shape `[n, IN]` gives `[n, OUT]`.
    ///
    /// On a CPU with AVX-512, four samples at a time go through a kernel that shares
    /// each row of `W` between them and skips the inputs that are 0 in all four;
    /// elsewhere the product goes through the `gemm` crate (AVX2 kernels chosen at run
    /// time). Either way the bias and the activation are applied while the rows are in
    /// cache, and a big batch is cut into blocks of rows that rayon's threads share. A batch of another width than `IN` is a
    /// [`ShapeError`].
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine, ndarray::array};
    ///
    /// let layer = Affine::<f32, 2, 1>::new(&[0.5, 0.5], &[-0.7], Activation::Step)?;
    /// let and = layer.forward_batch(array![[0., 0.], [0., 1.], [1., 0.], [1., 1.]].view())?;
    /// assert_eq!(and, array![[0.], [0.], [0.], [1.]]);
    /// assert!(layer.forward_batch(array![[1., 1., 1.]].view()).is_err());
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    pub fn forward_batch(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, ShapeError> {
        let cost = RowCost {
            multiply_adds: IN * OUT,
            widest: IN.max(OUT),
        };
        batch::run(x, IN, OUT, cost, |x, out| self.rows_into(x, out))
    }

    /// A batch on the calling thread, written to `out`: row-major, `OUT` values per row
    /// of `x` (the [`Layer`](crate::__private::Layer) trait's block of rows). A width
    /// other than `IN`, or an `out` of another length, is a [`ShapeError`].
    fn rows_into(&self, x: ArrayView2<'_, T>, out: &mut [T]) -> Result<(), ShapeError> {
        self.rows_into_with(x, out, self.activation)
    }

    /// [`rows_into`](Self::rows_into) with another activation: training leaves out the
    /// last layer's softmax.
    fn rows_into_with(
        &self,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        activation: Activation<T>,
    ) -> Result<(), ShapeError> {
        if x.ncols() != IN {
            return Err(ShapeError::input_width(IN, x.ncols()));
        }
        if out.len() != x.nrows() * OUT {
            return Err(ShapeError::new(
                "output length (rows × OUT)",
                x.nrows() * OUT,
                out.len(),
            ));
        }
        let rows = x.nrows();
        if rows == 0 {
            return Ok(());
        }
        if simd::affine_rows(
            self.rows(),
            Self::STRIDE,
            &self.bias[..],
            x,
            out,
            activation,
            self.weights_finite,
        ) {
            return Ok(());
        }
        let (x_row_stride, x_col_stride) = (x.strides()[0], x.strides()[1]);
        // SAFETY: `out` is `rows × OUT` elements we borrow exclusively, written with row
        // stride OUT and column stride 1. `x` is a view of `rows × IN` elements (the
        // width was checked above): `as_ptr` is its element [0, 0] and its strides (in
        // elements, possibly negative) stay inside the data it borrows, as ndarray
        // guarantees for every view. The weight is `IN` rows of `OUT` values, `STRIDE`
        // apart, all inside `self.rows()` (its length is at least `IN × STRIDE`).
        // `T` is `f32` or `f64` (`Float` is sealed), both of which gemm supports. With
        // `read_dst` false gemm writes `out` without reading it: `out = 1 · x · W`.
        unsafe {
            gemm::gemm(
                rows,
                OUT,
                IN,
                out.as_mut_ptr(),
                1,
                OUT as isize,
                false,
                x.as_ptr(),
                x_col_stride,
                x_row_stride,
                self.rows().as_ptr(),
                1,
                Self::STRIDE as isize,
                T::zero(),
                T::one(),
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        simd::bias_activation(out, &self.bias, activation);
        Ok(())
    }

    /// The weight, of shape `[IN, OUT]`.
    pub fn weight(&self) -> ArrayView2<'_, T> {
        let rows = &self.rows()[..(IN - 1) * Self::STRIDE + OUT];
        ArrayView2::from_shape((IN, OUT).strides((Self::STRIDE, 1)), rows)
            .expect("storage holds IN rows STRIDE apart")
    }

    /// The weight, mutably (the layer must refresh `weights_finite` afterwards).
    fn weight_mut(&mut self) -> ArrayViewMut2<'_, T> {
        let rows = &mut self.storage[self.offset..self.offset + (IN - 1) * Self::STRIDE + OUT];
        ArrayViewMut2::from_shape((IN, OUT).strides((Self::STRIDE, 1)), rows)
            .expect("storage holds IN rows STRIDE apart")
    }

    /// Brings what the layer knows about its weights up to date after they changed.
    fn weights_changed(&mut self) {
        // No early exit, so that the scan vectorises (a training step runs it).
        self.weights_finite = self.weight().rows().into_iter().all(|row| {
            row.as_slice()
                .expect("a row of the weight is contiguous")
                .iter()
                .fold(true, |finite, w| finite & w.is_finite())
        });
    }

    /// The backward pass of the affine map (before the activation) for a batch: from
    /// the inputs `x` (`n × IN`) and the gradient `dz` with respect to `z = x·W + b`
    /// (`n × OUT`), the gradients `(dx, dW, db)` = `(dz·Wᵀ, xᵀ·dz, Σ_rows dz)`, the
    /// book's `Affine.backward`. Shapes other than those are a [`ShapeError`].
    ///
    /// ```
    /// use nn_runtime::{Activation, Affine, ndarray::array};
    ///
    /// let layer = Affine::<f64, 2, 1>::new(&[2.0, 3.0], &[0.0], Activation::Identity)?;
    /// let (dx, dw, db) = layer.backward_rows(array![[1.0, 1.0]].view(), array![[0.5]].view())?;
    /// assert_eq!((dx, dw, db), (array![[1.0, 1.5]], array![[0.5], [0.5]], vec![0.5]));
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    #[allow(
        clippy::type_complexity,
        reason = "the three gradients of the book's Affine"
    )]
    pub fn backward_rows(
        &self,
        x: ArrayView2<'_, T>,
        dz: ArrayView2<'_, T>,
    ) -> Result<(Array2<T>, Array2<T>, Vec<T>), ShapeError> {
        if x.ncols() != IN {
            return Err(ShapeError::input_width(IN, x.ncols()));
        }
        if dz.ncols() != OUT {
            return Err(ShapeError::new("gradient width (OUT)", OUT, dz.ncols()));
        }
        if dz.nrows() != x.nrows() {
            return Err(ShapeError::new("gradient rows", x.nrows(), dz.nrows()));
        }
        let dx = dz.dot(&self.weight().t());
        let dw = x.t().dot(&dz);
        let db = dz.sum_axis(ndarray::Axis(0)).to_vec();
        Ok((dx, dw, db))
    }

    /// The bias, `OUT` values.
    pub fn bias(&self) -> &[T] {
        &self.bias[..]
    }

    /// The activation.
    pub fn activation(&self) -> Activation<T> {
        self.activation
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Layer for Affine<T, IN, OUT> {
    type Elem = T;
    type Config = Activation<T>;
    const INPUT: usize = IN;
    const OUTPUT: usize = OUT;

    fn zeros(activation: Activation<T>) -> Self {
        Self::zeros(activation)
    }

    fn random(activation: Activation<T>, rng: &mut InitRng) -> Self {
        Self::random(rng, activation)
    }

    fn load(
        activation: Activation<T>,
        tensors: &mut Tensors,
        names: &[&str],
    ) -> Result<Self, LoadError> {
        let (weight, bias) = layer::weight_and_bias(names, "affine");
        Self::load(tensors, weight, bias, activation)
    }

    fn multiply_adds(&self) -> usize {
        IN * OUT
    }

    fn forward_rows<'a>(&self, x: ArrayView2<'a, T>) -> Result<CowArray<'a, T, Ix2>, ShapeError> {
        let mut y = Array2::zeros((x.nrows(), OUT));
        let out = y
            .as_slice_mut()
            .expect("a new array is contiguous and row-major");
        self.rows_into(x, out)?;
        Ok(CowArray::from(y))
    }

    fn forward_rows_into(&self, x: ArrayView2<'_, T>, out: &mut [T]) -> Result<(), ShapeError> {
        self.rows_into(x, out)
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Train for Affine<T, IN, OUT> {
    type Gradients = LayerGradients<T, Ix2>;

    fn zero_gradients(&self) -> Self::Gradients {
        LayerGradients::zeros(Ix2(IN, OUT), OUT)
    }

    fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        activate: bool,
    ) -> Result<(), ShapeError> {
        let activation = if activate {
            self.activation
        } else {
            Activation::Identity
        };
        self.rows_into_with(x, out, activation)
    }

    /// `dW = xᵀ·dz` (skipping inputs that are 0 in a whole tile, as images have),
    /// `db = Σ_rows dz`, `dx = dz·Wᵀ` computed as `dxᵀ = W·dzᵀ` with `dzᵀ` in `scratch`.
    fn backward(
        &self,
        x: ArrayView2<'_, T>,
        y: ArrayView2<'_, T>,
        mut dy: ArrayViewMut2<'_, T>,
        activated: bool,
        gradients: &mut Self::Gradients,
        dx: Option<ArrayViewMut2<'_, T>>,
        scratch: &mut Vec<T>,
    ) {
        if activated {
            train::activation_backward(self.activation, y, dy.view_mut());
        }
        let dz = dy.view();
        let rows = dz.nrows();
        gradients.bias.fill(T::zero());
        for row in dz.rows() {
            Zip::from(&mut gradients.bias)
                .and(&row)
                .for_each(|b, &d| *b = *b + d);
        }
        simd::weight_gradient(x, dz, gradients.weight.view_mut());
        if let Some(dx) = dx {
            scratch.resize(OUT * rows, T::zero());
            let mut dz_t = train::rows_mut(&mut scratch[..OUT * rows], rows);
            dz_t.assign(&dz.t());
            simd::product(self.weight(), dz_t.view(), dx.reversed_axes(), false);
        }
    }

    fn visit(&self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {
        let (weight, bias) = layer::weight_and_bias(names, "affine");
        f(weight, self.weight().into_dyn());
        f(bias, ArrayView1::from(&self.bias[..]).into_dyn());
    }

    fn visit_mut(&mut self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        let (weight, bias) = layer::weight_and_bias(names, "affine");
        f(weight, self.weight_mut().into_dyn());
        f(
            bias,
            ndarray::ArrayViewMut1::from(&mut self.bias[..]).into_dyn(),
        );
        self.weights_changed();
    }

    fn update<O: Optimizer<T> + ?Sized>(
        &mut self,
        names: &[&str],
        gradients: &Self::Gradients,
        optimizer: &mut O,
    ) {
        let (weight, bias) = layer::weight_and_bias(names, "affine");
        optimizer.update(
            weight,
            self.weight_mut().into_dyn(),
            gradients.weight.view().into_dyn(),
        );
        optimizer.update(
            bias,
            ndarray::ArrayViewMut1::from(&mut self.bias[..]).into_dyn(),
            gradients.bias.view().into_dyn(),
        );
        self.weights_changed();
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Clone for Affine<T, IN, OUT> {
    /// A copy whose rows are aligned in its own allocation.
    fn clone(&self) -> Self {
        Self::from_parts(
            self.weight().iter().copied().collect(),
            self.bias.to_vec(),
            self.activation,
        )
    }
}

impl<T: Float, const IN: usize, const OUT: usize> PartialEq for Affine<T, IN, OUT> {
    /// Equal weights, biases and activations (the padding and alignment do not count).
    fn eq(&self, other: &Self) -> bool {
        self.weight() == other.weight()
            && self.bias == other.bias
            && self.activation == other.activation
    }
}

impl<T: fmt::Debug, const IN: usize, const OUT: usize> fmt::Debug for Affine<T, IN, OUT> {
    /// The sizes and the activation; not the thousands of parameters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Affine")
            .field("inputs", &IN)
            .field("outputs", &OUT)
            .field("activation", &self.activation)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder, array, s};

    fn book_layer() -> Affine<f64, 2, 3> {
        Affine::from_static(
            &[[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]],
            &[0.1, 0.2, 0.3],
            Activation::Identity,
        )
    }

    #[test]
    fn forward_is_x_dot_w_plus_b() {
        let y = book_layer().forward(&[1.0, 0.5]);
        let expected = [0.3, 0.7, 1.1];
        assert!(y.iter().zip(expected).all(|(y, e)| (y - e).abs() < 1e-12));
    }

    #[test]
    fn batch_accepts_any_layout() {
        let layer = book_layer();
        let rows = array![[1.0, 0.5], [0.0, 0.0], [-1.0, 2.0]];
        let c = layer.forward_batch(rows.view()).expect("width 2");
        let mut f = Array2::zeros((3, 2).f());
        f.assign(&rows);
        assert_eq!(layer.forward_batch(f.view()).expect("width 2"), c);
        // Every other row of a bigger matrix, read backwards.
        let big = array![[-1.0, 2.0], [9.0, 9.0], [0.0, 0.0], [9.0, 9.0], [1.0, 0.5]];
        let strided = big.slice(s![..;-2, ..]);
        assert_eq!(layer.forward_batch(strided).expect("width 2"), c);
        // The matrix product may add in another order than `forward`: equal to rounding.
        for (i, row) in rows.rows().into_iter().enumerate() {
            let single = layer.forward(&[row[0], row[1]]);
            for (b, s) in c.row(i).iter().zip(single) {
                assert!((b - s).abs() < 1e-15, "row {i}: {b} vs {s}");
            }
        }
    }

    #[test]
    fn empty_batch() {
        let y = book_layer()
            .forward_batch(Array2::zeros((0, 2)).view())
            .expect("width 2");
        assert_eq!(y.dim(), (0, 3));
    }

    #[test]
    fn wrong_width_and_lengths() {
        let err = book_layer()
            .forward_batch(Array2::zeros((4, 3)).view())
            .expect_err("width 3");
        assert_eq!(err, ShapeError::input_width(2, 3));
        let err = Affine::<f32, 2, 3>::new(&[0.0; 6], &[0.0; 2], Activation::Relu)
            .expect_err("short bias");
        assert_eq!(err.to_string(), "wrong bias length: expected 3, found 2");
    }

    #[test]
    fn accessors_and_debug() {
        let layer = book_layer();
        assert_eq!(layer.weight().dim(), (2, 3));
        assert_eq!(layer.weight()[[1, 0]], 0.2);
        assert_eq!(layer.bias(), [0.1, 0.2, 0.3]);
        assert_eq!(layer.activation(), Activation::Identity);
        assert_eq!(
            format!("{layer:?}"),
            "Affine { inputs: 2, outputs: 3, activation: Identity, .. }"
        );
    }

    #[test]
    fn a_big_batch_split_over_threads_agrees_with_single_samples_in_any_layout() {
        // 600 × 512 × 64 multiply-adds is above PARALLEL_WORK: the threaded path.
        let mut rng = InitRng::new(9);
        let layer = Affine::<f32, 512, 64>::random(&mut rng, Activation::Sigmoid);
        let x = Array2::from_shape_fn((600, 512), |(i, j)| {
            ((i * 31 + j * 7) % 97) as f32 / 97.0 - 0.5
        });
        const { assert!(600 * 512 * 64 >= batch::PARALLEL_WORK) };
        let row_major = layer.forward_batch(x.view()).expect("width 512");
        let column_major = x.t().as_standard_layout().t().to_owned();
        assert_eq!(
            layer.forward_batch(column_major.view()).expect("width 512"),
            row_major
        );
        for i in [0, 1, 299, 599] {
            let sample: [f32; 512] = x.row(i).to_vec().try_into().expect("512 values");
            let single = layer.forward(&sample);
            for (a, b) in single.iter().zip(row_major.row(i)) {
                assert!((a - b).abs() < 1e-5, "row {i}");
            }
        }
    }

    #[test]
    fn an_infinite_weight_still_meets_a_zero_input() {
        // 0 · inf is NaN, as numpy computes it: the zero-skipping must not hide it.
        let layer = Affine::<f32, 4, 2>::new(
            &[f32::INFINITY, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            &[0.0, 0.0],
            Activation::Identity,
        )
        .expect("4 × 2 weights");
        let y = layer.forward(&[0.0, 0.0, 0.0, 0.0]);
        assert!(y[0].is_nan() && y[1] == 0.0, "{y:?}");
    }

    #[test]
    fn random_uses_he_for_relu_and_xavier_otherwise() {
        fn std_of(layer: &Affine<f64, 400, 100>) -> f64 {
            let w = layer.weight();
            (w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64).sqrt()
        }
        let he = Affine::<f64, 400, 100>::random(&mut InitRng::new(3), Activation::Relu);
        let xavier = Affine::<f64, 400, 100>::random(&mut InitRng::new(3), Activation::Sigmoid);
        assert!((std_of(&he) - (2.0_f64 / 400.0).sqrt()).abs() < 0.002);
        assert!((std_of(&xavier) - (1.0_f64 / 400.0).sqrt()).abs() < 0.002);
        // Same stream, scaled: He's weights are Xavier's times sqrt(2).
        let ratio = he.weight()[[7, 9]] / xavier.weight()[[7, 9]];
        assert!((ratio - 2.0_f64.sqrt()).abs() < 1e-12);
    }
}
