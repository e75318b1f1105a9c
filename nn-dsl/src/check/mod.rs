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

pub(crate) use names::{is_rust_keyword, is_snake_case, is_upper_camel_case};
pub use sizes::MAX_SIZE;

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
    names::check_unique_networks(file, &mut diagnostics);
    let networks = file
        .networks
        .iter()
        .filter_map(|network| check_network(network, &mut diagnostics))
        .collect();
    sort(&mut diagnostics);
    Checked {
        program: ir::Program { networks },
        diagnostics,
    }
}

/// Puts diagnostics in source order (stable, so that a network's own order is kept
/// for diagnostics at the same place).
pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end));
}

fn check_network(network: &ast::Network, diagnostics: &mut Vec<Diagnostic>) -> Option<ir::Network> {
    let errors_before = count_errors(diagnostics);
    let dtype = match network.dtype.as_ref().map(|d| d.text.as_str()) {
        Some("f64") => DType::F64,
        _ => DType::F32, // the grammar admits only `f32` and `f64`
    };

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

    if count_errors(diagnostics) > errors_before {
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
    for (i, layer) in network.layers.iter().enumerate() {
        let (inputs, outputs) = shapes[i]?;
        let kind = kinds[i]?;
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
            activation: activations[i]?,
            params: parameters[i].clone()?,
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

fn count_errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

/// `1 row`, `2 rows`.
fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
