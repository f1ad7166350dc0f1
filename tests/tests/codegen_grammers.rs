//! Differential test of the generated bindings against `grammers-tl-types` 0.11.0, an
//! independent generator and runtime built from the same `tl/api.tl` (layer 230) and
//! `tl/mtproto.tl` files as `schema/` (the crate's files are byte-identical to ours).
//!
//! For every generated item of the `api` and `mtproto` modules (every constructor, bare and
//! boxed through its type, and every function), random values from `tl_random::RandomTl`
//! (schema-driven bytes, fixed seeds, flags none / all / random) are decoded by both
//! implementations; both must accept them, both must re-serialize exactly the input bytes, and
//! both decoded values must print the same `{:?}` after `debug_tree::normalize` (enum variant
//! wrappers dropped and struct names compared case-insensitively, because the two generators
//! name Rust items differently; fields are compared by name and order). Constructor ids of
//! every struct are compared too, which checks the ids this project infers with CRC32 where
//! `mtproto.tl` gives none (`tlsBlock*`).
//!
//! One known difference is in grammers, not here: `grammers-tl-parser` 1.2.2 infers the id of
//! `tlsBlockString data:bytes = TlsBlock` (no id in `mtproto.tl`) as `0xb2b51dca`, because its
//! `infer_id` replaces `":bytes "` with `": string"` (eating the space: it hashes
//! `tlsBlockString data: string= TlsBlock`). The CRC32 rule gives `0x4218a164`, which is ours;
//! [`inferred_mtproto_ids_follow_the_crc32_rule`] checks that with a CRC32 written here. The
//! differential test feeds grammers the same values written with its id ([`GRAMMERS_IDS`]).
//!
//! Harness details: grammers' function `deserialize` expects the caller to have consumed the
//! constructor id (that is how grammers reads requests), so for functions the test checks and
//! skips the id first, and `!X` fields use [`BoxedCall`], which reads the id of the inner call.
//! Our `Debug` redacts secret fields; `<redacted>` matches any value (those fields are pinned
//! by the byte comparison).

use std::fmt;

use auth_api::{Deserialize, Identifiable, Serialize};
use gr::{Deserializable, Serializable};
use grammers_tl_types as gr;
use project_tests::tl_random::debug_tree::{self, Node};
use project_tests::tl_random::{Generated, RandomTl};

/// A call inside `!X`, read with its constructor id (grammers' function `deserialize` starts
/// after the id, while its `serialize` writes it).
#[derive(Clone, PartialEq)]
struct BoxedCall<F>(F);

impl<F: fmt::Debug> fmt::Debug for BoxedCall<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<F: Serializable> Serializable for BoxedCall<F> {
    fn serialize(&self, buf: &mut impl Extend<u8>) {
        self.0.serialize(buf)
    }
}

impl<F: Deserializable + gr::Identifiable> Deserializable for BoxedCall<F> {
    fn deserialize(buf: &mut gr::Cursor<'_>) -> gr::deserialize::Result<Self> {
        let id = u32::deserialize(buf)?;
        if id != F::CONSTRUCTOR_ID {
            return Err(gr::deserialize::Error::UnexpectedConstructor { id });
        }
        F::deserialize(buf).map(BoxedCall)
    }
}

/// One implementation's reading of an input: its re-serialization and its `{:?}`.
struct Side {
    bytes: Vec<u8>,
    debug: String,
}

type Read = fn(&[u8]) -> Result<Side, String>;

/// A table row: kind, TL name, our reader, grammers' reader, (our id, grammers' id).
type Row = (&'static str, &'static str, Read, Read, Option<(u32, u32)>);

macro_rules! rows {
    ($root:tt; $( ($kind:ident, $name:literal, $($p:ident)::+, $($g:ident)::+) ),* $(,)?) => {{
        let rows: Vec<Row> = vec![$( row!($root, $kind, $name, [$($p)::+], [$($g)::+]) ),*];
        rows
    }};
}

macro_rules! row {
    ([$($root:ident)::+], $kind:ident, $name:literal, [$($p:ident)::+], [$($g:ident)::+]) => {
        row!(@ $kind, $name,
            $($root)::+::$($p)::+<$($root)::+::functions::auth::SendCode>,
            gr::$($g)::+<BoxedCall<gr::functions::auth::SendCode>>,
            $($root)::+::$($p)::+,
            gr::$($g)::+)
    };
    (@ gfunc, $name:literal, $ours:ty, $theirs:ty, $_o:ty, $_t:ty) => {
        (
            "gfunc",
            $name,
            ours!($ours),
            theirs!(func, $theirs),
            Some((<$ours as Identifiable>::CONSTRUCTOR_ID, <$theirs as gr::Identifiable>::CONSTRUCTOR_ID)),
        )
    };
    (@ ty, $name:literal, $_og:ty, $_tg:ty, $ours:ty, $theirs:ty) => {
        ("ty", $name, ours!($ours), theirs!(ty, $theirs), None)
    };
    (@ $kind:ident, $name:literal, $_og:ty, $_tg:ty, $ours:ty, $theirs:ty) => {
        (
            stringify!($kind),
            $name,
            ours!($ours),
            theirs!($kind, $theirs),
            Some((<$ours as Identifiable>::CONSTRUCTOR_ID, <$theirs as gr::Identifiable>::CONSTRUCTOR_ID)),
        )
    };
}

macro_rules! ours {
    ($t:ty) => {
        |b: &[u8]| {
            let v = <$t as Deserialize>::from_bytes(b).map_err(|e| e.to_string())?;
            Ok(Side {
                bytes: v.to_bytes(),
                debug: format!("{v:?}"),
            })
        }
    };
}

macro_rules! theirs {
    (func, $t:ty) => {
        |b: &[u8]| {
            let id = <$t as gr::Identifiable>::CONSTRUCTOR_ID.to_le_bytes();
            if b.get(..4) != Some(&id[..]) {
                return Err("not this function's id".to_string());
            }
            let body = &b[4..];
            let mut cursor = gr::Cursor::from_slice(body);
            let v = <$t as Deserializable>::deserialize(&mut cursor).map_err(|e| e.to_string())?;
            if cursor.pos() != body.len() {
                return Err(format!("{} trailing bytes", body.len() - cursor.pos()));
            }
            Ok(Side {
                bytes: v.to_bytes(),
                debug: format!("{v:?}"),
            })
        }
    };
    ($kind:ident, $t:ty) => {
        |b: &[u8]| {
            let mut cursor = gr::Cursor::from_slice(b);
            let v = <$t as Deserializable>::deserialize(&mut cursor).map_err(|e| e.to_string())?;
            if cursor.pos() != b.len() {
                return Err(format!("{} trailing bytes", b.len() - cursor.pos()));
            }
            Ok(Side {
                bytes: v.to_bytes(),
                debug: format!("{v:?}"),
            })
        }
    };
}

macro_rules! api_rows {
    ($($row:tt),* $(,)?) => { rows!([auth_api]; $($row),*) };
}
macro_rules! mtproto_rows {
    ($($row:tt),* $(,)?) => { rows!([auth_api::mtproto]; $($row),*) };
}

/// Constructor ids where grammers-tl-types 0.11 differs from the CRC32 rule (see the
/// module docs): (constructor, grammers' id, the correct id).
const GRAMMERS_IDS: &[(&str, u32, u32)] = &[("tlsBlockString", 0xb2b5_1dca, 0x4218_a164)];

/// Random values per constructor and per function.
const SEEDS: u64 = 48;

struct Run<'a> {
    gen: &'a Generated,
    rows: Vec<Row>,
    failures: Vec<String>,
    cases: usize,
    redacted: usize,
}

impl Run<'_> {
    fn row(&self, kinds: &[&str], name: &str) -> &Row {
        self.rows
            .iter()
            .find(|r| kinds.contains(&r.0) && r.1 == name)
            .unwrap_or_else(|| panic!("no {kinds:?} {name} in the table"))
    }

    /// Both implementations read the same value the same way: `input` for us, `theirs_input`
    /// (the same value with grammers' ids) for grammers.
    fn compare(
        &mut self,
        label: &str,
        ours: Read,
        theirs: Read,
        input: &[u8],
        theirs_input: &[u8],
    ) {
        self.cases += 1;
        let fail = |what: String| format!("{label}: {what}\n  input {}", clip(&hex::encode(input)));
        let (a, b) = match (ours(input), theirs(theirs_input)) {
            (Ok(a), Ok(b)) => (a, b),
            (a, b) => {
                let show = |r: &Result<Side, String>| match r {
                    Ok(_) => "ok".to_string(),
                    Err(e) => format!("error {e}"),
                };
                return self.failures.push(fail(format!(
                    "ours: {}, grammers: {}",
                    show(&a),
                    show(&b)
                )));
            }
        };
        if a.bytes != input {
            return self.failures.push(fail(format!(
                "our re-serialization differs: {}",
                hex::encode(&a.bytes)
            )));
        }
        if b.bytes != theirs_input {
            return self.failures.push(fail(format!(
                "grammers' re-serialization differs: {}",
                hex::encode(&b.bytes)
            )));
        }
        let parse = |s: &str| debug_tree::parse(s).map(|n| debug_tree::normalize(&n));
        match (parse(&a.debug), parse(&b.debug)) {
            (Ok(x), Ok(y)) => {
                if let Some(d) = debug_tree::diff(&x, &y, "", &mut self.redacted) {
                    self.failures.push(fail(format!(
                        "values differ at {d}\n  ours     {}\n  grammers {}",
                        clip(&a.debug),
                        clip(&b.debug)
                    )));
                }
            }
            (x, y) => self.failures.push(fail(format!(
                "cannot parse Debug: {:?} / {:?}",
                x.err(),
                y.err()
            ))),
        }
    }

    fn all(&mut self) {
        let gen = self.gen;
        for row in &self.rows {
            if let Some((ours, theirs)) = row.4 {
                let known = GRAMMERS_IDS.iter().find(|k| k.0 == row.1);
                if let Some(&(name, grammers, correct)) = known {
                    assert_eq!(
                        (ours, theirs),
                        (correct, grammers),
                        "{name}: the known id difference changed"
                    );
                } else if ours != theirs {
                    self.failures.push(format!(
                        "{}: our id {ours:#010x}, grammers {theirs:#010x}",
                        row.1
                    ));
                }
            }
        }
        for def in &gen.defs {
            let name = def.full_name();
            if let Some((ours, _)) = self.row(&["ctor", "func", "gfunc"], &name).4 {
                if ours != def.id {
                    self.failures.push(format!(
                        "{name}: our id {ours:#010x}, schema {:#010x}",
                        def.id
                    ));
                }
            }
            for seed in 0..SEEDS {
                let mut random = RandomTl::new(gen, seed);
                let mut random_theirs = RandomTl::new(gen, seed);
                random_theirs.ids = GRAMMERS_IDS
                    .iter()
                    .map(|k| (k.0.to_string(), k.1))
                    .collect();
                let label = format!(
                    "{} {name} (seed {seed}, flags {:?})",
                    gen.module, random.flags
                );
                match def.category {
                    tl_codegen::Category::Function => {
                        let input = random.function(&name);
                        let theirs_input = random_theirs.function(&name);
                        let (_, _, ours, theirs, _) = *self.row(&["func", "gfunc"], &name);
                        self.compare(&label, ours, theirs, &input, &theirs_input);
                    }
                    tl_codegen::Category::Type => {
                        let input = random.constructor_boxed(&name);
                        let theirs_input = random_theirs.constructor_boxed(&name);
                        let (_, _, ours, theirs, _) = *self.row(&["ty"], &def.result.full_name());
                        self.compare(
                            &format!("{label} boxed"),
                            ours,
                            theirs,
                            &input,
                            &theirs_input,
                        );
                        let (_, _, ours, theirs, _) = *self.row(&["ctor"], &name);
                        self.compare(
                            &format!("{label} bare"),
                            ours,
                            theirs,
                            &input[4..],
                            &theirs_input[4..],
                        );
                    }
                }
            }
        }
    }
}

/// The first 400 characters (failure messages stay readable).
fn clip(s: &str) -> String {
    match s.char_indices().nth(400) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

fn run(module: &str, rows: Vec<Row>) {
    let gen = Generated::load(module);
    let (ctors, funcs, types) = gen.names();
    let names = |kinds: &[&str]| -> std::collections::BTreeSet<String> {
        rows.iter()
            .filter(|r| kinds.contains(&r.0))
            .map(|r| r.1.to_string())
            .collect()
    };
    assert_eq!(
        names(&["ctor"]),
        ctors,
        "{module}: constructors in the table vs the selection"
    );
    assert_eq!(
        names(&["func", "gfunc"]),
        funcs,
        "{module}: functions in the table vs the selection"
    );
    assert_eq!(
        names(&["ty"]),
        types,
        "{module}: boxed types in the table vs the selection"
    );
    let mut run = Run {
        gen: &gen,
        rows,
        failures: Vec::new(),
        cases: 0,
        redacted: 0,
    };
    run.all();
    eprintln!(
        "{module}: {} definitions ({} functions, {} constructors, {} boxed types), {} random cases, {} redacted fields skipped in Debug",
        gen.defs.len(),
        funcs.len(),
        ctors.len(),
        types.len(),
        run.cases,
        run.redacted
    );
    assert!(
        run.failures.is_empty(),
        "{} difference(s) from grammers-tl-types in {module}:\n{}",
        run.failures.len(),
        run.failures.join("\n")
    );
}

#[test]
fn api_agrees_with_grammers_tl_types() {
    assert_eq!(gr::LAYER, auth_api::LAYER, "both are layer 230");
    run("api", project_tests::api_table!(api_rows));
}

#[test]
fn mtproto_agrees_with_grammers_tl_types() {
    run("mtproto", project_tests::mtproto_table!(mtproto_rows));
}

/// The debug-tree comparison itself catches a changed field (so a passing run means
/// something).
#[test]
fn debug_comparison_is_sensitive() {
    let gen = Generated::load("api");
    let mut random = RandomTl::new(&gen, 1);
    let input = random.function("auth.sendCode");
    let ours = auth_api::functions::auth::SendCode::from_bytes(&input).unwrap();
    let mut changed = ours.clone();
    changed.api_id = changed.api_id.wrapping_add(1);
    let a = debug_tree::normalize(&debug_tree::parse(&format!("{ours:?}")).unwrap());
    let b = debug_tree::normalize(&debug_tree::parse(&format!("{changed:?}")).unwrap());
    let mut n = 0;
    assert!(debug_tree::diff(&a, &b, "", &mut n).is_some());
    assert!(debug_tree::diff(&a, &a, "", &mut n).is_none());
    assert!(matches!(a, Node::Struct(..)));
}

/// CRC32 (IEEE, reflected, the one TL ids use), written here so the check below does not
/// share code with either generator.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The `mtproto.tl` declarations without an `#id` get the CRC32 of the declaration with
/// `bytes` read as `string` and `<`/`>` as spaces (core.telegram.org/mtproto/TL-abstract-types),
/// in our generated code; grammers disagrees only on `tlsBlockString`, as documented above.
#[test]
fn inferred_mtproto_ids_follow_the_crc32_rule() {
    use auth_api::mtproto::types as t;
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    // The rule reproduces declared ids of the same file (`bytes` read as `string`).
    assert_eq!(
        crc32(b"resPQ nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector long = ResPQ"),
        t::ResPq::CONSTRUCTOR_ID
    );
    let text =
        std::fs::read_to_string(project_tests::workspace_root().join("schema/mtproto.tl")).unwrap();
    let mut inferred = std::collections::BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        // Declarations without an id (built-ins such as `int ? = Int;` and `int128 4*[ int ]`
        // have no `:` parameters or use `?`/`[`).
        if line.starts_with("//") || !line.ends_with(';') || line.contains(['#', '?', '[']) {
            continue;
        }
        let decl = line
            .trim_end_matches(';')
            .replace(":bytes", ":string")
            .replace('<', " ")
            .replace('>', "");
        let decl = decl.split_whitespace().collect::<Vec<_>>().join(" ");
        let name = decl.split(' ').next().unwrap().to_string();
        inferred.insert(name, crc32(decl.as_bytes()));
    }
    let ours = [
        (
            "tlsClientHello",
            t::TlsClientHello::CONSTRUCTOR_ID,
            <gr::types::TlsClientHello as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockString",
            t::TlsBlockString::CONSTRUCTOR_ID,
            <gr::types::TlsBlockString as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockRandom",
            t::TlsBlockRandom::CONSTRUCTOR_ID,
            <gr::types::TlsBlockRandom as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockZero",
            t::TlsBlockZero::CONSTRUCTOR_ID,
            <gr::types::TlsBlockZero as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockDomain",
            t::TlsBlockDomain::CONSTRUCTOR_ID,
            <gr::types::TlsBlockDomain as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockGrease",
            t::TlsBlockGrease::CONSTRUCTOR_ID,
            <gr::types::TlsBlockGrease as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockPublicKey",
            t::TlsBlockPublicKey::CONSTRUCTOR_ID,
            <gr::types::TlsBlockPublicKey as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
        (
            "tlsBlockScope",
            t::TlsBlockScope::CONSTRUCTOR_ID,
            <gr::types::TlsBlockScope as gr::Identifiable>::CONSTRUCTOR_ID,
        ),
    ];
    let names: Vec<&str> = ours.iter().map(|o| o.0).collect();
    assert_eq!(
        inferred
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .len(),
        names.len(),
        "{inferred:?}"
    );
    for (name, id, grammers) in ours {
        assert_eq!(inferred[name], id, "{name}: our id vs the CRC32 rule");
        match GRAMMERS_IDS.iter().find(|k| k.0 == name) {
            Some(&(_, theirs, correct)) => {
                assert_eq!((correct, theirs), (id, grammers));
                assert_eq!(
                    crc32(b"tlsBlockString data: string= TlsBlock"),
                    grammers,
                    "grammers' hashed text"
                );
            }
            None => assert_eq!(grammers, id, "{name}: grammers agrees"),
        }
    }
}
