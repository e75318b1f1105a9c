//! The max-pooling kernel: per channel and output row, the maximum over the window's
//! rows first (contiguous, so it vectorises), then over each window's columns.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use crate::Float;

/// A pooling geometry with its output sizes worked out (see `Pool2dConfig`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PoolGeometry {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) sh: usize,
    pub(crate) sw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

/// Whether the window and the stride are 2x2, the geometry of [`pool_2x2_f32`].
pub(super) fn is_2x2(g: &PoolGeometry) -> bool {
    (g.kh, g.kw, g.sh, g.sw) == (2, 2, 2, 2)
}

/// Input columns the stack buffer of row maxima holds.
const COLUMNS: usize = 1024;

/// The larger of `m` and `a`, NaN if either is: numpy's `maximum`, not `fmax`. `m` is
/// the running maximum, so once it is NaN it stays NaN.
#[inline(always)]
fn max_nan<T: Float>(m: T, a: T) -> T {
    if a > m || a.is_nan() { a } else { m }
}

/// `y[c,i,j] = max x[c, i·sh + u, j·sw + v]` over the window; `x` holds `c·h·w` values,
/// `y` `c·oh·ow`.
#[inline(always)]
pub(super) fn max_pool_body<T: Float, const FMA: bool>(g: &PoolGeometry, x: &[T], y: &mut [T]) {
    #[cfg(target_arch = "x86_64")]
    if FMA && size_of::<T>() == 4 && is_2x2(g) {
        assert!(x.len() == g.c * g.h * g.w && y.len() == g.c * g.oh * g.ow);
        // SAFETY: `FMA` means the body is compiled for AVX2 (`dispatch!`); `T` is
        // `f32`, the only 4-byte `Float`; the lengths are checked above.
        unsafe {
            pool_2x2_f32(g, x.as_ptr().cast::<f32>(), y.as_mut_ptr().cast::<f32>());
        }
        return;
    }
    if g.kw > COLUMNS {
        return max_pool_plain(g, x, y);
    }
    // Output columns per pass, so that their windows' columns fit in the buffer.
    let per_pass = ((COLUMNS - g.kw) / g.sw + 1).min(g.ow);
    // Two buffers: each row's maximum goes to the other one, never back in place (an
    // in-place `m = max(m, a)` compiles to a masked store, slow microcode on AMD CPUs).
    let (mut buffer_a, mut buffer_b) = ([T::zero(); COLUMNS], [T::zero(); COLUMNS]);
    for (xc, yc) in x
        .chunks_exact(g.h * g.w)
        .zip(y.chunks_exact_mut(g.oh * g.ow))
    {
        for (i, y_row) in yc.chunks_exact_mut(g.ow).enumerate() {
            for j0 in (0..g.ow).step_by(per_pass) {
                let n = (g.ow - j0).min(per_pass);
                let columns = (n - 1) * g.sw + g.kw;
                let first = i * g.sh * g.w + j0 * g.sw;
                let (mut row_max, mut next) = (&mut buffer_a, &mut buffer_b);
                row_max[..columns].copy_from_slice(&xc[first..first + columns]);
                for u in 1..g.kh {
                    let start = first + u * g.w;
                    let rows = row_max[..columns].iter().zip(&xc[start..start + columns]);
                    for (n, (&m, &a)) in next[..columns].iter_mut().zip(rows) {
                        *n = max_nan(m, a);
                    }
                    std::mem::swap(&mut row_max, &mut next);
                }
                let m = &row_max[..columns];
                let out = &mut y_row[j0..j0 + n];
                if g.kw == 2 && g.sw == 2 {
                    // The book's 2x2 pooling: pairs, which vectorise.
                    for (o, pair) in out.iter_mut().zip(m.chunks_exact(2)) {
                        *o = max_nan(pair[0], pair[1]);
                    }
                } else {
                    for (jj, o) in out.iter_mut().enumerate() {
                        let window = &m[jj * g.sw..jj * g.sw + g.kw];
                        *o = window[1..].iter().fold(window[0], |m, &a| max_nan(m, a));
                    }
                }
            }
        }
    }
}

/// The same for windows wider than the buffer: one output at a time.
fn max_pool_plain<T: Float>(g: &PoolGeometry, x: &[T], y: &mut [T]) {
    for c in 0..g.c {
        for i in 0..g.oh {
            for j in 0..g.ow {
                let at = |u: usize, v: usize| x[(c * g.h + i * g.sh + u) * g.w + j * g.sw + v];
                let mut m = at(0, 0);
                for u in 0..g.kh {
                    for v in 0..g.kw {
                        m = max_nan(m, at(u, v));
                    }
                }
                y[(c * g.oh + i) * g.ow + j] = m;
            }
        }
    }
}

/// `max_nan` of each lane: `MAXPS` gives its second operand where either is NaN, so a
/// NaN in either makes the lane all ones (a NaN) through the unordered comparison.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn max_nan8(a: __m256, b: __m256) -> __m256 {
    unsafe { _mm256_or_ps(_mm256_max_ps(a, b), _mm256_cmp_ps::<_CMP_UNORD_Q>(a, b)) }
}

/// [`max_nan8`] on 4 lanes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn max_nan4(a: __m128, b: __m128) -> __m128 {
    unsafe { _mm_or_ps(_mm_max_ps(a, b), _mm_cmpunord_ps(a, b)) }
}

/// The book's 2x2 pooling with stride 2 in `f32`: per output row, the maximum of the
/// two input rows, then of the even and odd columns (deinterleaved by shuffles), 8
/// outputs a register.
///
/// # Safety
///
/// The CPU has AVX2; `x` holds `c·h·w` values and `y` has room for `c·oh·ow`, the
/// geometry's window and stride being 2x2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) unsafe fn pool_2x2_f32(g: &PoolGeometry, x: *const f32, y: *mut f32) {
    unsafe {
        for c in 0..g.c {
            for i in 0..g.oh {
                let a = x.add((c * g.h + 2 * i) * g.w);
                let b = a.add(g.w);
                let out = y.add((c * g.oh + i) * g.ow);
                let mut j = 0;
                while j + 8 <= g.ow {
                    let m0 = max_nan8(_mm256_loadu_ps(a.add(2 * j)), _mm256_loadu_ps(b.add(2 * j)));
                    let m1 = max_nan8(
                        _mm256_loadu_ps(a.add(2 * j + 8)),
                        _mm256_loadu_ps(b.add(2 * j + 8)),
                    );
                    // Columns 0 2 | 8 10 | 4 6 | 12 14 and 1 3 | 9 11 | 5 7 | 13 15.
                    let even = _mm256_shuffle_ps::<0x88>(m0, m1);
                    let odd = _mm256_shuffle_ps::<0xDD>(m0, m1);
                    let r = _mm256_castps_pd(max_nan8(even, odd));
                    let r = _mm256_castpd_ps(_mm256_permute4x64_pd::<0xD8>(r));
                    _mm256_storeu_ps(out.add(j), r);
                    j += 8;
                }
                if j + 4 <= g.ow {
                    let m = max_nan8(_mm256_loadu_ps(a.add(2 * j)), _mm256_loadu_ps(b.add(2 * j)));
                    let (lo, hi) = (_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
                    let even = _mm_shuffle_ps::<0x88>(lo, hi);
                    let odd = _mm_shuffle_ps::<0xDD>(lo, hi);
                    _mm_storeu_ps(out.add(j), max_nan4(even, odd));
                    j += 4;
                }
                for j in j..g.ow {
                    let m = max_nan(max_nan(*a.add(2 * j), *a.add(2 * j + 1)), *b.add(2 * j));
                    *out.add(j) = max_nan(m, *b.add(2 * j + 1));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InitRng;

    /// The 2x2 pooling of stride 2 (the AVX2 kernel where the CPU has it) against the
    /// plain loop, on every width to 40 (whole registers, a half and single columns
    /// left over, odd widths) and with NaN and infinities in windows: a NaN anywhere in
    /// a window is NaN, as in numpy.
    #[test]
    fn two_by_two_pooling_agrees_with_the_plain_loop() {
        let mut rng = InitRng::new(3);
        for w in 2..41 {
            for h in [2, 3, 6] {
                let (oh, ow) = (h / 2, w / 2);
                let g = PoolGeometry {
                    c: 3,
                    h,
                    w,
                    kh: 2,
                    kw: 2,
                    sh: 2,
                    sw: 2,
                    oh,
                    ow,
                };
                let mut x: Vec<f32> = (0..3 * h * w).map(|_| rng.normal() as f32).collect();
                for k in (w % 7..x.len()).step_by(11) {
                    x[k] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY][k % 3];
                }
                let mut y = vec![0.0; 3 * oh * ow];
                crate::simd::max_pool(&g, &x, &mut y);
                let mut plain = vec![0.0; y.len()];
                max_pool_plain(&g, &x, &mut plain);
                let mut uninit = vec![f32::NAN; y.len()];
                crate::simd::max_pool_uninit(&g, &x, crate::simd::as_uninit(&mut uninit));
                assert_eq!(
                    y.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    uninit.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
                for (k, (a, b)) in y.iter().zip(&plain).enumerate() {
                    assert!(
                        a == b || (a.is_nan() && b.is_nan()),
                        "{h}x{w}, output {k}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
