use nn_runtime::network;

network!(file = "nets/syntax_error.nn");

fn main() {}
