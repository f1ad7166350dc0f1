//! Byte-exactness of the generated TL bindings against independent implementations, from
//! committed vectors (no Python needed, except in the two freshness tests):
//!
//! - `tests/vectors/telethon_api.json` (`tests/py/codegen_telethon_vectors.py`): every generated
//!   layer-230 `api` definition that Telethon 1.45 (layer 229) knows, serialized by Telethon;
//! - `tests/vectors/legacy_layer23.json` (`tests/py/codegen_legacy_vectors.py`): every generated
//!   layer-23 definition, serialized by a small encoder reading Telegram's JSON schema.
//!
//! For each vector the bytes are decoded with our type (constructors through their boxed
//! enum, since the vectors are boxed; functions through the function struct), re-serialized and
//! compared byte for byte, and the decoded value is compared field by field with the vector's
//! field values: our `{:?}` output is parsed (`debug_tree`) and walked along the schema
//! definition, matching each field by name, in order, with its type (int, long, double,
//! string, bytes, Bool, vectors, optional fields, nested constructors and their enum
//! variants). Within a vector all ints, strings and bytes are distinct, so two swapped fields
//! of one type fail. Fields our `Debug` redacts are read through the typed field instead
//! ([`secret_field`]). So each vector proves: our serialization of those field values equals
//! the reference bytes, and our decoding of the reference bytes yields those field values.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use auth_api::{DecodeError, Deserialize, Identifiable, Serialize};
use project_tests::tl_random::debug_tree::{self, Node};
use project_tests::tl_random::{kind, Generated, Kind};
use serde_json::Value;
use tl_codegen::emit::names;
use tl_codegen::{Definition, ParamType, Type};

/// A decoded vector: our re-serialization and our `{:?}`.
struct Decoded {
    bytes: Vec<u8>,
    debug: String,
}

type Decode = fn(&[u8]) -> Result<Decoded, DecodeError>;

/// One decoder per table row: `(kind, TL name) -> decode`.
macro_rules! decoders {
    ($root:tt; $( ($kind:ident, $name:literal, $($p:ident)::+ $(, $($g:ident)::+)?) ),* $(,)?) => {{
        let rows: Vec<(&'static str, &'static str, Decode)> =
            vec![$( (stringify!($kind), $name, decoder!($root, $kind, $($p)::+)) ),*];
        rows
    }};
}

macro_rules! decoder {
    ([$($root:ident)::+], gfunc, $($p:ident)::+) => {
        |b: &[u8]| {
            // `!X` fields hold `auth.sendCode` (the vectors' scripts use the same request).
            let v = <$($root)::+::$($p)::+<$($root)::+::functions::auth::SendCode> as Deserialize>::from_bytes(b)?;
            Ok(Decoded { bytes: v.to_bytes(), debug: format!("{v:?}") })
        }
    };
    ([$($root:ident)::+], $kind:ident, $($p:ident)::+) => {
        |b: &[u8]| {
            let v = <$($root)::+::$($p)::+ as Deserialize>::from_bytes(b)?;
            Ok(Decoded { bytes: v.to_bytes(), debug: format!("{v:?}") })
        }
    };
}

macro_rules! api_rows {
    ($($row:tt),* $(,)?) => { decoders!([auth_api]; $($row),*) };
}
macro_rules! layer23_rows {
    ($($row:tt),* $(,)?) => { decoders!([auth_api::legacy::layer23]; $($row),*) };
}

/// `(kind, TL name) -> decoder` for a table (`kind`: ctor, ty, func, gfunc).
fn decoder_map(
    rows: Vec<(&'static str, &'static str, Decode)>,
) -> HashMap<(String, String), Decode> {
    let mut map = HashMap::new();
    for (kind, name, decode) in rows {
        let kind = if kind == "gfunc" { "func" } else { kind };
        assert!(
            map.insert((kind.to_string(), name.to_string()), decode)
                .is_none(),
            "{name} twice"
        );
    }
    map
}

/// The value of a field our `Debug` redacts, read through the typed field, as `{:?}`.
/// `bytes` is the whole vector (boxed). `None`: no such secret field.
fn secret_field(module: &str, name: &str, field: &str, b: &[u8]) -> Option<String> {
    use auth_api::legacy::layer23 as l23;
    use auth_api::{functions as f, types as t};
    fn bare(b: &[u8]) -> &[u8] {
        &b[4..]
    }
    let d = |r: Result<String, DecodeError>| r.ok();
    match (module, name, field) {
        ("api", "auth.signIn", "phone_code") => {
            d(f::auth::SignIn::from_bytes(b).map(|v| format!("{:?}", v.phone_code)))
        }
        ("api", "auth.checkRecoveryPassword", "code") => {
            d(f::auth::CheckRecoveryPassword::from_bytes(b).map(|v| format!("{:?}", v.code)))
        }
        ("api", "auth.recoverPassword", "code") => {
            d(f::auth::RecoverPassword::from_bytes(b).map(|v| format!("{:?}", v.code)))
        }
        ("api", "auth.importAuthorization", "bytes") => {
            d(f::auth::ImportAuthorization::from_bytes(b).map(|v| format!("{:?}", v.bytes)))
        }
        ("api", "auth.importLoginToken", "token") => {
            d(f::auth::ImportLoginToken::from_bytes(b).map(|v| format!("{:?}", v.token)))
        }
        ("api", "auth.acceptLoginToken", "token") => {
            d(f::auth::AcceptLoginToken::from_bytes(b).map(|v| format!("{:?}", v.token)))
        }
        ("api", "auth.importBotAuthorization", "bot_auth_token") => {
            d(f::auth::ImportBotAuthorization::from_bytes(b)
                .map(|v| format!("{:?}", v.bot_auth_token)))
        }
        ("api", "auth.importWebTokenAuthorization", "web_auth_token") => {
            d(f::auth::ImportWebTokenAuthorization::from_bytes(b)
                .map(|v| format!("{:?}", v.web_auth_token)))
        }
        ("api", "auth.bindTempAuthKey", "encrypted_message") => d(
            f::auth::BindTempAuthKey::from_bytes(b).map(|v| format!("{:?}", v.encrypted_message)),
        ),
        ("api", "emailVerificationCode", "code") => {
            d(t::EmailVerificationCode::from_bytes(bare(b)).map(|v| format!("{:?}", v.code)))
        }
        ("api", "inputCheckPasswordSRP", "A") => {
            d(t::InputCheckPasswordSrp::from_bytes(bare(b)).map(|v| format!("{:?}", v.a)))
        }
        ("api", "inputCheckPasswordSRP", "M1") => {
            d(t::InputCheckPasswordSrp::from_bytes(bare(b)).map(|v| format!("{:?}", v.m1)))
        }
        ("api", "codeSettings", "token") => {
            d(t::CodeSettings::from_bytes(bare(b)).map(|v| format!("{:?}", v.token)))
        }
        ("api", "emailVerificationGoogle", "token") => {
            d(t::EmailVerificationGoogle::from_bytes(bare(b)).map(|v| format!("{:?}", v.token)))
        }
        ("api", "emailVerificationApple", "token") => {
            d(t::EmailVerificationApple::from_bytes(bare(b)).map(|v| format!("{:?}", v.token)))
        }
        ("api", "account.passwordInputSettings", "new_password_hash") => {
            d(t::account::PasswordInputSettings::from_bytes(bare(b))
                .map(|v| format!("{:?}", v.new_password_hash)))
        }
        ("api", "secureSecretSettings", "secure_secret") => {
            d(t::SecureSecretSettings::from_bytes(bare(b))
                .map(|v| format!("{:?}", v.secure_secret)))
        }
        ("api", "auth.loggedOut", "future_auth_token") => d(t::auth::LoggedOut::from_bytes(bare(
            b,
        ))
        .map(|v| format!("{:?}", v.future_auth_token))),
        ("api", "auth.cancelWebTokenAuthorization", "web_auth_token") => {
            d(f::auth::CancelWebTokenAuthorization::from_bytes(b)
                .map(|v| format!("{:?}", v.web_auth_token)))
        }
        ("api", "auth.finishFirebasePnvLogin", "google_token") => {
            d(f::auth::FinishFirebasePnvLogin::from_bytes(b)
                .map(|v| format!("{:?}", v.google_token)))
        }
        ("api", "auth.requestFirebaseSms", "safety_net_token") => {
            d(f::auth::RequestFirebaseSms::from_bytes(b)
                .map(|v| format!("{:?}", v.safety_net_token)))
        }
        ("api", "auth.requestFirebaseSms", "play_integrity_token") => {
            d(f::auth::RequestFirebaseSms::from_bytes(b)
                .map(|v| format!("{:?}", v.play_integrity_token)))
        }
        ("api", "auth.requestFirebaseSms", "ios_push_secret") => {
            d(f::auth::RequestFirebaseSms::from_bytes(b)
                .map(|v| format!("{:?}", v.ios_push_secret)))
        }
        ("api", "config", "autologin_token") => {
            d(t::Config::from_bytes(bare(b)).map(|v| format!("{:?}", v.autologin_token)))
        }
        ("api", "dcOption", "secret") => {
            d(t::DcOption::from_bytes(bare(b)).map(|v| format!("{:?}", v.secret)))
        }
        ("api", "codeSettings", "logout_tokens") => {
            d(t::CodeSettings::from_bytes(bare(b)).map(|v| format!("{:?}", v.logout_tokens)))
        }
        ("api", "auth.authorization", "future_auth_token") => {
            d(t::auth::Authorization::from_bytes(bare(b))
                .map(|v| format!("{:?}", v.future_auth_token)))
        }
        ("api", "auth.exportedAuthorization", "bytes") => d(
            t::auth::ExportedAuthorization::from_bytes(bare(b)).map(|v| format!("{:?}", v.bytes)),
        ),
        ("api", "auth.loginToken", "token") => {
            d(t::auth::LoginToken::from_bytes(bare(b)).map(|v| format!("{:?}", v.token)))
        }
        ("api", "auth.loginTokenMigrateTo", "token") => {
            d(t::auth::LoginTokenMigrateTo::from_bytes(bare(b)).map(|v| format!("{:?}", v.token)))
        }
        ("legacy_layer23", "auth.signIn", "phone_code") => {
            d(l23::functions::auth::SignIn::from_bytes(b).map(|v| format!("{:?}", v.phone_code)))
        }
        ("legacy_layer23", "auth.signUp", "phone_code") => {
            d(l23::functions::auth::SignUp::from_bytes(b).map(|v| format!("{:?}", v.phone_code)))
        }
        ("legacy_layer23", "auth.importAuthorization", "bytes") => {
            d(l23::functions::auth::ImportAuthorization::from_bytes(b)
                .map(|v| format!("{:?}", v.bytes)))
        }
        ("legacy_layer23", "auth.bindTempAuthKey", "encrypted_message") => {
            d(l23::functions::auth::BindTempAuthKey::from_bytes(b)
                .map(|v| format!("{:?}", v.encrypted_message)))
        }
        ("legacy_layer23", "auth.exportedAuthorization", "bytes") => {
            d(l23::types::auth::ExportedAuthorization::from_bytes(bare(b))
                .map(|v| format!("{:?}", v.bytes)))
        }
        _ => None,
    }
}

/// Walks a vector's field values (`json`) and our parsed `{:?}` (`node`) along the schema.
struct Checker<'a> {
    gen: &'a Generated,
    /// Paths where our `Debug` printed `<redacted>` (checked through [`secret_field`] at the
    /// top level; nested ones are pinned by the byte equality and by the top-level vectors of
    /// their constructor).
    redacted: Vec<String>,
}

fn rust_field(tl: &str) -> String {
    names::ident(&names::field_name(tl))
        .to_string()
        .trim_start_matches("r#")
        .to_string()
}

fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

impl Checker<'_> {
    fn value(&mut self, json: &Value, node: &Node, ty: &Type, path: &str) -> Result<(), String> {
        if *node == Node::Redacted {
            self.redacted.push(path.to_string());
            return Ok(());
        }
        let bad = || format!("{path}: vector has {json}, ours is {node:?} (type {ty})");
        match kind(ty) {
            Kind::Int | Kind::Long => {
                let (Some(want), Node::Num(got)) = (json.as_i64(), node) else {
                    return Err(bad());
                };
                if got.parse::<i64>() != Ok(want) {
                    return Err(bad());
                }
            }
            Kind::Double => {
                let (Some(want), Node::Num(got)) = (json.as_f64(), node) else {
                    return Err(bad());
                };
                if got.parse::<f64>().map(f64::to_bits) != Ok(want.to_bits()) {
                    return Err(bad());
                }
            }
            Kind::String => {
                if !matches!(node, Node::Str(s) if Some(s.as_str()) == json.as_str()) {
                    return Err(bad());
                }
            }
            Kind::Bytes | Kind::Int128 | Kind::Int256 => {
                let want = json["bytes"]
                    .as_str()
                    .map(hex::decode)
                    .ok_or_else(bad)?
                    .map_err(|_| bad())?;
                let Node::List(items) = node else {
                    return Err(bad());
                };
                let got: Vec<u8> = items
                    .iter()
                    .map(|n| match n {
                        Node::Num(s) => s.parse::<u8>().map_err(|_| bad()),
                        _ => Err(bad()),
                    })
                    .collect::<Result<_, _>>()?;
                if got != want {
                    return Err(bad());
                }
            }
            Kind::Bool => {
                if !matches!(node, Node::Bool(b) if Some(*b) == json.as_bool()) {
                    return Err(bad());
                }
            }
            Kind::True => return Err(format!("{path}: a `true` value outside a flag")),
            Kind::BoxedVector(t) | Kind::BareVector(t) => {
                let items = match node {
                    Node::List(items) => items,
                    Node::Tuple(n, inner) if n == "RawVec" && inner.len() == 1 => match &inner[0] {
                        Node::List(items) => items,
                        _ => return Err(bad()),
                    },
                    _ => return Err(bad()),
                };
                let want = json.as_array().ok_or_else(bad)?;
                if want.len() != items.len() {
                    return Err(bad());
                }
                for (i, (j, n)) in want.iter().zip(items).enumerate() {
                    self.value(j, n, t, &format!("{path}[{i}]"))?;
                }
            }
            Kind::Generic => {
                let name = json["_"].as_str().ok_or_else(bad)?;
                let def = self.gen.function(name).ok_or_else(bad)?;
                self.fields(json, node, def, path)?;
            }
            Kind::Bare(name) => {
                let def = self.gen.bare_constructor(&name);
                self.fields(json, node, def, path)?;
            }
            Kind::Boxed(name) => self.boxed(json, node, &name, path)?,
        }
        Ok(())
    }

    /// A boxed value: our enum variant wrapping the constructor's struct.
    fn boxed(&mut self, json: &Value, node: &Node, ty: &str, path: &str) -> Result<(), String> {
        let name = json["_"]
            .as_str()
            .ok_or_else(|| format!("{path}: no constructor name in {json}"))?;
        let def = self
            .gen
            .constructor(name)
            .ok_or_else(|| format!("{path}: {name} is not generated"))?;
        if def.result.full_name() != ty {
            return Err(format!("{path}: {name} is not a {ty}"));
        }
        let ok = [
            names::variant_name(&def.name, short(ty)),
            names::type_name(&def.name),
        ]
        .map(|v| {
            names::ident(&v)
                .to_string()
                .trim_start_matches("r#")
                .to_string()
        });
        match node {
            // A constructor with fields: `Variant(Struct { .. })`.
            Node::Tuple(variant, inner) if inner.len() == 1 && ok.contains(variant) => {
                self.fields(json, &inner[0], def, &format!("{path}<{name}>"))
            }
            // Without fields: a unit variant.
            Node::Unit(variant) if ok.contains(variant) && def.params.is_empty() => {
                if json.as_object().map(|o| o.len()) == Some(1) {
                    Ok(())
                } else {
                    Err(format!("{path}: {name} has fields in the vector"))
                }
            }
            _ => Err(format!(
                "{path}: ours is {node:?}, expected a variant {ok:?} of {ty} for {name}"
            )),
        }
    }

    /// A constructor's or function's struct, field by field in schema order.
    fn fields(
        &mut self,
        json: &Value,
        node: &Node,
        def: &Definition,
        path: &str,
    ) -> Result<(), String> {
        let want_name = names::type_name(&def.name);
        let (got_name, got_fields): (&String, &[(String, Node)]) = match node {
            Node::Struct(n, f) => (n, f),
            Node::Unit(n) => (n, &[]),
            _ => return Err(format!("{path}: ours is not a struct: {node:?}")),
        };
        if *got_name != want_name {
            return Err(format!("{path}: struct {got_name}, expected {want_name}"));
        }
        if json["_"].as_str() != Some(def.full_name().as_str()) {
            return Err(format!(
                "{path}: vector object {} is not {}",
                json["_"],
                def.full_name()
            ));
        }
        let params: Vec<_> = def
            .params
            .iter()
            .filter_map(|p| match &p.ty {
                ParamType::Normal { ty, flag } => Some((p, ty, flag.is_some())),
                ParamType::Flags => None,
            })
            .collect();
        let object = json
            .as_object()
            .ok_or_else(|| format!("{path}: not an object"))?;
        if object.len() != params.len() + 1 || got_fields.len() != params.len() {
            return Err(format!(
                "{path}: {} fields in the schema, {} in the vector, {} in ours",
                params.len(),
                object.len() - 1,
                got_fields.len()
            ));
        }
        for ((p, ty, optional), (got_field, got)) in params.into_iter().zip(got_fields) {
            let at = format!("{path}.{}", p.name);
            if *got_field != rust_field(&p.name) {
                return Err(format!("{at}: our field at this place is {got_field}"));
            }
            let want = object
                .get(&p.name)
                .ok_or_else(|| format!("{at}: not in the vector"))?;
            if *got == Node::Redacted {
                self.redacted.push(at);
                continue;
            }
            if ty.is_true_flag() {
                // `flags.N?true`: a bool on both sides.
                if !matches!(got, Node::Bool(b) if Some(*b) == want.as_bool()) {
                    return Err(format!("{at}: vector has {want}, ours is {got:?}"));
                }
            } else if !optional {
                self.value(want, got, ty, &at)?;
            } else if want.is_null() {
                if *got != Node::Unit("None".into()) {
                    return Err(format!("{at}: absent in the vector, ours is {got:?}"));
                }
            } else {
                match got {
                    Node::Tuple(s, inner) if s == "Some" && inner.len() == 1 => {
                        self.value(want, &inner[0], ty, &at)?
                    }
                    _ => return Err(format!("{at}: present in the vector, ours is {got:?}")),
                }
            }
        }
        Ok(())
    }
}

/// Checks every vector of `file` against the bindings of `module`; returns the failures and
/// the number of vectors per definition.
fn check_vectors(
    module: &str,
    file: &str,
    decoders: &HashMap<(String, String), Decode>,
) -> (Vec<String>, BTreeMap<String, BTreeSet<String>>, Value) {
    let gen = Generated::load(module);
    let path = project_tests::workspace_root().join(file);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("vectors file"))
        .expect("vectors JSON");
    let mut failures = Vec::new();
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let vectors = doc["vectors"].as_array().expect("vectors");
    assert!(!vectors.is_empty());
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let variant = v["variant"].as_str().unwrap();
        let label = format!("{name} [{variant}]");
        let bytes = hex::decode(v["hex"].as_str().unwrap()).unwrap();
        let id =
            u32::from_str_radix(v["id"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
        let function = v["kind"] == "function";
        let def = if function {
            gen.function(name)
        } else {
            gen.constructor(name)
        };
        let Some(def) = def else {
            failures.push(format!("{label}: not a generated definition"));
            continue;
        };
        if def.id != id || bytes.get(..4) != Some(&id.to_le_bytes()[..]) {
            failures.push(format!(
                "{label}: id {id:#010x} / bytes do not start with our schema's id {:#010x}",
                def.id
            ));
            continue;
        }
        let key = if function {
            ("func".to_string(), name.to_string())
        } else {
            ("ty".to_string(), def.result.full_name())
        };
        let Some(decode) = decoders.get(&key) else {
            failures.push(format!("{label}: no Rust item for {key:?}"));
            continue;
        };
        let decoded = match decode(&bytes) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{label}: our decoding fails: {e}"));
                continue;
            }
        };
        if decoded.bytes != bytes {
            failures.push(format!(
                "{label}: our re-serialization differs\n  reference {}\n  ours      {}",
                hex::encode(&bytes),
                hex::encode(&decoded.bytes)
            ));
            continue;
        }
        let node = match debug_tree::parse(&decoded.debug) {
            Ok(n) => n,
            Err(e) => {
                failures.push(format!("{label}: {e}"));
                continue;
            }
        };
        let mut checker = Checker {
            gen: &gen,
            redacted: Vec::new(),
        };
        let result = if function {
            checker.fields(&v["dict"], &node, def, name)
        } else {
            checker.boxed(&v["dict"], &node, &def.result.full_name(), "")
        };
        if let Err(e) = result {
            failures.push(format!("{label}: {e}"));
            continue;
        }
        // Secret fields: the top-level ones through the typed field.
        for at in &std::mem::take(&mut checker.redacted) {
            let field = at.rsplit('.').next().unwrap();
            let top = if function {
                at.strip_prefix(name)
            } else {
                at.strip_prefix(&format!("<{name}>"))
            };
            if top != Some(&format!(".{field}")) {
                continue; // nested: pinned by the bytes and by its constructor's own vectors
            }
            let Some(debug) = secret_field(module, name, field, &bytes) else {
                failures.push(format!(
                    "{label}: {field} is redacted and has no typed accessor in this test"
                ));
                continue;
            };
            let p = def.params.iter().find(|p| p.name == field).unwrap();
            let ParamType::Normal { ty, flag } = &p.ty else {
                unreachable!()
            };
            let node = debug_tree::parse(&debug).unwrap();
            let want = &v["dict"][field];
            let r = match (flag, &node) {
                (None, _) => checker.value(want, &node, ty, at),
                (Some(_), Node::Unit(n)) if n == "None" && want.is_null() => Ok(()),
                (Some(_), Node::Tuple(s, inner)) if s == "Some" && !want.is_null() => {
                    checker.value(want, &inner[0], ty, at)
                }
                _ => Err(format!("{at}: vector {want}, ours {debug}")),
            };
            if let Err(e) = r {
                failures.push(format!("{label}: secret {e}"));
            }
        }
        seen.entry(name.to_string())
            .or_default()
            .insert(variant.to_string());
    }
    (failures, seen, doc)
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} {what} vector(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Generated `api` definitions without Telethon vectors, and why. Telethon 1.45 is layer 229.
const TELETHON_SKIPPED: &[(&str, &str)] = &[
    (
        "auth.initFirebasePnvLogin",
        "changed in layer 230 (new id 0x644f15c0)",
    ),
    ("auth.cancelWebTokenAuthorization", "new in layer 230"),
    (
        "messageEntityTonAddress",
        "new in layer 230 (a MessageEntity used by help.TermsOfService)",
    ),
];

#[test]
fn telethon_vectors_match_our_bindings() {
    let decoders = decoder_map(project_tests::api_table!(api_rows));
    let (failures, seen, _) = check_vectors("api", "tests/vectors/telethon_api.json", &decoders);
    let count: usize = seen.values().map(BTreeSet::len).sum();
    eprintln!("{count} Telethon vectors of {} definitions", seen.len());
    assert_no_failures("Telethon", &failures);
}

/// Every generated `auth.*` function and every constructor of an `auth.*` type (and of the
/// rest of the binding) has vectors with all flags set and with none, except the documented
/// layer-230 changes; the script skipped exactly those.
#[test]
fn telethon_vectors_cover_every_generated_definition() {
    let gen = Generated::load("api");
    let path = project_tests::workspace_root().join("tests/vectors/telethon_api.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut variants: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for v in doc["vectors"].as_array().unwrap() {
        variants
            .entry(v["name"].as_str().unwrap().to_string())
            .or_default()
            .insert(v["variant"].as_str().unwrap().to_string());
    }
    let skipped: BTreeSet<&str> = TELETHON_SKIPPED.iter().map(|(n, _)| *n).collect();
    let script_skipped: BTreeSet<&str> = doc["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        script_skipped, skipped,
        "the script skipped other definitions than documented here"
    );
    let mut missing = Vec::new();
    let mut auth = 0;
    for def in &gen.defs {
        let name = def.full_name();
        let is_auth = name.starts_with("auth.") || def.result.full_name().starts_with("auth.");
        auth += usize::from(is_auth);
        if skipped.contains(name.as_str()) {
            continue;
        }
        let have = variants.get(&name).cloned().unwrap_or_default();
        if !(have.contains("none") && have.contains("all") && have.len() >= 2) {
            missing.push(format!("{name} (auth: {is_auth}): variants {have:?}"));
        }
    }
    eprintln!(
        "{} generated api definitions ({auth} auth), {} with vectors, {} skipped",
        gen.defs.len(),
        variants.len(),
        skipped.len()
    );
    assert!(
        missing.is_empty(),
        "definitions without vectors:\n{}",
        missing.join("\n")
    );
}

/// The committed vectors are what the script makes now (same Telethon, same schema).
#[test]
fn telethon_vectors_are_up_to_date() {
    let out = project_tests::run_python("codegen_telethon_vectors.py", &[], b"");
    let committed =
        std::fs::read(project_tests::workspace_root().join("tests/vectors/telethon_api.json"))
            .unwrap();
    assert!(
        out == committed,
        "tests/vectors/telethon_api.json is stale: run `.venv/bin/python tests/py/codegen_telethon_vectors.py --write`"
    );
}

#[test]
fn legacy_layer23_vectors_match_our_bindings() {
    let decoders = decoder_map(project_tests::layer23_table!(layer23_rows));
    let (failures, seen, _) = check_vectors(
        "legacy_layer23",
        "tests/vectors/legacy_layer23.json",
        &decoders,
    );
    let gen = Generated::load("legacy_layer23");
    let missing: Vec<String> = gen
        .defs
        .iter()
        .map(|d| d.full_name())
        .filter(|n| seen.get(n).map_or(0, BTreeSet::len) < 2)
        .collect();
    assert_no_failures("layer-23", &failures);
    assert!(
        missing.is_empty(),
        "layer-23 definitions without vectors: {missing:?}"
    );
}

#[test]
fn legacy_layer23_vectors_are_up_to_date() {
    let out = project_tests::run_python("codegen_legacy_vectors.py", &[], b"");
    let committed =
        std::fs::read(project_tests::workspace_root().join("tests/vectors/legacy_layer23.json"))
            .unwrap();
    assert!(
        out == committed,
        "tests/vectors/legacy_layer23.json is stale: run `python3 tests/py/codegen_legacy_vectors.py --write`"
    );
}

/// The 12 legacy `auth.*` calls, built field by field by hand, against the ids of
/// `schema/legacy/layer23.tl`, of Telegram's JSON schema, and written here, and against the
/// bytes of the independent JSON-schema encoder.
#[test]
fn legacy_layer23_functions_by_hand() {
    use auth_api::legacy::layer23::functions::auth as l23;

    let root = project_tests::workspace_root();
    let tl_text = std::fs::read_to_string(root.join("schema/legacy/layer23.tl")).unwrap();
    let json: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("schema/json/api-layer23.json")).unwrap(),
    )
    .unwrap();
    let vectors: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/vectors/legacy_layer23.json")).unwrap(),
    )
    .unwrap();
    let tl_id = |name: &str| -> u32 {
        let line = tl_text
            .lines()
            .find(|l| l.starts_with(&format!("{name}#")))
            .unwrap_or_else(|| panic!("{name} not in layer23.tl"));
        u32::from_str_radix(&line[name.len() + 1..name.len() + 9], 16).unwrap()
    };
    let json_id = |name: &str| -> u32 {
        let m = json["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["method"] == name)
            .unwrap();
        m["id"].as_str().unwrap().parse::<i64>().unwrap() as u32
    };
    let vector = |name: &str, variant: &str| -> (Vec<u8>, Value) {
        let v = vectors["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == name && v["variant"] == variant)
            .unwrap_or_else(|| panic!("no vector {name} {variant}"));
        (
            hex::decode(v["hex"].as_str().unwrap()).unwrap(),
            v["dict"].clone(),
        )
    };
    let s = |d: &Value, f: &str| d[f].as_str().unwrap().to_string();
    let i = |d: &Value, f: &str| i32::try_from(d[f].as_i64().unwrap()).unwrap();
    let l = |d: &Value, f: &str| d[f].as_i64().unwrap();
    let b = |d: &Value, f: &str| hex::decode(d[f]["bytes"].as_str().unwrap()).unwrap();

    // (TL name, the id written here, our CONSTRUCTOR_ID, serialization per vector variant).
    type Build = Box<dyn Fn(&Value) -> Vec<u8>>;
    let calls: Vec<(&str, u32, u32, Build)> = vec![
        (
            "auth.checkPhone",
            0x6fe51dfb,
            l23::CheckPhone::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::CheckPhone {
                    phone_number: s(d, "phone_number"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.sendCode",
            0x768d5f4d,
            l23::SendCode::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SendCode {
                    phone_number: s(d, "phone_number"),
                    sms_type: i(d, "sms_type"),
                    api_id: i(d, "api_id"),
                    api_hash: s(d, "api_hash"),
                    lang_code: s(d, "lang_code"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.sendCall",
            0x03c51564,
            l23::SendCall::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SendCall {
                    phone_number: s(d, "phone_number"),
                    phone_code_hash: s(d, "phone_code_hash"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.sendSms",
            0x0da9f3e8,
            l23::SendSms::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SendSms {
                    phone_number: s(d, "phone_number"),
                    phone_code_hash: s(d, "phone_code_hash"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.sendInvites",
            0x771c1d97,
            l23::SendInvites::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SendInvites {
                    phone_numbers: d["phone_numbers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect(),
                    message: s(d, "message"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.signIn",
            0xbcd51581,
            l23::SignIn::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SignIn {
                    phone_number: s(d, "phone_number"),
                    phone_code_hash: s(d, "phone_code_hash"),
                    phone_code: s(d, "phone_code").into(),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.signUp",
            0x1b067634,
            l23::SignUp::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::SignUp {
                    phone_number: s(d, "phone_number"),
                    phone_code_hash: s(d, "phone_code_hash"),
                    phone_code: s(d, "phone_code").into(),
                    first_name: s(d, "first_name"),
                    last_name: s(d, "last_name"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.logOut",
            0x5717da40,
            l23::LogOut::CONSTRUCTOR_ID,
            Box::new(|_| l23::LogOut {}.to_bytes()),
        ),
        (
            "auth.resetAuthorizations",
            0x9fab0d1a,
            l23::ResetAuthorizations::CONSTRUCTOR_ID,
            Box::new(|_| l23::ResetAuthorizations {}.to_bytes()),
        ),
        (
            "auth.exportAuthorization",
            0xe5bfffcd,
            l23::ExportAuthorization::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::ExportAuthorization {
                    dc_id: i(d, "dc_id"),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.importAuthorization",
            0xe3ef9613,
            l23::ImportAuthorization::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::ImportAuthorization {
                    id: i(d, "id"),
                    bytes: b(d, "bytes").into(),
                }
                .to_bytes()
            }),
        ),
        (
            "auth.bindTempAuthKey",
            0xcdd42a05,
            l23::BindTempAuthKey::CONSTRUCTOR_ID,
            Box::new(move |d| {
                l23::BindTempAuthKey {
                    perm_auth_key_id: l(d, "perm_auth_key_id"),
                    nonce: l(d, "nonce"),
                    expires_at: i(d, "expires_at"),
                    encrypted_message: b(d, "encrypted_message").into(),
                }
                .to_bytes()
            }),
        ),
    ];
    assert_eq!(calls.len(), 12);
    let gen = Generated::load("legacy_layer23");
    let (_, mut generated, _) = gen.names();
    // Beside the 12 calls, the binding has the two wrappers that declare layer 23.
    use auth_api::legacy::layer23::functions as l23w;
    use tl_wire::RawObject;
    for (name, id, ours) in [
        (
            "initConnection",
            0x69796de9,
            l23w::InitConnection::<RawObject>::CONSTRUCTOR_ID,
        ),
        (
            "invokeWithLayer",
            0xda9b0d0d,
            l23w::InvokeWithLayer::<RawObject>::CONSTRUCTOR_ID,
        ),
    ] {
        assert!(generated.remove(name), "{name} is generated");
        assert_eq!((tl_id(name), ours), (id, id), "{name}");
    }
    let ours: BTreeSet<String> = calls.iter().map(|c| c.0.to_string()).collect();
    assert_eq!(
        ours, generated,
        "the 12 legacy functions are exactly the generated ones"
    );
    for (name, id, ours, build) in &calls {
        assert_eq!(*ours, *id, "{name}: our CONSTRUCTOR_ID");
        assert_eq!(tl_id(name), *id, "{name}: id in schema/legacy/layer23.tl");
        assert_eq!(
            json_id(name),
            *id,
            "{name}: id in schema/json/api-layer23.json"
        );
        for variant in ["seed-1", "seed-2", "seed-3", "seed-4"] {
            let (want, dict) = vector(name, variant);
            let got = build(&dict);
            assert_eq!(&got[..4], &id.to_le_bytes(), "{name}: id first");
            assert_eq!(
                hex::encode(&got),
                hex::encode(&want),
                "{name} [{variant}]: bytes"
            );
        }
    }
    // The acceptance example, spelled out: id, then the five fields in order.
    let call = l23::SendCode {
        phone_number: "+999661234567".into(),
        sms_type: 0,
        api_id: 12345,
        api_hash: "0123456789abcdef".into(),
        lang_code: "en".into(),
    };
    let mut want = 0x768d5f4du32.to_le_bytes().to_vec();
    want.extend([13]);
    want.extend(b"+999661234567");
    want.extend([0, 0]);
    want.extend(0i32.to_le_bytes());
    want.extend(12345i32.to_le_bytes());
    want.extend([16]);
    want.extend(b"0123456789abcdef");
    want.extend([0, 0, 0]);
    want.extend([2, b'e', b'n', 0]);
    assert_eq!(call.to_bytes(), want);
}
