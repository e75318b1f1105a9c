//! The loss a network trains with (LANGUAGE.md §9): the `loss` statement's name (E005
//! with a suggestion), whether the network can train with it (E010), and the default
//! without one (`cross_entropy` after a last `softmax`, `mse` otherwise).

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::ir::{Activation, Loss, Scalar};

use super::kinds::list;
use super::suggest;

/// The network's loss, `None` when it cannot be trained (a `step` layer) or after an
/// error. `activations` are the layers' checked activations (`None` after an error).
pub(super) fn check_loss(
    network: &ast::Network,
    activations: &[Option<Activation>],
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Loss> {
    let last = activations.last().copied().flatten();
    // `step` has no gradient; `leaky_relu` with a negative slope has one, but the
    // backward pass reads only a layer's output, and there `a·x > 0` for `x < 0`
    // cannot be told from `x > 0`.
    let untrainable = network
        .layers
        .iter()
        .zip(activations)
        .find_map(|(layer, a)| match a {
            Some(Activation::Step) => Some((layer, "`step` is flat wherever it is differentiable")),
            Some(Activation::LeakyRelu(Scalar::F32(slope))) if *slope < 0.0 => Some((
                layer,
                "the backward pass supports `leaky_relu` with a slope of 0 or more",
            )),
            Some(Activation::LeakyRelu(Scalar::F64(slope))) if *slope < 0.0 => Some((
                layer,
                "the backward pass supports `leaky_relu` with a slope of 0 or more",
            )),
            _ => None,
        })
        .and_then(|(layer, why)| layer.activation.as_ref().map(|a| (a, why)));

    let Some(written) = &network.loss else {
        // No statement: the default, for a network that can be trained at all.
        return match (untrainable, last) {
            (Some(_), _) => None,
            (None, Some(Activation::Softmax)) => Some(Loss::CrossEntropy),
            (None, _) => Some(Loss::Mse),
        };
    };
    let name = &written.name;
    let loss = match name.text.as_str() {
        "cross_entropy" => Loss::CrossEntropy,
        "mse" => Loss::Mse,
        unknown => {
            let help = match suggest::loss_alias(unknown)
                .or_else(|| suggest::closest(unknown, &Loss::NAMES))
            {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None => format!("the losses are {}", list(&Loss::NAMES)),
            };
            diagnostics.push(
                Diagnostic::new(Code::E005, format!("unknown loss `{unknown}`"), name.span)
                    .with_span_label("unknown loss")
                    .with_help(help),
            );
            return None;
        }
    };
    if let Some((activation, why)) = untrainable {
        let (message, help) = if activation.name.text == "step" {
            (
                format!(
                    "`loss {}` on a network with `step`, which has no gradient",
                    loss.name()
                ),
                "train with `sigmoid` in place of `step` (the book's chapter 3 does), or remove \
                 the `loss` statement to use the network for inference only",
            )
        } else {
            (
                format!(
                    "`loss {}` on a network with a negative `leaky_relu` slope",
                    loss.name()
                ),
                "use a slope of 0 or more (`leaky_relu(0.01)`), or remove the `loss` statement \
                 to use the network for inference only",
            )
        };
        diagnostics.push(
            Diagnostic::new(Code::E010, message, name.span)
                .with_span_label("this network cannot be trained")
                .with_label(activation.name.span, why)
                .with_help(help),
        );
        return None;
    }
    if loss == Loss::CrossEntropy && last != Some(Activation::Softmax) {
        let mut diagnostic = Diagnostic::new(
            Code::E010,
            "`loss cross_entropy` needs `softmax` on the last layer",
            name.span,
        )
        .with_span_label("cross-entropy of class probabilities")
        .with_help(
            "write `act softmax` on the last layer (the loss is computed from its scores, as \
             the book's SoftmaxWithLoss), or use `loss mse` for outputs that are not classes",
        );
        if let Some(layer) = network.layers.last() {
            let at = layer
                .activation
                .as_ref()
                .map_or(layer.kind.span, |a| a.span);
            diagnostic = diagnostic.with_label(at, "the last layer's activation");
        }
        diagnostics.push(diagnostic);
        return None;
    }
    Some(loss)
}
