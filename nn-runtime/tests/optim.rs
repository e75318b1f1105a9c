//! The four optimizers against the book's formulas (chapter 6, `common/optimizer.py`),
//! written here as plain loops over two tensors of different names and shapes, over
//! several steps with changing gradients, in f64 (equal to 1e-12) and f32.

use nn_runtime::ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};
use nn_runtime::optim::{AdaGrad, Adam, Momentum, Optimizer, Parameters, Sgd, step};
use nn_runtime::{Float, InitRng};

/// Two named tensors, `W1` of shape [3, 2] and `b1` of shape [2].
struct Two<T> {
    w: ArrayD<T>,
    b: ArrayD<T>,
}

impl<T> Parameters for Two<T> {
    type Elem = T;
    fn visit(&self, f: &mut dyn FnMut(&str, ArrayViewD<'_, T>)) {
        f("W1", self.w.view());
        f("b1", self.b.view());
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, T>)) {
        f("W1", self.w.view_mut());
        f("b1", self.b.view_mut());
    }
}

fn two<T: Float>(values: &[f64]) -> Two<T> {
    let v: Vec<T> = values.iter().map(|&x| T::from_f64(x)).collect();
    Two {
        w: ArrayD::from_shape_vec(IxDyn(&[3, 2]), v[..6].to_vec()).expect("6 values"),
        b: ArrayD::from_shape_vec(IxDyn(&[2]), v[6..].to_vec()).expect("2 values"),
    }
}

fn flat<T: Copy>(p: &Two<T>) -> Vec<T> {
    p.w.iter().chain(p.b.iter()).copied().collect()
}

/// The book's update for one step over all 8 values, from `g`; `state` is the
/// optimizer's state per value (velocity, h, or m and v), `t` Adam's step.
type Reference = fn(&mut [f64], &[f64], &mut [[f64; 2]], i32);

fn sgd(p: &mut [f64], g: &[f64], _: &mut [[f64; 2]], _: i32) {
    for (p, g) in p.iter_mut().zip(g) {
        *p -= 0.1 * g;
    }
}

fn momentum(p: &mut [f64], g: &[f64], s: &mut [[f64; 2]], _: i32) {
    for ((p, g), s) in p.iter_mut().zip(g).zip(s) {
        s[0] = 0.9 * s[0] - 0.01 * g;
        *p += s[0];
    }
}

fn adagrad(p: &mut [f64], g: &[f64], s: &mut [[f64; 2]], _: i32) {
    for ((p, g), s) in p.iter_mut().zip(g).zip(s) {
        s[0] += g * g;
        *p -= 0.01 * g / (s[0].sqrt() + 1e-7);
    }
}

fn adam(p: &mut [f64], g: &[f64], s: &mut [[f64; 2]], t: i32) {
    let lr_t = 0.001 * (1.0 - 0.999_f64.powi(t)).sqrt() / (1.0 - 0.9_f64.powi(t));
    for ((p, g), s) in p.iter_mut().zip(g).zip(s) {
        s[0] += (1.0 - 0.9) * (g - s[0]);
        s[1] += (1.0 - 0.999) * (g * g - s[1]);
        *p -= lr_t * s[0] / (s[1].sqrt() + 1e-7);
    }
}

/// Five steps of `optimizer` against `reference`, in `T`, within `tolerance`.
fn check<T: Float>(optimizer: &mut dyn Optimizer<T>, reference: Reference, tolerance: f64) {
    let mut rng = InitRng::new(7);
    let start: Vec<f64> = (0..8).map(|_| rng.normal()).collect();
    let mut params = two::<T>(&start);
    let mut want = start;
    let mut state = [[0.0; 2]; 8];
    for t in 1..=5 {
        let g: Vec<f64> = (0..8).map(|_| rng.normal()).collect();
        // The gradient as the network's element type sees it.
        let g_t: Vec<f64> = g
            .iter()
            .map(|&x| T::from_f64(x).to_f64().expect("finite"))
            .collect();
        step(&mut params, &two::<T>(&g), optimizer);
        reference(&mut want, &g_t, &mut state, t);
        for (k, (got, want)) in flat(&params).iter().zip(&want).enumerate() {
            let got = got.to_f64().expect("finite");
            assert!(
                (got - want).abs() <= tolerance * want.abs().max(1.0),
                "step {t}, value {k}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn sgd_is_the_books() {
    check::<f64>(&mut Sgd::new(0.1), sgd, 1e-12);
    check::<f32>(&mut Sgd::new(0.1), sgd, 1e-6);
}

#[test]
fn momentum_is_the_books() {
    check::<f64>(&mut Momentum::new(0.01, 0.9), momentum, 1e-12);
    check::<f32>(&mut Momentum::new(0.01, 0.9), momentum, 1e-6);
}

#[test]
fn adagrad_is_the_books() {
    check::<f64>(&mut AdaGrad::new(0.01), adagrad, 1e-12);
    check::<f32>(&mut AdaGrad::new(0.01), adagrad, 1e-6);
}

#[test]
fn adam_is_the_books() {
    check::<f64>(&mut Adam::new(0.001), adam, 1e-12);
    check::<f32>(&mut Adam::new(0.001), adam, 1e-6);
}

/// A tensor without a gradient is left alone, and state is kept per name: `b1`'s
/// velocity does not leak into `W1`'s.
#[test]
fn tensors_are_paired_by_name_and_keep_their_own_state() {
    struct OnlyBias(ArrayD<f64>);
    impl Parameters for OnlyBias {
        type Elem = f64;
        fn visit(&self, f: &mut dyn FnMut(&str, ArrayViewD<'_, f64>)) {
            f("b1", self.0.view());
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMutD<'_, f64>)) {
            f("b1", self.0.view_mut());
        }
    }
    let mut params = two::<f64>(&[1.0; 8]);
    let grads = OnlyBias(ArrayD::from_elem(IxDyn(&[2]), 1.0));
    let mut optimizer = Momentum::new(0.1, 0.5);
    step(&mut params, &grads, &mut optimizer);
    step(&mut params, &grads, &mut optimizer);
    assert!(
        params.w.iter().all(|&w| w == 1.0),
        "W1 has no gradient: {:?}",
        params.w
    );
    // v1 = -0.1, v2 = 0.5·(-0.1) - 0.1 = -0.15: b = 1 - 0.25.
    assert!(
        params.b.iter().all(|&b| (b - 0.75).abs() < 1e-15),
        "{:?}",
        params.b
    );
}
