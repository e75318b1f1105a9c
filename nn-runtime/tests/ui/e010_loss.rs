use nn_runtime::network;

// Cross-entropy is computed from class scores: the last layer needs softmax.
network! {
    network TwoLayer {
        layer affine 784 -> 50 act relu
        layer affine 50 -> 10 act sigmoid
        loss cross_entropy
    }
}

fn main() {}
