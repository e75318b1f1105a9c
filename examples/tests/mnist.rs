//! Chapter 3: the book's trained network on the MNIST test set shipped in `data/`, against
//! the reference results of the book's numpy code (see `data/README.md`).

use std::num::NonZeroUsize;
use std::sync::OnceLock;

use examples::Mnist;
use examples::eval::{Evaluation, Inference, evaluate};
use examples::idx::{Images, Labels};
use examples::mnist::{self, TestSet};

/// The network with the book's weights and the test set, loaded once per test binary.
fn data() -> &'static (Mnist, TestSet) {
    static DATA: OnceLock<(Mnist, TestSet)> = OnceLock::new();
    DATA.get_or_init(|| {
        let net = Mnist::load(mnist::default_weights()).expect("the shipped weights load");
        let test = TestSet::open_default().expect("the shipped test set loads");
        (net, test)
    })
}

/// The first misclassified images in numpy.
const FIRST_MISCLASSIFIED: [usize; 10] = [8, 33, 66, 92, 124, 149, 217, 233, 241, 245];

fn run(how: Inference) -> Evaluation {
    let (net, test) = data();
    evaluate(net, test.images(), test.labels(), how).expect("the test set fits the network")
}

/// 9352 of 10000 correct, as in the book, and the same first mistakes as numpy.
fn assert_books_result(result: &Evaluation) {
    let confusion = &result.confusion;
    assert_eq!((confusion.correct(), confusion.total()), (9352, 10_000));
    assert_eq!(confusion.accuracy(), Some(0.9352));
    assert_eq!(result.misclassified.len(), 648);
    assert_eq!(result.misclassified[..10], FIRST_MISCLASSIFIED);
}

fn batches(size: usize) -> Inference {
    Inference::Batched(NonZeroUsize::new(size).expect("not zero"))
}

#[test]
fn accuracy_one_image_at_a_time_is_0_9352() {
    assert_books_result(&run(Inference::Single));
}

#[test]
fn accuracy_in_batches_of_1_is_0_9352() {
    assert_books_result(&run(batches(1)));
}

#[test]
fn accuracy_in_batches_of_7_is_0_9352() {
    // 7 does not divide 10,000: the last batch holds 4 images.
    assert_books_result(&run(batches(7)));
}

#[test]
fn accuracy_in_one_batch_of_10000_is_0_9352() {
    assert_books_result(&run(batches(10_000)));
}

#[test]
fn the_first_image_is_a_7_with_probability_0_997065() {
    let (net, test) = data();
    assert_eq!(test.labels()[0], 7);
    let y = net.forward(test.image(0).expect("there is an image 0"));
    assert!((y[7] - 0.997065).abs() < 1e-5, "{y:?}");
    assert!(
        (y.iter().sum::<f32>() - 1.0).abs() < 1e-5,
        "softmax sums to 1: {y:?}"
    );

    let batch = net
        .forward_batch(test.images().slice(nn_runtime::ndarray::s![..1, ..]))
        .expect("784 inputs");
    assert!((batch[[0, 7]] - 0.997065).abs() < 1e-5, "{batch}");
}

#[test]
fn the_test_set_is_mnists() {
    let (_, test) = data();
    assert_eq!(test.len(), 10_000);
    assert_eq!(test.images().dim(), (10_000, 784));
    assert_eq!(test.labels()[..10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    let mut counts = [0; 10];
    for &label in test.labels() {
        counts[label] += 1;
    }
    assert_eq!(
        counts,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    // Pixels divided by 255: from 0 to 1 exactly.
    let (min, max) = test
        .images()
        .iter()
        .fold((f32::MAX, f32::MIN), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    assert_eq!((min, max), (0.0, 1.0));
}

#[test]
fn the_idx_files_read_as_they_are() {
    let images = Images::open(mnist::default_images()).expect("images");
    assert_eq!(
        (images.len(), images.rows(), images.cols()),
        (10_000, 28, 28)
    );
    assert_eq!(images.as_bytes().len(), 7_840_000);
    let labels = Labels::open(mnist::default_labels()).expect("labels");
    assert_eq!(labels.len(), 10_000);
    // The image and the pixel the normalised test set has.
    let test = TestSet::new(&images, &labels).expect("they fit");
    let first = images.get(0).expect("image 0");
    let normalised = test.image(0).expect("image 0");
    for (byte, value) in first.iter().zip(normalised) {
        assert_eq!(f32::from(*byte) / 255.0, *value);
    }
    assert!(images.get(10_000).is_none() && test.image(10_000).is_none());
}

#[test]
fn a_limit_keeps_the_first_images() {
    let (net, test) = data();
    let mut first = test.clone();
    first.truncate(500);
    assert_eq!(first.len(), 500);
    assert_eq!(
        first.images(),
        test.images().slice(nn_runtime::ndarray::s![..500, ..])
    );
    let result = evaluate(net, first.images(), first.labels(), batches(7)).expect("fits");
    assert_eq!(
        (result.confusion.correct(), result.confusion.total()),
        (471, 500)
    );
    first.truncate(20_000);
    assert_eq!(first.len(), 500);
}
