//! The generated training API (LANGUAGE.md §9): every parameter's gradient against
//! central differences of `loss` (f64), for every layer kind and activation; `save` and
//! `load` round trips; errors for data that does not fit; training that learns.

use nn_runtime::ndarray::{Array2, ArrayD};
use nn_runtime::optim::{Adam, Sgd};
use nn_runtime::{InitRng, Parameters, network};

network! {
    network Activations<f64> {
        layer affine 5 -> 6 act sigmoid
        layer affine 6 -> 6 act tanh
        layer affine 6 -> 5 act relu
        layer affine 5 -> 5 act leaky_relu(0.1)
        layer affine 5 -> 4
        layer affine 4 -> 3 act softmax
    }
}

network! {
    network Regression<f64> {
        layer hidden: affine 3 -> 4 act tanh
        layer out: affine 4 -> 2 act softmax
        loss mse
    }
}

network! {
    network Convolutions<f64> {
        input 2x7x6
        layer conv 2x7x6 -> 3x4x4 kernel 3x2 stride 2 pad 1 act relu
        layer maxpool 3x4x4 -> 3x3x3 size 2 stride 1
        layer conv 3x3x3 -> 2x3x3 kernel 1 act sigmoid
        layer flatten 2x3x3 -> 18
        layer affine 18 -> 4 act softmax
    }
}

network! {
    network Pooled<f64> {
        input 1x6x6
        layer maxpool 1x6x6 -> 1x3x3 size 2
        layer flatten 1x3x3 -> 9
        layer affine 9 -> 3 act softmax
        loss cross_entropy
    }
}

/// Every parameter's gradient from `gradients` against `(L(p + h) − L(p − h)) / 2h`,
/// relative error below `1e-6` (absolute `1e-9` near 0).
fn check_gradients<N, L>(mut network: N, loss: L)
where
    N: Parameters<Elem = f64>,
    L: Fn(&N) -> (f64, Vec<(String, ArrayD<f64>)>),
{
    let (_, analytic) = loss(&network);
    let mut names = Vec::new();
    network.visit(&mut |name, tensor| names.push((name.to_owned(), tensor.len())));
    assert_eq!(
        names.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        analytic.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        "the gradients have the parameters' names, in order"
    );
    let h = 1e-6;
    for ((name, len), (_, grad)) in names.iter().zip(&analytic) {
        for k in 0..*len {
            let nudge = |network: &mut N, by: f64| {
                network.visit_mut(&mut |n, mut tensor| {
                    if n == name {
                        let v = tensor.iter_mut().nth(k).expect("k < len");
                        *v += by;
                    }
                });
            };
            nudge(&mut network, h);
            let up = loss(&network).0;
            nudge(&mut network, -2.0 * h);
            let down = loss(&network).0;
            nudge(&mut network, h);
            let numeric = (up - down) / (2.0 * h);
            let exact = *grad.iter().nth(k).expect("k < len");
            let error = (numeric - exact).abs() / numeric.abs().max(exact.abs()).max(1e-3);
            assert!(
                error < 1e-6,
                "{name}[{k}]: backprop {exact:e}, central differences {numeric:e}"
            );
        }
    }
}

/// The gradients as `(name, tensor)` pairs in `Parameters` order.
fn listed(gradients: &impl Parameters<Elem = f64>) -> Vec<(String, ArrayD<f64>)> {
    let mut list = Vec::new();
    gradients.visit(&mut |name, tensor| list.push((name.to_owned(), tensor.to_owned())));
    list
}

/// A batch of `rows` normal samples, away from 0 (relu's kink).
fn batch(rows: usize, width: usize, seed: u64) -> Array2<f64> {
    let mut rng = InitRng::new(seed);
    Array2::from_shape_fn((rows, width), |_| {
        let v = rng.normal();
        if v.abs() < 0.05 { v + 0.1 } else { v }
    })
}

#[test]
fn every_activation_backpropagates_exactly() {
    let x = batch(7, 5, 1);
    let labels = [0, 2, 1, 1, 0, 2, 2];
    let network = Activations::random(3);
    check_gradients(network, |n| {
        let (loss, gradients) = n.gradients(x.view(), &labels).expect("shapes fit");
        let again = n.loss(x.view(), &labels).expect("shapes fit");
        assert_eq!(loss, again, "loss and gradients agree on the loss");
        (loss, listed(&gradients))
    });
}

#[test]
fn mse_backpropagates_exactly() {
    let x = batch(6, 3, 4);
    let targets = batch(6, 2, 5);
    check_gradients(Regression::random(6), |n| {
        let (loss, gradients) = n.gradients(x.view(), targets.view()).expect("shapes fit");
        (loss, listed(&gradients))
    });
}

#[test]
fn conv_with_stride_and_padding_maxpool_and_flatten_backpropagate_exactly() {
    let x = batch(5, Convolutions::INPUT, 7);
    let labels = [3, 0, 1, 2, 3];
    for seed in [8, 9] {
        check_gradients(Convolutions::random(seed), |n| {
            let (loss, gradients) = n.gradients(x.view(), &labels).expect("shapes fit");
            (loss, listed(&gradients))
        });
    }
}

#[test]
fn a_network_starting_with_maxpool_backpropagates_exactly() {
    let x = batch(4, Pooled::INPUT, 10);
    check_gradients(Pooled::random(11), |n| {
        let (loss, gradients) = n.gradients(x.view(), &[0, 1, 2, 0]).expect("shapes fit");
        (loss, listed(&gradients))
    });
}

#[test]
fn train_step_returns_the_loss_before_its_update_and_applies_the_optimizer() {
    let x = batch(8, 5, 12);
    let labels = [0, 1, 2, 0, 1, 2, 0, 1];
    let mut network = Activations::random(13);
    let before = network.clone();
    let (loss, gradients) = network.gradients(x.view(), &labels).expect("shapes fit");
    let step = network
        .train_step(x.view(), &labels, &mut Sgd::new(0.5))
        .expect("shapes fit");
    assert_eq!(step, loss);
    // p' = p − 0.5·g, tensor by tensor.
    let mut expected = listed(&before);
    for ((_, p), (_, g)) in expected.iter_mut().zip(listed(&gradients)) {
        *p = &*p - &(g * 0.5);
    }
    assert_eq!(listed(&network), expected);
}

#[test]
fn training_learns_xor() {
    network! {
        network Xor<f64> {
            layer affine 2 -> 8 act tanh
            layer affine 8 -> 2 act softmax
        }
    }
    let x = nn_runtime::ndarray::array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let labels = [0, 1, 1, 0];
    let mut network = Xor::random(1);
    let mut adam = Adam::new(0.05);
    let first = network.loss(x.view(), &labels).expect("shapes fit");
    for _ in 0..300 {
        network
            .train_step(x.view(), &labels, &mut adam)
            .expect("shapes fit");
    }
    let last = network.loss(x.view(), &labels).expect("shapes fit");
    assert!(last < 0.05 && last < first / 10.0, "{first} -> {last}");
    let predicted: Vec<usize> = network
        .forward_batch(x.view())
        .expect("width 2")
        .rows()
        .into_iter()
        .map(|r| usize::from(r[1] > r[0]))
        .collect();
    assert_eq!(predicted, labels);
}

#[test]
fn data_that_does_not_fit_is_an_error_and_changes_nothing() {
    let mut network = Activations::random(2);
    let before = network.clone();
    let mut sgd = Sgd::new(0.1);
    let x = batch(3, 5, 3);
    let wide = batch(3, 6, 3);
    let cases = [
        (
            network.train_step(wide.view(), &[0, 1, 2], &mut sgd),
            "wrong input width: expected 5, found 6",
        ),
        (
            network.train_step(x.view(), &[0, 1], &mut sgd),
            "wrong label count (one per row): expected 3, found 2",
        ),
        (
            network.train_step(x.view(), &[0, 3, 1], &mut sgd),
            "wrong label (below the output width): expected 3, found 3",
        ),
    ];
    for (result, message) in cases {
        assert_eq!(result.expect_err("does not fit").to_string(), message);
    }
    assert_eq!(listed(&network), listed(&before));
    let targets = batch(2, 2, 1);
    let err = Regression::random(1)
        .loss(batch(3, 3, 1).view(), targets.view())
        .expect_err("2 target rows for 3 samples");
    assert_eq!(err.to_string(), "wrong target rows: expected 3, found 2");
}

#[test]
fn save_then_load_is_bit_exact() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("convolutions.safetensors");
    let mut network = Convolutions::random(21);
    // Train a little so that the weights are not just the initialisation.
    let x = batch(4, Convolutions::INPUT, 22);
    for _ in 0..3 {
        network
            .train_step(x.view(), &[0, 1, 2, 3], &mut Adam::new(0.01))
            .expect("shapes fit");
    }
    network.save(&path).expect("writable");
    let loaded = Convolutions::load(&path).expect("what save wrote");
    let bits = |n: &Convolutions| -> Vec<(String, Vec<u64>)> {
        listed(n)
            .into_iter()
            .map(|(name, t)| (name, t.iter().map(|v| v.to_bits()).collect()))
            .collect()
    };
    assert_eq!(bits(&loaded), bits(&network));
    assert_eq!(
        loaded.forward_batch(x.view()).expect("width fits"),
        network.forward_batch(x.view()).expect("width fits")
    );
    let err = network
        .save(dir.path().join("no/such/dir/x.safetensors"))
        .expect_err("no such directory");
    assert!(err.to_string().contains("cannot write the file"), "{err}");
}

network! {
    // Big enough that a batch of 4 is split between two threads (4 × 525 K
    // multiply-adds).
    network Wide<f64> {
        layer affine 1024 -> 512 act tanh
        layer affine 512 -> 2
        loss mse
    }
    network WideClasses<f64> {
        layer affine 1024 -> 512 act relu
        layer affine 512 -> 3 act softmax
    }
}

/// The gradients of a batch split between two threads are the row-weighted means of
/// its halves' gradients, for both kinds of labels.
#[test]
fn a_batch_split_between_threads_gives_the_gradients_of_the_whole() {
    let x = batch(5, 1024, 30);
    let targets = batch(5, 2, 31);
    let network = Wide::random(32);
    let (loss, whole) = network
        .gradients(x.view(), targets.view())
        .expect("shapes fit");
    let (first, second) = (
        x.slice(nn_runtime::ndarray::s![..2, ..]),
        x.slice(nn_runtime::ndarray::s![2.., ..]),
    );
    let (t1, t2) = (
        targets.slice(nn_runtime::ndarray::s![..2, ..]),
        targets.slice(nn_runtime::ndarray::s![2.., ..]),
    );
    let (l1, g1) = network.gradients(first, t1).expect("shapes fit");
    let (l2, g2) = network.gradients(second, t2).expect("shapes fit");
    assert!(
        (loss - (0.4 * l1 + 0.6 * l2)).abs() < 1e-12,
        "{loss} vs {l1}, {l2}"
    );
    for (((name, w), (_, a)), (_, b)) in listed(&whole).iter().zip(listed(&g1)).zip(listed(&g2)) {
        let expected = a * 0.4 + b * 0.6;
        let worst = (w - &expected).iter().fold(0.0_f64, |m, d| m.max(d.abs()));
        assert!(worst < 1e-12, "{name}: {worst}");
    }

    let network = WideClasses::random(33);
    let labels = [2, 0, 1, 1];
    let x = batch(4, 1024, 34);
    let (loss, whole) = network.gradients(x.view(), &labels).expect("shapes fit");
    let (l1, g1) = network
        .gradients(x.slice(nn_runtime::ndarray::s![..2, ..]), &labels[..2])
        .expect("shapes fit");
    let (l2, g2) = network
        .gradients(x.slice(nn_runtime::ndarray::s![2.., ..]), &labels[2..])
        .expect("shapes fit");
    assert!((loss - (l1 + l2) / 2.0).abs() < 1e-12);
    for ((w, (_, a)), (_, b)) in listed(&whole)
        .iter()
        .map(|(_, w)| w)
        .zip(listed(&g1))
        .zip(listed(&g2))
    {
        let worst = (w - &((a + b) / 2.0))
            .iter()
            .fold(0.0_f64, |m, d| m.max(d.abs()));
        assert!(worst < 1e-12, "{worst}");
    }
}
