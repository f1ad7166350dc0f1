//! Which definitions a binding contains: the selected functions and types plus the transitive
//! closure of the types they use.

use std::collections::{BTreeSet, HashMap};

use crate::model::{Category, Definition, ParamType, Schema, Type};

/// What to generate from a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// Every definition.
    All,
    /// The named functions and types (and what they use).
    ///
    /// A pattern is an exact TL name (`help.getConfig`, `auth.SentCode`) or a namespace
    /// wildcard (`auth.*`). Function patterns match function names; type patterns match
    /// constructor names and boxed type names.
    Only {
        /// Function patterns.
        functions: Vec<String>,
        /// Type patterns.
        types: Vec<String>,
    },
}

/// Whether `name` matches `pattern` (exact, or `ns.*`).
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(ns) => name
            .rsplit_once('.')
            .is_some_and(|(name_ns, _)| name_ns == ns),
        None => pattern == name,
    }
}

/// Types the runtime maps to Rust primitives: their constructors are never generated.
pub const PRIMITIVE_TYPES: &[&str] = &["Bool", "True", "Vector"];

/// Whether `def` is generated at all (built-ins and primitive-mapped constructors are not).
pub fn is_generatable(def: &Definition) -> bool {
    let primitive = def.category == Category::Type
        && PRIMITIVE_TYPES.contains(&def.result.full_name().as_str());
    !def.is_builtin() && !primitive
}

/// Indices into `schema.definitions` of what `selection` generates, in schema order.
///
/// Fails with the patterns that matched nothing, so a typo in the selection is not silent.
pub fn select(schema: &Schema, selection: &Selection) -> Result<Vec<usize>, Vec<String>> {
    let defs = &schema.definitions;
    let candidates: Vec<usize> = (0..defs.len())
        .filter(|&i| is_generatable(&defs[i]))
        .collect();
    let (functions, types) = match selection {
        Selection::All => return Ok(candidates),
        Selection::Only { functions, types } => (functions, types),
    };
    let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_ctor: HashMap<String, usize> = HashMap::new();
    for &i in &candidates {
        if defs[i].category == Category::Type {
            by_type
                .entry(defs[i].result.full_name())
                .or_default()
                .push(i);
            by_ctor.insert(defs[i].full_name(), i);
        }
    }
    let mut chosen = BTreeSet::new();
    let mut work = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in functions {
        let hits: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                defs[i].category == Category::Function && matches(pattern, &defs[i].full_name())
            })
            .collect();
        if hits.is_empty() {
            unmatched.push(format!("function {pattern}"));
        }
        work.extend(hits);
    }
    for pattern in types {
        let hits: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| {
                defs[i].category == Category::Type
                    && (matches(pattern, &defs[i].full_name())
                        || matches(pattern, &defs[i].result.full_name()))
            })
            .collect();
        if hits.is_empty() {
            unmatched.push(format!("type {pattern}"));
        }
        work.extend(hits);
    }
    if !unmatched.is_empty() {
        return Err(unmatched);
    }
    while let Some(i) = work.pop() {
        if !chosen.insert(i) {
            continue;
        }
        let def = &defs[i];
        let mut refs = Vec::new();
        for p in &def.params {
            if let ParamType::Normal { ty, .. } = &p.ty {
                collect_refs(ty, &mut refs);
            }
        }
        if def.category == Category::Function {
            collect_refs(&def.result, &mut refs);
        }
        for r in refs {
            if let Some(ctors) = by_type.get(&r) {
                work.extend(ctors.iter().copied());
            }
            if let Some(&c) = by_ctor.get(&r) {
                work.push(c);
            }
        }
    }
    Ok(chosen.into_iter().collect())
}

fn collect_refs(ty: &Type, out: &mut Vec<String>) {
    if !ty.generic_ref {
        out.push(ty.full_name());
    }
    if let Some(arg) = &ty.arg {
        collect_refs(arg, out);
    }
}
