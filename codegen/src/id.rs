//! Constructor ids: the CRC32 of a declaration's normalized text.
//!
//! The rule (PROTOCOL.md section 2) reproduces every declared id of the layers we have seen:
//! the declaration without `#id` and `;`, single-spaced; `bytes` written as `string` when it is the
//! whole type of an argument; `<` as a space and `>`, `{`, `}` dropped; `flagsK.N?true` arguments
//! removed; then the IEEE CRC32 of the ASCII bytes.

use crate::model::{BuiltinBody, Definition, ParamType, Type};

/// Declarations whose declared id does not follow the rule, accepted and reported as such.
///
/// `ipPortSecret` hashes `secret:bytes` without the `bytes` to `string` step; `accessPointRule` and
/// `help.configSimple` match no variant we know; `msg_container` hashes `%Message` as `message`.
pub const KNOWN_EXCEPTIONS: &[(&str, u32)] = &[
    ("ipPortSecret", 0x3798_2646),
    ("accessPointRule", 0x4679_b65f),
    ("help.configSimple", 0x5a59_2a6c),
    ("msg_container", 0x73f1_f8dc),
];

/// Whether `name#id` is one of the [`KNOWN_EXCEPTIONS`].
pub fn is_known_exception(full_name: &str, id: u32) -> bool {
    KNOWN_EXCEPTIONS
        .iter()
        .any(|&(n, i)| n == full_name && i == id)
}

/// The id the CRC32 rule gives for `def`.
pub fn compute_id(def: &Definition) -> u32 {
    crc32fast::hash(normalized(def).as_bytes())
}

/// The normalized text the id is the CRC32 of, e.g. `auth.sendCode phone_number:string ... = auth.SentCode`.
pub fn normalized(def: &Definition) -> String {
    let mut out = def.full_name();
    for tp in &def.type_params {
        out.push(' ');
        out.push_str(&tp.name);
        out.push(':');
        push_type(&mut out, &tp.kind);
    }
    match &def.builtin {
        None => {}
        Some(BuiltinBody::Opaque) => out.push_str(" ?"),
        Some(BuiltinBody::Counted(t)) => {
            out.push_str(" # [ ");
            out.push_str(t);
            out.push_str(" ]");
        }
        Some(BuiltinBody::Repeated(n, t)) => {
            out.push_str(&format!(" {n}*[ {t} ]"));
        }
    }
    for param in &def.params {
        match &param.ty {
            ParamType::Flags => {
                out.push(' ');
                out.push_str(&param.name);
                out.push_str(":#");
            }
            ParamType::Normal { ty, flag } => {
                if let Some(flag) = flag {
                    if ty.is_true_flag() && is_flags_word(&flag.field) {
                        continue;
                    }
                }
                out.push(' ');
                out.push_str(&param.name);
                out.push(':');
                if let Some(flag) = flag {
                    out.push_str(&format!("{}.{}?", flag.field, flag.bit));
                }
                if is_plain_bytes(ty) {
                    out.push_str("string");
                } else {
                    push_type(&mut out, ty);
                }
            }
        }
    }
    out.push_str(" = ");
    push_type(&mut out, &def.result);
    for arg in &def.result_args {
        out.push(' ');
        out.push_str(arg);
    }
    out
}

/// `flags`, or `flags` followed by one digit (`flags2`).
fn is_flags_word(name: &str) -> bool {
    match name.strip_prefix("flags") {
        Some("") => true,
        Some(rest) => rest.len() == 1 && rest.as_bytes()[0].is_ascii_digit(),
        None => false,
    }
}

fn is_plain_bytes(ty: &Type) -> bool {
    ty.name == "bytes"
        && ty.namespace.is_none()
        && !ty.percent
        && !ty.generic_ref
        && ty.arg.is_none()
}

/// Writes a type with `<` as a space and `>` dropped.
fn push_type(out: &mut String, ty: &Type) {
    if ty.generic_ref {
        out.push('!');
    }
    if ty.percent {
        out.push('%');
    }
    out.push_str(&ty.full_name());
    if let Some(arg) = &ty.arg {
        out.push(' ');
        push_type(out, arg);
    }
}
