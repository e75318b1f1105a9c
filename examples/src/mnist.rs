//! The MNIST test set as the [`Mnist`] network takes it, and as
//! [`SimpleConvNet`](crate::SimpleConvNet) does (the same 784 values, read as one 1x28x28
//! image), and the files this crate ships.
//!
//! The book (chapter 3) feeds the network pixels divided by 255, as `float32`, so
//! [`TestSet`] does the same: each image becomes one row of 784 numbers in `[0, 1]`.
//!
//! ```no_run
//! use examples::Mnist;
//! use examples::eval::{Inference, evaluate};
//! use examples::mnist::{self, TestSet};
//!
//! let net = Mnist::load(mnist::default_weights())?;
//! let test = TestSet::open(mnist::default_images(), mnist::default_labels())?;
//! let result = evaluate(&net, test.images(), test.labels(), Inference::Single)?;
//! assert_eq!(result.confusion.correct(), 9352);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use nn_runtime::ndarray::{Array2, ArrayView2, s};

use crate::Mnist;
use crate::idx::{self, IdxError, Images, Labels};

/// The directory of the files this crate ships: `examples/data` in the repository,
/// found from this crate's manifest, so it does not depend on the current directory.
pub const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data");

/// The height and width of an MNIST image.
pub const IMAGE_SIDE: usize = 28;

/// The number of classes: the digits 0 to 9.
pub const CLASSES: usize = 10;

/// The book's trained weights for [`Mnist`]: `data/sample_weight.safetensors`.
pub fn default_weights() -> PathBuf {
    Path::new(DATA_DIR).join("sample_weight.safetensors")
}

/// The book's trained weights for [`SimpleConvNet`](crate::SimpleConvNet) (chapter 7),
/// converted to `f32`: `data/simple_convnet.safetensors`.
pub fn simple_convnet_weights() -> PathBuf {
    Path::new(DATA_DIR).join("simple_convnet.safetensors")
}

/// The book's trained weights for [`SimpleConvNet64`](crate::SimpleConvNet64), the
/// original `f64` values: `data/simple_convnet_f64.npz`.
pub fn simple_convnet_f64_weights() -> PathBuf {
    Path::new(DATA_DIR).join("simple_convnet_f64.npz")
}

/// The 10,000 MNIST test images: `data/t10k-images-idx3-ubyte.gz`.
pub fn default_images() -> PathBuf {
    Path::new(DATA_DIR).join("t10k-images-idx3-ubyte.gz")
}

/// The labels of the test images: `data/t10k-labels-idx1-ubyte.gz`.
pub fn default_labels() -> PathBuf {
    Path::new(DATA_DIR).join("t10k-labels-idx1-ubyte.gz")
}

/// A pixel's byte as the networks take it: divided by 255, as the book normalises.
#[inline]
pub fn pixel(byte: u8) -> f32 {
    f32::from(byte) / 255.0
}

/// Labelled images ready for [`Mnist`]: one row of 784 pixels in `[0, 1]` per image,
/// and its digit.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSet {
    images: Array2<f32>,
    /// The same images as bytes, a quarter of the memory to read for a random
    /// minibatch (see [`training::Batches`](crate::training::Batches)).
    bytes: Vec<u8>,
    labels: Vec<usize>,
}

impl TestSet {
    /// Reads an images file and a labels file (gzipped IDX) and checks that they fit
    /// [`Mnist`] and each other: 28x28 images, labels 0 to 9, as many labels as images.
    pub fn open(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<TestSet, IdxError> {
        TestSet::new(&Images::open(images)?, &Labels::open(labels)?)
    }

    /// The test set this crate ships ([`default_images`], [`default_labels`]).
    pub fn open_default() -> Result<TestSet, IdxError> {
        TestSet::open(default_images(), default_labels())
    }

    /// Normalises `images` (each byte divided by 255, as `f32`) and pairs them with
    /// `labels`, after the checks of [`open`](TestSet::open).
    pub fn new(images: &Images, labels: &Labels) -> Result<TestSet, IdxError> {
        idx::check_same_count(images, labels)?;
        if (images.rows(), images.cols()) != (IMAGE_SIDE, IMAGE_SIDE) {
            return Err(IdxError::BadDimensions {
                file: images.file().to_path_buf(),
                detail: format!(
                    "the images are {}x{} pixels, but the network takes {IMAGE_SIDE}x{IMAGE_SIDE} ({} inputs)",
                    images.rows(),
                    images.cols(),
                    Mnist::INPUT
                ),
            });
        }
        if let Some((index, label)) = labels
            .as_slice()
            .iter()
            .enumerate()
            .find(|(_, label)| usize::from(**label) >= CLASSES)
        {
            return Err(IdxError::LabelOutOfRange {
                file: labels.file().to_path_buf(),
                index,
                label: *label,
                classes: CLASSES,
            });
        }
        let bytes = images.as_bytes().to_vec();
        let pixels = bytes.iter().map(|&p| pixel(p)).collect();
        let images = Array2::from_shape_vec((images.len(), Mnist::INPUT), pixels).map_err(|e| {
            IdxError::BadDimensions {
                file: images.file().to_path_buf(),
                detail: e.to_string(),
            }
        })?;
        let labels = labels.as_slice().iter().map(|&l| usize::from(l)).collect();
        Ok(TestSet {
            images,
            bytes,
            labels,
        })
    }

    /// The images as bytes, [`Mnist::INPUT`] per image: [`pixel`] of each is the
    /// value in [`images`](Self::images).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The images, one per row of [`Mnist::INPUT`] numbers.
    pub fn images(&self) -> ArrayView2<'_, f32> {
        self.images.view()
    }

    /// The digit of each image.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Image `index` as the network's input, or `None` past the last one.
    pub fn image(&self, index: usize) -> Option<&[f32; Mnist::INPUT]> {
        let start = index.checked_mul(Mnist::INPUT)?;
        self.images.as_slice()?.get(start..)?.first_chunk()
    }

    /// Keeps the first `n` images (all of them if there are fewer).
    pub fn truncate(&mut self, n: usize) {
        let n = n.min(self.len());
        self.images = self.images.slice(s![..n, ..]).to_owned();
        self.bytes.truncate(n * Mnist::INPUT);
        self.labels.truncate(n);
    }
}
