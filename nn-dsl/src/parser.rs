//! The parser: pest's parse tree of a source, turned into the [`ast`](crate::ast) with
//! spans, and pest's errors turned into E001 diagnostics that say in words what was
//! expected. After a syntax error the parser skips to the next `network` keyword and
//! goes on, so that one run reports the syntax errors of every network.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::{
    Activation, Arguments, File, Ident, Input, Int, Kind, Layer, LayerOption, Loss, Network,
    Number, Params, Shape, Tensor, TensorItems,
};
use crate::diag::{Code, Diagnostic};
use crate::span::Span;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// The syntax tree of what parsed, and an E001 for each place that did not.
#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    /// The networks that parsed; a network with a syntax error is left out.
    pub file: File,
    /// One E001 per syntax error.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole source.
///
/// ```
/// let parsed = nn_dsl::parse("network N { layer affine 2 -> 3 }");
/// assert!(parsed.diagnostics.is_empty());
/// assert_eq!(parsed.file.networks[0].layers[0].kind.output.text, "3");
/// ```
///
/// One network at a time: after an error, parsing resumes at the next `network` keyword,
/// so one pass reports the syntax errors of every network.
pub fn parse(source: &str) -> Parsed {
    let mut networks = Vec::new();
    let mut diagnostics = Vec::new();
    let mut offset = if source.starts_with('\u{FEFF}') { 3 } else { 0 };
    loop {
        let rest = &source[offset..];
        match Grammar::parse(Rule::next_item, rest) {
            Ok(mut pairs) => {
                let item = pairs.next().expect("`next_item` is the top rule");
                match item
                    .into_inner()
                    .find(|pair| pair.as_rule() == Rule::network)
                {
                    Some(network) => {
                        let end = offset + network.as_span().end();
                        networks.push(build_network(network, offset));
                        offset = end;
                    }
                    None => break, // end of input
                }
            }
            Err(error) => {
                let diagnostic = syntax_error(&error, source, offset);
                // From where the error is, not past it: an unterminated `/*` there must
                // be skipped as a comment (to the end), and a `network` keyword there
                // (the previous network left open) starts the next network.
                let resume = next_network_keyword(source, diagnostic.span.start.max(offset + 1));
                diagnostics.push(diagnostic);
                match resume {
                    Some(next) => offset = next,
                    None => break,
                }
            }
        }
    }
    Parsed {
        file: File { networks },
        diagnostics,
    }
}

/// The offset of the next `network` keyword at or after `from`, outside comments.
fn next_network_keyword(source: &str, from: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        if let Some(after) = comment_end(source, i) {
            i = after;
            continue;
        }
        match bytes[i] {
            b'n' if source[i..].starts_with("network")
                && !bytes.get(i + 7).is_some_and(|&b| is_ident_byte(b))
                && !(i > 0 && is_ident_byte(bytes[i - 1])) =>
            {
                return Some(i);
            }
            _ => i += 1,
        }
    }
    None
}

/// Where the comment that starts at byte `i` ends (the end of the source for one that
/// does not), or `None` if no comment starts there.
fn comment_end(source: &str, i: usize) -> Option<usize> {
    let rest = source.get(i..)?;
    if let Some(line) = rest.strip_prefix("//") {
        return Some(line.find('\n').map_or(source.len(), |n| i + 2 + n));
    }
    let block = rest.strip_prefix("/*")?;
    Some(block.find("*/").map_or(source.len(), |n| i + 2 + n + 2))
}

/// The end of the last token at or after `from`: past whitespace and comments.
fn end_of_last_token(source: &str, from: usize) -> usize {
    let mut end = from;
    let mut i = from;
    while let Some(c) = source.get(i..).and_then(|rest| rest.chars().next()) {
        if let Some(after) = comment_end(source, i) {
            i = after;
        } else {
            i += c.len_utf8();
            if !c.is_whitespace() {
                end = i;
            }
        }
    }
    end
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

// ---------------------------------------------------------------------------------------
// From pest pairs to the AST. `base` is the offset of the parsed text in the source.

fn span(pair: &Pair<'_, Rule>, base: usize) -> Span {
    let s = pair.as_span();
    // pest leaves the whitespace skipped before a failed trailing optional (`act`,
    // `{ params }`) inside the rule's span; the last child ends where the node does.
    match pair.clone().into_inner().next_back() {
        Some(last) => Span::new(base + s.start(), span(&last, base).end),
        None => Span::new(base + s.start(), base + s.end()),
    }
}

fn build_network(pair: Pair<'_, Rule>, base: usize) -> Network {
    let network_span = span(&pair, base);
    let mut name = None;
    let mut dtype = None;
    let mut input = None;
    let mut layers = Vec::new();
    let mut loss = None;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::network_name => name = Some(build_ident(&inner, base)),
            Rule::dtype => {
                let dtype_name = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::dtype_name)
                    .expect("`dtype` contains a `dtype_name`");
                dtype = Some(build_ident(&dtype_name, base));
            }
            Rule::input => {
                let input_span = span(&inner, base);
                let shape = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::shape)
                    .expect("`input` contains a `shape`");
                input = Some(Input {
                    span: input_span,
                    shape: build_shape(&shape, base),
                });
            }
            Rule::layer => layers.push(build_layer(inner, base)),
            Rule::loss => {
                let loss_span = span(&inner, base);
                let name = inner
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::loss_name)
                    .expect("`loss` contains a `loss_name`");
                loss = Some(Loss {
                    span: loss_span,
                    name: build_ident(&name, base),
                });
            }
            _ => {} // keywords and punctuation
        }
    }
    Network {
        span: network_span,
        name: name.expect("`network` has a `name`"),
        dtype,
        input,
        layers,
        loss,
    }
}

fn build_layer(pair: Pair<'_, Rule>, base: usize) -> Layer {
    let layer_span = span(&pair, base);
    let mut name = None;
    let mut kind = None;
    let mut activation = None;
    let mut params = None;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::layer_name => name = Some(build_ident(&inner, base)),
            Rule::kind => kind = Some(build_kind(inner, base)),
            Rule::activation => activation = Some(build_activation(inner, base)),
            Rule::params => params = Some(build_params(inner, base)),
            _ => {}
        }
    }
    Layer {
        span: layer_span,
        name,
        kind: kind.expect("`layer` has a `kind`"),
        activation,
        params,
    }
}

fn build_kind(pair: Pair<'_, Rule>, base: usize) -> Kind {
    let kind_span = span(&pair, base);
    let mut name = None;
    let mut shapes = Vec::with_capacity(2);
    let mut options = Vec::new();
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::kind_name => name = Some(build_ident(&inner, base)),
            Rule::shape => shapes.push(build_shape(&inner, base)),
            Rule::option => options.push(build_option(inner, base)),
            _ => {}
        }
    }
    let mut shapes = shapes.into_iter();
    Kind {
        span: kind_span,
        name: name.expect("`kind` has a `kind_name`"),
        input: shapes.next().expect("`kind` has two shapes"),
        output: shapes.next().expect("`kind` has two shapes"),
        options,
    }
}

fn build_option(pair: Pair<'_, Rule>, base: usize) -> LayerOption {
    let option_span = span(&pair, base);
    let mut name = None;
    let mut value = None;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::option_name => name = Some(build_ident(&inner, base)),
            Rule::shape => value = Some(build_shape(&inner, base)),
            _ => {}
        }
    }
    LayerOption {
        span: option_span,
        name: name.expect("`option` has an `option_name`"),
        value: value.expect("`option` has a `shape`"),
    }
}

fn build_activation(pair: Pair<'_, Rule>, base: usize) -> Activation {
    let activation_span = span(&pair, base);
    let mut name = None;
    let mut arguments = None;
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::activation_name => name = Some(build_ident(&inner, base)),
            Rule::arguments => {
                arguments = Some(Arguments {
                    span: span(&inner, base),
                    numbers: inner
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::number)
                        .map(|p| build_number(p, base))
                        .collect(),
                });
            }
            _ => {}
        }
    }
    Activation {
        span: activation_span,
        name: name.expect("`activation` has a `name`"),
        arguments,
    }
}

fn build_params(pair: Pair<'_, Rule>, base: usize) -> Params {
    let params_span = span(&pair, base);
    let mut tensors = pair
        .into_inner()
        .filter(|p| p.as_rule() == Rule::tensor)
        .map(|p| build_tensor(p, base));
    Params {
        span: params_span,
        weight: tensors.next().expect("`params` has a weight `tensor`"),
        bias: tensors.next().expect("`params` has a bias `tensor`"),
    }
}

fn build_tensor(pair: Pair<'_, Rule>, base: usize) -> Tensor {
    let tensor_span = span(&pair, base);
    let mut numbers = Vec::new();
    let mut tensors = Vec::new();
    for inner in pair.into_inner() {
        match inner.as_rule() {
            Rule::number => numbers.push(build_number(inner, base)),
            Rule::tensor => tensors.push(build_tensor(inner, base)),
            _ => {}
        }
    }
    // The grammar puts numbers or tensors in one pair of brackets, never both.
    let items = if tensors.is_empty() {
        TensorItems::Numbers(numbers)
    } else {
        TensorItems::Tensors(tensors)
    };
    Tensor {
        span: tensor_span,
        items,
    }
}

fn build_number(pair: Pair<'_, Rule>, base: usize) -> Number {
    let number_span = span(&pair, base);
    // The sign may be separated from the digits; the text joins them.
    let mut text = String::new();
    for inner in pair.into_inner() {
        text.push_str(inner.as_str());
    }
    Number {
        text,
        span: number_span,
    }
}

fn build_ident(pair: &Pair<'_, Rule>, base: usize) -> Ident {
    Ident {
        text: pair.as_str().to_owned(),
        span: span(pair, base),
    }
}

/// A shape word (`1x28x28`) with a span for each of its sizes.
fn build_shape(pair: &Pair<'_, Rule>, base: usize) -> Shape {
    let text = pair.as_str();
    let shape_span = span(pair, base);
    let mut dims = Vec::new();
    let mut start = shape_span.start;
    for dim in text.split('x') {
        dims.push(Int {
            text: dim.to_owned(),
            span: Span::new(start, start + dim.len()),
        });
        start += dim.len() + 1;
    }
    Shape {
        text: text.to_owned(),
        span: shape_span,
        dims,
    }
}

// ---------------------------------------------------------------------------------------
// Syntax errors.

/// Turns pest's error on `source[base..]` into an E001 that names, in words, what was
/// expected and what was found there.
fn syntax_error(error: &pest::error::Error<Rule>, source: &str, base: usize) -> Diagnostic {
    let position = base
        + match error.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((start, _)) => start,
        };
    let expected: Vec<Rule> = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let found = found_token(source, position);
    // At the end of input, point just after the last token, not at an empty last line
    // or after a closing comment.
    let position = if found.is_empty() {
        end_of_last_token(source, base)
    } else {
        position
    };
    let span = Span::new(position, position + found.len());
    let found_words = if found.is_empty() {
        "end of input".to_owned()
    } else {
        format!("`{found}`")
    };
    // `layer affine 2.0`: `affine` could also be a layer's name before `:`, but a shape
    // is what the user meant.
    let expected: Vec<Rule> = if expected.contains(&Rule::shape) {
        expected.into_iter().filter(|&r| r != Rule::colon).collect()
    } else {
        expected
    };
    let mut words: Vec<&str> = expected.iter().filter_map(|&r| describe_rule(r)).collect();
    words.sort_unstable();
    words.dedup();
    let message = match words.as_slice() {
        [] => format!("unexpected {found_words}"),
        [one] => format!("expected {one}, found {found_words}"),
        [init @ .., last] => format!(
            "expected one of {} or {last}, found {found_words}",
            init.join(", ")
        ),
    };
    let label = match words.as_slice() {
        [] => "unexpected here".to_owned(),
        [one] => format!("expected {one}"),
        _ => "unexpected here".to_owned(),
    };
    if found == "/*" {
        return Diagnostic::new(Code::E001, "unterminated block comment", span)
            .with_span_label("the comment starts here")
            .with_help("end the comment with `*/`; block comments do not nest");
    }
    let diagnostic = Diagnostic::new(Code::E001, message, span).with_span_label(label);
    if let Some(keyword) = keyword_as_layer_name(source, position) {
        return Diagnostic::new(
            Code::E001,
            format!("`{}` is a keyword and cannot name a layer", keyword.text),
            keyword.span,
        )
        .with_span_label("a keyword of the language")
        .with_help(format!(
            "choose another name, such as `{}_layer`",
            keyword.text
        ));
    }
    if found == "#" {
        return Diagnostic::new(Code::E001, "unexpected `#`", span)
            .with_span_label("`#` does not start a comment")
            .with_help("comments are written `// to the end of the line` or `/* ... */`");
    }
    match help_for(found, &expected) {
        Some(help) => diagnostic.with_help(help),
        None => diagnostic,
    }
}

/// The token that starts at `position`: an identifier or number run, a comment opener,
/// `->`, or one character; empty at the end of input.
fn found_token(source: &str, position: usize) -> &str {
    let rest = &source[position.min(source.len())..];
    let run = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    if run > 0 {
        // Cut a number run such as `1.5.` no shorter than the user's token.
        return &rest[..run];
    }
    for two in ["->", "/*", "//"] {
        if rest.starts_with(two) {
            return &rest[..2];
        }
    }
    rest.chars().next().map_or("", |c| &rest[..c.len_utf8()])
}

/// What a grammar rule is, in the words of an error message; `None` for rules that are
/// never worth naming.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::network | Rule::kw_network => "`network`",
        Rule::layer | Rule::kw_layer => "`layer`",
        Rule::input | Rule::kw_input => "`input`",
        Rule::kw_act => "`act`",
        Rule::loss | Rule::kw_loss => "`loss`",
        Rule::loss_name => "a loss such as `cross_entropy`",
        Rule::kw_weight => "`weight`",
        Rule::kw_bias => "`bias`",
        Rule::dtype | Rule::langle => "`<`",
        Rule::dtype_name => "`f32` or `f64`",
        Rule::network_name => "a network name",
        Rule::layer_name => "a layer name",
        Rule::activation_name | Rule::activation => "an activation such as `sigmoid`",
        Rule::arguments => "`(`",
        Rule::kind | Rule::kind_name => "a layer kind such as `affine`",
        Rule::option | Rule::option_name => "an option such as `kernel`",
        Rule::params | Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::tensor | Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::rangle => "`>`",
        Rule::colon => "`:`",
        Rule::comma => "`,`",
        Rule::arrow => "`->`",
        Rule::number | Rule::unsigned | Rule::minus => "a number",
        Rule::shape => "a shape such as `784` or `1x28x28`",
        Rule::EOI => "end of input",
        Rule::file
        | Rule::next_item
        | Rule::WHITESPACE
        | Rule::COMMENT
        | Rule::identifier
        | Rule::ident_char
        | Rule::keyword => return None,
    })
}

/// A hint for common mistakes, recognised from the token found.
fn help_for(found: &str, expected: &[Rule]) -> Option<String> {
    let wants_number = expected
        .iter()
        .any(|r| matches!(r, Rule::number | Rule::unsigned | Rule::shape));
    if wants_number && found.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        if expected.contains(&Rule::shape) && !expected.contains(&Rule::number) {
            return Some(
                "shapes are whole numbers joined by `x` with no spaces, e.g. `784` or `1x28x28`"
                    .to_owned(),
            );
        }
        if found.contains('_') {
            return Some(format!(
                "numbers cannot contain `_`: write `{}`",
                found.replace('_', "")
            ));
        }
        if let Some(fraction) = found.strip_prefix('.') {
            return Some(format!("write a digit before the point: `0.{fraction}`"));
        }
        if let Some(whole) = found.strip_suffix('.') {
            return Some(format!("write a digit after the point: `{whole}.0`"));
        }
        return Some("numbers are written like `3`, `-0.5` or `1e-3`".to_owned());
    }
    if wants_number && ["inf", "nan", "NaN", "infinity"].contains(&found) {
        return Some("parameters must be finite numbers".to_owned());
    }
    let wants_name = expected.iter().any(|r| {
        matches!(
            r,
            Rule::network_name
                | Rule::layer_name
                | Rule::activation_name
                | Rule::kind_name
                | Rule::loss_name
        )
    });
    if wants_name && is_keyword(found) {
        return Some(format!(
            "`{found}` is a keyword of the language and cannot be used as a name"
        ));
    }
    None
}

/// A hint for a keyword used as a layer name (`layer input: affine ...`), which the
/// grammar reads as a layer kind followed by a stray `:`.
fn keyword_as_layer_name(source: &str, position: usize) -> Option<Ident> {
    // The error stands at the `:` (`layer act: ...`, the keyword read as something
    // else) or at the keyword itself (`layer input: ...`).
    let word_len = source[position..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(source.len() - position);
    let after_word = source[position + word_len..].trim_start_matches([' ', '\t', '\r', '\n']);
    let position = if word_len > 0 && after_word.starts_with(':') {
        source.len() - after_word.len()
    } else {
        position
    };
    if !source[position..].starts_with(':') {
        return None;
    }
    let before = source[..position].trim_end_matches([' ', '\t', '\r', '\n']);
    let word_start = before
        .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .len();
    let word = &before[word_start..];
    let after_layer = before[..word_start]
        .trim_end_matches([' ', '\t', '\r', '\n'])
        .strip_suffix("layer")
        .is_some_and(|rest| !rest.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
    (after_layer && is_keyword(word)).then(|| Ident {
        text: word.to_owned(),
        span: Span::new(word_start, before.len()),
    })
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "network" | "input" | "layer" | "act" | "weight" | "bias" | "loss" | "f32" | "f64"
    )
}

#[cfg(test)]
mod tests {
    use pest::Parser;

    use super::{Grammar, Rule, is_keyword};

    /// `is_keyword` (behind the "is a keyword" hints) and the grammar's `keyword` rule
    /// list the same words: each keyword is refused as a name, and names that only
    /// begin or end like one are not.
    #[test]
    fn the_keyword_list_matches_the_grammar() {
        let words = [
            "network",
            "input",
            "layer",
            "act",
            "weight",
            "bias",
            "loss",
            "f32",
            "f64",
            "affine",
            "conv",
            "inputs",
            "layer1",
            "affine_out",
            "acts",
            "bias2",
            "f16",
            "relu",
            "dense",
        ];
        for word in words {
            let whole_name = Grammar::parse(Rule::layer_name, word)
                .is_ok_and(|mut pairs| pairs.next().is_some_and(|p| p.as_str() == word));
            assert_eq!(is_keyword(word), !whole_name, "{word}");
        }
    }
}
