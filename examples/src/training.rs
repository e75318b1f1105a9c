//! Training on MNIST, the book's way (chapters 5 to 7): minibatches drawn at random
//! from the 60,000 training images, one `train_step` each, and the accuracy on the
//! training and test sets after every epoch. The `train` and `optimizers` programs and
//! the tests share it.
//!
//! ```no_run
//! use examples::training::{Classifier, Run, TrainingData};
//! use examples::TwoLayer;
//! use nn_runtime::optim::Sgd;
//!
//! let data = TrainingData::open_default()?;
//! let mut network = TwoLayer::random(1);
//! let run = Run { iterations: 1_000, batch_size: 100, seed: 1 };
//! let history = run.train(&mut network, &data, &mut Sgd::new(0.1), |_| {})?;
//! println!("test accuracy {:.4}", history.epochs.last().map_or(0.0, |e| e.test_accuracy));
//! # Ok::<(), anyhow::Error>(())
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use nn_runtime::ndarray::{Array2, ArrayView2};
use nn_runtime::{InitRng, LoadError, Network, Optimizer, Parameters, SaveError, ShapeError};

use crate::eval::{self, Inference};
use crate::idx::IdxError;
use crate::mnist::{self, TestSet};

/// What the training programs need of a network that classifies MNIST digits: the
/// generated training API, behind one trait so that one loop serves every network.
pub trait Classifier: Network<Elem = f32> + Parameters<Elem = f32> + Clone + Sized {
    /// The network's name in `--net`.
    const NAME: &'static str;
    /// `NAME::random(seed)`.
    fn random(seed: u64) -> Self;
    /// `NAME::load(path)`.
    fn load(path: &Path) -> Result<Self, LoadError>;
    /// `NAME::train_step`.
    fn train_step(
        &mut self,
        x: ArrayView2<'_, f32>,
        labels: &[usize],
        optimizer: &mut dyn Optimizer<f32>,
    ) -> Result<f32, ShapeError>;
    /// `NAME::loss`.
    fn loss(&self, x: ArrayView2<'_, f32>, labels: &[usize]) -> Result<f32, ShapeError>;
    /// `NAME::save`.
    fn save(&self, path: &Path) -> Result<(), SaveError>;
}

/// Implements [`Classifier`] by calling the generated methods of the same names.
macro_rules! classifier {
    ($($network:ident => $name:literal),* $(,)?) => {$(
        impl Classifier for crate::$network {
            const NAME: &'static str = $name;
            fn random(seed: u64) -> Self {
                crate::$network::random(seed)
            }
            fn load(path: &Path) -> Result<Self, LoadError> {
                crate::$network::load(path)
            }
            fn train_step(
                &mut self,
                x: ArrayView2<'_, f32>,
                labels: &[usize],
                optimizer: &mut dyn Optimizer<f32>,
            ) -> Result<f32, ShapeError> {
                crate::$network::train_step(self, x, labels, optimizer)
            }
            fn loss(&self, x: ArrayView2<'_, f32>, labels: &[usize]) -> Result<f32, ShapeError> {
                crate::$network::loss(self, x, labels)
            }
            fn save(&self, path: &Path) -> Result<(), SaveError> {
                crate::$network::save(self, path)
            }
        }
    )*};
}

classifier!(
    TwoLayer => "two_layer",
    MultiLayer => "multi_layer",
    SimpleConvNet => "convnet",
    Mnist => "mnist",
);

/// The training and test sets.
#[derive(Debug, Clone)]
pub struct TrainingData {
    /// The 60,000 training images and labels.
    pub train: TestSet,
    /// The 10,000 test images and labels.
    pub test: TestSet,
}

impl TrainingData {
    /// The files this crate ships in `data/`.
    pub fn open_default() -> Result<TrainingData, IdxError> {
        let dir = Path::new(mnist::DATA_DIR);
        Ok(TrainingData {
            train: TestSet::open(
                dir.join("train-images-idx3-ubyte.gz"),
                dir.join("train-labels-idx1-ubyte.gz"),
            )?,
            test: TestSet::open_default()?,
        })
    }
}

/// Draws minibatches at random, with replacement (numpy's `np.random.choice(60000,
/// 100)`, as the book does), into buffers it keeps: no allocation per batch.
#[derive(Debug)]
pub struct Batches {
    rng: InitRng,
    images: Array2<f32>,
    labels: Vec<usize>,
}

impl Batches {
    /// Batches of `size` rows drawn with `seed`.
    pub fn new(size: usize, width: usize, seed: u64) -> Batches {
        Batches {
            rng: InitRng::new(seed ^ 0x5eed_ba7c),
            images: Array2::zeros((size, width)),
            labels: vec![0; size],
        }
    }

    /// The next batch of `set`.
    ///
    /// # Panics
    /// If `set` is empty or its images are not as wide as the batches.
    pub fn next<'a>(&'a mut self, set: &TestSet) -> (ArrayView2<'a, f32>, &'a [usize]) {
        let (bytes, labels) = (set.bytes(), set.labels());
        assert!(!labels.is_empty(), "an empty training set");
        let width = self.images.ncols();
        assert_eq!(
            bytes.len(),
            labels.len() * width,
            "images as wide as the batches"
        );
        for (mut row, label) in self.images.rows_mut().into_iter().zip(&mut self.labels) {
            // The modulo's bias is below 1e-14 for 60,000 images.
            let at = (self.rng.next_u64() % labels.len() as u64) as usize;
            // From the bytes: a quarter of the memory traffic of the f32 images, which
            // a random draw from 188 MB reads from DRAM.
            let source = &bytes[at * width..(at + 1) * width];
            let row = row
                .as_slice_mut()
                .expect("a row of a new array is contiguous");
            for (x, &b) in row.iter_mut().zip(source) {
                *x = mnist::pixel(b);
            }
            *label = labels[at];
        }
        (self.images.view(), &self.labels)
    }
}

/// One epoch's record (the book prints train and test accuracy per epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epoch {
    /// Iterations done so far.
    pub iteration: usize,
    /// The mean minibatch loss over the epoch's iterations.
    pub mean_loss: f64,
    /// Accuracy on the whole training set.
    pub train_accuracy: f64,
    /// Accuracy on the test set.
    pub test_accuracy: f64,
    /// Time spent in training steps (batches and `train_step`) so far.
    pub training_time: Duration,
}

/// What a run gives: the loss of every iteration and each epoch's record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The minibatch loss before each iteration's update.
    pub losses: Vec<f32>,
    /// One record per epoch (and one at the end if the last epoch is partial).
    pub epochs: Vec<Epoch>,
    /// Time spent in training steps: drawing batches and `train_step`, not evaluating.
    pub training_time: Duration,
}

/// A run's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Training steps.
    pub iterations: usize,
    /// Images per minibatch.
    pub batch_size: usize,
    /// Seeds the minibatch draws (the network's initialisation is seeded apart).
    pub seed: u64,
}

impl Run {
    /// Iterations per epoch: one pass over the training set in minibatches (600 for
    /// 60,000 images in batches of 100).
    pub fn iterations_per_epoch(&self, train_size: usize) -> usize {
        (train_size / self.batch_size.max(1)).max(1)
    }

    /// Trains `network` with `optimizer`, calling `progress` after each iteration with
    /// the iterations done, and evaluating after each epoch.
    pub fn train<N: Classifier>(
        &self,
        network: &mut N,
        data: &TrainingData,
        optimizer: &mut dyn Optimizer<f32>,
        mut progress: impl FnMut(&Progress),
    ) -> anyhow::Result<History> {
        let per_epoch = self.iterations_per_epoch(data.train.len());
        let mut batches = Batches::new(self.batch_size, N::INPUT, self.seed);
        let mut history = History {
            losses: Vec::with_capacity(self.iterations),
            ..History::default()
        };
        let mut epoch_loss = 0.0;
        let mut epoch_iterations = 0;
        for iteration in 1..=self.iterations {
            let start = Instant::now();
            let (x, labels) = batches.next(&data.train);
            let loss = network.train_step(x, labels, optimizer)?;
            history.training_time += start.elapsed();
            history.losses.push(loss);
            epoch_loss += f64::from(loss);
            epoch_iterations += 1;
            let mut epoch = None;
            if iteration % per_epoch == 0 || iteration == self.iterations {
                let record = Epoch {
                    iteration,
                    mean_loss: epoch_loss / epoch_iterations as f64,
                    train_accuracy: accuracy(network, &data.train)?,
                    test_accuracy: accuracy(network, &data.test)?,
                    training_time: history.training_time,
                };
                history.epochs.push(record);
                (epoch_loss, epoch_iterations) = (0.0, 0);
                epoch = Some(record);
            }
            progress(&Progress {
                iteration,
                loss,
                epoch,
            });
        }
        Ok(history)
    }
}

/// What [`Run::train`] reports after each iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations done.
    pub iteration: usize,
    /// This iteration's minibatch loss.
    pub loss: f32,
    /// The epoch's record, when an epoch ended with this iteration.
    pub epoch: Option<Epoch>,
}

/// The share of `set` that `network` classifies right, in batches of 1,000.
pub fn accuracy<N: Network<Elem = f32>>(network: &N, set: &TestSet) -> anyhow::Result<f64> {
    let batch = std::num::NonZeroUsize::new(1_000).expect("1000 is not zero");
    let predictions = eval::predict(network, set.images(), Inference::Batched(batch), |_| {})?;
    let correct = predictions
        .iter()
        .zip(set.labels())
        .filter(|(p, l)| p == l)
        .count();
    Ok(correct as f64 / set.len().max(1) as f64)
}
