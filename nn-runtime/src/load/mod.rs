//! Parameter files: [`Tensors`] reads a whole `.safetensors` or `.npz` file, checks it,
//! and hands out its tensors by name with strict checks of shape and element type.

mod npy;
mod npz;
mod safetensors;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::{ArrayView, IxDyn, ShapeBuilder};

use crate::{Float, LoadError};

/// The format of a parameter file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// [safetensors](https://huggingface.co/docs/safetensors): a JSON header, then the
    /// raw little-endian data.
    Safetensors,
    /// numpy's `np.savez` / `np.savez_compressed`: a zip of `.npy` files, one per tensor
    /// (`W1.npy` holds `W1`).
    Npz,
}

impl Format {
    /// The format that a path's extension names (`.safetensors` or `.npz`, in any case).
    ///
    /// ```
    /// use nn_runtime::Format;
    /// assert_eq!(Format::from_path("weights/mnist.NPZ"), Some(Format::Npz));
    /// assert_eq!(Format::from_path("mnist.pkl"), None);
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Option<Format> {
        let extension = path.as_ref().extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("safetensors") {
            Some(Format::Safetensors)
        } else if extension.eq_ignore_ascii_case("npz") {
            Some(Format::Npz)
        } else {
            None
        }
    }

    /// The format that a file's first bytes suggest: a zip archive for `.npz`, an 8-byte
    /// length and a `{` for safetensors.
    ///
    /// ```
    /// use nn_runtime::Format;
    /// assert_eq!(Format::sniff(b"PK\x03\x04..."), Some(Format::Npz));
    /// assert_eq!(Format::sniff(b"\x02\0\0\0\0\0\0\0{}"), Some(Format::Safetensors));
    /// assert_eq!(Format::sniff(b"\x80\x04\x95"), None);  // a pickle
    /// ```
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            return Some(Format::Npz);
        }
        let (length, rest) = bytes.split_first_chunk::<8>()?;
        let plausible = u64::from_le_bytes(*length) <= safetensors::MAX_HEADER as u64;
        (plausible && rest.first() == Some(&b'{')).then_some(Format::Safetensors)
    }
}

impl fmt::Display for Format {
    /// `.safetensors` or `.npz`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Safetensors => ".safetensors",
            Format::Npz => ".npz",
        })
    }
}

/// An opened parameter file: every tensor's name, element type, shape and data.
///
/// [`open`](Self::open) reads and checks the whole file; [`take`](Self::take) hands out
/// one tensor, checking that it has exactly the element type and shape the network
/// expects; [`finish`](Self::finish) fails if the file has a tensor nobody took. This is
/// what a generated network's `load` does, layer by layer:
///
/// ```
/// use nn_runtime::Tensors;
///
/// let mut tensors = Tensors::open("tests/data/sample_weight.npz")?;
/// assert_eq!(tensors.names().collect::<Vec<_>>(), ["W1", "W2", "W3", "b1", "b2", "b3"]);
/// let w3: Vec<f32> = tensors.take("W3", &[100, 10])?;
/// let b3: Vec<f32> = tensors.take("b3", &[10])?;
/// assert_eq!((w3.len(), b3[9]), (1000, 0.053233497));
///
/// // W1, b1, W2, b2 were never taken.
/// let err = tensors.finish().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "tests/data/sample_weight.npz: tensors `W1`, `W2`, `b1`, `b2` are not used by the network"
/// );
/// # Ok::<(), nn_runtime::LoadError>(())
/// ```
#[derive(Debug)]
pub struct Tensors {
    file: PathBuf,
    tensors: BTreeMap<String, RawTensor>,
    taken: BTreeSet<String>,
}

/// One tensor as the file stores it.
#[derive(Debug)]
struct RawTensor {
    /// `"f32"`, `"f64"`, `"i64"`, `"bf16"`, ...; for a dtype without such a name, what
    /// the file says, quoted (numpy's `"'<U10'"`), so it never passes for one of ours.
    dtype: String,
    shape: Vec<usize>,
    big_endian: bool,
    /// numpy's `fortran_order`: the data is column-major.
    fortran_order: bool,
    /// The packed elements. For the dtypes `take` decodes, the loaders have checked that
    /// the length is the shape's element count times the element size.
    data: Vec<u8>,
}

/// What is wrong with a file's bytes; the loader adds the file's name.
#[derive(Debug)]
enum Malformed {
    Truncated(String),
    Corrupt(String),
}

impl Malformed {
    /// The same problem, inside the archive entry `entry`.
    fn within(self, entry: &str) -> Malformed {
        match self {
            Malformed::Truncated(d) => Malformed::Truncated(format!("entry `{entry}`: {d}")),
            Malformed::Corrupt(d) => Malformed::Corrupt(format!("entry `{entry}`: {d}")),
        }
    }
}

impl Tensors {
    /// Reads and checks a whole parameter file. The format comes from the extension
    /// (`.safetensors`, `.npz`) or, for another extension, from the first bytes.
    ///
    /// An unreadable file is [`LoadError::Io`]; one of neither format
    /// [`LoadError::UnsupportedFormat`]; a file that ends before the data its header
    /// describes [`LoadError::Truncated`]; any other damage [`LoadError::Corrupt`].
    ///
    /// ```
    /// use nn_runtime::{LoadError, Tensors};
    ///
    /// let tensors = Tensors::open("tests/data/sample_weight.safetensors")?;
    /// assert_eq!(tensors.shape("W1"), Some(&[784, 50][..]));
    /// assert_eq!(tensors.dtype("W1"), Some("f32"));
    ///
    /// let err = Tensors::open("no/such/file.npz").unwrap_err();
    /// assert!(matches!(err, LoadError::Io { .. }));
    /// assert!(err.to_string().starts_with("no/such/file.npz: cannot read the file: "));
    /// # Ok::<(), LoadError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Tensors, LoadError> {
        let file = path.as_ref().to_path_buf();
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) => return Err(LoadError::Io { file, error }),
        };
        let Some(format) = Format::from_path(&file).or_else(|| Format::sniff(&bytes)) else {
            let extension = file
                .extension()
                .map_or_else(String::new, |e| e.to_string_lossy().into_owned());
            return Err(LoadError::UnsupportedFormat { file, extension });
        };
        Tensors::from_bytes(&bytes, format, file)
    }

    /// Reads and checks parameters held in memory (for instance `include_bytes!` of a
    /// file), naming them `name` in error messages.
    ///
    /// ```
    /// use nn_runtime::{Format, LoadError, Tensors};
    ///
    /// let err = Tensors::from_bytes(b"\x10\0\0\0", Format::Safetensors, "weights").unwrap_err();
    /// assert!(matches!(err, LoadError::Truncated { .. }));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "weights: the file is truncated: it has 4 bytes, fewer than the 8 of the header length"
    /// );
    /// ```
    pub fn from_bytes(
        bytes: &[u8],
        format: Format,
        name: impl AsRef<Path>,
    ) -> Result<Tensors, LoadError> {
        let file = name.as_ref().to_path_buf();
        let parsed = match format {
            Format::Safetensors => safetensors::parse(bytes),
            Format::Npz => npz::parse(bytes),
        };
        match parsed {
            Ok(tensors) => Ok(Tensors {
                file,
                tensors,
                taken: BTreeSet::new(),
            }),
            Err(Malformed::Truncated(detail)) => Err(LoadError::Truncated { file, detail }),
            Err(Malformed::Corrupt(detail)) => {
                // The most likely cause of a file that is all wrong: the other format.
                let detail = match Format::sniff(bytes) {
                    Some(other) if other != format => format!(
                        "this is not a {format} file, it looks like a {other} file: give it the `{other}` extension"
                    ),
                    _ => detail,
                };
                Err(LoadError::Corrupt { file, detail })
            }
        }
    }

    /// Takes the tensor `name`, which must have exactly the element type `T` and the
    /// shape `shape`, as a row-major vector, and marks it used.
    ///
    /// A tensor the file lacks is [`LoadError::MissingTensor`]; one of another element
    /// type [`LoadError::WrongDType`]; one of another shape [`LoadError::WrongShape`]
    /// (which says so when the shape is the expected one transposed).
    ///
    /// ```
    /// use nn_runtime::{LoadError, Tensors};
    ///
    /// let mut tensors = Tensors::open("tests/data/sample_weight.safetensors")?;
    /// let b1: Vec<f32> = tensors.take("b1", &[50])?;
    /// assert_eq!(b1[0], -0.067503154);
    ///
    /// let err = tensors.take::<f64>("b1", &[50]).unwrap_err();
    /// assert!(matches!(err, LoadError::WrongDType { .. }));
    /// let err = tensors.take::<f32>("W1", &[50, 784]).unwrap_err();
    /// assert!(matches!(err, LoadError::WrongShape { transposed: true, .. }));
    /// let err = tensors.take::<f32>("W9", &[10, 10]).unwrap_err();
    /// assert!(matches!(err, LoadError::MissingTensor { .. }));
    /// # Ok::<(), LoadError>(())
    /// ```
    pub fn take<T: Float>(&mut self, name: &str, shape: &[usize]) -> Result<Vec<T>, LoadError> {
        let Some(tensor) = self.tensors.get(name) else {
            return Err(LoadError::MissingTensor {
                file: self.file.clone(),
                tensor: name.to_owned(),
                shape: shape.to_vec(),
                available: self.tensors.keys().cloned().collect(),
            });
        };
        if tensor.dtype != T::DTYPE {
            return Err(LoadError::WrongDType {
                file: self.file.clone(),
                tensor: name.to_owned(),
                expected: T::DTYPE,
                found: tensor.dtype.clone(),
            });
        }
        if tensor.shape != shape {
            let transposed =
                matches!((shape, &tensor.shape[..]), ([a, b], [c, d]) if a == d && b == c);
            return Err(LoadError::WrongShape {
                file: self.file.clone(),
                tensor: name.to_owned(),
                expected: shape.to_vec(),
                found: tensor.shape.clone(),
                transposed,
            });
        }
        // Each format checks its lengths when it reads the file; this guards the decoding
        // itself, whatever a format's header claimed.
        let needed = shape
            .iter()
            .try_fold(size_of::<T>(), |n, &d| n.checked_mul(d));
        if needed != Some(tensor.data.len()) {
            return Err(LoadError::Corrupt {
                file: self.file.clone(),
                detail: format!(
                    "tensor `{name}` of shape {shape:?} and dtype {} has {} bytes of data",
                    T::DTYPE,
                    tensor.data.len()
                ),
            });
        }
        let mut values = T::decode(&tensor.data, tensor.big_endian);
        if tensor.fortran_order && shape.len() > 1 {
            let column_major = ArrayView::from_shape(IxDyn(shape).f(), &values)
                .expect("the loader checked that the data fills the shape");
            values = column_major.iter().copied().collect();
        }
        self.taken.insert(name.to_owned());
        Ok(values)
    }

    /// Checks that every tensor of the file was taken: a tensor nobody asked for is
    /// [`LoadError::UnexpectedTensor`], since it usually means a file made for another
    /// network.
    pub fn finish(self) -> Result<(), LoadError> {
        let unused: Vec<String> = self
            .tensors
            .into_keys()
            .filter(|name| !self.taken.contains(name))
            .collect();
        if unused.is_empty() {
            Ok(())
        } else {
            Err(LoadError::UnexpectedTensor {
                file: self.file,
                tensors: unused,
            })
        }
    }

    /// The file's path (or the name given to [`from_bytes`](Self::from_bytes)).
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The names of the tensors in the file, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The shape of the tensor `name`, if the file has it.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|t| &t.shape[..])
    }

    /// The element type of the tensor `name` (`"f32"`, `"f64"`, `"i64"`, ...), if the
    /// file has it.
    pub fn dtype(&self, name: &str) -> Option<&str> {
        self.tensors.get(name).map(|t| t.dtype.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever a format's reader let through, `take` decodes only data that fills the
    /// shape exactly: a short or long tensor is `Corrupt`, not a panic or a wrong layer.
    #[test]
    fn take_refuses_data_that_does_not_fill_the_shape() {
        for (len, fortran_order) in [(8, false), (8, true), (4 * 7, false), (0, true)] {
            let tensor = RawTensor {
                dtype: "f32".to_owned(),
                shape: vec![2, 3],
                big_endian: false,
                fortran_order,
                data: vec![0; len],
            };
            let mut tensors = Tensors {
                file: PathBuf::from("made.npz"),
                tensors: BTreeMap::from([("W1".to_owned(), tensor)]),
                taken: BTreeSet::new(),
            };
            let err = tensors
                .take::<f32>("W1", &[2, 3])
                .expect_err("not 24 bytes");
            assert_eq!(
                err.to_string(),
                format!(
                    "made.npz: the file is corrupt: tensor `W1` of shape [2, 3] and dtype f32 has {len} bytes of data"
                )
            );
        }
    }
}
