// Every error of the source is reported, each at its own tokens.
use nn_runtime::network;

network! {
    network ThreeLayer {
        layer affine 2 -> 3 act sigmoid
        layer affine 4 -> 2 act tanhh
        layer afine 2 -> 2
    }
}

fn main() {}
