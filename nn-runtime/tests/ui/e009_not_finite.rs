use nn_runtime::network;

network! {
    network Big {
        layer affine 1 -> 1 { weight [[1e39]] bias [0] }
    }
}

fn main() {}
