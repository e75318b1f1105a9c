//! Measuring a classifier: predictions, accuracy, per-class accuracy and the confusion
//! matrix, for any [`Network`] whose outputs are class scores (the predicted class is
//! the largest output).
//!
//! [`predict`] runs the network one sample at a time ([`Inference::Single`], through
//! [`Network::forward`]) or a batch at a time ([`Inference::Batched`], through
//! [`Network::forward_batch`]); [`Evaluation`] compares the predictions with the labels;
//! [`evaluate`] does both.
//!
//! ```
//! use std::num::NonZeroUsize;
//!
//! use examples::ThreeLayer;
//! use examples::eval::{Inference, evaluate};
//! use nn_runtime::ndarray::array;
//!
//! // The book's three-layer network, read as a classifier of two classes.
//! let net = ThreeLayer::new();
//! let inputs = array![[1.0, 0.5], [-4.0, 2.0], [0.0, 0.0]];
//! let labels = [1, 0, 0];
//! let single = evaluate(&net, inputs.view(), &labels, Inference::Single)?;
//! let batches = Inference::Batched(NonZeroUsize::new(2).expect("2 is not zero"));
//! let batched = evaluate(&net, inputs.view(), &labels, batches)?;
//! assert_eq!(single, batched);
//! assert_eq!(single.predictions, [1, 1, 1]);
//! assert_eq!(single.misclassified, [1, 2]);
//! assert_eq!(single.confusion.count(0, 1), 2);
//! # Ok::<(), examples::eval::EvalError>(())
//! ```

use std::num::NonZeroUsize;

use nn_runtime::ndarray::{ArrayView2, Axis};
use nn_runtime::{Float, Network, ShapeError, kernels};

/// How [`predict`] runs the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inference {
    /// One sample at a time, through [`Network::forward`] (no heap allocation per sample).
    Single,
    /// Batches of this many samples through [`Network::forward_batch`]; the last batch
    /// holds what is left.
    Batched(NonZeroUsize),
}

/// Why an evaluation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The samples are not as wide as the network's input.
    #[error(transparent)]
    Shape(#[from] ShapeError),
    /// There are not as many labels as samples.
    #[error("there are {samples} samples but {labels} labels")]
    LengthMismatch {
        /// The number of samples (or predictions).
        samples: usize,
        /// The number of labels.
        labels: usize,
    },
    /// A label or a prediction is not a class.
    #[error("{what} {value} of sample {index} is not a class: there are {classes} classes")]
    OutOfRange {
        /// `"label"` or `"prediction"`.
        what: &'static str,
        /// The sample, from 0.
        index: usize,
        /// The label or prediction.
        value: usize,
        /// The number of classes.
        classes: usize,
    },
    /// The network has no outputs, so it predicts no class.
    #[error("the network has no outputs, so it cannot classify")]
    NoOutputs,
}

/// The least number of samples [`predict`] runs between two calls of its `progress`.
/// A call per sample would cost a good part of a sample that takes a microsecond or two
/// (a progress bar reads the clock), inside the time a caller measures.
pub const PROGRESS_EVERY: usize = 256;

/// The class of each row of `inputs` (one sample per row): the index of the network's
/// largest output. `progress` is called with the number of samples done since its
/// previous call, each time at least [`PROGRESS_EVERY`] more are done (after the batch
/// that reaches them), and once at the end for the rest: the numbers add up to the
/// number of rows.
pub fn predict<N: Network>(
    net: &N,
    inputs: ArrayView2<'_, N::Elem>,
    how: Inference,
    mut progress: impl FnMut(usize),
) -> Result<Vec<usize>, EvalError> {
    let mut predictions = Vec::with_capacity(inputs.nrows());
    let mut pending = 0;
    let mut done = |samples: usize| {
        pending += samples;
        if pending >= PROGRESS_EVERY {
            progress(pending);
            pending = 0;
        }
    };
    match how {
        Inference::Single => {
            let mut copy = Vec::new();
            for row in inputs.rows() {
                let y = match row.as_slice() {
                    Some(x) => net.forward_slice(x)?,
                    None => {
                        copy.clear();
                        copy.extend(row.iter().copied());
                        net.forward_slice(&copy)?
                    }
                };
                predictions.push(class_of(y.as_ref())?);
                done(1);
            }
        }
        Inference::Batched(size) => {
            for batch in inputs.axis_chunks_iter(Axis(0), size.get()) {
                let y = net.forward_batch(batch)?;
                for row in y.rows() {
                    let class = match row.as_slice() {
                        Some(y) => class_of(y)?,
                        None => class_of(&row.to_vec())?,
                    };
                    predictions.push(class);
                }
                done(batch.nrows());
            }
        }
    }
    if pending > 0 {
        progress(pending);
    }
    Ok(predictions)
}

/// The index of the largest output.
fn class_of<T: Float>(y: &[T]) -> Result<usize, EvalError> {
    kernels::argmax(y).ok_or(EvalError::NoOutputs)
}

/// Runs `net` on `inputs` ([`predict`]) and compares its predictions with `labels`
/// ([`Evaluation::new`]); the number of classes is the network's number of outputs.
pub fn evaluate<N: Network>(
    net: &N,
    inputs: ArrayView2<'_, N::Elem>,
    labels: &[usize],
    how: Inference,
) -> Result<Evaluation, EvalError> {
    if inputs.nrows() != labels.len() {
        return Err(EvalError::LengthMismatch {
            samples: inputs.nrows(),
            labels: labels.len(),
        });
    }
    let predictions = predict(net, inputs, how, |_| {})?;
    Evaluation::new(N::OUTPUT, labels, predictions)
}

/// Predictions compared with labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    /// The predicted class of each sample.
    pub predictions: Vec<usize>,
    /// The samples whose prediction is not their label, in order.
    pub misclassified: Vec<usize>,
    /// The counts of each (label, prediction) pair.
    pub confusion: Confusion,
}

impl Evaluation {
    /// Compares `predictions` with `labels`, both classes below `classes`.
    pub fn new(
        classes: usize,
        labels: &[usize],
        predictions: Vec<usize>,
    ) -> Result<Evaluation, EvalError> {
        let confusion = Confusion::new(classes, labels, &predictions)?;
        let misclassified = labels
            .iter()
            .zip(&predictions)
            .enumerate()
            .filter(|(_, (label, prediction))| label != prediction)
            .map(|(index, _)| index)
            .collect();
        Ok(Evaluation {
            predictions,
            misclassified,
            confusion,
        })
    }
}

/// A confusion matrix: how many samples of each label got each prediction.
///
/// ```
/// use examples::eval::Confusion;
///
/// let confusion = Confusion::new(3, &[0, 1, 1, 2], &[0, 1, 2, 2])?;
/// assert_eq!(confusion.count(1, 2), 1);
/// assert_eq!((confusion.correct(), confusion.total()), (3, 4));
/// assert_eq!(confusion.accuracy(), Some(0.75));
/// assert_eq!(confusion.label_accuracy(1), Some(0.5));
/// # Ok::<(), examples::eval::EvalError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    classes: usize,
    /// `counts[label * classes + prediction]`.
    counts: Vec<usize>,
}

impl Confusion {
    /// Counts each (label, prediction) pair; every label and prediction must be below
    /// `classes`, and there must be as many predictions as labels.
    pub fn new(
        classes: usize,
        labels: &[usize],
        predictions: &[usize],
    ) -> Result<Confusion, EvalError> {
        if predictions.len() != labels.len() {
            return Err(EvalError::LengthMismatch {
                samples: predictions.len(),
                labels: labels.len(),
            });
        }
        let mut counts = vec![0; classes * classes];
        for (index, (&label, &prediction)) in labels.iter().zip(predictions).enumerate() {
            for (what, value) in [("label", label), ("prediction", prediction)] {
                if value >= classes {
                    return Err(EvalError::OutOfRange {
                        what,
                        index,
                        value,
                        classes,
                    });
                }
            }
            counts[label * classes + prediction] += 1;
        }
        Ok(Confusion { classes, counts })
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How many samples labelled `label` were predicted as `prediction` (0 for a class
    /// out of range).
    pub fn count(&self, label: usize, prediction: usize) -> usize {
        if label < self.classes && prediction < self.classes {
            self.counts[label * self.classes + prediction]
        } else {
            0
        }
    }

    /// The number of samples.
    pub fn total(&self) -> usize {
        self.counts.iter().sum()
    }

    /// The number of samples predicted as their label.
    pub fn correct(&self) -> usize {
        (0..self.classes).map(|c| self.count(c, c)).sum()
    }

    /// `correct() / total()`, or `None` when there are no samples.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.correct(), self.total())
    }

    /// The number of samples labelled `label`.
    pub fn label_total(&self, label: usize) -> usize {
        (0..self.classes).map(|p| self.count(label, p)).sum()
    }

    /// The number of samples labelled `label` that were predicted as `label`.
    pub fn label_correct(&self, label: usize) -> usize {
        self.count(label, label)
    }

    /// The accuracy on the samples labelled `label`, or `None` when there are none.
    pub fn label_accuracy(&self, label: usize) -> Option<f64> {
        ratio(self.label_correct(label), self.label_total(label))
    }
}

fn ratio(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ThreeLayer;
    use nn_runtime::ndarray::Array2;

    /// The calls of `progress` while `predict` runs `rows` samples `how`.
    fn progress_calls(rows: usize, how: Inference) -> Vec<usize> {
        let inputs = Array2::from_shape_fn((rows, 2), |(r, c)| (r + c) as f64 / 100.0);
        let mut calls = Vec::new();
        let predictions =
            predict(&ThreeLayer::new(), inputs.view(), how, |n| calls.push(n)).expect("two inputs");
        assert_eq!(predictions.len(), rows);
        calls
    }

    #[test]
    fn progress_comes_in_steps_and_adds_up() {
        let batches = |n| Inference::Batched(NonZeroUsize::new(n).expect("not zero"));
        assert_eq!(
            progress_calls(1000, Inference::Single),
            [256, 256, 256, 232]
        );
        assert_eq!(progress_calls(256, Inference::Single), [256]);
        assert_eq!(progress_calls(3, Inference::Single), [3]);
        assert_eq!(progress_calls(0, Inference::Single), [0_usize; 0]);
        assert_eq!(progress_calls(1000, batches(100)), [300, 300, 300, 100]);
        assert_eq!(progress_calls(1000, batches(1000)), [1000]);
        assert_eq!(progress_calls(700, batches(1)), [256, 256, 188]);
    }
}
