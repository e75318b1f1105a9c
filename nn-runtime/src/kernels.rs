//! The activation functions and softmax, on scalars, slices and ndarray rows.
//!
//! Each elementwise activation comes as a scalar function (`sigmoid(x)`) and an in-place
//! slice function (`sigmoid_in_place(&mut xs)`), so a forward pass need not allocate.
//! Definitions follow the language reference (§4):
//!
//! | function | value |
//! |---|---|
//! | [`identity`] | `x` |
//! | [`step`] | `1` if `x > 0`, else `0` (so `step(0) = 0`) |
//! | [`sigmoid`] | `1 / (1 + exp(-x))` |
//! | [`relu`] | `x` if `x > 0`, else `0` |
//! | [`leaky_relu`] | `x` if `x > 0`, else `a·x` |
//! | [`tanh`] | the hyperbolic tangent |
//! | [`softmax_in_place`] | `exp(x_k - m) / Σ exp(x_i - m)` over a row, `m` its maximum |
//!
//! ```
//! use nn_runtime::kernels;
//!
//! let mut row = [0.3_f64, 2.9, 4.0];
//! kernels::softmax_in_place(&mut row);
//! assert!((row[2] - 0.73659691).abs() < 1e-8);
//! assert_eq!(kernels::argmax(&row), Some(2));
//! ```

use ndarray::ArrayViewMut2;

use crate::Float;

/// Returns `x` unchanged.
///
/// ```
/// assert_eq!(nn_runtime::kernels::identity(-1.5_f32), -1.5);
/// ```
#[inline(always)]
pub fn identity<T: Float>(x: T) -> T {
    x
}

/// The step function: `1` if `x > 0`, else `0`; `step(0) = 0`.
///
/// ```
/// use nn_runtime::kernels::step;
/// assert_eq!([step(-1.0_f32), step(0.0), step(0.1)], [0.0, 0.0, 1.0]);
/// ```
#[inline(always)]
pub fn step<T: Float>(x: T) -> T {
    if x > T::zero() { T::one() } else { T::zero() }
}

/// The logistic sigmoid `1 / (1 + exp(-x))`. Finite for every finite `x`: a large
/// negative `x` makes `exp(-x)` infinite and the result `0`.
///
/// ```
/// use nn_runtime::kernels::sigmoid;
/// assert!((sigmoid(1.0_f64) - 0.73105858).abs() < 1e-8);
/// assert_eq!(sigmoid(-1e4_f32), 0.0);
/// ```
#[inline(always)]
pub fn sigmoid<T: Float>(x: T) -> T {
    T::one() / (T::one() + (-x).exp_fast())
}

/// The rectifier: `x` if `x > 0`, else `0`.
///
/// ```
/// use nn_runtime::kernels::relu;
/// assert_eq!([relu(-2.0_f32), relu(3.0)], [0.0, 3.0]);
/// ```
#[inline(always)]
pub fn relu<T: Float>(x: T) -> T {
    // `max` (NaN gives 0, as `x > 0` would): written as a select, the in-place loops
    // compile to a masked store of the zeros, which AMD CPUs run as slow microcode.
    x.max(T::zero())
}

/// The leaky rectifier with slope `a`: `x` if `x > 0`, else `a·x`.
///
/// ```
/// use nn_runtime::kernels::leaky_relu;
/// assert_eq!([leaky_relu(-2.0_f32, 0.5), leaky_relu(3.0, 0.5)], [-1.0, 3.0]);
/// ```
#[inline(always)]
pub fn leaky_relu<T: Float>(x: T, a: T) -> T {
    // `x + 0` (equal to `x` here, as `x > 0`) keeps the in-place loops from storing only
    // where `x <= 0`: a masked store, slow microcode on AMD CPUs.
    if x > T::zero() { x + T::zero() } else { a * x }
}

/// The hyperbolic tangent.
///
/// ```
/// assert_eq!(nn_runtime::kernels::tanh(0.0_f32), 0.0);
/// ```
#[inline(always)]
pub fn tanh<T: Float>(x: T) -> T {
    x.tanh()
}

/// Leaves `xs` as it is; here so that every activation has an in-place form.
#[inline(always)]
pub fn identity_in_place<T: Float>(xs: &mut [T]) {
    let _ = xs;
}

/// Applies [`step`] to every element.
#[inline(always)]
pub fn step_in_place<T: Float>(xs: &mut [T]) {
    xs.iter_mut().for_each(|x| *x = step(*x));
}

/// Applies [`sigmoid`] to every element.
///
/// ```
/// let mut xs = [-1.0_f32, 1.0, 2.0];
/// nn_runtime::kernels::sigmoid_in_place(&mut xs);
/// assert_eq!(xs, [0.26894142, 0.7310586, 0.880797]);
/// ```
#[inline(always)]
pub fn sigmoid_in_place<T: Float>(xs: &mut [T]) {
    xs.iter_mut().for_each(|x| *x = sigmoid(*x));
}

/// Applies [`relu`] to every element.
#[inline(always)]
pub fn relu_in_place<T: Float>(xs: &mut [T]) {
    xs.iter_mut().for_each(|x| *x = relu(*x));
}

/// Applies [`leaky_relu`] with slope `a` to every element.
#[inline(always)]
pub fn leaky_relu_in_place<T: Float>(xs: &mut [T], a: T) {
    xs.iter_mut().for_each(|x| *x = leaky_relu(*x, a));
}

/// Applies [`tanh`] to every element.
#[inline(always)]
pub fn tanh_in_place<T: Float>(xs: &mut [T]) {
    xs.iter_mut().for_each(|x| *x = tanh(*x));
}

/// Softmax of one row, in place: `x_k ← exp(x_k - m) / Σ_i exp(x_i - m)` with `m` the
/// row's maximum, so large inputs stay finite. An empty row is left as it is.
///
/// ```
/// let mut row = [1010.0_f64, 1000.0, 990.0];
/// nn_runtime::kernels::softmax_in_place(&mut row);
/// assert!((row[0] - 9.99954600e-01).abs() < 1e-9);
/// assert!((row[2] - 2.06106005e-09).abs() < 1e-16);
/// ```
#[inline(always)]
pub fn softmax_in_place<T: Float>(row: &mut [T]) {
    let Some(max) = row.iter().copied().reduce(|a, b| a.max(b)) else {
        return;
    };
    let mut sum = T::zero();
    for x in row.iter_mut() {
        *x = (*x - max).exp_fast();
        sum = sum + *x;
    }
    // Divide rather than multiply by 1/sum: it is what the book's numpy code does, so
    // the results agree to the last digit.
    for x in row.iter_mut() {
        *x = *x / sum;
    }
}

/// Softmax of every row of a matrix (one sample per row), in place.
///
/// ```
/// use nn_runtime::ndarray::array;
///
/// let mut batch = array![[0.0_f32, 0.0], [1000.0, 1000.0]];
/// nn_runtime::kernels::softmax_rows_in_place(batch.view_mut());
/// assert_eq!(batch, array![[0.5, 0.5], [0.5, 0.5]]);
/// ```
pub fn softmax_rows_in_place<T: Float>(mut rows: ArrayViewMut2<'_, T>) {
    for mut row in rows.rows_mut() {
        if let Some(slice) = row.as_slice_mut() {
            softmax_in_place(slice);
        } else {
            // A row with a stride (a column-major or sliced view): rare, so copy it.
            let mut buf = row.to_vec();
            softmax_in_place(&mut buf);
            row.iter_mut().zip(buf).for_each(|(x, y)| *x = y);
        }
    }
}

/// The index of the largest element (the first one on a tie), or `None` for an empty
/// row. NaN elements are never chosen unless every element is NaN.
///
/// ```
/// assert_eq!(nn_runtime::kernels::argmax(&[0.1_f32, 0.7, 0.2]), Some(1));
/// assert_eq!(nn_runtime::kernels::argmax::<f32>(&[]), None);
/// ```
pub fn argmax<T: Float>(row: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, &x) in row.iter().enumerate() {
        let better = match best {
            None => true,
            // A NaN first element must not hide the numbers after it.
            Some((_, b)) => x > b || (b.is_nan() && !x.is_nan()),
        };
        if better {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    #[test]
    fn argmax_prefers_the_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0_f32, 3.0, 3.0]), Some(1));
        assert_eq!(argmax(&[f32::NAN, -1.0, -2.0]), Some(1));
        assert_eq!(argmax(&[-1.0, f32::NAN, 2.0]), Some(2));
        assert_eq!(argmax(&[f32::NAN]), Some(0));
    }

    #[test]
    fn step_and_relu_at_zero() {
        assert_eq!(step(0.0_f64), 0.0);
        assert_eq!(step(-0.0_f64), 0.0);
        assert_eq!(relu(0.0_f64), 0.0);
        assert_eq!(leaky_relu(0.0_f64, 0.1), 0.0);
    }

    #[test]
    fn softmax_rows_of_a_column_major_matrix() {
        let mut m = Array2::<f64>::zeros((2, 3).f());
        m.row_mut(0).assign(&ndarray::arr1(&[0.3, 2.9, 4.0]));
        m.row_mut(1).assign(&ndarray::arr1(&[1.0, 1.0, 1.0]));
        softmax_rows_in_place(m.view_mut());
        assert!((m[[0, 0]] - 0.01821127).abs() < 1e-8);
        assert!((m[[1, 2]] - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn empty_rows_are_left_alone() {
        let mut row: [f32; 0] = [];
        softmax_in_place(&mut row);
        let mut m = Array2::<f32>::zeros((3, 0));
        softmax_rows_in_place(m.view_mut());
    }
}
