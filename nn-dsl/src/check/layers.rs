//! Activations: names the language knows, with a suggestion for a misspelt one (E005),
//! the right number of arguments (E005), none on a kind that takes none (E005), and
//! `softmax` only on the last layer (W001).

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::ir::{Activation, DType, Op};

use super::kinds::list;
use super::params::check_number;
use super::suggest;
use crate::diag::count;

/// The activation of a layer (`identity` when it has no `act`), or `None` after
/// reporting E005 (or E009 for a slope that is not finite).
pub(super) fn check_activation(
    activation: Option<&ast::Activation>,
    dtype: DType,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Activation> {
    let Some(activation) = activation else {
        return Some(Activation::Identity);
    };
    let name = &activation.name;
    let without_argument = match name.text.as_str() {
        "identity" => Activation::Identity,
        "step" => Activation::Step,
        "sigmoid" => Activation::Sigmoid,
        "relu" => Activation::Relu,
        "tanh" => Activation::Tanh,
        "softmax" => Activation::Softmax,
        "leaky_relu" => {
            let arguments = activation.arguments.as_ref();
            if let Some([slope]) = arguments.map(|a| a.numbers.as_slice()) {
                return check_number(slope, dtype, diagnostics).map(Activation::LeakyRelu);
            }
            let (span, label) = match arguments {
                None => (name.span, "missing `(slope)`".to_owned()),
                Some(a) => (
                    a.span,
                    format!("{} given", count(a.numbers.len(), "argument")),
                ),
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::E005,
                    "`leaky_relu` takes one argument: the slope for negative inputs",
                    span,
                )
                .with_span_label(label)
                .with_help("write e.g. `leaky_relu(0.01)`"),
            );
            return None;
        }
        unknown => {
            let help = match suggest::activation_alias(unknown)
                .or_else(|| suggest::closest(unknown, &Activation::NAMES))
            {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("the known activations are {}", list(&Activation::NAMES)),
            };
            diagnostics.push(
                Diagnostic::new(
                    Code::E005,
                    format!("unknown activation `{unknown}`"),
                    name.span,
                )
                .with_span_label("unknown activation")
                .with_help(help),
            );
            return None;
        }
    };
    if let Some(arguments) = &activation.arguments {
        diagnostics.push(
            Diagnostic::new(
                Code::E005,
                format!("`{}` takes no argument", name.text),
                arguments.span,
            )
            .with_span_label("unexpected argument")
            .with_help(format!("write `act {}` without parentheses", name.text)),
        );
        return None;
    }
    Some(without_argument)
}

/// Warns about `softmax` on any layer but the last (W001).
pub(super) fn check_softmax_placement(
    network: &ast::Network,
    activations: &[Option<Activation>],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let last = network.layers.len().saturating_sub(1);
    for (i, (layer, activation)) in network.layers.iter().zip(activations).enumerate() {
        if i != last
            && *activation == Some(Activation::Softmax)
            && let Some(act) = &layer.activation
        {
            diagnostics.push(
                Diagnostic::new(
                    Code::W001,
                    format!("`softmax` on layer {} of {}, which is not the last layer", i + 1, last + 1),
                    act.name.span,
                )
                .with_span_label("softmax before the last layer")
                .with_help(
                    "softmax turns a network's final scores into probabilities; inside a network use \
                     `sigmoid`, `relu` or `tanh`, or move `softmax` to the last layer",
                ),
            );
        }
    }
}

/// Reports an activation on a kind that takes none (E005); `false` then.
pub(super) fn check_takes_activation(
    op: &Op,
    activation: Option<&ast::Activation>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let Some(activation) = activation else {
        return true;
    };
    if op.takes_activation() {
        return true;
    }
    diagnostics.push(
        Diagnostic::new(
            Code::E005,
            format!("a `{}` layer takes no activation", op.name()),
            activation.span,
        )
        .with_span_label("not applied by this kind")
        .with_help(format!(
            "remove `act {}`; put the activation on the layer before it",
            activation.name.text
        )),
    );
    false
}
