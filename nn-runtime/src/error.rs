//! The error types: [`ShapeError`] (data of the wrong size), [`LoadError`] (a parameter
//! file that does not fit the network) and [`SaveError`] (a checkpoint not written).

use std::path::PathBuf;

/// A slice or matrix whose size is not what a layer or network takes: a batch of the
/// wrong width, a sample of the wrong length, a weight of the wrong length.
///
/// ```
/// use nn_runtime::{Affine, Activation, ndarray::Array2};
///
/// let layer = Affine::<f32, 3, 2>::zeros(Activation::Identity);
/// let err = layer.forward_batch(Array2::zeros((5, 4)).view()).unwrap_err();
/// assert_eq!((err.expected, err.found), (3, 4));
/// assert_eq!(err.to_string(), "wrong input width: expected 3, found 4");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("wrong {what}: expected {expected}, found {found}")]
#[non_exhaustive]
pub struct ShapeError {
    /// What has the wrong size, e.g. `"input width"` or `"bias length"`.
    pub what: &'static str,
    /// The size that was expected.
    pub expected: usize,
    /// The size that was found.
    pub found: usize,
}

impl ShapeError {
    /// A `what` (e.g. `"input width"`) that should be `expected` long but is `found`.
    pub fn new(what: &'static str, expected: usize, found: usize) -> Self {
        Self {
            what,
            expected,
            found,
        }
    }

    /// A sample or batch row of `found` values for a network or layer that takes
    /// `expected`.
    pub fn input_width(expected: usize, found: usize) -> Self {
        Self::new("input width", expected, found)
    }
}

/// Why a parameter file could not be loaded into a network.
///
/// Each message starts with the file's path as given to [`Tensors::open`](crate::Tensors::open)
/// and names the tensor and both shapes where there are any:
///
/// ```text
/// sample_weight.safetensors: tensor `W1` has shape [50, 784] but the network expects [784, 50] (it looks transposed: PyTorch's Linear stores [out, in]; transpose it when exporting)
/// sample_weight.npz: the file is truncated: the zip archive has no end-of-central-directory record (the file was cut short)
/// ```
///
/// A weight exported from PyTorch without transposing it:
///
/// ```
/// use nn_runtime::{Activation, Affine, Format, LoadError, Tensors};
///
/// let header = br#"{"W1":{"dtype":"F32","shape":[3,2],"data_offsets":[0,24]},"b1":{"dtype":"F32","shape":[3],"data_offsets":[24,36]}}"#;
/// let mut file = (header.len() as u64).to_le_bytes().to_vec();
/// file.extend_from_slice(header);
/// file.extend_from_slice(&[0; 36]);
///
/// let mut tensors = Tensors::from_bytes(&file, Format::Safetensors, "torch.safetensors")?;
/// let err = Affine::<f32, 2, 3>::load(&mut tensors, "W1", "b1", Activation::Relu).unwrap_err();
/// assert!(matches!(err, LoadError::WrongShape { transposed: true, .. }));
/// assert_eq!(
///     err.to_string(),
///     "torch.safetensors: tensor `W1` has shape [3, 2] but the network expects [2, 3] \
///      (it looks transposed: PyTorch's Linear stores [out, in]; transpose it when exporting)"
/// );
/// # Ok::<(), LoadError>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read (it does not exist, no permission, ...).
    ///
    /// The message ends with the operating system's reason, so it is not also given as
    /// [`source`](std::error::Error::source): printed with its causes it would repeat.
    #[error("{}: cannot read the file: {error}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        error: std::io::Error,
    },
    /// The file's extension names no supported format, and its content does not look
    /// like one either.
    #[error(
        "{}: unsupported parameter file format {}: expected a `.safetensors` or `.npz` file",
        file.display(),
        if extension.is_empty() { "(no extension)".to_owned() } else { format!("`.{extension}`") }
    )]
    UnsupportedFormat {
        /// The file.
        file: PathBuf,
        /// Its extension, without the dot; empty if it has none.
        extension: String,
    },
    /// The file ends before the data its own header describes.
    #[error("{}: the file is truncated: {detail}", file.display())]
    Truncated {
        /// The file.
        file: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The file is not a valid `.safetensors` or `.npz` file.
    #[error("{}: the file is corrupt: {detail}", file.display())]
    Corrupt {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The network needs a tensor that the file does not have.
    #[error(
        "{}: the network needs tensor `{tensor}` of shape {shape:?}, but the file has no such tensor ({})",
        file.display(),
        if available.is_empty() { "it has no tensors at all".to_owned() } else { format!("it has {}", quoted(available)) }
    )]
    MissingTensor {
        /// The file.
        file: PathBuf,
        /// The tensor's name, e.g. `W1` or `hidden1.weight`.
        tensor: String,
        /// The shape the network expects.
        shape: Vec<usize>,
        /// The tensors the file has, sorted.
        available: Vec<String>,
    },
    /// The file has tensors that the network does not use: strict loading refuses them,
    /// since they usually mean a file for another network.
    #[error(
        "{}: {} not used by the network",
        file.display(),
        if tensors.len() == 1 { format!("tensor {} is", quoted(tensors)) } else { format!("tensors {} are", quoted(tensors)) }
    )]
    UnexpectedTensor {
        /// The file.
        file: PathBuf,
        /// The unused tensors, sorted.
        tensors: Vec<String>,
    },
    /// A tensor has another shape than the layer's.
    #[error(
        "{}: tensor `{tensor}` has shape {found:?} but the network expects {expected:?}{}",
        file.display(),
        if *transposed { " (it looks transposed: PyTorch's Linear stores [out, in]; transpose it when exporting)" } else { "" }
    )]
    WrongShape {
        /// The file.
        file: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The shape the network expects.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
        /// Whether `found` is `expected` with its two axes swapped.
        transposed: bool,
    },
    /// A tensor has another element type than the network's.
    #[error(
        "{}: tensor `{tensor}` has dtype {found} but the network expects {expected}{}",
        file.display(),
        if matches!(found.as_str(), "f16" | "bf16" | "f32" | "f64") { format!(" (convert it to {expected} when exporting)") } else { String::new() }
    )]
    WrongDType {
        /// The file.
        file: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The network's element type, `"f32"` or `"f64"`.
        expected: &'static str,
        /// The element type in the file, e.g. `"f64"`, `"i64"`, `"bf16"`.
        found: String,
    },
}

/// `a`, `b`, `c`: names in backticks, separated by commas.
fn quoted(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

/// A network's parameters could not be written by `save`.
///
/// ```
/// use nn_runtime::SaveError;
///
/// let err = SaveError::Io {
///     path: "/no/such/dir/net.safetensors".into(),
///     source: std::io::Error::from(std::io::ErrorKind::NotFound),
/// };
/// assert!(err.to_string().starts_with("/no/such/dir/net.safetensors: cannot write the file"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The file could not be written (no such directory, no permission, disk full).
    #[error("{}: cannot write the file: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The tensors could not be encoded as safetensors.
    #[error("{}: cannot encode the tensors: {message}", path.display())]
    Encode {
        /// The file.
        path: PathBuf,
        /// What the encoder said.
        message: String,
    },
}
