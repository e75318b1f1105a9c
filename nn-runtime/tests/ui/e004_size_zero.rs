use nn_runtime::network;

network! {
    network Empty {
        layer affine 2 -> 0
    }
}

fn main() {}
