use nn_runtime::network;

// The written output of a conv layer is checked like a type annotation: the error
// points at it and shows the arithmetic.
network! {
    network SimpleConvNet {
        input 1x28x28
        layer conv 1x28x28 -> 30x28x28 kernel 5 act relu
        layer maxpool 30x28x28 -> 30x14x14 size 2
        layer flatten 30x14x14 -> 5880
        layer affine 5880 -> 10 act softmax
    }
}

fn main() {
    // The stand-in keeps the shapes the checker could establish: no follow-on errors.
    let _: &[usize] = SimpleConvNet::INPUT_SHAPE;
}
