//! Errors and notes about a schema, each pointing at a file, line and column with a source snippet.

use std::fmt;

use crate::model::Span;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The schema is wrong; tools exit non-zero.
    Error,
    /// Worth knowing but accepted (for example a known constructor-id exception).
    Note,
}

/// One finding about a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or note.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where it is.
    pub span: Span,
    /// The source line of `span.start`, for display.
    pub source_line: String,
}

impl Diagnostic {
    /// A diagnostic at `span` of `source`.
    pub fn new(severity: Severity, message: impl Into<String>, span: Span, source: &str) -> Self {
        Self {
            severity,
            message: message.into(),
            span,
            source_line: line_of(source, span.start).to_string(),
        }
    }

    /// An error at `span` of `source`.
    pub fn error(message: impl Into<String>, span: Span, source: &str) -> Self {
        Self::new(Severity::Error, message, span, source)
    }

    /// The 1-based line.
    pub fn line(&self) -> usize {
        self.span.line
    }

    /// The 1-based column (in characters).
    pub fn col(&self) -> usize {
        self.span.col
    }

    /// Renders `FILE:LINE:COL: error: MESSAGE` followed by the source line and a caret.
    pub fn render(&self, file: &str) -> String {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Note => "note",
        };
        let caret_pad: String = self
            .source_line
            .chars()
            .take(self.span.col.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = self.source_line[..]
            .chars()
            .skip(self.span.col.saturating_sub(1))
            .count()
            .min(self.span.end.saturating_sub(self.span.start))
            .max(1);
        format!(
            "{file}:{}:{}: {kind}: {}\n    | {}\n    | {caret_pad}{}",
            self.span.line,
            self.span.col,
            self.message,
            self.source_line,
            "^".repeat(width)
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.span.line, self.span.col, self.message)
    }
}

/// Builds a [`Span`] for the byte range `start..end` of `source`.
pub fn span_at(source: &str, start: usize, end: usize) -> Span {
    LineIndex::new(source).span(start, end)
}

/// Line starts of a source text, so that many spans can be located without rescanning it.
pub struct LineIndex<'a> {
    source: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `source`.
    pub fn new(source: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            source,
            line_starts,
        }
    }

    /// The [`Span`] of the byte range `start..end`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let source = self.source;
        let start = floor_char_boundary(source, start.min(source.len()));
        let end = end.clamp(start, source.len());
        let line = self.line_starts.partition_point(|&s| s <= start);
        let line_start = self.line_starts[line - 1];
        let col = source[line_start..start].chars().count() + 1;
        Span {
            start,
            end,
            line,
            col,
        }
    }
}

/// The whole line of `source` containing byte `at`, without its line break.
pub fn line_of(source: &str, at: usize) -> &str {
    let at = floor_char_boundary(source, at.min(source.len()));
    let start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let end = source[at..].find('\n').map_or(source.len(), |i| at + i);
    source[start..end].trim_end_matches('\r')
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// All the findings about one schema file; returned as the error of a failed parse or check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaErrors {
    /// The file's name as the user gave it.
    pub file: String,
    /// Every error found, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for SchemaErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            f.write_str(&d.render(&self.file))?;
        }
        Ok(())
    }
}

impl std::error::Error for SchemaErrors {}
