//! Inline parameters: every number finite in the element type (E009), `weight` of shape
//! `[IN, OUT]` and `bias` of `[OUT]` (E006), and all of a network's layers with inline
//! parameters or none (E007).

use crate::ast::{self, TensorItems};
use crate::diag::{Code, Diagnostic};
use crate::ir::{DType, Op, Scalar, Shape, Values};
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

/// The typed inline parameters of `layer` (weight, then bias): `Some(None)` when it has
/// none, `None` after reporting an error. Shapes are checked against `op`'s tensors
/// when the op and the layer's input are known.
pub(super) fn check_params(
    layer: &ast::Layer,
    op: Option<(&Op, &Shape)>,
    dtype: DType,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Option<[Values; 2]>> {
    let Some(params) = &layer.params else {
        return Some(None);
    };
    let weight = values(params.weight.numbers(), dtype, diagnostics);
    let bias = values(params.bias.numbers(), dtype, diagnostics);
    let (op, input) = op?;
    let kind = &layer.kind;
    let shapes_ok = match *op {
        Op::Affine { outputs } => {
            check_affine_weight(&params.weight, kind, input.len(), outputs, diagnostics)
                & check_bias(&params.bias, kind, outputs, "output", diagnostics)
        }
        Op::Conv2d { filters, .. } => {
            let tensors = op.tensor_shapes(input);
            check_conv_weight(&params.weight, kind, &tensors[0], diagnostics)
                & check_bias(&params.bias, kind, filters, "filter", diagnostics)
        }
        Op::MaxPool { .. } | Op::Flatten => {
            diagnostics.push(
                Diagnostic::new(
                    Code::E006,
                    format!("a `{}` layer has no parameters", op.name()),
                    params.span,
                )
                .with_span_label("inline parameters")
                .with_label(
                    kind.name.span,
                    format!("`{}` has no weight or bias", op.name()),
                )
                .with_help("remove the `{ weight ... bias ... }` block"),
            );
            false
        }
    };
    match (weight, bias, shapes_ok) {
        (Some(weight), Some(bias), true) => Some(Some([weight, bias])),
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
fn check_affine_weight(
    weight: &ast::Tensor,
    kind: &ast::Kind,
    inputs: usize,
    outputs: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    // A matrix is brackets of rows of numbers; anything else is reported by its shape.
    let rows: Option<Vec<&Vec<ast::Number>>> = match &weight.items {
        TensorItems::Tensors(rows) => rows
            .iter()
            .map(|row| match &row.items {
                TensorItems::Numbers(numbers) => Some(numbers),
                TensorItems::Tensors(_) => None,
            })
            .collect(),
        TensorItems::Numbers(_) => None,
    };
    let Some(row_numbers) = rows else {
        return check_tensor_shape(
            weight,
            "weight",
            kind,
            &[inputs, outputs],
            "IN rows of OUT numbers",
            diagnostics,
        );
    };
    let row_tensors: &[ast::Tensor] = match &weight.items {
        TensorItems::Tensors(rows) => rows,
        TensorItems::Numbers(_) => &[],
    };
    let rows = row_numbers.len();
    let row_ok = |row: &ast::Tensor| row.numbers().len() == outputs;
    if rows == inputs && row_tensors.iter().all(row_ok) {
        return true;
    }
    let layer_sizes = kind.input.span.to(kind.output.span);
    let transposed =
        rows == outputs && inputs != outputs && row_numbers.iter().all(|r| r.len() == inputs);
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
            .with_label(kind.input.span, count(inputs, "input"))
            .with_help(format!(
                "write one row per input: {} of {}",
                count(inputs, "row"),
                count(outputs, "number")
            )),
        );
    }
    for (i, row) in row_tensors.iter().enumerate().filter(|(_, r)| !row_ok(r)) {
        let found = row.numbers().len();
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
            .with_label(kind.output.span, count(outputs, "output"))
            .with_help(format!(
                "each row holds one weight per output: {}",
                count(outputs, "number")
            )),
        );
    }
    false
}

/// Checks that `bias` is a list of `expected` numbers, one per `per` (output or filter).
fn check_bias(
    bias: &ast::Tensor,
    kind: &ast::Kind,
    expected: usize,
    per: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let found = match &bias.items {
        TensorItems::Numbers(numbers) => numbers.len(),
        TensorItems::Tensors(_) => {
            return check_tensor_shape(
                bias,
                "bias",
                kind,
                &[expected],
                "a list of numbers",
                diagnostics,
            );
        }
    };
    if found == expected {
        return true;
    }
    diagnostics.push(
        Diagnostic::new(
            Code::E006,
            format!(
                "`bias` has {} but this layer has {}",
                count(found, "number"),
                count(expected, per)
            ),
            bias.span,
        )
        .with_span_label(count(found, "number"))
        .with_label(kind.output.span, count(expected, per))
        .with_help(format!(
            "write one bias per {per}: {}",
            count(expected, "number")
        )),
    );
    false
}

/// Checks that a conv layer's `weight` has the shape `[F, C, Kh, Kw]`.
fn check_conv_weight(
    weight: &ast::Tensor,
    kind: &ast::Kind,
    expected: &[usize],
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    check_tensor_shape(
        weight,
        "weight",
        kind,
        expected,
        "one [channels, kernel height, kernel width] block per filter (the OIHW layout of the book \
         and PyTorch)",
        diagnostics,
    )
}

/// Checks that `tensor` is rectangular and of shape `expected`; reports the first
/// ragged place or the shape found (E006).
fn check_tensor_shape(
    tensor: &ast::Tensor,
    what: &str,
    kind: &ast::Kind,
    expected: &[usize],
    layout: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    let expected_text = format!("{expected:?}");
    match nested_shape(tensor) {
        Ok(found) if found == expected => true,
        Ok(found) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::E006,
                    format!("`{what}` has shape {found:?} but this layer needs {expected_text}"),
                    tensor.span,
                )
                .with_span_label(format!("shape {found:?}"))
                .with_label(
                    kind.input.span.to(kind.output.span),
                    format!("needs {expected_text}"),
                )
                .with_help(format!("write `{what}` as {layout}: shape {expected_text}")),
            );
            false
        }
        Err(Ragged { part, found, first }) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::E006,
                    format!("`{what}` is not rectangular: this part has shape {found:?} but the first one has {first:?}"),
                    part.span,
                )
                .with_span_label(format!("shape {found:?}"))
                .with_help(format!("write `{what}` as {layout}: shape {expected_text}")),
            );
            false
        }
    }
}

/// A part of a tensor whose shape differs from its first sibling's.
struct Ragged<'a> {
    part: &'a ast::Tensor,
    found: Vec<usize>,
    first: Vec<usize>,
}

/// The shape of a rectangular nested tensor (`[[1, 2], [3, 4]]` is `[2, 2]`).
fn nested_shape(tensor: &ast::Tensor) -> Result<Vec<usize>, Ragged<'_>> {
    match &tensor.items {
        TensorItems::Numbers(numbers) => Ok(vec![numbers.len()]),
        TensorItems::Tensors(parts) => {
            let mut first: Option<Vec<usize>> = None;
            for part in parts {
                let shape = nested_shape(part)?;
                match &first {
                    None => first = Some(shape),
                    Some(first) if *first != shape => {
                        return Err(Ragged {
                            part,
                            found: shape,
                            first: first.clone(),
                        });
                    }
                    Some(_) => {}
                }
            }
            let mut shape = vec![parts.len()];
            shape.extend(first.unwrap_or_default());
            Ok(shape)
        }
    }
}

/// Reports a network whose layers mix inline parameters and none (E007): parameters
/// come either all from the source or all from a file.
/// Only layers whose kind has parameters count (`ops[i]`, `None` for an unknown kind).
pub(super) fn check_consistency(
    network: &ast::Network,
    ops: &[Option<Op>],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (with, without): (Vec<&ast::Layer>, Vec<&ast::Layer>) = network
        .layers
        .iter()
        .zip(ops)
        .filter(|(_, op)| op.is_some_and(|op| op.has_parameters()))
        .map(|(layer, _)| layer)
        .partition(|layer| layer.params.is_some());
    let counted = with.len() + without.len();
    let of_layers = if counted == network.layers.len() {
        format!("{counted} layers")
    } else {
        format!("{counted} layers with parameters")
    };
    let (Some(first_with), Some(first_without)) = (with.first(), without.first()) else {
        return;
    };
    // `layer name: affine 2 -> 3`, without the activation and parameters.
    let head = |layer: &ast::Layer| Span::new(layer.span.start, layer.kind.span.end);
    let mut diagnostic = Diagnostic::new(
        Code::E007,
        format!(
            "{} of the {of_layers} of `{}` {} inline parameters and {} {} not",
            with.len(),
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
