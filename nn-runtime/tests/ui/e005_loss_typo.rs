use nn_runtime::network;

network! {
    network TwoLayer {
        layer affine 784 -> 50 act relu
        layer affine 50 -> 10 act softmax
        loss crossentropy
    }
}

fn main() {}
