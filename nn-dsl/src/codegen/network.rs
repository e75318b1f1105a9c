//! One network as Rust: the struct, its inherent methods and its `Network` impl.

use proc_macro2::{Ident, Literal, Span as TokenSpan, TokenStream};
use quote::{format_ident, quote};

use super::{SpanMap, literal};
use crate::ir::{Activation, DType, Layer, Network};
use crate::summary::thousands;

/// The Rust items of one checked network.
///
/// Generated code names everything by absolute path (`::nn_runtime::...`), so it works
/// in any module whatever the user has imported.
pub fn emit_network(network: &Network, spans: SpanMap<'_>) -> TokenStream {
    let name = Ident::new(&network.name, spans(network.name_span));
    let elem = elem_type(network.dtype);
    let (input, output) = (size(network.input.len()), size(network.output.len()));
    let fields: Vec<Ident> = network
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| field_name(i, l, spans))
        .collect();
    let field_types = network.layers.iter().map(|layer| {
        let (i, o) = (size(layer.input.len()), size(layer.output.len()));
        quote!(::nn_runtime::Affine<#elem, #i, #o>)
    });
    let field_docs = network.layers.iter().enumerate().map(|(i, layer)| {
        format!(
            " Layer {}: affine {} -> {}, {} (parameters `{}`, `{}`).",
            i + 1,
            layer.input,
            layer.output,
            layer.activation,
            layer.tensors[0].name,
            layer.tensors[1].name
        )
    });
    let activations: Vec<TokenStream> = network
        .layers
        .iter()
        .map(|l| activation(l.activation))
        .collect();
    let struct_doc = struct_doc(network);
    // rustc would repeat W002 for names the user chose; not needed for the others.
    let conventional = crate::check::is_upper_camel_case(&network.name)
        && network
            .layers
            .iter()
            .filter_map(|l| l.name.as_deref())
            .all(crate::check::is_snake_case);
    let allow_names = if conventional {
        TokenStream::new()
    } else {
        quote!(#[allow(non_camel_case_types, non_snake_case, reason = "nn-dsl reports these names as W002")])
    };

    let new = emit_new(network, &fields, &activations);
    let default_impl = if new.is_empty() {
        TokenStream::new()
    } else {
        quote! {
            impl ::core::default::Default for #name {
                /// [`Self::new`]: the parameters written in the definition.
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    };
    let weight_names = network.layers.iter().map(|l| &l.tensors[0].name);
    let bias_names = network.layers.iter().map(|l| &l.tensors[1].name);
    let forward = emit_forward(&fields);
    let forward_batch = emit_forward_batch(&fields);
    let parameters = size(usize::try_from(network.parameter_count()).unwrap_or(usize::MAX));
    let parameters_doc = format!(
        " The number of weights and biases, {}.",
        thousands(network.parameter_count())
    );
    let input_doc = format!(" The input size, {}.", network.input);
    let output_doc = format!(" The output size, {}.", network.output);

    quote! {
        #(#[doc = #struct_doc])*
        #[derive(Clone, Debug)]
        #allow_names
        pub struct #name {
            #(
                #[doc = #field_docs]
                pub #fields: #field_types,
            )*
        }

        impl #name {
            #[doc = #input_doc]
            pub const INPUT: usize = #input;
            #[doc = #output_doc]
            pub const OUTPUT: usize = #output;
            #[doc = #parameters_doc]
            pub const PARAMETERS: usize = #parameters;

            #new

            /// The network with every weight and bias zero.
            pub fn zeros() -> Self {
                Self {
                    #( #fields: ::nn_runtime::Affine::zeros(#activations), )*
                }
            }

            /// The network with weights drawn from `seed`: He initialisation for
            /// relu-family layers, Xavier for the others; biases zero.
            pub fn random(seed: u64) -> Self {
                let mut rng = ::nn_runtime::InitRng::new(seed);
                Self {
                    #( #fields: ::nn_runtime::Affine::random(&mut rng, #activations), )*
                }
            }

            /// Loads the parameters from a `.safetensors` or `.npz` file. Every tensor
            /// must be there with its exact shape and element type, and no other.
            pub fn load(path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<Self, ::nn_runtime::LoadError> {
                let mut tensors = ::nn_runtime::Tensors::open(path)?;
                let network = Self {
                    #( #fields: ::nn_runtime::Affine::load(&mut tensors, #weight_names, #bias_names, #activations)?, )*
                };
                tensors.finish()?;
                ::core::result::Result::Ok(network)
            }

            /// Runs one sample through the network, without allocating.
            pub fn forward(&self, x: &[#elem; #input]) -> [#elem; #output] {
                #forward
            }

            /// Runs a batch, one sample per row. Blocks of rows go through every layer
            /// while they are in cache, on rayon's threads when the batch is big enough
            /// (see `nn_runtime::batch::forward_in_blocks`). A batch of another width than
            /// `INPUT` is a `ShapeError`.
            pub fn forward_batch(&self, x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>) -> ::core::result::Result<::nn_runtime::ndarray::Array2<#elem>, ::nn_runtime::ShapeError> {
                #forward_batch
            }
        }

        #default_impl

        impl ::nn_runtime::Network for #name {
            type Elem = #elem;
            const INPUT: usize = #input;
            const OUTPUT: usize = #output;
            const PARAMETERS: usize = #parameters;
            type Input = [#elem; #input];
            type Output = [#elem; #output];

            fn forward(&self, x: &Self::Input) -> Self::Output {
                #name::forward(self, x)
            }

            fn forward_batch(&self, x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>) -> ::core::result::Result<::nn_runtime::ndarray::Array2<#elem>, ::nn_runtime::ShapeError> {
                #name::forward_batch(self, x)
            }
        }
    }
}

/// `new()`, when every layer has inline parameters: the literals are `'static`
/// (constant promotion), so even a large matrix is never built on the stack.
fn emit_new(network: &Network, fields: &[Ident], activations: &[TokenStream]) -> TokenStream {
    let Some(params): Option<Vec<_>> = network
        .layers
        .iter()
        .map(|l| Some((l.tensors[0].values.as_ref()?, l.tensors[1].values.as_ref()?)))
        .collect()
    else {
        return TokenStream::new();
    };
    let weights = network
        .layers
        .iter()
        .zip(&params)
        .map(|(layer, p)| literal::matrix(p.0, layer.output.len()));
    let biases = params.iter().map(|p| literal::vector(p.1));
    quote! {
        /// The network with the parameters written in its definition.
        pub fn new() -> Self {
            Self {
                #( #fields: ::nn_runtime::Affine::from_static(&#weights, &#biases, #activations), )*
            }
        }
    }
}

/// Each layer's output is the next layer's input: `let x = &...;` keeps each
/// intermediate array alive for the line after it.
fn emit_forward(fields: &[Ident]) -> TokenStream {
    let (last, init) = fields
        .split_last()
        .expect("a network has at least one layer");
    quote! {
        #( let x = &self.#init.forward(x); )*
        self.#last.forward(x)
    }
}

/// Each block of rows goes through every layer on one thread; the last layer writes
/// into the batch's result.
fn emit_forward_batch(fields: &[Ident]) -> TokenStream {
    let (last, init) = fields
        .split_last()
        .expect("a network has at least one layer");
    quote! {
        ::nn_runtime::batch::forward_in_blocks(x, Self::INPUT, Self::OUTPUT, Self::PARAMETERS, |x, out| {
            #( let x = self.#init.forward_rows(x.view())?; )*
            self.#last.forward_rows_into(x.view(), out)
        })
    }
}

/// A size as an unsuffixed literal (`784`, not `784usize`).
pub(crate) fn size(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// The struct field of layer `index` (from 0): its name, or `layer{k}` when unnamed.
pub(crate) fn field_name(index: usize, layer: &Layer, spans: SpanMap<'_>) -> Ident {
    match (&layer.name, layer.name_span) {
        (Some(name), Some(span)) => Ident::new(name, spans(span)),
        (Some(name), None) => Ident::new(name, TokenSpan::call_site()),
        (None, _) => format_ident!("{}", crate::ir::implicit_field_name(index + 1)),
    }
}

pub(crate) fn elem_type(dtype: DType) -> TokenStream {
    match dtype {
        DType::F32 => quote!(f32),
        DType::F64 => quote!(f64),
    }
}

fn activation(activation: Activation) -> TokenStream {
    match activation {
        Activation::Identity => quote!(::nn_runtime::Activation::Identity),
        Activation::Step => quote!(::nn_runtime::Activation::Step),
        Activation::Sigmoid => quote!(::nn_runtime::Activation::Sigmoid),
        Activation::Relu => quote!(::nn_runtime::Activation::Relu),
        Activation::LeakyRelu(slope) => {
            let slope = literal::scalar(slope);
            quote!(::nn_runtime::Activation::LeakyRelu(#slope))
        }
        Activation::Tanh => quote!(::nn_runtime::Activation::Tanh),
        Activation::Softmax => quote!(::nn_runtime::Activation::Softmax),
    }
}

/// The struct's rustdoc: what it is and its layer table, so that `cargo doc` and IDE
/// hovers show the network.
fn struct_doc(network: &Network) -> Vec<String> {
    let mut lines = vec![
        format!(
            " The `{}` network: {} -> {}, {}, `{}` (generated by `network!`).",
            network.name,
            network.input,
            network.output,
            crate::diag::count(network.layers.len(), "layer"),
            network.dtype.as_str()
        ),
        String::new(),
        " | # | field | kind | in -> out | activation | parameters | tensors |".to_owned(),
        " |--:|---|---|---|---|--:|---|".to_owned(),
    ];
    for (i, layer) in network.layers.iter().enumerate() {
        lines.push(format!(
            " | {} | `{}` | {} | {} -> {} | {} | {} | `{}`, `{}` |",
            i + 1,
            field_name(i, layer, &super::call_site),
            layer.op.name(),
            layer.input,
            layer.output,
            layer.activation,
            thousands(layer.parameter_count()),
            layer.tensors[0].name,
            layer.tensors[1].name,
        ));
    }
    lines.push(format!(
        " | | **total** | | | | {} | |",
        thousands(network.parameter_count())
    ));
    lines
}
