//! The checker: every rule of LANGUAGE.md §5 over the AST, each diagnostic collected
//! (never stopping at the first), and the [IR](crate::ir) of each network that passed.
//!
//! A network is checked as one fold over its layers, carrying the shape that reaches
//! the next one: each layer's kind and options are resolved, its input checked against
//! what reaches it, its output inferred and compared with what is written, and its
//! inline tensors checked against the op's tensor shapes, before the next layer.
//!
//! One module per concern: `names` (E002, E008, W002), `shapes` (E003, E004),
//! `kinds` (E005 for kinds and options), `layers` (E005 for activations, W001),
//! `params` (E006, E007, E009), `loss` (E005 for losses, E010).

mod kinds;
mod layers;
mod loss;
mod names;
mod params;
mod shapes;
mod suggest;

pub(crate) use names::{is_snake_case, is_unusable_struct_name, is_upper_camel_case};
pub use shapes::MAX_SIZE;
pub(crate) use shapes::pair;

use crate::ast;
use crate::diag::Diagnostic;
use crate::ir::{self, DType, Op, Shape};
use crate::span::Span;
use shapes::Reaching;

/// What the checker found: the IR of every network without errors, the signature of
/// every network, and the diagnostics of the whole source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// The networks that passed every check.
    pub program: ir::Program,
    /// One per network name, first definitions only, clean or not, in source order:
    /// what the code generator stands in from after errors.
    pub signatures: Vec<Signature>,
    /// Errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// What the checker could establish about a network's interface, errors or not: its
/// name, element type, and the input and output shapes where they are valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    /// The network's name.
    pub name: String,
    /// Where the name stands.
    pub name_span: Span,
    /// Whether the name can name a Rust struct (not a keyword or a primitive type).
    pub usable: bool,
    /// The element type.
    pub dtype: DType,
    /// The input shape, if the first layer's (or `input`'s) is valid.
    pub input: Option<Shape>,
    /// The output shape, if the last layer's is valid.
    pub output: Option<Shape>,
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
    let mut networks = Vec::new();
    let mut signatures = Vec::new();
    for (network, redefined) in file.networks.iter().zip(redefined) {
        let checked = check_network(network, &mut diagnostics);
        // A redefinition (E002) is checked for its own mistakes but never becomes IR
        // nor a signature: only the first network of a name can.
        if redefined {
            continue;
        }
        signatures.push(signature(network));
        networks.extend(checked);
    }
    sort(&mut diagnostics);
    Checked {
        program: ir::Program { networks },
        signatures,
        diagnostics,
    }
}

/// The interface of `network` as far as its shapes are valid, whatever its errors.
fn signature(network: &ast::Network) -> Signature {
    let quiet = |shape: &ast::Shape| shapes::check_shape(shape, &mut Vec::new());
    let input = network
        .layers
        .first()
        .map(|layer| &layer.kind.input)
        .or(network.input.as_ref().map(|input| &input.shape))
        .and_then(quiet);
    let output = network
        .layers
        .last()
        .and_then(|layer| quiet(&layer.kind.output));
    Signature {
        name: network.name.text.clone(),
        name_span: network.name.span,
        usable: !is_unusable_struct_name(&network.name.text),
        dtype: dtype(network),
        input,
        output,
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

    // The fold: what reaches the next layer, and each layer's IR (`None` after errors).
    let mut reaching = network.input.as_ref().and_then(|input| {
        Some(Reaching {
            shape: shapes::check_shape(&input.shape, diagnostics)?,
            span: input.shape.span,
            what: "`input` declares",
            computed: None,
        })
    });
    let mut ops = Vec::with_capacity(network.layers.len());
    let mut activations = Vec::with_capacity(network.layers.len());
    let mut layers = Vec::with_capacity(network.layers.len());
    let mut with_parameters = 0;
    for layer in &network.layers {
        let checked = check_layer(layer, dtype, reaching.as_ref(), diagnostics);
        if checked.op.is_some_and(|op| op.has_parameters()) {
            with_parameters += 1;
        }
        ops.push(checked.op);
        activations.push(checked.activation);
        reaching = checked.output.clone().map(|shape| Reaching {
            shape,
            span: layer.kind.output.span,
            what: "the previous layer gives",
            computed: checked.computed.clone(),
        });
        layers.push(checked.build(layer, with_parameters));
    }
    layers::check_softmax_placement(network, &activations, diagnostics);
    params::check_consistency(network, &ops, diagnostics);
    let loss = loss::check_loss(network, &activations, diagnostics);

    if diagnostics[before..].iter().any(Diagnostic::is_error) {
        return None;
    }
    let layers: Vec<ir::Layer> = layers.into_iter().collect::<Option<_>>()?;
    Some(ir::Network {
        name: network.name.text.clone(),
        name_span: network.name.span,
        dtype,
        input: layers.first()?.input.clone(),
        output: layers.last()?.output.clone(),
        layers,
        loss,
    })
}

/// What the fold learnt of one layer; each part `None` after an error in it.
struct CheckedLayer {
    op: Option<Op>,
    input: Option<Shape>,
    /// The written output: what reaches the next layer.
    output: Option<Shape>,
    /// What the op computes, when it differs from the written output (reported here):
    /// the next layer may take either without a second report, so that one wrong
    /// number, whichever of the two places it is in, is one error.
    computed: Option<Shape>,
    activation: Option<ir::Activation>,
    /// The inline tensors: `Some(None)` when there are none.
    params: Option<Option<[ir::Values; 2]>>,
    /// Whether the shapes are consistent (input chains, output as computed).
    shapes_ok: bool,
}

impl CheckedLayer {
    /// The layer's IR when every part of it checked; `k` counts the layers with
    /// parameters so far (this one included), which names the unnamed ones' tensors.
    fn build(self, layer: &ast::Layer, k: usize) -> Option<ir::Layer> {
        let op = self.op?;
        let input = self.input?;
        let output = self.output?;
        let activation = self.activation?;
        let params = self.params?;
        if !self.shapes_ok {
            return None;
        }
        let names = match &layer.name {
            Some(name) => [
                format!("{}.weight", name.text),
                format!("{}.bias", name.text),
            ],
            None => [format!("W{k}"), format!("b{k}")],
        };
        let mut values = params.map(|[w, b]| [Some(w), Some(b)]).unwrap_or_default();
        let tensors = op
            .tensor_shapes(&input)
            .into_iter()
            .zip(names)
            .zip(values.iter_mut())
            .map(|((shape, name), values)| ir::TensorSpec {
                name,
                shape,
                values: values.take(),
            })
            .collect();
        Some(ir::Layer {
            name: layer.name.as_ref().map(|n| n.text.clone()),
            name_span: layer.name.as_ref().map(|n| n.span),
            span: layer.span,
            op,
            input,
            output,
            activation,
            tensors,
        })
    }
}

/// One step of the fold: every check of one layer, given what reaches it.
fn check_layer(
    layer: &ast::Layer,
    dtype: DType,
    reaching: Option<&Reaching>,
    diagnostics: &mut Vec<Diagnostic>,
) -> CheckedLayer {
    let kind = &layer.kind;
    let input = shapes::check_shape(&kind.input, diagnostics);
    let output = shapes::check_shape(&kind.output, diagnostics);
    let free = output.as_ref().map_or(1, |shape| shape.dims()[0]);
    let op = kinds::resolve(kind, free, diagnostics);
    let mut activation = layers::check_activation(layer.activation.as_ref(), dtype, diagnostics);
    if let Some(op) = &op
        && !layers::check_takes_activation(op, layer.activation.as_ref(), diagnostics)
    {
        activation = None;
    }

    let mut shapes_ok = true;
    let mut wrong_output = None;
    if let (Some(input), Some(reaching)) = (&input, reaching)
        && *input != reaching.shape
        && Some(input) != reaching.computed.as_ref()
    {
        diagnostics.push(shapes::mismatch(&kind.input, input, reaching));
        shapes_ok = false;
    }
    if let (Some(op), Some(input)) = (&op, &input) {
        match op.infer(input) {
            Ok(computed) => {
                if let Some(output) = &output
                    && computed != *output
                {
                    diagnostics.push(shapes::wrong_output(
                        op,
                        input,
                        &computed,
                        &kind.output,
                        output,
                    ));
                    shapes_ok = false;
                    wrong_output = Some(computed);
                }
            }
            Err(error) => {
                diagnostics.push(shapes::cannot_infer(op, &error, kind, input));
                shapes_ok = false;
            }
        }
    }
    let op_input = op.as_ref().zip(input.as_ref()).filter(|_| shapes_ok);
    let params = params::check_params(layer, op_input, dtype, diagnostics);
    CheckedLayer {
        op,
        input,
        output,
        computed: wrong_output,
        activation,
        params,
        shapes_ok,
    }
}

#[cfg(test)]
mod tests {
    use crate::{Code, ir};

    fn checked(source: &str) -> super::Checked {
        super::check(&crate::parse(source).file)
    }

    /// The three spellings of the activations (the checker's, `NAMES` and `name()`)
    /// agree: each listed name checks clean and comes back as itself.
    #[test]
    fn every_activation_name_round_trips() {
        for name in ir::Activation::NAMES {
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
        assert_eq!(both_clean.program.networks[0].input, ir::Shape(vec![2]));

        let first_broken =
            checked("network Gate { layer affine 0 -> 1 }\nnetwork Gate { layer affine 3 -> 1 }");
        assert!(first_broken.program.networks.is_empty());
    }
}
