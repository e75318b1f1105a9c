//! The checker benchmark (being written).
fn main() {}
