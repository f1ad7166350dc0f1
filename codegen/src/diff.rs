//! What a schema update changes, definition by definition: the report a maintainer reads before
//! regenerating bindings.

use std::collections::HashMap;
use std::fmt;

use crate::model::{Category, Definition, ParamType, Schema};

/// One changed definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Only in the new schema.
    Added {
        /// `type` or `function`.
        category: Category,
        /// Full name.
        name: String,
        /// Its id.
        id: u32,
    },
    /// Only in the old schema.
    Removed {
        /// `type` or `function`.
        category: Category,
        /// Full name.
        name: String,
        /// Its id.
        id: u32,
    },
    /// In both, but different.
    Changed {
        /// `type` or `function`.
        category: Category,
        /// Full name.
        name: String,
        /// Old and new id, when the id changed.
        id: Option<(u32, u32)>,
        /// Arguments only in the new definition (`name:type`).
        params_added: Vec<String>,
        /// Arguments only in the old definition.
        params_removed: Vec<String>,
        /// Arguments whose type changed: `name: old -> new`.
        params_retyped: Vec<String>,
        /// Old and new result type, when it changed.
        result: Option<(String, String)>,
    },
}

/// A schema diff: the changes in order (removed and changed in old-file order, then added).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SchemaDiff {
    /// Every change.
    pub changes: Vec<Change>,
    /// Definitions present and identical in both.
    pub unchanged: usize,
}

/// Compares `old` with `new`, matching definitions by category and full name.
pub fn diff(old: &Schema, new: &Schema) -> SchemaDiff {
    let key = |d: &Definition| (d.category, d.full_name());
    let new_by_name: HashMap<_, &Definition> =
        new.definitions.iter().map(|d| (key(d), d)).collect();
    let old_by_name: HashMap<_, &Definition> =
        old.definitions.iter().map(|d| (key(d), d)).collect();
    let mut out = SchemaDiff::default();
    for o in &old.definitions {
        let k = key(o);
        match new_by_name.get(&k) {
            None => out.changes.push(Change::Removed {
                category: o.category,
                name: k.1,
                id: o.id,
            }),
            Some(n) => match compare(o, n) {
                Some(change) => out.changes.push(change),
                None => out.unchanged += 1,
            },
        }
    }
    for n in &new.definitions {
        let k = key(n);
        if !old_by_name.contains_key(&k) {
            out.changes.push(Change::Added {
                category: n.category,
                name: k.1,
                id: n.id,
            });
        }
    }
    out
}

fn param_text(ty: &ParamType) -> String {
    match ty {
        ParamType::Flags => "#".to_string(),
        ParamType::Normal { ty, flag: None } => ty.to_string(),
        ParamType::Normal { ty, flag: Some(f) } => format!("{}.{}?{ty}", f.field, f.bit),
    }
}

fn compare(old: &Definition, new: &Definition) -> Option<Change> {
    let old_params: Vec<(String, String)> = old
        .params
        .iter()
        .map(|p| (p.name.clone(), param_text(&p.ty)))
        .collect();
    let new_params: Vec<(String, String)> = new
        .params
        .iter()
        .map(|p| (p.name.clone(), param_text(&p.ty)))
        .collect();
    let find = |list: &[(String, String)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone())
    };
    let params_removed = old_params
        .iter()
        .filter(|(n, _)| find(&new_params, n).is_none())
        .map(|(n, t)| format!("{n}:{t}"))
        .collect();
    let params_added = new_params
        .iter()
        .filter(|(n, _)| find(&old_params, n).is_none())
        .map(|(n, t)| format!("{n}:{t}"))
        .collect();
    let params_retyped = old_params
        .iter()
        .filter_map(|(n, t)| match find(&new_params, n) {
            Some(nt) if &nt != t => Some(format!("{n}: {t} -> {nt}")),
            _ => None,
        })
        .collect();
    let old_result = old.result.to_string();
    let new_result = new.result.to_string();
    let change = Change::Changed {
        category: old.category,
        name: old.full_name(),
        id: (old.id != new.id).then_some((old.id, new.id)),
        params_added,
        params_removed,
        params_retyped,
        result: (old_result != new_result).then_some((old_result, new_result)),
    };
    match &change {
        Change::Changed {
            id: None,
            params_added,
            params_removed,
            params_retyped,
            result: None,
            ..
        } if params_added.is_empty() && params_removed.is_empty() && params_retyped.is_empty() => {
            // Same id, arguments and result; only the order could differ, which the id covers.
            None
        }
        _ => Some(change),
    }
}

fn category_word(c: Category) -> &'static str {
    match c {
        Category::Type => "constructor",
        Category::Function => "function",
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Added { category, name, id } => {
                write!(f, "added    {} {name}#{id:08x}", category_word(*category))
            }
            Change::Removed { category, name, id } => {
                write!(f, "removed  {} {name}#{id:08x}", category_word(*category))
            }
            Change::Changed {
                category,
                name,
                id,
                params_added,
                params_removed,
                params_retyped,
                result,
            } => {
                write!(f, "changed  {} {name}:", category_word(*category))?;
                let mut parts = Vec::new();
                if let Some((o, n)) = id {
                    parts.push(format!("id {o:08x} -> {n:08x}"));
                }
                if !params_removed.is_empty() {
                    parts.push(format!("params removed {}", params_removed.join(", ")));
                }
                if !params_added.is_empty() {
                    parts.push(format!("params added {}", params_added.join(", ")));
                }
                if !params_retyped.is_empty() {
                    parts.push(format!("params retyped {}", params_retyped.join(", ")));
                }
                if let Some((o, n)) = result {
                    parts.push(format!("result {o} -> {n}"));
                }
                write!(f, " {}", parts.join("; "))
            }
        }
    }
}

impl fmt::Display for SchemaDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut added, mut removed, mut changed, mut id_changed) = (0, 0, 0, 0);
        for c in &self.changes {
            writeln!(f, "{c}")?;
            match c {
                Change::Added { .. } => added += 1,
                Change::Removed { .. } => removed += 1,
                Change::Changed { id, .. } => {
                    changed += 1;
                    if id.is_some() {
                        id_changed += 1;
                    }
                }
            }
        }
        write!(
            f,
            "summary: {added} added, {removed} removed, {changed} changed ({id_changed} with a new id), {} unchanged",
            self.unchanged
        )
    }
}
