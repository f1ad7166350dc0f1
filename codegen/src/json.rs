//! Telegram's JSON schema form (`{"constructors": [...], "methods": [...]}`) to TL text.
//!
//! The JSON form drops two things that the TL form has and the constructor ids hash: the type
//! parameter `{X:Type}` of generic functions (restored whenever an argument is `!X`) and the
//! built-in body of `vector` (restored as `vector#1cb5c415 {t:Type} # [ t ] = Vector t;`).

use std::fmt::Write;

use serde_json::Value;

/// Why a JSON schema could not be converted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportError {
    /// The input is not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// A required field is missing or has the wrong JSON type.
    #[error("{section}[{index}]: field `{field}` is missing or not a {expected}")]
    Field {
        /// `constructors` or `methods`.
        section: &'static str,
        /// Index of the entry.
        index: usize,
        /// The field.
        field: &'static str,
        /// What JSON type it should be.
        expected: &'static str,
    },
    /// An id is not a 32-bit integer written as a decimal string.
    #[error("{section}[{index}]: id `{id}` is not a 32-bit decimal integer")]
    BadId {
        /// `constructors` or `methods`.
        section: &'static str,
        /// Index of the entry.
        index: usize,
        /// The id as found.
        id: String,
    },
}

/// Converts Telegram's JSON schema to TL text; `layer`, when given, becomes a `// LAYER N` line.
pub fn json_to_tl(json: &str, layer: Option<u32>) -> Result<String, ImportError> {
    let root: Value = serde_json::from_str(json).map_err(|e| ImportError::Json(e.to_string()))?;
    let mut out = String::new();
    if let Some(layer) = layer {
        let _ = writeln!(out, "// LAYER {layer}\n");
    }
    convert_section(&root, "constructors", "predicate", &mut out)?;
    out.push_str("\n---functions---\n\n");
    convert_section(&root, "methods", "method", &mut out)?;
    Ok(out)
}

fn convert_section(
    root: &Value,
    section: &'static str,
    name_field: &'static str,
    out: &mut String,
) -> Result<(), ImportError> {
    let entries = root
        .get(section)
        .and_then(Value::as_array)
        .ok_or(ImportError::Field {
            section,
            index: 0,
            field: section,
            expected: "array",
        })?;
    for (index, entry) in entries.iter().enumerate() {
        let text_field = |field: &'static str| {
            entry
                .get(field)
                .and_then(Value::as_str)
                .ok_or(ImportError::Field {
                    section,
                    index,
                    field,
                    expected: "string",
                })
        };
        let name = text_field(name_field)?;
        let id_text = text_field("id")?;
        let id = parse_id(id_text).ok_or_else(|| ImportError::BadId {
            section,
            index,
            id: id_text.to_string(),
        })?;
        let result = text_field("type")?;
        let params = entry
            .get("params")
            .and_then(Value::as_array)
            .ok_or(ImportError::Field {
                section,
                index,
                field: "params",
                expected: "array",
            })?;
        let mut args = String::new();
        let mut generic = None;
        for param in params {
            let field = |f: &'static str| {
                param
                    .get(f)
                    .and_then(Value::as_str)
                    .ok_or(ImportError::Field {
                        section,
                        index,
                        field: "params",
                        expected: "list of {name, type}",
                    })
            };
            let (pname, ptype) = (field("name")?, field("type")?);
            if let Some(var) = ptype.strip_prefix('!') {
                generic.get_or_insert(var.to_string());
            }
            let _ = write!(args, " {pname}:{ptype}");
        }
        let _ = write!(out, "{name}#{id:08x}");
        if let Some(var) = generic {
            let _ = write!(out, " {{{var}:Type}}");
        }
        if let Some(var) = result.strip_prefix("Vector ").filter(|_| params.is_empty()) {
            // The built-in vector constructor: its JSON form lost `{t:Type} # [ t ]`.
            let _ = write!(out, " {{{var}:Type}} # [ {var} ]");
        }
        let _ = writeln!(out, "{args} = {result};");
    }
    Ok(())
}

fn parse_id(text: &str) -> Option<u32> {
    let n: i64 = text.trim().parse().ok()?;
    if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&n) {
        Some(n as u32)
    } else {
        None
    }
}
