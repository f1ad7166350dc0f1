//! Semantic checks of a parsed schema: constructor ids, type references, flag conditions and
//! duplicates. Every problem is reported, not just the first.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Severity};
use crate::id;
use crate::model::{Category, Definition, IdOrigin, ParamType, Schema, Type};

/// Type names every schema may use without declaring them.
pub const BUILTIN_TYPES: &[&str] = &[
    "int", "long", "double", "string", "bytes", "int128", "int256", "true", "Int", "Long",
    "Double", "String", "Bytes", "Int128", "Int256", "Bool", "True", "Vector", "vector", "Object",
    "Type",
];

/// Counts of what a schema holds and how its ids checked out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Constructors of data types (built-in pseudo declarations not counted).
    pub constructors: usize,
    /// Functions.
    pub functions: usize,
    /// Definitions with a declared `#id`.
    pub declared_ids: usize,
    /// Declared ids equal to the CRC32 rule's.
    pub verified_ids: usize,
    /// Definitions whose id was inferred.
    pub inferred_ids: usize,
    /// Known exceptions met (`name#id`), accepted with a note.
    pub exceptions: Vec<String>,
}

/// Runs every check on `schema` (parsed from `source`); returns the diagnostics in source order
/// (errors and notes) and the statistics.
pub fn validate(schema: &Schema, source: &str) -> (Vec<Diagnostic>, Stats) {
    let mut out = Vec::new();
    let mut stats = Stats::default();
    check_ids(schema, source, &mut out, &mut stats);
    check_duplicates(schema, source, &mut out);
    check_types(schema, source, &mut out);
    check_params(schema, source, &mut out);
    for def in &schema.definitions {
        match def.category {
            Category::Function => stats.functions += 1,
            Category::Type if !def.is_builtin() => stats.constructors += 1,
            Category::Type => {}
        }
    }
    out.sort_by_key(|d| d.span.start);
    (out, stats)
}

fn check_ids(schema: &Schema, source: &str, out: &mut Vec<Diagnostic>, stats: &mut Stats) {
    for def in &schema.definitions {
        if def.id_origin == IdOrigin::Inferred {
            stats.inferred_ids += 1;
            continue;
        }
        stats.declared_ids += 1;
        let computed = id::compute_id(def);
        if computed == def.id {
            stats.verified_ids += 1;
            continue;
        }
        let name = def.full_name();
        if id::is_known_exception(&name, def.id) {
            stats.exceptions.push(format!("{name}#{:08x}", def.id));
            out.push(Diagnostic::new(
                Severity::Note,
                format!(
                    "`{name}` declares id {:#010x}, the CRC32 rule gives {computed:#010x}: a known exception, accepted",
                    def.id
                ),
                def.id_span,
                source,
            ));
        } else {
            out.push(Diagnostic::error(
                format!(
                    "`{name}` declares id {:#010x} but its declaration hashes to {computed:#010x} (`{}`)",
                    def.id,
                    id::normalized(def)
                ),
                def.id_span,
                source,
            ));
        }
    }
}

fn check_duplicates(schema: &Schema, source: &str, out: &mut Vec<Diagnostic>) {
    let mut names: HashMap<(Category, String), &Definition> = HashMap::new();
    let mut ids: HashMap<u32, &Definition> = HashMap::new();
    for def in &schema.definitions {
        let name = def.full_name();
        if let Some(first) = names.insert((def.category, name.clone()), def) {
            out.push(Diagnostic::error(
                format!(
                    "`{name}` is declared twice (first at line {})",
                    first.span.line
                ),
                def.span,
                source,
            ));
        }
        if def.is_builtin() && def.id_origin == IdOrigin::Inferred {
            continue;
        }
        if let Some(first) = ids.insert(def.id, def) {
            out.push(Diagnostic::error(
                format!(
                    "id {:#010x} of `{name}` is already used by `{}` (line {})",
                    def.id,
                    first.full_name(),
                    first.span.line
                ),
                def.id_span,
                source,
            ));
        }
    }
}

/// The names a type reference may resolve to.
struct Known {
    boxed: HashSet<String>,
    bare: HashSet<String>,
}

fn check_types(schema: &Schema, source: &str, out: &mut Vec<Diagnostic>) {
    let mut known = Known {
        boxed: HashSet::new(),
        bare: HashSet::new(),
    };
    for def in &schema.definitions {
        if def.category == Category::Type {
            known.boxed.insert(def.result.full_name());
            known.bare.insert(def.full_name());
        }
    }
    for def in &schema.definitions {
        let type_vars: HashSet<&str> = def
            .type_params
            .iter()
            .map(|t| t.name.as_str())
            .chain(def.result_args.iter().map(String::as_str))
            .collect();
        for param in &def.params {
            if let ParamType::Normal { ty, .. } = &param.ty {
                check_type_ref(ty, &type_vars, &known, source, out);
            }
        }
        if def.category == Category::Function {
            check_type_ref(&def.result, &type_vars, &known, source, out);
        }
    }
}

fn check_type_ref(
    ty: &Type,
    type_vars: &HashSet<&str>,
    known: &Known,
    source: &str,
    out: &mut Vec<Diagnostic>,
) {
    let name = ty.full_name();
    if ty.generic_ref {
        if !type_vars.contains(name.as_str()) {
            out.push(Diagnostic::error(
                format!("`!{name}` refers to no type parameter: declare `{{{name}:Type}}`"),
                ty.span,
                source,
            ));
        }
        return;
    }
    let defined = type_vars.contains(name.as_str())
        || BUILTIN_TYPES.contains(&name.as_str())
        || if ty.percent {
            known.boxed.contains(&name)
        } else if ty.is_bare() {
            known.bare.contains(&name)
        } else {
            known.boxed.contains(&name)
        };
    if !defined {
        let what = if ty.is_bare() && !ty.percent {
            "constructor"
        } else {
            "type"
        };
        out.push(Diagnostic::error(
            format!("undefined {what} `{name}`"),
            ty.span,
            source,
        ));
    }
    if let Some(arg) = &ty.arg {
        check_type_ref(arg, type_vars, known, source, out);
    }
}

fn check_params(schema: &Schema, source: &str, out: &mut Vec<Diagnostic>) {
    for def in &schema.definitions {
        let mut seen: HashMap<&str, &ParamType> = HashMap::new();
        for param in &def.params {
            if let ParamType::Normal {
                flag: Some(flag), ..
            } = &param.ty
            {
                match seen.get(flag.field.as_str()) {
                    Some(ParamType::Flags) => {}
                    Some(_) => out.push(Diagnostic::error(
                        format!(
                            "condition `{}.{}?` of `{}` refers to `{}`, which is not a `#` argument",
                            flag.field, flag.bit, param.name, flag.field
                        ),
                        param.span,
                        source,
                    )),
                    None => out.push(Diagnostic::error(
                        format!(
                            "condition `{}.{}?` of `{}` refers to no earlier `#` argument named `{}`",
                            flag.field, flag.bit, param.name, flag.field
                        ),
                        param.span,
                        source,
                    )),
                }
                if flag.bit > 31 {
                    out.push(Diagnostic::error(
                        format!(
                            "flag bit {} of `{}` is out of range (0 to 31)",
                            flag.bit, param.name
                        ),
                        param.span,
                        source,
                    ));
                }
            }
            if seen.insert(param.name.as_str(), &param.ty).is_some() {
                out.push(Diagnostic::error(
                    format!(
                        "argument `{}` appears twice in `{}`",
                        param.name,
                        def.full_name()
                    ),
                    param.span,
                    source,
                ));
            }
        }
    }
}
