//! Diagnostics: one type for every error and warning of the language, and its renderers
//! (rustc-style text in [`human`], the JSON of LANGUAGE.md §6 in `json`).

pub mod human;
#[cfg(feature = "json")]
pub mod json;

use std::fmt;

use crate::span::Span;

/// The code of a diagnostic (LANGUAGE.md §5); `nndsl explain CODE` describes each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Syntax error, or a source that is not UTF-8.
    E001,
    /// Two networks with the same name.
    E002,
    /// A layer's input size differs from the size that reaches it.
    E003,
    /// A size is 0, too large, or does not fit in 64 bits.
    E004,
    /// Unknown layer kind or activation, or a wrong activation argument.
    E005,
    /// Inline parameters of the wrong shape.
    E006,
    /// Some layers have inline parameters and others do not.
    E007,
    /// A name that Rust cannot use, or two layers with the same name.
    E008,
    /// A number that is not finite in the network's element type.
    E009,
    /// A loss the network cannot train with: `cross_entropy` without `softmax` last,
    /// or any loss on a network with `step`.
    E010,
    /// `softmax` on a layer that is not the last.
    W001,
    /// A name that does not follow Rust's naming conventions.
    W002,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Code; 12] = [
        Code::E001,
        Code::E002,
        Code::E003,
        Code::E004,
        Code::E005,
        Code::E006,
        Code::E007,
        Code::E008,
        Code::E009,
        Code::E010,
        Code::W001,
        Code::W002,
    ];

    /// The code as written, e.g. `"E003"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E001 => "E001",
            Code::E002 => "E002",
            Code::E003 => "E003",
            Code::E004 => "E004",
            Code::E005 => "E005",
            Code::E006 => "E006",
            Code::E007 => "E007",
            Code::E008 => "E008",
            Code::E009 => "E009",
            Code::E010 => "E010",
            Code::W001 => "W001",
            Code::W002 => "W002",
        }
    }

    /// The severity that every diagnostic with this code has.
    pub fn severity(self) -> Severity {
        match self {
            Code::W001 | Code::W002 => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The code named by `text`, ignoring ASCII case (`"e003"` is [`Code::E003`]).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .into_iter()
            .find(|code| code.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a diagnostic stops compilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The source is rejected.
    Error,
    /// The source is accepted, but something looks wrong.
    Warning,
}

impl Severity {
    /// `"error"` or `"warning"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A secondary place in the source that explains the diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What it has to do with the diagnostic.
    pub message: String,
}

/// An error or warning about a source, with the place it points at.
///
/// Built with [`Diagnostic::new`] and the `with_*` methods:
///
/// ```
/// use nn_dsl::{Code, Diagnostic, Span};
/// let d = Diagnostic::new(Code::E003, "size mismatch", Span::new(10, 12))
///     .with_label(Span::new(3, 5), "the previous layer gives 3 outputs")
///     .with_help("make the sizes agree");
/// assert_eq!(d.labels.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The code, which also fixes the severity ([`severity`](Self::severity)).
    pub code: Code,
    /// One sentence saying what is wrong.
    pub message: String,
    /// The place the diagnostic is about.
    pub span: Span,
    /// A short text shown at the primary span, under the carets.
    pub span_label: Option<String>,
    /// Other places that explain it.
    pub labels: Vec<Label>,
    /// How to fix it, if we can say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with `code`'s severity, a message and the place it points at.
    pub fn new(code: Code, message: impl Into<String>, span: Span) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span,
            span_label: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds a text under the primary span's carets.
    pub fn with_span_label(mut self, message: impl Into<String>) -> Self {
        self.span_label = Some(message.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Error or warning: its code's.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// `1 row`, `2 rows`: a count and its noun, for messages.
pub(crate) fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
