//! A sparse AVX2+FMA kernel for the convolutions of stride 1 on inputs that are mostly
//! 0 (an MNIST digit is about 81 % zeros): each input value that is not 0 is scattered,
//! times the weights of each tap that reaches an output, into an accumulator laid out
//! pixel-major (`[H'·W'][filters]`, a few registers of filters per output position).
//! The accumulator starts at the biases; at the end it is transposed, in registers, to
//! the `(f, i, j)` output, with relu applied on the way.
//!
//! Zeros are skipped, so the caller takes this path only when every weight is finite
//! (`0·w` then adds exactly nothing). A NaN or infinite input is not 0 and is scattered
//! like any other value. The sums are added in another order than the dense kernel's,
//! so the two agree to rounding.

use std::mem::MaybeUninit;

use super::conv::ConvGeometry;
use crate::{Activation, Float};

/// Registers of filters per pass over the input: 32 `f32` or 16 `f64` filters.
const NF: usize = 4;

/// Bytes of the stack accumulator (`H'·W'` positions by up to `NF` registers).
const ACC_BYTES: usize = 96 * 1024;

/// The accumulator's bytes, aligned to a cache line: a register of a position then
/// never straddles two lines (a split store costs two).
#[repr(C, align(64))]
struct Accumulator([MaybeUninit<u8>; ACC_BYTES]);

/// The most input values (`C·H·W`) the list of non-zero positions takes.
pub(crate) const MAX_INPUTS: usize = 4096;

/// The slots of the list: one more than it holds, written and not counted.
pub(crate) const LIST: usize = MAX_INPUTS + 1;

/// Filters per position in the accumulator for `f` filters: whole registers, at most
/// `NF`, so a pass takes `min(⌈f / L⌉, NF)` registers.
fn pass_registers<T: Float>(g: &ConvGeometry) -> usize {
    g.f.div_ceil(T::L).min(NF)
}

/// Whether [`conv`] takes this geometry: stride 1, an input the list holds, and one
/// pass's accumulator fits the stack buffer.
pub(crate) fn takes<T: Float>(g: &ConvGeometry) -> bool {
    let per_position = pass_registers::<T>(g) * T::L * size_of::<T>();
    g.sh == 1
        && g.sw == 1
        && g.c * g.h * g.w <= MAX_INPUTS
        && g.oh * g.ow * per_position <= ACC_BYTES
        && g.kh * g.kw <= u16::MAX.into()
}

/// The weights as [`conv`] reads them: `[C·Kh·Kw][F']`, each tap's filters side by
/// side, `F'` = `F` rounded up to a whole register, zeros past `F`.
pub(crate) fn pack_by_tap<T: Float>(g: &ConvGeometry, weight: &[T]) -> Box<[T]> {
    let taps = g.taps();
    let fp = g.f.div_ceil(T::L) * T::L;
    let mut packed = vec![T::zero(); taps * fp];
    pack_by_tap_into(g, weight, &mut packed);
    packed.into_boxed_slice()
}

/// [`pack_by_tap`] into `packed`, which has its length and zeros past `F` already.
pub(crate) fn pack_by_tap_into<T: Float>(g: &ConvGeometry, weight: &[T], packed: &mut [T]) {
    let taps = g.taps();
    let fp = g.f.div_ceil(T::L) * T::L;
    for (f, filter) in weight.chunks_exact(taps).enumerate() {
        for (t, &w) in filter.iter().enumerate() {
            packed[t * fp + f] = w;
        }
    }
}

/// The positions (`c·H·W + h·W + w`) of the input values that are not 0 (NaN is not
/// 0), in order, written to `list`; `x` has `C·H·W` values, at most [`MAX_INPUTS`].
/// A register of values at a time is compared with 0; only those with a value that is
/// not 0 (a fifth of MNIST's) are listed, without a branch per value.
///
/// # Safety
///
/// The CPU has AVX2.
#[target_feature(enable = "avx2")]
pub(crate) unsafe fn nonzeros<'l, T: Float>(
    g: &ConvGeometry,
    x: &[T],
    list: &'l mut [MaybeUninit<u16>; LIST],
) -> &'l [u16] {
    assert!(x.len() == g.c * g.h * g.w && x.len() <= MAX_INPUTS);
    let mut n = 0;
    let whole = x.len() / T::L * T::L;
    for k0 in (0..whole).step_by(T::L) {
        // SAFETY: AVX2; `k0 + L <= x.len()`.
        let mask = unsafe { T::y_nonzero_mask(x.as_ptr().add(k0)) };
        if mask != 0 {
            for b in 0..T::L {
                // The next slot is overwritten unless this value counts; `n <= k0 + b`.
                list[n].write((k0 + b) as u16);
                n += ((mask >> b) & 1) as usize;
            }
        }
    }
    for (k, &v) in x.iter().enumerate().skip(whole) {
        list[n].write(k as u16);
        n += usize::from(v != T::zero());
    }
    // SAFETY: slots `..n` were written (slot `n − 1` last by the value that counted).
    unsafe { std::slice::from_raw_parts(list.as_ptr().cast::<u16>(), n) }
}

/// Whether the sparse kernel beats the dense one on an input with `nonzeros` values
/// that are not 0. Per tap, the sparse kernel does a read-modify-write of each register
/// of filters for each such value; the dense one does 4 filters' multiply-adds for each
/// register of output columns and each input channel (3 registers a pass).
pub(crate) fn pays<T: Float>(g: &ConvGeometry, nonzeros: usize) -> bool {
    let sparse = nonzeros * g.f.div_ceil(T::L) * SPARSE_COST.0;
    let dense = g.oh * g.ow.div_ceil(3 * T::L) * 3 * g.f.div_ceil(4) * 4 * g.c;
    sparse <= dense * SPARSE_COST.1
}

/// The cost of one register's read-modify-write in the sparse kernel against a
/// multiply-add of the dense one, as a fraction (measured by `density_timing` below:
/// on the book's first layer the kernels break even between 300 and 400 values of 784
/// not 0, later on stroke-like inputs, whose runs of values the sparse kernel adds at
/// once; it is not always the better one above 300 on a loaded machine).
const SPARSE_COST: (usize, usize) = (2, 1);

/// `y = act(b + W ⊛ x)` for one sample whose input values that are not 0 sit at
/// `list` (from [`nonzeros`]): `by_tap` from [`pack_by_tap`], `bias` of `F`, `y` of
/// `F·H'·W'` (all written, so it need not be initialised).
///
/// # Safety
///
/// The CPU has AVX2 and FMA; [`takes`] holds for `g`; every weight is finite.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn conv<T: Float>(
    g: &ConvGeometry,
    by_tap: &[T],
    bias: &[T],
    x: &[T],
    list: &[u16],
    y: &mut [MaybeUninit<T>],
    activation: Activation<T>,
) {
    let fp = g.f.div_ceil(T::L) * T::L;
    assert!(
        takes::<T>(g)
            && x.len() == g.c * g.h * g.w
            && y.len() == g.f * g.oh * g.ow
            && bias.len() == g.f
            && by_tap.len() == g.taps() * fp
            && list.iter().all(|&k| usize::from(k) < x.len()),
        "the convolution's buffers fit its geometry"
    );
    let mut acc = Accumulator([const { MaybeUninit::uninit() }; ACC_BYTES]);
    // SAFETY: a byte buffer of `ACC_BYTES` has room for `H'·W'` positions of `NF`
    // registers (`takes`), and it is aligned for `T`.
    let acc = acc.0.as_mut_ptr().cast::<T>();
    let regs = pass_registers::<T>(g);
    let mut f0 = 0;
    while f0 < g.f {
        let n = (g.f - f0).div_ceil(T::L).min(regs);
        // SAFETY: AVX2+FMA; the bounds are those `takes` and the assert establish.
        unsafe {
            let filters = (g.f - f0).min(n * T::L);
            let out = y[f0 * g.oh * g.ow..].as_mut_ptr().cast::<T>();
            let relu = activation == Activation::Relu;
            let args = (g, by_tap, fp, f0, bias, x, list, acc);
            match n {
                1 => pass::<T, 1>(args, out, filters, relu),
                2 => pass::<T, 2>(args, out, filters, relu),
                3 => pass::<T, 3>(args, out, filters, relu),
                _ => pass::<T, NF>(args, out, filters, relu),
            }
        }
        f0 += n * T::L;
    }
    if activation != Activation::Relu {
        // SAFETY: the passes wrote every filter's plane.
        activation.apply_in_place(unsafe { super::assume_init(y) });
    }
}

/// The arguments of [`pass`] that [`conv_body`] passes on as they are.
type PassArgs<'a, T> = (
    &'a ConvGeometry,
    &'a [T],
    usize,
    usize,
    &'a [T],
    &'a [T],
    &'a [u16],
    *mut T,
);

/// Adds every listed input value times every weight of its taps to the accumulator
/// (output rows of `W'` positions of `R` registers, filters `f0 ..`), each output row
/// starting at the biases, and writes the rows to `out` (the plane of filter `f0`),
/// the first `filters` filters, with relu if `relu`.
///
/// With one input channel the list goes down the rows in order, so an output row is
/// complete once the input rows its taps reach are done: the accumulator is then a
/// ring of `Kh` rows (15 KiB for the book's layer, in L1), each written out as soon as
/// it is complete. With more channels it holds every output row.
///
/// # Safety
///
/// As [`conv`]; `acc` has room for `H'·W'·R·L` values, `out` for `filters` planes.
#[inline(always)]
unsafe fn pass<T: Float, const R: usize>(
    (g, by_tap, fp, f0, bias, x, list, acc): PassArgs<'_, T>,
    out: *mut T,
    filters: usize,
    relu: bool,
) {
    let stride = R * T::L;
    let ring = if g.c == 1 { g.kh.min(g.oh) } else { g.oh };
    let plane = g.oh * g.ow;
    unsafe {
        let mut b = [T::zero(); NF * 8];
        for (k, b) in b.iter_mut().enumerate().take(stride) {
            *b = bias.get(f0 + k).copied().unwrap_or(T::zero());
        }
        let bv: [T::Y; R] = std::array::from_fn(|r| T::y_load(b.as_ptr().add(r * T::L)));
        // The first position of output row `i` in the accumulator.
        let row = |i: usize| acc.add((i % ring) * g.ow * stride);
        // Not closures, which would not inherit the target features: macros.
        macro_rules! start {
            ($i:expr) => {
                start_row::<T, R>(row($i), &bv, g.ow)
            };
        }
        macro_rules! finish {
            ($i:expr) => {
                finish_row::<T>(
                    row($i),
                    stride,
                    out.add($i * g.ow),
                    plane,
                    g.ow,
                    filters,
                    relu,
                )
            };
        }
        // Output rows `..started` hold their biases or more, `..finished` are written.
        let (mut started, mut finished) = (0, 0);
        if ring == g.oh {
            for i in 0..g.oh {
                start!(i);
            }
            started = g.oh;
        }
        let in_plane = g.h * g.w;
        let w_base = by_tap.as_ptr().add(f0);
        let mut n = 0;
        while n < list.len() {
            let k = usize::from(list[n]);
            let (c, hw) = (k / in_plane, k % in_plane);
            let (h, w) = (hw / g.w, hw % g.w);
            let xv = T::y_splat(x.as_ptr().add(k));
            // Tap (u, v) takes x[c, h, w] to output (h + Ph − u, w + Pw − v).
            let (hp, wp) = (h + g.ph, w + g.pw);
            if ring < g.oh {
                // Rows above `hp + 1 − Kh` take nothing more; rows to `hp` take this one.
                while finished + g.kh < hp + 1 {
                    if finished == started {
                        start!(started);
                        started += 1;
                    }
                    finish!(finished);
                    finished += 1;
                }
                while started <= hp.min(g.oh - 1) {
                    start!(started);
                    started += 1;
                }
            }
            let u_lo = (hp + 1).saturating_sub(g.oh);
            let u_hi = hp.min(g.kh - 1);
            // The next one to three values on the row, when all reach all `Kw` columns
            // of taps: output column `wp + m − 1 − t` takes tap `t + q + 1 − m` of value
            // `q` of the `m`, `Kw + m − 1` read-modify-writes per tap row instead of
            // `m·Kw`.
            let next = |q: usize| list.get(n + q) == Some(&((k + q) as u16)) && w + q < g.w;
            let interior = wp >= g.kw - 1;
            if interior && g.kw >= 3 && next(1) && next(2) && next(3) && wp + 3 < g.ow {
                let [x1, x2, x3, x4] = [0, 1, 2, 3].map(|q| T::y_splat(x.as_ptr().add(k + q)));
                for u in u_lo..=u_hi {
                    let i = hp - u;
                    let wr = w_base.add((c * g.kh + u) * g.kw * fp);
                    let wt = |v: usize| wr.add(v * fp);
                    let a_row = row(i).add((wp + 3) * stride);
                    let a = |t: usize| a_row.sub(t * stride);
                    add::<T, R, 1>(a(0), [x4], [wt(0)]);
                    add::<T, R, 2>(a(1), [x3, x4], [wt(0), wt(1)]);
                    add::<T, R, 3>(a(2), [x2, x3, x4], [wt(0), wt(1), wt(2)]);
                    for t in 3..g.kw {
                        let w4 = [wt(t - 3), wt(t - 2), wt(t - 1), wt(t)];
                        add::<T, R, 4>(a(t), [x1, x2, x3, x4], w4);
                    }
                    let kw = g.kw;
                    add::<T, R, 3>(a(kw), [x1, x2, x3], [wt(kw - 3), wt(kw - 2), wt(kw - 1)]);
                    add::<T, R, 2>(a(kw + 1), [x1, x2], [wt(kw - 2), wt(kw - 1)]);
                    add::<T, R, 1>(a(kw + 2), [x1], [wt(kw - 1)]);
                }
                n += 4;
                continue;
            }
            if interior && g.kw >= 3 && next(1) && next(2) && wp + 2 < g.ow {
                let [x1, x2, x3] = [0, 1, 2].map(|q| T::y_splat(x.as_ptr().add(k + q)));
                for u in u_lo..=u_hi {
                    let i = hp - u;
                    let wr = w_base.add((c * g.kh + u) * g.kw * fp);
                    let wt = |v: usize| wr.add(v * fp);
                    let a_row = row(i).add((wp + 2) * stride);
                    let a = |t: usize| a_row.sub(t * stride);
                    add::<T, R, 1>(a(0), [x3], [wt(0)]);
                    add::<T, R, 2>(a(1), [x2, x3], [wt(0), wt(1)]);
                    for t in 2..g.kw {
                        add::<T, R, 3>(a(t), [x1, x2, x3], [wt(t - 2), wt(t - 1), wt(t)]);
                    }
                    add::<T, R, 2>(a(g.kw), [x1, x2], [wt(g.kw - 2), wt(g.kw - 1)]);
                    add::<T, R, 1>(a(g.kw + 1), [x1], [wt(g.kw - 1)]);
                }
                n += 3;
                continue;
            }
            if interior && next(1) && wp + 1 < g.ow {
                let [x1, x2] = [0, 1].map(|q| T::y_splat(x.as_ptr().add(k + q)));
                for u in u_lo..=u_hi {
                    let i = hp - u;
                    let wr = w_base.add((c * g.kh + u) * g.kw * fp);
                    let wt = |v: usize| wr.add(v * fp);
                    let a_row = row(i).add((wp + 1) * stride);
                    let a = |t: usize| a_row.sub(t * stride);
                    add::<T, R, 1>(a(0), [x2], [wt(0)]);
                    for t in 1..g.kw {
                        add::<T, R, 2>(a(t), [x1, x2], [wt(t - 1), wt(t)]);
                    }
                    add::<T, R, 1>(a(g.kw), [x1], [wt(g.kw - 1)]);
                }
                n += 2;
                continue;
            }
            let v_lo = (wp + 1).saturating_sub(g.ow);
            let v_hi = wp.min(g.kw - 1);
            for u in u_lo..=u_hi {
                let i = hp - u;
                let w_row = w_base.add((c * g.kh + u) * g.kw * fp);
                let a_row = row(i).add(wp * stride);
                for v in v_lo..=v_hi {
                    let wt = w_row.add(v * fp);
                    let a = a_row.sub(v * stride);
                    for r in 0..R {
                        let s = T::y_mul_add(
                            xv,
                            T::y_load(wt.add(r * T::L)),
                            T::y_load(a.add(r * T::L)),
                        );
                        T::y_store(a.add(r * T::L), s);
                    }
                }
            }
            n += 1;
        }
        while finished < g.oh {
            if finished == started {
                start!(started);
                started += 1;
            }
            finish!(finished);
            finished += 1;
        }
    }
}

/// Sets the `W'` positions of `R` registers from `a` on to the biases `bv`.
///
/// # Safety
///
/// AVX2; `a` is valid for `W'·R` registers.
#[inline(always)]
unsafe fn start_row<T: Float, const R: usize>(a: *mut T, bv: &[T::Y; R], ow: usize) {
    unsafe {
        for p in 0..ow {
            for (r, &v) in bv.iter().enumerate() {
                T::y_store(a.add((p * R + r) * T::L), v);
            }
        }
    }
}

/// Writes the `W'` positions (`stride` values apart) from `a` on to `o`, the row's first
/// output in the plane of the first filter, `plane` apart for the next `filters`, with
/// relu if `relu`.
///
/// # Safety
///
/// AVX2; the pointers are valid for those values.
#[inline(always)]
unsafe fn finish_row<T: Float>(
    a: *const T,
    stride: usize,
    o: *mut T,
    plane: usize,
    ow: usize,
    filters: usize,
    relu: bool,
) {
    unsafe {
        let whole = ow / T::L * T::L;
        for j in (0..whole).step_by(T::L) {
            for f in (0..filters).step_by(T::L) {
                let rows = (filters - f).min(T::L);
                T::y_transpose(
                    a.add(j * stride + f),
                    stride,
                    o.add(f * plane + j),
                    plane,
                    rows,
                    relu,
                );
            }
        }
        for j in whole..ow {
            for f in 0..filters {
                let v = *a.add(j * stride + f);
                *o.add(f * plane + j) = if relu { crate::kernels::relu(v) } else { v };
            }
        }
    }
}

/// Adds `Σ xs[q] · w[q]` to the `R` registers of one position of the accumulator at
/// `a`, `w[q]` pointing at the filters of a tap.
///
/// # Safety
///
/// AVX2 and FMA; `a` and each `w[q]` are valid for `R` registers.
#[inline(always)]
unsafe fn add<T: Float, const R: usize, const Q: usize>(
    a: *mut T,
    xs: [T::Y; Q],
    w: [*const T; Q],
) {
    unsafe {
        for r in 0..R {
            let a = a.add(r * T::L);
            let mut sum = T::y_load(a);
            for q in 0..Q {
                sum = T::y_mul_add(xs[q], T::y_load(w[q].add(r * T::L)), sum);
            }
            T::y_store(a, sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InitRng;
    use crate::simd::{ConvWeights, Level, as_uninit, conv_activated, level};

    fn geometry(
        c: usize,
        h: usize,
        w: usize,
        f: usize,
        k: [usize; 2],
        p: [usize; 2],
    ) -> ConvGeometry {
        ConvGeometry {
            c,
            h,
            w,
            f,
            kh: k[0],
            kw: k[1],
            sh: 1,
            sw: 1,
            ph: p[0],
            pw: p[1],
            oh: h + 2 * p[0] + 1 - k[0],
            ow: w + 2 * p[1] + 1 - k[1],
        }
    }

    /// `b + W ⊛ x` from the formula, in `f64`.
    fn reference(g: &ConvGeometry, weight: &[f64], bias: &[f64], x: &[f64]) -> Vec<f64> {
        let mut y = Vec::new();
        for f in 0..g.f {
            for i in 0..g.oh {
                for j in 0..g.ow {
                    let mut sum = bias[f];
                    for c in 0..g.c {
                        for u in 0..g.kh {
                            for v in 0..g.kw {
                                let h = (i + u).checked_sub(g.ph).filter(|&h| h < g.h);
                                let w = (j + v).checked_sub(g.pw).filter(|&w| w < g.w);
                                if let (Some(h), Some(w)) = (h, w) {
                                    sum += weight[((f * g.c + c) * g.kh + u) * g.kw + v]
                                        * x[(c * g.h + h) * g.w + w];
                                }
                            }
                        }
                    }
                    y.push(sum);
                }
            }
        }
        y
    }

    /// Runs the sparse kernel directly on `x`, in `T`.
    fn sparse<T: Float>(
        g: &ConvGeometry,
        weight: &[f64],
        bias: &[f64],
        x: &[f64],
        activation: Activation<T>,
    ) -> Vec<T> {
        let t = |v: &[f64]| v.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>();
        let (weight, bias, x) = (t(weight), t(bias), t(x));
        let by_tap = pack_by_tap(g, &weight);
        let mut list = [const { MaybeUninit::uninit() }; LIST];
        // SAFETY: AVX2 (the callers check).
        let list = unsafe { nonzeros(g, &x, &mut list) };
        let mut y = vec![T::nan(); g.f * g.oh * g.ow];
        // SAFETY: the test runs only where `level()` found AVX2 and FMA, and `takes`
        // holds for its geometries.
        unsafe { conv(g, &by_tap, &bias, &x, list, as_uninit(&mut y), activation) };
        y
    }

    fn has_avx2() -> bool {
        level() != Level::Baseline
    }

    /// Random inputs where a share `density` of the values is not 0.
    fn sparse_input(n: usize, density: f64, rng: &mut InitRng) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let keep = rng.normal().abs() < density * 2.5;
                if keep { rng.normal() } else { 0.0 }
            })
            .collect()
    }

    #[test]
    fn random_sparse_inputs_agree_with_the_reference() {
        if !has_avx2() {
            return;
        }
        let mut rng = InitRng::new(4);
        for (k, g) in [
            geometry(1, 28, 28, 30, [5, 5], [0, 0]),
            geometry(1, 24, 24, 30, [5, 5], [2, 2]),
            geometry(2, 9, 13, 7, [3, 2], [1, 0]),
            geometry(3, 5, 31, 40, [1, 4], [0, 3]),
            geometry(1, 3, 3, 1, [3, 3], [2, 2]),
            geometry(2, 6, 6, 70, [2, 3], [1, 1]),
            geometry(1, 9, 10, 33, [4, 4], [0, 1]),
        ]
        .into_iter()
        .enumerate()
        {
            assert!(takes::<f32>(&g) && takes::<f64>(&g), "{g:?}");
            let weight: Vec<f64> = (0..g.f * g.taps()).map(|_| rng.normal()).collect();
            let bias: Vec<f64> = (0..g.f).map(|_| rng.normal()).collect();
            for density in [0.0, 0.05, 0.2, 0.5, 1.0] {
                let x = sparse_input(g.c * g.h * g.w, density, &mut rng);
                let want = reference(&g, &weight, &bias, &x);
                let scale = (g.taps() as f64).sqrt() * 4.0;
                let y64 = sparse::<f64>(&g, &weight, &bias, &x, Activation::Identity);
                let y32 = sparse::<f32>(&g, &weight, &bias, &x, Activation::Identity);
                let relu = sparse::<f32>(&g, &weight, &bias, &x, Activation::Relu);
                let tanh = sparse::<f64>(&g, &weight, &bias, &x, Activation::Tanh);
                for (n, &w) in want.iter().enumerate() {
                    let what = format!("geometry {k} {g:?}, density {density}, output {n}");
                    assert!(
                        (y64[n] - w).abs() < 1e-12 * scale,
                        "{what}: {} vs {w}",
                        y64[n]
                    );
                    assert!((f64::from(y32[n]) - w).abs() < 1e-5 * scale, "{what} f32");
                    assert!(
                        (f64::from(relu[n]) - w.max(0.0)).abs() < 1e-5 * scale,
                        "{what} relu"
                    );
                    assert!((tanh[n] - w.tanh()).abs() < 1e-12 * scale, "{what} tanh");
                }
            }
        }
    }

    /// An all-0 input gives the biases (after the activation) everywhere.
    #[test]
    fn an_all_zero_input_gives_the_biases() {
        if !has_avx2() {
            return;
        }
        let g = geometry(1, 28, 28, 30, [5, 5], [0, 0]);
        let mut rng = InitRng::new(9);
        let weight: Vec<f64> = (0..g.f * g.taps()).map(|_| rng.normal()).collect();
        let bias: Vec<f64> = (0..g.f).map(|_| rng.normal()).collect();
        let y = sparse::<f32>(&g, &weight, &bias, &[0.0; 784], Activation::Relu);
        for (f, plane) in y.chunks_exact(g.oh * g.ow).enumerate() {
            assert!(
                plane.iter().all(|&v| v == (bias[f] as f32).max(0.0)),
                "filter {f}"
            );
        }
    }

    /// A NaN or infinite input value reaches exactly the outputs whose windows hold it.
    #[test]
    fn a_nan_or_infinite_input_reaches_its_windows() {
        if !has_avx2() {
            return;
        }
        let g = geometry(1, 8, 8, 9, [3, 3], [1, 1]);
        let weight: Vec<f64> = (0..g.f * g.taps()).map(|k| (k % 7) as f64 + 1.0).collect();
        let bias = vec![0.5; g.f];
        for bad in [f64::NAN, f64::INFINITY] {
            let mut x = vec![0.0; 64];
            x[2 * 8 + 5] = bad;
            x[6 * 8 + 1] = 1.0;
            let want = reference(&g, &weight, &bias, &x);
            let y = sparse::<f32>(&g, &weight, &bias, &x, Activation::Identity);
            for (n, (&a, &w)) in y.iter().zip(&want).enumerate() {
                assert_eq!(a.is_nan(), w.is_nan(), "{bad}, output {n}: {a} vs {w}");
                if !w.is_nan() {
                    assert_eq!(f64::from(a), w, "{bad}, output {n}");
                }
            }
        }
    }

    /// The dispatch: an infinite weight meets zero inputs as numpy has it (NaN), since
    /// zeros are skipped only with every weight finite; sparse and dense inputs give the
    /// same results whichever kernel `pays` picks.
    #[test]
    fn the_dispatch_skips_zeros_only_with_finite_weights() {
        let g = geometry(1, 28, 28, 30, [5, 5], [0, 0]);
        let mut rng = InitRng::new(2);
        let mut weight: Vec<f32> = (0..g.f * g.taps()).map(|_| rng.normal() as f32).collect();
        let bias: Vec<f32> = (0..g.f).map(|_| rng.normal() as f32).collect();
        let x = [0.0_f32; 784];
        weight[3] = f32::INFINITY;
        let weights = ConvWeights::new(&g, &weight);
        let mut y = vec![0.0; g.f * g.oh * g.ow];
        conv_activated(
            &g,
            &weights,
            &bias,
            &x,
            as_uninit(&mut y),
            false,
            Activation::Identity,
        );
        assert!(y[..576].iter().all(|v| v.is_nan()), "filter 0 is NaN");
        assert!(y[576..].iter().all(|v| !v.is_nan()), "the others are not");
    }

    /// Both sides of the switch between the kernels agree with the reference.
    #[test]
    fn the_density_switch() {
        let g = geometry(1, 28, 28, 30, [5, 5], [0, 0]);
        assert!(pays::<f32>(&g, 0) && pays::<f32>(&g, 100) && !pays::<f32>(&g, 784));
        assert!(pays::<f64>(&g, 90) && !pays::<f64>(&g, 784));
        let mut rng = InitRng::new(6);
        let weight: Vec<f64> = (0..g.f * g.taps()).map(|_| rng.normal()).collect();
        let bias: Vec<f64> = (0..g.f).map(|_| rng.normal()).collect();
        let weights = ConvWeights::new(&g, &weight);
        let scale = (g.taps() as f64).sqrt() * 4.0;
        for density in [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0] {
            let x = sparse_input(784, density, &mut rng);
            let want = reference(&g, &weight, &bias, &x);
            let mut y = vec![f64::NAN; want.len()];
            conv_activated(
                &g,
                &weights,
                &bias,
                &x,
                as_uninit(&mut y),
                true,
                Activation::Relu,
            );
            for (n, (&a, &w)) in y.iter().zip(&want).enumerate() {
                assert!(
                    (a - w.max(0.0)).abs() < 1e-12 * scale,
                    "{density}, {n}: {a} vs {w}"
                );
            }
        }
    }

    /// Times the two kernels on inputs of growing density, to place the switch:
    /// `cargo test --release -p nn-runtime density_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn density_timing() {
        use std::time::Instant;
        if level() != Level::Avx512 {
            return;
        }
        let g = geometry(1, 28, 28, 30, [5, 5], [0, 0]);
        let mut rng = InitRng::new(1);
        let weight: Vec<f32> = (0..g.f * g.taps()).map(|_| rng.normal() as f32).collect();
        let bias: Vec<f32> = (0..g.f).map(|_| rng.normal() as f32).collect();
        let weights = ConvWeights::new(&g, &weight);
        let mut y = vec![0.0_f32; g.f * g.oh * g.ow];
        let densities = [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6];
        // Scattered values inside the central 20x20, then strokes (rings of growing
        // thickness, as MNIST's digits are drawn).
        for (case, density) in densities
            .iter()
            .chain(&[0.1, 0.2, 0.3, 0.4, 0.55, 0.7])
            .enumerate()
        {
            let x: Vec<f32> = (0..784)
                .map(|k| {
                    let (h, w) = ((k / 28) as f64, (k % 28) as f64);
                    let keep = if case < densities.len() {
                        let inside = (4.0..24.0).contains(&h) && (4.0..24.0).contains(&w);
                        inside && rng.normal().abs() < density * 784.0 / 400.0 * 1.5
                    } else {
                        let r = ((h - 13.5) / 8.0).hypot((w - 13.5) / 6.0);
                        (r - 1.0).abs() < density * 0.9
                    };
                    if keep { rng.normal().abs() as f32 } else { 0.0 }
                })
                .collect();
            let mut list = [const { MaybeUninit::uninit() }; LIST];
            // SAFETY: AVX-512 (checked above), so AVX2.
            let n = unsafe { nonzeros(&g, &x, &mut list) }.len();
            let mut best = [f64::INFINITY; 2];
            for _ in 0..200 {
                let t = Instant::now();
                for _ in 0..20 {
                    // SAFETY: AVX-512 (checked above), so AVX2.
                    let list = unsafe { nonzeros(&g, &x, &mut list) };
                    // SAFETY: AVX2 (checked above), `takes` holds.
                    unsafe {
                        conv(
                            &g,
                            &weights.by_tap,
                            &bias,
                            &x,
                            list,
                            as_uninit(&mut y),
                            Activation::Relu,
                        )
                    };
                }
                best[0] = best[0].min(t.elapsed().as_secs_f64() / 20.0);
                let t = Instant::now();
                for _ in 0..20 {
                    // SAFETY: AVX-512 (checked above), `takes` holds.
                    unsafe {
                        crate::simd::conv_avx2::conv_wide(
                            &g,
                            &weights.packed,
                            &bias,
                            &x,
                            as_uninit(&mut y),
                            true,
                            Activation::Relu,
                        )
                    };
                }
                best[1] = best[1].min(t.elapsed().as_secs_f64() / 20.0);
            }
            println!(
                "{n} non-zeros ({:.2}): sparse {:.2} µs, dense {:.2} µs, pays {}",
                n as f64 / 784.0,
                best[0] * 1e6,
                best[1] * 1e6,
                pays::<f32>(&g, n)
            );
        }
    }
}
