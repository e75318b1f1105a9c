//! The syntax tree of a `.nn` source, as written: names and numbers are kept as text,
//! and every node carries the byte span it came from. Meaning (sizes, activations,
//! element types) is given by the checker, which turns this tree into the IR.

use crate::span::Span;

/// A whole source: its networks in order.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    /// The networks, in source order.
    pub networks: Vec<Network>,
}

/// `network Name<dtype> { input? layer+ }`
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    /// From `network` to the closing `}`.
    pub span: Span,
    /// The network's name.
    pub name: Ident,
    /// The element type written in `<...>`, if any.
    pub dtype: Option<Ident>,
    /// The `input N` declaration, if any.
    pub input: Option<Input>,
    /// The layers, in order; the grammar guarantees at least one.
    pub layers: Vec<Layer>,
    /// The `loss NAME` statement, if any.
    pub loss: Option<Loss>,
}

/// `loss cross_entropy`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loss {
    /// From `loss` to the end of the name.
    pub span: Span,
    /// The loss's name, not yet checked.
    pub name: Ident,
}

/// An identifier and where it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The identifier's text.
    pub text: String,
    /// Where it stands.
    pub span: Span,
}

/// `input 784` or `input 1x28x28`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// From `input` to the end of the shape.
    pub span: Span,
    /// The declared shape.
    pub shape: Shape,
}

/// A shape as written: `784`, `5x5`, `1x28x28`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape {
    /// The whole word, e.g. `1x28x28`.
    pub text: String,
    /// Where it stands.
    pub span: Span,
    /// Its sizes in order, each with its own span (the grammar guarantees at least one).
    pub dims: Vec<Int>,
}

/// An unsigned integer as written; its range is checked by the checker (E004).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Int {
    /// The digits.
    pub text: String,
    /// Where they stand.
    pub span: Span,
}

/// `layer name: kind IN -> OUT act activation { params }`
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// From `layer` to the end of the layer.
    pub span: Span,
    /// The `name:` before the kind, if any.
    pub name: Option<Ident>,
    /// The kind and its sizes.
    pub kind: Kind,
    /// The `act ...` clause, if any.
    pub activation: Option<Activation>,
    /// The inline `{ weight ... bias ... }` block, if any.
    pub params: Option<Params>,
}

/// `affine 784 -> 50` or `conv 1x28x28 -> 30x24x24 kernel 5`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    /// From the kind's name to the end of its last option.
    pub span: Span,
    /// The kind's name (`affine`), not yet checked.
    pub name: Ident,
    /// The input shape.
    pub input: Shape,
    /// The output shape.
    pub output: Shape,
    /// The options (`kernel 5`, `stride 2`), in order, not yet checked.
    pub options: Vec<LayerOption>,
}

/// `kernel 5`, `stride 2`, `size 2x2`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerOption {
    /// From the name to the end of the value.
    pub span: Span,
    /// The option's name, not yet checked.
    pub name: Ident,
    /// Its value.
    pub value: Shape,
}

/// `sigmoid` or `leaky_relu(0.01)`
#[derive(Clone, Debug, PartialEq)]
pub struct Activation {
    /// From the name to the closing `)`, if any.
    pub span: Span,
    /// The activation's name, not yet checked.
    pub name: Ident,
    /// The parenthesised arguments, if any.
    pub arguments: Option<Arguments>,
}

/// `(0.01)`: an activation's arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Arguments {
    /// From `(` to `)`.
    pub span: Span,
    /// The numbers, in order (possibly none).
    pub numbers: Vec<Number>,
}

/// `{ weight [[...]] bias [...] }`
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// From `{` to `}`.
    pub span: Span,
    /// The weight tensor.
    pub weight: Tensor,
    /// The bias tensor.
    pub bias: Tensor,
}

/// `[1, 2, 3]` or `[[1, 2], [3, 4]]`: a bracketed list of numbers or of tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// From `[` to `]`.
    pub span: Span,
    /// What the brackets hold.
    pub items: TensorItems,
}

/// The contents of one pair of brackets: numbers only or tensors only (the grammar
/// does not mix them), never empty.
#[derive(Clone, Debug, PartialEq)]
pub enum TensorItems {
    /// `[1, 2.5, -3]`
    Numbers(Vec<Number>),
    /// `[[...], [...]]`
    Tensors(Vec<Tensor>),
}

impl Tensor {
    /// Every number, in row-major order.
    pub fn numbers(&self) -> Vec<&Number> {
        let mut out = Vec::new();
        self.collect_numbers(&mut out);
        out
    }

    fn collect_numbers<'a>(&'a self, out: &mut Vec<&'a Number>) {
        match &self.items {
            TensorItems::Numbers(numbers) => out.extend(numbers),
            TensorItems::Tensors(tensors) => {
                for tensor in tensors {
                    tensor.collect_numbers(out);
                }
            }
        }
    }
}

/// A number as written, with the sign joined to the digits (`- 0.7` becomes `-0.7`).
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// The number's text, without whitespace or comments between sign and digits.
    pub text: String,
    /// From the sign (or first digit) to the last digit.
    pub span: Span,
}
