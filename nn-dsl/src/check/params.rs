//! Inline parameters: every number finite in the element type (E009), `weight` of shape
//! `[IN, OUT]` and `bias` of `[OUT]` (E006), and all of a network's layers with inline
//! parameters or none (E007).

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::ir::{DType, Params, Scalar, Values};
use crate::span::Span;

use crate::diag::count;

/// The value of `number` in `dtype`, or `None` after reporting E009.
pub(super) fn check_number(
    number: &ast::Number,
    dtype: DType,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Scalar> {
    // Parsing the text straight into the element type rounds once, as rustc does for a
    // literal; the grammar admits only forms that Rust's float parser accepts.
    let scalar = match dtype {
        DType::F32 => number
            .text
            .parse::<f32>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Scalar::F32),
        DType::F64 => number
            .text
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Scalar::F64),
    };
    if scalar.is_none() {
        let fits_f64 = number.text.parse::<f64>().is_ok_and(f64::is_finite);
        let (limit, help) = match dtype {
            DType::F32 if fits_f64 => (
                format!("{:e}", f32::MAX),
                "numbers this large need `f64`: declare the network as `network Name<f64> { ... }`",
            ),
            DType::F32 => (format!("{:e}", f32::MAX), "write a smaller number"),
            DType::F64 => (format!("{:e}", f64::MAX), "write a smaller number"),
        };
        diagnostics.push(
            Diagnostic::new(
                Code::E009,
                format!(
                    "`{}` is not a finite `{}`: its magnitude is above {limit}",
                    number.text,
                    dtype.as_str()
                ),
                number.span,
            )
            .with_span_label(format!("overflows `{}`", dtype.as_str()))
            .with_help(help),
        );
    }
    scalar
}

/// The typed inline parameters of `layer`: `Some(None)` when it has none, `None` after
/// reporting an error. Shapes are checked only when the layer's sizes are valid.
pub(super) fn check_params(
    layer: &ast::Layer,
    shape: Option<(usize, usize)>,
    dtype: DType,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Option<Params>> {
    let Some(params) = &layer.params else {
        return Some(None);
    };
    let weight_numbers = params.weight.rows.iter().flat_map(|row| &row.numbers);
    let weight = values(weight_numbers, dtype, diagnostics);
    let bias = values(&params.bias.numbers, dtype, diagnostics);
    let (inputs, outputs) = shape?;
    let shapes_ok = check_weight_shape(&params.weight, &layer.kind, inputs, outputs, diagnostics)
        & check_bias_shape(&params.bias, &layer.kind, outputs, diagnostics);
    match (weight, bias, shapes_ok) {
        (Some(weight), Some(bias), true) => Some(Some(Params { weight, bias })),
        _ => None,
    }
}

fn values<'a>(
    numbers: impl IntoIterator<Item = &'a ast::Number>,
    dtype: DType,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Values> {
    let mut all_finite = true;
    let mut values = match dtype {
        DType::F32 => Values::F32(Vec::new()),
        DType::F64 => Values::F64(Vec::new()),
    };
    for number in numbers {
        match (check_number(number, dtype, diagnostics), &mut values) {
            (Some(Scalar::F32(x)), Values::F32(v)) => v.push(x),
            (Some(Scalar::F64(x)), Values::F64(v)) => v.push(x),
            _ => all_finite = false,
        }
    }
    all_finite.then_some(values)
}

/// Checks that `weight` is `inputs` rows of `outputs` numbers; reports a transposed
/// matrix as one error, otherwise the row count and each bad row.
fn check_weight_shape(
    weight: &ast::Matrix,
    kind: &ast::Kind,
    inputs: usize,
    outputs: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let rows = weight.rows.len();
    let row_ok = |row: &ast::Vector| row.numbers.len() == outputs;
    if rows == inputs && weight.rows.iter().all(row_ok) {
        return true;
    }
    let layer_sizes = kind.inputs.span.to(kind.outputs.span);
    let transposed = rows == outputs
        && inputs != outputs
        && weight.rows.iter().all(|r| r.numbers.len() == inputs);
    if transposed {
        diagnostics.push(
            Diagnostic::new(
                Code::E006,
                format!("`weight` is {rows}×{inputs} but this layer needs {inputs}×{outputs}: it looks transposed"),
                weight.span,
            )
            .with_span_label(format!("{} of {inputs}", count(rows, "row")))
            .with_label(layer_sizes, format!("{}, {}", count(inputs, "input"), count(outputs, "output")))
            .with_help(format!(
                "write one row per input ({} of {}), as in numpy's `np.dot(x, W)`; \
                 PyTorch's `Linear` stores the transpose",
                count(inputs, "row"),
                count(outputs, "number")
            )),
        );
        return false;
    }
    if rows != inputs {
        diagnostics.push(
            Diagnostic::new(
                Code::E006,
                format!(
                    "`weight` has {} but this layer has {}",
                    count(rows, "row"),
                    count(inputs, "input")
                ),
                weight.span,
            )
            .with_span_label(count(rows, "row"))
            .with_label(kind.inputs.span, count(inputs, "input"))
            .with_help(format!(
                "write one row per input: {} of {}",
                count(inputs, "row"),
                count(outputs, "number")
            )),
        );
    }
    for (i, row) in weight.rows.iter().enumerate().filter(|(_, r)| !row_ok(r)) {
        let found = row.numbers.len();
        diagnostics.push(
            Diagnostic::new(
                Code::E006,
                format!(
                    "row {} of `weight` has {} but this layer has {}",
                    i + 1,
                    count(found, "number"),
                    count(outputs, "output")
                ),
                row.span,
            )
            .with_span_label(count(found, "number"))
            .with_label(kind.outputs.span, count(outputs, "output"))
            .with_help(format!(
                "each row holds one weight per output: {}",
                count(outputs, "number")
            )),
        );
    }
    false
}

fn check_bias_shape(
    bias: &ast::Vector,
    kind: &ast::Kind,
    outputs: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let found = bias.numbers.len();
    if found == outputs {
        return true;
    }
    diagnostics.push(
        Diagnostic::new(
            Code::E006,
            format!(
                "`bias` has {} but this layer has {}",
                count(found, "number"),
                count(outputs, "output")
            ),
            bias.span,
        )
        .with_span_label(count(found, "number"))
        .with_label(kind.outputs.span, count(outputs, "output"))
        .with_help(format!(
            "write one bias per output: {}",
            count(outputs, "number")
        )),
    );
    false
}

/// Reports a network whose layers mix inline parameters and none (E007): parameters
/// come either all from the source or all from a file.
pub(super) fn check_consistency(network: &ast::Network, diagnostics: &mut Vec<Diagnostic>) {
    let (with, without): (Vec<&ast::Layer>, Vec<&ast::Layer>) = network
        .layers
        .iter()
        .partition(|layer| layer.params.is_some());
    let (Some(first_with), Some(first_without)) = (with.first(), without.first()) else {
        return;
    };
    // `layer name: affine 2 -> 3`, without the activation and parameters.
    let head = |layer: &ast::Layer| Span::new(layer.span.start, layer.kind.span.end);
    let mut diagnostic = Diagnostic::new(
        Code::E007,
        format!(
            "{} of the {} layers of `{}` {} inline parameters and {} {} not",
            with.len(),
            network.layers.len(),
            network.name.text,
            if with.len() == 1 { "has" } else { "have" },
            without.len(),
            if without.len() == 1 { "does" } else { "do" },
        ),
        head(first_without),
    )
    .with_span_label("this layer has no inline parameters")
    .with_label(
        first_with
            .params
            .as_ref()
            .map_or(first_with.span, |p| p.span),
        "but this layer has",
    );
    for layer in without.iter().skip(1) {
        diagnostic = diagnostic.with_label(head(layer), "nor does this one");
    }
    diagnostics.push(diagnostic.with_help(
        "give every layer a `{ weight [...] bias [...] }` block, or remove them all and load the \
         parameters from a file",
    ));
}
