//! Training's runtime half for generated code (LANGUAGE.md §9): the [`Train`] trait
//! every layer implements (a forward pass that keeps what backward needs, the backward
//! pass, its parameters by name), the gradients of a layer with parameters
//! ([`LayerGradients`]), the buffers a network keeps between steps ([`Training`]) and
//! [`save`].
//!
//! The generated `gradients` runs each layer's `forward_train` into a buffer of its
//! own, the loss, then each layer's `backward` in reverse, handing the gradient with
//! respect to a layer's input to the layer before it through two buffers used in turn.
//! No tape: the order is fixed when the macro expands.

use std::fmt;
use std::path::Path;

use ndarray::{Array, ArrayView2, ArrayViewD, ArrayViewMut2, ArrayViewMutD, Dimension, Zip};

use crate::float::sealed::Sealed as _;
use crate::layer::Layer;
use crate::optim::{Optimizer, Parameters};
use crate::{Float, SaveError, ShapeError};

/// What a layer does in training, besides [`Layer`]'s building and inference.
///
/// `x` is always the layer's input block (`rows × INPUT`), `y` its output as
/// [`forward_train`](Self::forward_train) wrote it (`rows × OUTPUT`).
pub trait Train: Layer {
    /// The gradients of the layer's parameters: [`LayerGradients`] for a layer with a
    /// weight and a bias, `()` for one without parameters.
    type Gradients: Clone + fmt::Debug + Send + Sync;

    /// Zero gradients, shaped as the parameters.
    fn zero_gradients(&self) -> Self::Gradients;

    /// A block of rows into `out` (`rows × OUTPUT`, row-major). With `activate` false
    /// the activation is left out: the last layer of a network trained with
    /// `cross_entropy`, whose loss starts from the scores before softmax. A width other
    /// than `INPUT`, or an `out` of another length, is a [`ShapeError`].
    fn forward_train(
        &self,
        x: ArrayView2<'_, Self::Elem>,
        out: &mut [Self::Elem],
        activate: bool,
    ) -> Result<(), ShapeError>;

    /// The backward pass of a block. `dy` holds the gradient of the loss with respect
    /// to `y` (with respect to the pre-activation when `activated` is false) and is
    /// used as scratch; `gradients` is overwritten with the gradients of the
    /// parameters; `dx`, when given (`rows × INPUT`), with the gradient with respect to
    /// `x`. `scratch` is a buffer the caller keeps between calls.
    ///
    /// # Panics
    /// If the blocks' shapes disagree: generated code sizes them all from one batch.
    #[allow(
        clippy::too_many_arguments,
        reason = "the blocks of one layer's backward"
    )]
    fn backward(
        &self,
        x: ArrayView2<'_, Self::Elem>,
        y: ArrayView2<'_, Self::Elem>,
        dy: ArrayViewMut2<'_, Self::Elem>,
        activated: bool,
        gradients: &mut Self::Gradients,
        dx: Option<ArrayViewMut2<'_, Self::Elem>>,
        scratch: &mut Vec<Self::Elem>,
    );

    /// Each parameter tensor with its name from `names` (weight, bias), in the file
    /// layout (`[IN, OUT]`, OIHW).
    fn visit(&self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewD<'_, Self::Elem>));

    /// The same, mutably; the layer brings its internal copies (packed weights) up to
    /// date afterwards.
    fn visit_mut(&mut self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewMutD<'_, Self::Elem>));

    /// Every parameter updated by `optimizer` from `gradients`, then the internal
    /// copies brought up to date once.
    fn update<O: Optimizer<Self::Elem> + ?Sized>(
        &mut self,
        names: &[&str],
        gradients: &Self::Gradients,
        optimizer: &mut O,
    );
}

/// The gradients of a layer's weight (shaped as the weight in parameter files: `[IN,
/// OUT]` for `affine`, `[F, C, Kh, Kw]` for `conv`) and bias.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerGradients<T, D: Dimension> {
    /// The gradient of the weight.
    pub weight: Array<T, D>,
    /// The gradient of the bias.
    pub bias: ndarray::Array1<T>,
}

impl<T: Float, D: Dimension> LayerGradients<T, D> {
    /// Zeros shaped as a weight of shape `weight` and a bias of `bias` values.
    pub(crate) fn zeros(weight: D, bias: usize) -> Self {
        Self {
            weight: Array::zeros(weight),
            bias: ndarray::Array1::zeros(bias),
        }
    }

    /// `self = a·self + b·other`: the gradients of a batch from those of its two
    /// halves, weighted by their shares of the rows.
    pub fn merge(&mut self, other: &Self, a: T, b: T) {
        Zip::from(&mut self.weight)
            .and(&other.weight)
            .for_each(|s, &o| *s = a * *s + b * o);
        Zip::from(&mut self.bias)
            .and(&other.bias)
            .for_each(|s, &o| *s = a * *s + b * o);
    }

    /// Both tensors with their names (weight, bias).
    pub fn visit(&self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {
        let (weight, bias) = crate::layer::weight_and_bias(names, "layer");
        f(weight, self.weight.view().into_dyn());
        f(bias, self.bias.view().into_dyn());
    }

    /// Both tensors with their names, mutably.
    pub fn visit_mut(&mut self, names: &[&str], f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        let (weight, bias) = crate::layer::weight_and_bias(names, "layer");
        f(weight, self.weight.view_mut().into_dyn());
        f(bias, self.bias.view_mut().into_dyn());
    }
}

/// The buffers of one thread's share of a training step: a buffer per block (the
/// layers' outputs, the two gradient buffers) and the layers' scratch (im2col columns,
/// transposed gradients). They only grow: after the first step at a batch size, a step
/// allocates nothing.
#[derive(Default)]
pub struct Workspace<T> {
    buffers: Vec<Vec<T>>,
    scratch: Vec<T>,
}

impl<T: Float> Workspace<T> {
    /// Buffers of `rows` rows of `widths` values (contents unspecified but
    /// initialised), and the scratch buffer. Allocates only when a buffer must grow.
    pub fn buffers<const N: usize>(
        &mut self,
        rows: usize,
        widths: [usize; N],
    ) -> ([&mut [T]; N], &mut Vec<T>) {
        if self.buffers.len() < N {
            self.buffers.resize_with(N, Vec::new);
        }
        let mut buffers = self.buffers.iter_mut();
        let blocks = widths.map(|width| {
            let size = rows * width;
            let buffer = buffers
                .next()
                .expect("there are at least N buffers after the resize");
            buffer.resize(size, T::zero());
            &mut buffer[..size]
        });
        (blocks, &mut self.scratch)
    }
}

/// What a network keeps between training steps (the generated `train_step` takes it
/// out of the network for the step and puts it back): the workspaces of the two
/// halves of a batch and their gradients `G`, the first half's holding the batch's
/// after the step. A clone starts empty: buffers are a cache, not part of a network's
/// value.
pub struct Training<T, G> {
    halves: [Workspace<T>; 2],
    gradients: Option<G>,
    second: Option<G>,
}

impl<T: Float, G> Training<T, G> {
    /// The two workspaces and two sets of gradients, the gradients made by `zeros` on
    /// first use.
    pub fn parts(
        &mut self,
        mut zeros: impl FnMut() -> G,
    ) -> (&mut Workspace<T>, &mut Workspace<T>, &mut G, &mut G) {
        let [first, second] = &mut self.halves;
        let gradients = self.gradients.get_or_insert_with(&mut zeros);
        let other = self.second.get_or_insert_with(zeros);
        (first, second, gradients, other)
    }

    /// The gradients of the last step, if there was one.
    pub fn gradients(&self) -> Option<&G> {
        self.gradients.as_ref()
    }

    /// The gradients of the last step, taken out.
    pub fn into_gradients(self) -> Option<G> {
        self.gradients
    }
}

impl<T, G> Default for Training<T, G> {
    fn default() -> Self {
        Self {
            halves: [
                Workspace {
                    buffers: Vec::new(),
                    scratch: Vec::new(),
                },
                Workspace {
                    buffers: Vec::new(),
                    scratch: Vec::new(),
                },
            ],
            gradients: None,
            second: None,
        }
    }
}

impl<T, G> Clone for Training<T, G> {
    /// Empty: buffers are a cache, not part of a network's value.
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T, G> fmt::Debug for Training<T, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Training")
            .field("buffers", &self.halves[0].buffers.len())
            .finish_non_exhaustive()
    }
}

/// Whether a batch of `rows` samples of `multiply_adds` each is worth splitting
/// between two threads, each running forward and backward on half of the rows: from
/// [`PARALLEL_WORK`](crate::batch::PARALLEL_WORK) multiply-adds in all (a batch of 100
/// MNIST images through the book's two-layer network is 4 M).
pub fn split_batch(rows: usize, multiply_adds: usize) -> Option<usize> {
    (rows >= 2 && rows.saturating_mul(multiply_adds) >= crate::batch::PARALLEL_WORK)
        .then_some(rows / 2)
}

/// Labels split with their batch: class indices or target rows.
pub trait Labels: Copy + Send {
    /// The first `at` rows' labels and the others'.
    fn split_at(self, at: usize) -> (Self, Self);
}

impl Labels for &[usize] {
    fn split_at(self, at: usize) -> (Self, Self) {
        <[usize]>::split_at(self, at)
    }
}

impl<T: Float> Labels for ArrayView2<'_, T> {
    fn split_at(self, at: usize) -> (Self, Self) {
        ArrayView2::split_at(self, ndarray::Axis(0), at)
    }
}

/// `data` as `rows × width`, row-major.
///
/// # Panics
/// If `data` does not hold a whole number of rows (generated code sizes it so).
pub fn rows<T>(data: &[T], width: usize) -> ArrayView2<'_, T> {
    let rows = data.len().checked_div(width).unwrap_or(0);
    ArrayView2::from_shape((rows, width), data).expect("a buffer of whole rows")
}

/// `data` as `rows × width`, row-major, mutably.
///
/// # Panics
/// As [`rows`].
pub fn rows_mut<T>(data: &mut [T], width: usize) -> ArrayViewMut2<'_, T> {
    let rows = data.len().checked_div(width).unwrap_or(0);
    ArrayViewMut2::from_shape((rows, width), data).expect("a buffer of whole rows")
}

/// Checks a batch against the network before any work: `input` values per row.
pub fn check_batch<T>(x: &ArrayView2<'_, T>, input: usize) -> Result<(), ShapeError> {
    if x.ncols() != input {
        return Err(ShapeError::input_width(input, x.ncols()));
    }
    Ok(())
}

/// Checks class labels: one per row, each below `classes`.
pub fn check_labels(labels: &[usize], rows: usize, classes: usize) -> Result<(), ShapeError> {
    if labels.len() != rows {
        return Err(ShapeError::new(
            "label count (one per row)",
            rows,
            labels.len(),
        ));
    }
    if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
        return Err(ShapeError::new(
            "label (below the output width)",
            classes,
            bad,
        ));
    }
    Ok(())
}

/// Checks regression targets: as many rows as the batch, `width` values each.
pub fn check_targets<T>(
    targets: &ArrayView2<'_, T>,
    rows: usize,
    width: usize,
) -> Result<(), ShapeError> {
    if targets.nrows() != rows {
        return Err(ShapeError::new("target rows", rows, targets.nrows()));
    }
    if targets.ncols() != width {
        return Err(ShapeError::new("target width", width, targets.ncols()));
    }
    Ok(())
}

/// `dy` (the gradient with respect to each row of `y = act(z)`) turned into the
/// gradient with respect to `z`, reading only `y`: exact for every activation but
/// `leaky_relu` with a negative slope, which the checker keeps out of training.
pub(crate) fn activation_backward<T: Float>(
    activation: crate::Activation<T>,
    y: ArrayView2<'_, T>,
    mut dy: ArrayViewMut2<'_, T>,
) {
    use crate::Activation;
    match activation {
        Activation::Identity => {}
        Activation::Step => dy.fill(T::zero()),
        // y > 0 exactly where x > 0; the gradient at 0 is the left one (0), as the
        // book's mask `x <= 0` has it.
        Activation::Relu => Zip::from(&mut dy).and(&y).for_each(|d, &y| {
            *d = if y > T::zero() { *d } else { T::zero() };
        }),
        Activation::LeakyRelu(a) => Zip::from(&mut dy).and(&y).for_each(|d, &y| {
            *d = if y > T::zero() { *d } else { *d * a };
        }),
        Activation::Sigmoid => Zip::from(&mut dy).and(&y).for_each(|d, &y| {
            *d = *d * y * (T::one() - y);
        }),
        Activation::Tanh => Zip::from(&mut dy).and(&y).for_each(|d, &y| {
            *d = *d * (T::one() - y * y);
        }),
        Activation::Softmax => {
            for (mut d, y) in dy.rows_mut().into_iter().zip(y.rows()) {
                // The Jacobian diag(y) − y·yᵀ times dy: y_i (dy_i − Σ_j dy_j y_j).
                let dot = d.iter().zip(&y).fold(T::zero(), |s, (&d, &y)| s + d * y);
                Zip::from(&mut d)
                    .and(&y)
                    .for_each(|d, &y| *d = y * (*d - dot));
            }
        }
    }
}

/// Writes `parameters` to `path` as a `.safetensors` file, every tensor under its
/// name, in its element type and file shape: what `load` reads back bit for bit.
pub fn save<P>(parameters: &P, path: &Path) -> Result<(), SaveError>
where
    P: Parameters + ?Sized,
    P::Elem: Float,
{
    let mut tensors: Vec<(String, OwnedTensor)> = Vec::new();
    parameters.visit(&mut |name, tensor| {
        let mut data = Vec::with_capacity(tensor.len() * size_of::<P::Elem>());
        for &value in tensor.iter() {
            value.encode_le(&mut data);
        }
        tensors.push((
            name.to_owned(),
            OwnedTensor {
                dtype: if P::Elem::DTYPE == "f64" {
                    safetensors::Dtype::F64
                } else {
                    safetensors::Dtype::F32
                },
                shape: tensor.shape().to_vec(),
                data,
            },
        ));
    });
    let bytes = safetensors::serialize(tensors, None).map_err(|err| SaveError::Encode {
        path: path.to_owned(),
        message: err.to_string(),
    })?;
    std::fs::write(path, bytes).map_err(|source| SaveError::Io {
        path: path.to_owned(),
        source,
    })
}

/// A tensor's bytes for safetensors' writer.
struct OwnedTensor {
    dtype: safetensors::Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl safetensors::View for OwnedTensor {
    fn dtype(&self) -> safetensors::Dtype {
        self.dtype
    }

    fn shape(&self) -> &[usize] {
        &self.shape
    }

    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&self.data)
    }

    fn data_len(&self) -> usize {
        self.data.len()
    }
}
