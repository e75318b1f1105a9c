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
        weight: &[T], bias: &[T; OUT], x: &[T; IN], activation: Activation<T>
    ) -> [T; OUT] => affine_single_body
}

dispatch! {
    /// Adds `bias` to every row of `rows` (`OUT` values each) and applies `activation`.
    fn bias_activation<T: Float; const OUT: usize>(
        rows: &mut [T], bias: &[T; OUT], activation: Activation<T>
    ) => bias_activation_body
}

/// `y ← b`, then for each input `i`: `y ← y + x_i · W_i` (the inner loop runs over the
/// outputs, so it vectorises), then the activation.
#[inline(always)]
fn affine_single_body<T: Float, const IN: usize, const OUT: usize, const FMA: bool>(
    weight: &[T],
    bias: &[T; OUT],
    x: &[T; IN],
    activation: Activation<T>,
) -> [T; OUT] {
    let mut y = *bias;
    let (rows, _) = weight.as_chunks::<OUT>();
    for (&xi, row) in x.iter().zip(rows) {
        for (yj, &wij) in y.iter_mut().zip(row) {
            *yj = if FMA {
                xi.mul_add(wij, *yj)
            } else {
                *yj + xi * wij
            };
        }
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
