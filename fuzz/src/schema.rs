//! `schema_parse`: the TL schema parser and validator (`tl_codegen::check`) on any text.
//!
//! Checked, besides no panic: every diagnostic points inside the source, on character
//! boundaries, at the line and column its offset has, and renders; a schema without errors
//! prints (`print_schema`) to text that parses without errors and prints the same again.

use ::tl_codegen::print::print_schema;
use ::tl_codegen::{check, Span};

/// The `schema_parse` entry point (input that is not UTF-8 is read lossily).
pub fn parse(data: &[u8]) {
    let source = String::from_utf8_lossy(data);
    let report = check(&source);
    for d in &report.diagnostics {
        check_span(&source, &d.span, &d.message);
        let _ = d.render("fuzz.tl");
    }
    if report.has_errors() {
        return;
    }
    let printed = print_schema(&report.schema);
    let again = check(&printed);
    let errors: Vec<String> = again.errors().map(|d| d.render("printed.tl")).collect();
    assert!(
        errors.is_empty(),
        "a schema without errors prints to text with errors:\n{}\n--- source\n{source}\n--- printed\n{printed}",
        errors.join("\n")
    );
    assert_eq!(
        print_schema(&again.schema),
        printed,
        "printing is not stable:\n--- source\n{source}"
    );
}

fn check_span(source: &str, span: &Span, message: &str) {
    assert!(
        span.start <= span.end && span.end <= source.len(),
        "span {span:?} outside the source ({} bytes): {message}",
        source.len()
    );
    assert!(
        source.is_char_boundary(span.start) && source.is_char_boundary(span.end),
        "span {span:?} splits a character: {message}"
    );
    let before = &source[..span.start];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    assert_eq!(
        (span.line, span.col),
        (line, col),
        "span {span:?} has the wrong line and column: {message}"
    );
}
