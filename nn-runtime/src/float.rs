//! The element types a network computes in: [`Float`], implemented for `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;

use ndarray::{LinalgScalar, ScalarOperand};

/// An element type of a network: `f32` or `f64`.
///
/// Everything in this crate is generic over it, so one runtime serves both
/// `network Name<f32>` (the default) and `network Name<f64>`. The trait is sealed: it is
/// implemented for `f32` and `f64` only, which lets the loaders decode raw bytes and lets
/// later versions add methods without breaking anyone.
///
/// ```
/// use nn_runtime::Float;
///
/// fn describe<T: Float>(x: T) -> String {
///     format!("{x} as {}", T::DTYPE)
/// }
/// assert_eq!(describe(0.5_f32), "0.5 as f32");
/// assert_eq!(f64::from_f64(0.25), 0.25);
/// ```
pub trait Float:
    num_traits::Float
    + LinalgScalar
    + ScalarOperand
    + Default
    + Debug
    + Display
    + Sum
    + Send
    + Sync
    + 'static
    + sealed::Sealed
    + crate::simd::Lanes
    + crate::simd::Ymm
{
    /// The name of the type as parameter files and error messages spell it: `"f32"` or
    /// `"f64"` (safetensors' `F32`, numpy's `<f4`).
    const DTYPE: &'static str;

    /// Converts an `f64`, rounding to the nearest value for `f32`.
    fn from_f64(x: f64) -> Self;

    /// `e^x` as the activations compute it: for `f32` a polynomial that vectorises, with a
    /// relative error below 2e-7 (below `-86.6` it gives 2.4e-38, above 88.72 `+inf`);
    /// for `f64` the standard library's `exp`.
    ///
    /// ```
    /// use nn_runtime::Float;
    /// assert!((1.0_f32.exp_fast() - std::f32::consts::E).abs() < 1e-6);
    /// assert_eq!(1.0_f64.exp_fast(), 1.0_f64.exp());
    /// ```
    fn exp_fast(self) -> Self;
}

impl Float for f32 {
    const DTYPE: &'static str = "f32";

    #[inline(always)]
    fn exp_fast(self) -> Self {
        crate::exp::exp_f32(self)
    }

    #[inline]
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

impl Float for f64 {
    const DTYPE: &'static str = "f64";

    #[inline(always)]
    fn exp_fast(self) -> Self {
        self.exp()
    }

    #[inline]
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// The seal, and what the loaders need from an element type.
pub(crate) mod sealed {
    /// Implemented for `f32` and `f64` only; not nameable outside this crate.
    pub trait Sealed: Sized {
        /// Decodes packed values of this type. `bytes.len()` is a multiple of the size of
        /// `Self` (the loaders check that before calling); a trailing remainder is ignored.
        fn decode(bytes: &[u8], big_endian: bool) -> Vec<Self>;
        /// Appends the value's little-endian bytes (what `.safetensors` stores).
        fn encode_le(self, out: &mut Vec<u8>);
    }

    impl Sealed for f32 {
        fn encode_le(self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.to_le_bytes());
        }

        fn decode(bytes: &[u8], big_endian: bool) -> Vec<Self> {
            let (words, _) = bytes.as_chunks::<4>();
            if big_endian {
                words.iter().map(|w| f32::from_be_bytes(*w)).collect()
            } else {
                words.iter().map(|w| f32::from_le_bytes(*w)).collect()
            }
        }
    }

    impl Sealed for f64 {
        fn encode_le(self, out: &mut Vec<u8>) {
            out.extend_from_slice(&self.to_le_bytes());
        }

        fn decode(bytes: &[u8], big_endian: bool) -> Vec<Self> {
            let (words, _) = bytes.as_chunks::<8>();
            if big_endian {
                words.iter().map(|w| f64::from_be_bytes(*w)).collect()
            } else {
                words.iter().map(|w| f64::from_le_bytes(*w)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sealed::Sealed;

    #[test]
    fn decodes_both_byte_orders() {
        let le: Vec<u8> = [1.5_f32, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let be: Vec<u8> = [1.5_f32, -2.0]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        assert_eq!(f32::decode(&le, false), [1.5, -2.0]);
        assert_eq!(f32::decode(&be, true), [1.5, -2.0]);
        let le: Vec<u8> = 0.1_f64.to_le_bytes().to_vec();
        assert_eq!(f64::decode(&le, false), [0.1]);
    }
}
