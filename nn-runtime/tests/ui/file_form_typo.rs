use nn_runtime::network;

network!(file = nets/mnist.nn);

fn main() {}
