//! The loss a network trains with (LANGUAGE.md §9): the `loss` statement's name (E005
//! with a suggestion), whether the network can train with it (E010), and the default
//! without one (`cross_entropy` after a last `softmax`, `mse` otherwise).

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::ir::{Activation, Loss};

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
    let step = network
        .layers
        .iter()
        .zip(activations)
        .find(|(_, a)| **a == Some(Activation::Step))
        .and_then(|(layer, _)| layer.activation.as_ref());
    let Some(written) = &network.loss else {
        // No statement: the default, for a network that can be trained at all.
        return match (step, last) {
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
    if let Some(step) = step {
        diagnostics.push(
            Diagnostic::new(
                Code::E010,
                format!(
                    "`loss {}` on a network with `step`, which has no gradient",
                    loss.name()
                ),
                name.span,
            )
            .with_span_label("this network cannot be trained")
            .with_label(
                step.name.span,
                "`step` is flat wherever it is differentiable",
            )
            .with_help(
                "train with `sigmoid` in place of `step` (the book's chapter 3 does), or remove \
                 the `loss` statement to use the network for inference only",
            ),
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
