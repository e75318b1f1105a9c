//! The training loop of the `train` program, kept short: a few hundred minibatches of
//! the book's two-layer network, then the saved weights loaded back give the accuracy
//! the run reported, and the minibatches hold the training set's images exactly.

use examples::TwoLayer;
use examples::training::{self, Batches, Classifier, Run, TrainingData};
use nn_runtime::optim::Sgd;

#[test]
fn a_short_run_learns_and_its_saved_weights_give_the_same_accuracy() {
    let data = TrainingData::open_default().expect("the shipped MNIST files");
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    let run = Run {
        iterations: 300,
        batch_size: 100,
        seed: 3,
    };
    let mut network = TwoLayer::random(3);
    let mut epochs = 0;
    let history = run
        .train(&mut network, &data, &mut Sgd::new(0.1), |progress| {
            epochs += usize::from(progress.epoch.is_some());
        })
        .expect("the data fits the network");
    assert_eq!((history.losses.len(), epochs), (300, 1));
    let last = history.epochs[0];
    // 300 steps of SGD already classify most digits (the book: about 0.90).
    assert!(last.test_accuracy > 0.85, "{last:?}");
    let first: f32 = history.losses[..20].iter().sum();
    let late: f32 = history.losses[280..].iter().sum();
    assert!(late < first / 2.0, "the loss falls: {first} -> {late}");

    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("two_layer.safetensors");
    network.save(&path).expect("writable");
    let loaded = <TwoLayer as Classifier>::load(&path).expect("what save wrote");
    let again = training::accuracy(&loaded, &data.test).expect("the data fits");
    assert_eq!(again, last.test_accuracy);
}

#[test]
fn minibatches_are_rows_of_the_training_set() {
    let data = TrainingData::open_default().expect("the shipped MNIST files");
    let mut batches = Batches::new(7, TwoLayer::INPUT, 11);
    let (x, labels) = batches.next(&data.train);
    let (x, labels) = (x.to_owned(), labels.to_vec());
    for (row, &label) in x.rows().into_iter().zip(&labels) {
        let found = data
            .train
            .images()
            .rows()
            .into_iter()
            .zip(data.train.labels())
            .any(|(image, &l)| l == label && image == row);
        assert!(found, "a drawn row is an image of the set with its label");
    }
    let mut same_seed = Batches::new(7, TwoLayer::INPUT, 11);
    let (again, _) = same_seed.next(&data.train);
    assert_eq!(again, x, "the same seed draws the same batch");
}
