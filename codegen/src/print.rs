//! Writing a [`Schema`] back as TL text that parses to the same model.

use std::fmt::Write;

use crate::model::{BuiltinBody, Category, Definition, IdOrigin, Param, ParamType, Schema};

/// The TL text of a whole schema: `// LAYER N` (when known), then the definitions in order, with a
/// section marker wherever the category changes.
pub fn print_schema(schema: &Schema) -> String {
    let mut out = String::new();
    if let Some(layer) = schema.layer {
        let _ = writeln!(out, "// LAYER {layer}\n");
    }
    let mut category = Category::Type;
    for def in &schema.definitions {
        if def.category != category {
            category = def.category;
            out.push_str(match category {
                Category::Function => "\n---functions---\n\n",
                Category::Type => "\n---types---\n\n",
            });
        }
        out.push_str(&print_definition(def));
        out.push('\n');
    }
    out
}

/// One declaration, `;` included: `ns.name#id {X:Type} arg:type ... = Result;`.
///
/// Declared ids are written with 8 hex digits; inferred ids are left out, as they were.
pub fn print_definition(def: &Definition) -> String {
    let mut out = def.full_name();
    if def.id_origin == IdOrigin::Declared {
        let _ = write!(out, "#{:08x}", def.id);
    }
    for tp in &def.type_params {
        let _ = write!(out, " {{{}:{}}}", tp.name, tp.kind);
    }
    match &def.builtin {
        None => {}
        Some(BuiltinBody::Opaque) => out.push_str(" ?"),
        Some(BuiltinBody::Counted(t)) => {
            let _ = write!(out, " # [ {t} ]");
        }
        Some(BuiltinBody::Repeated(n, t)) => {
            let _ = write!(out, " {n}*[ {t} ]");
        }
    }
    for param in &def.params {
        out.push(' ');
        out.push_str(&print_param(param));
    }
    let _ = write!(out, " = {}", def.result);
    for arg in &def.result_args {
        let _ = write!(out, " {arg}");
    }
    out.push(';');
    out
}

/// One argument: `name:Type`, `name:#` or `name:flags.N?Type`.
pub fn print_param(param: &Param) -> String {
    match &param.ty {
        ParamType::Flags => format!("{}:#", param.name),
        ParamType::Normal { ty, flag: None } => format!("{}:{ty}", param.name),
        ParamType::Normal {
            ty,
            flag: Some(flag),
        } => format!("{}:{}.{}?{ty}", param.name, flag.field, flag.bit),
    }
}
