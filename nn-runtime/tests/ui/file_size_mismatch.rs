use nn_runtime::network;

network!(file = "nets/size_mismatch.nn");

fn main() {}
