//! Random and randomly damaged parameter files never make the loaders panic: every
//! outcome is a network or a `LoadError`.

mod common;

use std::sync::LazyLock;

use common::{Mnist, Raw, npy, npz, safetensors, zip};
use nn_runtime::{Activation, Affine, Format, LoadError, Tensors};
use proptest::prelude::*;
use tempfile::TempDir;

static DIR: LazyLock<TempDir> =
    LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

/// A small network's worth of tensors: `W1 [3, 2]`, `b1 [2]`.
fn small() -> Vec<Raw> {
    vec![
        Raw::f32("W1", &[3, 2], &[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
        Raw::f32("b1", &[2], &[0.5, -0.5]),
    ]
}

static SMALL_SAFETENSORS: LazyLock<Vec<u8>> = LazyLock::new(|| safetensors(&small()));
static SMALL_NPZ: LazyLock<Vec<u8>> = LazyLock::new(|| npz(&small(), false));
static SMALL_NPZ_DEFLATED: LazyLock<Vec<u8>> = LazyLock::new(|| npz(&small(), true));

/// Loads `bytes` the way a generated `load` does, for a 3 -> 2 layer.
fn load(bytes: &[u8], format: Format) -> Result<Affine<f32, 3, 2>, LoadError> {
    let mut tensors = Tensors::from_bytes(bytes, format, "fuzz")?;
    let layer = Affine::load(&mut tensors, "W1", "b1", Activation::Relu)?;
    tensors.finish()?;
    Ok(layer)
}

/// `bytes` with some bytes overwritten and maybe cut short.
fn damage(bytes: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut damaged = bytes.to_vec();
    for &(at, value) in edits {
        if let Some(byte) = damaged.get_mut(at % bytes.len()) {
            *byte = value;
        }
    }
    if let Some(cut) = cut {
        damaged.truncate(cut % (bytes.len() + 1));
    }
    damaged
}

fn edits() -> impl Strategy<Value = Vec<(usize, u8)>> {
    prop::collection::vec((any::<usize>(), any::<u8>()), 1..6)
}

proptest! {
    #[test]
    fn random_bytes_as_files(bytes in prop::collection::vec(any::<u8>(), 0..600), zip_start in any::<bool>()) {
        let mut bytes = bytes;
        if zip_start && bytes.len() >= 4 {
            bytes[..4].copy_from_slice(b"PK\x03\x04"); // get past the first check
        }
        for name in ["random.safetensors", "random.npz"] {
            let path = DIR.path().join(name);
            std::fs::write(&path, &bytes).expect("write");
            let _ = Mnist::load(&path);
        }
    }

    #[test]
    fn random_header_after_a_plausible_length(header in "[{}\\[\\]\":,0-9a-zA-Z_ ]{0,200}", data in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&data);
        let _ = load(&bytes, Format::Safetensors);
    }

    #[test]
    fn random_tensor_headers(
        dtype in prop::sample::select(vec!["F32", "F64", "U8", "BOOL", "F4", "I64", "BF16"]),
        shape in prop::collection::vec(prop_oneof![0..8u64, any::<u64>()], 0..4),
        start in prop_oneof![0..32u64, any::<u64>()],
        end in prop_oneof![0..32u64, any::<u64>()],
        data in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let header = format!(
            r#"{{"W1":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{end}]}}}}"#
        );
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&data);
        let _ = load(&bytes, Format::Safetensors);
    }

    /// `.npy` headers of every kind inside an intact zip (whose checksums would stop
    /// most damaged bytes before the `.npy` parser): numpy's descriptors and ones that
    /// look like ours (`f32`), any shape, either order, data of any length.
    #[test]
    fn random_npy_headers(
        descr in prop_oneof![
            prop::sample::select(vec!["<f4", "f4", "f32", "<f32", ">f4", "=f4", "|f4", "<f8", "|O", ""])
                .prop_map(str::to_owned),
            "[<>|=]?[a-zA-Z]{1,2}[0-9]{0,3}",
        ],
        // The layer's own shape, often: that is where a bad tensor gets past the
        // shape check and reaches the decoding.
        shape in prop_oneof![Just(vec![3, 2]), Just(vec![2, 3]), prop::collection::vec(0..4_usize, 0..3)],
        fortran_order in any::<bool>(),
        data in prop::collection::vec(any::<u8>(), 0..40),
        deflated in any::<bool>(),
    ) {
        let descr: &str = &descr;
        let entries = [
            ("W1.npy".to_owned(), npy(descr, &shape, fortran_order, &data)),
            ("b1.npy".to_owned(), npy("<f4", &[2], false, &[0; 8])),
        ];
        // A layer, or an error: never a panic.
        if let Ok(layer) = load(&zip(&entries, deflated), Format::Npz) {
            prop_assert_eq!(layer.weight().dim(), (3, 2));
        }
    }

    #[test]
    fn damaged_safetensors(edits in edits(), cut in prop::option::of(any::<usize>())) {
        let _ = load(&damage(&SMALL_SAFETENSORS, &edits, cut), Format::Safetensors);
    }

    #[test]
    fn damaged_npz(edits in edits(), cut in prop::option::of(any::<usize>()), deflated in any::<bool>()) {
        let original = if deflated { &*SMALL_NPZ_DEFLATED } else { &*SMALL_NPZ };
        let damaged = damage(original, &edits, cut);
        let result = load(&damaged, Format::Npz);
        // The zip's checksums catch any change to the data, so a file that still loads
        // holds the original numbers.
        if let Ok(layer) = result {
            prop_assert_eq!(layer.bias(), &[0.5, -0.5]);
        }
    }
}

#[test]
fn the_undamaged_small_files_load() {
    assert!(load(&SMALL_SAFETENSORS, Format::Safetensors).is_ok());
    assert!(load(&SMALL_NPZ, Format::Npz).is_ok());
    assert!(load(&SMALL_NPZ_DEFLATED, Format::Npz).is_ok());
}
