//! Run-time dispatch on the CPU's vector units, so that a plain `cargo build --release`
//! (target x86-64, SSE2 only) still runs AVX-512 or AVX2+FMA code where the CPU has it.
//!
//! Each kernel is written once, as an `#[inline(always)]` generic body; thin wrappers
//! compile that body with `#[target_feature]` for each level, and the entry point picks
//! one after asking the CPU (std caches the answer). `FMA` selects fused multiply-adds,
//! which without the feature would be a slow library call.

use crate::{Activation, Float};

/// The best vector instructions this CPU offers, of those we compile for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// AVX-512F with FMA: 16 `f32` per instruction.
    Avx512,
    /// AVX2 with FMA: 8 `f32` per instruction.
    Avx2,
    /// What the target guarantees (SSE2 on x86-64).
    Baseline,
}

/// The level of this CPU.
#[inline]
pub(crate) fn level() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// Declares `$name`, which runs `$body::<.., FMA>` compiled for the best level of this
/// CPU. The wrappers are `unsafe` only because of `#[target_feature]`; they are called
/// after `level()` has confirmed the features, which is all they require.
macro_rules! dispatch {
    (
        $(#[$doc:meta])*
        fn $name:ident<$($g:ident: $bound:path),* ; $(const $c:ident: usize),*>($($arg:ident: $ty:ty),*) $(-> $ret:ty)?
        => $body:ident
    ) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name<$($g: $bound,)* $(const $c: usize,)*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
                fn avx512<$($g: $bound,)* $(const $c: usize,)*>($($arg: $ty),*) $(-> $ret)? {
                    $body::<$($g,)* $($c,)* true>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2<$($g: $bound,)* $(const $c: usize,)*>($($arg: $ty),*) $(-> $ret)? {
                    $body::<$($g,)* $($c,)* true>($($arg),*)
                }
                match level() {
                    // SAFETY: `level()` found AVX-512F, AVX-512VL/BW/DQ are checked below,
                    // and FMA: every feature `avx512` is compiled for.
                    Level::Avx512 if avx512_family() => return unsafe { avx512::<$($g,)* $($c,)*>($($arg),*) },
                    // SAFETY: `level()` found AVX2 and FMA, the features `avx2` needs.
                    Level::Avx512 | Level::Avx2 => return unsafe { avx2::<$($g,)* $($c,)*>($($arg),*) },
                    Level::Baseline => {}
                }
            }
            $body::<$($g,)* $($c,)* false>($($arg),*)
        }
    };
}

/// Whether the AVX-512 extensions beside the foundation are there too (they are on
/// every CPU that has AVX-512F and FMA today, but the wrapper relies on them).
#[cfg(target_arch = "x86_64")]
#[inline]
fn avx512_family() -> bool {
    std::arch::is_x86_feature_detected!("avx512vl")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512dq")
}

dispatch! {
    /// `act(x·W + b)` for one sample, `W` row-major `[IN, OUT]`.
    fn affine_single<T: Float; const IN: usize, const OUT: usize>(
        weight: &[T], stride: usize, bias: &[T; OUT], x: &[T; IN], activation: Activation<T>, skip_zeros: bool
    ) -> [T; OUT] => affine_single_body
}

dispatch! {
    /// Adds `bias` to every row of `rows` (`OUT` values each) and applies `activation`.
    fn bias_activation<T: Float; const OUT: usize>(
        rows: &mut [T], bias: &[T; OUT], activation: Activation<T>
    ) => bias_activation_body
}

/// `act(b + Σ_i x_i · W_i)`: the inner loops run over the outputs, so they vectorise.
/// Four inputs at a time go to four separate accumulators: one accumulator would be a
/// chain of `IN` dependent multiply-adds, bound by their latency rather than by the
/// vector units (4 cycles each against 2 per cycle). With `skip_zeros` (the caller
/// knows every weight is finite, so `0·w` adds exactly nothing), a group of four
/// inputs that are all 0 is skipped without reading its four rows of `W`.
#[inline(always)]
fn affine_single_body<T: Float, const IN: usize, const OUT: usize, const FMA: bool>(
    weight: &[T],
    stride: usize,
    bias: &[T; OUT],
    x: &[T; IN],
    activation: Activation<T>,
    skip_zeros: bool,
) -> [T; OUT] {
    #[inline(always)]
    fn add_row<T: Float, const OUT: usize, const FMA: bool>(
        acc: &mut [T; OUT],
        xi: T,
        row: &[T; OUT],
    ) {
        for (a, &w) in acc.iter_mut().zip(row) {
            *a = if FMA { xi.mul_add(w, *a) } else { *a + xi * w };
        }
    }

    // Row `i` of `W`: `OUT` values at `i * stride`.
    let row = |i: usize| -> &[T; OUT] {
        weight[i * stride..i * stride + OUT]
            .try_into()
            .expect("the caller passes IN rows `stride` apart")
    };
    let mut acc = [*bias, [T::zero(); OUT], [T::zero(); OUT], [T::zero(); OUT]];
    let (x4, x_rest) = x.as_chunks::<4>();
    for (g, xs) in x4.iter().enumerate() {
        if skip_zeros && xs.iter().all(|&xi| xi == T::zero()) {
            continue;
        }
        for k in 0..4 {
            add_row::<T, OUT, FMA>(&mut acc[k], xs[k], row(4 * g + k));
        }
    }
    for (k, &xi) in x_rest.iter().enumerate() {
        add_row::<T, OUT, FMA>(&mut acc[0], xi, row(4 * x4.len() + k));
    }
    let [mut y, a1, a2, a3] = acc;
    for j in 0..OUT {
        y[j] = (y[j] + a1[j]) + (a2[j] + a3[j]);
    }
    activation.apply_in_place(&mut y);
    y
}

#[inline(always)]
fn bias_activation_body<T: Float, const OUT: usize, const FMA: bool>(
    rows: &mut [T],
    bias: &[T; OUT],
    activation: Activation<T>,
) {
    for row in rows.as_chunks_mut::<OUT>().0 {
        for (v, &b) in row.iter_mut().zip(bias) {
            *v = *v + b;
        }
        activation.apply_in_place(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InitRng;

    fn random(n: usize, rng: &mut InitRng) -> Vec<f32> {
        (0..n).map(|_| rng.normal() as f32).collect()
    }

    /// The kernel this CPU runs (AVX-512 or AVX2 with fused multiply-adds, here) agrees
    /// with the baseline body, which rounds after each multiply and each add.
    #[test]
    fn the_dispatched_kernels_agree_with_the_baseline() {
        let mut rng = InitRng::new(11);
        let weight = random(37 * 23, &mut rng);
        let bias: [f32; 23] = random(23, &mut rng).try_into().expect("23 values");
        let x: [f32; 37] = random(37, &mut rng).try_into().expect("37 values");
        for activation in [
            Activation::Identity,
            Activation::Sigmoid,
            Activation::Relu,
            Activation::LeakyRelu(0.1),
            Activation::Tanh,
            Activation::Softmax,
        ] {
            let fast = affine_single(&weight, 23, &bias, &x, activation, false);
            let plain =
                affine_single_body::<f32, 37, 23, false>(&weight, 23, &bias, &x, activation, false);
            for (a, b) in fast.iter().zip(&plain) {
                assert!(
                    (a - b).abs() <= 1e-5 * b.abs().max(1.0),
                    "{activation}: {fast:?} vs {plain:?}"
                );
            }

            let mut rows = random(5 * 23, &mut rng);
            let mut plain_rows = rows.clone();
            bias_activation(&mut rows, &bias, activation);
            bias_activation_body::<f32, 23, false>(&mut plain_rows, &bias, activation);
            for (a, b) in rows.iter().zip(&plain_rows) {
                assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{activation}");
            }
        }
        println!("dispatch level on this machine: {:?}", level());
    }

    /// Skipping groups of zero inputs changes no bit of the result.
    #[test]
    fn skipping_zero_inputs_is_exact() {
        let mut rng = InitRng::new(5);
        let weight = random(64 * 19, &mut rng);
        let bias: [f32; 19] = random(19, &mut rng).try_into().expect("19 values");
        let mut x = [0.0_f32; 64];
        for i in [3, 17, 18, 40, 63] {
            x[i] = rng.normal() as f32;
        }
        x[9] = -0.0;
        for activation in [
            Activation::Identity,
            Activation::Sigmoid,
            Activation::Softmax,
        ] {
            let skipped = affine_single(&weight, 19, &bias, &x, activation, true);
            let full = affine_single(&weight, 19, &bias, &x, activation, false);
            assert_eq!(
                skipped.map(f32::to_bits),
                full.map(f32::to_bits),
                "{activation}"
            );
        }
    }
}
