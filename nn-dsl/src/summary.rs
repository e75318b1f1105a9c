//! The table of `nndsl summary`: per network, each layer's name, kind, sizes,
//! activation, parameter count, multiply-adds per sample and parameter tensors.

use std::fmt::Write as _;

use crate::ir::{Network, Program};

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
            layer.kind.name().to_owned(),
            format!("{} -> {}", layer.inputs, layer.outputs),
            layer.activation.to_string(),
            thousands(layer.parameter_count()),
            thousands(layer.multiply_adds()),
            if layer.params.is_some() {
                "inline".to_owned()
            } else {
                format!("{}, {}", layer.weight_tensor, layer.bias_tensor)
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
