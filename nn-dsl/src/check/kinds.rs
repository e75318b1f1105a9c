//! Layer kinds and their options: the kind's name (E005 with a suggestion), each
//! option known to that kind and given once (E005), its value one size or two (E005)
//! in range (E004), the required ones present (E005). The result is the layer's
//! [`Op`].

use crate::ast;
use crate::diag::{Code, Diagnostic};
use crate::ir::Op;

use super::shapes::{MAX_SIZE, check_size};
use super::suggest;

/// The options each kind takes, in the order `help` lists them; `None` for a name that
/// is not a kind.
fn options_of(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "affine" | "flatten" => Some(&[]),
        "conv" => Some(&["kernel", "stride", "pad"]),
        "maxpool" => Some(&["size", "stride"]),
        _ => None,
    }
}

/// Every option name of the language.
const ALL_OPTIONS: [&str; 4] = ["kernel", "stride", "pad", "size"];

/// The layer's op, or `None` after reporting E004/E005. `free` is the size that the
/// written output gives the op (an `affine` layer's outputs, a `conv` layer's filters):
/// the first size of the written output.
pub(super) fn resolve(
    kind: &ast::Kind,
    free: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Op> {
    let name = kind.name.text.as_str();
    let Some(known) = options_of(name) else {
        diagnostics.push(unknown_kind(&kind.name));
        return None;
    };
    let mut options = Options::default();
    let mut ok = true;
    for option in &kind.options {
        ok &= options.take(name, known, option, diagnostics);
    }
    let op = match name {
        "affine" => Op::Affine { outputs: free },
        "conv" => {
            let kernel = options.required(kind, "kernel", "kernel 5", diagnostics);
            Op::Conv2d {
                filters: free,
                kernel: kernel?,
                stride: options.stride.unwrap_or([1, 1]),
                pad: options.pad.unwrap_or([0, 0]),
            }
        }
        "maxpool" => {
            let size = options.required(kind, "size", "size 2", diagnostics)?;
            Op::MaxPool {
                size,
                stride: options.stride.unwrap_or(size),
            }
        }
        "flatten" => Op::Flatten,
        _ => {
            diagnostics.push(unknown_kind(&kind.name));
            return None;
        }
    };
    ok.then_some(op)
}

/// The options given so far.
#[derive(Default)]
struct Options<'a> {
    kernel: Option<[usize; 2]>,
    size: Option<[usize; 2]>,
    stride: Option<[usize; 2]>,
    pad: Option<[usize; 2]>,
    seen: Vec<&'a ast::Ident>,
}

impl<'a> Options<'a> {
    /// Records `option` of a `kind` layer; `false` after reporting an error.
    fn take(
        &mut self,
        kind: &str,
        known: &[&str],
        option: &'a ast::LayerOption,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> bool {
        let name = &option.name;
        if !known.contains(&name.text.as_str()) {
            diagnostics.push(not_an_option(kind, name, known));
            return false;
        }
        if let Some(earlier) = self.seen.iter().find(|e| e.text == name.text) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E005,
                    format!("`{}` is given twice", name.text),
                    name.span,
                )
                .with_span_label("second time")
                .with_label(earlier.span, "first given here")
                .with_help(format!("give `{}` once", name.text)),
            );
            return false;
        }
        self.seen.push(name);
        let Some(value) = option_value(option, diagnostics) else {
            return false;
        };
        let slot = match name.text.as_str() {
            "kernel" => &mut self.kernel,
            "size" => &mut self.size,
            "stride" => &mut self.stride,
            _ => &mut self.pad,
        };
        *slot = Some(value);
        true
    }

    /// The value of a required option, or `None` after reporting its absence (E005).
    fn required(
        &self,
        kind: &ast::Kind,
        option: &str,
        example: &str,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Option<[usize; 2]> {
        let value = match option {
            "kernel" => self.kernel,
            _ => self.size,
        };
        // Given under another framework's name (`kernel 2` on `maxpool`): that error
        // says it already.
        let misnamed = kind
            .options
            .iter()
            .any(|o| suggest::option_alias(&kind.name.text, &o.name.text) == Some(option));
        if value.is_none() && !misnamed && !self.seen.iter().any(|s| s.text == option) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E005,
                    format!("`{}` needs the option `{option}`", kind.name.text),
                    kind.name.span,
                )
                .with_span_label(format!("no `{option}`"))
                .with_help(format!(
                    "write it after the shapes, e.g. `{} {} -> {} {example}`",
                    kind.name.text, kind.input.text, kind.output.text
                )),
            );
        }
        value
    }
}

/// `[n, n]` for `n`, `[h, w]` for `hxw`; `None` after reporting E004 or E005. `pad` may
/// be 0; the other options may not.
fn option_value(
    option: &ast::LayerOption,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<[usize; 2]> {
    let value = &option.value;
    if value.dims.len() > 2 {
        diagnostics.push(
            Diagnostic::new(
                Code::E005,
                format!(
                    "`{}` takes one size or two (height x width), not {}",
                    option.name.text,
                    value.dims.len()
                ),
                value.span,
            )
            .with_span_label(format!("{} sizes", value.dims.len()))
            .with_help(format!(
                "write e.g. `{0} 2` (the same along both axes) or `{0} 2x3`",
                option.name.text
            )),
        );
        return None;
    }
    let dims: Vec<Option<usize>> = value
        .dims
        .iter()
        .map(|dim| {
            if option.name.text == "pad" && dim.text.bytes().all(|b| b == b'0') {
                return Some(0);
            }
            check_size(dim, diagnostics)
        })
        .collect();
    let dims: Vec<usize> = dims.into_iter().collect::<Option<_>>()?;
    debug_assert!(dims.iter().all(|&d| d as u64 <= MAX_SIZE));
    match dims.as_slice() {
        [n] => Some([*n, *n]),
        [h, w] => Some([*h, *w]),
        _ => None, // the grammar gives at least one size; more than two was reported
    }
}

fn unknown_kind(name: &ast::Ident) -> Diagnostic {
    let help = match suggest::kind_alias(&name.text)
        .or_else(|| suggest::closest(&name.text, &Op::KINDS))
    {
        Some(suggestion) => format!("did you mean `{suggestion}`?"),
        None => format!("the layer kinds are {}", list(&Op::KINDS)),
    };
    Diagnostic::new(
        Code::E005,
        format!("unknown layer kind `{}`", name.text),
        name.span,
    )
    .with_span_label("unknown layer kind")
    .with_help(help)
}

fn not_an_option(kind: &str, name: &ast::Ident, known: &[&str]) -> Diagnostic {
    let is_option = ALL_OPTIONS.contains(&name.text.as_str());
    let message = if is_option {
        format!("`{kind}` takes no option `{}`", name.text)
    } else {
        format!("unknown option `{}`", name.text)
    };
    let help = match (suggest::option_alias(kind, &name.text), known) {
        (Some(alias), _) => format!("did you mean `{alias}`?"),
        (None, []) => format!("`{kind}` takes no options"),
        (None, known) => match suggest::closest(&name.text, known) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => format!("`{kind}` takes {}", list(known)),
        },
    };
    Diagnostic::new(Code::E005, message, name.span)
        .with_span_label(if is_option {
            format!("not an option of `{kind}`")
        } else {
            "unknown option".to_owned()
        })
        .with_help(help)
}

/// `` `a`, `b` and `c` ``
pub(super) fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(|n| format!("`{n}`")).collect();
            format!("{} and `{last}`", init.join(", "))
        }
    }
}
