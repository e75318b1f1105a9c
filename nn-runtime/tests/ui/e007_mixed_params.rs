use nn_runtime::network;

network! {
    network Mixed {
        layer affine 2 -> 2 act step { weight [[1, 0], [0, 1]] bias [0, 0] }
        layer affine 2 -> 1 act step
    }
}

fn main() {}
