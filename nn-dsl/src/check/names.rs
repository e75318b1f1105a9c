//! Names: network names unique in a source (E002), names Rust can use and layer names
//! unique in a network (E008), and Rust's naming conventions (W002).

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::diag::{Code, Diagnostic};
use crate::{ast, ir};

/// Rust's strict and reserved keywords (edition 2024), and `_`: none can name a struct
/// or a field, so a network or layer named so could not be generated.
const RUST_KEYWORDS: &[&str] = &[
    "_", "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Rust's primitive types. A network's struct of such a name would hide the type from
/// the generated code, which names `usize`, `u64` and the element type.
const PRIMITIVE_TYPES: &[&str] = &[
    "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
    "u128", "usize", "f16", "f32", "f64", "f128",
];

/// Reports every network whose name an earlier network already has (E002), and says
/// which networks those are, in the order of `file.networks`.
pub(super) fn check_unique_networks(
    file: &ast::File,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<bool> {
    let mut first: HashMap<&str, &ast::Ident> = HashMap::new();
    let mut redefined = Vec::with_capacity(file.networks.len());
    for network in &file.networks {
        let name = &network.name;
        let earlier = first.get(name.text.as_str());
        redefined.push(earlier.is_some());
        match earlier {
            Some(earlier) => diagnostics.push(
                Diagnostic::new(
                    Code::E002,
                    format!("the network `{}` is defined more than once", name.text),
                    name.span,
                )
                .with_span_label(format!("`{}` redefined here", name.text))
                .with_label(earlier.span, format!("first definition of `{}`", name.text))
                .with_help("each network becomes a Rust struct of that name: rename one of them"),
            ),
            None => {
                first.insert(&name.text, name);
            }
        }
    }
    redefined
}

/// Checks a network's name: usable in Rust (E008) and UpperCamelCase (W002).
pub(super) fn check_network_name(name: &ast::Ident, diagnostics: &mut Vec<Diagnostic>) {
    if is_rust_keyword(&name.text) {
        diagnostics.push(keyword(
            name,
            "network",
            &format!("{}Net", name.text.to_upper_camel_case()),
        ));
    } else if PRIMITIVE_TYPES.contains(&name.text.as_str()) {
        diagnostics.push(
            Diagnostic::new(
                Code::E008,
                format!(
                    "`{}` is a Rust primitive type and cannot name a network",
                    name.text
                ),
                name.span,
            )
            .with_span_label("a primitive type in Rust")
            .with_help(format!(
                "the network's struct would hide the type `{}` from the generated code; choose \
                 another name, such as `{}Net`",
                name.text,
                name.text.to_upper_camel_case()
            )),
        );
    } else if !is_upper_camel_case(&name.text) {
        let suggestion = name.text.to_upper_camel_case();
        diagnostics.push(
            Diagnostic::new(
                Code::W002,
                format!(
                    "network `{}` should have an upper camel case name",
                    name.text
                ),
                name.span,
            )
            .with_span_label("not UpperCamelCase")
            .with_help(convert("upper camel case", &suggestion)),
        );
    }
}

/// Checks layer names: usable in Rust (E008), unique in the network (E008) and
/// snake_case (W002).
pub(super) fn check_layer_names(layers: &[ast::Layer], diagnostics: &mut Vec<Diagnostic>) {
    let mut first: HashMap<&str, &ast::Ident> = HashMap::new();
    for name in layers.iter().filter_map(|layer| layer.name.as_ref()) {
        if is_rust_keyword(&name.text) {
            diagnostics.push(keyword(
                name,
                "layer",
                &format!("{}_layer", name.text.to_snake_case()),
            ));
        } else if !is_snake_case(&name.text) {
            diagnostics.push(
                Diagnostic::new(
                    Code::W002,
                    format!("layer `{}` should have a snake case name", name.text),
                    name.span,
                )
                .with_span_label("not snake_case")
                .with_help(convert("snake case", &name.text.to_snake_case())),
            );
        }
        if let Some(k) = implicit_field_clash(&name.text, layers) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E008,
                    format!("the name `{}` is taken by the unnamed layer {k}", name.text),
                    name.span,
                )
                .with_span_label("clashes with an implicit name")
                .with_label(layers[k - 1].kind.span, format!("layer {k} is the field `layer{k}` in Rust"))
                .with_help(format!(
                    "unnamed layers become the fields `layer1`, `layer2`, ... of the generated struct: \
                     rename this layer, or give layer {k} a name"
                )),
            );
        }
        match first.get(name.text.as_str()) {
            Some(earlier) => diagnostics.push(
                Diagnostic::new(
                    Code::E008,
                    format!("two layers are named `{}`", name.text),
                    name.span,
                )
                .with_span_label("second use of the name")
                .with_label(earlier.span, "first used here")
                .with_help(format!(
                    "layer names name the struct's fields and the parameter tensors \
                         (`{0}.weight`, `{0}.bias`): give each layer its own",
                    name.text
                )),
            ),
            None => {
                first.insert(&name.text, name);
            }
        }
    }
}

/// `Some(k)` when `name` is `layer{k}` and layer `k` is unnamed: the generated struct
/// calls an unnamed layer `layer{k}`, so the two fields would clash.
fn implicit_field_clash(name: &str, layers: &[ast::Layer]) -> Option<usize> {
    let k: usize = name.strip_prefix("layer")?.parse().ok()?;
    let layer = layers.get(k.checked_sub(1)?)?;
    (layer.name.is_none() && ir::implicit_field_name(k) == name).then_some(k)
}

fn keyword(name: &ast::Ident, what: &str, suggestion: &str) -> Diagnostic {
    let suggestion = if is_rust_keyword(suggestion) || suggestion.is_empty() {
        format!("my_{what}")
    } else {
        suggestion.to_owned()
    };
    Diagnostic::new(
        Code::E008,
        format!("`{}` is a Rust keyword and cannot name a {what}", name.text),
        name.span,
    )
    .with_span_label("reserved in Rust")
    .with_help(format!(
        "the generated Rust code uses this name; choose another, such as `{suggestion}`"
    ))
}

fn convert(style: &str, suggestion: &str) -> String {
    format!("convert the identifier to {style}: `{suggestion}`")
}

/// Whether a network's struct cannot have this name (E008): a Rust keyword, or a
/// primitive type that it would hide.
pub(crate) fn is_unusable_struct_name(name: &str) -> bool {
    is_rust_keyword(name) || PRIMITIVE_TYPES.contains(&name)
}

/// Whether Rust reserves `name`, so that it cannot name an item or a field.
fn is_rust_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name)
}

/// rustc's rule for types: no lowercase first letter and no `_` except leading ones
/// (acronyms such as `XORNet` are fine).
pub(crate) fn is_upper_camel_case(name: &str) -> bool {
    let name = name.trim_start_matches('_');
    name.chars().next().is_none_or(|c| !c.is_lowercase()) && !name.contains('_')
}

/// rustc's rule for fields: no uppercase letters and no `__` between words.
pub(crate) fn is_snake_case(name: &str) -> bool {
    let name = name.trim_start_matches('_');
    !name.chars().any(char::is_uppercase) && !name.contains("__")
}
