//! A reader of gzipped IDX files, the format of the MNIST database.
//!
//! An IDX file is a big-endian header followed by the data: a magic number whose third
//! byte is the element type (`0x08`, unsigned byte) and whose fourth is the number of
//! dimensions, then each dimension's size as a `u32`, then the elements, row-major.
//! MNIST's images are `0x00000803` (count x rows x columns), its labels `0x00000801`
//! (count). MNIST ships them gzipped, and so does this repository.
//!
//! [`Images::open`] and [`Labels::open`] check everything the header promises: the magic
//! number, the dimensions, and that the data is exactly as long as they say (a file cut
//! short or with bytes left over is an error, and so is a damaged gzip stream).
//! [`check_same_count`] checks that an images file and a labels file belong together.
//! Every problem is an [`IdxError`] whose message starts with the file's name:
//!
//! ```
//! use examples::idx::{IdxError, Labels};
//!
//! let err = Labels::from_gzip(b"\x00\x00\x08\x01\x00\x00\x00\x02\x07\x02", "labels.idx").unwrap_err();
//! assert!(matches!(err, IdxError::NotGzip { looks_like_idx: true, .. }));
//! assert_eq!(
//!     err.to_string(),
//!     "labels.idx: not a gzip file (a gzip file starts with the bytes 1f 8b); \
//!      it looks like an uncompressed IDX file: compress it with gzip"
//! );
//! ```

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;

/// The magic number of an IDX file of unsigned bytes in three dimensions: MNIST's images.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// The magic number of an IDX file of unsigned bytes in one dimension: MNIST's labels.
pub const LABELS_MAGIC: u32 = 0x0000_0801;

/// The first two bytes of every gzip file.
const GZIP_SIGNATURE: [u8; 2] = [0x1f, 0x8b];

/// What went wrong reading an IDX file. Each message starts with the file's name as
/// it was given.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdxError {
    /// The file could not be read (it does not exist, no permission, ...). The reason
    /// ends the message and is not also the error's `source`, so it is never repeated.
    #[error("{}: cannot read the file: {error}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        error: io::Error,
    },
    /// The file does not start with the gzip signature.
    #[error(
        "{}: not a gzip file (a gzip file starts with the bytes 1f 8b){}",
        file.display(),
        if *looks_like_idx { "; it looks like an uncompressed IDX file: compress it with gzip" } else { "" }
    )]
    NotGzip {
        /// The file.
        file: PathBuf,
        /// Whether the file starts like an uncompressed IDX file of unsigned bytes.
        looks_like_idx: bool,
    },
    /// The gzip stream is damaged (a wrong checksum, invalid compressed data).
    #[error("{}: the gzip data is corrupt: {error}", file.display())]
    CorruptGzip {
        /// The file.
        file: PathBuf,
        /// What the decompressor said.
        error: io::Error,
    },
    /// The file ends before the data its header describes, or before the header itself,
    /// or the gzip stream ends before its end.
    #[error("{}: the file is truncated: {detail}", file.display())]
    Truncated {
        /// The file.
        file: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// The file has more data than its header describes.
    #[error(
        "{}: the file has more data than its header describes ({expected} bytes with the header)",
        file.display()
    )]
    TrailingData {
        /// The file.
        file: PathBuf,
        /// The length, header included, that the header describes.
        expected: u64,
    },
    /// The magic number is not the one of the expected kind of file.
    #[error(
        "{}: wrong magic number 0x{found:08x}: an IDX {} file starts with 0x{expected:08x}{}",
        file.display(),
        kind_of(*expected),
        match *found {
            IMAGES_MAGIC => " (this is an images file)",
            LABELS_MAGIC => " (this is a labels file)",
            _ => "",
        }
    )]
    WrongMagic {
        /// The file.
        file: PathBuf,
        /// The magic number of the kind of file that was expected.
        expected: u32,
        /// The magic number in the file.
        found: u32,
    },
    /// The header's dimensions cannot describe the data: a zero-sized image, or a size
    /// too large to hold in memory.
    #[error("{}: {detail}", file.display())]
    BadDimensions {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A label is not one of the classes (for MNIST, a digit 0 to 9).
    #[error(
        "{}: label {index} is {label}, but there are only {classes} classes (0 to {})",
        file.display(),
        classes.saturating_sub(1)
    )]
    LabelOutOfRange {
        /// The labels file.
        file: PathBuf,
        /// The label's position in the file, from 0.
        index: usize,
        /// The label.
        label: u8,
        /// The number of classes.
        classes: usize,
    },
    /// An images file and a labels file have different numbers of items.
    #[error(
        "{} has {images} images but {} has {labels} labels: they should be the same number",
        images_file.display(),
        labels_file.display()
    )]
    CountMismatch {
        /// The images file.
        images_file: PathBuf,
        /// The number of images.
        images: usize,
        /// The labels file.
        labels_file: PathBuf,
        /// The number of labels.
        labels: usize,
    },
}

/// `images` or `labels`, for a magic number.
fn kind_of(magic: u32) -> &'static str {
    if magic == IMAGES_MAGIC {
        "images"
    } else {
        "labels"
    }
}

/// A set of grey-scale images: `len()` images of `rows()` x `cols()` bytes, row-major,
/// one after the other; 0 is the background, 255 the ink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    file: PathBuf,
    rows: usize,
    cols: usize,
    pixels: Vec<u8>,
}

impl Images {
    /// Reads a gzipped IDX images file (magic number [`IMAGES_MAGIC`]), such as MNIST's
    /// `t10k-images-idx3-ubyte.gz`.
    pub fn open(path: impl AsRef<Path>) -> Result<Images, IdxError> {
        let file = path.as_ref();
        Images::from_gzip(&read(file)?, file)
    }

    /// Reads a gzipped IDX images file held in memory, naming it `file` in errors.
    pub fn from_gzip(bytes: &[u8], file: impl AsRef<Path>) -> Result<Images, IdxError> {
        let file = file.as_ref();
        let ([_, rows, cols], pixels) = read_idx::<3>(bytes, file)?;
        Ok(Images {
            file: file.to_path_buf(),
            rows,
            cols,
            pixels,
        })
    }

    /// The file the images were read from, as it was given.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.pixels.len() / self.pixels_per_image()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The height of each image in pixels.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The width of each image in pixels.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `rows() * cols()`, never zero.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `index`, its rows one after the other, or `None` past the last one.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let size = self.pixels_per_image();
        let start = index.checked_mul(size)?;
        self.pixels.get(start..start.checked_add(size)?)
    }

    /// All the pixels, image after image.
    pub fn as_bytes(&self) -> &[u8] {
        &self.pixels
    }
}

/// A set of labels, one byte each (for MNIST, the digit 0 to 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Labels {
    file: PathBuf,
    labels: Vec<u8>,
}

impl Labels {
    /// Reads a gzipped IDX labels file (magic number [`LABELS_MAGIC`]), such as MNIST's
    /// `t10k-labels-idx1-ubyte.gz`.
    pub fn open(path: impl AsRef<Path>) -> Result<Labels, IdxError> {
        let file = path.as_ref();
        Labels::from_gzip(&read(file)?, file)
    }

    /// Reads a gzipped IDX labels file held in memory, naming it `file` in errors.
    pub fn from_gzip(bytes: &[u8], file: impl AsRef<Path>) -> Result<Labels, IdxError> {
        let file = file.as_ref();
        let (_, labels) = read_idx::<1>(bytes, file)?;
        Ok(Labels {
            file: file.to_path_buf(),
            labels,
        })
    }

    /// The file the labels were read from, as it was given.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The labels.
    pub fn as_slice(&self) -> &[u8] {
        &self.labels
    }
}

/// Checks that `images` and `labels` have as many items as each other: an
/// [`IdxError::CountMismatch`] naming both files if not.
pub fn check_same_count(images: &Images, labels: &Labels) -> Result<(), IdxError> {
    if images.len() == labels.len() {
        Ok(())
    } else {
        Err(IdxError::CountMismatch {
            images_file: images.file.clone(),
            images: images.len(),
            labels_file: labels.file.clone(),
            labels: labels.len(),
        })
    }
}

fn read(file: &Path) -> Result<Vec<u8>, IdxError> {
    std::fs::read(file).map_err(|error| IdxError::Io {
        file: file.to_path_buf(),
        error,
    })
}

/// Decompresses `bytes` and checks the IDX header: unsigned bytes in `RANK` dimensions
/// (magic number `0x0000_08RR`). Gives the dimensions and the data, whose length is
/// their product.
fn read_idx<const RANK: usize>(
    bytes: &[u8],
    file: &Path,
) -> Result<([usize; RANK], Vec<u8>), IdxError> {
    const UNSIGNED_BYTE: u32 = 0x08;
    let magic = (UNSIGNED_BYTE << 8) | RANK as u32;
    let truncated = |detail: String| IdxError::Truncated {
        file: file.to_path_buf(),
        detail,
    };
    if bytes.is_empty() {
        return Err(truncated("the file is empty".to_owned()));
    }
    if !bytes.starts_with(&GZIP_SIGNATURE) {
        return Err(IdxError::NotGzip {
            file: file.to_path_buf(),
            looks_like_idx: bytes.starts_with(&[0, 0, 0x08]),
        });
    }
    let mut gzip = GzDecoder::new(bytes);
    let mut read_up_to = |limit: u64| -> Result<Vec<u8>, IdxError> {
        // Reserve what the header promises, but not more than a gzip file of this size
        // can hold (deflate compresses at most about 1032:1), so that a lying header
        // cannot make us allocate gigabytes up front.
        let capacity = limit.min(bytes.len() as u64 * 1032).min(1 << 30);
        let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        match (&mut gzip).take(limit).read_to_end(&mut out) {
            Ok(_) => Ok(out),
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => Err(truncated(
                "the gzip stream ends early (the file was cut short)".to_owned(),
            )),
            Err(error) => Err(IdxError::CorruptGzip {
                file: file.to_path_buf(),
                error,
            }),
        }
    };

    let head = read_up_to(4)?;
    let Ok(head) = <[u8; 4]>::try_from(head.as_slice()) else {
        return Err(truncated(format!(
            "it holds {} bytes, fewer than the 4 of an IDX magic number",
            head.len()
        )));
    };
    let found = u32::from_be_bytes(head);
    if found != magic {
        return Err(IdxError::WrongMagic {
            file: file.to_path_buf(),
            expected: magic,
            found,
        });
    }

    let header_len = 4 + 4 * RANK;
    let sizes = read_up_to(4 * RANK as u64)?;
    if sizes.len() < 4 * RANK {
        return Err(truncated(format!(
            "the {header_len}-byte header ends after {} bytes",
            4 + sizes.len()
        )));
    }
    let mut dims = [0usize; RANK];
    for (dim, size) in dims.iter_mut().zip(sizes.chunks_exact(4)) {
        *dim = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
    }
    let what = describe(&dims);
    if dims.iter().skip(1).any(|&size| size == 0) {
        return Err(IdxError::BadDimensions {
            file: file.to_path_buf(),
            detail: format!("the header describes {what}: an image must have at least one pixel"),
        });
    }
    let product = dims.iter().try_fold(1usize, |n, &size| n.checked_mul(size));
    let Some((data_len, expected)) =
        product.and_then(|data_len| Some((data_len, data_len.checked_add(header_len)? as u64)))
    else {
        return Err(IdxError::BadDimensions {
            file: file.to_path_buf(),
            detail: format!("the header describes {what}: too large to hold in memory"),
        });
    };

    // One byte more than the header describes, to tell a file with bytes left over.
    let data = read_up_to(data_len as u64 + 1)?;
    if data.len() < data_len {
        return Err(truncated(format!(
            "the header describes {what} ({expected} bytes with the header), but the data ends after {} bytes",
            header_len + data.len()
        )));
    }
    if data.len() > data_len {
        return Err(IdxError::TrailingData {
            file: file.to_path_buf(),
            expected,
        });
    }
    // Reaching the end of the data above made the decoder check the gzip trailer
    // (CRC-32 and length), so the data is what was compressed.
    Ok((dims, data))
}

/// `10000 images of 28x28 pixels` or `10000 labels`.
fn describe(dims: &[usize]) -> String {
    match dims {
        [count, rows, cols] => format!("{count} images of {rows}x{cols} pixels"),
        [count] => format!("{count} labels"),
        _ => format!("dimensions {dims:?}"),
    }
}
