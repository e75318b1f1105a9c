//! Property tests of the front end (`proptest`).
//!
//! Robustness: whatever bytes or text come in — random bytes, invalid UTF-8, valid
//! sources mangled by random edits, soups of the language's tokens — `compile_bytes`
//! and `compile` never panic, every span of every diagnostic (primary and labels) lies
//! inside the text on character boundaries, and rendering the diagnostics never panics.
//!
//! Meaning: a randomly generated valid network checks clean and its IR has the sizes,
//! activations, names, element type and parameters that were written; whitespace and
//! comments between tokens do not change the IR; breaking one link of a valid chain of
//! sizes gives exactly one E003 that points at the broken size.

use std::iter;

use nn_dsl::diag::human::{self, Style};
use nn_dsl::ir::{Activation, DType, Op, Program, Scalar, Shape, Values};
use nn_dsl::{Code, Diagnostic, SourceFile, Span};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{Index, select};

// ---------------------------------------------------------------------------------------
// Shared checks.

/// Every primary and label span of `diagnostics` lies in `text` (`start <= end <= len`)
/// and starts and ends on character boundaries; rendering each diagnostic (human and,
/// with the `json` feature, JSON) does not panic.
fn check_diagnostics(text: &str, diagnostics: &[Diagnostic]) -> Result<(), TestCaseError> {
    let file = SourceFile::new("prop.nn", text);
    for d in diagnostics {
        let spans =
            iter::once(("primary", d.span)).chain(d.labels.iter().map(|l| ("label", l.span)));
        for (what, span) in spans {
            prop_assert!(
                span.start <= span.end && span.end <= text.len(),
                "{what} span {span:?} of {} `{}` is outside the text of {} bytes",
                d.code,
                d.message,
                text.len()
            );
            prop_assert!(
                text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
                "{what} span {span:?} of {} `{}` is not on character boundaries of {text:?}",
                d.code,
                d.message
            );
            // Line/column conversion, as `--format json` does it.
            file.line_col(span.start);
            file.line_col(span.end);
        }
        human::render(d, &file, Style::Plain);
        #[cfg(feature = "json")]
        nn_dsl::diag::json::to_json(d, &file);
    }
    Ok(())
}

/// Compiles a text through both entry points, which must agree, and checks the spans;
/// then generates its code (the fallback after errors), which must not panic and must
/// parse as Rust items.
fn check_text(text: &str) -> Result<(), TestCaseError> {
    let checked = nn_dsl::compile(text);
    let compiled = nn_dsl::compile_bytes(text.as_bytes());
    prop_assert_eq!(&*compiled.text, text);
    prop_assert_eq!(&compiled.checked, &checked);
    let code = nn_dsl::codegen::emit_fallback(&checked, &nn_dsl::codegen::call_site);
    prop_assert!(
        syn::parse2::<syn::File>(code).is_ok(),
        "generated code for {text:?}"
    );
    check_diagnostics(text, &checked.diagnostics)
}

/// The program with every span zeroed, so that layouts can be compared.
fn without_spans(mut program: Program) -> Program {
    for network in &mut program.networks {
        network.name_span = Span::default();
        for layer in &mut network.layers {
            layer.span = Span::default();
            layer.name_span = layer.name_span.map(|_| Span::default());
        }
    }
    program
}

// ---------------------------------------------------------------------------------------
// Random bytes and mangled sources.

/// Valid sources to mangle: the examples of LANGUAGE.md and a few more.
const SEEDS: &[&str] = &[
    "network SimpleConvNet {
    input 1x28x28
    layer conv 1x28x28 -> 30x24x24 kernel 5 act relu
    layer maxpool 30x24x24 -> 30x12x12 size 2
    layer flatten 30x12x12 -> 4320
    layer affine 4320 -> 100 act relu
    layer affine 100 -> 10 act softmax
}
network Options<f64> {
    layer stem: conv 2x7x6 -> 2x4x4 kernel 3x2 stride 2 pad 1 act leaky_relu(0.1) {
        weight [[[[1, 2], [3, 4], [5, 6]], [[0.5, 0], [0, 0.5], [-1, 1]]],
                [[[0, 0], [0, 1], [0, 0]], [[1, 0], [0, 0], [0, -1]]]]
        bias [0.1, -0.2]
    }
    layer pool: maxpool 2x4x4 -> 2x3x3 size 2 stride 1
}",
    "// Chapter 3 of \"Deep Learning from Scratch\": a three-layer network.
network ThreeLayer {
    input 2
    layer affine 2 -> 3 act sigmoid
    layer affine 3 -> 2 act sigmoid
    layer affine 2 -> 2 act identity
}",
    "network Xor {
    layer affine 2 -> 2 act step {
        weight [[-0.5, 0.5], [-0.5, 0.5]]   // column 1: NAND, column 2: OR
        bias   [0.7, -0.2]
    }
    layer affine 2 -> 1 act step {
        weight [[0.5], [0.5]]               /* AND */
        bias   [- 0.7]
    }
}",
    "network Wide<f64> {
    layer affine 2 -> 2 act tanh {
        weight [[1e300, -2.5E-3], [0, 12.75],]
        bias [1e39, -1e-39]
    }
    layer affine 2->1 {
        weight [[0.5], [0.5]]
        bias [-0.7,]
    }
}",
    "network Mnist {
    input 784
    layer hidden1: affine 784 -> 50 act sigmoid
    layer hidden2: affine 50 -> 100 act sigmoid
    layer out: affine 100 -> 10 act softmax
}",
    "\u{FEFF}network Leaky<f32> {
    layer affine 4 -> 8 act leaky_relu(0.01)
    layer affine 8 -> 8 act leaky_relu(- 0.2)
    layer affine 8 -> 3 act relu
}
network Tiny { layer affine 1 -> 1 }",
];

/// Tokens of the language and odd bytes that random edits insert.
const VOCABULARY: &[&str] = &[
    // keywords and names
    "network",
    "input",
    "layer",
    "affine",
    "conv",
    "maxpool",
    "flatten",
    "kernel",
    "stride",
    "pad",
    "size",
    "loss",
    "1x28x28",
    "5x5",
    "x",
    "0x0",
    "30x24x24",
    "act",
    "weight",
    "bias",
    "f32",
    "f64",
    "identity",
    "step",
    "sigmoid",
    "relu",
    "tanh",
    "softmax",
    "leaky_relu",
    "sigmoidd",
    "linear",
    "Net",
    "hidden1",
    "_",
    "Self",
    "fn",
    "type",
    "inf",
    "nan",
    "e",
    "E+",
    // punctuation
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    ":",
    ",",
    "->",
    "-",
    ".",
    "*",
    "/",
    "/*",
    "*/",
    "//",
    "#",
    // numbers, odd and huge
    "0",
    "1",
    "2",
    "9",
    "0.5",
    "-0.5",
    ".5",
    "5.",
    "1.5.",
    "1_000",
    "1e39",
    "-1e39",
    "1e-50",
    "1e400",
    "16777216",
    "16777217",
    "18446744073709551616",
    "99999999999999999999999",
    // whitespace and characters outside ASCII
    " ",
    "\n",
    "\t",
    "\r",
    "\r\n",
    "\u{0}",
    "é",
    "→",
    "\u{FEFF}",
    "\u{FFFD}",
    "𝔸",
    "ﬁ",
    "\u{301}",
];

/// One random edit of a text, as a list of characters.
#[derive(Clone, Debug)]
enum Edit {
    Delete {
        at: Index,
        len: usize,
    },
    Duplicate {
        at: Index,
        len: usize,
    },
    Insert {
        at: Index,
        text: String,
    },
    Replace {
        at: Index,
        len: usize,
        text: String,
    },
    Swap {
        a: Index,
        a_len: usize,
        b: Index,
        b_len: usize,
    },
}

/// A token, an odd character or a random run of number characters.
fn arb_snippet() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(VOCABULARY).prop_map(String::from),
        2 => any::<char>().prop_map(String::from),
        1 => "[0-9.eE+-]{1,30}",
    ]
}

fn arb_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 1..12usize).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<Index>(), 1..40usize).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (any::<Index>(), arb_snippet()).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<Index>(), 1..6usize, arb_snippet()).prop_map(|(at, len, text)| Edit::Replace {
            at,
            len,
            text
        }),
        (any::<Index>(), 1..20usize, any::<Index>(), 1..20usize)
            .prop_map(|(a, a_len, b, b_len)| Edit::Swap { a, a_len, b, b_len }),
    ]
}

/// The range of `len` characters from `at`, cut at the end of `chars`.
fn range(chars: &[char], at: &Index, len: usize) -> std::ops::Range<usize> {
    let start = at.index(chars.len() + 1);
    start..(start + len).min(chars.len())
}

fn apply(chars: &mut Vec<char>, edit: &Edit) {
    match edit {
        Edit::Delete { at, len } => {
            let r = range(chars, at, *len);
            chars.drain(r);
        }
        Edit::Duplicate { at, len } => {
            let r = range(chars, at, *len);
            let copy: Vec<char> = chars[r.clone()].to_vec();
            chars.splice(r.end..r.end, copy);
        }
        Edit::Insert { at, text } => {
            let at = at.index(chars.len() + 1);
            chars.splice(at..at, text.chars());
        }
        Edit::Replace { at, len, text } => {
            let r = range(chars, at, *len);
            chars.splice(r, text.chars());
        }
        Edit::Swap { a, a_len, b, b_len } => {
            let (mut x, mut y) = (range(chars, a, *a_len), range(chars, b, *b_len));
            if x.start > y.start {
                std::mem::swap(&mut x, &mut y);
            }
            if x.end <= y.start {
                // before, y, middle, x, after
                let mut swapped = chars[..x.start].to_vec();
                swapped.extend_from_slice(&chars[y.clone()]);
                swapped.extend_from_slice(&chars[x.end..y.start]);
                swapped.extend_from_slice(&chars[x.clone()]);
                swapped.extend_from_slice(&chars[y.end..]);
                *chars = swapped;
            }
        }
    }
}

/// A valid seed after 1 to 6 random edits.
fn arb_mangled() -> impl Strategy<Value = String> {
    (select(SEEDS), vec(arb_edit(), 1..=6)).prop_map(|(seed, edits)| {
        let mut chars: Vec<char> = seed.chars().collect();
        for edit in &edits {
            apply(&mut chars, edit);
        }
        chars.into_iter().collect()
    })
}

/// Tokens of the language (and odd ones) in random order, separated by random layout.
fn arb_token_soup() -> impl Strategy<Value = String> {
    vec(
        (
            arb_snippet(),
            select(&[" ", "", "\n", " // c\n", "/* c */"][..]),
        ),
        0..60,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .flat_map(|(token, separator)| [token, separator.to_owned()])
            .collect()
    })
}

/// Random bytes, or a valid seed with random bytes (often not UTF-8) written into it.
fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..300),
        (
            select(SEEDS),
            vec((any::<Index>(), any::<u8>(), any::<bool>()), 1..6)
        )
            .prop_map(|(seed, edits)| {
                let mut bytes = seed.as_bytes().to_vec();
                for (at, byte, overwrite) in edits {
                    let i = at.index(bytes.len() + 1);
                    if overwrite && i < bytes.len() {
                        bytes[i] = byte;
                    } else {
                        bytes.insert(i, byte);
                    }
                }
                bytes
            }),
    ]
}

proptest! {
    /// Any bytes: no panic, spans valid; a file that is not UTF-8 gives exactly one
    /// E001 at its first invalid byte.
    #[test]
    fn random_bytes_never_panic_and_spans_are_valid(bytes in arb_bytes()) {
        let compiled = nn_dsl::compile_bytes(&bytes);
        check_diagnostics(&compiled.text, &compiled.checked.diagnostics)?;
        if let Err(error) = std::str::from_utf8(&bytes) {
            let diagnostics = &compiled.checked.diagnostics;
            prop_assert_eq!(diagnostics.len(), 1);
            prop_assert_eq!(diagnostics[0].code, Code::E001);
            prop_assert_eq!(diagnostics[0].span.start, error.valid_up_to());
            prop_assert!(compiled.checked.program.networks.is_empty());
        }
    }

    /// Valid sources after random deletions, duplications, insertions, replacements and
    /// swaps: no panic, spans valid, `compile` and `compile_bytes` agree.
    #[test]
    fn mangled_sources_never_panic_and_spans_are_valid(text in arb_mangled()) {
        check_text(&text)?;
    }

    /// Random sequences of the language's tokens: no panic, spans valid.
    #[test]
    fn token_soups_never_panic_and_spans_are_valid(text in arb_token_soup()) {
        check_text(&text)?;
    }
}

/// Inputs these properties once shrank to (a panic slicing inside a multi-byte
/// character before a `:`), kept so that they run on every `cargo test`.
#[test]
fn former_crashers() {
    for text in [
        "¡network : ",
        "\u{FEFF}network:Leaky<f32> { layer affine 4 -> 8 act leaky_relu(0.01) }",
    ] {
        check_text(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// Generated valid networks.

/// Rust's keywords (strict and reserved, edition 2024) and the language's: no layer or
/// network name may be one of these.
const RESERVED: &[&str] = &[
    "_", "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "network", "input", "layer",
    "affine", "act", "weight", "bias", "f32", "f64",
];

/// An activation as written after `act`.
#[derive(Clone, Debug)]
enum Act {
    /// `identity`, `step`, ... without argument.
    Plain(&'static str),
    /// `leaky_relu(TEXT)`.
    Leaky(String),
}

#[derive(Clone, Debug)]
struct LayerSpec {
    name: Option<String>,
    inputs: usize,
    outputs: usize,
    /// `None`: no `act` clause, which means identity.
    act: Option<Act>,
    /// Inline `weight` rows and `bias`, as number texts.
    params: Option<(Vec<Vec<String>>, Vec<String>)>,
}

#[derive(Clone, Debug)]
struct NetworkSpec {
    name: String,
    /// `None`, `Some("f32")` or `Some("f64")`.
    dtype: Option<&'static str>,
    /// The size of the `input` line, if there is one.
    input: Option<usize>,
    layers: Vec<LayerSpec>,
}

impl NetworkSpec {
    /// The source as a list of tokens (`-` of a negative number is a token of its own).
    fn tokens(&self) -> Vec<String> {
        let mut t: Vec<String> = vec!["network".into(), self.name.clone()];
        if let Some(dtype) = self.dtype {
            t.extend(["<".into(), dtype.into(), ">".into()]);
        }
        t.push("{".into());
        if let Some(size) = self.input {
            t.extend(["input".into(), size.to_string()]);
        }
        for layer in &self.layers {
            t.push("layer".into());
            if let Some(name) = &layer.name {
                t.extend([name.clone(), ":".into()]);
            }
            t.extend(["affine".into(), layer.inputs.to_string(), "->".into()]);
            t.push(layer.outputs.to_string());
            match &layer.act {
                None => {}
                Some(Act::Plain(name)) => t.extend(["act".into(), (*name).into()]),
                Some(Act::Leaky(slope)) => {
                    t.extend(["act".into(), "leaky_relu".into(), "(".into()]);
                    push_number(&mut t, slope);
                    t.push(")".into());
                }
            }
            if let Some((rows, bias)) = &layer.params {
                t.extend(["{".into(), "weight".into(), "[".into()]);
                for (i, row) in rows.iter().enumerate() {
                    if i > 0 {
                        t.push(",".into());
                    }
                    push_vector(&mut t, row);
                }
                t.extend(["]".into(), "bias".into()]);
                push_vector(&mut t, bias);
                t.push("}".into());
            }
        }
        t.push("}".into());
        t
    }

    /// The tokens separated by single spaces.
    fn render(&self) -> String {
        self.tokens().join(" ")
    }

    fn dtype(&self) -> DType {
        match self.dtype {
            Some("f64") => DType::F64,
            _ => DType::F32,
        }
    }
}

/// A number's text as tokens: a leading `-` is split off, as in a Rust token stream.
fn push_number(tokens: &mut Vec<String>, text: &str) {
    match text.strip_prefix('-') {
        Some(digits) => tokens.extend(["-".into(), digits.into()]),
        None => tokens.push(text.into()),
    }
}

fn push_vector(tokens: &mut Vec<String>, numbers: &[String]) {
    tokens.push("[".into());
    for (i, number) in numbers.iter().enumerate() {
        if i > 0 {
            tokens.push(",".into());
        }
        push_number(tokens, number);
    }
    tokens.push("]".into());
}

/// A number the grammar accepts, finite in `f32`.
fn arb_number() -> impl Strategy<Value = String> {
    "-?[0-9]{1,3}(\\.[0-9]{1,3})?([eE][+-]?[0-9])?"
}

/// A snake_case layer name that is not reserved, nor `layerK`, the implicit name of
/// an unnamed layer.
fn arb_layer_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,6}(_[a-z0-9]{1,4}){0,2}".prop_filter("reserved", |n| {
        let implicit = n
            .strip_prefix("layer")
            .is_some_and(|k| k.parse::<usize>().is_ok());
        !RESERVED.contains(&n.as_str()) && !implicit
    })
}

/// An UpperCamelCase network name that is not reserved.
fn arb_network_name() -> impl Strategy<Value = String> {
    "[A-Z][a-zA-Z0-9]{0,10}".prop_filter("reserved", |n| !RESERVED.contains(&n.as_str()))
}

/// Any activation but softmax, or none.
fn arb_hidden_act() -> impl Strategy<Value = Option<Act>> {
    option::of(prop_oneof![
        4 => select(&["identity", "step", "sigmoid", "relu", "tanh"][..]).prop_map(Act::Plain),
        1 => arb_number().prop_map(Act::Leaky),
    ])
}

/// A valid network of 1 to 8 layers. With `params`, sizes stay small (1..=4) and every
/// layer has inline parameters; without, sizes are 1..=64 and no layer has any.
fn arb_network(params: impl Strategy<Value = bool>) -> impl Strategy<Value = NetworkSpec> {
    (params, 1..=8usize)
        .prop_flat_map(|(with_params, n)| {
            let max: usize = if with_params { 4 } else { 64 };
            (
                Just(with_params),
                vec(1..=max, n + 1),
                vec(arb_hidden_act(), n),
                any::<bool>(), // softmax on the last layer
                vec(option::of(arb_layer_name()), n),
                arb_network_name(),
                select(&[None, Some("f32"), Some("f64")][..]),
                any::<bool>(), // `input` line
            )
        })
        .prop_flat_map(
            |(with_params, sizes, mut acts, softmax, names, name, dtype, input)| {
                if softmax {
                    *acts.last_mut().expect("at least one layer") = Some(Act::Plain("softmax"));
                }
                let params: Vec<_> = sizes
                    .windows(2)
                    .map(|w| {
                        if with_params {
                            (vec(vec(arb_number(), w[1]), w[0]), vec(arb_number(), w[1]))
                                .prop_map(Some)
                                .boxed()
                        } else {
                            Just(None).boxed()
                        }
                    })
                    .collect();
                (Just((sizes, acts, names, name, dtype, input)), params)
            },
        )
        .prop_map(|((sizes, acts, names, name, dtype, input), params)| {
            let mut used: Vec<String> = Vec::new();
            let layers = (0..acts.len())
                .map(|i| {
                    // Layer names must be unique: number a repeated one.
                    let name = names[i].clone().map(|n| {
                        let n = if used.contains(&n) {
                            format!("{n}_{i}")
                        } else {
                            n
                        };
                        used.push(n.clone());
                        n
                    });
                    LayerSpec {
                        name,
                        inputs: sizes[i],
                        outputs: sizes[i + 1],
                        act: acts[i].clone(),
                        params: params[i].clone(),
                    }
                })
                .collect();
            NetworkSpec {
                name,
                dtype,
                input: input.then_some(sizes[0]),
                layers,
            }
        })
}

/// A number's text in the element type, as the checker should read it.
fn scalar(text: &str, dtype: DType) -> Scalar {
    match dtype {
        DType::F32 => Scalar::F32(text.parse().expect("generated numbers parse")),
        DType::F64 => Scalar::F64(text.parse().expect("generated numbers parse")),
    }
}

fn values<'a>(texts: impl IntoIterator<Item = &'a String>, dtype: DType) -> Values {
    let texts = texts.into_iter();
    match dtype {
        DType::F32 => Values::F32(texts.map(|t| t.parse().expect("parses")).collect()),
        DType::F64 => Values::F64(texts.map(|t| t.parse().expect("parses")).collect()),
    }
}

/// Layout between two tokens: whitespace or comments of every kind, or nothing.
fn arb_separator() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(" ".to_owned()),
        2 => Just(String::new()),
        1 => select(&["\n", "\t", "\r\n", "   \n\t ", "/**/", "/* c */", "// c\n", " //\n"][..])
            .prop_map(String::from),
        1 => "/\\*[a-z é→\n]{0,12}\\*/",
        1 => "//[a-z é→/*]{0,12}\n",
    ]
}

/// Joins `tokens` with the given separators (one before each token and one at the
/// end); an empty separator between two word tokens becomes a space.
fn layout(tokens: &[String], separators: &[String]) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
    let mut out = String::new();
    for (token, separator) in tokens.iter().zip(separators) {
        let glued = out.ends_with(word) && token.starts_with(word);
        out.push_str(if separator.is_empty() && glued {
            " "
        } else {
            separator
        });
        out.push_str(token);
    }
    out.push_str(&separators[tokens.len()]);
    out
}

proptest! {
    /// A generated valid network checks clean, and its IR says what the source says.
    #[test]
    fn generated_networks_check_clean_with_the_written_ir(
        spec in arb_network(prop_oneof![3 => Just(false), 1 => Just(true)])
    ) {
        let source = spec.render();
        let checked = nn_dsl::compile(&source);
        prop_assert!(checked.diagnostics.is_empty(), "{source}\n{:#?}", checked.diagnostics);
        prop_assert_eq!(checked.program.networks.len(), 1);
        let network = &checked.program.networks[0];
        let dtype = spec.dtype();
        prop_assert_eq!(&network.name, &spec.name);
        prop_assert_eq!(network.dtype, dtype);
        prop_assert_eq!(&network.input, &Shape(vec![spec.layers[0].inputs]));
        prop_assert_eq!(&network.output, &Shape(vec![spec.layers.last().expect("a layer").outputs]));
        prop_assert_eq!(network.layers.len(), spec.layers.len());
        for (k, (layer, want)) in network.layers.iter().zip(&spec.layers).enumerate() {
            prop_assert_eq!(layer.op, Op::Affine { outputs: want.outputs });
            prop_assert_eq!(&layer.name, &want.name);
            prop_assert_eq!(
                (&layer.input, &layer.output),
                (&Shape(vec![want.inputs]), &Shape(vec![want.outputs]))
            );
            let activation = match &want.act {
                None => Activation::Identity,
                Some(Act::Leaky(slope)) => Activation::LeakyRelu(scalar(slope, dtype)),
                Some(Act::Plain(name)) => match *name {
                    "identity" => Activation::Identity,
                    "step" => Activation::Step,
                    "sigmoid" => Activation::Sigmoid,
                    "relu" => Activation::Relu,
                    "tanh" => Activation::Tanh,
                    "softmax" => Activation::Softmax,
                    other => unreachable!("not generated: {other}"),
                },
            };
            prop_assert_eq!(layer.activation, activation);
            let (weight, bias) = match &want.name {
                Some(name) => (format!("{name}.weight"), format!("{name}.bias")),
                None => (format!("W{}", k + 1), format!("b{}", k + 1)),
            };
            prop_assert_eq!(&layer.tensors[0].name, &weight);
            prop_assert_eq!(&layer.tensors[1].name, &bias);
            prop_assert_eq!(&layer.tensors[0].shape, &vec![want.inputs, want.outputs]);
            prop_assert_eq!(&layer.tensors[1].shape, &vec![want.outputs]);
            match (&layer.tensors[0].values, &layer.tensors[1].values, &want.params) {
                (None, None, None) => {}
                (Some(got_weight), Some(got_bias), Some((rows, bias))) => {
                    prop_assert_eq!(got_weight, &values(rows.iter().flatten(), dtype));
                    prop_assert_eq!(got_bias, &values(bias, dtype));
                }
                (got, _, _) => prop_assert!(false, "params {got:?}, expected {:?}", want.params),
            }
        }
    }

    /// Whitespace and comments between tokens (and a leading byte-order mark) do not
    /// change the IR: a random layout compiles to the same program as single spaces.
    #[test]
    fn layout_does_not_change_the_ir(
        (spec, separators, bom) in arb_network(any::<bool>()).prop_flat_map(|spec| {
            let gaps = spec.tokens().len() + 1;
            (Just(spec), vec(arb_separator(), gaps), any::<bool>())
        })
    ) {
        let plain = nn_dsl::compile(&spec.render());
        prop_assert!(plain.diagnostics.is_empty(), "{:#?}", plain.diagnostics);
        let mut source = if bom { "\u{FEFF}".to_owned() } else { String::new() };
        source.push_str(&layout(&spec.tokens(), &separators));
        let laid_out = nn_dsl::compile(&source);
        prop_assert!(laid_out.diagnostics.is_empty(), "{source}\n{:#?}", laid_out.diagnostics);
        prop_assert_eq!(without_spans(laid_out.program), without_spans(plain.program), "{}", source);
    }

    /// Changing one layer's IN in a valid chain gives exactly one diagnostic, an E003 at
    /// that size, labelled at the size that reaches the layer.
    #[test]
    fn one_broken_link_gives_exactly_one_e003(
        mut spec in arb_network(Just(false)),
        at in any::<Index>(),
        new_size in 1..=64usize,
    ) {
        // The first layer's IN is only checked against an `input` line.
        if spec.layers.len() == 1 {
            spec.input = Some(spec.layers[0].inputs);
        }
        let first = usize::from(spec.input.is_none());
        let i = first + at.index(spec.layers.len() - first);
        let old = spec.layers[i].inputs;
        let new = if new_size == old { old % 64 + 1 } else { new_size };
        spec.layers[i].inputs = new;

        let source = spec.render();
        let checked = nn_dsl::compile(&source);
        prop_assert_eq!(checked.diagnostics.len(), 1, "{}\n{:#?}", source, checked.diagnostics);
        let d = &checked.diagnostics[0];
        prop_assert_eq!(d.code, Code::E003);
        prop_assert!(checked.program.networks.is_empty());
        // The primary span is the new IN of layer i, the label the size before it.
        let layer_start = source
            .match_indices(" layer ")
            .nth(i)
            .expect("layer i is in the source")
            .0;
        prop_assert!(d.span.start > layer_start, "E003 points before layer {}", i);
        prop_assert_eq!(&source[d.span.range()], new.to_string());
        prop_assert_eq!(d.labels.len(), 1);
        prop_assert_eq!(&source[d.labels[0].span.range()], old.to_string());
        prop_assert!(d.labels[0].span.end <= d.span.start);
    }
}
