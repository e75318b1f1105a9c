//! [`Layer`]: the trait every layer type implements, so that generated code has one
//! shape for every kind of layer. Only generated code uses it, through
//! `nn_runtime::__private`; users call the layers' inherent methods.

use ndarray::{ArrayView2, CowArray, Ix2};

use crate::{Float, InitRng, LoadError, ShapeError, Tensors};

/// What generated code needs of a layer besides its single-sample `forward` (an
/// inherent method, since `[T; IN]` cannot be written with associated constants on
/// stable Rust): building it, its cost, and running a block of rows.
///
/// | layer | `Config` |
/// |---|---|
/// | [`Affine`](crate::Affine) | its [`Activation`](crate::Activation) |
/// | [`Conv2d`](crate::Conv2d) | [`Conv2dConfig`](crate::Conv2dConfig) (geometry and activation) |
/// | [`MaxPool2d`](crate::MaxPool2d) | [`Pool2dConfig`](crate::Pool2dConfig) |
/// | [`Flatten`](crate::Flatten) | `()` |
///
/// ```
/// use nn_runtime::{Activation, Affine, Flatten, InitRng};
/// use nn_runtime::__private::Layer;
/// use nn_runtime::ndarray::array;
///
/// let affine: Affine<f32, 2, 1> = Layer::random(Activation::Relu, &mut InitRng::new(1));
/// let flatten: Flatten<f32, 2> = Layer::zeros(());
/// assert_eq!((<Affine<f32, 2, 1> as Layer>::INPUT, affine.multiply_adds()), (2, 2));
/// let x = array![[1.0, 2.0]];
/// let same = flatten.forward_rows(x.view())?;
/// assert!(same.is_view());
/// let mut out = [0.0; 1];
/// affine.forward_rows_into(same.view(), &mut out)?;
/// # Ok::<(), nn_runtime::ShapeError>(())
/// ```
pub trait Layer: Sized {
    /// The element type, `f32` or `f64`.
    type Elem: Float;
    /// What the layer is besides its parameters: geometry and activation.
    type Config: Copy;
    /// Values per input sample.
    const INPUT: usize;
    /// Values per output sample.
    const OUTPUT: usize;

    /// The layer with every parameter zero.
    ///
    /// # Panics
    /// If `config` does not fit the layer's sizes (see each layer's constructors).
    fn zeros(config: Self::Config) -> Self;

    /// The layer with random weights (He for relu-family activations, Xavier
    /// otherwise) and zero biases, drawn from `rng` in the order of the weight's
    /// layout in parameter files.
    ///
    /// # Panics
    /// If `config` does not fit the layer's sizes.
    fn random(config: Self::Config, rng: &mut InitRng) -> Self;

    /// The layer with its parameters taken from `tensors`: `names` are its tensors in
    /// order (weight, bias), empty for a layer without parameters.
    ///
    /// # Panics
    /// If `config` does not fit the layer's sizes, or `names` has another length than
    /// the layer has tensors: both are mistakes of the generated code, not of the file.
    fn load(config: Self::Config, tensors: &mut Tensors, names: &[&str])
    -> Result<Self, LoadError>;

    /// Multiply-adds per sample (0 for a layer without parameters).
    fn multiply_adds(&self) -> usize;

    /// A block of rows on the calling thread, one sample per row: a new array, or the
    /// input view itself for a layer that changes nothing ([`Flatten`](crate::Flatten)).
    /// A width other than [`INPUT`](Self::INPUT) is a [`ShapeError`].
    fn forward_rows<'a>(
        &self,
        x: ArrayView2<'a, Self::Elem>,
    ) -> Result<CowArray<'a, Self::Elem, Ix2>, ShapeError>;

    /// A block of rows written into `out` (`rows × OUTPUT` values, row-major): what the
    /// last layer of a network does with its block of the batch's result. A width other
    /// than [`INPUT`](Self::INPUT) or an `out` of another length is a [`ShapeError`].
    fn forward_rows_into(
        &self,
        x: ArrayView2<'_, Self::Elem>,
        out: &mut [Self::Elem],
    ) -> Result<(), ShapeError>;
}

/// Checks a block of rows against a layer's sizes: `x` must be `input` wide and `out`
/// (if any) hold `output` values per row.
pub(crate) fn check_rows<T>(
    x: &ArrayView2<'_, T>,
    input: usize,
    out: Option<(&[T], usize)>,
) -> Result<(), ShapeError> {
    if x.ncols() != input {
        return Err(ShapeError::input_width(input, x.ncols()));
    }
    if let Some((out, output)) = out
        && out.len() != x.nrows() * output
    {
        return Err(ShapeError::new(
            "output length (rows × OUT)",
            x.nrows() * output,
            out.len(),
        ));
    }
    Ok(())
}

/// The names of a layer with a weight and a bias.
///
/// # Panics
/// If there are not exactly two: generated code always passes two.
pub(crate) fn weight_and_bias<'n>(names: &[&'n str], kind: &str) -> (&'n str, &'n str) {
    match names {
        [weight, bias] => (weight, bias),
        _ => panic!(
            "a {kind} layer has two tensors (weight, bias), but {} names were given",
            names.len()
        ),
    }
}

/// Runs `sample` (one flat input row to one flat output row) over each row of `x`,
/// writing `out`: contiguous rows are read in place, a block in another layout is
/// copied to row-major once.
pub(crate) fn each_row<T: Float>(
    x: ArrayView2<'_, T>,
    out: &mut [T],
    output: usize,
    mut sample: impl FnMut(&[T], &mut [T]),
) {
    if output == 0 {
        return;
    }
    let x = x.as_standard_layout();
    for (row, out) in x.rows().into_iter().zip(out.chunks_exact_mut(output)) {
        let row = row
            .to_slice()
            .expect("a row of a standard-layout array is contiguous");
        sample(row, out);
    }
}
