//! The table of `nndsl summary`: per network, each layer's name, kind, sizes,
//! activation, parameter count, multiply-adds per sample and parameter tensors.

use std::fmt::Write as _;

use crate::ir::{Layer, Network, Op, Program};

/// Renders the summary table of every network of `program`.
///
/// ```
/// let checked = nn_dsl::compile("network N { layer affine 2 -> 3 act relu }");
/// let table = nn_dsl::summary::render(&checked.program);
/// assert!(table.contains("2 -> 3"));
/// assert!(table.contains("total"));
/// ```
pub fn render(program: &Program) -> String {
    let mut out = String::new();
    for (i, network) in program.networks.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_network(network, &mut out);
    }
    out
}

const HEADER: [&str; 8] = [
    "#",
    "name",
    "kind",
    "in -> out",
    "activation",
    "parameters",
    "multiply-adds",
    "tensors",
];
/// Columns aligned to the right (numbers).
const RIGHT: [bool; 8] = [true, false, false, false, false, true, true, false];

fn render_network(network: &Network, out: &mut String) {
    let _ = writeln!(
        out,
        "network {}<{}>: {} -> {}, {}",
        network.name,
        network.dtype.as_str(),
        network.input,
        network.output,
        crate::diag::count(network.layers.len(), "layer"),
    );
    let mut rows: Vec<[String; 8]> = vec![HEADER.map(str::to_owned)];
    for (i, layer) in network.layers.iter().enumerate() {
        rows.push([
            (i + 1).to_string(),
            layer.name.clone().unwrap_or_else(|| "-".to_owned()),
            kind(layer),
            format!("{} -> {}", layer.input, layer.output),
            if layer.op.takes_activation() {
                layer.activation.to_string()
            } else {
                "-".to_owned()
            },
            thousands(layer.parameter_count()),
            thousands(layer.multiply_adds()),
            if layer.tensors.is_empty() {
                "-".to_owned()
            } else if layer.has_inline_parameters() {
                "inline".to_owned()
            } else {
                let names: Vec<&str> = layer.tensors.iter().map(|t| t.name.as_str()).collect();
                names.join(", ")
            },
        ]);
    }
    rows.push([
        String::new(),
        "total".to_owned(),
        String::new(),
        String::new(),
        String::new(),
        thousands(network.parameter_count()),
        thousands(network.multiply_adds()),
        String::new(),
    ]);
    let widths: Vec<usize> = (0..8)
        .map(|c| {
            rows.iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in &rows {
        let mut line = String::from(" ");
        for (c, cell) in row.iter().enumerate() {
            let _ = if RIGHT[c] {
                write!(line, " {cell:>width$}", width = widths[c])
            } else {
                write!(line, " {cell:<width$}", width = widths[c])
            };
            line.push(' ');
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The kind with its options as written in the language: `conv kernel 5`,
/// `maxpool size 2 stride 1`.
pub(crate) fn kind(layer: &Layer) -> String {
    use crate::check::pair;
    match layer.op {
        Op::Affine { .. } | Op::Flatten => layer.op.name().to_owned(),
        Op::Conv2d {
            kernel,
            stride,
            pad,
            ..
        } => {
            let mut text = format!("conv kernel {}", pair(kernel));
            if stride != [1, 1] {
                text += &format!(" stride {}", pair(stride));
            }
            if pad != [0, 0] {
                text += &format!(" pad {}", pair(pad));
            }
            text
        }
        Op::MaxPool { size, stride } => {
            let mut text = format!("maxpool size {}", pair(size));
            if stride != size {
                text += &format!(" stride {}", pair(stride));
            }
            text
        }
    }
}

/// `45360` as `45,360`.
pub(crate) fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn groups_thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(45360), "45,360");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
