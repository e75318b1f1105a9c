//! The IDX reader on broken files, made here in memory: each problem is its own clear
//! error, never a panic.

use std::io::Write;
use std::path::PathBuf;

use examples::idx::{self, IMAGES_MAGIC, IdxError, Images, LABELS_MAGIC, Labels};
use examples::mnist::TestSet;
use flate2::Compression;
use flate2::write::GzEncoder;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("writing to a Vec");
    encoder.finish().expect("writing to a Vec")
}

/// An uncompressed IDX file: the magic number, the dimensions, then `data`.
fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for dim in dims {
        out.extend_from_slice(&dim.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// `count` images of `rows` x `cols` whose pixels count up from 0.
fn images(count: u32, rows: u32, cols: u32) -> Vec<u8> {
    let len = (count * rows * cols) as usize;
    let data: Vec<u8> = (0..len).map(|i| (i % 256) as u8).collect();
    idx(IMAGES_MAGIC, &[count, rows, cols], &data)
}

fn labels(labels: &[u8]) -> Vec<u8> {
    idx(LABELS_MAGIC, &[labels.len() as u32], labels)
}

#[test]
fn well_formed_files_read_back() {
    let read = Images::from_gzip(&gzip(&images(3, 2, 4)), "small-images.gz").expect("valid");
    assert_eq!((read.len(), read.rows(), read.cols()), (3, 2, 4));
    assert_eq!(read.get(1), Some(&[8, 9, 10, 11, 12, 13, 14, 15][..]));
    assert_eq!(read.get(3), None);
    assert_eq!(read.file(), PathBuf::from("small-images.gz"));

    let read = Labels::from_gzip(&gzip(&labels(&[7, 2, 1])), "small-labels.gz").expect("valid");
    assert_eq!(read.as_slice(), [7, 2, 1]);

    let empty = Images::from_gzip(&gzip(&images(0, 28, 28)), "none.gz").expect("valid");
    assert!(empty.is_empty());
}

#[test]
fn data_shorter_than_the_header_says_is_truncated() {
    let mut file = images(3, 28, 28);
    file.truncate(file.len() - 100);
    let err = Images::from_gzip(&gzip(&file), "short.gz").expect_err("truncated");
    assert!(matches!(err, IdxError::Truncated { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "short.gz: the file is truncated: the header describes 3 images of 28x28 pixels \
         (2368 bytes with the header), but the data ends after 2268 bytes"
    );

    let err =
        Labels::from_gzip(&gzip(&labels(&[1, 2, 3])[..10]), "short.gz").expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "short.gz: the file is truncated: the header describes 3 labels \
         (11 bytes with the header), but the data ends after 10 bytes"
    );
}

#[test]
fn a_cut_header_is_truncated() {
    let err = Images::from_gzip(&gzip(&images(1, 2, 2)[..10]), "cut.gz").expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "cut.gz: the file is truncated: the 16-byte header ends after 10 bytes"
    );
    let err = Labels::from_gzip(&gzip(&[0, 0]), "cut.gz").expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "cut.gz: the file is truncated: it holds 2 bytes, fewer than the 4 of an IDX magic number"
    );
    let err = Labels::from_gzip(b"", "empty.gz").expect_err("truncated");
    assert_eq!(
        err.to_string(),
        "empty.gz: the file is truncated: the file is empty"
    );
}

#[test]
fn a_gzip_file_cut_short_is_truncated() {
    let whole = gzip(&images(20, 28, 28));
    // Cut in the compressed data, and in the 8-byte trailer (CRC-32 and length).
    for cut in [whole.len() / 2, whole.len() - 4] {
        let err = Images::from_gzip(&whole[..cut], "cut.gz").expect_err("truncated");
        assert!(
            matches!(err, IdxError::Truncated { .. }),
            "cut at {cut}: {err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("cut.gz: the file is truncated: "),
            "{err}"
        );
    }
}

#[test]
fn a_damaged_gzip_stream_is_corrupt() {
    let mut file = gzip(&labels(&[1, 2, 3, 4, 5]));
    let crc = file.len() - 8;
    file[crc] ^= 0xff;
    let err = Labels::from_gzip(&file, "damaged.gz").expect_err("corrupt");
    assert!(matches!(err, IdxError::CorruptGzip { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("damaged.gz: the gzip data is corrupt: "),
        "{err}"
    );
}

#[test]
fn more_data_than_the_header_says_is_an_error() {
    let mut file = labels(&[1, 2, 3]);
    file.push(4);
    let err = Labels::from_gzip(&gzip(&file), "long.gz").expect_err("trailing data");
    assert!(
        matches!(err, IdxError::TrailingData { expected: 11, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "long.gz: the file has more data than its header describes (11 bytes with the header)"
    );
}

#[test]
fn a_wrong_magic_number_is_named() {
    // A labels file given as images, and the other way round.
    let err = Images::from_gzip(&gzip(&labels(&[1, 2])), "labels.gz").expect_err("wrong magic");
    assert!(
        matches!(
            err,
            IdxError::WrongMagic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "labels.gz: wrong magic number 0x00000801: an IDX images file starts with 0x00000803 \
         (this is a labels file)"
    );
    let err = Labels::from_gzip(&gzip(&images(1, 1, 1)), "images.gz").expect_err("wrong magic");
    assert!(
        err.to_string().ends_with("(this is an images file)"),
        "{err}"
    );

    // Something else altogether: a PNG's signature, gzipped.
    let err =
        Images::from_gzip(&gzip(b"\x89PNG\r\n\x1a\n"), "picture.gz").expect_err("wrong magic");
    assert_eq!(
        err.to_string(),
        "picture.gz: wrong magic number 0x89504e47: an IDX images file starts with 0x00000803"
    );
}

#[test]
fn a_file_that_is_not_gzip_is_named() {
    let err =
        Images::from_gzip(&images(2, 28, 28), "t10k-images-idx3-ubyte").expect_err("not gzip");
    assert!(
        matches!(
            err,
            IdxError::NotGzip {
                looks_like_idx: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "t10k-images-idx3-ubyte: not a gzip file (a gzip file starts with the bytes 1f 8b); \
         it looks like an uncompressed IDX file: compress it with gzip"
    );
    let err = Labels::from_gzip(b"<html>Not Found</html>", "labels.gz").expect_err("not gzip");
    assert!(
        matches!(
            err,
            IdxError::NotGzip {
                looks_like_idx: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "labels.gz: not a gzip file (a gzip file starts with the bytes 1f 8b)"
    );
}

#[test]
fn images_and_labels_of_different_counts_are_an_error() {
    let images = Images::from_gzip(&gzip(&images(3, 28, 28)), "images.gz").expect("valid");
    let labels = Labels::from_gzip(&gzip(&labels(&[1, 2])), "labels.gz").expect("valid");
    let err = idx::check_same_count(&images, &labels).expect_err("3 images, 2 labels");
    assert!(
        matches!(
            err,
            IdxError::CountMismatch {
                images: 3,
                labels: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "images.gz has 3 images but labels.gz has 2 labels: they should be the same number"
    );
    assert!(matches!(
        TestSet::new(&images, &labels),
        Err(IdxError::CountMismatch { .. })
    ));
}

#[test]
fn bad_dimensions_are_an_error() {
    let err = Images::from_gzip(&gzip(&images(5, 0, 28)), "flat.gz").expect_err("zero rows");
    assert_eq!(
        err.to_string(),
        "flat.gz: the header describes 5 images of 0x28 pixels: an image must have at least one pixel"
    );
    // Dimensions whose product does not fit in memory.
    let huge = idx(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[0; 16]);
    let err = Images::from_gzip(&gzip(&huge), "huge.gz").expect_err("too large");
    assert!(matches!(err, IdxError::BadDimensions { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "huge.gz: the header describes 4294967295 images of 4294967295x4294967295 pixels: \
         too large to hold in memory"
    );
    // A header that promises far more than the file holds (a million images, 784 MB) is
    // truncated, without reserving the 784 MB first.
    let lying = idx(IMAGES_MAGIC, &[1_000_000, 28, 28], &[0; 784]);
    let err = Images::from_gzip(&gzip(&lying), "lying.gz").expect_err("truncated");
    assert!(
        err.to_string()
            .ends_with("(784000016 bytes with the header), but the data ends after 800 bytes"),
        "{err}"
    );
}

#[test]
fn the_test_set_wants_28_by_28_images_and_digits() {
    let small = Images::from_gzip(&gzip(&images(2, 20, 20)), "small.gz").expect("valid");
    let two = Labels::from_gzip(&gzip(&labels(&[1, 2])), "labels.gz").expect("valid");
    let err = TestSet::new(&small, &two).expect_err("20x20");
    assert_eq!(
        err.to_string(),
        "small.gz: the images are 20x20 pixels, but the network takes 28x28 (784 inputs)"
    );
    let mnist = Images::from_gzip(&gzip(&images(2, 28, 28)), "images.gz").expect("valid");
    let ten = Labels::from_gzip(&gzip(&labels(&[1, 10])), "labels.gz").expect("valid");
    let err = TestSet::new(&mnist, &ten).expect_err("label 10");
    assert!(
        matches!(
            err,
            IdxError::LabelOutOfRange {
                index: 1,
                label: 10,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "labels.gz: label 1 is 10, but there are only 10 classes (0 to 9)"
    );
}

#[test]
fn files_are_read_from_disk_and_a_missing_one_is_named() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("idx-tests");
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let images_path = dir.join("images.gz");
    let labels_path = dir.join("labels.gz");
    std::fs::write(&images_path, gzip(&images(2, 28, 28))).expect("write");
    std::fs::write(&labels_path, gzip(&labels(&[3, 9]))).expect("write");
    let test = TestSet::open(&images_path, &labels_path).expect("valid");
    assert_eq!(test.labels(), [3, 9]);

    let missing = dir.join("no-such-file.gz");
    let err = Images::open(&missing).expect_err("missing");
    assert!(matches!(err, IdxError::Io { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read the file: ", missing.display())),
        "{err}"
    );
}
