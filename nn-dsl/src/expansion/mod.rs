//! What `network!` expands to, as a function of its input tokens: the macro crate
//! (`nn-macros`) only converts between `proc_macro` and `proc_macro2` around
//! [`expand`], so that everything here is tested without a compiler.
//!
//! Two forms:
//!
//! - `network! { network Xor { ... } }`: the `.nn` source inline. The tokens are
//!   rendered to text with a map back to each token (`source_map.rs`), compiled, and each
//!   error is reported at the DSL tokens it is about.
//! - `network!(file = "nets/mnist.nn")`: a file relative to the calling crate's
//!   `Cargo.toml`. Errors are reported on the path literal with the file's
//!   `path:line:col`, source line and carets, as `nndsl check` prints them. The file is
//!   always `include_bytes!`-ed, so that cargo rebuilds when it changes, even after an
//!   error.
//!
//! Warnings (W001, W002) cannot be emitted by a proc macro on stable Rust; they appear
//! as `deprecated` warnings on the DSL token (or the path literal), whose note is the
//! diagnostic. After an error every network is still emitted, with bodies that are
//! never reached ([`codegen::emit_fallback`]), so that the user sees that error and not
//! a cascade.

mod source_map;

use std::path::Path;

use proc_macro2::{Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::codegen::{self, SpanMap};
use crate::diag::human::{self, Style};
use crate::{Checked, Diagnostic, Severity, SourceFile};
use source_map::SourceMap;

/// The expansion of `network!` with `input` as its tokens; the file form resolves its
/// path against the `CARGO_MANIFEST_DIR` that cargo sets for the calling crate.
pub fn expand(input: TokenStream) -> TokenStream {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default();
    expand_in(input, Path::new(&manifest_dir))
}

/// [`expand`], with the file form's path relative to `manifest_dir`.
///
/// ```
/// let tokens = "network And { layer affine 2 -> 1 act step { weight [[0.5], [0.5]] bias [-0.7] } }";
/// let code = nn_dsl::expansion::expand_in(tokens.parse().expect("tokens"), std::path::Path::new("."));
/// assert!(code.to_string().contains("pub struct And"));
/// ```
pub fn expand_in(input: TokenStream, manifest_dir: &Path) -> TokenStream {
    match file_argument(&input) {
        Some(Ok(path)) => expand_file(&path, manifest_dir),
        Some(Err(error)) => error.to_compile_error(),
        None => expand_inline(input),
    }
}

/// `Some` when the input is the file form `file = "..."` (a source starts with
/// `network` instead), with the path literal or an error about the form.
fn file_argument(input: &TokenStream) -> Option<syn::Result<syn::LitStr>> {
    let first = input.clone().into_iter().next()?;
    if !matches!(&first, TokenTree::Ident(ident) if ident == "file") {
        return None;
    }
    Some(syn::parse::Parser::parse2(
        |stream: syn::parse::ParseStream<'_>| {
            stream.parse::<syn::Ident>()?;
            stream.parse::<syn::Token![=]>()?;
            let path: syn::LitStr = stream.parse()?;
            if !stream.is_empty() {
                return Err(stream.error(
                    "expected nothing after the path: `network!(file = \"nets/mnist.nn\")`",
                ));
            }
            Ok(path)
        },
        input.clone(),
    ))
}

fn expand_inline(input: TokenStream) -> TokenStream {
    let map = SourceMap::new(input);
    let checked = crate::compile(&map.text);
    let mut out = TokenStream::new();
    for diagnostic in &checked.diagnostics {
        let (first, last) = map.spans(diagnostic.span.start, diagnostic.span.end);
        let details = inline_details(diagnostic, &map);
        out.extend(match diagnostic.severity() {
            Severity::Error => {
                let message = format!("{}: {}{details}", diagnostic.code, diagnostic.message);
                spanned_error(first, last, &message)
            }
            Severity::Warning => warning(
                diagnostic,
                first,
                &format!("{}{details}", diagnostic.message),
            ),
        });
    }
    out.extend(generated(&checked, &|span| {
        map.spans(span.start, span.end).0
    }));
    out
}

fn expand_file(path: &syn::LitStr, manifest_dir: &Path) -> TokenStream {
    let relative = path.value();
    let full = manifest_dir.join(&relative);
    let bytes = match std::fs::read(&full) {
        Ok(bytes) => bytes,
        Err(error) => {
            let message = format!("cannot read `{relative}` ({}): {error}", full.display());
            return syn::Error::new(path.span(), message).to_compile_error();
        }
    };
    let compiled = crate::compile_bytes(&bytes);
    let full_text = full.to_string_lossy();
    // Cargo rebuilds the crate when the file changes, also after an error.
    let mut out = quote!(
        const _: &[u8] = ::core::include_bytes!(#full_text);
    );
    let source = SourceFile::new(&relative, &compiled.text);
    for diagnostic in &compiled.checked.diagnostics {
        let rendered = human::render(diagnostic, &source, Style::Plain);
        // rustc puts `error: ` before the message: drop our own `error[E003]` prefix.
        let body = rendered.split_once('\n').map_or("", |(_, rest)| rest);
        out.extend(match diagnostic.severity() {
            Severity::Error => {
                let message = format!("{}: {}\n{body}", diagnostic.code, diagnostic.message);
                spanned_error(path.span(), path.span(), &message)
            }
            Severity::Warning => warning(
                diagnostic,
                path.span(),
                &format!("{}\n{body}", diagnostic.message),
            ),
        });
    }
    // A file's tokens have no span of their own: they all point at the path.
    out.extend(generated(&compiled.checked, &|_| path.span()));
    out
}

/// The networks' code; after an error, stand-ins that keep user code type-checking.
fn generated(checked: &Checked, spans: SpanMap<'_>) -> TokenStream {
    if checked.has_errors() {
        codegen::emit_fallback(checked, spans)
    } else {
        codegen::emit(&checked.program, spans)
    }
}

/// The lines after the message: each label with where it points, and the help. (A
/// proc macro on stable Rust has one span per error, so labels become text.)
fn inline_details(diagnostic: &Diagnostic, map: &SourceMap) -> String {
    let mut details = String::new();
    for label in &diagnostic.labels {
        let at = map.spans(label.span.start, label.span.end).0.start();
        let place = if at.line > 0 {
            format!("line {}, column {}", at.line, at.column + 1)
        } else {
            // No location from the compiler: quote the tokens instead.
            let text = map.text.get(label.span.range()).unwrap_or("").trim();
            match text.char_indices().nth(24) {
                Some((cut, _)) => format!("at `{} …`", &text[..cut]),
                None => format!("at `{text}`"),
            }
        };
        details.push_str(&format!("\nnote: {} ({place})", label.message));
    }
    if let Some(help) = &diagnostic.help {
        details.push_str(&format!("\nhelp: {help}"));
    }
    details
}

/// A compile error underlining the tokens from `first` to `last`.
fn spanned_error(first: Span, last: Span, message: &str) -> TokenStream {
    let mut tokens = TokenStream::new();
    for span in [first, last] {
        let mut punct = Punct::new('.', Spacing::Alone);
        punct.set_span(span);
        tokens.extend([TokenTree::Punct(punct)]);
    }
    syn::Error::new_spanned(tokens, message).to_compile_error()
}

/// A warning on stable Rust: the use of a `#[deprecated]` constant, at `span`, whose
/// note is the diagnostic. The constant is named after the code, so rustc prints
/// "use of deprecated constant `_::W002`: network `xor_net` should ...".
fn warning(diagnostic: &Diagnostic, span: Span, message: &str) -> TokenStream {
    let name = format_ident!("{}", diagnostic.code.as_str(), span = span);
    quote_spanned! {span=>
        const _: () = {
            #[deprecated(note = #message)]
            const #name: () = ();
            #name
        };
    }
}

#[cfg(test)]
mod tests;
