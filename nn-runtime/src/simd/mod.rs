//! Run-time dispatch on the CPU's vector units, so that a plain `cargo build --release`
//! (target x86-64, SSE2 only) still runs AVX-512 or AVX2+FMA code where the CPU has it.
//!
//! With AVX-512 the hand-written kernels of `avx512.rs` run. Otherwise each kernel is
//! an `#[inline(always)]` generic body, which a thin wrapper compiles with
//! `#[target_feature]` for AVX2+FMA; the entry point picks the wrapper or the baseline
//! after asking the CPU (std caches the answer). `FMA` selects fused multiply-adds,
//! which without the feature would be a slow library call.

use std::mem::MaybeUninit;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::{Activation, Float};

#[cfg(target_arch = "x86_64")]
mod avx512;

#[cfg(target_arch = "x86_64")]
pub use avx512::Lanes;
#[cfg(target_arch = "x86_64")]
mod conv_avx2;
#[cfg(target_arch = "x86_64")]
pub use conv_avx2::Ymm;
#[cfg(target_arch = "x86_64")]
mod conv_sparse;

/// What the AVX2 convolution needs of an element type; nothing off x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub trait Ymm {}
#[cfg(not(target_arch = "x86_64"))]
impl Ymm for f32 {}
#[cfg(not(target_arch = "x86_64"))]
impl Ymm for f64 {}

/// What the AVX-512 kernels need of an element type; nothing off x86-64.
#[cfg(not(target_arch = "x86_64"))]
pub trait Lanes {}
#[cfg(not(target_arch = "x86_64"))]
impl Lanes for f32 {}
#[cfg(not(target_arch = "x86_64"))]
impl Lanes for f64 {}

/// The best vector instructions this CPU offers, of those we compile for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// AVX-512F/VL/BW/DQ with FMA: the kernels of `avx512.rs`.
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
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f")
            && has!("avx512vl")
            && has!("avx512bw")
            && has!("avx512dq")
            && has!("fma")
        {
            return Level::Avx512;
        }
        if has!("avx2") && has!("fma") {
            return Level::Avx2;
        }
    }
    Level::Baseline
}

/// Declares `$name`, which runs `$body::<.., FMA>` compiled for AVX2+FMA where the CPU
/// has them (AVX-512 CPUs included), for the baseline elsewhere. The wrapper is `unsafe`
/// only because of `#[target_feature]`; it is called after `level()` has confirmed the
/// features, which is all it requires.
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
                #[target_feature(enable = "avx2,fma")]
                fn avx2<$($g: $bound,)* $(const $c: usize,)*>($($arg: $ty),*) $(-> $ret)? {
                    $body::<$($g,)* $($c,)* true>($($arg),*)
                }
                if level() != Level::Baseline {
                    // SAFETY: `level()` found AVX2 and FMA, the features `avx2` needs.
                    return unsafe { avx2::<$($g,)* $($c,)*>($($arg),*) };
                }
            }
            $body::<$($g,)* $($c,)* false>($($arg),*)
        }
    };
}

mod conv;
mod gemm;
mod pool;

pub(crate) use conv::ConvGeometry;
use conv::conv_body;
use gemm::gemm_body;
pub(crate) use pool::PoolGeometry;
use pool::max_pool_body;

/// `C = A·B`, or `C += A·B` with `accumulate`, for the backward pass: `A` with any
/// strides, `B` with contiguous rows, `C` with any strides. With AVX-512 the kernel of
/// `avx512.rs`; elsewhere [`gemm`].
///
/// # Panics
/// If the shapes disagree or `B`'s rows are not contiguous.
pub(crate) fn product<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    accumulate: bool,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "product: {:?} · {:?} into {:?}",
        a.dim(),
        b.dim(),
        c.dim()
    );
    #[cfg(target_arch = "x86_64")]
    if has_avx512() && (n <= 1 || b.strides()[1] == 1) && m > 0 && n > 0 {
        let (a_s, b_s) = (a.strides(), b.strides());
        let c_s = [c.strides()[0], c.strides()[1]];
        // SAFETY: `has_avx512()` found the features; every element `(i, p)` of `A`,
        // `(p, j)` of `B` and `(i, j)` of `C` the kernel touches is inside its view, at
        // the view's pointer plus the strides (in elements) times the indices.
        unsafe {
            avx512::product(
                (a.as_ptr(), a_s[0], a_s[1]),
                (b.as_ptr(), b_s[0]),
                (c.as_mut_ptr(), c_s[0], c_s[1]),
                (m, k, n),
                accumulate,
            );
        }
        return;
    }
    gemm(a, b, c, accumulate, false);
}

dispatch! {
    /// `C = A·B`, or `C += A·B` with `accumulate` (`B`'s rows contiguous); steps where
    /// a tile's values of `A` are all 0 are skipped with `skip_zeros`.
    fn gemm<T: Float;>(
        a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, c: ArrayViewMut2<'_, T>, accumulate: bool, skip_zeros: bool
    ) => gemm_body
}

/// `dW = xᵀ·dz`, overwritten: the weight gradient of an affine layer for a batch (`x`
/// of `k × m`, `dz` of `k × n`, `dw` of `m × n`). With AVX-512 the kernel of
/// `avx512.rs`, which skips the samples whose inputs are 0 four at a time; elsewhere
/// [`gemm`].
///
/// # Panics
/// If the shapes disagree.
pub(crate) fn weight_gradient<T: Float>(
    x: ArrayView2<'_, T>,
    dz: ArrayView2<'_, T>,
    mut dw: ArrayViewMut2<'_, T>,
) {
    let ((k, m), n) = (x.dim(), dz.ncols());
    assert!(
        dz.nrows() == k && dw.dim() == (m, n),
        "weight gradient: x {:?}, dz {:?}, dW {:?}",
        x.dim(),
        dz.dim(),
        dw.dim()
    );
    #[cfg(target_arch = "x86_64")]
    {
        let row_major = |strides: &[isize]| strides[1] == 1 && strides[0] >= 0;
        if has_avx512()
            && row_major(x.strides())
            && row_major(dz.strides())
            && row_major(dw.strides())
        {
            let (x_rs, dz_rs, dw_rs) = (
                x.strides()[0].unsigned_abs(),
                dz.strides()[0].unsigned_abs(),
                dw.strides()[0].unsigned_abs(),
            );
            // SAFETY: `has_avx512()` found the features; the three views are row-major
            // with the shapes checked above and non-negative row strides, so every row
            // `r` and column `c` the kernel touches is at `ptr + r·rs + c` inside them.
            unsafe {
                avx512::weight_gradient(
                    x.as_ptr(),
                    x_rs,
                    k,
                    m,
                    dz.as_ptr(),
                    dz_rs,
                    n,
                    dw.as_mut_ptr(),
                    dw_rs,
                );
            }
            return;
        }
    }
    gemm(x.t(), dz, dw, false, true);
}

dispatch! {
    /// One output row of a 2×2, stride-2 max-pool's backward pass: each gradient of
    /// `gs` goes to the first of its window's four inputs (from the rows `top` and
    /// `bottom`) that equals the window's maximum `ys`.
    fn pool_backward_2x2<T: Float;>(
        top: &[T], bottom: &[T], ys: &[T], gs: &[T], dtop: &mut [T], dbottom: &mut [T]
    ) => pool_backward_2x2_body
}

/// See [`pool_backward_2x2`]: branchless, so that the loop vectorises.
#[inline(always)]
fn pool_backward_2x2_body<T: Float, const FMA: bool>(
    top: &[T],
    bottom: &[T],
    ys: &[T],
    gs: &[T],
    dtop: &mut [T],
    dbottom: &mut [T],
) {
    let n = ys.len().min(gs.len());
    let (top, bottom) = (&top[..2 * n], &bottom[..2 * n]);
    let (dtop, dbottom) = (&mut dtop[..2 * n], &mut dbottom[..2 * n]);
    let zero = T::zero();
    for j in 0..n {
        let (m, g) = (ys[j], gs[j]);
        let first = top[2 * j] == m;
        let second = !first & (top[2 * j + 1] == m);
        let third = !first & !second & (bottom[2 * j] == m);
        let fourth = !(first | second | third);
        dtop[2 * j] = if first { g } else { zero };
        dtop[2 * j + 1] = if second { g } else { zero };
        dbottom[2 * j] = if third { g } else { zero };
        dbottom[2 * j + 1] = if fourth { g } else { zero };
    }
}

dispatch! {
    /// `y = b + W ⊛ x` for one sample (no activation), with the packed weights of
    /// [`conv::pack`]; input rows that are all 0 are skipped with `skip_zeros`.
    fn conv<T: Float;>(
        g: &ConvGeometry, packed: &[T], bias: &[T], x: &[T], y: &mut [T], skip_zeros: bool
    ) => conv_body
}

/// The weights of a convolution packed for the kernels: [`conv::pack`]'s blocks of
/// filters, and each tap's filters side by side for the sparse kernel.
pub(crate) struct ConvWeights<T> {
    pub(crate) packed: Box<[T]>,
    pub(crate) by_tap: Box<[T]>,
}

impl<T: Float> ConvWeights<T> {
    /// `weight` in OIHW order.
    pub(crate) fn new(g: &ConvGeometry, weight: &[T]) -> Self {
        #[cfg(target_arch = "x86_64")]
        let by_tap = conv_sparse::pack_by_tap(g, weight);
        #[cfg(not(target_arch = "x86_64"))]
        let by_tap = Box::default();
        Self {
            packed: conv::pack(g, weight),
            by_tap,
        }
    }

    /// Packs `weight` (OIHW) again in place, without allocating.
    pub(crate) fn repack(&mut self, g: &ConvGeometry, weight: &[T]) {
        conv::pack_into(g, weight, &mut self.packed);
        #[cfg(target_arch = "x86_64")]
        conv_sparse::pack_by_tap_into(g, weight, &mut self.by_tap);
    }
}

impl<T: Clone> Clone for ConvWeights<T> {
    fn clone(&self) -> Self {
        Self {
            packed: self.packed.clone(),
            by_tap: self.by_tap.clone(),
        }
    }
}

/// `y` as memory to write: every kernel that takes it writes only initialised values.
pub(crate) fn as_uninit<T: Float>(y: &mut [T]) -> &mut [MaybeUninit<T>] {
    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and the callers (the kernels of this
    // module) write only initialised values through it.
    unsafe { &mut *(std::ptr::from_mut(y) as *mut [MaybeUninit<T>]) }
}

/// `y` once every element has been written.
///
/// # Safety
///
/// Every element of `y` is initialised.
pub(crate) unsafe fn assume_init<T: Float>(y: &mut [MaybeUninit<T>]) -> &mut [T] {
    // SAFETY: as the caller guarantees; the layouts are the same.
    unsafe { &mut *(std::ptr::from_mut(y) as *mut [T]) }
}

/// `y = act(b + W ⊛ x)` for one sample, `y` all written (it need not be initialised);
/// input values that are 0 may be skipped with
/// `skip_zeros` (every weight is finite). Stride-1 convolutions on a CPU with AVX2 and
/// FMA take the hand-written kernels: `conv_sparse.rs` where few input values are not
/// 0, `conv_avx2.rs` otherwise.
#[inline]
pub(crate) fn conv_activated<T: Float>(
    g: &ConvGeometry,
    weights: &ConvWeights<T>,
    bias: &[T],
    x: &[T],
    y: &mut [MaybeUninit<T>],
    skip_zeros: bool,
    activation: Activation<T>,
) {
    let packed = &weights.packed;
    #[cfg(target_arch = "x86_64")]
    if level() != Level::Baseline && skip_zeros && conv_sparse::takes::<T>(g) {
        let mut list = [const { MaybeUninit::uninit() }; conv_sparse::LIST];
        // SAFETY: `level()` found AVX2.
        let list = unsafe { conv_sparse::nonzeros(g, x, &mut list) };
        if conv_sparse::pays::<T>(g, list.len()) {
            // SAFETY: `level()` found AVX2 and FMA; `takes` holds; `skip_zeros` means
            // every weight is finite; the kernel checks the slices' lengths.
            unsafe {
                conv_sparse::conv(g, &weights.by_tap, bias, x, list, y, activation);
            }
            return;
        }
    }
    #[cfg(target_arch = "x86_64")]
    if level() != Level::Baseline && conv_avx2::takes::<T>(g) {
        // SAFETY: `level()` found AVX2 and FMA (and AVX-512 for `conv_wide`); `takes`
        // holds; the callers (`Conv2d`) pass slices of the geometry's lengths, which
        // the kernel checks again.
        unsafe {
            if has_avx512() {
                conv_avx2::conv_wide(g, packed, bias, x, y, skip_zeros, activation);
            } else {
                conv_avx2::conv(g, packed, bias, x, y, skip_zeros, activation);
            }
        }
        return;
    }
    for v in y.iter_mut() {
        v.write(T::zero());
    }
    // SAFETY: written just above.
    let y = unsafe { assume_init(y) };
    conv(g, packed, bias, x, y, skip_zeros);
    activation.apply_in_place(y);
}

dispatch! {
    /// Max pooling of one sample.
    fn max_pool<T: Float;>(g: &PoolGeometry, x: &[T], y: &mut [T]) => max_pool_body
}

/// [`max_pool`] into `y`, which is all written (it need not be initialised).
pub(crate) fn max_pool_uninit<T: Float>(g: &PoolGeometry, x: &[T], y: &mut [MaybeUninit<T>]) {
    assert!(x.len() == g.c * g.h * g.w && y.len() == g.c * g.oh * g.ow);
    #[cfg(target_arch = "x86_64")]
    if level() != Level::Baseline && size_of::<T>() == 4 && pool::is_2x2(g) {
        // SAFETY: `level()` found AVX2; `T` is `f32`, the only 4-byte `Float`; the
        // lengths are checked above, and the kernel writes every output.
        unsafe { pool::pool_2x2_f32(g, x.as_ptr().cast(), y.as_mut_ptr().cast()) };
        return;
    }
    for v in y.iter_mut() {
        v.write(T::zero());
    }
    // SAFETY: written just above.
    max_pool(g, x, unsafe { assume_init(y) });
}

/// Whether this CPU runs the hand-written AVX-512 kernels of `avx512.rs`.
#[inline]
fn has_avx512() -> bool {
    level() == Level::Avx512
}

/// `act(x·W + b)` for one sample. `weight` holds `IN` rows of `OUT` values `stride`
/// apart, `stride` being `OUT` rounded up to 64 bytes and the padding zero; with
/// `skip_zeros` (every weight is finite), inputs that are 0 may be skipped.
#[inline]
pub(crate) fn affine_single<T: Float, const IN: usize, const OUT: usize>(
    weight: &[T],
    stride: usize,
    bias: &[T; OUT],
    x: &[T; IN],
    activation: Activation<T>,
    skip_zeros: bool,
) -> [T; OUT] {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        let w = avx512_weights(weight, stride, IN, OUT);
        // SAFETY: the CPU has the features (`has_avx512`), and `avx512_weights` checked
        // the layout of `W` the kernel reads.
        return unsafe { avx512::affine_single(w, bias, x, activation, skip_zeros) };
    }
    affine_single_portable(weight, stride, bias, x, activation, skip_zeros)
}

/// `out ← act(x·W + b)` for a batch, one sample per row of `x` (`out` row-major, `x`'s
/// rows of `weight`'s inputs). Returns `false`, with `out` untouched, where this CPU has
/// no kernel better than a GEMM followed by [`bias_activation`].
pub(crate) fn affine_rows<T: Float>(
    weight: &[T],
    stride: usize,
    bias: &[T],
    x: ArrayView2<'_, T>,
    out: &mut [T],
    activation: Activation<T>,
    skip_zeros: bool,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if has_avx512() {
        let (rows, inputs) = x.dim();
        assert_eq!(
            out.len(),
            rows * bias.len(),
            "one row of outputs per sample"
        );
        let w = avx512_weights(weight, stride, inputs, bias.len());
        // The kernel reads each sample as one contiguous row.
        let x = if x.strides()[1] == 1 && x.strides()[0] >= 0 {
            ndarray::CowArray::from(x)
        } else {
            x.as_standard_layout()
        };
        let x_stride = usize::try_from(x.strides()[0]).expect("rows go forwards");
        // SAFETY: the features are there (`has_avx512`), `avx512_weights` checked `W`,
        // `out` has room for every row, and `x` holds `rows` samples `x_stride` apart,
        // each `inputs` contiguous elements.
        unsafe {
            avx512::affine_rows(
                w,
                bias,
                x.as_ptr(),
                x_stride,
                inputs,
                out,
                activation,
                skip_zeros,
            );
        }
        return true;
    }
    let _ = (weight, stride, bias, x, out, activation, skip_zeros);
    false
}

/// `weight` as the AVX-512 kernels read it, after checking what they rely on: rows
/// `stride` apart, whole registers long (the padding past `outputs` is read, and is 0).
#[cfg(target_arch = "x86_64")]
fn avx512_weights<T: Float>(
    weight: &[T],
    stride: usize,
    inputs: usize,
    outputs: usize,
) -> avx512::Weights<T> {
    assert!(
        stride.is_multiple_of(T::PER_REGISTER)
            && stride >= outputs
            && weight.len() >= inputs * stride,
        "weights are rows of whole registers"
    );
    avx512::Weights {
        ptr: weight.as_ptr(),
        stride,
    }
}

dispatch! {
    /// `act(x·W + b)` for one sample, `W` row-major `[IN, OUT]`, with the generic body.
    fn affine_single_portable<T: Float; const IN: usize, const OUT: usize>(
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

    const ACTIVATIONS: [Activation<f32>; 6] = [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::Tanh,
        Activation::Softmax,
    ];

    fn random(n: usize, rng: &mut InitRng) -> Vec<f32> {
        (0..n).map(|_| rng.normal() as f32).collect()
    }

    /// `weight` (`inputs × outputs`, row-major) laid out as `Affine` keeps it: rows
    /// padded with zeros to 64 bytes. Returns the rows and their stride.
    fn padded<T: Float>(weight: &[T], outputs: usize) -> (Vec<T>, usize) {
        let lanes = 64 / size_of::<T>();
        let stride = outputs.div_ceil(lanes) * lanes;
        let mut rows = vec![T::zero(); weight.len() / outputs * stride];
        for (row, w) in rows
            .chunks_exact_mut(stride)
            .zip(weight.chunks_exact(outputs))
        {
            row[..outputs].copy_from_slice(w);
        }
        (rows, stride)
    }

    /// `act(x·W + b)` in `f64`, one multiply and one add at a time.
    fn reference(weight: &[f32], bias: &[f32], x: &[f32], activation: Activation<f32>) -> Vec<f32> {
        let outputs = bias.len();
        let mut y: Vec<f64> = bias.iter().map(|&b| f64::from(b)).collect();
        for (xi, row) in x.iter().zip(weight.chunks_exact(outputs)) {
            for (y, w) in y.iter_mut().zip(row) {
                *y += f64::from(*xi) * f64::from(*w);
            }
        }
        let mut y: Vec<f32> = y.iter().map(|&v| v as f32).collect();
        activation.apply_in_place(&mut y);
        y
    }

    fn assert_close(fast: &[f32], plain: &[f32], what: &str) {
        for (k, (a, b)) in fast.iter().zip(plain).enumerate() {
            assert!(
                (a - b).abs() <= 2e-5 * b.abs().max(1.0),
                "{what}, output {k}: {a} vs {b}"
            );
        }
    }

    /// Inputs that are mostly 0, as in an image, with a few negative zeros.
    fn sparse_input(n: usize, rng: &mut InitRng) -> Vec<f32> {
        (0..n)
            .map(|i| match i % 7 {
                0 | 3 => rng.normal() as f32,
                5 => -0.0,
                _ => 0.0,
            })
            .collect()
    }

    /// The kernels this CPU runs (AVX-512, and the generic body with AVX2's fused
    /// multiply-adds) agree with the baseline body, which rounds after each multiply and each add, and with an
    /// `f64` reference: on dense and on mostly-zero inputs, with and without skipping.
    #[test]
    fn the_dispatched_single_sample_kernel_agrees_with_the_baseline() {
        let mut rng = InitRng::new(11);
        let (weight, bias) = (random(37 * 23, &mut rng), random(23, &mut rng));
        let (rows, stride) = padded(&weight, 23);
        let bias: [f32; 23] = bias.try_into().expect("23 values");
        for x in [random(37, &mut rng), sparse_input(37, &mut rng)] {
            let x: [f32; 37] = x.try_into().expect("37 values");
            for activation in ACTIVATIONS {
                let plain = affine_single_body::<f32, 37, 23, false>(
                    &rows, stride, &bias, &x, activation, false,
                );
                assert_close(
                    &plain,
                    &reference(&weight, &bias, &x, activation),
                    "baseline",
                );
                for skip_zeros in [false, true] {
                    let fast = affine_single(&rows, stride, &bias, &x, activation, skip_zeros);
                    assert_close(&fast, &plain, &format!("{activation}, skip {skip_zeros}"));
                    // The generic body as AVX2 CPUs run it (AVX-512 CPUs have AVX2 too).
                    let portable =
                        affine_single_portable(&rows, stride, &bias, &x, activation, skip_zeros);
                    assert_close(&portable, &plain, &format!("{activation}, portable"));
                }
            }
        }
        println!(
            "dispatch level on this machine: {:?}, AVX-512 kernels: {}",
            level(),
            has_avx512()
        );
    }

    /// The sizes where the kernels change course: more inputs than one list of indices
    /// holds (1024), more outputs than one panel of registers (128 `f32` for one sample,
    /// 64 for four), sizes that are not whole registers, and batches whose last block
    /// has 1, 2 or 3 samples.
    #[test]
    fn batches_and_big_layers_agree_with_the_reference() {
        let mut rng = InitRng::new(3);
        for (inputs, outputs) in [(1, 1), (5, 16), (17, 17), (1100, 3), (40, 130), (2100, 70)] {
            // Xavier's scale keeps the sums near 1, where 2e-5 is well above rounding.
            let scale = (inputs as f32).sqrt().recip();
            let weight: Vec<f32> = random(inputs * outputs, &mut rng)
                .iter()
                .map(|w| w * scale)
                .collect();
            let bias = random(outputs, &mut rng);
            let (rows, stride) = padded(&weight, outputs);
            for samples in [1, 2, 3, 4, 5, 7, 9] {
                let mut x = Vec::new();
                for s in 0..samples {
                    // Alternate dense and mostly-zero samples in one batch.
                    x.extend(if s % 2 == 0 {
                        random(inputs, &mut rng)
                    } else {
                        sparse_input(inputs, &mut rng)
                    });
                }
                let x = ndarray::Array2::from_shape_vec((samples, inputs), x)
                    .expect("samples × inputs");
                for activation in [Activation::Identity, Activation::Softmax] {
                    let mut out = vec![f32::NAN; samples * outputs];
                    if !affine_rows(&rows, stride, &bias, x.view(), &mut out, activation, true) {
                        gemm_free_rows(&rows, stride, &bias, x.view(), &mut out, activation);
                    }
                    for (s, got) in out.chunks_exact(outputs).enumerate() {
                        let want = reference(
                            &weight,
                            &bias,
                            x.row(s).as_slice().expect("a row"),
                            activation,
                        );
                        assert_close(
                            got,
                            &want,
                            &format!("{inputs}→{outputs}, sample {s} of {samples}, {activation}"),
                        );
                    }
                }
            }
        }
    }

    /// Where this CPU has no batch kernel, the test above checks the reference against
    /// itself through this stand-in, so it still runs everywhere.
    fn gemm_free_rows(
        rows: &[f32],
        stride: usize,
        bias: &[f32],
        x: ArrayView2<'_, f32>,
        out: &mut [f32],
        activation: Activation<f32>,
    ) {
        let outputs = bias.len();
        for (sample, y) in x.rows().into_iter().zip(out.chunks_exact_mut(outputs)) {
            y.copy_from_slice(bias);
            for (xi, row) in sample.iter().zip(rows.chunks_exact(stride)) {
                for (y, w) in y.iter_mut().zip(row) {
                    *y += xi * w;
                }
            }
            activation.apply_in_place(y);
        }
    }

    /// Skipping inputs that are 0 changes no bit of a batch's results (each sample
    /// adds its terms in the order of the inputs, into one accumulator per output), and
    /// at most the rounding of one sample's (whose sets of accumulators take the inputs
    /// visited in turn). A row of `W` is read if any sample of the block needs it.
    #[test]
    fn skipping_zero_inputs_is_exact() {
        let mut rng = InitRng::new(5);
        let weight = random(64 * 19, &mut rng);
        let (rows, stride) = padded(&weight, 19);
        let bias: [f32; 19] = random(19, &mut rng).try_into().expect("19 values");
        let mut x = [0.0_f32; 64];
        for i in [3, 17, 18, 40, 63] {
            x[i] = rng.normal() as f32;
        }
        x[9] = -0.0;
        for activation in ACTIVATIONS {
            let skipped = affine_single(&rows, stride, &bias, &x, activation, true);
            let full = affine_single(&rows, stride, &bias, &x, activation, false);
            assert_close(&skipped, &full, &format!("{activation}"));

            // The sample in a block of four, then alone in the last block.
            for (samples, at) in [(6, 2), (5, 4)] {
                let batch =
                    ndarray::Array2::from_shape_fn(
                        (samples, 64),
                        |(s, i)| {
                            if s == at { x[i] } else { 0.0 }
                        },
                    );
                let run = |skip_zeros| {
                    let mut out = vec![0.0_f32; samples * 19];
                    let kernel = affine_rows(
                        &rows,
                        stride,
                        &bias,
                        batch.view(),
                        &mut out,
                        activation,
                        skip_zeros,
                    );
                    kernel.then(|| out.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                };
                assert_eq!(run(true), run(false), "{activation}, {samples} samples");
            }
        }
    }

    /// A sample's result in a batch does not depend on the batch: alone, or in a block
    /// of four beside samples that are dense, mostly 0 or all 0, it is the same to the
    /// bit.
    #[test]
    fn a_sample_gives_the_same_bits_in_any_batch() {
        let mut rng = InitRng::new(17);
        let (inputs, outputs) = (100, 30);
        let weight = random(inputs * outputs, &mut rng);
        let (rows, stride) = padded(&weight, outputs);
        let bias = random(outputs, &mut rng);
        let samples = 9;
        let batch = ndarray::Array2::from_shape_fn((samples, inputs), |(s, i)| match s % 3 {
            0 => ((s * 31 + i * 7) % 13) as f32 / 13.0 - 0.5,
            1 if i % 5 == 0 => ((s + i) % 7) as f32 - 3.0,
            _ => 0.0,
        });
        let run = |x: ArrayView2<'_, f32>| {
            let mut out = vec![0.0_f32; x.nrows() * outputs];
            affine_rows(
                &rows,
                stride,
                &bias,
                x,
                &mut out,
                Activation::Identity,
                true,
            )
            .then(|| out.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
        };
        let Some(together) = run(batch.view()) else {
            return; // No batch kernel on this CPU: the GEMM is outside this test.
        };
        for s in 0..samples {
            let alone = run(batch.slice(ndarray::s![s..s + 1, ..])).expect("the same CPU");
            assert_eq!(
                alone[..],
                together[s * outputs..(s + 1) * outputs],
                "sample {s}"
            );
        }
    }

    /// An input that is NaN or infinite is visited, never skipped: its NaN reaches
    /// every output, as it does in numpy.
    #[test]
    fn a_nan_input_is_not_skipped() {
        let mut rng = InitRng::new(8);
        let weight = random(20 * 5, &mut rng);
        let (rows, stride) = padded(&weight, 5);
        let mut x = [0.0_f32; 20];
        x[13] = f32::NAN;
        let y = affine_single(&rows, stride, &[0.0; 5], &x, Activation::Identity, true);
        assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
        let batch =
            ndarray::Array2::from_shape_fn((5, 20), |(s, i)| if s == 4 { x[i] } else { 0.0 });
        let mut out = vec![0.0; 25];
        if affine_rows(
            &rows,
            stride,
            &[0.0; 5],
            batch.view(),
            &mut out,
            Activation::Identity,
            true,
        ) {
            assert!(out[..20].iter().all(|&v| v == 0.0) && out[20..].iter().all(|v| v.is_nan()));
        }
    }

    /// The `f64` kernels: 8 lanes a register, and a mask built from two registers.
    #[test]
    fn f64_kernels_agree_with_the_baseline() {
        let mut rng = InitRng::new(21);
        let weight: Vec<f64> = (0..33 * 21).map(|_| rng.normal()).collect();
        let (rows, stride) = padded(&weight, 21);
        let bias: [f64; 21] = std::array::from_fn(|_| rng.normal());
        let x: [f64; 33] = std::array::from_fn(|i| if i % 3 == 0 { rng.normal() } else { 0.0 });
        let plain = affine_single_body::<f64, 33, 21, false>(
            &rows,
            stride,
            &bias,
            &x,
            Activation::Tanh,
            false,
        );
        let fast = affine_single(&rows, stride, &bias, &x, Activation::Tanh, true);
        for (a, b) in fast.iter().zip(&plain) {
            assert!((a - b).abs() < 1e-12, "{fast:?} vs {plain:?}");
        }
        let batch = ndarray::Array2::from_shape_fn((3, 33), |(s, i)| x[i] * (s + 1) as f64);
        let mut out = vec![0.0; 3 * 21];
        if affine_rows(
            &rows,
            stride,
            &bias,
            batch.view(),
            &mut out,
            Activation::Identity,
            true,
        ) {
            for s in 0..3 {
                let xs: [f64; 33] = std::array::from_fn(|i| batch[[s, i]]);
                let want = affine_single_body::<f64, 33, 21, false>(
                    &rows,
                    stride,
                    &bias,
                    &xs,
                    Activation::Identity,
                    false,
                );
                for (a, b) in out[s * 21..(s + 1) * 21].iter().zip(&want) {
                    assert!((a - b).abs() < 1e-12, "sample {s}");
                }
            }
        }
    }

    #[test]
    fn bias_activation_agrees_with_the_baseline() {
        let mut rng = InitRng::new(12);
        let bias: [f32; 23] = random(23, &mut rng).try_into().expect("23 values");
        for activation in ACTIVATIONS {
            let mut rows = random(5 * 23, &mut rng);
            let mut plain_rows = rows.clone();
            bias_activation(&mut rows, &bias, activation);
            bias_activation_body::<f32, 23, false>(&mut plain_rows, &bias, activation);
            assert_close(&rows, &plain_rows, &format!("{activation}"));
        }
    }
}
