use nn_runtime::network;

network!(file = "nets/no_such_file.nn");

fn main() {}
