//! Telegram TL schemas: a pest parser, a typed model, validation with file:line:col errors,
//! printing, JSON import, schema diffs, and the Rust code generator.
//!
//! The pipeline is parse ([`parse()`]) → validate ([`validate()`]) → emit; [`check`] runs the first two.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod id;
pub mod json;
pub mod model;
pub mod parse;
pub mod print;
pub mod validate;

pub use diagnostic::{Diagnostic, SchemaErrors, Severity};
pub use model::*;
pub use parse::{parse, Parsed};
pub use validate::{validate, Stats};

/// A schema with everything found while parsing and validating it.
#[derive(Clone, Debug)]
pub struct Report {
    /// What parsed (statements with syntax errors are left out).
    pub schema: Schema,
    /// Errors and notes, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Counts and id verification results.
    pub stats: Stats,
}

impl Report {
    /// The errors (notes left out).
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// Whether there is at least one error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// The schema when there is no error, else every error of `file`.
    pub fn into_result(self, file: &str) -> Result<Schema, SchemaErrors> {
        if self.has_errors() {
            Err(SchemaErrors {
                file: file.to_string(),
                diagnostics: self
                    .diagnostics
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error)
                    .collect(),
            })
        } else {
            Ok(self.schema)
        }
    }
}

/// Parses and validates TL text.
pub fn check(source: &str) -> Report {
    let Parsed { schema, errors } = parse(source);
    let (mut diagnostics, stats) = validate(&schema, source);
    diagnostics.extend(errors);
    diagnostics.sort_by_key(|d| d.span.start);
    Report {
        schema,
        diagnostics,
        stats,
    }
}

/// Reads, parses and validates a schema file; `Err` lists every error with file:line:col.
pub fn load(path: &std::path::Path) -> Result<Schema, SchemaErrors> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| SchemaErrors {
        file: file.clone(),
        diagnostics: vec![Diagnostic::error(
            format!("cannot read the file: {e}"),
            Span::default(),
            "",
        )],
    })?;
    check(&source).into_result(&file)
}
