//! [`Activation`]: which function a layer applies to its output.

use std::fmt;

use crate::{Float, kernels};

/// The activation of a layer, as written after `act` in a `.nn` file.
///
/// Every variant but [`Softmax`](Activation::Softmax) acts on each element alone;
/// softmax acts on a whole row (one sample's outputs).
///
/// ```
/// use nn_runtime::Activation;
///
/// let mut row = [-1.0_f32, 0.0, 2.0];
/// Activation::LeakyRelu(0.1).apply_in_place(&mut row);
/// assert_eq!(row, [-0.1, 0.0, 2.0]);
/// assert!(Activation::LeakyRelu(0.1).is_relu_family());
/// assert_eq!(Activation::<f32>::Sigmoid.to_string(), "sigmoid");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation<T> {
    /// `x`: no activation (a layer without `act`).
    Identity,
    /// `1` if `x > 0`, else `0`.
    Step,
    /// `1 / (1 + exp(-x))`.
    Sigmoid,
    /// `max(0, x)`.
    Relu,
    /// `x` if `x > 0`, else `a·x`, with the slope `a`.
    LeakyRelu(T),
    /// The hyperbolic tangent.
    Tanh,
    /// Softmax over the row, with its maximum subtracted first.
    Softmax,
}

impl<T: Float> Activation<T> {
    /// Applies the activation to one row (one sample's outputs) in place.
    ///
    /// ```
    /// use nn_runtime::Activation;
    ///
    /// let mut row = [1.0_f64, 1.0];
    /// Activation::Softmax.apply_in_place(&mut row);
    /// assert_eq!(row, [0.5, 0.5]);
    /// ```
    #[inline(always)]
    pub fn apply_in_place(&self, row: &mut [T]) {
        match *self {
            Activation::Identity => kernels::identity_in_place(row),
            Activation::Step => kernels::step_in_place(row),
            Activation::Sigmoid => kernels::sigmoid_in_place(row),
            Activation::Relu => kernels::relu_in_place(row),
            Activation::LeakyRelu(a) => kernels::leaky_relu_in_place(row, a),
            Activation::Tanh => kernels::tanh_in_place(row),
            Activation::Softmax => kernels::softmax_in_place(row),
        }
    }

    /// Whether this is `relu` or `leaky_relu`, the layers that
    /// [`Affine::random`](crate::Affine::random) initialises with He's scale.
    #[inline]
    pub fn is_relu_family(&self) -> bool {
        matches!(self, Activation::Relu | Activation::LeakyRelu(_))
    }
}

impl<T: fmt::Display> fmt::Display for Activation<T> {
    /// The name as a `.nn` file writes it: `sigmoid`, `leaky_relu(0.01)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::Identity => f.write_str("identity"),
            Activation::Step => f.write_str("step"),
            Activation::Sigmoid => f.write_str("sigmoid"),
            Activation::Relu => f.write_str("relu"),
            Activation::LeakyRelu(a) => write!(f, "leaky_relu({a})"),
            Activation::Tanh => f.write_str("tanh"),
            Activation::Softmax => f.write_str("softmax"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Activation;

    #[test]
    fn every_variant_applies_its_kernel() {
        let input = [-2.0_f64, 0.0, 3.0];
        let cases: [(Activation<f64>, [f64; 3]); 6] = [
            (Activation::Identity, [-2.0, 0.0, 3.0]),
            (Activation::Step, [0.0, 0.0, 1.0]),
            (Activation::Relu, [0.0, 0.0, 3.0]),
            (Activation::LeakyRelu(0.5), [-1.0, 0.0, 3.0]),
            (Activation::Tanh, [(-2.0_f64).tanh(), 0.0, 3.0_f64.tanh()]),
            (
                Activation::Sigmoid,
                [
                    1.0 / (1.0 + 2.0_f64.exp()),
                    0.5,
                    1.0 / (1.0 + (-3.0_f64).exp()),
                ],
            ),
        ];
        for (activation, expected) in cases {
            let mut row = input;
            activation.apply_in_place(&mut row);
            assert_eq!(row, expected, "{activation}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(
            Activation::LeakyRelu(0.01_f32).to_string(),
            "leaky_relu(0.01)"
        );
        assert!(!Activation::<f32>::Softmax.is_relu_family());
        assert!(Activation::<f32>::Relu.is_relu_family());
    }
}
