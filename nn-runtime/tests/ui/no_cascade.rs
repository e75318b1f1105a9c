// The DSL error is the only error: user code that uses the network still type-checks.
use nn_runtime::network;

network! {
    network Mnist {
        layer affine 784 -> 50 act sigmoidd
        layer affine 50 -> 10 act softmax
    }
}

fn main() {
    let net = Mnist::zeros();
    let y: [f32; 10] = net.forward(&[0.0; 784]);
    let _ = (y, Mnist::INPUT, Mnist::PARAMETERS, Mnist::load("weights.safetensors"));
}
