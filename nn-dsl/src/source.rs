//! From bytes to a checked source: UTF-8 decoding (an invalid byte is E001, never a
//! crash), then parsing and checking with their diagnostics merged in source order.

use std::borrow::Cow;

use crate::check::{self, Checked};
use crate::diag::{Code, Diagnostic};
use crate::parser;
use crate::span::Span;

/// Parses and checks `source`: the IR of every clean network and all diagnostics
/// (syntax errors first met by the parser, then the checker's), in source order.
///
/// ```
/// let checked = nn_dsl::compile("network Xor { layer affine 2 -> 2 act sigmoidd }");
/// assert_eq!(checked.diagnostics[0].code, nn_dsl::Code::E005);
/// assert_eq!(checked.diagnostics[0].help.as_deref(), Some("did you mean `sigmoid`?"));
/// ```
pub fn compile(source: &str) -> Checked {
    let parsed = parser::parse(source);
    let mut checked = check::check(&parsed.file);
    if !parsed.diagnostics.is_empty() {
        checked.diagnostics.extend(parsed.diagnostics);
        check::sort(&mut checked.diagnostics);
    }
    checked
}

/// The text of a source file and what compiling it found.
#[derive(Clone, Debug)]
pub struct Compiled<'a> {
    /// The text the diagnostics' spans refer to: the file itself, or, for a file that is
    /// not UTF-8, its lossy decoding (each invalid sequence becomes U+FFFD).
    pub text: Cow<'a, str>,
    /// The result of [`compile`], or the single E001 of an invalid UTF-8 file.
    pub checked: Checked,
}

/// Decodes `bytes` as UTF-8 and compiles them. A file that is not UTF-8 gives one E001
/// at the first invalid byte.
///
/// ```
/// let compiled = nn_dsl::compile_bytes(b"network N { layer \xff }");
/// assert_eq!(compiled.checked.diagnostics[0].code, nn_dsl::Code::E001);
/// assert_eq!(compiled.checked.diagnostics[0].span.start, 18);
/// ```
pub fn compile_bytes(bytes: &[u8]) -> Compiled<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Compiled {
            text: Cow::Borrowed(text),
            checked: compile(text),
        },
        Err(error) => {
            let at = error.valid_up_to();
            let text = String::from_utf8_lossy(bytes);
            // In the lossy text the bad sequence is one U+FFFD at the same offset.
            let replacement = Span::new(at, at + '\u{FFFD}'.len_utf8());
            let invalid = error.error_len().unwrap_or(bytes.len() - at);
            let shown: Vec<String> = bytes[at..at + invalid]
                .iter()
                .map(|b| format!("0x{b:02X}"))
                .collect();
            let diagnostic = Diagnostic::new(
                Code::E001,
                format!(
                    "the file is not valid UTF-8: invalid byte sequence {}",
                    shown.join(" ")
                ),
                replacement,
            )
            .with_span_label("not UTF-8")
            .with_help("save the file as UTF-8");
            // The networks' signatures still come from the lossy text, so that the
            // macro's stand-ins keep the user's code type-checking.
            let signatures = check::check(&parser::parse(&text).file).signatures;
            Compiled {
                text,
                checked: Checked {
                    diagnostics: vec![diagnostic],
                    signatures,
                    ..Checked::default()
                },
            }
        }
    }
}
