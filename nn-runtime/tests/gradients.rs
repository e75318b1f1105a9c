//! The losses' and activations' gradients against central differences in f64.

use nn_runtime::loss::{cross_entropy, mse};
use nn_runtime::ndarray::{Array2, array};
use nn_runtime::{Activation, InitRng, kernels};

/// `f(x)` for one row.
fn forward(activation: Activation<f64>, x: &[f64]) -> Vec<f64> {
    let mut y = x.to_vec();
    activation.apply_in_place(&mut y);
    y
}

/// For a random `x` away from the kinks and a random upstream `dy`: the analytic
/// gradient of `Σ dy·act(x)` with respect to `x` against central differences.
#[test]
fn every_activation_backward_agrees_with_central_differences() {
    let mut rng = InitRng::new(11);
    for activation in [
        Activation::Identity,
        Activation::Sigmoid,
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::LeakyRelu(-0.3),
        Activation::Tanh,
        Activation::Softmax,
    ] {
        for _ in 0..20 {
            // Away from 0, where relu's kink is.
            let x: Vec<f64> = (0..6)
                .map(|_| {
                    let v = rng.normal();
                    if v.abs() < 0.05 { v + 0.1 } else { v }
                })
                .collect();
            let dy: Vec<f64> = (0..6).map(|_| rng.normal()).collect();
            let y = forward(activation, &x);
            let mut dx = dy.clone();
            activation.backward_in_place(&x, &y, &mut dx);
            let objective = |x: &[f64]| -> f64 {
                forward(activation, x)
                    .iter()
                    .zip(&dy)
                    .map(|(y, d)| y * d)
                    .sum()
            };
            let h = 1e-6;
            for k in 0..6 {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[k] += h;
                minus[k] -= h;
                let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
                let error = (dx[k] - numeric).abs() / numeric.abs().max(dx[k].abs()).max(1e-3);
                assert!(error < 1e-6, "{activation} at {k}: {} vs {numeric}", dx[k]);
            }
        }
    }
}

#[test]
fn relu_has_no_gradient_at_zero() {
    let mut dy = [1.0_f64; 2];
    Activation::Relu.backward_in_place(&[0.0, -0.0], &[0.0, 0.0], &mut dy);
    assert_eq!(dy, [0.0, 0.0]);
}

#[test]
fn cross_entropy_gradient_agrees_with_central_differences() {
    let mut rng = InitRng::new(5);
    let scores = Array2::from_shape_fn((4, 5), |_| rng.normal() * 3.0);
    let labels = [0, 4, 2, 2];
    let (loss, grad) = cross_entropy(scores.view(), &labels).expect("shapes fit");
    // The loss is the book's: mean of −log softmax.
    let mut book = 0.0;
    for (row, &t) in scores.rows().into_iter().zip(&labels) {
        let mut p = row.to_vec();
        kernels::softmax_in_place(&mut p);
        book -= p[t].ln() / 4.0;
    }
    assert!((loss - book).abs() < 1e-12, "{loss} vs {book}");
    let h = 1e-6;
    for ((i, j), &g) in grad.indexed_iter() {
        let (mut plus, mut minus) = (scores.clone(), scores.clone());
        plus[[i, j]] += h;
        minus[[i, j]] -= h;
        let numeric = (cross_entropy(plus.view(), &labels).expect("fit").0
            - cross_entropy(minus.view(), &labels).expect("fit").0)
            / (2.0 * h);
        assert!((g - numeric).abs() < 1e-8, "[{i}, {j}]: {g} vs {numeric}");
    }
}

#[test]
fn cross_entropy_is_stable_and_checks_its_labels() {
    let (loss, grad) =
        cross_entropy(array![[1010.0_f32, 1000.0, 990.0]].view(), &[0]).expect("fit");
    assert!(
        loss.is_finite() && grad.iter().all(|g| g.is_finite()),
        "{loss} {grad}"
    );
    let err = cross_entropy(array![[0.0_f64, 1.0]].view(), &[2]).expect_err("label 2 of 2 classes");
    assert!(err.to_string().contains("label"), "{err}");
    assert!(cross_entropy(array![[0.0_f64, 1.0]].view(), &[0, 1]).is_err());
}

#[test]
fn mse_gradient_agrees_with_central_differences() {
    let mut rng = InitRng::new(6);
    let y = Array2::from_shape_fn((3, 4), |_| rng.normal());
    let t = Array2::from_shape_fn((3, 4), |_| rng.normal());
    let (_, grad) = mse(y.view(), t.view()).expect("same shape");
    let h = 1e-6;
    for ((i, j), &g) in grad.indexed_iter() {
        let (mut plus, mut minus) = (y.clone(), y.clone());
        plus[[i, j]] += h;
        minus[[i, j]] -= h;
        let numeric = (mse(plus.view(), t.view()).expect("fit").0
            - mse(minus.view(), t.view()).expect("fit").0)
            / (2.0 * h);
        assert!((g - numeric).abs() < 1e-8, "[{i}, {j}]: {g} vs {numeric}");
    }
    assert!(mse(y.view(), t.t()).is_err());
}

/// `dx`, `dW`, `db` of the affine map against central differences of `Σ dz·(x·W + b)`.
#[test]
fn affine_backward_agrees_with_central_differences() {
    use nn_runtime::Affine;
    let mut rng = InitRng::new(8);
    let weight: Vec<f64> = (0..5 * 3).map(|_| rng.normal()).collect();
    let bias: Vec<f64> = (0..3).map(|_| rng.normal()).collect();
    let layer = Affine::<f64, 5, 3>::new(&weight, &bias, Activation::Identity).expect("sizes");
    let x = Array2::from_shape_fn((4, 5), |_| rng.normal());
    let dz = Array2::from_shape_fn((4, 3), |_| rng.normal());
    let (dx, dw, db) = layer.backward_rows(x.view(), dz.view()).expect("shapes");
    let objective = |x: &Array2<f64>, w: &[f64], b: &[f64]| -> f64 {
        let layer = Affine::<f64, 5, 3>::new(w, b, Activation::Identity).expect("sizes");
        let z = layer.forward_batch(x.view()).expect("width 5");
        (&z * &dz).sum()
    };
    let h = 1e-6;
    for ((i, j), &g) in dx.indexed_iter() {
        let (mut plus, mut minus) = (x.clone(), x.clone());
        plus[[i, j]] += h;
        minus[[i, j]] -= h;
        let numeric =
            (objective(&plus, &weight, &bias) - objective(&minus, &weight, &bias)) / (2.0 * h);
        assert!((g - numeric).abs() < 1e-7, "dx[{i}, {j}]: {g} vs {numeric}");
    }
    for k in 0..weight.len() {
        let (mut plus, mut minus) = (weight.clone(), weight.clone());
        plus[k] += h;
        minus[k] -= h;
        let numeric = (objective(&x, &plus, &bias) - objective(&x, &minus, &bias)) / (2.0 * h);
        let g = dw[[k / 3, k % 3]];
        assert!((g - numeric).abs() < 1e-7, "dW {k}: {g} vs {numeric}");
    }
    for k in 0..3 {
        let (mut plus, mut minus) = (bias.clone(), bias.clone());
        plus[k] += h;
        minus[k] -= h;
        let numeric = (objective(&x, &weight, &plus) - objective(&x, &weight, &minus)) / (2.0 * h);
        assert!(
            (db[k] - numeric).abs() < 1e-7,
            "db {k}: {} vs {numeric}",
            db[k]
        );
    }
    assert!(layer.backward_rows(x.view(), dz.t()).is_err());
}

/// Max-pooling's gradient goes to each window's maximum (distinct values: no ties),
/// matching central differences; with ties, to the first maximum.
#[test]
fn maxpool_backward_agrees_with_central_differences_and_takes_the_first_maximum() {
    use nn_runtime::{MaxPool2d, Pool2dConfig};
    let pool = MaxPool2d::<f64, 50, 12>::new(Pool2dConfig {
        input: [2, 5, 5],
        size: [2, 3],
        stride: [2, 1],
    });
    let mut rng = InitRng::new(9);
    let x: [f64; 50] = std::array::from_fn(|k| rng.normal() + k as f64 * 1e-3);
    let dy: [f64; 12] = std::array::from_fn(|_| rng.normal());
    let dx = pool.backward(&x, &dy);
    let objective =
        |x: &[f64; 50]| -> f64 { pool.forward(x).iter().zip(&dy).map(|(y, d)| y * d).sum() };
    let h = 1e-7;
    for k in 0..50 {
        let (mut plus, mut minus) = (x, x);
        plus[k] += h;
        minus[k] -= h;
        let numeric = (objective(&plus) - objective(&minus)) / (2.0 * h);
        assert!(
            (dx[k] - numeric).abs() < 1e-6,
            "dx[{k}]: {} vs {numeric}",
            dx[k]
        );
    }
    let ties = MaxPool2d::<f64, 4, 1>::new(Pool2dConfig {
        input: [1, 2, 2],
        size: [2, 2],
        stride: [2, 2],
    });
    assert_eq!(
        ties.backward(&[2.0, 2.0, 2.0, 2.0], &[1.0]),
        [1.0, 0.0, 0.0, 0.0]
    );
}
