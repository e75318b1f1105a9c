//! The rustc-style renderer: `error[E003]: ...`, ` --> path:line:col`, the source lines
//! with carets and labels, `= help: ...`. Layout is done by `annotate-snippets`, the
//! renderer rustc itself uses.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Severity, count};
use crate::span::{SourceFile, Span};

/// Colours or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Plain text, for files, pipes and tests.
    Plain,
    /// ANSI colours, for a terminal.
    Colored,
}

/// Renders one diagnostic about `file` the way rustc would.
///
/// ```
/// use nn_dsl::{Code, Diagnostic, SourceFile, Span, diag::human::{render, Style}};
/// let file = SourceFile::new("n.nn", "network N { layer afine 2 -> 3 }");
/// let d = Diagnostic::new(Code::E005, "unknown layer kind `afine`", Span::new(18, 23));
/// let text = render(&d, &file, Style::Plain);
/// assert!(text.starts_with("error[E005]: unknown layer kind `afine`\n --> n.nn:1:19"));
/// ```
pub fn render(diagnostic: &Diagnostic, file: &SourceFile<'_>, style: Style) -> String {
    let level = match diagnostic.severity() {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    // Only the lines the diagnostic touches go to the renderer, which scans all it is
    // given: with the whole file, N diagnostics of a big file would cost N × its size.
    let (window, first_line) = window(diagnostic, file);
    let local = |span: Span| span.start - window.start..span.end - window.start;
    let mut primary = AnnotationKind::Primary.span(local(diagnostic.span));
    if let Some(label) = &diagnostic.span_label {
        primary = primary.label(label.as_str());
    }
    let snippet = Snippet::source(&file.text[window.range()])
        .path(file.path)
        .line_start(first_line)
        .fold(true)
        .annotation(primary)
        .annotations(diagnostic.labels.iter().map(|label| {
            AnnotationKind::Context
                .span(local(label.span))
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

/// The whole lines that the diagnostic's spans touch, and the number of the first.
fn window(diagnostic: &Diagnostic, file: &SourceFile<'_>) -> (Span, usize) {
    let spans = std::iter::once(diagnostic.span).chain(diagnostic.labels.iter().map(|l| l.span));
    let (start, end) = spans.fold((usize::MAX, 0), |(s, e), span| {
        (s.min(span.start), e.max(span.end))
    });
    let (start, end) = (start.min(file.text.len()), end.min(file.text.len()));
    let first_line = file.index.line_of(start);
    let last_line = file.index.line_of(end);
    let window_start = file.index.line_start(first_line).unwrap_or(0);
    let window_end = file
        .index
        .line_start(last_line + 1)
        .map_or(file.text.len(), |next| next - 1);
    (Span::new(window_start, window_end.max(end)), first_line)
}

/// Renders every diagnostic of a file, each followed by a blank line, then the closing
/// line rustc prints (see [`render_summary`]); empty when there are none.
pub fn render_all(diagnostics: &[Diagnostic], file: &SourceFile<'_>, style: Style) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render(diagnostic, file, style));
        out.push_str("\n\n");
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    if let Some(line) = render_summary(errors, diagnostics.len() - errors, style) {
        out.push_str(&line);
        out.push_str("\n\n");
    }
    out
}

/// Renders the closing line rustc prints after a file's diagnostics, e.g.
/// `error: aborting due to 2 previous errors; 1 warning emitted`; `None` when there is
/// nothing to report.
pub fn render_summary(errors: usize, warnings: usize, style: Style) -> Option<String> {
    let (level, title) = match (errors, warnings) {
        (0, 0) => return None,
        (0, w) => (Level::WARNING, format!("{} emitted", count(w, "warning"))),
        (1, 0) => (Level::ERROR, "aborting due to 1 previous error".to_owned()),
        (e, 0) => (Level::ERROR, format!("aborting due to {e} previous errors")),
        (e, w) => (
            Level::ERROR,
            format!(
                "aborting due to {}; {} emitted",
                count(e, "previous error"),
                count(w, "warning")
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
