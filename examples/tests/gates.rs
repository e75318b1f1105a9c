//! Chapter 2: the truth tables of the gates in `nets/gates.nn`.

use examples::{And, Nand, Or, Xor};

/// The book's order of inputs.
const INPUTS: [[f32; 2]; 4] = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];

fn table(gate: impl Fn(&[f32; 2]) -> [f32; 1]) -> [f32; 4] {
    INPUTS.map(|x| gate(&x)[0])
}

#[test]
fn and() {
    let and = And::new();
    assert_eq!(table(|x| and.forward(x)), [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn nand() {
    let nand = Nand::new();
    assert_eq!(table(|x| nand.forward(x)), [1.0, 1.0, 1.0, 0.0]);
}

#[test]
fn or() {
    let or = Or::new();
    assert_eq!(table(|x| or.forward(x)), [0.0, 1.0, 1.0, 1.0]);
}

#[test]
fn xor_takes_two_layers() {
    let xor = Xor::new();
    assert_eq!(table(|x| xor.forward(x)), [0.0, 1.0, 1.0, 0.0]);
    // Its first layer is NAND and OR side by side, its second AND.
    let hidden = INPUTS.map(|x| xor.layer1.forward(&x));
    assert_eq!(hidden, [[1.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 1.0]]);
}

#[test]
fn the_gates_have_the_books_weights() {
    let weights =
        |w: nn_runtime::ndarray::ArrayView2<'_, f32>| w.iter().copied().collect::<Vec<_>>();
    assert_eq!(weights(And::new().layer1.weight()), [0.5, 0.5]);
    assert_eq!(And::new().layer1.bias(), [-0.7]);
    assert_eq!(weights(Nand::new().layer1.weight()), [-0.5, -0.5]);
    assert_eq!(Nand::new().layer1.bias(), [0.7]);
    assert_eq!(weights(Or::new().layer1.weight()), [0.5, 0.5]);
    assert_eq!(Or::new().layer1.bias(), [-0.2]);
}
