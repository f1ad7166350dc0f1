//! Rust names for TL names: case conversion, keyword escaping, enum variant names.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Rust keywords (strict and reserved) that TL names may collide with.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "static", "struct", "super", "trait", "true", "try", "type", "typeof", "unsafe",
    "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that cannot be raw identifiers and get a trailing underscore instead.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super"];

/// An identifier for `name`, escaped as `r#name` (or `name_`) when it is a keyword.
pub fn ident(name: &str) -> Ident {
    if NOT_RAW.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// `sentCode` → `SentCode`, `p_q_inner_data` → `PQInnerData`.
pub fn type_name(tl: &str) -> String {
    let camel = tl.to_upper_camel_case();
    if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("T{camel}")
    } else {
        camel
    }
}

/// `phone_code_hash` stays, `firstName` → `first_name`; keywords are escaped by [`ident`].
pub fn field_name(tl: &str) -> String {
    let snake = tl.to_snake_case();
    if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("f{snake}")
    } else {
        snake
    }
}

/// `auth` → `auth` (namespaces become snake_case module names).
pub fn module_name(ns: &str) -> String {
    field_name(ns)
}

/// The variant of constructor `ctor` inside the enum of boxed type `ty`: the constructor's name
/// without the type's name as prefix when that leaves a valid, non-empty name
/// (`inputPeerEmpty` in `InputPeer` → `Empty`), else the whole constructor name.
pub fn variant_name(ctor: &str, ty: &str) -> String {
    let full = type_name(ctor);
    let prefix = type_name(ty);
    match full.strip_prefix(&prefix) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_uppercase()) => rest.to_string(),
        _ => full,
    }
}
