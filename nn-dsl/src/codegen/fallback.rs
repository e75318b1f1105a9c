//! The expansion after an error: every network of the source still becomes a struct
//! with the usual items, so that the user's code type-checks against it and the DSL
//! error is the only one reported. Clean networks get their real code; a broken one
//! gets the signatures its sizes allow and bodies that are never reached (the crate
//! does not compile while the error stands).

use proc_macro2::TokenStream;
use quote::quote;

use super::SpanMap;
use super::network::{elem_type, emit_network, size as size_literal};
use crate::check::{Checked, Signature};

/// The items of every network the checker saw: the real code for the networks without
/// errors, stand-ins built from the checker's [`Signature`]s for the others.
/// Redefinitions (E002) and names Rust cannot use (E008) get nothing.
pub fn emit_fallback(checked: &Checked, spans: SpanMap<'_>) -> TokenStream {
    checked
        .signatures
        .iter()
        .map(|signature| {
            // The checker makes IR only of a first definition, so the name is enough.
            match checked
                .program
                .networks
                .iter()
                .find(|n| n.name == signature.name)
            {
                Some(clean) => emit_network(clean, spans),
                None => emit_stand_in(signature, spans),
            }
        })
        .collect()
}

fn emit_stand_in(signature: &Signature, spans: SpanMap<'_>) -> TokenStream {
    if !signature.usable {
        return TokenStream::new();
    }
    let name = proc_macro2::Ident::new(&signature.name, spans(signature.name_span));
    let elem = elem_type(signature.dtype);
    let input = signature.input.as_ref().map(|s| size_literal(s.len()));
    let output = signature.output.as_ref().map(|s| size_literal(s.len()));
    let unreachable = quote!(::core::unimplemented!("the network definition has errors"));
    let training = training_stand_ins(&name, &elem);

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
    let shape = |shape: &crate::ir::Shape| {
        let dims = shape.dims().iter().map(|&d| size_literal(d));
        quote!(&[#(#dims),*])
    };
    let sizes = input
        .into_iter()
        .map(|n| quote!(pub const INPUT: usize = #n;))
        .chain(
            output
                .into_iter()
                .map(|n| quote!(pub const OUTPUT: usize = #n;)),
        )
        .chain(signature.input.iter().map(|s| {
            let dims = shape(s);
            quote!(pub const INPUT_SHAPE: &'static [usize] = #dims;)
        }))
        .chain(signature.output.iter().map(|s| {
            let dims = shape(s);
            quote!(pub const OUTPUT_SHAPE: &'static [usize] = #dims;)
        }));
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
            pub const MULTIPLY_ADDS: usize = 0;
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
        #training
    }
}

/// The training API of §9 with bodies that are never reached. The labels' type depends
/// on the loss, which may be what is broken, so it is generic: any use type-checks and
/// the DSL error stays the only one.
fn training_stand_ins(name: &proc_macro2::Ident, elem: &TokenStream) -> TokenStream {
    let unreachable = quote!(::core::unimplemented!("the network definition has errors"));
    let gradients = quote::format_ident!("{}Gradients", name);
    let parameters = quote! {
        type Elem = #elem;
        fn visit(&self, _f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewD<'_, #elem>)) { #unreachable }
        fn visit_mut(&mut self, _f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewMutD<'_, #elem>)) { #unreachable }
    };
    quote! {
        impl #name {
            /// Not available: the network definition has errors.
            pub fn loss<L>(&self, _x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>, _labels: L) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> { #unreachable }
            /// Not available: the network definition has errors.
            pub fn gradients<L>(&self, _x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>, _labels: L) -> ::core::result::Result<(#elem, #gradients), ::nn_runtime::ShapeError> { #unreachable }
            /// Not available: the network definition has errors.
            pub fn train_step<L>(&mut self, _x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>, _labels: L, _optimizer: &mut (impl ::nn_runtime::Optimizer<#elem> + ?Sized)) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> { #unreachable }
            /// Not available: the network definition has errors.
            pub fn save(&self, _path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<(), ::nn_runtime::SaveError> { #unreachable }
        }

        /// Not available: the network definition has errors.
        #[derive(Clone, Debug, PartialEq)]
        #[allow(non_camel_case_types, reason = "nn-dsl reports this name as W002")]
        pub struct #gradients {
            _errors: (),
        }

        impl ::nn_runtime::Parameters for #gradients { #parameters }
        impl ::nn_runtime::Parameters for #name { #parameters }
    }
}
