//! The max-pooling kernel: per channel and output row, the maximum over the window's
//! rows first (contiguous, so it vectorises), then over each window's columns.

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
