use nn_runtime::network;

network! {
    network And {
        layer affine 2 -> 1 act step {
            weight [[0.5, 0.5]]
            bias [-0.7]
        }
    }
}

fn main() {}
