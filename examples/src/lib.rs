//! The networks of chapters 2, 3 and 7 of "Deep Learning from Scratch", end to end: each
//! is a `.nn` file in `nets/`, compiled into Rust by [`network!`](nn_runtime::network).
//!
//! - [`And`], [`Nand`], [`Or`] and [`Xor`] (`nets/gates.nn`): the logic gates of
//!   chapter 2 as perceptrons with the book's weights; XOR takes two layers.
//! - [`ThreeLayer`] (`nets/three_layer.nn`): the three-layer network of section 3.4.3,
//!   its weights written inline.
//! - [`Mnist`] (`nets/mnist.nn`): 784 -> 50 -> 100 -> 10, which [`Mnist::load`] fills
//!   with the book's trained weights (`data/sample_weight.safetensors`).
//! - [`SimpleConvNet`] (`nets/simple_convnet.nn`, chapter 7): conv 5x5 (30 filters),
//!   relu, 2x2 max-pool, flatten, 4320 -> 100 relu, 100 -> 10 softmax, with the book's
//!   trained weights (`data/simple_convnet.safetensors`); [`SimpleConvNet64`] is the same
//!   network in `f64` for the original `f64` weights (`data/simple_convnet_f64.npz`).
//!
//! - [`TwoLayer`] (`nets/two_layer.nn`, chapter 5): 784 -> 50 relu -> 10 softmax, which
//!   the `train` program learns from the 60,000 training images; [`MultiLayer`]
//!   (`nets/multi_layer.nn`, chapter 6): four hidden layers of 100, for the `optimizers`
//!   program.
//!
//! Around them: [`idx`] reads the MNIST files (gzipped IDX), [`mnist`] turns them into
//! a test set the network takes, and [`eval`] measures any [`Network`](nn_runtime::Network)
//! on it (accuracy, per-class accuracy, confusion matrix); [`training`] is the book's
//! training loop and [`plot`] draws its curves. The `mnist` and `convnet`
//! binaries and the tests share that code; [`report`] is the two binaries' run and
//! printout, for any network that classifies digits.
//!
//! ```
//! use examples::{ThreeLayer, Xor};
//!
//! assert_eq!(Xor::new().forward(&[1.0, 0.0]), [1.0]);
//! assert_eq!(Xor::new().forward(&[1.0, 1.0]), [0.0]);
//! let y = ThreeLayer::new().forward(&[1.0, 0.5]);
//! assert!((y[0] - 0.31682708).abs() < 1e-8 && (y[1] - 0.69627909).abs() < 1e-8);
//! ```

pub mod eval;
pub mod idx;
pub mod mnist;
pub mod plot;
pub mod report;
pub mod training;

// Paths are relative to this crate's Cargo.toml.
nn_runtime::network!(file = "nets/gates.nn");
nn_runtime::network!(file = "nets/three_layer.nn");
nn_runtime::network!(file = "nets/mnist.nn");
nn_runtime::network!(file = "nets/simple_convnet.nn");
nn_runtime::network!(file = "nets/simple_convnet_f64.nn");
nn_runtime::network!(file = "nets/two_layer.nn");
nn_runtime::network!(file = "nets/multi_layer.nn");
