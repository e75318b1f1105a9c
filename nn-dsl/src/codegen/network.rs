//! One network as Rust: the struct, its inherent methods and its `Network` impl.
//!
//! Every layer is emitted the same way whatever its kind: a field of the runtime's
//! layer type for its op ([`layer_type`]), built from its config ([`layer_config`])
//! through the `nn_runtime::__private::Layer` trait, and called in order by `forward`
//! and `forward_batch`. Only those two functions (and `new`, for the literals of inline
//! parameters) match on the op.

use proc_macro2::{Ident, Literal, Span as TokenSpan, TokenStream};
use quote::{format_ident, quote};

use super::{SpanMap, literal};
use crate::ir::{Activation, DType, Layer, Network, Op, Shape};
use crate::summary::{kind, thousands};

/// The Rust items of one checked network.
///
/// Generated code names everything by absolute path (`::nn_runtime::...`), so it works
/// in any module whatever the user has imported.
pub fn emit_network(network: &Network, spans: SpanMap<'_>) -> TokenStream {
    let name = Ident::new(&network.name, spans(network.name_span));
    let elem = elem_type(network.dtype);
    let (input, output) = (size(network.input.len()), size(network.output.len()));
    let (input_shape, output_shape) = (dims(&network.input), dims(&network.output));
    let fields: Vec<Ident> = network
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| field_name(i, l, spans))
        .collect();
    let field_types = network.layers.iter().map(|layer| layer_type(layer, &elem));
    let field_docs = network.layers.iter().enumerate().map(|(i, layer)| {
        let tensors = match layer.tensors.as_slice() {
            [] => "no parameters".to_owned(),
            tensors => {
                let names: Vec<String> = tensors.iter().map(|t| format!("`{}`", t.name)).collect();
                format!("parameters {}", names.join(", "))
            }
        };
        let activation = if layer.op.takes_activation() {
            format!(", {}", layer.activation)
        } else {
            String::new()
        };
        format!(
            " Layer {}: {} {} -> {}{activation} ({tensors}).",
            i + 1,
            kind(layer),
            layer.input,
            layer.output,
        )
    });
    let configs: Vec<TokenStream> = network.layers.iter().map(layer_config).collect();
    let tensor_names = network.layers.iter().map(|layer| {
        let names = layer.tensors.iter().map(|t| &t.name);
        quote!(&[#(#names),*])
    });
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

    let training = super::training::emit_training(network, &name, &fields, &elem, &allow_names);
    let (training_field, training_init, training_methods, training_items) = match training {
        Some(t) => (t.field, t.init, t.methods, t.items),
        None => Default::default(),
    };
    let new = emit_new(network, &fields, &configs, &training_init);
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
    let forward = emit_forward(network, &fields);
    let forward_batch = emit_forward_batch(&fields);
    let parameters = size(usize::try_from(network.parameter_count()).unwrap_or(usize::MAX));
    let parameters_doc = format!(
        " The number of weights and biases, {}.",
        thousands(network.parameter_count())
    );
    let multiply_adds = size(usize::try_from(network.multiply_adds()).unwrap_or(usize::MAX));
    let multiply_adds_doc = format!(
        " Multiply-adds per sample, {}.",
        thousands(network.multiply_adds())
    );
    let widest = size(network.widest());
    let input_doc = format!(
        " The number of values in a sample, {}.",
        network.input.len()
    );
    let output_doc = format!(
        " The number of values in a result, {}.",
        network.output.len()
    );
    let input_shape_doc = format!(
        " The shape of a sample, `{}`; a sample is passed flat, in row-major order.",
        network.input
    );
    let output_shape_doc = format!(" The shape of a result, `{}`.", network.output);

    quote! {
        #(#[doc = #struct_doc])*
        #[derive(Clone, Debug)]
        #allow_names
        pub struct #name {
            #(
                #[doc = #field_docs]
                pub #fields: #field_types,
            )*
            #training_field
        }

        impl #name {
            #[doc = #input_doc]
            pub const INPUT: usize = #input;
            #[doc = #output_doc]
            pub const OUTPUT: usize = #output;
            #[doc = #input_shape_doc]
            pub const INPUT_SHAPE: &'static [usize] = &[#(#input_shape),*];
            #[doc = #output_shape_doc]
            pub const OUTPUT_SHAPE: &'static [usize] = &[#(#output_shape),*];
            #[doc = #parameters_doc]
            pub const PARAMETERS: usize = #parameters;
            #[doc = #multiply_adds_doc]
            pub const MULTIPLY_ADDS: usize = #multiply_adds;

            #new

            /// The network with every weight and bias zero.
            pub fn zeros() -> Self {
                Self {
                    #( #fields: ::nn_runtime::__private::Layer::zeros(#configs), )*
                    #training_init
                }
            }

            /// The network with weights drawn from `seed`: He initialisation for
            /// relu-family layers, Xavier for the others; biases zero.
            pub fn random(seed: u64) -> Self {
                let mut rng = ::nn_runtime::InitRng::new(seed);
                Self {
                    #( #fields: ::nn_runtime::__private::Layer::random(#configs, &mut rng), )*
                    #training_init
                }
            }

            /// Loads the parameters from a `.safetensors` or `.npz` file. Every tensor
            /// must be there with its exact shape and element type, and no other.
            pub fn load(path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<Self, ::nn_runtime::LoadError> {
                let mut tensors = ::nn_runtime::Tensors::open(path)?;
                let network = Self {
                    #( #fields: ::nn_runtime::__private::Layer::load(#configs, &mut tensors, #tensor_names)?, )*
                    #training_init
                };
                tensors.finish()?;
                ::core::result::Result::Ok(network)
            }

            /// Runs one sample through the network, without allocating.
            pub fn forward(&self, x: &[#elem; #input]) -> [#elem; #output] {
                #forward
            }

            /// Runs a batch, one flat sample per row. Blocks of rows go through every
            /// layer while they are in cache, on both cores when the batch is big
            /// enough. A batch of another width than `INPUT` is a `ShapeError`.
            pub fn forward_batch(&self, x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>) -> ::core::result::Result<::nn_runtime::ndarray::Array2<#elem>, ::nn_runtime::ShapeError> {
                use ::nn_runtime::__private::Layer as _;
                let cost = ::nn_runtime::__private::RowCost {
                    multiply_adds: Self::MULTIPLY_ADDS,
                    widest: #widest,
                };
                ::nn_runtime::__private::forward_in_blocks(x, Self::INPUT, Self::OUTPUT, cost, |x, out| {
                    #forward_batch
                })
            }

            #training_methods
        }

        #training_items

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

/// The runtime type of a layer: its op's layer type, sized by its input and output.
fn layer_type(layer: &Layer, elem: &TokenStream) -> TokenStream {
    let (i, o) = (size(layer.input.len()), size(layer.output.len()));
    match layer.op {
        Op::Affine { .. } => quote!(::nn_runtime::Affine<#elem, #i, #o>),
        Op::Conv2d { .. } => quote!(::nn_runtime::Conv2d<#elem, #i, #o>),
        Op::MaxPool { .. } => quote!(::nn_runtime::MaxPool2d<#elem, #i, #o>),
        Op::Flatten => quote!(::nn_runtime::Flatten<#elem, #i>),
    }
}

/// What the runtime's layer needs besides its parameters (`Layer::Config`): the
/// activation and, for the windowed ops, the geometry.
fn layer_config(layer: &Layer) -> TokenStream {
    let three = |shape: &Shape| {
        let dims = shape.dims().iter().map(|&d| size(d));
        quote!([#(#dims),*])
    };
    let two = |pair: [usize; 2]| {
        let [a, b] = pair.map(size);
        quote!([#a, #b])
    };
    match layer.op {
        Op::Affine { .. } => activation(layer.activation),
        Op::Conv2d {
            filters,
            kernel,
            stride,
            pad,
        } => {
            let (input, filters) = (three(&layer.input), size(filters));
            let (kernel, stride, pad) = (two(kernel), two(stride), two(pad));
            let activation = activation(layer.activation);
            quote!(::nn_runtime::Conv2dConfig {
                input: #input,
                filters: #filters,
                kernel: #kernel,
                stride: #stride,
                pad: #pad,
                activation: #activation,
            })
        }
        Op::MaxPool { size, stride } => {
            let (input, size, stride) = (three(&layer.input), two(size), two(stride));
            quote!(::nn_runtime::Pool2dConfig {
                input: #input,
                size: #size,
                stride: #stride,
            })
        }
        Op::Flatten => quote!(()),
    }
}

/// `new()`, when every layer with parameters has them inline: the literals are
/// `'static` (constant promotion), so even a large matrix is never built on the stack.
fn emit_new(
    network: &Network,
    fields: &[Ident],
    configs: &[TokenStream],
    training_init: &TokenStream,
) -> TokenStream {
    if !network
        .layers
        .iter()
        .all(|l| l.tensors.is_empty() || l.has_inline_parameters())
    {
        return TokenStream::new();
    }
    let layers = network.layers.iter().zip(configs).map(|(layer, config)| {
        let values = |k: usize| layer.tensors.get(k).and_then(|t| t.values.as_ref());
        match (layer.op, values(0), values(1)) {
            (Op::Affine { outputs }, Some(weight), Some(bias)) => {
                let (weight, bias) = (literal::matrix(weight, outputs), literal::vector(bias));
                quote!(::nn_runtime::Affine::from_static(&#weight, &#bias, #config))
            }
            (Op::Conv2d { .. }, Some(weight), Some(bias)) => {
                let (weight, bias) = (literal::vector(weight), literal::vector(bias));
                quote!(::nn_runtime::Conv2d::from_static(#config, &#weight, &#bias))
            }
            // Without parameters (`emit_new` runs only when every layer that has some
            // has them inline): built from the config.
            (Op::Affine { .. } | Op::Conv2d { .. } | Op::MaxPool { .. } | Op::Flatten, _, _) => {
                quote!(::nn_runtime::__private::Layer::zeros(#config))
            }
        }
    });
    quote! {
        /// The network with the parameters written in its definition.
        pub fn new() -> Self {
            Self {
                #( #fields: #layers, )*
                #training_init
            }
        }
    }
}

/// Each layer's output is the next layer's input: `let x = &...;` keeps each
/// intermediate array alive for the line after it. `flatten` returns its input itself
/// (a reference), which the next call takes by deref; a network that ends with one
/// copies it out.
fn emit_forward(network: &Network, fields: &[Ident]) -> TokenStream {
    let (last, init) = fields
        .split_last()
        .expect("a network has at least one layer");
    let ends_with_view = network.layers.last().is_some_and(|l| l.op == Op::Flatten);
    let result = if ends_with_view {
        quote!(*self.#last.forward(x))
    } else {
        quote!(self.#last.forward(x))
    };
    quote! {
        #( let x = &self.#init.forward(x); )*
        #result
    }
}

/// Each block of rows goes through every layer on one thread; the last layer writes
/// into the batch's result.
fn emit_forward_batch(fields: &[Ident]) -> TokenStream {
    let (last, init) = fields
        .split_last()
        .expect("a network has at least one layer");
    quote! {
        #( let x = self.#init.forward_rows(x.view())?; )*
        self.#last.forward_rows_into(x.view(), out)
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

/// A shape's sizes as literals: `1, 28, 28`.
fn dims(shape: &Shape) -> impl Iterator<Item = Literal> + '_ {
    shape.dims().iter().map(|&d| size(d))
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
        let tensors: Vec<String> = layer
            .tensors
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect();
        let activation = if layer.op.takes_activation() {
            layer.activation.to_string()
        } else {
            "-".to_owned()
        };
        lines.push(format!(
            " | {} | `{}` | {} | {} -> {} | {activation} | {} | {} |",
            i + 1,
            field_name(i, layer, &super::call_site),
            kind(layer),
            layer.input,
            layer.output,
            thousands(layer.parameter_count()),
            if tensors.is_empty() {
                "-".to_owned()
            } else {
                tensors.join(", ")
            },
        ));
    }
    lines.push(format!(
        " | | **total** | | | | {} | |",
        thousands(network.parameter_count())
    ));
    lines
}
