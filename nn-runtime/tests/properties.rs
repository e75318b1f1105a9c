//! Properties of the kernels and layers, checked on random inputs with proptest.

use nn_runtime::ndarray::{Array2, ShapeBuilder, s};
use nn_runtime::{Activation, Affine, Float, kernels};
use proptest::prelude::*;

/// Every activation, with a random slope for leaky relu.
fn activation<T: Float>() -> impl Strategy<Value = Activation<T>> {
    prop_oneof![
        Just(Activation::Identity),
        Just(Activation::Step),
        Just(Activation::Sigmoid),
        Just(Activation::Relu),
        (-1.0..1.0_f64).prop_map(|a| Activation::LeakyRelu(T::from_f64(a))),
        Just(Activation::Tanh),
        Just(Activation::Softmax),
    ]
}

/// Rows of up to 64 finite values in ±`bound`.
fn row(bound: f64) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-bound..bound, 1..64)
}

fn to<T: Float>(xs: &[f64]) -> Vec<T> {
    xs.iter().map(|&x| T::from_f64(x)).collect()
}

proptest! {
    #[test]
    fn softmax_rows_sum_to_one(xs in row(1e4)) {
        let mut r32 = to::<f32>(&xs);
        kernels::softmax_in_place(&mut r32);
        let sum32: f32 = r32.iter().sum();
        prop_assert!((sum32 - 1.0).abs() < 1e-5, "{sum32}");
        prop_assert!(r32.iter().all(|&p| (0.0..=1.0).contains(&p)));
        let mut r64 = xs.clone();
        kernels::softmax_in_place(&mut r64);
        let sum64: f64 = r64.iter().sum();
        prop_assert!((sum64 - 1.0).abs() < 1e-12, "{sum64}");
    }

    #[test]
    fn softmax_is_unchanged_by_adding_a_constant(xs in row(1e3), c in -1e3..1e3_f64) {
        let mut plain = xs.clone();
        let mut shifted: Vec<f64> = xs.iter().map(|x| x + c).collect();
        kernels::softmax_in_place(&mut plain);
        kernels::softmax_in_place(&mut shifted);
        for (p, s) in plain.iter().zip(&shifted) {
            prop_assert!((p - s).abs() < 1e-9, "{p} vs {s}");
        }
    }

    #[test]
    fn softmax_f32_is_unchanged_by_adding_a_constant(xs in row(100.0), c in -100.0..100.0_f64) {
        let mut plain = to::<f32>(&xs);
        let mut shifted = to::<f32>(&xs.iter().map(|x| x + c).collect::<Vec<_>>());
        kernels::softmax_in_place(&mut plain);
        kernels::softmax_in_place(&mut shifted);
        for (p, s) in plain.iter().zip(&shifted) {
            // Adding c in f32 rounds x by up to 2^-16 (|x + c| < 256), and so exp(x).
            prop_assert!((p - s).abs() < 5e-5, "{p} vs {s}");
        }
    }

    #[test]
    fn softmax_over_a_matrix_is_softmax_of_each_row(xs in row(50.0), rows in 1..6usize) {
        let width = xs.len();
        let m = Array2::from_shape_fn((rows, width), |(r, c)| xs[c] * r as f64 - c as f64);
        let expected: Vec<Vec<f64>> = m.rows().into_iter().map(|row| {
            let mut row = row.to_vec();
            kernels::softmax_in_place(&mut row);
            row
        }).collect();

        // Row-major: each row is a slice, as in `expected`.
        let mut contiguous = m.clone();
        kernels::softmax_rows_in_place(contiguous.view_mut());
        for (row, e) in contiguous.rows().into_iter().zip(&expected) {
            prop_assert_eq!(&row.to_vec(), e);
        }

        // Column-major, and every other column of a wider matrix: rows with a stride
        // (from 2 rows and 2 columns, and from 2 columns), which take the other branch.
        let mut column_major = Array2::zeros((rows, width).f());
        column_major.assign(&m);
        kernels::softmax_rows_in_place(column_major.view_mut());
        let mut wide = Array2::from_elem((rows, 2 * width), f64::NAN);
        wide.slice_mut(s![.., ..;2]).assign(&m);
        kernels::softmax_rows_in_place(wide.slice_mut(s![.., ..;2]));
        let every_other = wide.slice(s![.., ..;2]);
        for (layout, result) in [("column-major", column_major.view()), ("sliced", every_other)] {
            for (r, (row, e)) in result.rows().into_iter().zip(&expected).enumerate() {
                for (c, (y, e)) in row.iter().zip(e).enumerate() {
                    prop_assert!((y - e).abs() <= 1e-12, "{layout} [{r}, {c}]: {y} vs {e}");
                }
            }
        }
        // The columns between those of the view are left alone.
        prop_assert!(wide.slice(s![.., 1..;2]).iter().all(|y| y.is_nan()));
    }

    #[test]
    fn no_activation_makes_nan_from_finite_inputs(
        xs in row(1e4),
        act32 in activation::<f32>(),
        act64 in activation::<f64>(),
    ) {
        let mut r32 = to::<f32>(&xs);
        act32.apply_in_place(&mut r32);
        prop_assert!(r32.iter().all(|y| y.is_finite()), "{act32}: {r32:?}");
        let mut r64 = xs.clone();
        act64.apply_in_place(&mut r64);
        prop_assert!(r64.iter().all(|y| y.is_finite()), "{act64}: {r64:?}");
    }

    #[test]
    fn no_layer_makes_nan_from_finite_inputs(
        weight in prop::collection::vec(-1.0..1.0_f32, 8 * 4),
        bias in prop::collection::vec(-1.0..1.0_f32, 4),
        x in prop::collection::vec(-1e4..1e4_f32, 8),
        act in activation::<f32>(),
    ) {
        let layer = Affine::<f32, 8, 4>::new(&weight, &bias, act).expect("8 × 4");
        let x: [f32; 8] = x.try_into().expect("8 values");
        let y = layer.forward(&x);
        prop_assert!(y.iter().all(|y| y.is_finite()), "{act}: {y:?}");
        let batch = layer.forward_batch(Array2::from_shape_vec((1, 8), x.to_vec()).expect("1 × 8").view()).expect("width 8");
        prop_assert!(batch.iter().all(|y| y.is_finite()), "{act}: {batch:?}");
    }

    #[test]
    fn single_and_batch_forward_agree_f32(
        weight in prop::collection::vec(-1.0..1.0_f32, 13 * 7),
        bias in prop::collection::vec(-1.0..1.0_f32, 7),
        batch in prop::collection::vec(-10.0..10.0_f32, 0..20 * 13),
        act in activation::<f32>(),
    ) {
        let layer = Affine::<f32, 13, 7>::new(&weight, &bias, act).expect("13 × 7");
        check_agreement(&layer, &weight, &bias, &batch, 1e-4)?;
    }

    #[test]
    fn single_and_batch_forward_agree_f64(
        weight in prop::collection::vec(-1.0..1.0_f64, 5 * 11),
        bias in prop::collection::vec(-1.0..1.0_f64, 11),
        batch in prop::collection::vec(-10.0..10.0_f64, 0..20 * 5),
        act in activation::<f64>(),
    ) {
        let layer = Affine::<f64, 5, 11>::new(&weight, &bias, act).expect("5 × 11");
        check_agreement(&layer, &weight, &bias, &batch, 1e-10)?;
    }

    #[test]
    fn a_random_chain_agrees_with_a_plain_reference(
        seed in any::<u64>(),
        act1 in activation::<f32>(),
        act2 in activation::<f32>(),
        batch in prop::collection::vec(-3.0..3.0_f32, 0..10 * 6),
    ) {
        let mut rng = nn_runtime::InitRng::new(seed);
        let l1 = Affine::<f32, 6, 9>::random(&mut rng, act1);
        let l2 = Affine::<f32, 9, 4>::random(&mut rng, act2);
        let rows = batch.len() / 6;
        let x = Array2::from_shape_vec((rows, 6), batch[..rows * 6].to_vec()).expect("rows × 6");
        let y = l2.forward_batch(l1.forward_batch(x.view()).expect("width 6").view()).expect("width 9");
        for (r, row) in x.rows().into_iter().enumerate() {
            let input: [f32; 6] = row.to_vec().try_into().expect("6 values");
            if step_may_flip(&l1, &input) {
                continue; // a rounding difference at 0 changes everything after it
            }
            let hidden = reference_forward(&l1, &input);
            let reference = reference_forward(&l2, &hidden);
            let single = l2.forward(&l1.forward(&input));
            let pre = reference_pre_activation(&l2, &hidden);
            for j in 0..4 {
                if matches!(act2, Activation::Step) && pre[j].abs() < 1e-3 {
                    continue;
                }
                prop_assert!((single[j] - reference[j]).abs() < 1e-4, "{single:?} vs {reference:?}");
                prop_assert!((y[[r, j]] - reference[j]).abs() < 1e-4, "{y:?} vs {reference:?}");
            }
        }
    }
}

/// Whether the layer is a step and one of its sums is so close to 0 that rounding could
/// decide the output.
fn step_may_flip<const IN: usize, const OUT: usize>(
    layer: &Affine<f32, IN, OUT>,
    x: &[f32],
) -> bool {
    matches!(layer.activation(), Activation::Step)
        && reference_pre_activation(layer, x)
            .iter()
            .any(|v| v.abs() < 1e-3)
}

/// `x·W + b` computed the obvious way, in f64.
fn reference_pre_activation<const IN: usize, const OUT: usize>(
    layer: &Affine<f32, IN, OUT>,
    x: &[f32],
) -> Vec<f64> {
    let w = layer.weight();
    (0..OUT)
        .map(|j| {
            let dot: f64 = (0..IN)
                .map(|i| f64::from(x[i]) * f64::from(w[[i, j]]))
                .sum();
            dot + f64::from(layer.bias()[j])
        })
        .collect()
}

/// The layer's output computed the obvious way.
fn reference_forward<const IN: usize, const OUT: usize>(
    layer: &Affine<f32, IN, OUT>,
    x: &[f32],
) -> Vec<f32> {
    let mut y: Vec<f32> = reference_pre_activation(layer, x)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    layer.activation().apply_in_place(&mut y);
    y
}

/// Each row of `forward_batch` equals `forward` of that row, up to `tolerance` times the
/// size of the sums involved. Outputs of `step` are skipped where the sum is within that
/// tolerance of 0, since rounding may flip them.
fn check_agreement<T: Float, const IN: usize, const OUT: usize>(
    layer: &Affine<T, IN, OUT>,
    weight: &[T],
    bias: &[T],
    batch: &[T],
    tolerance: f64,
) -> Result<(), TestCaseError> {
    let rows = batch.len() / IN;
    let x = Array2::from_shape_vec((rows, IN), batch[..rows * IN].to_vec()).expect("rows × IN");
    let y = layer.forward_batch(x.view()).expect("width IN");
    prop_assert_eq!(y.dim(), (rows, OUT));
    let linear = Affine::<T, IN, OUT>::new(weight, bias, Activation::Identity).expect("same sizes");
    for (r, row) in x.rows().into_iter().enumerate() {
        let input: [T; IN] = row.to_vec().try_into().expect("IN values");
        let single = layer.forward(&input);
        let pre = linear.forward(&input);
        let scale = 1.0
            + input
                .iter()
                .map(|v| v.abs().to_f64().unwrap_or(0.0))
                .sum::<f64>()
            + bias
                .iter()
                .map(|v| v.abs().to_f64().unwrap_or(0.0))
                .sum::<f64>();
        for j in 0..OUT {
            let (s, b) = (
                single[j].to_f64().unwrap_or(f64::NAN),
                y[[r, j]].to_f64().unwrap_or(f64::NAN),
            );
            let near_zero = pre[j].abs().to_f64().unwrap_or(0.0) < tolerance * scale;
            if matches!(layer.activation(), Activation::Step) && near_zero {
                continue;
            }
            prop_assert!(
                (s - b).abs() <= tolerance * scale,
                "row {}: {:?} vs {:?}",
                r,
                single,
                y.row(r)
            );
        }
    }
    Ok(())
}
