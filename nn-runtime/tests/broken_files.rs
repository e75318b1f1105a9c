//! A corpus of broken parameter files, made here in a temporary directory: each must
//! give the right `LoadError`, with a message that names the problem, and never panic.

mod common;

use std::path::PathBuf;

use common::{Mnist, Raw, data, mnist_like, npy, npz, safetensors, zip};
use nn_runtime::LoadError;
use tempfile::TempDir;

/// A temporary directory to write broken files into.
struct Corpus {
    dir: TempDir,
}

impl Corpus {
    fn new() -> Corpus {
        Corpus {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Writes `bytes` as `name` and loads it as the book's MNIST network.
    fn load(&self, name: &str, bytes: &[u8]) -> Result<Mnist, LoadError> {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write");
        Mnist::load(&path)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).expect("the sample file")
}

/// The offsets to cut a file of `len` bytes at: each of the first `head` and the last
/// `tail` bytes, and every 997th byte in between.
fn cuts(len: usize, head: usize, tail: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = (0..head.min(len)).collect();
    cuts.extend((head..len.saturating_sub(tail)).step_by(997));
    cuts.extend(len.saturating_sub(tail).max(head)..len);
    cuts
}

#[test]
fn truncated_safetensors() {
    let corpus = Corpus::new();
    let bytes = sample("sample_weight.safetensors");
    let header_end = 8 + 528;
    let cuts = cuts(bytes.len(), header_end + 64, 64);
    assert!(cuts.len() > 700);
    for cut in cuts {
        match corpus.load("cut.safetensors", &bytes[..cut]) {
            Err(LoadError::Truncated { file, detail }) => {
                assert_eq!(file, corpus.path("cut.safetensors"));
                assert!(!detail.is_empty());
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn truncated_npz() {
    let corpus = Corpus::new();
    let bytes = sample("sample_weight.npz");
    // The first entry's zip and .npy headers, and the central directory at the end.
    let cuts = cuts(bytes.len(), 256, 700);
    assert!(cuts.len() > 1000);
    for cut in cuts {
        match corpus.load("cut.npz", &bytes[..cut]) {
            Err(LoadError::Truncated { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn the_truncation_message() {
    let corpus = Corpus::new();
    let bytes = sample("sample_weight.safetensors");
    let err = corpus
        .load("sample_weight.safetensors", &bytes[..100_000])
        .expect_err("cut short");
    let path = corpus.path("sample_weight.safetensors");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the file is truncated: the header describes 181440 bytes of tensor data but only 99464 bytes follow it",
            path.display()
        )
    );
    let err = corpus
        .load("sample_weight.safetensors", &bytes[..300])
        .expect_err("cut in the header");
    assert!(err.to_string().ends_with(
        "the file is truncated: the header should be 528 bytes long but only 292 bytes follow its length"
    ));
    let bytes = sample("sample_weight.npz");
    let err = corpus
        .load("sample_weight.npz", &bytes[..100_000])
        .expect_err("cut short");
    assert!(err.to_string().ends_with(
        "sample_weight.npz: the file is truncated: the zip archive has no end-of-central-directory record (the file was cut short)"
    ));
}

#[test]
fn safetensors_header_garbage() {
    let corpus = Corpus::new();
    let bytes = sample("sample_weight.safetensors");
    let header = 8..8 + 528;
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();

    let mut garbage = bytes.clone();
    garbage[header.clone()].fill(b'x');
    cases.push(("a header of x", garbage));

    let mut garbage = bytes.clone();
    garbage[header.start + 100..header.start + 110].copy_from_slice(b"\xff\xfe{}[]\"\0\n\t");
    cases.push(("bytes in the middle of the header", garbage));

    let mut absurd = bytes.clone();
    absurd[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    cases.push(("a header length of 2^64 - 1", absurd));

    let mut extra = bytes.clone();
    extra.extend_from_slice(b"trailing bytes");
    cases.push(("bytes after the data", extra));

    let text = String::from_utf8(bytes[header.clone()].to_vec()).expect("JSON");
    let with = |from: &str, to: &str| {
        let changed = text.replacen(from, to, 1);
        let mut out = (changed.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(changed.as_bytes());
        out.extend_from_slice(&bytes[header.end..]);
        out
    };
    cases.push(("an unknown dtype", with("\"F32\"", "\"Q32\"")));
    cases.push((
        "a shape too small for its bytes",
        with("[784,50]", "[784,49]"),
    ));
    cases.push((
        "overlapping offsets",
        with("[156800,176800]", "[156000,176800]"),
    ));
    cases.push(("offsets as strings", with("[0,156800]", "[\"0\",156800]")));
    cases.push((
        "a tensor that is a number",
        with(
            "{\"dtype\":\"F32\",\"shape\":[784,50],\"data_offsets\":[0,156800]}",
            "5",
        ),
    ));
    cases.push(("a JSON array", {
        let mut out = 2u64.to_le_bytes().to_vec();
        out.extend_from_slice(b"[]");
        out
    }));

    for (what, bytes) in cases {
        match corpus.load("garbage.safetensors", &bytes) {
            Err(LoadError::Corrupt { detail, .. }) => assert!(!detail.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// Offsets whose sum overflows a `usize` would make the safetensors crate panic (in a
/// debug build) or slice out of bounds; they must be refused before it sees them.
#[test]
fn safetensors_offsets_that_overflow() {
    let corpus = Corpus::new();
    // Eight U8 tensors of 2^61 - 1 bytes each: the last ends at 2^64 - 8, and adding the
    // header's length to that overflows.
    let size = (1u64 << 61) - 1;
    let mut header = String::from("{");
    for i in 0..8 {
        let (start, end) = (i * size, (i + 1) * size);
        header.push_str(&format!(
            r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{start},{end}]}},"#
        ));
    }
    header.pop();
    header.push('}');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0; 8]);
    assert!(matches!(
        corpus.load("overflow.safetensors", &bytes),
        Err(LoadError::Truncated { .. })
    ));
}

#[test]
fn wrong_dtype() {
    let corpus = Corpus::new();
    let mut tensors = mnist_like();
    let values: Vec<f64> = (0..784 * 50).map(|k| f64::from(k) / 1000.0).collect();
    tensors[0] = Raw::f64("W1", &[784, 50], &values);
    for (name, bytes) in [
        ("f64.safetensors", safetensors(&tensors)),
        ("f64.npz", npz(&tensors, false)),
    ] {
        let err = corpus.load(name, &bytes).expect_err("an f64 W1");
        assert!(
            matches!(&err, LoadError::WrongDType { tensor, expected: "f32", found, .. } if tensor == "W1" && found == "f64"),
            "{err:?}"
        );
        assert!(
            err.to_string().ends_with(&format!(
                "{name}: tensor `W1` has dtype f64 but the network expects f32 (convert it to f32 when exporting)"
            )),
            "{err}"
        );
    }
    let mut ints = mnist_like();
    ints[1] = Raw {
        name: "b1".to_owned(),
        dtype: "I64",
        shape: vec![50],
        data: vec![0; 50 * 8],
    };
    let err = corpus
        .load("int.npz", &npz(&ints, false))
        .expect_err("an i64 b1");
    assert!(
        err.to_string()
            .ends_with("tensor `b1` has dtype i64 but the network expects f32")
    );
}

#[test]
fn transposed_weight() {
    let corpus = Corpus::new();
    let mut tensors = mnist_like();
    tensors[0].shape = vec![50, 784];
    for name in ["sample_weight.safetensors", "sample_weight.npz"] {
        let bytes = if name.ends_with("npz") {
            npz(&tensors, false)
        } else {
            safetensors(&tensors)
        };
        let err = corpus.load(name, &bytes).expect_err("W1 transposed");
        assert!(
            matches!(&err, LoadError::WrongShape { tensor, expected, found, transposed: true, .. }
                if tensor == "W1" && expected == &[784, 50] && found == &[50, 784]),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: tensor `W1` has shape [50, 784] but the network expects [784, 50] (it looks transposed: PyTorch's Linear stores [out, in]; transpose it when exporting)",
                corpus.path(name).display()
            )
        );
    }
}

#[test]
fn wrong_shape_that_is_not_a_transpose() {
    let corpus = Corpus::new();
    let mut tensors = mnist_like();
    tensors[3] = Raw::f32("b2", &[10, 10], &[0.0; 100]);
    let err = corpus
        .load("b2.npz", &npz(&tensors, false))
        .expect_err("b2 is 2-d");
    assert!(matches!(
        err,
        LoadError::WrongShape {
            transposed: false,
            ..
        }
    ));
    assert!(
        err.to_string()
            .ends_with("b2.npz: tensor `b2` has shape [10, 10] but the network expects [100]")
    );
}

#[test]
fn missing_tensor() {
    let corpus = Corpus::new();
    let mut tensors = mnist_like();
    tensors.retain(|t| t.name != "b3");
    for name in ["missing.safetensors", "missing.npz"] {
        let bytes = if name.ends_with("npz") {
            npz(&tensors, false)
        } else {
            safetensors(&tensors)
        };
        let err = corpus.load(name, &bytes).expect_err("no b3");
        assert!(
            matches!(&err, LoadError::MissingTensor { tensor, shape, available, .. }
                if tensor == "b3" && shape == &[10] && available.len() == 5),
            "{err:?}"
        );
        assert!(err.to_string().ends_with(&format!(
            "{name}: the network needs tensor `b3` of shape [10], but the file has no such tensor (it has `W1`, `W2`, `W3`, `b1`, `b2`)"
        )));
    }
    let err = corpus
        .load("empty.safetensors", &safetensors(&[]))
        .expect_err("no tensors at all");
    assert!(err.to_string().ends_with(
        "the network needs tensor `W1` of shape [784, 50], but the file has no such tensor (it has no tensors at all)"
    ));
}

#[test]
fn extra_tensors() {
    let corpus = Corpus::new();
    let mut tensors = mnist_like();
    tensors.push(Raw::f32("W4", &[10, 10], &[0.0; 100]));
    for name in ["extra.safetensors", "extra.npz"] {
        let bytes = if name.ends_with("npz") {
            npz(&tensors, false)
        } else {
            safetensors(&tensors)
        };
        let err = corpus.load(name, &bytes).expect_err("an extra W4");
        assert!(
            matches!(&err, LoadError::UnexpectedTensor { tensors, .. } if tensors == &["W4"]),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .ends_with(&format!("{name}: tensor `W4` is not used by the network"))
        );
    }
    tensors.push(Raw::f32("b4", &[10], &[0.0; 10]));
    let err = corpus
        .load("two.npz", &npz(&tensors, false))
        .expect_err("W4 and b4");
    assert!(
        err.to_string()
            .ends_with("tensors `W4`, `b4` are not used by the network")
    );
}

#[test]
fn corrupt_npz() {
    let corpus = Corpus::new();
    let bytes = sample("sample_weight.npz");
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();

    // A byte of W1's data changed: the zip's CRC-32 no longer matches.
    let mut flipped = bytes.clone();
    flipped[1000] ^= 0x40;
    cases.push(("a changed data byte", flipped));

    // The central directory's first signature broken.
    let central = find(&bytes, b"PK\x01\x02").expect("a central directory");
    let mut broken = bytes.clone();
    broken[central + 2] = b'X';
    cases.push(("a broken central directory", broken));

    // The central directory pointing past the end of the file.
    let end = find(&bytes, b"PK\x05\x06").expect("an end record");
    let mut pointing = bytes.clone();
    pointing[end + 16..end + 20].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(("a central directory offset past the end", pointing));

    cases.push((
        "not a zip at all",
        b"this is not a zip archive at all, just text".to_vec(),
    ));

    let bad_magic = npy("<f4", &[1], false, &[0; 4]);
    let mut bad_magic = bad_magic.clone();
    bad_magic[1] = b'X';
    cases.push((
        "an entry that is not .npy",
        zip(&[("W1.npy".to_owned(), bad_magic)], false),
    ));

    let bad_header = b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}\n".to_vec();
    cases.push((
        "a broken .npy header",
        zip(&[("W1.npy".to_owned(), bad_header)], false),
    ));

    let long = npy("<f4", &[2], false, &[0; 12]);
    cases.push((
        "an .npy with extra data",
        zip(&[("W1.npy".to_owned(), long)], false),
    ));

    let twice = npy("<f4", &[1], false, &[0; 4]);
    cases.push((
        "two arrays with one name",
        zip(
            &[
                ("W1.npy".to_owned(), twice.clone()),
                ("W1".to_owned(), twice),
            ],
            false,
        ),
    ));

    for (what, bytes) in cases {
        match corpus.load("corrupt.npz", &bytes) {
            Err(LoadError::Corrupt { detail, .. }) => assert!(!detail.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }

    // A descriptor that is no numpy type but spells ours (`'f32'`) has no element size,
    // so its data length cannot be checked against the shape: it must be refused by
    // name, not decoded. Short data and Fortran order made it panic before.
    for fortran_order in [false, true] {
        let mut entries: Vec<(String, Vec<u8>)> = mnist_like()
            .iter()
            .map(|t| {
                (
                    format!("{}.npy", t.name),
                    npy("<f4", &t.shape, false, &t.data),
                )
            })
            .collect();
        entries[0].1 = npy("f32", &[784, 50], fortran_order, &[0; 8]);
        match corpus.load("spelled_like_ours.npz", &zip(&entries, false)) {
            Err(LoadError::WrongDType { found, .. }) => assert_eq!(found, "'f32'"),
            other => panic!("Fortran order {fortran_order}: {other:?}"),
        }
    }

    // A deflated entry that inflates past the size the archive declares for it (as a
    // zip bomb does) is refused after that size, not read to its end.
    let w1 = npy("<f4", &[784, 50], false, &vec![0; 784 * 50 * 4]);
    let mut bomb = zip(&[("W1.npy".to_owned(), w1)], true);
    for (signature, size_at) in [(&b"PK\x03\x04"[..], 22), (&b"PK\x01\x02"[..], 24)] {
        let header = find(&bomb, signature).expect("a zip header");
        bomb[header + size_at..header + size_at + 4].copy_from_slice(&1000_u32.to_le_bytes());
    }
    match corpus.load("bomb.npz", &bomb) {
        Err(LoadError::Corrupt { detail, .. }) => assert_eq!(
            detail,
            "entry `W1.npy` expands past the 1000 bytes the archive declares"
        ),
        other => panic!("an entry bigger than declared: {other:?}"),
    }

    // An .npy whose data stops short inside an intact zip is truncated, and says where.
    let short = npy("<f4", &[784, 50], false, &[0; 100]);
    let err = corpus
        .load("short.npz", &zip(&[("W1.npy".to_owned(), short)], true))
        .expect_err("short data");
    assert!(matches!(err, LoadError::Truncated { .. }));
    assert!(err.to_string().ends_with(
        "short.npz: the file is truncated: entry `W1.npy`: the .npy array of shape [784, 50] and dtype f32 needs 156800 bytes of data but has 100"
    ), "{err}");
}

#[test]
fn unreadable_files() {
    let corpus = Corpus::new();
    let missing = corpus.path("nowhere.npz");
    let err = Mnist::load(&missing).expect_err("no such file");
    assert!(matches!(&err, LoadError::Io { file, .. } if file == &missing));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read the file: ", missing.display()))
    );
    let err = Mnist::load(corpus.dir.path()).expect_err("a directory");
    assert!(matches!(err, LoadError::Io { .. }));
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
