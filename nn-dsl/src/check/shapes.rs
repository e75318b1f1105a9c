//! Shapes: each size in `1..=MAX_SIZE` (E004), each layer's input the shape that
//! reaches it (E003), and its output the shape its kind computes (E003, with the
//! arithmetic in `help`).

use crate::ast;
use crate::diag::{Code, Diagnostic, count};
use crate::ir::{InferError, Op, Shape};
use crate::span::Span;

/// The largest size a layer may have, and the most values a shape may hold: 2^24, so
/// that every size and index is exact in an `f32` and a layer's weight count fits
/// comfortably in memory arithmetic.
pub const MAX_SIZE: u64 = 1 << 24;

/// What reaches a layer: the shape, where it is written and who gives it.
#[derive(Clone, Debug)]
pub(super) struct Reaching {
    pub shape: Shape,
    pub span: Span,
    pub what: &'static str,
    /// When the previous layer's written output is wrong (E003 there), what it computes:
    /// a layer that takes either is not reported again.
    pub computed: Option<Shape>,
}

/// The value of a size, or what is wrong with it (E004's message).
pub(crate) fn size_value(size: &ast::Int) -> Result<usize, String> {
    match size.text.parse::<u64>() {
        Err(_) => Err(format!("size `{}` does not fit in 64 bits", size.text)),
        Ok(0) => Err("a size of 0 is not allowed".to_owned()),
        Ok(n) if n > MAX_SIZE => Err(format!("size {n} is larger than the limit of {MAX_SIZE}")),
        // At most 2^24: it fits in any `usize`.
        Ok(n) => usize::try_from(n).map_err(|_| format!("size {n} does not fit in `usize`")),
    }
}

/// The shape written as `shape`, or `None` after reporting E004 for each bad size (or
/// for a shape with more than `MAX_SIZE` values).
pub(super) fn check_shape(shape: &ast::Shape, diagnostics: &mut Vec<Diagnostic>) -> Option<Shape> {
    let dims: Vec<Option<usize>> = shape
        .dims
        .iter()
        .map(|dim| check_size(dim, diagnostics))
        .collect();
    let dims: Vec<usize> = dims.into_iter().collect::<Option<_>>()?;
    let values = dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .filter(|&n| n <= MAX_SIZE);
    if values.is_none() {
        diagnostics.push(
            Diagnostic::new(
                Code::E004,
                format!(
                    "the shape `{}` holds more than {MAX_SIZE} values",
                    shape.text
                ),
                shape.span,
            )
            .with_span_label("too many values")
            .with_help(format!("a shape may hold at most {MAX_SIZE} (2^24) values")),
        );
        return None;
    }
    Some(Shape(dims))
}

/// The value of a size, or `None` after reporting E004.
pub(super) fn check_size(size: &ast::Int, diagnostics: &mut Vec<Diagnostic>) -> Option<usize> {
    let problem = match size_value(size) {
        Ok(n) => return Some(n),
        Err(problem) => problem,
    };
    diagnostics.push(
        Diagnostic::new(Code::E004, problem, size.span)
            .with_span_label("invalid size")
            .with_help(format!("sizes must be between 1 and {MAX_SIZE} (2^24)")),
    );
    None
}

/// E003 for a layer whose written input is not what reaches it.
pub(super) fn mismatch(written: &ast::Shape, input: &Shape, reaching: &Reaching) -> Diagnostic {
    let vectors = input.rank() == 1 && reaching.shape.rank() == 1;
    let (message, found, expected) = if vectors {
        let (inputs, size) = (input.len(), reaching.shape.len());
        let verb = if size == 1 { "reaches" } else { "reach" };
        (
            format!(
                "this layer takes {} but {} {verb} it",
                count(inputs, "input"),
                count(size, "value")
            ),
            inputs.to_string(),
            size.to_string(),
        )
    } else {
        (
            format!(
                "this layer takes `{}` but `{}` reaches it",
                input, reaching.shape
            ),
            input.to_string(),
            reaching.shape.to_string(),
        )
    };
    let origin = if vectors {
        format!("{} {}", reaching.what, count(reaching.shape.len(), "value"))
    } else {
        format!("{} `{}`", reaching.what, reaching.shape)
    };
    let help =
        if reaching.shape.rank() == 3 && input.rank() == 1 && input.len() == reaching.shape.len() {
            format!(
                "a layer that takes a vector needs a `flatten` before it: \
             `layer flatten {} -> {}`",
                reaching.shape,
                reaching.shape.len()
            )
        } else {
            let noun = if vectors { "size" } else { "shape" };
            format!(
                "a layer takes what the layer before it gives: write `{expected} ->` here, or make \
             the {noun} before it {found}"
            )
        };
    Diagnostic::new(Code::E003, message, written.span)
        .with_span_label(format!("expected {expected}, found {found}"))
        .with_label(reaching.span, origin)
        .with_help(help)
}

/// What an op's shape is called in messages, by rank.
fn rank_words(rank: usize) -> &'static str {
    match rank {
        1 => "a vector (one size, e.g. `784`)",
        3 => "channels x height x width (e.g. `1x28x28`)",
        _ => "a shape of another rank",
    }
}

/// E003 for an input of the wrong rank for the op.
pub(super) fn wrong_input_rank(op: &Op, written: &ast::Shape, input: &Shape) -> Diagnostic {
    let expected = op.input_rank();
    let help = match op {
        Op::Affine { .. } if input.rank() == 3 => format!(
            "flatten the input first: `layer flatten {input} -> {}`, then `affine {} -> ...`",
            input.len(),
            input.len()
        ),
        _ => format!("`{}` takes {}", op.name(), rank_words(expected)),
    };
    Diagnostic::new(
        Code::E003,
        format!(
            "`{}` takes {} but this input is `{}`",
            op.name(),
            rank_words(expected),
            written.text
        ),
        written.span,
    )
    .with_span_label(format!(
        "{} where {} expected",
        count(input.rank(), "size"),
        expected
    ))
    .with_help(help)
}

/// E003 for a written output that is not what the op computes from its input. The
/// help shows the arithmetic.
pub(super) fn wrong_output(
    op: &Op,
    input: &Shape,
    computed: &Shape,
    written: &ast::Shape,
    found: &Shape,
) -> Diagnostic {
    let help = match *op {
        Op::Affine { .. } => format!(
            "`affine` gives a vector: write its output as one size, e.g. `{}`",
            computed
        ),
        Op::Flatten => format!(
            "`flatten` gives all {} values as a vector: {} = {}",
            input.len(),
            input
                .dims()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join("·"),
            input.len()
        ),
        Op::Conv2d {
            kernel,
            stride,
            pad,
            ..
        } => arithmetic(input, computed, kernel, stride, Some(pad)),
        Op::MaxPool { size, stride } => arithmetic(input, computed, size, stride, None),
    };
    Diagnostic::new(
        Code::E003,
        format!(
            "this `{}` layer gives `{}`, not `{}`",
            op.name(),
            computed,
            found
        ),
        written.span,
    )
    .with_span_label(format!("expected {computed}"))
    .with_help(help)
}

/// `30 filters; height (28 + 2·0 − 5) / 1 + 1 = 24; width ...`, for a conv layer (with
/// its padding) or a pooling layer (`pad` is `None`: it has none).
fn arithmetic(
    input: &Shape,
    computed: &Shape,
    window: [usize; 2],
    stride: [usize; 2],
    pad: Option<[usize; 2]>,
) -> String {
    let dims = input.dims();
    let out = computed.dims();
    let axis = |i: usize| match pad {
        Some(pad) => format!(
            "({} + 2·{} − {}) / {} + 1 = {}",
            dims[i + 1],
            pad[i],
            window[i],
            stride[i],
            out[i + 1]
        ),
        None => format!(
            "({} − {}) / {} + 1 = {}",
            dims[i + 1],
            window[i],
            stride[i],
            out[i + 1]
        ),
    };
    let (channels, options) = match pad {
        Some(pad) => (
            format!("{} filters", out[0]),
            format!(
                "kernel {}, stride {}, pad {}",
                pair(window),
                pair(stride),
                pair(pad)
            ),
        ),
        None => (
            format!("{} channels", out[0]),
            format!("size {}, stride {}", pair(window), pair(stride)),
        ),
    };
    format!(
        "{channels}; height {}; width {} (input `{input}`, {options})",
        axis(0),
        axis(1)
    )
}

/// `5` or `3x5`, as an option is written.
pub(crate) fn pair(values: [usize; 2]) -> String {
    if values[0] == values[1] {
        values[0].to_string()
    } else {
        format!("{}x{}", values[0], values[1])
    }
}

/// E003 for a window that does not fit in the (padded) input, or an output too large.
pub(super) fn cannot_infer(
    op: &Op,
    error: &InferError,
    kind: &ast::Kind,
    input: &Shape,
) -> Diagnostic {
    match *error {
        InferError::WindowTooLarge {
            axis,
            window,
            padded,
        } => {
            // Only the windowed ops can fail this way.
            let option = match op {
                Op::MaxPool { .. } => "size",
                Op::Conv2d { .. } | Op::Affine { .. } | Op::Flatten => "kernel",
            };
            let span = kind
                .options
                .iter()
                .find(|o| o.name.text == option)
                .map_or(kind.name.span, |o| o.value.span);
            let extent = if axis == 0 { "high" } else { "wide" };
            Diagnostic::new(
                Code::E003,
                format!(
                    "the {option} is {window} {extent} but the input is only {padded} {extent} \
                     (padding included)"
                ),
                span,
            )
            .with_span_label(format!("larger than {padded}"))
            .with_label(kind.input.span, format!("input `{input}`"))
            .with_help(format!(
                "a window must fit in the input: make the {option} at most {padded}, or pad the input"
            ))
        }
        InferError::TooLarge => Diagnostic::new(
            Code::E003,
            format!(
                "this `{}` layer would give more than {MAX_SIZE} values",
                op.name()
            ),
            kind.output.span,
        )
        .with_span_label("too many values")
        .with_help(format!("a shape may hold at most {MAX_SIZE} (2^24) values")),
        InferError::Rank { .. } => wrong_input_rank(op, &kind.input, input),
    }
}
