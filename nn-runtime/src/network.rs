//! The [`Network`] trait that every generated network implements.

use std::fmt::Debug;

use ndarray::{Array2, ArrayView2};

use crate::{Float, ShapeError};

/// A network with a fixed input and output size: what `network!` generates, seen from
/// generic code (an accuracy loop, a benchmark) that should take any network.
///
/// `[T; Self::INPUT]` cannot be written in a trait on stable Rust, so the sample types
/// are associated types; a generated network sets them to `[T; INPUT]` and `[T; OUTPUT]`.
///
/// Written by hand, as the generated code does it:
///
/// ```
/// use nn_runtime::{Activation, Affine, Network, ShapeError, kernels};
/// use nn_runtime::ndarray::{Array2, ArrayView2, array};
///
/// /// XOR from NAND, OR and AND (chapter 2 of the book).
/// struct Xor {
///     gates: Affine<f32, 2, 2>,
///     and: Affine<f32, 2, 1>,
/// }
///
/// impl Network for Xor {
///     type Elem = f32;
///     const INPUT: usize = 2;
///     const OUTPUT: usize = 1;
///     const PARAMETERS: usize = 9;
///     type Input = [f32; 2];
///     type Output = [f32; 1];
///
///     fn forward(&self, x: &[f32; 2]) -> [f32; 1] {
///         self.and.forward(&self.gates.forward(x))
///     }
///
///     // Generated code runs blocks of rows through every layer while they are in
///     // cache; layer by layer gives the same results.
///     fn forward_batch(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, ShapeError> {
///         self.and.forward_batch(self.gates.forward_batch(x)?.view())
///     }
/// }
///
/// /// Generic code: the fraction of samples whose largest output is at `labels[i]`.
/// fn accuracy<N: Network>(net: &N, x: ArrayView2<'_, N::Elem>, labels: &[usize]) -> Result<f64, ShapeError> {
///     let y = net.forward_batch(x)?;
///     let hits = y.rows().into_iter().zip(labels)
///         .filter(|(row, label)| kernels::argmax(&row.to_vec()) == Some(**label))
///         .count();
///     Ok(hits as f64 / labels.len() as f64)
/// }
///
/// let xor = Xor {
///     gates: Affine::from_static(&[[-0.5, 0.5], [-0.5, 0.5]], &[0.7, -0.2], Activation::Step),
///     and: Affine::from_static(&[[0.5], [0.5]], &[-0.7], Activation::Step),
/// };
/// assert_eq!(xor.forward(&[1.0, 0.0]), [1.0]);
/// assert_eq!(xor.forward_slice(&[1.0, 1.0])?, [0.0]);
/// assert!(xor.forward_slice(&[1.0]).is_err());
/// let truth = xor.forward_batch(array![[0., 0.], [0., 1.], [1., 0.], [1., 1.]].view())?;
/// assert_eq!(truth.column(0).to_vec(), [0.0, 1.0, 1.0, 0.0]);
/// # Ok::<(), ShapeError>(())
/// ```
pub trait Network {
    /// The element type, `f32` or `f64`.
    type Elem: Float;
    /// The number of inputs of one sample.
    const INPUT: usize;
    /// The number of outputs of one sample.
    const OUTPUT: usize;
    /// The number of parameters (weights and biases) of all layers.
    const PARAMETERS: usize;
    /// One sample: `[Self::Elem; Self::INPUT]`.
    type Input: AsRef<[Self::Elem]> + for<'a> TryFrom<&'a [Self::Elem]> + Copy + Debug;
    /// One sample's outputs: `[Self::Elem; Self::OUTPUT]`.
    type Output: AsRef<[Self::Elem]> + Copy + Debug;

    /// Runs one sample through the network, without allocating.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// Runs a batch, one sample per row. A batch whose width is not [`Self::INPUT`] is a
    /// [`ShapeError`].
    fn forward_batch(
        &self,
        x: ArrayView2<'_, Self::Elem>,
    ) -> Result<Array2<Self::Elem>, ShapeError>;

    /// Runs one sample given as a slice, which must hold exactly [`Self::INPUT`] values
    /// (a row of a matrix, a chunk of a file).
    fn forward_slice(&self, x: &[Self::Elem]) -> Result<Self::Output, ShapeError> {
        let input =
            Self::Input::try_from(x).map_err(|_| ShapeError::input_width(Self::INPUT, x.len()))?;
        Ok(self.forward(&input))
    }
}
