use nn_runtime::network;

network! {
    network Mnist {
        layer affine 784 -> 50 act sigmoid
        layer affine 60 -> 100 act sigmoid
        layer affine 100 -> 10 act softmax
    }
}

fn main() {}
