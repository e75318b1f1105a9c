//! The checker: every rule of LANGUAGE.md §5 over the AST, each diagnostic collected
//! (never stopping at the first), and the [IR](crate::ir) of each network that passed.
//!
//! One module per concern: `names` (E002, E008, W002), `sizes` (E003, E004),
//! `layers` (E005, W001), `params` (E006, E007, E009).

mod layers;
mod names;
mod params;
mod sizes;
mod suggest;

pub(crate) use names::{is_snake_case, is_unusable_struct_name, is_upper_camel_case};
pub use sizes::MAX_SIZE;
pub(crate) use sizes::size_value;

use crate::ast;
use crate::diag::Diagnostic;
use crate::ir::{self, DType};

/// What the checker found: the IR of every network without errors, and the
/// diagnostics of the whole source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// The networks that passed every check.
    pub program: ir::Program,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Checks a parsed source.
///
/// ```
/// let parsed = nn_dsl::parse("network N { layer affine 2 -> 3 layer affine 4 -> 1 }");
/// let checked = nn_dsl::check(&parsed.file);
/// assert_eq!(checked.diagnostics[0].code, nn_dsl::Code::E003);
/// ```
pub fn check(file: &ast::File) -> Checked {
    let mut diagnostics = Vec::new();
    let redefined = names::check_unique_networks(file, &mut diagnostics);
    let networks = file
        .networks
        .iter()
        .zip(redefined)
        .filter_map(|(network, redefined)| {
            // A redefinition (E002) is checked for its own mistakes but never becomes
            // IR: only the first network of a name can.
            check_network(network, &mut diagnostics).filter(|_| !redefined)
        })
        .collect();
    sort(&mut diagnostics);
    Checked {
        program: ir::Program { networks },
        diagnostics,
    }
}

/// The element type a network declares, `f32` when it declares none.
pub(crate) fn dtype(network: &ast::Network) -> DType {
    match network.dtype.as_ref().map(|d| d.text.as_str()) {
        Some("f64") => DType::F64,
        _ => DType::F32, // the grammar admits only `f32` and `f64`
    }
}

/// Puts diagnostics in source order (stable, so that a network's own order is kept
/// for diagnostics at the same place).
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}

fn check_network(network: &ast::Network, diagnostics: &mut Vec<Diagnostic>) -> Option<ir::Network> {
    let before = diagnostics.len();
    let dtype = dtype(network);

    names::check_network_name(&network.name, diagnostics);
    names::check_layer_names(&network.layers, diagnostics);

    let shapes = sizes::check_sizes(network, diagnostics);
    let kinds: Vec<_> = network
        .layers
        .iter()
        .map(|layer| layers::check_kind(&layer.kind.name, diagnostics))
        .collect();
    let activations: Vec<_> = network
        .layers
        .iter()
        .map(|layer| layers::check_activation(layer.activation.as_ref(), dtype, diagnostics))
        .collect();
    layers::check_softmax_placement(network, &activations, diagnostics);
    params::check_consistency(network, diagnostics);
    let parameters: Vec<_> = network
        .layers
        .iter()
        .zip(&shapes)
        .map(|(layer, shape)| params::check_params(layer, *shape, dtype, diagnostics))
        .collect();

    if diagnostics[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    build_network(network, dtype, shapes, kinds, activations, parameters)
}

/// Assembles the IR of a network that produced no errors.
fn build_network(
    network: &ast::Network,
    dtype: DType,
    shapes: Vec<Option<(usize, usize)>>,
    kinds: Vec<Option<ir::LayerKind>>,
    activations: Vec<Option<ir::Activation>>,
    parameters: Vec<Option<Option<ir::Params>>>,
) -> Option<ir::Network> {
    let mut layers = Vec::with_capacity(network.layers.len());
    let mut affine_index = 0;
    // Taken by value: the inline matrices move into the IR rather than being copied.
    let checked = shapes
        .into_iter()
        .zip(kinds)
        .zip(activations)
        .zip(parameters);
    for (layer, (((shape, kind), activation), params)) in network.layers.iter().zip(checked) {
        let (inputs, outputs) = shape?;
        let kind = kind?;
        affine_index += usize::from(kind == ir::LayerKind::Affine);
        let (weight_tensor, bias_tensor) = match &layer.name {
            Some(name) => (
                format!("{}.weight", name.text),
                format!("{}.bias", name.text),
            ),
            None => (format!("W{affine_index}"), format!("b{affine_index}")),
        };
        layers.push(ir::Layer {
            name: layer.name.as_ref().map(|n| n.text.clone()),
            name_span: layer.name.as_ref().map(|n| n.span),
            span: layer.span,
            kind,
            inputs,
            outputs,
            activation: activation?,
            params: params?,
            weight_tensor,
            bias_tensor,
        });
    }
    Some(ir::Network {
        name: network.name.text.clone(),
        name_span: network.name.span,
        dtype,
        input: layers.first()?.inputs,
        output: layers.last()?.outputs,
        layers,
    })
}

#[cfg(test)]
mod tests {
    use crate::Code;

    fn checked(source: &str) -> super::Checked {
        super::check(&crate::parse(source).file)
    }

    /// The three spellings of the activations (the checker's, `NAMES` and `name()`)
    /// agree: each listed name checks clean and comes back as itself.
    #[test]
    fn every_activation_name_round_trips() {
        for name in crate::ir::Activation::NAMES {
            let argument = if name == "leaky_relu" { "(0.1)" } else { "" };
            // One layer, so softmax is on the last one (no W001).
            let checked = checked(&format!(
                "network N {{ layer affine 2 -> 2 act {name}{argument} }}"
            ));
            assert!(
                checked.diagnostics.is_empty(),
                "{name}: {:?}",
                checked.diagnostics
            );
            assert_eq!(
                checked.program.networks[0].layers[0].activation.name(),
                name
            );
        }
    }

    /// Only a first definition can become IR: the code generator emits one struct per
    /// name, and it must be the one the user wrote first.
    #[test]
    fn a_redefined_network_never_becomes_ir() {
        let both_clean =
            checked("network Gate { layer affine 2 -> 1 }\nnetwork Gate { layer affine 3 -> 1 }");
        let codes: Vec<_> = both_clean.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [Code::E002]);
        assert_eq!(both_clean.program.networks.len(), 1);
        assert_eq!(both_clean.program.networks[0].input, 2);

        let first_broken =
            checked("network Gate { layer affine 0 -> 1 }\nnetwork Gate { layer affine 3 -> 1 }");
        assert!(first_broken.program.networks.is_empty());
    }
}
