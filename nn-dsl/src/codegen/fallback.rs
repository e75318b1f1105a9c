//! The expansion after an error: every network of the source still becomes a struct
//! with the usual items, so that the user's code type-checks against it and the DSL
//! error is the only one reported. Clean networks get their real code; a broken one
//! gets the signatures its sizes allow and bodies that are never reached (the crate
//! does not compile while the error stands).

use proc_macro2::TokenStream;
use quote::quote;

use super::SpanMap;
use super::network::{elem_type, emit_network, size as size_literal};
use crate::ir::Program;
use crate::{ast, check};

/// The items of every network of `file`: the real code for the networks in `program`
/// (those without errors), stand-ins for the others. Later networks with an earlier
/// network's name (E002) are left out.
pub fn emit_fallback(file: &ast::File, program: &Program, spans: SpanMap<'_>) -> TokenStream {
    let mut seen = std::collections::HashSet::new();
    let mut tokens = TokenStream::new();
    for network in &file.networks {
        if !seen.insert(network.name.text.as_str()) {
            continue;
        }
        // The checker makes IR only of a first definition, so the name is enough.
        let clean = program
            .networks
            .iter()
            .find(|n| n.name == network.name.text);
        tokens.extend(match clean {
            Some(clean) => emit_network(clean, spans),
            None => emit_stand_in(network, spans),
        });
    }
    tokens
}

fn emit_stand_in(network: &ast::Network, spans: SpanMap<'_>) -> TokenStream {
    // A name Rust cannot use (E008) cannot have a stand-in.
    if check::is_unusable_struct_name(&network.name.text) {
        return TokenStream::new();
    }
    let name = proc_macro2::Ident::new(&network.name.text, spans(network.name.span));
    let elem = elem_type(check::dtype(network));
    let size = |shape: &ast::Shape| {
        let dims: Option<Vec<usize>> = shape
            .dims
            .iter()
            .map(|d| {
                d.text
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0 && n as u64 <= check::MAX_SIZE)
            })
            .collect();
        dims.map(|d| d.iter().product::<usize>())
    };
    let input = network
        .layers
        .first()
        .and_then(|l| size(&l.kind.input))
        .map(size_literal);
    let output = network
        .layers
        .last()
        .and_then(|l| size(&l.kind.output))
        .map(size_literal);
    let unreachable = quote!(::core::unimplemented!("the network definition has errors"));

    // With both sizes known the signatures are exact; otherwise slices stand in.
    let (forward, network_impl) = match (input.clone(), output.clone()) {
        (Some(input), Some(output)) => (
            quote! {
                /// Not available: the network definition has errors.
                pub fn forward(&self, _x: &[#elem; #input]) -> [#elem; #output] { #unreachable }
            },
            quote! {
                impl ::nn_runtime::Network for #name {
                    type Elem = #elem;
                    const INPUT: usize = #input;
                    const OUTPUT: usize = #output;
                    const PARAMETERS: usize = 0;
                    type Input = [#elem; #input];
                    type Output = [#elem; #output];
                    fn forward(&self, _x: &Self::Input) -> Self::Output { #unreachable }
                    fn forward_batch(&self, _x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>) -> ::core::result::Result<::nn_runtime::ndarray::Array2<#elem>, ::nn_runtime::ShapeError> { #unreachable }
                }
            },
        ),
        _ => (
            quote! {
                /// Not available: the network definition has errors.
                pub fn forward(&self, _x: &[#elem]) -> ::std::vec::Vec<#elem> { #unreachable }
            },
            TokenStream::new(),
        ),
    };
    let sizes = input
        .into_iter()
        .map(|n| quote!(pub const INPUT: usize = #n;));
    let sizes = sizes.chain(
        output
            .into_iter()
            .map(|n| quote!(pub const OUTPUT: usize = #n;)),
    );
    quote! {
        /// Not available: the network definition has errors.
        #[derive(Clone, Debug)]
        #[allow(non_camel_case_types, reason = "nn-dsl reports this name as W002")]
        pub struct #name {
            _errors: (),
        }

        impl #name {
            #( #[doc = " Not available: the network definition has errors."] #sizes )*
            /// Not available: the network definition has errors.
            pub const PARAMETERS: usize = 0;
            /// Not available: the network definition has errors.
            pub fn new() -> Self { #unreachable }
            /// Not available: the network definition has errors.
            pub fn zeros() -> Self { #unreachable }
            /// Not available: the network definition has errors.
            pub fn random(_seed: u64) -> Self { #unreachable }
            /// Not available: the network definition has errors.
            pub fn load(_path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<Self, ::nn_runtime::LoadError> { #unreachable }
            #forward
            /// Not available: the network definition has errors.
            pub fn forward_batch(&self, _x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>) -> ::core::result::Result<::nn_runtime::ndarray::Array2<#elem>, ::nn_runtime::ShapeError> { #unreachable }
        }

        /// Not available: the network definition has errors.
        impl ::core::default::Default for #name {
            fn default() -> Self { #unreachable }
        }

        #network_impl
    }
}
