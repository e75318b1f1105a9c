//! The code generator: from the checked [IR](crate::ir) to the Rust that `network!`
//! expands to (LANGUAGE.md §7), as a `proc_macro2::TokenStream`.
//!
//! Each network becomes a `pub struct` of typed `nn_runtime::Affine` layers with
//! `INPUT`/`OUTPUT`, constructors (`new` for inline parameters, `zeros`, `random`,
//! `load`), `forward`, `forward_batch` and an `impl nn_runtime::Network`. After errors,
//! [`emit_fallback`] gives the same items with `unimplemented!()` bodies so that user
//! code sees one error, not a cascade of "cannot find type" follow-ons.

mod fallback;
mod literal;
mod network;
mod training;

pub use fallback::emit_fallback;
pub use network::emit_network;

use proc_macro2::TokenStream;

use crate::ir::Program;
use crate::span::Span;

/// Where generated tokens that stand for something the user wrote (a network's or a
/// layer's name) should point: the macro maps a source span to the user's tokens, so
/// that rustc's messages and an IDE's "go to definition" land in the DSL.
pub type SpanMap<'a> = &'a dyn Fn(Span) -> proc_macro2::Span;

/// A [`SpanMap`] for code that is not a macro expansion (`nndsl expand`, tests).
pub fn call_site(_: Span) -> proc_macro2::Span {
    proc_macro2::Span::call_site()
}

/// The Rust items of every network of `program`.
///
/// ```
/// let checked = nn_dsl::compile("network Tiny { layer affine 2 -> 1 act sigmoid }");
/// let code = nn_dsl::codegen::emit(&checked.program, &nn_dsl::codegen::call_site).to_string();
/// assert!(code.contains("pub struct Tiny"));
/// ```
pub fn emit(program: &Program, spans: SpanMap<'_>) -> TokenStream {
    program
        .networks
        .iter()
        .map(|network| emit_network(network, spans))
        .collect()
}

/// The generated code of `program` as formatted Rust source, as `nndsl expand` prints it.
#[cfg(feature = "pretty")]
pub fn expand(program: &Program) -> String {
    let tokens = emit(program, &call_site);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Not expected: the generator emits items only. Unformatted beats nothing.
        Err(_) => tokens.to_string(),
    }
}
