//! Chapter 3 of "Deep Learning from Scratch", section 3.4.3: the three-layer network with
//! the book's weights (`nets/three_layer.nn`), run on x = [1.0, 0.5].
//!
//! `cargo run --release -p examples --bin three_layer`

use examples::ThreeLayer;

fn main() {
    let x = [1.0, 0.5];
    let y = ThreeLayer::new().forward(&x);
    println!("ThreeLayer (nets/three_layer.nn): 2 -> 3 -> 2 -> 2, sigmoid, sigmoid, identity");
    println!("x = [{:.1} {:.1}]", x[0], x[1]);
    println!("y = [{:.8} {:.8}]", y[0], y[1]);
}
