//! The rustc-style renderer: `error[E003]: ...`, ` --> path:line:col`, the source lines
//! with carets and labels, `= help: ...`. Layout is done by `annotate-snippets`, the
//! renderer rustc itself uses.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity};

/// Colours or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Plain text, for files, pipes and tests.
    Plain,
    /// ANSI colours, for a terminal.
    Colored,
}

/// Renders one diagnostic about `source` (read from `path`) the way rustc would.
///
/// ```
/// use nn_dsl::{Code, Diagnostic, Span, diag::human::{render, Style}};
/// let source = "network N { layer afine 2 -> 3 }";
/// let d = Diagnostic::new(Code::E005, "unknown layer kind `afine`", Span::new(18, 23));
/// let text = render(&d, "n.nn", source, Style::Plain);
/// assert!(text.starts_with("error[E005]: unknown layer kind `afine`\n --> n.nn:1:19"));
/// ```
pub fn render(diagnostic: &Diagnostic, path: &str, source: &str, style: Style) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let mut primary = AnnotationKind::Primary.span(diagnostic.span.range());
    if let Some(label) = &diagnostic.span_label {
        primary = primary.label(label.as_str());
    }
    let snippet = Snippet::source(source)
        .path(path)
        .fold(true)
        .annotation(primary)
        .annotations(diagnostic.labels.iter().map(|label| {
            AnnotationKind::Context
                .span(label.span.range())
                .label(label.message.as_str())
        }));
    let mut group: Group<'_> = level
        .primary_title(diagnostic.message.as_str())
        .id(diagnostic.code.as_str())
        .element(snippet);
    if let Some(help) = &diagnostic.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    renderer(style).render(&[group])
}

/// Renders the closing line rustc prints after a file's diagnostics, e.g.
/// `error: aborting due to 2 previous errors; 1 warning emitted`; `None` when there is
/// nothing to report.
pub fn render_summary(errors: usize, warnings: usize, style: Style) -> Option<String> {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let (level, title) = match (errors, warnings) {
        (0, 0) => return None,
        (0, w) => (Level::WARNING, format!("{} emitted", plural(w, "warning"))),
        (1, 0) => (Level::ERROR, "aborting due to 1 previous error".to_owned()),
        (e, 0) => (Level::ERROR, format!("aborting due to {e} previous errors")),
        (e, w) => (
            Level::ERROR,
            format!(
                "aborting due to {}; {} emitted",
                plural(e, "previous error"),
                plural(w, "warning")
            ),
        ),
    };
    Some(renderer(style).render(&[Group::with_title(level.primary_title(title))]))
}

fn renderer(style: Style) -> Renderer {
    match style {
        Style::Plain => Renderer::plain(),
        Style::Colored => Renderer::styled(),
    }
}
