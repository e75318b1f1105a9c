//! `e^x` for `f32` in plain arithmetic, so that loops over slices vectorise (libm's
//! `expf` is a call per element, which LLVM cannot vectorise): sigmoid and softmax
//! spend most of their time here.
//!
//! Range reduction `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, Cephes' degree-6 polynomial
//! for `e^r`, and `2^n` written straight into the exponent bits. No branch, no call, no
//! table. The relative error stays below 2e-7 (tested against `f64::exp` over the
//! whole finite range). Inputs are clamped to `[-86.6, 89]`: below, the result is
//! 2.4e-38 instead of a subnormal or 0 (no caller can tell: sigmoid gives 1, softmax
//! adds it to a sum of at least 1); above `ln(f32::MAX)` ≈ 88.72 it is `+inf`, as
//! `f32::exp` gives, so that `sigmoid(-1e4)` is exactly 0 as in the book's numpy code.

/// `e^x` to within a relative 2e-7; see the module documentation.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two so that `n·LN2_HI` is exact (Cephes' C1 and C2).
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5·2^23: adding it rounds to an integer, which then sits in the low mantissa
    // bits (no float-to-int conversion, which SSE2 cannot vectorise with Rust's
    // saturating semantics).
    const ROUND: f32 = 12_582_912.0;

    let x = x.clamp(-86.6, 89.0);
    let t = x * LOG2_E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5; // Cephes: 5.0000001201e-1, which rounds to 0.5 in f32
    let e_r = p * r * r + r + 1.0;
    // n ∈ [-125, 128]. 2^(n-1) is always a normal float (exponent field n + 126 in
    // [1, 254]); doubling after the product overflows to +inf exactly when e^x does.
    let n_int = t.to_bits().wrapping_sub(ROUND.to_bits());
    let half_two_n = f32::from_bits(n_int.wrapping_add(126) << 23);
    e_r * half_two_n * 2.0
}

#[cfg(test)]
mod tests {
    use super::exp_f32;

    /// The largest relative error against `f64::exp` over a dense sweep of the range.
    #[test]
    fn relative_error_is_below_2e_minus_7() {
        let mut worst: f64 = 0.0;
        let mut worst_at = 0.0;
        let steps = 2_000_000;
        for i in 0..=steps {
            let x = -86.6 + (88.72 + 86.6) * f64::from(i) / f64::from(steps);
            let x = x as f32;
            let exact = f64::from(x).exp();
            let error = ((f64::from(exp_f32(x)) - exact) / exact).abs();
            if error > worst {
                (worst, worst_at) = (error, x);
            }
        }
        assert!(worst < 2e-7, "relative error {worst:e} at x = {worst_at}");
    }

    #[test]
    fn exact_where_it_matters_and_clamped_outside() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert!((exp_f32(1.0) - std::f32::consts::E).abs() <= f32::EPSILON * 3.0);
        assert!(exp_f32(-1000.0) > 0.0 && exp_f32(-1000.0) < 2.5e-38);
        assert!(exp_f32(88.72).is_finite());
        assert_eq!(exp_f32(88.73), f32::INFINITY);
        assert_eq!(exp_f32(1000.0), f32::INFINITY);
        assert_eq!(1.0 / (1.0 + exp_f32(1e4)), 0.0);
        // Small steps around integers of x·log2(e), where the rounding switches.
        for k in -124..127 {
            let x = k as f32 * std::f32::consts::LN_2;
            for dx in [-1e-4_f32, 0.0, 1e-4] {
                let exact = f64::from(x + dx).exp();
                let got = f64::from(exp_f32(x + dx));
                assert!(((got - exact) / exact).abs() < 2e-7, "x = {}", x + dx);
            }
        }
    }
}
