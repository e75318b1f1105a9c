//! [`Conv2d`]: the typed 2-D convolution layer, with its geometry and activation in a
//! [`Conv2dConfig`].

use std::fmt;
use std::mem::MaybeUninit;

use ndarray::{
    Array2, Array4, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, CowArray, Dim, Ix2, Ix4,
};

use crate::batch::{self, RowCost};
use crate::layer::{self, Layer};
use crate::optim::Optimizer;
use crate::pool::out_dim;
use crate::train::{self, LayerGradients, Train};
use crate::{Activation, Float, InitRng, LoadError, ShapeError, Tensors, simd};

/// The geometry and activation of a `conv CxHxW -> FxH'xW' kernel KhxKw stride S pad P`
/// layer: `H' = (H + 2·Ph − Kh) / Sh + 1` and `W' = (W + 2·Pw − Kw) / Sw + 1`, integer
/// division, as in the book and PyTorch.
///
/// The book's SimpleConvNet (chapter 7) starts with 30 filters of 5×5 over a 28×28
/// image:
///
/// ```
/// use nn_runtime::{Activation, Conv2dConfig};
///
/// let conv = Conv2dConfig {
///     input: [1, 28, 28],
///     filters: 30,
///     kernel: [5, 5],
///     stride: [1, 1],
///     pad: [0, 0],
///     activation: Activation::<f32>::Relu,
/// };
/// assert_eq!(conv.output(), [30, 24, 24]);
/// assert_eq!((conv.input_len(), conv.output_len()), (784, 17_280));
/// assert_eq!((conv.weight_shape(), conv.fan_in()), ([30, 1, 5, 5], 25));
/// assert_eq!(conv.multiply_adds(), 432_000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv2dConfig<T> {
    /// The input's `[C, H, W]`.
    pub input: [usize; 3],
    /// The number of filters `F`: the output's channels.
    pub filters: usize,
    /// The kernel's `[Kh, Kw]`.
    pub kernel: [usize; 2],
    /// The steps between windows, `[Sh, Sw]` (1 unless the `.nn` file says otherwise).
    pub stride: [usize; 2],
    /// The zeros added on each side, `[Ph, Pw]` (0 unless the `.nn` file says otherwise).
    pub pad: [usize; 2],
    /// The activation applied to the output (softmax over the whole flat sample).
    pub activation: Activation<T>,
}

impl<T> Conv2dConfig<T> {
    /// The output's `[F, H', W']`; a dimension is 0 where the kernel is bigger than the
    /// padded input or the stride is 0.
    pub const fn output(&self) -> [usize; 3] {
        let [_, h, w] = self.input;
        [
            self.filters,
            out_dim(h, self.pad[0], self.kernel[0], self.stride[0]),
            out_dim(w, self.pad[1], self.kernel[1], self.stride[1]),
        ]
    }

    /// Values per input sample, `C·H·W`.
    pub const fn input_len(&self) -> usize {
        self.input[0] * self.input[1] * self.input[2]
    }

    /// Values per output sample, `F·H'·W'`.
    pub const fn output_len(&self) -> usize {
        let [f, h, w] = self.output();
        f * h * w
    }

    /// The weight's shape `[F, C, Kh, Kw]` (OIHW, as the book and PyTorch store it).
    pub const fn weight_shape(&self) -> [usize; 4] {
        [self.filters, self.input[0], self.kernel[0], self.kernel[1]]
    }

    /// The inputs of one output, `C·Kh·Kw`: what the initialisation scales by.
    pub const fn fan_in(&self) -> usize {
        self.input[0] * self.kernel[0] * self.kernel[1]
    }

    /// Multiply-adds per sample, `F·H'·W'·C·Kh·Kw`.
    pub const fn multiply_adds(&self) -> usize {
        self.output_len() * self.fan_in()
    }
}

impl<T: Float> Conv2dConfig<T> {
    /// Panics unless the geometry is valid and takes `input` values to `output`.
    fn check(&self, input: usize, output: usize) {
        let [c, h, w] = self.input;
        let [kh, kw] = self.kernel;
        assert!(
            c > 0 && h > 0 && w > 0 && self.filters > 0 && kh > 0 && kw > 0,
            "conv: a zero size in input {c}x{h}x{w}, {} filters, kernel {kh}x{kw}",
            self.filters
        );
        assert!(
            self.stride[0] > 0 && self.stride[1] > 0,
            "conv: the stride {:?} has a zero",
            self.stride
        );
        assert!(
            kh <= h + 2 * self.pad[0] && kw <= w + 2 * self.pad[1],
            "conv: the kernel {kh}x{kw} is bigger than the padded input {}x{}",
            h + 2 * self.pad[0],
            w + 2 * self.pad[1]
        );
        assert!(
            self.input_len() == input && self.output_len() == output,
            "conv: {self:?} takes {} values to {}, but the layer's type takes {input} to {output}",
            self.input_len(),
            self.output_len()
        );
    }

    fn geometry(&self) -> simd::ConvGeometry {
        let [c, h, w] = self.input;
        let [f, oh, ow] = self.output();
        simd::ConvGeometry {
            c,
            h,
            w,
            f,
            kh: self.kernel[0],
            kw: self.kernel[1],
            sh: self.stride[0],
            sw: self.stride[1],
            ph: self.pad[0],
            pw: self.pad[1],
            oh,
            ow,
        }
    }
}

/// A convolution layer from `IN = C·H·W` to `OUT = F·H'·W'` values:
/// `y[f,i,j] = act(b[f] + Σ_{c,u,v} W[f,c,u,v] · x[c, i·Sh+u−Ph, j·Sw+v−Pw])`, with zeros
/// outside the input. Samples are flat, in row-major `(c, h, w)` order.
///
/// The weight `W` has shape `[F, C, Kh, Kw]` (OIHW), the bias `[F]`. Inside, the
/// weights are packed for the kernel (the filters of a block of 8 side by side for each
/// tap); [`weight`](Self::weight) gives them back in OIHW.
///
/// ```
/// use nn_runtime::{Activation, Conv2d, Conv2dConfig};
///
/// // One 2x2 filter that sums its window, over a 1x3x3 image, stride 1, no padding.
/// let config = Conv2dConfig { input: [1, 3, 3], filters: 1, kernel: [2, 2], stride: [1, 1], pad: [0, 0], activation: Activation::Identity };
/// let conv = Conv2d::<f32, 9, 4>::new(config, &[1.0; 4], &[0.5])?;
/// let y = conv.forward(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
/// assert_eq!(y, [12.5, 16.5, 24.5, 28.5]);
/// # Ok::<(), nn_runtime::ShapeError>(())
/// ```
pub struct Conv2d<T, const IN: usize, const OUT: usize> {
    config: Conv2dConfig<T>,
    /// The weight in OIHW order, as files and optimizers see it.
    weight: Box<[T]>,
    /// The weights as the kernels read them, packed from `weight`.
    weights: simd::ConvWeights<T>,
    bias: Box<[T]>,
    /// Whether every weight is finite, so that an input row of zeros adds exactly
    /// nothing and may be skipped.
    weights_finite: bool,
}

impl<T: Float, const IN: usize, const OUT: usize> Conv2d<T, IN, OUT> {
    /// The layer with the given parameters: `weight` holds `F·C·Kh·Kw` values in OIHW
    /// order, `bias` `F`. Wrong lengths are a [`ShapeError`].
    ///
    /// # Panics
    /// If `config` does not take `IN` values to `OUT`, has a zero size or stride, or a
    /// kernel bigger than the padded input: the code generator checks all of it, so this
    /// is a programming error.
    ///
    /// ```
    /// use nn_runtime::{Activation, Conv2d, Conv2dConfig};
    ///
    /// let config = Conv2dConfig { input: [2, 4, 4], filters: 3, kernel: [3, 3], stride: [1, 1], pad: [1, 1], activation: Activation::Relu };
    /// let err = Conv2d::<f64, 32, 48>::new(config, &[0.0; 53], &[0.0; 3]).unwrap_err();
    /// assert_eq!(err.to_string(), "wrong weight length (F·C·Kh·Kw, OIHW): expected 54, found 53");
    /// ```
    pub fn new(config: Conv2dConfig<T>, weight: &[T], bias: &[T]) -> Result<Self, ShapeError> {
        config.check(IN, OUT);
        let [f, c, kh, kw] = config.weight_shape();
        if weight.len() != f * c * kh * kw {
            return Err(ShapeError::new(
                "weight length (F·C·Kh·Kw, OIHW)",
                f * c * kh * kw,
                weight.len(),
            ));
        }
        if bias.len() != f {
            return Err(ShapeError::new("bias length", f, bias.len()));
        }
        Ok(Self::from_parts(config, weight, bias.to_vec()))
    }

    /// The layer with parameters written in the source: what generated code calls for
    /// inline parameters (usually `'static` literals). `weight` is OIHW, flat.
    ///
    /// # Panics
    /// As [`new`](Self::new) for `config`, and if `weight` or `bias` has the wrong length.
    ///
    /// ```
    /// use nn_runtime::{Activation, Conv2d, Conv2dConfig};
    ///
    /// let config = Conv2dConfig { input: [1, 1, 3], filters: 2, kernel: [1, 2], stride: [1, 1], pad: [0, 0], activation: Activation::Identity };
    /// // Differences and sums of neighbours.
    /// let conv = Conv2d::<f32, 3, 4>::from_static(config, &[-1.0, 1.0, 1.0, 1.0], &[0.0, 0.0]);
    /// assert_eq!(conv.forward(&[1.0, 4.0, 9.0]), [3.0, 5.0, 5.0, 13.0]);
    /// ```
    pub fn from_static(config: Conv2dConfig<T>, weight: &[T], bias: &[T]) -> Self {
        match Self::new(config, weight, bias) {
            Ok(layer) => layer,
            Err(err) => panic!("conv parameters: {err}"),
        }
    }

    /// The layer with every weight and bias zero.
    ///
    /// # Panics
    /// As [`new`](Self::new) for `config`.
    pub fn zeros(config: Conv2dConfig<T>) -> Self {
        config.check(IN, OUT);
        let [f, c, kh, kw] = config.weight_shape();
        Self::from_parts(
            config,
            &vec![T::zero(); f * c * kh * kw],
            vec![T::zero(); f],
        )
    }

    /// The layer with random weights and zero biases: normal with mean 0 and standard
    /// deviation `sqrt(2 / fan_in)` (He) for a relu-family activation, `sqrt(1 /
    /// fan_in)` otherwise, `fan_in = C·Kh·Kw`, drawn in OIHW order (as
    /// [`Affine::random`](crate::Affine::random) does for its layout).
    ///
    /// # Panics
    /// As [`new`](Self::new) for `config`.
    ///
    /// ```
    /// use nn_runtime::{Activation, Conv2d, Conv2dConfig, InitRng};
    ///
    /// let config = Conv2dConfig { input: [1, 28, 28], filters: 30, kernel: [5, 5], stride: [1, 1], pad: [0, 0], activation: Activation::Relu };
    /// let conv = Conv2d::<f32, 784, 17280>::random(config, &mut InitRng::new(1));
    /// assert_eq!(conv, Conv2d::random(config, &mut InitRng::new(1)));
    /// assert_eq!(conv.weight().shape(), [30, 1, 5, 5]);
    /// ```
    pub fn random(config: Conv2dConfig<T>, rng: &mut InitRng) -> Self {
        config.check(IN, OUT);
        let gain = if config.activation.is_relu_family() {
            2.0
        } else {
            1.0
        };
        let std = (gain / config.fan_in() as f64).sqrt();
        let [f, c, kh, kw] = config.weight_shape();
        let weight: Vec<T> = (0..f * c * kh * kw)
            .map(|_| T::from_f64(std * rng.normal()))
            .collect();
        Self::from_parts(config, &weight, vec![T::zero(); f])
    }

    /// The layer with its weight and bias taken from a parameter file: the tensors
    /// `weight_name` of shape `[F, C, Kh, Kw]` and `bias_name` of shape `[F]`, of this
    /// layer's element type exactly.
    ///
    /// # Panics
    /// As [`new`](Self::new) for `config`.
    pub fn load(
        config: Conv2dConfig<T>,
        tensors: &mut Tensors,
        weight_name: &str,
        bias_name: &str,
    ) -> Result<Self, LoadError> {
        config.check(IN, OUT);
        let weight = tensors.take::<T>(weight_name, &config.weight_shape())?;
        let bias = tensors.take::<T>(bias_name, &[config.filters])?;
        Ok(Self::from_parts(config, &weight, bias))
    }

    /// `config` is checked, `weight` is OIHW and `bias` has `F` values.
    fn from_parts(config: Conv2dConfig<T>, weight: &[T], bias: Vec<T>) -> Self {
        Self {
            weights: simd::ConvWeights::new(&config.geometry(), weight),
            weights_finite: weight.iter().all(|w| w.is_finite()),
            weight: weight.into(),
            bias: bias.into_boxed_slice(),
            config,
        }
    }

    /// One sample, without allocating: `x` flat `(c, h, w)`, the result flat
    /// `(f, i, j)`.
    ///
    /// A direct convolution, one output row at a time: the input rows it reads are
    /// copied with their padding to a stack buffer, and 8 filters by a register of
    /// output columns at a time are accumulated in registers (with AVX2 and FMA where
    /// the CPU has them). With every weight finite, input rows that are all 0 are
    /// skipped.
    #[inline]
    pub fn forward(&self, x: &[T; IN]) -> [T; OUT] {
        // Not zeroed first (`OUT` values, 69 KB in the book's first layer): the kernels
        // write every output.
        let mut y = MaybeUninit::<[T; OUT]>::uninit();
        // SAFETY: `[MaybeUninit<T>; OUT]` has the layout of `MaybeUninit<[T; OUT]>`.
        let out = unsafe { &mut *y.as_mut_ptr().cast::<[MaybeUninit<T>; OUT]>() };
        self.forward_uninit(x, out, self.config.activation);
        // SAFETY: `conv_activated` wrote every element.
        unsafe { y.assume_init() }
    }

    /// One flat sample into `y` (`IN` and `OUT` values, checked by the callers).
    fn forward_into(&self, x: &[T], y: &mut [T], activation: Activation<T>) {
        self.forward_uninit(x, simd::as_uninit(y), activation);
    }

    /// One flat sample into `y`, which is all written, with `activation` (the
    /// layer's own, or none in training's last layer).
    fn forward_uninit(&self, x: &[T], y: &mut [MaybeUninit<T>], activation: Activation<T>) {
        simd::conv_activated(
            &self.config.geometry(),
            &self.weights,
            &self.bias,
            x,
            y,
            self.weights_finite,
            activation,
        );
    }

    /// Brings the packed weights and what the layer knows about them up to date after
    /// `weight` changed, without allocating.
    fn weights_changed(&mut self) {
        self.weights.repack(&self.config.geometry(), &self.weight);
        self.weights_finite = self.weight.iter().all(|w| w.is_finite());
    }

    /// The weight as an OIHW view.
    fn weight_view(&self) -> ndarray::ArrayView4<'_, T> {
        ndarray::ArrayView4::from_shape(self.config.weight_shape(), &self.weight)
            .expect("the weight holds F·C·Kh·Kw values")
    }

    /// A batch, one flat sample per row (any layout), in blocks of rows shared by
    /// rayon's threads. A width other than `IN` is a [`ShapeError`].
    ///
    /// ```
    /// use nn_runtime::{Activation, Conv2d, Conv2dConfig, ndarray::array};
    ///
    /// let config = Conv2dConfig { input: [1, 1, 3], filters: 1, kernel: [1, 2], stride: [1, 1], pad: [0, 0], activation: Activation::Relu };
    /// let conv = Conv2d::<f32, 3, 2>::new(config, &[1.0, -1.0], &[0.0])?;
    /// let y = conv.forward_batch(array![[1.0, 4.0, 2.0], [3.0, 1.0, 2.0]].view())?;
    /// assert_eq!(y, array![[0.0, 2.0], [2.0, 0.0]]);
    /// # Ok::<(), nn_runtime::ShapeError>(())
    /// ```
    pub fn forward_batch(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, ShapeError> {
        let cost = RowCost {
            multiply_adds: self.config.multiply_adds(),
            widest: IN.max(OUT),
        };
        batch::run(x, IN, OUT, cost, |x, out| {
            Layer::forward_rows_into(self, x, out)
        })
    }

    /// The weight, of shape `[F, C, Kh, Kw]` (OIHW).
    pub fn weight(&self) -> Array4<T> {
        self.weight_view().to_owned()
    }

    /// The bias, `F` values.
    pub fn bias(&self) -> &[T] {
        &self.bias
    }

    /// The geometry and activation.
    pub fn config(&self) -> Conv2dConfig<T> {
        self.config
    }

    /// The activation.
    pub fn activation(&self) -> Activation<T> {
        self.config.activation
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Layer for Conv2d<T, IN, OUT> {
    type Elem = T;
    type Config = Conv2dConfig<T>;
    const INPUT: usize = IN;
    const OUTPUT: usize = OUT;

    fn zeros(config: Conv2dConfig<T>) -> Self {
        Self::zeros(config)
    }

    fn random(config: Conv2dConfig<T>, rng: &mut InitRng) -> Self {
        Self::random(config, rng)
    }

    fn load(
        config: Conv2dConfig<T>,
        tensors: &mut Tensors,
        names: &[&str],
    ) -> Result<Self, LoadError> {
        let (weight, bias) = layer::weight_and_bias(names, "conv");
        Self::load(config, tensors, weight, bias)
    }

    fn multiply_adds(&self) -> usize {
        self.config.multiply_adds()
    }

    fn forward_rows<'a>(&self, x: ArrayView2<'a, T>) -> Result<CowArray<'a, T, Ix2>, ShapeError> {
        layer::check_rows(&x, IN, None)?;
        // Not zeroed first (69 KB a sample in the book's first layer): every row is
        // written.
        let mut y = Array2::uninit((x.nrows(), OUT));
        let out = y
            .as_slice_mut()
            .expect("a new array is contiguous and row-major");
        let x = x.as_standard_layout();
        for (row, out) in x.rows().into_iter().zip(out.chunks_exact_mut(OUT)) {
            let row = row
                .to_slice()
                .expect("a row of a standard-layout array is contiguous");
            self.forward_uninit(row, out, self.config.activation);
        }
        // SAFETY: `forward_uninit` wrote every row (`OUT` > 0: the config checks it).
        Ok(CowArray::from(unsafe { y.assume_init() }))
    }

    fn forward_rows_into(&self, x: ArrayView2<'_, T>, out: &mut [T]) -> Result<(), ShapeError> {
        layer::check_rows(&x, IN, Some((out, OUT)))?;
        let activation = self.config.activation;
        layer::each_row(x, out, OUT, |x, y| self.forward_into(x, y, activation));
        Ok(())
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Train for Conv2d<T, IN, OUT> {
    type Gradients = LayerGradients<T, Ix4>;

    fn zero_gradients(&self) -> Self::Gradients {
        LayerGradients::zeros(Dim(self.config.weight_shape()), self.config.filters)
    }

    fn forward_train(
        &self,
        x: ArrayView2<'_, T>,
        out: &mut [T],
        activate: bool,
    ) -> Result<(), ShapeError> {
        layer::check_rows(&x, IN, Some((out, OUT)))?;
        let activation = if activate {
            self.config.activation
        } else {
            Activation::Identity
        };
        layer::each_row(x, out, OUT, |x, y| self.forward_into(x, y, activation));
        Ok(())
    }

    /// The book's `Convolution.backward` one sample at a time: the sample's columns
    /// (im2col, `H'·W' × C·Kh·Kw`, in `scratch`) give `dW += dz·cols`; `dx` is the
    /// columns' gradient `dzᵀ·W` scattered back (col2im).
    fn backward(
        &self,
        x: ArrayView2<'_, T>,
        y: ArrayView2<'_, T>,
        mut dy: ArrayViewMut2<'_, T>,
        activated: bool,
        gradients: &mut Self::Gradients,
        mut dx: Option<ArrayViewMut2<'_, T>>,
        scratch: &mut Vec<T>,
    ) {
        if activated {
            train::activation_backward(self.config.activation, y, dy.view_mut());
        }
        let g = self.config.geometry();
        let (plane, taps) = (g.oh * g.ow, g.taps());
        let x = x.as_standard_layout();
        scratch.resize(2 * plane * taps, T::zero());
        let (cols, dcols) = scratch.split_at_mut(plane * taps);
        let weight = train::rows(&self.weight, taps);
        let mut dw = gradients
            .weight
            .view_mut()
            .into_shape_with_order((g.f, taps))
            .expect("the gradient is a standard-layout F·C·Kh·Kw array");
        gradients.bias.fill(T::zero());
        for (b, (x, dz)) in x.rows().into_iter().zip(dy.rows()).enumerate() {
            let x = x.to_slice().expect("a standard-layout row is contiguous");
            let dz = dz
                .to_slice()
                .expect("a training buffer's row is contiguous");
            let dz = train::rows(dz, plane);
            for (bias, row) in gradients.bias.iter_mut().zip(dz.rows()) {
                *bias = row.iter().fold(*bias, |s, &d| s + d);
            }
            im2col(&g, x, cols);
            simd::product(dz, train::rows(cols, taps), dw.view_mut(), b > 0);
            if let Some(dx) = dx.as_mut() {
                simd::gemm(dz.t(), weight, train::rows_mut(dcols, taps), false, false);
                let mut dx = dx.row_mut(b);
                let dx = dx
                    .as_slice_mut()
                    .expect("a training buffer's row is contiguous");
                col2im(&g, dcols, dx);
            }
        }
    }

    fn visit(&self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {
        let (weight, bias) = layer::weight_and_bias(names, "conv");
        f(weight, self.weight_view().into_dyn());
        f(bias, ndarray::ArrayView1::from(&self.bias[..]).into_dyn());
    }

    fn visit_mut(&mut self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        let (weight, bias) = layer::weight_and_bias(names, "conv");
        let shape = self.config.weight_shape();
        f(
            weight,
            ndarray::ArrayViewMut4::from_shape(shape, &mut self.weight)
                .expect("the weight holds F·C·Kh·Kw values")
                .into_dyn(),
        );
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
        let (weight, bias) = layer::weight_and_bias(names, "conv");
        let shape = self.config.weight_shape();
        optimizer.update(
            weight,
            ndarray::ArrayViewMut4::from_shape(shape, &mut self.weight)
                .expect("the weight holds F·C·Kh·Kw values")
                .into_dyn(),
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

/// One sample's columns: `cols[p][t]` for output position `p = i·W' + j` and tap
/// `t = (c·Kh + u)·Kw + v` is `x[c, i·Sh + u − Ph, j·Sw + v − Pw]`, 0 in the padding.
fn im2col<T: Float>(g: &simd::ConvGeometry, x: &[T], cols: &mut [T]) {
    let taps = g.taps();
    if g.ph == 0 && g.pw == 0 && g.sw == 1 {
        // Without padding each (c, u) of a column is `Kw` neighbours of one input row.
        for i in 0..g.oh {
            for j in 0..g.ow {
                let col = &mut cols[(i * g.ow + j) * taps..][..taps];
                for (k, part) in col.chunks_exact_mut(g.kw).enumerate() {
                    let (c, u) = (k / g.kh, k % g.kh);
                    let start = (c * g.h + i * g.sh + u) * g.w + j;
                    part.copy_from_slice(&x[start..start + g.kw]);
                }
            }
        }
        return;
    }
    each_tap(g, |k, at| cols[k] = at.map_or(T::zero(), |at| x[at]));
}

/// The inverse scatter of [`im2col`]: each column value added to the input position
/// it came from (padding dropped); `dx` is overwritten.
fn col2im<T: Float>(g: &simd::ConvGeometry, cols: &[T], dx: &mut [T]) {
    dx.fill(T::zero());
    each_tap(g, |k, at| {
        if let Some(at) = at {
            dx[at] = dx[at] + cols[k];
        }
    });
}

/// The traversal [`im2col`] and [`col2im`] share: `f(k, at)` for element `k` of one
/// sample's columns (position-major, `k = p·C·Kh·Kw + t`), `at` being the input
/// position it stands for, or `None` in the padding.
fn each_tap(g: &simd::ConvGeometry, mut f: impl FnMut(usize, Option<usize>)) {
    let mut k = 0;
    for i in 0..g.oh {
        for j in 0..g.ow {
            for c in 0..g.c {
                for u in 0..g.kh {
                    let row = (i * g.sh + u).checked_sub(g.ph).filter(|&r| r < g.h);
                    for v in 0..g.kw {
                        let column = (j * g.sw + v).checked_sub(g.pw).filter(|&q| q < g.w);
                        f(k, row.zip(column).map(|(r, q)| (c * g.h + r) * g.w + q));
                        k += 1;
                    }
                }
            }
        }
    }
}

impl<T: Float, const IN: usize, const OUT: usize> Clone for Conv2d<T, IN, OUT> {
    fn clone(&self) -> Self {
        Self {
            config: self.config,
            weight: self.weight.clone(),
            weights: self.weights.clone(),
            bias: self.bias.clone(),
            weights_finite: self.weights_finite,
        }
    }
}

impl<T: Float, const IN: usize, const OUT: usize> PartialEq for Conv2d<T, IN, OUT> {
    /// Equal geometry, activation, weights and biases.
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config && self.weight == other.weight && self.bias == other.bias
    }
}

impl<T: fmt::Debug, const IN: usize, const OUT: usize> fmt::Debug for Conv2d<T, IN, OUT> {
    /// The geometry and activation; not the parameters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conv2d")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
