use nn_runtime::network;

network! {
    network Xor {
        layer affine 2 -> 2 act sigmoidd
        layer affine 2 -> 1 act step
    }
}

fn main() {}
