//! The values "Deep Learning from Scratch" prints, computed by the runtime.

use nn_runtime::__private::{Layer, RowCost, forward_in_blocks};
use nn_runtime::ndarray::{Array2, ArrayView2, array};
use nn_runtime::{Activation, Affine, Float, Network, ShapeError, kernels};

/// The book prints 7 to 9 significant digits: 5e-7 relative covers its rounding.
const F64: f64 = 5e-7;
/// f32 adds a few units in the last place (1.2e-7 each) on top.
const F32: f64 = 2e-6;

/// Each value within `relative` of the book's.
fn assert_close<T: Float>(actual: &[T], book: &[f64], relative: f64) {
    assert_eq!(actual.len(), book.len());
    for (a, b) in actual.iter().zip(book) {
        let a = a.to_f64().expect("a float");
        assert!(
            (a - b).abs() <= relative * b.abs(),
            "{actual:?} vs {book:?}"
        );
    }
}

#[test]
fn sigmoid_of_minus_one_one_two() {
    let book = [0.26894142, 0.73105858, 0.88079708];
    let mut x32 = [-1.0_f32, 1.0, 2.0];
    kernels::sigmoid_in_place(&mut x32);
    assert_close(&x32, &book, F32);
    let mut x64 = [-1.0_f64, 1.0, 2.0];
    kernels::sigmoid_in_place(&mut x64);
    assert_close(&x64, &book, F64);
}

#[test]
fn softmax_of_the_book_example() {
    let book = [0.01821127, 0.24519181, 0.73659691];
    let mut x32 = [0.3_f32, 2.9, 4.0];
    kernels::softmax_in_place(&mut x32);
    assert_close(&x32, &book, F32);
    let mut x64 = [0.3_f64, 2.9, 4.0];
    kernels::softmax_in_place(&mut x64);
    assert_close(&x64, &book, F64);
}

#[test]
fn softmax_of_large_inputs_is_finite() {
    let book = [9.99954600e-01, 4.53978686e-05, 2.06106005e-09];
    let mut x32 = [1010.0_f32, 1000.0, 990.0];
    kernels::softmax_in_place(&mut x32);
    assert!(x32.iter().all(|x| x.is_finite()));
    assert_close(&x32, &book, F32);
    let mut x64 = [1010.0_f64, 1000.0, 990.0];
    kernels::softmax_in_place(&mut x64);
    assert_close(&x64, &book, F64);
    // The same through a layer and through the batch path.
    let layer = Affine::<f64, 1, 3>::from_static(
        &[[0.0, 0.0, 0.0]],
        &[1010.0, 1000.0, 990.0],
        Activation::Softmax,
    );
    assert_close(&layer.forward(&[1.0]), &book, F64);
    let batch = layer
        .forward_batch(array![[1.0], [2.0]].view())
        .expect("width 1");
    assert_close(batch.row(1).as_slice().expect("row-major"), &book, F64);
}

#[test]
fn step_function() {
    let mut x = [-1.0_f32, 0.0, 1.0, 2.0];
    kernels::step_in_place(&mut x);
    assert_eq!(x, [0.0, 0.0, 1.0, 1.0]);
}

/// Chapter 3's `init_network` and `forward`, in f32 and f64.
struct ThreeLayer<T: Float> {
    l1: Affine<T, 2, 3>,
    l2: Affine<T, 3, 2>,
    l3: Affine<T, 2, 2>,
}

impl<T: Float> ThreeLayer<T> {
    fn new() -> Self {
        ThreeLayer {
            l1: layer(
                &[0.1, 0.3, 0.5, 0.2, 0.4, 0.6],
                &[0.1, 0.2, 0.3],
                Activation::Sigmoid,
            ),
            l2: layer(
                &[0.1, 0.4, 0.2, 0.5, 0.3, 0.6],
                &[0.1, 0.2],
                Activation::Sigmoid,
            ),
            l3: layer(&[0.1, 0.3, 0.2, 0.4], &[0.1, 0.2], Activation::Identity),
        }
    }
}

/// A layer from the book's f64 numbers, in `T`.
fn layer<T: Float, const IN: usize, const OUT: usize>(
    weight: &[f64],
    bias: &[f64],
    activation: Activation<T>,
) -> Affine<T, IN, OUT> {
    let t = |xs: &[f64]| xs.iter().map(|&v| T::from_f64(v)).collect::<Vec<T>>();
    Affine::new(&t(weight), &t(bias), activation).expect("the book's sizes")
}

impl<T: Float> Network for ThreeLayer<T> {
    type Elem = T;
    const INPUT: usize = 2;
    const OUTPUT: usize = 2;
    const PARAMETERS: usize = 9 + 8 + 6;
    type Input = [T; 2];
    type Output = [T; 2];

    fn forward(&self, x: &[T; 2]) -> [T; 2] {
        self.l3.forward(&self.l2.forward(&self.l1.forward(x)))
    }

    // As `network!` writes it: each block of rows goes through the three layers at once.
    fn forward_batch(&self, x: ArrayView2<'_, T>) -> Result<Array2<T>, ShapeError> {
        let cost = RowCost {
            multiply_adds: 2 * 3 + 3 * 2 + 2 * 2,
            widest: 3,
        };
        forward_in_blocks(x, Self::INPUT, Self::OUTPUT, cost, |x, out| {
            let x = self.l1.forward_rows(x)?;
            let x = self.l2.forward_rows(x.view())?;
            self.l3.forward_rows_into(x.view(), out)
        })
    }
}

#[test]
fn three_layer_network() {
    let book = [0.31682708, 0.69627909];
    let f64_net = ThreeLayer::<f64>::new();
    assert_close(&f64_net.forward(&[1.0, 0.5]), &book, F64);
    let f32_net = ThreeLayer::<f32>::new();
    assert_close(&f32_net.forward(&[1.0, 0.5]), &book, F32);
    let y = f32_net.forward_slice(&[1.0, 0.5]).expect("two inputs");
    assert_close(&y, &book, F32);
    let batch = f64_net
        .forward_batch(array![[1.0, 0.5], [1.0, 0.5]].view())
        .expect("width 2");
    assert_close(batch.row(1).as_slice().expect("row-major"), &book, F64);
    assert_eq!(
        f32_net.forward_slice(&[1.0, 0.5, 0.0]),
        Err(ShapeError::input_width(2, 3))
    );
}
