//! The training API of a network (LANGUAGE.md §9): `NAMEGradients`, `loss`,
//! `gradients`, `train_step`, `save`, and `nn_runtime::Parameters` for the network and
//! its gradients.
//!
//! The backward pass is written out in closed form: the forward half runs each layer's
//! `Train::forward_train` into a buffer of its own (a `flatten` passes its input view
//! on), the loss writes its gradient, and the backward half calls each layer's
//! `Train::backward` in reverse, handing the gradient with respect to its input to the
//! layer before through two buffers used in turn. It stops at the first layer with
//! parameters: nothing before it needs a gradient.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::network::size;
use crate::ir::{Loss, Network, Op};

/// What a trainable network adds to the generated code.
pub(super) struct TrainingCode {
    /// The hidden field that keeps the buffers between steps.
    pub field: TokenStream,
    /// Its initialiser, in every constructor.
    pub init: TokenStream,
    /// Inherent methods of the network.
    pub methods: TokenStream,
    /// Items beside the network: the gradients struct and the `Parameters` impls.
    pub items: TokenStream,
}

/// The training code of `network`, or `None` if it cannot be trained (a `step`).
pub(super) fn emit_training(
    network: &Network,
    name: &Ident,
    fields: &[Ident],
    elem: &TokenStream,
    allow_names: &TokenStream,
) -> Option<TrainingCode> {
    let loss = network.loss?;
    let gradients_name = format_ident!("{}Gradients", name);
    let with_parameters: Vec<(usize, &Ident)> = network
        .layers
        .iter()
        .zip(fields)
        .enumerate()
        .filter(|(_, (layer, _))| layer.op.has_parameters())
        .map(|(i, (_, field))| (i, field))
        .collect();
    let names_of = |i: usize| {
        let names = network.layers[i].tensors.iter().map(|t| &t.name);
        quote!(&[#(#names),*])
    };

    let gradient_fields = with_parameters.iter().map(|&(i, field)| {
        let layer = &network.layers[i];
        let dim = match layer.op {
            Op::Affine { .. } => quote!(::nn_runtime::ndarray::Ix2),
            Op::Conv2d { .. } => quote!(::nn_runtime::ndarray::Ix4),
            Op::MaxPool { .. } | Op::Flatten => unreachable!("filtered: layers with parameters"),
        };
        let names: Vec<String> = layer
            .tensors
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect();
        let doc = format!(
            " Layer {}: the gradients of {}.",
            i + 1,
            names.join(" and ")
        );
        quote! {
            #[doc = #doc]
            pub #field: ::nn_runtime::LayerGradients<#elem, #dim>,
        }
    });
    let visits: Vec<TokenStream> = with_parameters
        .iter()
        .map(|&(i, field)| {
            let names = names_of(i);
            quote!(self.#field.visit(#names, f);)
        })
        .collect();
    let visits_mut: Vec<TokenStream> = with_parameters
        .iter()
        .map(|&(i, field)| {
            let names = names_of(i);
            quote!(self.#field.visit_mut(#names, f);)
        })
        .collect();
    let layer_visits = with_parameters.iter().map(|&(i, field)| {
        let names = names_of(i);
        quote!(::nn_runtime::__private::Train::visit(&self.#field, #names, f);)
    });
    let layer_visits_mut = with_parameters.iter().map(|&(i, field)| {
        let names = names_of(i);
        quote!(::nn_runtime::__private::Train::visit_mut(&mut self.#field, #names, f);)
    });
    let updates = with_parameters.iter().map(|&(i, field)| {
        let names = names_of(i);
        quote!(::nn_runtime::__private::Train::update(&mut self.#field, #names, &gradients.#field, optimizer);)
    });
    let zero_fields = with_parameters.iter().map(
        |&(_, field)| quote!(#field: ::nn_runtime::__private::Train::zero_gradients(&self.#field),),
    );

    let (labels_arg, labels_doc, check_labels, loss_call, fused) = match loss {
        Loss::CrossEntropy => (
            quote!(labels: &[usize]),
            "`labels` are class indices, one per row, each below `OUTPUT`",
            quote!(::nn_runtime::__private::check_labels(labels, rows, Self::OUTPUT)?;),
            quote!(::nn_runtime::loss::cross_entropy_into),
            true,
        ),
        Loss::Mse => (
            quote!(labels: ::nn_runtime::ndarray::ArrayView2<'_, #elem>),
            "`labels` are target rows of `OUTPUT` values, one per row of `x`",
            quote!(::nn_runtime::__private::check_targets(&labels, rows, Self::OUTPUT)?;),
            quote!(::nn_runtime::loss::mse_into),
            false,
        ),
    };
    let loss_name = loss.name();
    let backprop = emit_backprop(
        network,
        fields,
        Signature {
            elem,
            labels: &labels_arg,
            check_labels: &check_labels,
            gradients: &gradients_name,
        },
        loss_call,
        fused,
    );
    let view = quote!(::nn_runtime::ndarray::ArrayView2<'_, #elem>);

    let gradients_doc = format!(
        " The gradients of a `{name}`'s parameters: one field per layer with parameters, \
         named as the network's; `nn_runtime::Parameters` gives them by tensor name."
    );
    let loss_doc = format!(
        " The mean `{loss_name}` loss of a batch (one flat sample per row); {labels_doc}. \
         A batch of another width, another number of labels or a label out of range is \
         a `ShapeError`."
    );
    let merges = with_parameters
        .iter()
        .map(|&(_, field)| quote!(gradients.#field.merge(&second.#field, a, b);));
    let methods = quote! {
        #[doc = #loss_doc]
        pub fn loss(&self, x: #view, #labels_arg) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> {
            self.__backprop(x, labels, &mut ::nn_runtime::__private::Workspace::default(), ::core::option::Option::None)
        }

        /// The mean loss of a batch and its exact gradient with respect to every
        /// parameter (backpropagation in closed form, layer by layer).
        pub fn gradients(&self, x: #view, #labels_arg) -> ::core::result::Result<(#elem, #gradients_name), ::nn_runtime::ShapeError> {
            let mut training = ::nn_runtime::__private::Training::default();
            let loss = self.__step(x, labels, &mut training)?;
            let gradients = training.into_gradients().expect("a step that succeeded leaves gradients");
            ::core::result::Result::Ok((loss, gradients))
        }

        /// One training step: the gradients of the batch, then `optimizer`'s update of
        /// every parameter. Returns the loss before the update. After the first step at
        /// a batch size, a step allocates nothing: the buffers stay in the network. A
        /// big batch is split between two threads, each taking half of the rows
        /// forward and backward.
        pub fn train_step(
            &mut self,
            x: #view,
            #labels_arg,
            optimizer: &mut (impl ::nn_runtime::Optimizer<#elem> + ?Sized),
        ) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> {
            let mut training = ::core::mem::take(&mut self.__training);
            let loss = self.__step(x, labels, &mut training);
            if let (::core::result::Result::Ok(_), ::core::option::Option::Some(gradients)) = (&loss, training.gradients()) {
                optimizer.begin_step();
                #( #updates )*
            }
            self.__training = training;
            loss
        }

        /// Writes the parameters to a `.safetensors` file with the names and shapes of
        /// the definition, which `load` reads back bit for bit.
        pub fn save(&self, path: impl ::core::convert::AsRef<::std::path::Path>) -> ::core::result::Result<(), ::nn_runtime::SaveError> {
            ::nn_runtime::__private::save(self, path.as_ref())
        }

        fn __zero_gradients(&self) -> #gradients_name {
            #gradients_name { #( #zero_fields )* }
        }

        /// The loss and gradients of a batch into `training`: on two threads, half of
        /// the rows each, when the batch is big enough.
        fn __step(
            &self,
            x: #view,
            #labels_arg,
            training: &mut ::nn_runtime::__private::Training<#elem, #gradients_name>,
        ) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> {
            let rows = x.nrows();
            ::nn_runtime::__private::check_batch(&x, Self::INPUT)?;
            #check_labels
            let (workspace, workspace_second, gradients, second) = training.parts(|| self.__zero_gradients());
            let ::core::option::Option::Some(half) = ::nn_runtime::__private::split_batch(rows, Self::MULTIPLY_ADDS) else {
                return self.__backprop(x, labels, workspace, ::core::option::Option::Some(gradients));
            };
            let (x_first, x_second) = x.split_at(::nn_runtime::ndarray::Axis(0), half);
            let (labels_first, labels_second) = ::nn_runtime::__private::Labels::split_at(labels, half);
            let (loss_first, loss_second) = ::nn_runtime::__private::join(
                || self.__backprop(x_first, labels_first, workspace, ::core::option::Option::Some(gradients)),
                || self.__backprop(x_second, labels_second, workspace_second, ::core::option::Option::Some(second)),
            );
            let (loss_first, loss_second) = (loss_first?, loss_second?);
            // Each half's loss and gradients are means over its rows.
            let a = half as #elem / rows as #elem;
            let b = (rows - half) as #elem / rows as #elem;
            #( #merges )*
            ::core::result::Result::Ok(a * loss_first + b * loss_second)
        }

        #backprop
    };

    let items = quote! {
        #[doc = #gradients_doc]
        #[derive(Clone, Debug, PartialEq)]
        #allow_names
        pub struct #gradients_name {
            #( #gradient_fields )*
        }

        impl ::nn_runtime::Parameters for #gradients_name {
            type Elem = #elem;

            fn visit(&self, f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewD<'_, #elem>)) {
                #( #visits )*
            }

            fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewMutD<'_, #elem>)) {
                #( #visits_mut )*
            }
        }

        impl ::nn_runtime::Parameters for #name {
            type Elem = #elem;

            fn visit(&self, f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewD<'_, #elem>)) {
                #( #layer_visits )*
            }

            fn visit_mut(&mut self, f: &mut dyn FnMut(&str, ::nn_runtime::ndarray::ArrayViewMutD<'_, #elem>)) {
                #( #layer_visits_mut )*
            }
        }
    };

    Some(TrainingCode {
        field: quote!(__training: ::nn_runtime::__private::Training<#elem, #gradients_name>,),
        init: quote!(__training: ::core::default::Default::default(),),
        methods,
        items,
    })
}

/// The parts of `__backprop`'s signature that depend on the network.
struct Signature<'a> {
    elem: &'a TokenStream,
    /// `labels: &[usize]` or `labels: ArrayView2<T>`.
    labels: &'a TokenStream,
    /// The labels' check against the batch.
    check_labels: &'a TokenStream,
    gradients: &'a Ident,
}

/// `__backprop`: the forward half into the network's buffers, the loss, and (with
/// gradients to fill) the backward half.
fn emit_backprop(
    network: &Network,
    fields: &[Ident],
    signature: Signature<'_>,
    loss_call: TokenStream,
    fused: bool,
) -> TokenStream {
    let Signature {
        elem,
        labels,
        check_labels,
        gradients: gradients_name,
    } = signature;
    let layers = &network.layers;
    let last = layers.len() - 1;
    // The output view of each layer: its own buffer, or its input's for a flatten.
    let mut outputs: Vec<Ident> = Vec::new();
    let mut buffers: Vec<(Ident, usize)> = Vec::new();
    let mut forward = Vec::new();
    for (i, (layer, field)) in layers.iter().zip(fields).enumerate() {
        let input = match i {
            0 => quote!(x.view()),
            _ => {
                let previous = &outputs[i - 1];
                quote!(#previous)
            }
        };
        let y = format_ident!("y{}", i + 1);
        if layer.op == Op::Flatten {
            forward.push(quote!(let #y = #input;));
        } else {
            let width = size(layer.output.len());
            let activate = !(fused && i == last);
            forward.push(quote! {
                ::nn_runtime::__private::Train::forward_train(&self.#field, #input, &mut *#y, #activate)?;
                let #y = ::nn_runtime::__private::rows(&*#y, #width);
            });
            buffers.push((y.clone(), layer.output.len()));
        }
        outputs.push(y);
    }
    let output_width = size(network.output.len());
    // The gradient buffers hold a gradient with respect to some layer's output, or to
    // the input of a layer after the first with parameters.
    let first_with_parameters = layers.iter().position(|l| l.op.has_parameters());
    let widest = size(
        layers
            .iter()
            .enumerate()
            .map(|(i, l)| match first_with_parameters {
                Some(first) if i > first => l.input.len().max(l.output.len()),
                _ => l.output.len(),
            })
            .max()
            .unwrap_or(0),
    );
    let (a, b) = (format_ident!("gradient_a"), format_ident!("gradient_b"));
    let last_output = &outputs[last];
    let loss = quote! {
        let loss = #loss_call(#last_output, labels, ::nn_runtime::__private::rows_mut(&mut #a[..rows * #output_width], #output_width))?;
    };

    // Backward, from the last layer to the first with parameters.
    let mut backward = Vec::new();
    let (mut current, mut next) = (a.clone(), b.clone());
    if let Some(first) = first_with_parameters {
        for i in (first..=last).rev() {
            let layer = &layers[i];
            if layer.op == Op::Flatten {
                continue; // the gradient passes through as it is
            }
            let field = &fields[i];
            let input = match i {
                0 => quote!(x.view()),
                _ => {
                    let previous = &outputs[i - 1];
                    quote!(#previous)
                }
            };
            let output = &outputs[i];
            let (in_width, out_width) = (size(layer.input.len()), size(layer.output.len()));
            let activated = !(fused && i == last);
            let gradients = if layer.op.has_parameters() {
                quote!(&mut gradients.#field)
            } else {
                quote!(&mut ())
            };
            let dx = if i > first {
                quote!(::core::option::Option::Some(::nn_runtime::__private::rows_mut(&mut #next[..rows * #in_width], #in_width)))
            } else {
                quote!(::core::option::Option::None)
            };
            backward.push(quote! {
                ::nn_runtime::__private::Train::backward(
                    &self.#field,
                    #input,
                    #output,
                    ::nn_runtime::__private::rows_mut(&mut #current[..rows * #out_width], #out_width),
                    #activated,
                    #gradients,
                    #dx,
                    scratch,
                );
            });
            std::mem::swap(&mut current, &mut next);
        }
    }

    let buffer_names = buffers.iter().map(|(name, _)| name);
    let buffer_widths = buffers.iter().map(|(_, width)| size(*width));
    quote! {
        /// The loss of a batch and, with `gradients`, its gradients.
        #[allow(unused_variables, unused_mut, reason = "generated for every shape of network")]
        fn __backprop(
            &self,
            x: ::nn_runtime::ndarray::ArrayView2<'_, #elem>,
            #labels,
            workspace: &mut ::nn_runtime::__private::Workspace<#elem>,
            gradients: ::core::option::Option<&mut #gradients_name>,
        ) -> ::core::result::Result<#elem, ::nn_runtime::ShapeError> {
            ::nn_runtime::__private::check_batch(&x, Self::INPUT)?;
            let rows = x.nrows();
            #check_labels
            let ([#(#buffer_names,)* #a, #b], scratch) = workspace.buffers(rows, [#(#buffer_widths,)* #widest, #widest]);
            #( #forward )*
            #loss
            let ::core::option::Option::Some(gradients) = gradients else {
                return ::core::result::Result::Ok(loss);
            };
            #( #backward )*
            ::core::result::Result::Ok(loss)
        }
    }
}
