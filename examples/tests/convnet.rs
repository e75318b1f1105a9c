//! Chapter 7: the book's trained SimpleConvNet on the MNIST test set shipped in `data/`,
//! against the reference results of the book's numpy code (see `data/README.md`): 9890
//! of 10,000 correct in f32 and in f64, one image at a time and in batches.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::OnceLock;

use examples::eval::{Evaluation, Inference, evaluate};
use examples::mnist::TestSet;
use examples::{SimpleConvNet, SimpleConvNet64};
use nn_runtime::ndarray::Array2;

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// The test set, and the networks with the book's weights, loaded once per test binary.
fn data() -> &'static (SimpleConvNet, SimpleConvNet64, TestSet, Array2<f64>) {
    static DATA: OnceLock<(SimpleConvNet, SimpleConvNet64, TestSet, Array2<f64>)> = OnceLock::new();
    DATA.get_or_init(|| {
        let net = SimpleConvNet::load(data_file("simple_convnet.safetensors"))
            .expect("the shipped f32 weights load");
        let net64 = SimpleConvNet64::load(data_file("simple_convnet_f64.npz"))
            .expect("the shipped f64 weights load");
        let test = TestSet::open_default().expect("the shipped test set loads");
        // The same pixels / 255 as f64 (the f32 division and a widening cast agree
        // with numpy's float64 division to within its rounding; 9890 either way).
        let images64 = test.images().mapv(f64::from);
        (net, net64, test, images64)
    })
}

/// The book's first misclassified images.
const FIRST_MISCLASSIFIED: [usize; 4] = [18, 247, 321, 340];

fn assert_books_result(result: &Evaluation) {
    let confusion = &result.confusion;
    assert_eq!((confusion.correct(), confusion.total()), (9890, 10_000));
    assert_eq!(confusion.accuracy(), Some(0.989));
    assert_eq!(result.misclassified[..4], FIRST_MISCLASSIFIED);
}

fn batches(size: usize) -> Inference {
    Inference::Batched(NonZeroUsize::new(size).expect("not zero"))
}

fn f32_run(how: Inference) -> Evaluation {
    let (net, _, test, _) = data();
    evaluate(net, test.images(), test.labels(), how).expect("the test set fits the network")
}

fn f64_run(how: Inference) -> Evaluation {
    let (_, net, test, images) = data();
    evaluate(net, images.view(), test.labels(), how).expect("the test set fits the network")
}

#[test]
fn f32_one_image_at_a_time_is_0_9890() {
    assert_books_result(&f32_run(Inference::Single));
}

#[test]
fn f32_in_batches_of_1_7_100_and_10000_is_0_9890() {
    for size in [1, 7, 100, 10_000] {
        assert_books_result(&f32_run(batches(size)));
    }
}

#[test]
fn f64_one_image_at_a_time_is_0_9890() {
    assert_books_result(&f64_run(Inference::Single));
}

#[test]
fn f64_in_batches_of_1_7_100_and_10000_is_0_9890() {
    for size in [1, 7, 100, 10_000] {
        assert_books_result(&f64_run(batches(size)));
    }
}

/// Single images and batches agree to rounding, in both element types.
#[test]
fn single_and_batched_probabilities_agree() {
    let (net, net64, test, images) = data();
    let batch = net
        .forward_batch(test.images().slice(nn_runtime::ndarray::s![..50, ..]))
        .expect("width 784");
    let batch64 = net64
        .forward_batch(images.slice(nn_runtime::ndarray::s![..50, ..]))
        .expect("width 784");
    for i in 0..50 {
        let image = test.image(i).expect("50 images");
        let single = net.forward(image);
        let image64: [f64; 784] = images.row(i).to_vec().try_into().expect("784 values");
        let single64 = net64.forward(&image64);
        for k in 0..10 {
            assert!(
                (single[k] - batch[[i, k]]).abs() < 1e-5,
                "image {i}, class {k}"
            );
            assert!(
                (single64[k] - batch64[[i, k]]).abs() < 1e-12,
                "image {i}, class {k}"
            );
            assert!(
                (f64::from(single[k]) - single64[k]).abs() < 1e-4,
                "image {i}, class {k}"
            );
        }
    }
}
