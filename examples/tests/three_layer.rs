//! Chapter 3, section 3.4.3: the three-layer network of `nets/three_layer.nn`.

use examples::ThreeLayer;
use nn_runtime::Network;
use nn_runtime::ndarray::array;

/// What the book prints for x = [1.0, 0.5].
const BOOK: [f64; 2] = [0.31682708, 0.69627909];

#[test]
fn output_for_one_and_a_half_is_the_books() {
    let y = ThreeLayer::new().forward(&[1.0, 0.5]);
    for (got, want) in y.iter().zip(BOOK) {
        assert!((got - want).abs() < 1e-6, "{y:?} vs the book's {BOOK:?}");
    }
}

#[test]
fn batch_and_single_sample_agree() {
    let net = ThreeLayer::new();
    let x = array![[1.0, 0.5], [0.0, 0.0], [-3.0, 2.5]];
    let y = net.forward_batch(x.view()).expect("two inputs per row");
    for (row, out) in x.rows().into_iter().zip(y.rows()) {
        let single = net
            .forward_slice(row.as_slice().expect("contiguous"))
            .expect("two inputs");
        for (a, b) in single.iter().zip(out) {
            assert!((a - b).abs() < 1e-12, "{single:?} vs {out}");
        }
    }
    assert_eq!((ThreeLayer::INPUT, ThreeLayer::OUTPUT), (2, 2));
}
