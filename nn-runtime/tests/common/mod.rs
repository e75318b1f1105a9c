//! Helpers shared by the integration tests: the sample files, and writers of small
//! `.safetensors` and `.npz` files made at test time.

#![allow(dead_code, reason = "each test file uses a different part")]

use std::io::{Cursor, Write};
use std::path::PathBuf;

use nn_runtime::__private::{Layer, RowCost, forward_in_blocks};
use nn_runtime::ndarray::{Array2, ArrayView2};
use nn_runtime::{Activation, Affine, LoadError, Network, ShapeError, Tensors};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// `tests/data/NAME`.
pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The book's tensor names and shapes.
pub const MNIST: [(&str, &[usize]); 6] = [
    ("W1", &[784, 50]),
    ("b1", &[50]),
    ("W2", &[50, 100]),
    ("b2", &[100]),
    ("W3", &[100, 10]),
    ("b3", &[10]),
];

/// A tensor to write: name, dtype as safetensors spells it, shape, raw little-endian data.
#[derive(Clone, Debug)]
pub struct Raw {
    pub name: String,
    pub dtype: &'static str,
    pub shape: Vec<usize>,
    pub data: Vec<u8>,
}

impl Raw {
    pub fn f32(name: &str, shape: &[usize], values: &[f32]) -> Raw {
        Raw {
            name: name.to_owned(),
            dtype: "F32",
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    pub fn f64(name: &str, shape: &[usize], values: &[f64]) -> Raw {
        Raw {
            name: name.to_owned(),
            dtype: "F64",
            shape: shape.to_vec(),
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// numpy's descriptor for the dtype.
    fn descr(&self) -> &'static str {
        match self.dtype {
            "F32" => "<f4",
            "F64" => "<f8",
            "I64" => "<i8",
            other => panic!("no descr for {other}"),
        }
    }
}

/// The bytes of a safetensors file holding `tensors` in that order.
pub fn safetensors(tensors: &[Raw]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut offset = 0;
    for (i, t) in tensors.iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        let end = offset + t.data.len();
        header.push_str(&format!(
            r#""{}":{{"dtype":"{}","shape":{:?},"data_offsets":[{offset},{end}]}}"#,
            t.name, t.dtype, t.shape
        ));
        offset = end;
    }
    header.push('}');
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    for t in tensors {
        bytes.extend_from_slice(&t.data);
    }
    bytes
}

/// The bytes of one `.npy` file (format 1.0, C order).
pub fn npy(descr: &str, shape: &[usize], fortran_order: bool, data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [] => "()".to_owned(),
        [n] => format!("({n},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let fortran = if fortran_order { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    // numpy pads the header with spaces so that the data starts at a multiple of 64.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// The bytes of a zip archive of `(entry name, content)`, stored or deflated.
pub fn zip(entries: &[(String, Vec<u8>)], compressed: bool) -> Vec<u8> {
    let method = if compressed {
        CompressionMethod::Deflated
    } else {
        CompressionMethod::Stored
    };
    let options = SimpleFileOptions::default().compression_method(method);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        writer
            .start_file(name.as_str(), options)
            .expect("zip entry");
        writer.write_all(content).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// The bytes of an `.npz` file as `np.savez` writes it (`np.savez_compressed` if
/// `compressed`).
pub fn npz(tensors: &[Raw], compressed: bool) -> Vec<u8> {
    let entries: Vec<(String, Vec<u8>)> = tensors
        .iter()
        .map(|t| {
            let npy = npy(t.descr(), &t.shape, false, &t.data);
            (format!("{}.npy", t.name), npy)
        })
        .collect();
    zip(&entries, compressed)
}

/// Small stand-ins for the book's tensors (the real shapes, simple values):
/// element `k` of tensor `W1` is `k as f32 / 1000`, and so on.
pub fn mnist_like() -> Vec<Raw> {
    MNIST
        .iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n).map(|k| k as f32 / 1000.0).collect();
            Raw::f32(name, shape, &values)
        })
        .collect()
}

/// The book's MNIST network (784 -> 50 -> 100 -> 10, sigmoid, sigmoid, softmax), written
/// by hand as `network!` writes it (see `nndsl expand examples/nets/mnist.nn`), with
/// shorter field names.
#[derive(Clone, Debug, PartialEq)]
pub struct Mnist {
    pub l1: Affine<f32, 784, 50>,
    pub l2: Affine<f32, 50, 100>,
    pub l3: Affine<f32, 100, 10>,
}

impl Mnist {
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Mnist, LoadError> {
        let mut tensors = Tensors::open(path)?;
        let network = Mnist {
            l1: Affine::load(&mut tensors, "W1", "b1", Activation::Sigmoid)?,
            l2: Affine::load(&mut tensors, "W2", "b2", Activation::Sigmoid)?,
            l3: Affine::load(&mut tensors, "W3", "b3", Activation::Softmax)?,
        };
        tensors.finish()?;
        Ok(network)
    }
}

impl Network for Mnist {
    type Elem = f32;
    const INPUT: usize = 784;
    const OUTPUT: usize = 10;
    const PARAMETERS: usize = 45_360;
    type Input = [f32; 784];
    type Output = [f32; 10];

    fn forward(&self, x: &[f32; 784]) -> [f32; 10] {
        let x = self.l1.forward(x);
        let x = self.l2.forward(&x);
        self.l3.forward(&x)
    }

    fn forward_batch(&self, x: ArrayView2<'_, f32>) -> Result<Array2<f32>, ShapeError> {
        let cost = RowCost {
            multiply_adds: 784 * 50 + 50 * 100 + 100 * 10,
            widest: 784,
        };
        forward_in_blocks(x, Self::INPUT, Self::OUTPUT, cost, |x, out| {
            let x = self.l1.forward_rows(x)?;
            let x = self.l2.forward_rows(x.view())?;
            self.l3.forward_rows_into(x.view(), out)
        })
    }
}
