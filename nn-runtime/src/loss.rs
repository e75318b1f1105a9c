//! The losses of LANGUAGE.md §9 with their gradients, batch by batch, and the
//! activations' backward pass: the pieces a generated `gradients` will chain (the
//! book's `SoftmaxWithLoss`, `mean_squared_error`, `Relu`, `Sigmoid`, ...).

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Zip};

use crate::{Activation, Float, ShapeError};

/// The batch mean of `−log softmax(a)[t]` over the rows of the last layer's scores `a`
/// (before softmax), and its gradient with respect to `a`, `(softmax(a) − onehot(t)) /
/// B`: the book's `SoftmaxWithLoss`, computed stably (log-sum-exp). A label count other
/// than the batch's rows, or a label `>=` the row width, is a [`ShapeError`].
///
/// ```
/// use nn_runtime::loss::cross_entropy;
/// use nn_runtime::ndarray::array;
///
/// let (loss, grad) = cross_entropy(array![[0.0, 0.0], [1000.0, 0.0]].view(), &[1, 0])?;
/// assert!((loss - std::f64::consts::LN_2 / 2.0).abs() < 1e-12);
/// assert_eq!(grad, array![[0.25, -0.25], [0.0, 0.0]]);
/// assert!(cross_entropy(array![[0.0, 0.0]].view(), &[2]).is_err());
/// # Ok::<(), nn_runtime::ShapeError>(())
/// ```
pub fn cross_entropy<T: Float>(
    scores: ArrayView2<'_, T>,
    labels: &[usize],
) -> Result<(T, Array2<T>), ShapeError> {
    let mut grad = Array2::zeros(scores.raw_dim());
    let loss = cross_entropy_into(scores, labels, grad.view_mut())?;
    Ok((loss, grad))
}

/// [`cross_entropy`] with the gradient written into `grad` (of the scores' shape), so
/// that a training step allocates nothing. `grad` may not overlap `scores`.
///
/// # Panics
/// If `grad` has another shape than `scores`.
pub fn cross_entropy_into<T: Float>(
    scores: ArrayView2<'_, T>,
    labels: &[usize],
    mut grad: ArrayViewMut2<'_, T>,
) -> Result<T, ShapeError> {
    let (rows, classes) = scores.dim();
    assert_eq!(
        grad.dim(),
        scores.dim(),
        "the gradient has the scores' shape"
    );
    crate::train::check_labels(labels, rows, classes)?;
    let batch = T::from_f64(rows.max(1) as f64);
    let mut total = T::zero();
    for ((scores, mut grad), &label) in scores.rows().into_iter().zip(grad.rows_mut()).zip(labels) {
        let max = scores.iter().copied().fold(T::neg_infinity(), T::max);
        let mut sum = T::zero();
        Zip::from(&mut grad).and(&scores).for_each(|g, &a| {
            *g = (a - max).exp();
            sum = sum + *g;
        });
        // −log softmax(a)[t] = log Σ exp(a − max) − (a[t] − max)
        total = total + sum.ln() - (scores[label] - max);
        let scale = T::one() / (sum * batch);
        grad.mapv_inplace(|e| e * scale);
        grad[label] = grad[label] - T::one() / batch;
    }
    Ok(total / batch)
}

/// The batch mean of `½ Σ_k (y_k − t_k)²` and its gradient with respect to `y`,
/// `(y − t) / B`: the book's `mean_squared_error`. Targets of another shape than the
/// outputs are a [`ShapeError`].
///
/// ```
/// use nn_runtime::loss::mse;
/// use nn_runtime::ndarray::array;
///
/// let (loss, grad) = mse(array![[1.0, 2.0]].view(), array![[0.0, 4.0]].view())?;
/// assert_eq!(loss, 2.5);
/// assert_eq!(grad, array![[1.0, -2.0]]);
/// # Ok::<(), nn_runtime::ShapeError>(())
/// ```
pub fn mse<T: Float>(
    outputs: ArrayView2<'_, T>,
    targets: ArrayView2<'_, T>,
) -> Result<(T, Array2<T>), ShapeError> {
    let mut grad = Array2::zeros(outputs.raw_dim());
    let loss = mse_into(outputs, targets, grad.view_mut())?;
    Ok((loss, grad))
}

/// [`mse`] with the gradient written into `grad` (of the outputs' shape).
///
/// # Panics
/// If `grad` has another shape than `outputs`.
pub fn mse_into<T: Float>(
    outputs: ArrayView2<'_, T>,
    targets: ArrayView2<'_, T>,
    mut grad: ArrayViewMut2<'_, T>,
) -> Result<T, ShapeError> {
    assert_eq!(
        grad.dim(),
        outputs.dim(),
        "the gradient has the outputs' shape"
    );
    crate::train::check_targets(&targets, outputs.nrows(), outputs.ncols())?;
    let batch = T::from_f64(outputs.nrows().max(1) as f64);
    let half = T::from_f64(0.5);
    let mut total = T::zero();
    Zip::from(&mut grad)
        .and(&outputs)
        .and(&targets)
        .for_each(|g, &y, &t| {
            let d = y - t;
            total = total + half * d * d;
            *g = d / batch;
        });
    Ok(total / batch)
}

impl<T: Float> Activation<T> {
    /// The backward pass of the activation for one row: `dy` (the gradient with respect
    /// to its output `y = act(x)`) becomes the gradient with respect to `x`. `relu` and
    /// `leaky_relu` read `x` (the gradient at 0 is taken as the left one: 0 for relu, as
    /// the book's `Relu` mask does); `sigmoid`, `tanh` and `softmax` read `y`. `step`
    /// has no gradient: it gives 0 (the checker refuses to train such a network).
    ///
    /// ```
    /// use nn_runtime::Activation;
    ///
    /// let mut dy = [1.0, 1.0, 1.0];
    /// Activation::Relu.backward_in_place(&[-1.0, 0.0, 2.0], &[0.0, 0.0, 2.0], &mut dy);
    /// assert_eq!(dy, [0.0, 0.0, 1.0]);
    /// ```
    pub fn backward_in_place(&self, x: &[T], y: &[T], dy: &mut [T]) {
        match *self {
            Activation::Identity => {}
            Activation::Step => dy.fill(T::zero()),
            Activation::Relu => {
                for (d, &x) in dy.iter_mut().zip(x) {
                    if x <= T::zero() {
                        *d = T::zero();
                    }
                }
            }
            Activation::LeakyRelu(a) => {
                for (d, &x) in dy.iter_mut().zip(x) {
                    if x <= T::zero() {
                        *d = *d * a;
                    }
                }
            }
            Activation::Sigmoid => {
                for (d, &y) in dy.iter_mut().zip(y) {
                    *d = *d * y * (T::one() - y);
                }
            }
            Activation::Tanh => {
                for (d, &y) in dy.iter_mut().zip(y) {
                    *d = *d * (T::one() - y * y);
                }
            }
            Activation::Softmax => {
                // The Jacobian diag(y) − y·yᵀ times dy: y_i (dy_i − Σ_j dy_j y_j).
                let dot = dy.iter().zip(y).fold(T::zero(), |s, (&d, &y)| s + d * y);
                for (d, &y) in dy.iter_mut().zip(y) {
                    *d = y * (*d - dot);
                }
            }
        }
    }
}
