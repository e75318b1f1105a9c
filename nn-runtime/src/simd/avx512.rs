//! Hand-written AVX-512 kernels for `act(x·W + b)`, for `f32` and `f64`.
//!
//! Where the generic bodies in `mod.rs` leave the register allocation to LLVM, these keep
//! every accumulator in a register, and they visit only the inputs that are not 0:
//! a pass over the inputs compares 16 of them at a time with 0 and writes the indices of
//! the others with one compress-store, with no branch per input. A row of `W` is then read
//! only for an input that needs it, and MNIST's images are 81 % zeros. That is exact when
//! every weight is finite (`0·w` adds exactly nothing); otherwise every input is visited.
//!
//! Batches go through the same code with `ROWS` samples at a time: each row of `W` that
//! is read is used for all of them, and the indices visited are those where any of the
//! samples is not 0. The weights are already laid out as a GEMM would pack them (rows
//! 64-byte aligned, padded with zeros to whole registers), so nothing is packed per call.

use std::arch::x86_64::*;

use crate::{Activation, Float};

/// What the kernels need of an element type: its AVX-512 register and a few operations.
/// Implemented for `f32` and `f64`; every method requires AVX-512F (the caller is
/// compiled with it) and is only inlined into such callers.
pub trait Lanes: Copy {
    /// Elements per register: 16 `f32` or 8 `f64`.
    const PER_REGISTER: usize;
    /// The register.
    type V: Copy;
    /// A register of zeros.
    unsafe fn v_zero() -> Self::V;
    /// `x` in every lane.
    unsafe fn v_splat(x: Self) -> Self::V;
    /// `PER_REGISTER` elements from `p`.
    unsafe fn v_load(p: *const Self) -> Self::V;
    /// The first `n` elements from `p` (nothing past them is read), zeros after.
    unsafe fn v_load_first(p: *const Self, n: usize) -> Self::V;
    /// Writes the first `n` lanes of `v` to `p` (nothing past them is written).
    unsafe fn v_store_first(p: *mut Self, v: Self::V, n: usize);
    /// `a·b + c`, rounded once.
    unsafe fn v_mul_add(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `a + b`.
    unsafe fn v_add(a: Self::V, b: Self::V) -> Self::V;
    /// Bit `k` set where element `k` of the first `n` (at most 16) from `p` is not 0
    /// (NaN counts as not 0).
    unsafe fn nonzero_mask(p: *const Self, n: usize) -> u16;
}

/// The lanes `0..n` of a mask (`n` at most 16).
#[inline(always)]
fn first(n: usize) -> u16 {
    debug_assert!(n <= 16);
    ((1_u32 << n) - 1) as u16
}

// SAFETY (every method below): the caller runs on a CPU with AVX-512F, which is all the
// intrinsics need, and passes pointers valid for the elements named in `Lanes`' docs.
impl Lanes for f32 {
    const PER_REGISTER: usize = 16;
    type V = __m512;
    #[inline(always)]
    unsafe fn v_zero() -> __m512 {
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn v_splat(x: f32) -> __m512 {
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    unsafe fn v_load(p: *const f32) -> __m512 {
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn v_load_first(p: *const f32, n: usize) -> __m512 {
        unsafe { _mm512_maskz_loadu_ps(first(n), p) }
    }
    #[inline(always)]
    unsafe fn v_store_first(p: *mut f32, v: __m512, n: usize) {
        unsafe { _mm512_mask_storeu_ps(p, first(n), v) }
    }
    #[inline(always)]
    unsafe fn v_mul_add(a: __m512, b: __m512, c: __m512) -> __m512 {
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn v_add(a: __m512, b: __m512) -> __m512 {
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    unsafe fn nonzero_mask(p: *const f32, n: usize) -> u16 {
        unsafe { _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(Self::v_load_first(p, n), _mm512_setzero_ps()) }
    }
}

// SAFETY: as for `f32`.
impl Lanes for f64 {
    const PER_REGISTER: usize = 8;
    type V = __m512d;
    #[inline(always)]
    unsafe fn v_zero() -> __m512d {
        unsafe { _mm512_setzero_pd() }
    }
    #[inline(always)]
    unsafe fn v_splat(x: f64) -> __m512d {
        unsafe { _mm512_set1_pd(x) }
    }
    #[inline(always)]
    unsafe fn v_load(p: *const f64) -> __m512d {
        unsafe { _mm512_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn v_load_first(p: *const f64, n: usize) -> __m512d {
        unsafe { _mm512_maskz_loadu_pd(first(n) as u8, p) }
    }
    #[inline(always)]
    unsafe fn v_store_first(p: *mut f64, v: __m512d, n: usize) {
        unsafe { _mm512_mask_storeu_pd(p, first(n) as u8, v) }
    }
    #[inline(always)]
    unsafe fn v_mul_add(a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        unsafe { _mm512_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    unsafe fn v_add(a: __m512d, b: __m512d) -> __m512d {
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    unsafe fn nonzero_mask(p: *const f64, n: usize) -> u16 {
        unsafe {
            let zero = _mm512_setzero_pd();
            let low = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(Self::v_load_first(p, n.min(8)), zero);
            if n <= 8 {
                return u16::from(low);
            }
            let high = _mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(Self::v_load_first(p.add(8), n - 8), zero);
            u16::from(low) | u16::from(high) << 8
        }
    }
}

/// Inputs per list of indices: the list lives on the stack (4 KiB), so a layer with
/// more inputs is taken in chunks of this many.
const CHUNK: usize = 1024;

/// Registers of outputs one pass of [`panel`] keeps per sample. One sample (`forward`):
/// up to 8 (128 `f32` outputs) in two sets of accumulators, 16 registers. A batch: 4 per
/// sample, so four samples take 16 accumulators plus the 4 registers of `W` they share.
const SINGLE_PANEL: usize = 8;
const BATCH_PANEL: usize = 4;

/// Samples per pass in a batch: each row of `W` read serves this many.
const BATCH_ROWS: usize = 4;

/// The weights: `rows` rows (one per input) `stride` elements apart, each padded with
/// zeros to a whole number of registers, so a register's load never leaves its row.
#[derive(Clone, Copy)]
pub(crate) struct Weights<T> {
    pub(crate) ptr: *const T,
    pub(crate) stride: usize,
}

/// Writes to `idx` the positions `k` in `0..len` where input `start + k` of any of the
/// samples in `x` is not 0, in increasing order, and returns how many there are. Up to
/// 16 entries past those may be overwritten.
#[inline(always)]
unsafe fn nonzero_inputs<T: Lanes, const ROWS: usize>(
    x: &[*const T; ROWS],
    start: usize,
    len: usize,
    idx: &mut [u32; CHUNK + 16],
) -> usize {
    debug_assert!(len <= CHUNK);
    // SAFETY: the caller runs on a CPU with AVX-512F.
    let (mut lanes, sixteen) = unsafe {
        (
            _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
            _mm512_set1_epi32(16),
        )
    };
    let mut count = 0;
    for k in (0..len).step_by(16) {
        let n = (len - k).min(16);
        let mut mask = 0;
        for row in x {
            // SAFETY: the caller passes samples of at least `start + len` elements.
            mask |= unsafe { T::nonzero_mask(row.add(start + k), n) };
        }
        // The indices of the lanes set in `mask`, packed to the front of a register and
        // stored whole: a compress straight to memory is several times slower on Intel.
        // SAFETY: `count <= k < len <= CHUNK`, so the 16 lanes stored fit in `idx`.
        // The CPU has AVX-512F.
        unsafe {
            let packed = _mm512_maskz_compress_epi32(mask, lanes);
            _mm512_storeu_si512(idx.as_mut_ptr().add(count).cast(), packed);
            lanes = _mm512_add_epi32(lanes, sixteen);
        }
        count += mask.count_ones() as usize;
    }
    count
}

/// Adds `Σ_i x_i · W[i, col..col + width]` over the inputs `start + k` for `k` in `visit`
/// (every `k < len` when `DENSE`) to `out[r][col..col + width]` for each sample `r`, with
/// `P` registers of outputs per sample held in registers throughout. `width <= P·N`, and
/// `col + P·N <= stride`, so the padded rows of `W` are read in whole registers.
///
/// `SETS` sets of accumulators take the inputs in turn. One sample with one set would
/// chain each register's multiply-adds, bound by their latency (4 cycles) rather than by
/// the two FMA units (see [`sets`]); several samples are independent chains already.
/// With one set, each sample adds its terms in the order of the inputs, and a skipped
/// input would have added exactly 0: the result does not depend on which inputs were
/// visited, so neither on skipping nor on the other samples of the block.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
// Registers indexed by sample and by position read like the arithmetic they do.
#[allow(clippy::needless_range_loop)]
unsafe fn panel<
    T: Lanes,
    const ROWS: usize,
    const P: usize,
    const SETS: usize,
    const DENSE: bool,
>(
    w: Weights<T>,
    x: &[*const T; ROWS],
    out: &[*mut T; ROWS],
    start: usize,
    visit: &[u32],
    len: usize,
    col: usize,
    width: usize,
) {
    // SAFETY (whole function): the caller passes samples of `start + len` inputs, outputs
    // of `col + width` elements, and `W` with rows `start..start + len` of `stride >=
    // col + P·N` elements; `visit` holds positions below `len`.
    unsafe {
        let lanes = |p: usize| {
            width
                .saturating_sub(p * T::PER_REGISTER)
                .min(T::PER_REGISTER)
        };
        let mut acc = [[[T::v_zero(); P]; ROWS]; SETS];
        for r in 0..ROWS {
            for p in 0..P {
                acc[0][r][p] = T::v_load_first(out[r].add(col + p * T::PER_REGISTER), lanes(p));
            }
        }
        let count = if DENSE { len } else { visit.len() };
        let mut j = 0;
        while j < count {
            // The last round may be short: the sets past `count` are left alone.
            for (set, acc) in acc.iter_mut().enumerate() {
                if SETS > 1 && j + set >= count {
                    break;
                }
                let i = start
                    + if DENSE {
                        j + set
                    } else {
                        *visit.get_unchecked(j + set) as usize
                    };
                let row = w.ptr.add(i * w.stride + col);
                let mut wv = [T::v_zero(); P];
                for p in 0..P {
                    wv[p] = T::v_load(row.add(p * T::PER_REGISTER));
                }
                for r in 0..ROWS {
                    let xi = T::v_splat(*x[r].add(i));
                    for p in 0..P {
                        acc[r][p] = T::v_mul_add(xi, wv[p], acc[r][p]);
                    }
                }
            }
            j += SETS;
        }
        for r in 0..ROWS {
            for p in 0..P {
                let mut sum = acc[0][r][p];
                for acc in &acc[1..] {
                    sum = T::v_add(sum, acc[r][p]);
                }
                T::v_store_first(out[r].add(col + p * T::PER_REGISTER), sum, lanes(p));
            }
        }
    }
}

/// Sets of accumulators for one sample with `p` registers of outputs: enough that
/// about 8 multiply-adds are independent (two FMA units, 4 cycles each).
const fn sets(p: usize) -> usize {
    if p <= 2 { 4 } else { 2 }
}

/// `out[r] += x[r]·W` for `ROWS` samples over all `inputs` inputs and `outputs` outputs,
/// `out[r]` holding the bias (or a partial sum) on entry. `SINGLE` (one sample, from
/// `forward`) trades the order of additions for speed with several sets of
/// accumulators; a batch keeps one set, so that a sample's result does not depend on
/// the block it lands in.
#[inline(always)]
unsafe fn accumulate<T: Lanes, const ROWS: usize, const SINGLE: bool>(
    w: Weights<T>,
    x: &[*const T; ROWS],
    out: &[*mut T; ROWS],
    inputs: usize,
    outputs: usize,
    skip_zeros: bool,
) {
    let panel_width = if SINGLE { SINGLE_PANEL } else { BATCH_PANEL };
    let mut idx = [0_u32; CHUNK + 16];
    for start in (0..inputs).step_by(CHUNK) {
        let len = (inputs - start).min(CHUNK);
        // SAFETY: the caller's samples have `inputs` elements.
        let count = if skip_zeros {
            unsafe { nonzero_inputs(x, start, len, &mut idx) }
        } else {
            len
        };
        // Nearly every input is used: walking them in order saves the list's reads.
        let dense = count + count / 16 >= len;
        for col in (0..outputs).step_by(panel_width * T::PER_REGISTER) {
            let width = (outputs - col).min(panel_width * T::PER_REGISTER);
            let registers = width.div_ceil(T::PER_REGISTER);
            macro_rules! run {
                ($($p:literal: $sets:expr),*) => {
                    match (registers, dense) {
                        $(
                            // SAFETY: the caller's `W` has `inputs` rows of a stride that
                            // is `outputs` rounded up to whole registers.
                            ($p, true) => unsafe { panel::<T, ROWS, $p, $sets, true>(w, x, out, start, &[], len, col, width) },
                            ($p, false) => unsafe { panel::<T, ROWS, $p, $sets, false>(w, x, out, start, &idx[..count], len, col, width) },
                        )*
                        _ => unreachable!("a panel has 1 to {panel_width} registers"),
                    }
                };
            }
            if SINGLE {
                run!(1: { sets(1) }, 2: { sets(2) }, 3: { sets(3) }, 4: { sets(4) }, 5: { sets(5) }, 6: { sets(6) }, 7: { sets(7) }, 8: { sets(8) });
            } else {
                run!(1: 1, 2: 1, 3: 1, 4: 1);
            }
        }
    }
}

/// `act(x·W + b)` for one sample.
///
/// # Safety
/// The CPU has AVX-512F/VL/BW/DQ and FMA, and `w` has `IN` rows `w.stride` apart, each
/// readable for `w.stride` elements, with `w.stride` a multiple of `T::PER_REGISTER` and at least `OUT`.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
pub(crate) unsafe fn affine_single<T: Float, const IN: usize, const OUT: usize>(
    w: Weights<T>,
    bias: &[T; OUT],
    x: &[T; IN],
    activation: Activation<T>,
    skip_zeros: bool,
) -> [T; OUT] {
    let mut y = *bias;
    // SAFETY: `x` and `y` have `IN` and `OUT` elements; the caller vouches for `w`.
    unsafe { accumulate::<T, 1, true>(w, &[x.as_ptr()], &[y.as_mut_ptr()], IN, OUT, skip_zeros) };
    activation.apply_in_place(&mut y);
    y
}

/// `out ← act(x·W + b)` for `out.len() / bias.len()` samples, sample `r` at
/// `x + r·x_stride` (`inputs` elements in a row), `out` row-major.
///
/// # Safety
/// As [`affine_single`] for `w` (with `inputs` rows and `bias.len()` outputs), and every
/// sample is readable for `inputs` elements.
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn affine_rows<T: Float>(
    w: Weights<T>,
    bias: &[T],
    x: *const T,
    x_stride: usize,
    inputs: usize,
    out: &mut [T],
    activation: Activation<T>,
    skip_zeros: bool,
) {
    let outputs = bias.len();
    /// Bias in, `W` multiplied in, activation applied: the `ROWS` samples from `x` on.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<T: Float, const ROWS: usize>(
        w: Weights<T>,
        bias: &[T],
        x: *const T,
        x_stride: usize,
        inputs: usize,
        out: &mut [T],
        activation: Activation<T>,
        skip_zeros: bool,
    ) {
        let outputs = bias.len();
        for row in out.chunks_exact_mut(outputs) {
            row.copy_from_slice(bias);
        }
        let xs = std::array::from_fn(|r| x.wrapping_add(r * x_stride));
        let outs = std::array::from_fn(|r| out.as_mut_ptr().wrapping_add(r * outputs));
        // SAFETY: `out` holds ROWS rows of `outputs`; the caller vouches for `x` and `w`.
        unsafe { accumulate::<T, ROWS, false>(w, &xs, &outs, inputs, outputs, skip_zeros) };
        for row in out.chunks_exact_mut(outputs) {
            activation.apply_in_place(row);
        }
    }

    let mut blocks = out.chunks_exact_mut(BATCH_ROWS * outputs);
    let mut x_block = x;
    for out in &mut blocks {
        // SAFETY: passed on from the caller, `BATCH_ROWS` samples from `x_block` on.
        unsafe {
            block::<T, BATCH_ROWS>(
                w, bias, x_block, x_stride, inputs, out, activation, skip_zeros,
            )
        };
        x_block = x_block.wrapping_add(BATCH_ROWS * x_stride);
    }
    let rest = blocks.into_remainder();
    // SAFETY: as above, for the last samples.
    unsafe {
        match rest.len() / outputs {
            0 => {}
            1 => block::<T, 1>(
                w, bias, x_block, x_stride, inputs, rest, activation, skip_zeros,
            ),
            2 => block::<T, 2>(
                w, bias, x_block, x_stride, inputs, rest, activation, skip_zeros,
            ),
            _ => block::<T, 3>(
                w, bias, x_block, x_stride, inputs, rest, activation, skip_zeros,
            ),
        }
    }
}

/// Registers of outputs per pass of [`weight_gradient`]: 4 inputs by 4 registers of
/// outputs make 16 accumulators.
const GRADIENT_PANEL: usize = 4;
/// Samples per block of [`weight_gradient`]: a sample's index in its block is a `u8`.
const GRADIENT_SAMPLES: usize = 128;
/// Groups of 4 inputs per block of [`weight_gradient`]: the lists of a block take
/// `GRADIENT_GROUPS × GRADIENT_SAMPLES` bytes of stack (32 KiB).
const GRADIENT_GROUPS: usize = 256;

/// `dW = xᵀ·dz` for an affine layer's batch: `x` is `k` samples of `m` inputs (rows
/// `x_rs` apart), `dz` `k` rows of `n` output gradients (`dz_rs` apart), `dw` `m` rows
/// of `n` (`dw_rs` apart), overwritten.
///
/// Inputs go by in groups of four, whose accumulators (four rows of `dW` by up to four
/// registers) stay in registers while the samples go by. A sample whose four inputs
/// are all 0 adds nothing (exactly, unless `dz` holds an infinity or NaN, when training
/// has diverged), and with images most are: so a first pass over each block of
/// samples, reading `x` in its own order, lists for every group the samples that are
/// not all 0 there, without a branch per group; the second pass visits only those.
///
/// # Safety
/// The CPU has AVX-512F/VL/BW/DQ and FMA; the pointers are valid for the elements
/// named.
#[allow(clippy::too_many_arguments, reason = "a kernel's pointers and strides")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
pub(crate) unsafe fn weight_gradient<T: Float>(
    x: *const T,
    x_rs: usize,
    k: usize,
    m: usize,
    dz: *const T,
    dz_rs: usize,
    n: usize,
    dw: *mut T,
    dw_rs: usize,
) {
    let per = T::PER_REGISTER;
    let mut lists = [[0_u8; GRADIENT_SAMPLES]; GRADIENT_GROUPS];
    let mut counts = [0_usize; GRADIENT_GROUPS];
    let groups = m.div_ceil(BATCH_ROWS);
    for g0 in (0..groups).step_by(GRADIENT_GROUPS) {
        let block_groups = GRADIENT_GROUPS.min(groups - g0);
        let (first, end) = (g0 * BATCH_ROWS, m.min((g0 + block_groups) * BATCH_ROWS));
        if k == 0 {
            for i in first..end {
                // SAFETY: row `i < m` of `dw`, `n` elements.
                unsafe { std::ptr::write_bytes(dw.add(i * dw_rs), 0, n) };
            }
        }
        for p0 in (0..k).step_by(GRADIENT_SAMPLES) {
            let samples = GRADIENT_SAMPLES.min(k - p0);
            counts[..block_groups].fill(0);
            for q in 0..samples {
                // SAFETY: sample `p0 + q < k`, inputs `first..end` of it.
                let row = unsafe { x.add((p0 + q) * x_rs) };
                let mut i = first;
                while i < end {
                    let len = 16.min(end - i);
                    // SAFETY: inputs `i..i + len` of the row.
                    let mask = unsafe { T::nonzero_mask(row.add(i), len) };
                    // Bit 4·g set where group g of the 16 inputs has a value not 0.
                    let any = mask | mask >> 1 | mask >> 2 | mask >> 3;
                    let group = (i - first) / BATCH_ROWS;
                    for g in 0..len.div_ceil(BATCH_ROWS) {
                        let (lists, count) = (&mut lists[group + g], &mut counts[group + g]);
                        lists[*count] = q as u8;
                        *count += usize::from(any >> (4 * g) & 1);
                    }
                    i += len;
                }
            }
            let mut j0 = 0;
            while j0 < n {
                let width = (GRADIENT_PANEL * per).min(n - j0);
                // SAFETY: columns `j0..j0 + width` of `dz` and `dw`, the block's samples
                // and groups; the lists hold sample offsets below `samples`.
                unsafe {
                    let args = GradientBlock {
                        x: x.add(p0 * x_rs),
                        x_rs,
                        m,
                        dz: dz.add(p0 * dz_rs + j0),
                        dz_rs,
                        width,
                        dw: dw.add(j0),
                        dw_rs,
                        first_group: g0,
                        lists: &lists[..block_groups],
                        counts: &counts[..block_groups],
                        accumulate: p0 > 0,
                    };
                    match width.div_ceil(per) {
                        1 => gradient_panel::<T, 1>(&args),
                        2 => gradient_panel::<T, 2>(&args),
                        3 => gradient_panel::<T, 3>(&args),
                        _ => gradient_panel::<T, 4>(&args),
                    }
                }
                j0 += width;
            }
        }
    }
}

/// One block of samples by one panel of output columns for [`gradient_panel`]: `x`
/// and `dz` start at the block's first sample (and `dz`, `dw` at the panel's first
/// column); group `first_group + g` (inputs `4·(first_group + g)..`) visits the
/// samples `lists[g][..counts[g]]`.
struct GradientBlock<'a, T> {
    x: *const T,
    x_rs: usize,
    m: usize,
    dz: *const T,
    dz_rs: usize,
    width: usize,
    dw: *mut T,
    dw_rs: usize,
    first_group: usize,
    lists: &'a [[u8; GRADIENT_SAMPLES]],
    counts: &'a [usize],
    /// Add to `dw` (a later block of samples) rather than overwrite it.
    accumulate: bool,
}

/// One panel of `width` (at most `V` registers of) output columns, for every group of
/// the block.
///
/// # Safety
/// As [`weight_gradient`], for the block's pointers.
#[inline(always)]
unsafe fn gradient_panel<T: Float, const V: usize>(block: &GradientBlock<'_, T>) {
    let per = T::PER_REGISTER;
    let last = block.width - (V - 1) * per;
    for (g, (list, &count)) in block.lists.iter().zip(block.counts).enumerate() {
        let i0 = (block.first_group + g) * BATCH_ROWS;
        let rows = BATCH_ROWS.min(block.m - i0);
        // SAFETY (the block): inputs `i0..i0 + rows` of the listed samples, columns
        // `0..width` of `dz` and `dw`, all inside what the caller vouched for.
        unsafe {
            let mut acc = [[T::v_zero(); V]; BATCH_ROWS];
            for &q in &list[..count] {
                let q = usize::from(q);
                let xs = block.x.add(q * block.x_rs + i0);
                let d = block.dz.add(q * block.dz_rs);
                let mut b = [T::v_zero(); V];
                for (v, b) in b.iter_mut().enumerate() {
                    *b = if v + 1 < V {
                        T::v_load(d.add(v * per))
                    } else {
                        T::v_load_first(d.add(v * per), last)
                    };
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = T::v_splat(if r < rows { *xs.add(r) } else { T::zero() });
                    for (acc, &b) in acc.iter_mut().zip(&b) {
                        *acc = T::v_mul_add(a, b, *acc);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let out = block.dw.add((i0 + r) * block.dw_rs);
                for (v, &acc) in acc.iter().enumerate() {
                    let count = if v + 1 < V { per } else { last };
                    let at = out.add(v * per);
                    let value = if block.accumulate {
                        T::v_add(acc, T::v_load_first(at, count))
                    } else {
                        acc
                    };
                    T::v_store_first(at, value, count);
                }
            }
        }
    }
}

/// `C (+)= A·B` for the backward pass's products: `A` is `m × k` with any strides
/// (element `(i, p)` at `a + i·a_rs + p·a_cs`, so a transposed view costs nothing), `B`
/// is `k × n` with contiguous rows `b_rs` apart, `C` is `m × n` with element `(i, j)` at
/// `c + i·c_rs + j·c_cs` (vector stores where `c_cs` is 1). Four rows of `A` by up to
/// four registers of columns stay in registers over the whole inner product.
///
/// # Safety
/// The CPU has AVX-512F/VL/BW/DQ and FMA; the pointers are valid for the elements
/// named.
#[allow(clippy::too_many_arguments, reason = "a kernel's pointers and strides")]
#[target_feature(enable = "avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")]
pub(crate) unsafe fn product<T: Float>(
    (a, a_rs, a_cs): (*const T, isize, isize),
    (b, b_rs): (*const T, isize),
    (c, c_rs, c_cs): (*mut T, isize, isize),
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
) {
    let per = T::PER_REGISTER;
    let mut j0 = 0;
    while j0 < n {
        let width = (GRADIENT_PANEL * per).min(n - j0);
        // SAFETY: columns `j0..j0 + width` of `B` and `C`.
        unsafe {
            let args = ProductPanel {
                a: (a, a_rs, a_cs),
                b: (b.add(j0), b_rs),
                c: (c.offset(j0 as isize * c_cs), c_rs, c_cs),
                m,
                k,
                width,
                accumulate,
            };
            match width.div_ceil(per) {
                1 => product_panel::<T, 1>(&args),
                2 => product_panel::<T, 2>(&args),
                3 => product_panel::<T, 3>(&args),
                _ => product_panel::<T, 4>(&args),
            }
        }
        j0 += width;
    }
}

/// One panel of [`product`]: `width` columns from the panel's first.
struct ProductPanel<T> {
    a: (*const T, isize, isize),
    b: (*const T, isize),
    c: (*mut T, isize, isize),
    m: usize,
    k: usize,
    width: usize,
    accumulate: bool,
}

/// # Safety
/// As [`product`], for the panel's pointers.
#[inline(always)]
unsafe fn product_panel<T: Float, const V: usize>(panel: &ProductPanel<T>) {
    let per = T::PER_REGISTER;
    let last = panel.width - (V - 1) * per;
    let ((a, a_rs, a_cs), (b, b_rs), (c, c_rs, c_cs)) = (panel.a, panel.b, panel.c);
    let mut i0 = 0;
    while i0 < panel.m {
        let rows = BATCH_ROWS.min(panel.m - i0);
        // SAFETY (the block): rows `i0..i0 + rows` of `A` and `C`, every column of
        // `A`, the panel's columns of `B` and `C`.
        unsafe {
            let mut acc = [[T::v_zero(); V]; BATCH_ROWS];
            let rows_a: [*const T; BATCH_ROWS] =
                std::array::from_fn(|r| a.offset((i0 + r.min(rows - 1)) as isize * a_rs));
            for p in 0..panel.k as isize {
                let row = b.offset(p * b_rs);
                let mut bv = [T::v_zero(); V];
                for (v, bv) in bv.iter_mut().enumerate() {
                    *bv = if v + 1 < V {
                        T::v_load(row.add(v * per))
                    } else {
                        T::v_load_first(row.add(v * per), last)
                    };
                }
                for (r, acc) in acc.iter_mut().enumerate() {
                    let x = T::v_splat(*rows_a[r].offset(p * a_cs));
                    for (acc, &bv) in acc.iter_mut().zip(&bv) {
                        *acc = T::v_mul_add(x, bv, *acc);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate().take(rows) {
                let out = c.offset((i0 + r) as isize * c_rs);
                for (v, &acc) in acc.iter().enumerate() {
                    let count = if v + 1 < V { per } else { last };
                    if c_cs == 1 {
                        let at = out.add(v * per);
                        let value = if panel.accumulate {
                            T::v_add(acc, T::v_load_first(at, count))
                        } else {
                            acc
                        };
                        T::v_store_first(at, value, count);
                    } else {
                        let mut lanes = [T::zero(); 16];
                        T::v_store_first(lanes.as_mut_ptr(), acc, count);
                        for (l, &value) in lanes.iter().enumerate().take(count) {
                            let at = out.offset((v * per + l) as isize * c_cs);
                            *at = if panel.accumulate { *at + value } else { value };
                        }
                    }
                }
            }
        }
        i0 += rows;
    }
}
