//! The `network!` procedural macro: glue between Rust tokens and `nn-dsl` (issue 4).
