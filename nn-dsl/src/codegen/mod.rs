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

pub use fallback::emit_fallback;
pub use network::emit_network;

use proc_macro2::TokenStream;

use crate::ir::Program;

/// The Rust items of every network of `program`.
///
/// ```
/// let checked = nn_dsl::compile("network Tiny { layer affine 2 -> 1 act sigmoid }");
/// let code = nn_dsl::codegen::emit(&checked.program).to_string();
/// assert!(code.contains("pub struct Tiny"));
/// ```
pub fn emit(program: &Program) -> TokenStream {
    program.networks.iter().map(emit_network).collect()
}

/// The generated code of `program` as formatted Rust source, as `nndsl expand` prints it.
#[cfg(feature = "pretty")]
pub fn expand(program: &Program) -> String {
    let tokens = emit(program);
    match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        // Not expected: the generator emits items only. Unformatted beats nothing.
        Err(_) => tokens.to_string(),
    }
}
