//! Sizes: each must be in `1..=MAX_SIZE` (E004), and each layer's input size must be
//! the size that reaches it, from `input` or the previous layer (E003).

use crate::ast;
use crate::diag::{Code, Diagnostic};

use crate::diag::count;

/// The largest size a layer may have: 2^24, so that every size and index is exact in
/// an `f32` and a layer's weight count fits comfortably in memory arithmetic.
pub const MAX_SIZE: u64 = 1 << 24;

/// Checks every size of `network` and how they chain; returns `(IN, OUT)` of each
/// layer whose two sizes are valid.
pub(super) fn check_sizes(
    network: &ast::Network,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Option<(usize, usize)>> {
    // What reaches the next layer: its size and the place that says so.
    let mut reaching = network.input.as_ref().and_then(|input| {
        let size = check_size(&input.size, diagnostics)?;
        Some((size, input.size.span, "`input` declares"))
    });
    let mut shapes = Vec::with_capacity(network.layers.len());
    for layer in &network.layers {
        let inputs = check_size(&layer.kind.inputs, diagnostics);
        let outputs = check_size(&layer.kind.outputs, diagnostics);
        if let (Some(inputs), Some((size, origin, what))) = (inputs, reaching)
            && inputs != size
        {
            diagnostics.push(mismatch(&layer.kind.inputs, inputs, size, origin, what));
        }
        reaching = outputs.map(|size| (size, layer.kind.outputs.span, "the previous layer gives"));
        shapes.push(inputs.zip(outputs));
    }
    shapes
}

fn mismatch(
    written: &ast::Int,
    inputs: usize,
    reaching: usize,
    origin: crate::span::Span,
    what: &str,
) -> Diagnostic {
    let verb = if reaching == 1 { "reaches" } else { "reach" };
    Diagnostic::new(
        Code::E003,
        format!("this layer takes {} but {} {verb} it", count(inputs, "input"), count(reaching, "value")),
        written.span,
    )
    .with_span_label(format!("expected {reaching}, found {inputs}"))
    .with_label(origin, format!("{what} {}", count(reaching, "value")))
    .with_help(format!(
        "a layer takes what the layer before it gives: write `{reaching} ->` here, or make the size before it {inputs}"
    ))
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

/// The value of a size, or `None` after reporting E004.
fn check_size(size: &ast::Int, diagnostics: &mut Vec<Diagnostic>) -> Option<usize> {
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
