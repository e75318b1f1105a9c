use nn_runtime::network;

network! {
    network Net {
        layer type: affine 2 -> 2
    }
}

fn main() {}
