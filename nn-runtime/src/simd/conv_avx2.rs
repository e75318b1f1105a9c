//! A hand-written AVX2+FMA kernel for the convolutions of stride 1 (the book's, and
//! most of them), in `f32` and `f64`: where the generic body of `conv.rs` leaves the
//! registers to LLVM, this one keeps [`FB`] filters × [`NV`] registers of output
//! columns in 12 accumulators for a whole output row, so that each tap costs `NV`
//! loads of inputs, `FB` broadcasts of weights and `FB·NV` fused multiply-adds.
//!
//! For output row `i` the `C·Kh` input rows it reads are copied, zero-padded, into a
//! stack buffer (loads may then run past a row's end into the slack); an input row that
//! is all 0 adds nothing when every weight is finite, and is left out. An elementwise
//! activation is applied to each piece of output while it is in L1.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;

use super::conv::{ConvGeometry, FILTER_BLOCK};
use crate::{Activation, Float};

/// Filters per pass: the weights are packed in blocks of this many (`conv::pack`).
const FB: usize = FILTER_BLOCK;

/// Registers of output columns per pass: 24 `f32` or 12 `f64` columns.
const NV: usize = 3;

/// Elements of the stack buffer for one output row's input rows (32 KiB of `f32`).
const BUFFER: usize = 8192;

/// The most input rows (`C·Kh`) one output row may read.
const MAX_ROWS: usize = 1024;

/// An AVX2 register of `f32` or `f64` and the few operations the kernel needs. Every
/// method requires AVX2 and FMA (the caller is compiled with them).
pub trait Ymm: Copy {
    /// Elements per register: 8 `f32` or 4 `f64`.
    const L: usize;
    /// The register.
    type Y: Copy;
    /// `*p` in every lane.
    unsafe fn y_splat(p: *const Self) -> Self::Y;
    /// `L` elements from `p`.
    unsafe fn y_load(p: *const Self) -> Self::Y;
    /// Writes the register's `L` elements to `p`.
    unsafe fn y_store(p: *mut Self, v: Self::Y);
    /// `a·b + c`, rounded once.
    unsafe fn y_mul_add(a: Self::Y, b: Self::Y, c: Self::Y) -> Self::Y;
    /// `max(a, 0)` in every lane, 0 for NaN: [`relu`](crate::kernels::relu).
    unsafe fn y_relu(a: Self::Y) -> Self::Y;
    /// Bit `k` set where element `k` of the `L` from `p` is not 0 (NaN is not 0).
    unsafe fn y_nonzero_mask(p: *const Self) -> u32;
    /// Reads `L` registers `src_stride` apart and writes the first `rows` registers of
    /// their transpose `dst_stride` apart (register `k` holds element `k` of each),
    /// relu applied with `relu`.
    unsafe fn y_transpose(
        src: *const Self,
        src_stride: usize,
        dst: *mut Self,
        dst_stride: usize,
        rows: usize,
        relu: bool,
    );
}

// SAFETY (every method below): the caller runs on a CPU with AVX2 and FMA and passes
// pointers valid for the elements the method reads or writes.
impl Ymm for f32 {
    const L: usize = 8;
    type Y = __m256;
    #[inline(always)]
    unsafe fn y_splat(p: *const f32) -> __m256 {
        unsafe { _mm256_broadcast_ss(&*p) }
    }
    #[inline(always)]
    unsafe fn y_load(p: *const f32) -> __m256 {
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn y_store(p: *mut f32, v: __m256) {
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn y_mul_add(a: __m256, b: __m256, c: __m256) -> __m256 {
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn y_relu(a: __m256) -> __m256 {
        // MAXPS gives its second operand where the first is NaN.
        unsafe { _mm256_max_ps(a, _mm256_setzero_ps()) }
    }
    #[inline(always)]
    unsafe fn y_nonzero_mask(p: *const f32) -> u32 {
        unsafe {
            let ne = _mm256_cmp_ps::<_CMP_NEQ_UQ>(_mm256_loadu_ps(p), _mm256_setzero_ps());
            _mm256_movemask_ps(ne) as u32
        }
    }
    #[inline(always)]
    unsafe fn y_transpose(
        src: *const f32,
        src_stride: usize,
        dst: *mut f32,
        dst_stride: usize,
        rows: usize,
        relu: bool,
    ) {
        unsafe {
            let r: [__m256; 8] = std::array::from_fn(|k| _mm256_loadu_ps(src.add(k * src_stride)));
            let t0 = _mm256_unpacklo_ps(r[0], r[1]);
            let t1 = _mm256_unpackhi_ps(r[0], r[1]);
            let t2 = _mm256_unpacklo_ps(r[2], r[3]);
            let t3 = _mm256_unpackhi_ps(r[2], r[3]);
            let t4 = _mm256_unpacklo_ps(r[4], r[5]);
            let t5 = _mm256_unpackhi_ps(r[4], r[5]);
            let t6 = _mm256_unpacklo_ps(r[6], r[7]);
            let t7 = _mm256_unpackhi_ps(r[6], r[7]);
            let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
            let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
            let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
            let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
            let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
            let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
            let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
            let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
            let o = [
                _mm256_permute2f128_ps::<0x20>(s0, s4),
                _mm256_permute2f128_ps::<0x20>(s1, s5),
                _mm256_permute2f128_ps::<0x20>(s2, s6),
                _mm256_permute2f128_ps::<0x20>(s3, s7),
                _mm256_permute2f128_ps::<0x31>(s0, s4),
                _mm256_permute2f128_ps::<0x31>(s1, s5),
                _mm256_permute2f128_ps::<0x31>(s2, s6),
                _mm256_permute2f128_ps::<0x31>(s3, s7),
            ];
            for (k, &v) in o.iter().enumerate().take(rows) {
                let v = if relu { Self::y_relu(v) } else { v };
                _mm256_storeu_ps(dst.add(k * dst_stride), v);
            }
        }
    }
}

// SAFETY: as for `f32`.
impl Ymm for f64 {
    const L: usize = 4;
    type Y = __m256d;
    #[inline(always)]
    unsafe fn y_splat(p: *const f64) -> __m256d {
        unsafe { _mm256_broadcast_sd(&*p) }
    }
    #[inline(always)]
    unsafe fn y_load(p: *const f64) -> __m256d {
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn y_store(p: *mut f64, v: __m256d) {
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn y_mul_add(a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        unsafe { _mm256_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    unsafe fn y_relu(a: __m256d) -> __m256d {
        // MAXPD gives its second operand where the first is NaN.
        unsafe { _mm256_max_pd(a, _mm256_setzero_pd()) }
    }
    #[inline(always)]
    unsafe fn y_nonzero_mask(p: *const f64) -> u32 {
        unsafe {
            let ne = _mm256_cmp_pd::<_CMP_NEQ_UQ>(_mm256_loadu_pd(p), _mm256_setzero_pd());
            _mm256_movemask_pd(ne) as u32
        }
    }
    #[inline(always)]
    unsafe fn y_transpose(
        src: *const f64,
        src_stride: usize,
        dst: *mut f64,
        dst_stride: usize,
        rows: usize,
        relu: bool,
    ) {
        unsafe {
            let r: [__m256d; 4] = std::array::from_fn(|k| _mm256_loadu_pd(src.add(k * src_stride)));
            let t0 = _mm256_unpacklo_pd(r[0], r[1]);
            let t1 = _mm256_unpackhi_pd(r[0], r[1]);
            let t2 = _mm256_unpacklo_pd(r[2], r[3]);
            let t3 = _mm256_unpackhi_pd(r[2], r[3]);
            let o = [
                _mm256_permute2f128_pd::<0x20>(t0, t2),
                _mm256_permute2f128_pd::<0x20>(t1, t3),
                _mm256_permute2f128_pd::<0x31>(t0, t2),
                _mm256_permute2f128_pd::<0x31>(t1, t3),
            ];
            for (k, &v) in o.iter().enumerate().take(rows) {
                let v = if relu { Self::y_relu(v) } else { v };
                _mm256_storeu_pd(dst.add(k * dst_stride), v);
            }
        }
    }
}

/// The length of one buffered input row: every column a pass may load, padding and
/// slack included.
fn row_len<T: Float>(g: &ConvGeometry) -> usize {
    g.ow.div_ceil(NV * T::L) * NV * T::L + g.kw - 1
}

/// Whether [`conv`] takes this geometry: stride 1, and one output row's input rows fit
/// the buffer.
pub(crate) fn takes<T: Float>(g: &ConvGeometry) -> bool {
    let rows = g.c * g.kh;
    g.sh == 1 && g.sw == 1 && rows <= MAX_ROWS && rows * row_len::<T>(g) <= BUFFER
}

/// `y = act(b + W ⊛ x)` for one sample: `x` of `C·H·W` values, `y` of `F·H'·W'` (all
/// written, so it need not be initialised),
/// `packed` from `conv::pack`, `bias` of `F`. With `skip_zeros` (every weight is
/// finite) input rows that are all 0 are left out.
///
/// # Safety
///
/// The CPU has AVX2 and FMA; [`takes`] holds for `g`; the slices have the lengths
/// above (`packed`: `⌈F / FB⌉ · C·Kh·Kw · FB`).
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn conv<T: Float>(
    g: &ConvGeometry,
    packed: &[T],
    bias: &[T],
    x: &[T],
    y: &mut [MaybeUninit<T>],
    skip_zeros: bool,
    activation: Activation<T>,
) {
    // SAFETY: as the caller guarantees.
    unsafe { conv_body(g, packed, bias, x, y, skip_zeros, activation) }
}

/// [`conv`] compiled with AVX-512VL, which adds 16 AVX2 registers: with 16 the 12
/// accumulators, 3 registers of inputs and a weight leave LLVM one short, and it spills
/// an accumulator, whose store and reload then chain every tap (about half the speed).
///
/// # Safety
///
/// As [`conv`], and the CPU has AVX-512F and AVX-512VL.
#[target_feature(enable = "avx2,fma,avx512f,avx512vl")]
pub(crate) unsafe fn conv_wide<T: Float>(
    g: &ConvGeometry,
    packed: &[T],
    bias: &[T],
    x: &[T],
    y: &mut [MaybeUninit<T>],
    skip_zeros: bool,
    activation: Activation<T>,
) {
    // SAFETY: as the caller guarantees.
    unsafe { conv_body(g, packed, bias, x, y, skip_zeros, activation) }
}

/// The body of [`conv`] and [`conv_wide`].
///
/// # Safety
///
/// As [`conv`].
#[inline(always)]
unsafe fn conv_body<T: Float>(
    g: &ConvGeometry,
    packed: &[T],
    bias: &[T],
    x: &[T],
    y: &mut [MaybeUninit<T>],
    skip_zeros: bool,
    activation: Activation<T>,
) {
    let cols = NV * T::L;
    let len = row_len::<T>(g);
    let taps = g.taps();
    let rows = g.c * g.kh;
    assert!(
        takes::<T>(g)
            && x.len() == g.c * g.h * g.w
            && y.len() == g.f * g.oh * g.ow
            && bias.len() == g.f
            && packed.len() == g.f.div_ceil(FB) * taps * FB,
        "the convolution's buffers fit its geometry"
    );
    // Not zeroed (32 KiB a call): a live row is written whole before a pass reads it,
    // and passes read live rows only.
    let mut buffer = [const { MaybeUninit::<T>::uninit() }; BUFFER];
    let mut live = [0_u16; MAX_ROWS];
    let elementwise = activation != Activation::Softmax;
    for i in 0..g.oh {
        // The input rows of output row `i`, zero-padded; `live` lists those not all 0.
        let mut n_live = 0;
        for cu in 0..rows {
            let (c, u) = (cu / g.kh, cu % g.kh);
            let Some(ih) = (i + u).checked_sub(g.ph).filter(|&ih| ih < g.h) else {
                continue;
            };
            let src = &x[(c * g.h + ih) * g.w..][..g.w];
            if skip_zeros && src.iter().all(|&v| v == T::zero()) {
                continue;
            }
            let dst = &mut buffer[cu * len..(cu + 1) * len];
            // Element by element: rows are short, and `copy_from_slice` would be a call
            // to `memcpy` per row.
            for (k, d) in dst.iter_mut().enumerate() {
                d.write(match k.checked_sub(g.pw) {
                    Some(k) if k < g.w => src[k],
                    _ => T::zero(),
                });
            }
            live[n_live] = cu as u16;
            n_live += 1;
        }
        let live = &live[..n_live];
        for j0 in (0..g.ow).step_by(cols) {
            let n = (g.ow - j0).min(cols);
            for (block, w_block) in packed.chunks_exact(taps * FB).enumerate() {
                // The block's biases, 0 past the last filter.
                let mut b = [T::zero(); FB];
                for (fb, b) in b.iter_mut().enumerate() {
                    *b = bias.get(block * FB + fb).copied().unwrap_or(T::zero());
                }
                // SAFETY: the caller guarantees AVX2+FMA; every load is inside
                // `buffer`, in a live row written whole above (row `cu` spans
                // `cu·len .. (cu+1)·len`, and a pass
                // reads columns `j0 + v + k < ⌈ow / cols⌉·cols + kw − 1 = len`) or
                // inside `w_block` (`cu·kw + v < taps`), and `b` has FB values.
                let acc =
                    unsafe { pass::<T>(buffer.as_ptr().cast(), len, live, j0, w_block, g.kw, &b) };
                for (fb, acc) in acc.iter().enumerate() {
                    let f = block * FB + fb;
                    if f >= g.f {
                        break;
                    }
                    let out = &mut y[(f * g.oh + i) * g.ow + j0..][..n];
                    // SAFETY: AVX2; a full pass stores NV·L = n values into `out`, a
                    // partial one NV·L ≤ 24 values into `tmp`.
                    unsafe {
                        let relu = activation == Activation::Relu;
                        let mut tmp = [T::zero(); 3 * 8];
                        let to = if n == cols {
                            out.as_mut_ptr().cast::<T>()
                        } else {
                            tmp.as_mut_ptr()
                        };
                        for (k, &v) in acc.iter().enumerate() {
                            let v = if relu { T::y_relu(v) } else { v };
                            T::y_store(to.add(k * T::L), v);
                        }
                        if n < cols {
                            for (o, &t) in out.iter_mut().zip(&tmp) {
                                o.write(t);
                            }
                        }
                        if elementwise && !relu {
                            // The `n` values were all written just above.
                            activation.apply_in_place(super::assume_init(out));
                        }
                    }
                }
            }
        }
    }
    if !elementwise {
        // SAFETY: every output was written above: each filter `f < F`, row and pass of
        // columns.
        activation.apply_in_place(unsafe { super::assume_init(y) });
    }
}

/// `FB` filters' accumulators for output columns `j0 .. j0 + NV·L` of one row: the bias
/// plus every live input row's taps.
///
/// # Safety
///
/// AVX2 and FMA; the bounds stated where [`conv`] calls it.
#[inline(always)]
unsafe fn pass<T: Float>(
    buffer: *const T,
    len: usize,
    live: &[u16],
    j0: usize,
    w_block: &[T],
    kw: usize,
    bias: &[T; FB],
) -> [[T::Y; NV]; FB] {
    unsafe {
        let mut acc: [[T::Y; NV]; FB] =
            std::array::from_fn(|fb| [T::y_splat(bias.as_ptr().add(fb)); NV]);
        for &cu in live {
            let cu = usize::from(cu);
            let x_row = buffer.add(cu * len + j0);
            let w_row = w_block.as_ptr().add(cu * kw * FB);
            for v in 0..kw {
                let xs: [T::Y; NV] = std::array::from_fn(|k| T::y_load(x_row.add(v + k * T::L)));
                let w = w_row.add(v * FB);
                for (fb, acc) in acc.iter_mut().enumerate() {
                    let wv = T::y_splat(w.add(fb));
                    for (a, &xk) in acc.iter_mut().zip(&xs) {
                        *a = T::y_mul_add(xk, wv, *a);
                    }
                }
            }
        }
        acc
    }
}
