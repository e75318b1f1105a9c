//! Loading the book's trained MNIST weights from `.safetensors` and `.npz`, and the
//! variants of `.npz` that numpy writes.

mod common;

use common::{MNIST, Mnist, Raw, data, npy, npz, safetensors, zip};
use nn_runtime::ndarray::Array2;
use nn_runtime::{Format, LoadError, Network, Tensors};

/// Every tensor of a file, taken with the book's shapes.
fn take_all(path: &std::path::Path) -> Vec<Vec<f32>> {
    let mut tensors = Tensors::open(path).expect("a valid file");
    let all = MNIST
        .iter()
        .map(|(name, shape)| tensors.take::<f32>(name, shape).expect("the book's tensor"))
        .collect();
    tensors.finish().expect("no other tensors");
    all
}

#[test]
fn both_formats_hold_the_same_values() {
    let from_safetensors = take_all(&data("sample_weight.safetensors"));
    let from_npz = take_all(&data("sample_weight.npz"));
    for ((name, shape), (a, b)) in MNIST.iter().zip(from_safetensors.iter().zip(&from_npz)) {
        assert_eq!(a.len(), shape.iter().product::<usize>(), "{name}");
        assert!(a == b, "{name} differs between the formats");
    }
    assert_eq!(
        Mnist::load(data("sample_weight.safetensors")).expect("safetensors"),
        Mnist::load(data("sample_weight.npz")).expect("npz")
    );
}

#[test]
fn known_values() {
    // Read from the file with Python's `struct`, independently of this crate; an f32
    // widens to f64 exactly, so the comparisons are exact.
    let net = Mnist::load(data("sample_weight.npz")).expect("npz");
    let (w1, w2, w3) = (net.l1.weight(), net.l2.weight(), net.l3.weight());
    let (b1, b2, b3) = (net.l1.bias(), net.l2.bias(), net.l3.bias());
    let cases = [
        (w1[[0, 0]], -0.007412489037960768),
        (w1[[0, 1]], -0.007904390804469585),
        (w1[[1, 0]], -0.010297450236976147),
        (w1[[783, 49]], -0.040211476385593414),
        (b1[0], -0.06750315427780151),
        (b1[49], 0.10716812312602997),
        (w2[[0, 0]], -0.1069403886795044),
        (w2[[49, 99]], 0.009080098010599613),
        (b2[0], -0.014711079187691212),
        (w3[[0, 0]], -0.4217357635498047),
        (w3[[99, 9]], 0.03177173063158989),
        (b3[0], -0.060239847749471664),
        (b3[9], 0.053233496844768524),
    ];
    for (i, (value, expected)) in cases.into_iter().enumerate() {
        assert_eq!(f64::from(value), expected, "case {i}");
    }
}

/// A made-up image (pixel `i` is `(37 i mod 256) / 255`) through the book's network; the
/// reference was computed in f64 with plain Python loops over the same weights.
#[test]
fn the_loaded_network_agrees_with_a_python_reference() {
    let reference = [
        0.049716824003450205,
        0.000601146021829656,
        0.19041621710767512,
        0.4416400633314224,
        4.1861257368714276e-05,
        0.19239729229780508,
        0.0008260402186134382,
        0.000662218721906493,
        0.12357020930515857,
        0.00012812773477014654,
    ];
    let x: [f32; 784] = std::array::from_fn(|i| ((i * 37) % 256) as f32 / 255.0);
    for file in ["sample_weight.safetensors", "sample_weight.npz"] {
        let net = Mnist::load(data(file)).expect("the book's weights");
        let single = net.forward(&x);
        let batch = net
            .forward_batch(Array2::from_shape_fn((3, 784), |(_, i)| x[i]).view())
            .expect("width 784");
        for (k, expected) in reference.iter().enumerate() {
            assert!(
                (f64::from(single[k]) - expected).abs() < 1e-6,
                "{file}: {single:?}"
            );
            assert!(
                (f64::from(batch[[2, k]]) - expected).abs() < 1e-6,
                "{file}: {batch:?}"
            );
        }
        assert_eq!(nn_runtime::kernels::argmax(&single), Some(3));
    }
}

#[test]
fn round_trip_through_files_written_here() {
    let values = take_all(&data("sample_weight.safetensors"));
    let raws: Vec<Raw> = MNIST
        .iter()
        .zip(&values)
        .map(|((name, shape), v)| Raw::f32(name, shape, v))
        .collect();
    assert!(npz(&raws, true).len() < npz(&raws, false).len(), "deflated");
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (file, bytes) in [
        ("copy.safetensors", safetensors(&raws)),
        ("copy.npz", npz(&raws, false)),
        ("compressed.npz", npz(&raws, true)),
    ] {
        let path = dir.path().join(file);
        std::fs::write(&path, bytes).expect("write");
        assert!(take_all(&path) == values, "{file}");
    }
}

#[test]
fn column_major_and_big_endian_npy() {
    // W = [[1, 2, 3], [4, 5, 6]] stored column by column (numpy's `fortran_order`), and
    // b as big-endian f8.
    let column_major: Vec<u8> = [1.0_f32, 4.0, 2.0, 5.0, 3.0, 6.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let big_endian: Vec<u8> = [0.5_f64, -0.5, 1.5]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let archive = zip(
        &[
            ("W.npy".to_owned(), npy("<f4", &[2, 3], true, &column_major)),
            ("b.npy".to_owned(), npy(">f8", &[3], false, &big_endian)),
        ],
        false,
    );
    let mut tensors = Tensors::from_bytes(&archive, Format::Npz, "numpy.npz").expect("valid");
    assert_eq!(
        tensors.take::<f32>("W", &[2, 3]).expect("W"),
        [1., 2., 3., 4., 5., 6.]
    );
    assert_eq!(tensors.take::<f64>("b", &[3]).expect("b"), [0.5, -0.5, 1.5]);
    tensors.finish().expect("both taken");
}

#[test]
fn f64_parameters_load_into_an_f64_layer() {
    let w: Vec<f64> = (0..6).map(|i| f64::from(i) / 10.0).collect();
    let bytes = safetensors(&[
        Raw::f64("W1", &[2, 3], &w),
        Raw::f64("b1", &[3], &[1., 2., 3.]),
    ]);
    let mut tensors = Tensors::from_bytes(&bytes, Format::Safetensors, "f64").expect("valid");
    let layer = nn_runtime::Affine::<f64, 2, 3>::load(
        &mut tensors,
        "W1",
        "b1",
        nn_runtime::Activation::Identity,
    )
    .expect("f64 tensors");
    tensors.finish().expect("both taken");
    assert_eq!(layer.forward(&[1.0, 1.0]), [1.3, 2.5, 3.7]);
}

#[test]
fn format_from_content_when_the_extension_says_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let st = dir.path().join("weights.bin");
    std::fs::copy(data("sample_weight.safetensors"), &st).expect("copy");
    assert!(Mnist::load(&st).is_ok());
    let zipped = dir.path().join("weights");
    std::fs::copy(data("sample_weight.npz"), &zipped).expect("copy");
    assert!(Mnist::load(&zipped).is_ok());

    let pickle = dir.path().join("sample_weight.pkl");
    std::fs::write(&pickle, b"\x80\x04\x95 not a supported format").expect("write");
    let err = Mnist::load(&pickle).expect_err("a pickle");
    assert!(matches!(&err, LoadError::UnsupportedFormat { extension, .. } if extension == "pkl"));
    assert!(err.to_string().ends_with(
        "sample_weight.pkl: unsupported parameter file format `.pkl`: expected a `.safetensors` or `.npz` file"
    ));
}

#[test]
fn a_file_with_the_other_format_s_extension() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let misnamed = dir.path().join("weights.safetensors");
    std::fs::copy(data("sample_weight.npz"), &misnamed).expect("copy");
    let err = Mnist::load(&misnamed).expect_err("an npz named .safetensors");
    assert!(matches!(err, LoadError::Corrupt { .. }));
    assert!(err.to_string().ends_with(
        "weights.safetensors: the file is corrupt: this is not a .safetensors file, it looks like a .npz file: give it the `.npz` extension"
    ), "{err}");
}

#[test]
fn inspecting_a_file() {
    let tensors = Tensors::open(data("sample_weight.safetensors")).expect("valid");
    assert_eq!(tensors.names().count(), 6);
    assert_eq!(tensors.shape("W2"), Some(&[50, 100][..]));
    assert_eq!(tensors.dtype("b3"), Some("f32"));
    assert_eq!(tensors.shape("W4"), None);
    assert!(tensors.path().ends_with("sample_weight.safetensors"));
}
