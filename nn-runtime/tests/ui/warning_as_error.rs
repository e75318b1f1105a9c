// W001/W002 arrive as `deprecated` warnings at the DSL token; denied here to show them.
#![deny(deprecated)]
use nn_runtime::network;

network! {
    network three_layer {
        layer affine 2 -> 3 act softmax
        layer affine 3 -> 2
    }
}

fn main() {}
