//! The machine-readable format of `nndsl check --format json` (LANGUAGE.md §6): one
//! object per diagnostic, with 1-based lines and character columns. An end position is
//! exclusive: it is the line and column just after the last character of the span.

use serde::Serialize;

use super::Diagnostic;
use crate::span::{SourceFile, Span};

/// One diagnostic as it appears in the JSON array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonDiagnostic {
    /// The path of the file, as given on the command line.
    pub file: String,
    /// `"E001"` ... `"W002"`.
    pub code: String,
    /// `"error"` or `"warning"`.
    pub severity: String,
    /// What is wrong.
    pub message: String,
    /// Line of the primary span's start (from 1).
    pub line: usize,
    /// Column of the primary span's start (from 1, in characters).
    pub column: usize,
    /// Line of the primary span's end.
    pub end_line: usize,
    /// Column just after the primary span's last character.
    pub end_column: usize,
    /// Secondary places.
    pub labels: Vec<JsonLabel>,
    /// How to fix it, or `null`.
    pub help: Option<String>,
}

/// A secondary label in the JSON format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JsonLabel {
    /// Line of the label's start.
    pub line: usize,
    /// Column of the label's start.
    pub column: usize,
    /// Line of the label's end.
    pub end_line: usize,
    /// Column just after the label's last character.
    pub end_column: usize,
    /// The label's text.
    pub message: String,
}

/// Converts a diagnostic about `file` into its JSON form.
pub fn to_json(diagnostic: &Diagnostic, file: &SourceFile<'_>) -> JsonDiagnostic {
    let (line, column, end_line, end_column) = positions(diagnostic.span, file);
    JsonDiagnostic {
        file: file.path.to_owned(),
        code: diagnostic.code.as_str().to_owned(),
        severity: diagnostic.severity().as_str().to_owned(),
        message: diagnostic.message.clone(),
        line,
        column,
        end_line,
        end_column,
        labels: diagnostic
            .labels
            .iter()
            .map(|label| {
                let (line, column, end_line, end_column) = positions(label.span, file);
                JsonLabel {
                    line,
                    column,
                    end_line,
                    end_column,
                    message: label.message.clone(),
                }
            })
            .collect(),
        help: diagnostic.help.clone(),
    }
}

fn positions(span: Span, file: &SourceFile<'_>) -> (usize, usize, usize, usize) {
    let start = file.line_col(span.start);
    let end = file.line_col(span.end);
    (start.line, start.column, end.line, end.column)
}
