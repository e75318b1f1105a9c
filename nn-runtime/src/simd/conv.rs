//! The convolution kernel: a direct convolution, one output row at a time, vectorised
//! over the output columns and register-blocked over the filters.
//!
//! For output row `i`, the input rows that its windows cover (`C·Kh` of them) are
//! copied, with the zero padding made explicit, into a stack buffer: for a stride of 1
//! one row each, for a stride `S` one row per phase `v mod S`, so that the values tap
//! `(c, u, v)` multiplies for consecutive output columns are consecutive in the buffer.
//! Then [`FILTER_BLOCK`] filters and a register of output columns at a time, each tap
//! loads one register of inputs and adds it, times each filter's weight (broadcast from
//! the packed weights), to that filter's accumulator. With every weight finite, an
//! input row that is all 0 (the margins of a digit) adds exactly nothing and is skipped.

use crate::Float;

/// Filters per pass; the weights are packed in blocks of this many (see [`pack`]).
pub(crate) const FILTER_BLOCK: usize = 4;

/// Elements of the stack buffer that holds the input rows of one output row.
const BUFFER: usize = 4096;

/// The most input rows the buffer holds at once.
const SLOTS: usize = 256;

/// A convolution's geometry with its output sizes worked out (see `Conv2dConfig`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConvGeometry {
    pub(crate) c: usize,
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) f: usize,
    pub(crate) kh: usize,
    pub(crate) kw: usize,
    pub(crate) sh: usize,
    pub(crate) sw: usize,
    pub(crate) ph: usize,
    pub(crate) pw: usize,
    pub(crate) oh: usize,
    pub(crate) ow: usize,
}

impl ConvGeometry {
    /// Weights per filter, `C·Kh·Kw`.
    pub(crate) fn taps(&self) -> usize {
        self.c * self.kh * self.kw
    }
}

/// The packed weights: OIHW `weight` regrouped as `[F / FILTER_BLOCK][C·Kh·Kw]
/// [FILTER_BLOCK]` (the filters of a block side by side for each tap, zeros past `F`).
pub(crate) fn pack<T: Float>(g: &ConvGeometry, weight: &[T]) -> Box<[T]> {
    let taps = g.taps();
    let mut packed = vec![T::zero(); g.f.div_ceil(FILTER_BLOCK) * taps * FILTER_BLOCK];
    pack_into(g, weight, &mut packed);
    packed.into_boxed_slice()
}

/// [`pack`] into `packed`, which has its length and zeros past `F` already.
pub(crate) fn pack_into<T: Float>(g: &ConvGeometry, weight: &[T], packed: &mut [T]) {
    let taps = g.taps();
    for (f, filter) in weight.chunks_exact(taps).enumerate() {
        let (block, lane) = (f / FILTER_BLOCK, f % FILTER_BLOCK);
        for (t, &w) in filter.iter().enumerate() {
            packed[(block * taps + t) * FILTER_BLOCK + lane] = w;
        }
    }
}

/// The OIHW weight back from [`pack`]ed weights.
pub(crate) fn unpack<T: Float>(g: &ConvGeometry, packed: &[T]) -> Vec<T> {
    let taps = g.taps();
    (0..g.f * taps)
        .map(|k| {
            let (f, t) = (k / taps, k % taps);
            packed[((f / FILTER_BLOCK) * taps + t) * FILTER_BLOCK + f % FILTER_BLOCK]
        })
        .collect()
}

/// `y = b + W ⊛ x` (no activation) for one sample: `x` of `C·H·W` values, `y` of
/// `F·H'·W'`, `packed` from [`pack`]. With `skip_zeros` (every weight is finite) input
/// rows that are all 0 are skipped.
#[inline(always)]
pub(super) fn conv_body<T: Float, const FMA: bool>(
    g: &ConvGeometry,
    packed: &[T],
    bias: &[T],
    x: &[T],
    y: &mut [T],
    skip_zeros: bool,
) {
    // A register of columns: 8 `f32` or 4 `f64` in AVX2's 256 bits.
    if size_of::<T>() == 4 {
        conv_rows::<T, FILTER_BLOCK, 8, FMA>(g, packed, bias, x, y, skip_zeros);
    } else {
        conv_rows::<T, FILTER_BLOCK, 4, FMA>(g, packed, bias, x, y, skip_zeros);
    }
}

/// [`conv_body`] with `FB` filters and `JB` output columns per pass.
#[inline(always)]
fn conv_rows<T: Float, const FB: usize, const JB: usize, const FMA: bool>(
    g: &ConvGeometry,
    packed: &[T],
    bias: &[T],
    x: &[T],
    y: &mut [T],
    skip_zeros: bool,
) {
    let plane = g.oh * g.ow;
    for (y, &b) in y.chunks_exact_mut(plane).zip(bias) {
        y.fill(b);
    }
    // Phase rows per input row, and how far past a pass's columns a tap reaches in them.
    let phases = g.sw.min(g.kw);
    let reach = (g.kw - 1) / g.sw;
    let Some(room) = (BUFFER / phases).checked_sub(reach) else {
        return conv_plain(g, packed, x, y);
    };
    // Output columns per pass: whole registers, as many as the buffer takes.
    let per_pass = (room / JB).min(g.ow.div_ceil(JB)) * JB;
    if per_pass == 0 {
        return conv_plain(g, packed, x, y);
    }
    let len = per_pass + reach;
    let slot = phases * len;
    let slots = (BUFFER / slot).min(SLOTS);
    let taps = g.taps();
    let mut buffer = [T::zero(); BUFFER];
    // The input rows (as `c·Kh + u`) in the buffer's slots, in order.
    let mut rows = [0_usize; SLOTS];
    for i in 0..g.oh {
        for j0 in (0..g.ow).step_by(per_pass) {
            let columns = (g.ow - j0).min(per_pass);
            let mut cu = 0;
            while cu < g.c * g.kh {
                let mut filled = 0;
                while cu < g.c * g.kh && filled < slots {
                    let dst = &mut buffer[filled * slot..(filled + 1) * slot];
                    let nonzero = fill_row(g, x, cu, i, j0, len, dst);
                    if nonzero || !skip_zeros {
                        rows[filled] = cu;
                        filled += 1;
                    }
                    cu += 1;
                }
                if filled == 0 {
                    continue;
                }
                let pass = Pass {
                    buffer: &buffer[..filled * slot],
                    rows: &rows[..filled],
                    slot,
                    len,
                };
                for (block, w) in packed.chunks_exact(taps * FB).enumerate() {
                    for jb in (0..columns).step_by(JB) {
                        let n = (columns - jb).min(JB);
                        let first = block * FB;
                        let f_end = (first + FB).min(g.f);
                        micro::<T, FB, JB, FMA>(
                            g,
                            &pass,
                            w,
                            jb,
                            n,
                            y,
                            first..f_end,
                            i * g.ow + j0 + jb,
                            plane,
                        );
                    }
                }
            }
        }
    }
}

/// The input rows of one pass: `rows.len()` slots of `slot` elements, each `phases`
/// phase rows of `len`.
struct Pass<'b, T> {
    buffer: &'b [T],
    rows: &'b [usize],
    slot: usize,
    len: usize,
}

/// Writes input row `cu = c·Kh + u` as output row `i` reads it, for the output columns
/// from `j0` on, to `dst`: phase row `s` (`s < min(Sw, Kw)`), element `k` is
/// `x[c, i·Sh + u − Ph, (j0 + k)·Sw + s − Pw]`, 0 outside the input. Returns whether
/// any value is not 0 (NaN counts as not 0).
#[inline(always)]
fn fill_row<T: Float>(
    g: &ConvGeometry,
    x: &[T],
    cu: usize,
    i: usize,
    j0: usize,
    len: usize,
    dst: &mut [T],
) -> bool {
    let (c, u) = (cu / g.kh, cu % g.kh);
    let ih = (i * g.sh + u).checked_sub(g.ph).filter(|&ih| ih < g.h);
    let Some(ih) = ih else {
        dst.fill(T::zero());
        return false;
    };
    let row = &x[(c * g.h + ih) * g.w..][..g.w];
    let mut nonzero = false;
    for (s, dst) in dst.chunks_exact_mut(len).enumerate() {
        // Element k reads column k·Sw + a − Pw, inside the row for k in lo..hi.
        let a = j0 * g.sw + s;
        let lo = g.pw.saturating_sub(a).div_ceil(g.sw).min(len);
        let hi = (g.w + g.pw).saturating_sub(a).div_ceil(g.sw).clamp(lo, len);
        dst[..lo].fill(T::zero());
        dst[hi..].fill(T::zero());
        if lo == hi {
            continue;
        }
        let start = lo * g.sw + a - g.pw;
        if g.sw == 1 {
            dst[lo..hi].copy_from_slice(&row[start..start + (hi - lo)]);
        } else {
            for (d, &v) in dst[lo..hi]
                .iter_mut()
                .zip(row[start..].iter().step_by(g.sw))
            {
                *d = v;
            }
        }
        nonzero |= dst[lo..hi].iter().any(|&v| v != T::zero());
    }
    nonzero
}

/// Adds the pass's input rows times the weights of the filters `filters` (a block,
/// `w` its packed weights) to `y` at output columns `jb..jb + n` of the pass (`n <= JB`),
/// `y`'s position `at` in each filter's plane.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
// Accumulators indexed by filter and column read like the arithmetic they do.
#[allow(clippy::needless_range_loop)]
fn micro<T: Float, const FB: usize, const JB: usize, const FMA: bool>(
    g: &ConvGeometry,
    pass: &Pass<'_, T>,
    w: &[T],
    jb: usize,
    n: usize,
    y: &mut [T],
    filters: std::ops::Range<usize>,
    at: usize,
    plane: usize,
) {
    let mut acc = [[T::zero(); JB]; FB];
    for (f, acc) in filters.clone().zip(&mut acc) {
        acc[..n].copy_from_slice(&y[f * plane + at..f * plane + at + n]);
    }
    for (r, &cu) in pass.rows.iter().enumerate() {
        let w_row = &w[cu * g.kw * FB..(cu + 1) * g.kw * FB];
        let slot = &pass.buffer[r * pass.slot..(r + 1) * pass.slot];
        let (mut phase, mut shift) = (0, 0);
        for ws in w_row.chunks_exact(FB) {
            let start = phase * pass.len + shift + jb;
            let xs: &[T; JB] = slot[start..start + JB]
                .try_into()
                .expect("a pass's phase rows reach JB past its last column");
            for f in 0..FB {
                let wf = ws[f];
                for j in 0..JB {
                    acc[f][j] = if FMA {
                        wf.mul_add(xs[j], acc[f][j])
                    } else {
                        acc[f][j] + wf * xs[j]
                    };
                }
            }
            phase += 1;
            if phase == g.sw {
                phase = 0;
                shift += 1;
            }
        }
    }
    for (f, acc) in filters.zip(&acc) {
        y[f * plane + at..f * plane + at + n].copy_from_slice(&acc[..n]);
    }
}

/// The same, one multiply-add at a time, for geometries whose rows do not fit the
/// buffer. `y` holds the biases on entry.
fn conv_plain<T: Float>(g: &ConvGeometry, packed: &[T], x: &[T], y: &mut [T]) {
    let weight = unpack(g, packed);
    let taps = g.taps();
    for f in 0..g.f {
        for i in 0..g.oh {
            for j in 0..g.ow {
                let mut sum = y[(f * g.oh + i) * g.ow + j];
                for c in 0..g.c {
                    for u in 0..g.kh {
                        for v in 0..g.kw {
                            let ih = (i * g.sh + u).checked_sub(g.ph).filter(|&h| h < g.h);
                            let jw = (j * g.sw + v).checked_sub(g.pw).filter(|&w| w < g.w);
                            // The padding is zeros that are multiplied like the rest.
                            let xv = match (ih, jw) {
                                (Some(ih), Some(jw)) => x[(c * g.h + ih) * g.w + jw],
                                _ => T::zero(),
                            };
                            sum = sum + weight[f * taps + (c * g.kh + u) * g.kw + v] * xv;
                        }
                    }
                }
                y[(f * g.oh + i) * g.ow + j] = sum;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InitRng;
    use crate::simd::{conv, max_pool, pool::PoolGeometry, pool::max_pool_body};
    use proptest::prelude::*;

    /// `b[f] + Σ W[f,c,u,v] · x[c, i·Sh+u−Ph, j·Sw+v−Pw]` straight from the formula, in
    /// `f64`, with zeros outside the input.
    fn reference(g: &ConvGeometry, weight: &[f64], bias: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; g.f * g.oh * g.ow];
        for f in 0..g.f {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut sum = bias[f];
                    for c in 0..g.c {
                        for u in 0..g.kh {
                            for v in 0..g.kw {
                                let h = (i * g.sh + u) as isize - g.ph as isize;
                                let w = (j * g.sw + v) as isize - g.pw as isize;
                                if (0..g.h as isize).contains(&h) && (0..g.w as isize).contains(&w)
                                {
                                    let x = x[(c * g.h + h as usize) * g.w + w as usize];
                                    sum += weight[((f * g.c + c) * g.kh + u) * g.kw + v] * x;
                                }
                            }
                        }
                    }
                    y[(f * g.oh + i) * g.ow + j] = sum;
                }
            }
        }
        y
    }

    fn geometry(
        c: usize,
        hw: [usize; 2],
        f: usize,
        k: [usize; 2],
        s: [usize; 2],
        p: [usize; 2],
    ) -> Option<ConvGeometry> {
        let oh = (hw[0] + 2 * p[0]).checked_sub(k[0])? / s[0] + 1;
        let ow = (hw[1] + 2 * p[1]).checked_sub(k[1])? / s[1] + 1;
        Some(ConvGeometry {
            c,
            h: hw[0],
            w: hw[1],
            f,
            kh: k[0],
            kw: k[1],
            sh: s[0],
            sw: s[1],
            ph: p[0],
            pw: p[1],
            oh,
            ow,
        })
    }

    /// Inputs with whole rows of zeros (as in a digit's margins), a few zeros elsewhere.
    fn input(g: &ConvGeometry, rng: &mut InitRng) -> Vec<f64> {
        (0..g.c * g.h * g.w)
            .map(|k| {
                let row = k / g.w;
                if row % 3 == 1 || k % 5 == 0 {
                    0.0
                } else {
                    rng.normal()
                }
            })
            .collect()
    }

    /// The dispatched kernel (AVX2+FMA here) and the baseline body, in `f32` and `f64`,
    /// with and without skipping rows of zeros, agree with the reference.
    fn check(g: &ConvGeometry, seed: u64) -> Result<(), TestCaseError> {
        let mut rng = InitRng::new(seed);
        let weight: Vec<f64> = (0..g.f * g.taps()).map(|_| rng.normal()).collect();
        let bias: Vec<f64> = (0..g.f).map(|_| rng.normal()).collect();
        let x = input(g, &mut rng);
        let want = reference(g, &weight, &bias, &x);
        let scale = (g.taps() as f64).sqrt() * 4.0;
        for skip in [false, true] {
            let packed = pack(g, &weight);
            prop_assert_eq!(unpack(g, &packed), weight.clone());
            let mut y = vec![f64::NAN; want.len()];
            conv(g, &packed, &bias, &x, &mut y, skip);
            let mut plain = vec![f64::NAN; want.len()];
            conv_body::<f64, false>(g, &packed, &bias, &x, &mut plain, skip);
            for (k, (a, b)) in y.iter().zip(&plain).enumerate() {
                prop_assert!(
                    (a - want[k]).abs() < 1e-12 * scale,
                    "{g:?} f64 {k}: {a} vs {}",
                    want[k]
                );
                prop_assert!((b - want[k]).abs() < 1e-12 * scale, "{g:?} f64 plain {k}");
            }
            let w32: Vec<f32> = weight.iter().map(|&w| w as f32).collect();
            let b32: Vec<f32> = bias.iter().map(|&b| b as f32).collect();
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let want32 = reference(
                g,
                &w32.iter().map(|&w| f64::from(w)).collect::<Vec<_>>(),
                &b32.iter().map(|&b| f64::from(b)).collect::<Vec<_>>(),
                &x32.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
            );
            let mut y32 = vec![f32::NAN; want.len()];
            conv(g, &pack(g, &w32), &b32, &x32, &mut y32, skip);
            for (k, a) in y32.iter().enumerate() {
                prop_assert!(
                    (f64::from(*a) - want32[k]).abs() < 1e-5 * scale,
                    "{g:?} f32 {k}: {a} vs {}",
                    want32[k]
                );
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn random_geometries_agree_with_the_reference(
            c in 1..4usize, h in 1..12usize, w in 1..40usize, f in 1..20usize,
            kh in 1..6usize, kw in 1..6usize, sh in 1..4usize, sw in 1..4usize,
            ph in 0..3usize, pw in 0..3usize, seed in any::<u64>(),
        ) {
            if let Some(g) = geometry(c, [h, w], f, [kh, kw], [sh, sw], [ph, pw]) {
                check(&g, seed)?;
            }
        }

        #[test]
        fn random_pools_agree_with_the_reference(
            c in 1..4usize, h in 1..12usize, w in 1..40usize,
            kh in 1..4usize, kw in 1..4usize, sh in 1..4usize, sw in 1..4usize, seed in any::<u64>(),
        ) {
            prop_assume!(kh <= h && kw <= w);
            let (oh, ow) = ((h - kh) / sh + 1, (w - kw) / sw + 1);
            let g = PoolGeometry { c, h, w, kh, kw, sh, sw, oh, ow };
            let mut rng = InitRng::new(seed);
            let x: Vec<f32> = (0..c * h * w).map(|_| rng.normal() as f32).collect();
            let mut y = vec![0.0; c * oh * ow];
            max_pool(&g, &x, &mut y);
            let mut plain = vec![0.0; c * oh * ow];
            max_pool_body::<f32, false>(&g, &x, &mut plain);
            for ch in 0..c {
                for i in 0..oh {
                    for j in 0..ow {
                        let mut m = f32::NEG_INFINITY;
                        for u in 0..kh {
                            for v in 0..kw {
                                m = m.max(x[(ch * h + i * sh + u) * w + j * sw + v]);
                            }
                        }
                        let k = (ch * oh + i) * ow + j;
                        prop_assert_eq!(y[k], m);
                        prop_assert_eq!(plain[k], m);
                    }
                }
            }
        }
    }

    /// The book's first layer, wide rows (several passes over the columns), rows too
    /// wide for the buffer (the plain path) and strides wider than the kernel.
    #[test]
    fn chosen_geometries_agree_with_the_reference() {
        for (k, g) in [
            geometry(1, [28, 28], 30, [5, 5], [1, 1], [0, 0]),
            geometry(2, [3, 700], 3, [2, 3], [1, 2], [1, 1]),
            geometry(1, [2, 5000], 2, [1, 2], [1, 1], [0, 0]),
            geometry(1, [2, 3], 9, [1, 5000], [1, 1], [0, 2500]),
            geometry(3, [9, 9], 17, [2, 2], [3, 4], [2, 1]),
        ]
        .into_iter()
        .enumerate()
        {
            check(&g.expect("valid"), k as u64).expect("agrees");
        }
    }

    /// An infinite weight meets the zeros of the padding and of empty rows, as in numpy:
    /// NaN, never skipped.
    #[test]
    fn an_infinite_weight_times_a_zero_is_nan() {
        let g = geometry(1, [2, 2], 1, [1, 1], [1, 1], [1, 1]).expect("valid");
        let mut y = [0.0_f32; 16];
        conv(
            &g,
            &pack(&g, &[f32::INFINITY]),
            &[0.0],
            &[0.0; 4],
            &mut y,
            false,
        );
        assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
    }
}
