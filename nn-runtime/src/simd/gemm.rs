//! The matrix products of the backward pass, `C (+)= A·B`, register-blocked without
//! packing: `A` is read one element at a time (any strides, so a transposed view costs
//! nothing), `B` a row at a time (rows must be contiguous), `C` written once per tile
//! (any strides).
//!
//! The tile is `MR` rows by `NR` columns of accumulators; each step of the inner
//! product broadcasts `MR` values of `A` and multiplies them with one row segment of
//! `B`. With `skip_zeros`, steps where all `MR` values of `A` are 0 are skipped: in the
//! weight gradient `xᵀ·dy` of a layer fed with images, that is most of them (exactly:
//! an input of 0 contributes nothing, unless the gradient holds an infinity or NaN).

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Float;

/// Rows of `A` per tile.
const MR: usize = 4;
/// Columns of `B` per tile: two AVX2 registers of `f32`.
const NR: usize = 16;

/// `C = A·B`, or `C += A·B` with `accumulate`. `A` is `m × k`, `B` `k × n` with
/// contiguous rows, `C` `m × n`.
///
/// # Panics
/// If the shapes do not fit or `B`'s rows are not contiguous: callers guarantee both.
#[inline(always)]
pub(super) fn gemm_body<T: Float, const FMA: bool>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    accumulate: bool,
    skip_zeros: bool,
) {
    let (m, k) = a.dim();
    let n = b.ncols();
    assert!(
        b.nrows() == k && c.dim() == (m, n),
        "gemm: {m}x{k} · {}x{n} into {:?}",
        b.nrows(),
        c.dim()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c.fill(T::zero());
        }
        return;
    }
    assert!(
        n == 1 || b.strides()[1] == 1,
        "gemm: the rows of B must be contiguous"
    );
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let b_rs = b.strides()[0];
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    let (a_ptr, b_ptr, c_ptr) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
    for i0 in (0..m).step_by(MR) {
        let mr = MR.min(m - i0);
        for j0 in (0..n).step_by(NR) {
            let nr = NR.min(n - j0);
            // SAFETY: rows `i0..i0 + mr` of `A` and every column `0..k` are inside the
            // view (`i0 + mr <= m`), as are rows `0..k` and columns `j0..j0 + nr` of
            // `B`; `tile` reads nothing else.
            let acc = unsafe {
                let a_tile = a_ptr.offset(i0 as isize * a_rs);
                let b_tile = b_ptr.add(j0);
                if nr == NR {
                    tile::<T, FMA, true>(a_tile, a_rs, a_cs, mr, b_tile, b_rs, nr, k, skip_zeros)
                } else {
                    tile::<T, FMA, false>(a_tile, a_rs, a_cs, mr, b_tile, b_rs, nr, k, skip_zeros)
                }
            };
            for (r, acc) in acc.iter().enumerate().take(mr) {
                for (j, &v) in acc.iter().enumerate().take(nr) {
                    // SAFETY: `(i0 + r, j0 + j)` is inside `C` (`r < mr`, `j < nr`), which
                    // we borrow exclusively.
                    unsafe {
                        let at = c_ptr.offset((i0 + r) as isize * c_rs + (j0 + j) as isize * c_cs);
                        *at = if accumulate { *at + v } else { v };
                    }
                }
            }
        }
    }
}

/// One tile: `MR × NR` accumulators over the `k` steps of the inner product. Rows of
/// `A` past `mr` count as 0; with `FULL` false, columns of `B` past `nr` are not read.
///
/// # Safety
/// `a` points at row 0 of the tile in `A` (`mr` rows `a_rs` apart, `k` columns `a_cs`
/// apart) and `b` at column 0 of the tile in `B` (`k` rows `b_rs` apart, `nr` columns
/// contiguous, `nr == NR` when `FULL`), all readable.
#[allow(clippy::too_many_arguments, reason = "a kernel's strides and sizes")]
#[inline(always)]
unsafe fn tile<T: Float, const FMA: bool, const FULL: bool>(
    a: *const T,
    a_rs: isize,
    a_cs: isize,
    mr: usize,
    b: *const T,
    b_rs: isize,
    nr: usize,
    k: usize,
    skip_zeros: bool,
) -> [[T; NR]; MR] {
    let mut acc = [[T::zero(); NR]; MR];
    for p in 0..k {
        let mut av = [T::zero(); MR];
        for (r, av) in av.iter_mut().enumerate().take(mr) {
            // SAFETY: row `r < mr`, column `p < k` of the tile's rows of `A`.
            *av = unsafe { *a.offset(r as isize * a_rs + p as isize * a_cs) };
        }
        if skip_zeros && av.iter().all(|&v| v == T::zero()) {
            continue;
        }
        let mut bv = [T::zero(); NR];
        // SAFETY: row `p < k` of `B`, `nr` contiguous columns from the tile's first.
        let row = unsafe { std::slice::from_raw_parts(b.offset(p as isize * b_rs), nr) };
        if FULL {
            bv.copy_from_slice(row);
        } else {
            bv[..nr].copy_from_slice(row);
        }
        for (acc, &a) in acc.iter_mut().zip(&av) {
            for (acc, &b) in acc.iter_mut().zip(&bv) {
                *acc = if FMA {
                    a.mul_add(b, *acc)
                } else {
                    *acc + a * b
                };
            }
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, s};

    use super::*;

    fn reference(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            (0..a.ncols()).map(|p| a[[i, p]] * b[[p, j]]).sum()
        })
    }

    #[test]
    fn every_edge_and_layout_agrees_with_the_definition() {
        for (m, k, n) in [(1, 1, 1), (4, 3, 16), (5, 7, 17), (9, 2, 33), (3, 0, 5)] {
            let a = Array2::from_shape_fn((k, m), |(p, i)| ((p * 7 + i * 3) % 5) as f64 - 2.0);
            let b = Array2::from_shape_fn((k, n), |(p, j)| ((p * 5 + j) % 7) as f64 * 0.5);
            // `A` as a transposed view: strides (1, m).
            let expected = reference(&a.t().to_owned(), &b);
            for fma in [false, true] {
                let mut c = Array2::from_elem((m, n), 1.0);
                if fma {
                    gemm_body::<f64, true>(a.t(), b.view(), c.view_mut(), false, true);
                } else {
                    gemm_body::<f64, false>(a.t(), b.view(), c.view_mut(), false, false);
                }
                assert_eq!(c, expected, "{m}x{k}x{n}");
                // Accumulating into a transposed `C`.
                let mut ct = Array2::from_elem((n, m), 1.0);
                gemm_body::<f64, false>(a.t(), b.view(), ct.view_mut().reversed_axes(), true, true);
                assert_eq!(
                    ct.t(),
                    expected.mapv(|v| v + 1.0),
                    "{m}x{k}x{n} accumulated"
                );
            }
        }
    }

    #[test]
    fn a_strided_b_row_is_read_in_place() {
        let big = Array2::from_shape_fn((6, 40), |(p, j)| (p + j) as f64);
        let b = big.slice(s![..3, 1..20]);
        let a = Array2::from_shape_fn((2, 3), |(i, p)| (i + 2 * p) as f64);
        let mut c = Array2::zeros((2, 19));
        gemm_body::<f64, true>(a.view(), b, c.view_mut(), false, false);
        assert_eq!(c, reference(&a, &b.to_owned()));
    }

    /// `dW = xᵀ·dz` through the dispatching entry (AVX-512's kernel where the CPU has
    /// it) over several blocks of samples and of inputs, mostly-zero inputs, edges.
    #[test]
    fn the_weight_gradient_agrees_with_the_definition() {
        for (k, m, n) in [
            (0, 5, 3),
            (1, 1, 1),
            (5, 9, 3),
            (300, 1100, 70),
            (7, 13, 129),
        ] {
            let x = Array2::from_shape_fn((k, m), |(p, i)| {
                if (p * 31 + i * 7) % 5 < 3 {
                    0.0
                } else {
                    ((p + 2 * i) % 9) as f64 - 4.0
                }
            });
            let dz = Array2::from_shape_fn((k, n), |(p, j)| ((p * 3 + j) % 11) as f64 * 0.25 - 1.0);
            let expected = reference(&x.t().to_owned(), &dz);
            let mut dw = Array2::from_elem((m, n), 7.0);
            crate::simd::weight_gradient(x.view(), dz.view(), dw.view_mut());
            assert_eq!(dw, expected, "f64 {k}x{m}x{n}");
            let (x32, dz32) = (x.mapv(|v| v as f32), dz.mapv(|v| v as f32));
            let mut dw32 = Array2::from_elem((m, n), 7.0_f32);
            crate::simd::weight_gradient(x32.view(), dz32.view(), dw32.view_mut());
            for (a, b) in dw32.iter().zip(&expected) {
                assert!(
                    (f64::from(*a) - b).abs() < 1e-3 * b.abs().max(1.0),
                    "f32 {k}x{m}x{n}: {a} vs {b}"
                );
            }
        }
    }

    /// The AVX-512 product (where the CPU has it) against the definition, with
    /// transposed `A` and `C` and accumulation.
    #[test]
    fn the_product_agrees_with_the_definition() {
        for (m, k, n) in [(1, 1, 1), (5, 7, 17), (30, 576, 25), (9, 3, 70), (4, 0, 3)] {
            let a = Array2::from_shape_fn((k, m), |(p, i)| ((p * 7 + i * 3) % 5) as f64 - 2.0);
            let b = Array2::from_shape_fn((k, n), |(p, j)| ((p * 5 + j) % 7) as f64 * 0.5);
            let expected = reference(&a.t().to_owned(), &b);
            let mut c = Array2::from_elem((m, n), 1.0);
            crate::simd::product(a.t(), b.view(), c.view_mut(), false);
            assert_eq!(c, expected, "{m}x{k}x{n}");
            let mut ct = Array2::from_elem((n, m), 1.0);
            crate::simd::product(a.t(), b.view(), ct.view_mut().reversed_axes(), true);
            assert_eq!(
                ct.t(),
                expected.mapv(|v| v + 1.0),
                "{m}x{k}x{n} accumulated"
            );
        }
    }
}
