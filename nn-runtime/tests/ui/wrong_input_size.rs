// A 2-input network called with 3 numbers is a type error at the call.
use nn_runtime::network;

network! {
    network Xor {
        layer affine 2 -> 2 act step
        layer affine 2 -> 1 act step
    }
}

fn main() {
    let net = Xor::zeros();
    let _ = net.forward(&[1.0f32, 0.0, 1.0]);
}
