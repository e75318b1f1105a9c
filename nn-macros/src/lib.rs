//! The `network!` procedural macro: glue between the compiler's `proc_macro` tokens and
//! `nn-dsl`, which does the whole expansion ([`nn_dsl::expansion`], tested there
//! without a compiler).
//!
//! Use it through `nn_runtime::network!`, in one of two forms:
//! `network! { network Xor { ... } }` (the source inline; errors point at its tokens)
//! or `network!(file = "nets/mnist.nn")` (a file relative to the calling crate's
//! `Cargo.toml`; errors point at the path and quote the file's `path:line:col`).

/// Compiles a network definition into Rust structs; see the crate documentation.
#[proc_macro]
pub fn network(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    nn_dsl::expansion::expand(input.into()).into()
}
