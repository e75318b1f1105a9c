//! Chapter 2 of "Deep Learning from Scratch": the truth tables of AND, NAND and OR, each
//! one perceptron, and of XOR, which takes two layers (`nets/gates.nn`).
//!
//! `cargo run --release -p examples --bin gates`

use examples::{And, Nand, Or, Xor};
use nn_runtime::Affine;

/// `w = [0.5, 0.5]  b = -0.7` for a perceptron.
fn parameters(layer: &Affine<f32, 2, 1>) -> String {
    let w: Vec<f32> = layer.weight().iter().copied().collect();
    let b = layer.bias().first().copied().unwrap_or_default();
    format!("w = {:<13} b = {b}", format!("{w:?}"))
}

fn main() {
    let (and, nand, or, xor) = (And::new(), Nand::new(), Or::new(), Xor::new());
    println!("The gates of nets/gates.nn, perceptrons y = step(x·w + b):");
    println!("  AND    one layer    {}", parameters(&and.layer1));
    println!("  NAND   one layer    {}", parameters(&nand.layer1));
    println!("  OR     one layer    {}", parameters(&or.layer1));
    println!("  XOR    two layers   NAND and OR side by side, then AND");
    println!();
    println!(" x1  x2 | AND  NAND  OR | XOR");
    println!("--------+---------------+-----");
    // The book's order of inputs.
    for x in [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] {
        println!(
            "{:>3} {:>3} | {:>3} {:>5} {:>3} | {:>3}",
            x[0],
            x[1],
            and.forward(&x)[0],
            nand.forward(&x)[0],
            or.forward(&x)[0],
            xor.forward(&x)[0],
        );
    }
    println!();
    println!("XOR is not linearly separable: no single perceptron computes it, two layers do.");
}
