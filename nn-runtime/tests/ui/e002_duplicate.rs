use nn_runtime::network;

network! {
    network Gate { layer affine 2 -> 1 act step }
    network Gate { layer affine 2 -> 1 act sigmoid }
}

fn main() {}
