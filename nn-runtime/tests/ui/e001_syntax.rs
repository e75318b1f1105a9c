use nn_runtime::network;

network! {
    network Net {
        layer affine 2 3 act sigmoid
    }
}

fn main() {}
