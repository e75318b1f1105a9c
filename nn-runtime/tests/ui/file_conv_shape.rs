use nn_runtime::network;

network!(file = "nets/conv_shape.nn");

fn main() {}
