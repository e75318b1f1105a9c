//! Byte-range spans and the line index that turns them into lines and columns.

use std::fmt;
use std::ops::Range;

/// A half-open byte range `start..end` into the source text.
///
/// Spans are byte offsets so that slicing the source is cheap; lines and columns are
/// computed only when a diagnostic is rendered (see [`LineIndex`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span that covers both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The span as a `Range`, for slicing.
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }
}

impl fmt::Debug for Span {
    // `3..7` keeps AST snapshots short.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// Line number, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// The offsets at which lines start, for turning byte offsets into [`LineCol`]s.
///
/// ```
/// use nn_dsl::{LineIndex, LineCol};
/// let index = LineIndex::new("ab\né x");
/// assert_eq!(index.line_col("ab\né x", 6), LineCol { line: 2, column: 3 });
/// ```
#[derive(Clone, Debug)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    /// Index the lines of `source` (lines end at `\n`).
    pub fn new(source: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { line_starts }
    }

    /// The line and column of byte `offset` in `source` (the text this index was built
    /// from). An offset past the end, or inside a character, is clamped to the character
    /// that contains it.
    pub fn line_col(&self, source: &str, offset: usize) -> LineCol {
        let offset = source.floor_char_boundary(offset);
        let line = self.line_of(offset);
        let line_start = self.line_starts[line - 1];
        let column = source[line_start..offset].chars().count() + 1;
        LineCol { line, column }
    }

    /// The line (from 1) that byte `offset` is on.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    /// The byte offset at which `line` (from 1) starts; past the last line, `None`.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }
}

/// A source text with its name and line index, built once per file and shared by
/// every diagnostic rendered about it.
///
/// ```
/// let file = nn_dsl::SourceFile::new("n.nn", "network N {\n}");
/// assert_eq!(file.line_col(12).line, 2);
/// ```
#[derive(Clone, Debug)]
pub struct SourceFile<'a> {
    /// The path shown in diagnostics.
    pub path: &'a str,
    /// The text that spans refer to.
    pub text: &'a str,
    /// Its lines.
    pub index: LineIndex,
}

impl<'a> SourceFile<'a> {
    /// Indexes `text`, read from `path`.
    pub fn new(path: &'a str, text: &'a str) -> Self {
        SourceFile {
            path,
            text,
            index: LineIndex::new(text),
        }
    }

    /// The line and column of byte `offset`.
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.index.line_col(self.text, offset)
    }
}
