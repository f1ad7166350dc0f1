//! Round trips and hostile input for every generated TL item of `auth-api` (the layer-230
//! `api` selection, the whole MTProto service schema, the layer-23 `auth.*` calls).
//!
//! Values come from `tl_random::RandomTl`: valid TL bytes of random values written from the
//! schema by an encoder that shares no code with `tl-wire` or the generated code. For every
//! constructor (boxed, through its type's enum, and bare, through its struct) and every
//! function, with fixed seeds:
//!
//! - decoding succeeds, re-serializing gives the input bytes exactly, and decoding those again
//!   gives an equal value (`PartialEq`); the enum reports the constructor id of the input;
//! - every strict prefix of the input is an error (never a panic, never a success), and so is
//!   the input with 4 more bytes;
//! - random corruptions (bit flips, overwritten words, inserted and removed bytes) never panic;
//!   when one still decodes, its re-serialization decodes again to the same bytes.
//!
//! The tables of Rust items (`api_table!` ..) are checked to cover exactly what
//! `xtask/src/bindings.rs` selects, so a new definition cannot go untested.

use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};

use auth_api::{DecodeError, Deserialize, Serialize};
use project_tests::tl_random::{Generated, RandomTl};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What decoding one input gave.
struct Outcome {
    /// `value.to_bytes()`.
    bytes: Vec<u8>,
    /// Decoding `bytes` again: `Ok(equal to value)`, or the error.
    again: Result<bool, DecodeError>,
    /// Decoding `bytes` again and re-serializing gives `bytes`.
    idempotent: bool,
    /// The constructor id an enum value reports.
    id: Option<u32>,
}

type Check = fn(&[u8]) -> Result<Outcome, DecodeError>;

macro_rules! checks {
    ($root:tt; $( ($kind:ident, $name:literal, $($p:ident)::+ $(, $($g:ident)::+)?) ),* $(,)?) => {{
        let rows: Vec<(&'static str, &'static str, Check)> =
            vec![$( (stringify!($kind), $name, check!($root, $kind, $($p)::+)) ),*];
        rows
    }};
}

macro_rules! check {
    ([$($root:ident)::+], gfunc, $($p:ident)::+) => {
        // `!X` fields hold `auth.sendCode` (RandomTl writes that function there).
        check!(@ $($root)::+::$($p)::+<$($root)::+::functions::auth::SendCode>, None)
    };
    ([$($root:ident)::+], ty, $($p:ident)::+) => {
        check!(@ $($root)::+::$($p)::+, Some)
    };
    ([$($root:ident)::+], $kind:ident, $($p:ident)::+) => {
        check!(@ $($root)::+::$($p)::+, None)
    };
    (@ $t:ty, $id:tt) => {
        |b: &[u8]| {
            let v = <$t as Deserialize>::from_bytes(b)?;
            let bytes = v.to_bytes();
            let (again, idempotent) = match <$t as Deserialize>::from_bytes(&bytes) {
                Ok(w) => (Ok(w == v), w.to_bytes() == bytes),
                Err(e) => (Err(e), false),
            };
            Ok(Outcome { bytes, again, idempotent, id: check!(@id $id, v) })
        }
    };
    (@id Some, $v:ident) => { Some($v.constructor_id()) };
    (@id None, $v:ident) => { None };
}

macro_rules! api_rows {
    ($($row:tt),* $(,)?) => { checks!([auth_api]; $($row),*) };
}
macro_rules! mtproto_rows {
    ($($row:tt),* $(,)?) => { checks!([auth_api::mtproto]; $($row),*) };
}
macro_rules! layer23_rows {
    ($($row:tt),* $(,)?) => { checks!([auth_api::legacy::layer23]; $($row),*) };
}

/// Seeds per definition, and random corruptions per value.
const SEEDS: u64 = 32;
const CORRUPTIONS: usize = 24;

struct Run<'a> {
    gen: &'a Generated,
    rows: Vec<(&'static str, &'static str, Check)>,
    failures: Vec<String>,
    values: usize,
    decodes: usize,
}

impl Run<'_> {
    fn check(&self, kind: &str, name: &str) -> Check {
        self.rows
            .iter()
            .find(|r| (r.0 == kind || (kind == "func" && r.0 == "gfunc")) && r.1 == name)
            .unwrap_or_else(|| panic!("no {kind} {name} in the table"))
            .2
    }

    fn decode(
        &mut self,
        check: Check,
        input: &[u8],
    ) -> Result<Result<Outcome, DecodeError>, String> {
        self.decodes += 1;
        catch_unwind(AssertUnwindSafe(|| check(input))).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        })
    }

    /// A valid input: exact round trip, prefixes and a longer input fail, corruptions don't panic.
    fn valid(
        &mut self,
        label: &str,
        check: Check,
        input: &[u8],
        id: Option<u32>,
        rng: &mut ChaCha8Rng,
    ) {
        self.values += 1;
        match self.decode(check, input) {
            Err(panic) => {
                return self.failures.push(format!(
                    "{label}: decoding panics: {panic}\n  {}",
                    hex::encode(input)
                ))
            }
            Ok(Err(e)) => {
                return self.failures.push(format!(
                    "{label}: decoding fails: {e}\n  {}",
                    hex::encode(input)
                ))
            }
            Ok(Ok(o)) => {
                if o.bytes != input {
                    return self.failures.push(format!(
                        "{label}: re-serialization differs\n  input {}\n  ours  {}",
                        hex::encode(input),
                        hex::encode(&o.bytes)
                    ));
                }
                if !matches!(o.again, Ok(true)) {
                    return self
                        .failures
                        .push(format!("{label}: decoding the re-serialization differs"));
                }
                if id.is_some() && o.id != id {
                    return self.failures.push(format!(
                        "{label}: constructor id {:?}, expected {id:?}",
                        o.id
                    ));
                }
            }
        }
        for k in 0..input.len() {
            match self.decode(check, &input[..k]) {
                Ok(Err(_)) => {}
                Ok(Ok(_)) => {
                    return self.failures.push(format!(
                        "{label}: the {k}-byte prefix decodes\n  {}",
                        hex::encode(input)
                    ))
                }
                Err(panic) => {
                    return self.failures.push(format!(
                        "{label}: the {k}-byte prefix panics: {panic}\n  {}",
                        hex::encode(input)
                    ))
                }
            }
        }
        let mut longer = input.to_vec();
        longer.extend_from_slice(&[0, 0, 0, 0]);
        if !matches!(self.decode(check, &longer), Ok(Err(_))) {
            self.failures
                .push(format!("{label}: trailing bytes accepted or panic"));
        }
        for _ in 0..CORRUPTIONS {
            let bad = corrupt(input, rng);
            match self.decode(check, &bad) {
                Err(panic) => {
                    return self.failures.push(format!(
                        "{label}: a corruption panics: {panic}\n  input   {}\n  corrupt {}",
                        hex::encode(input),
                        hex::encode(&bad)
                    ))
                }
                Ok(Ok(o)) if o.again.is_err() || !o.idempotent => {
                    return self.failures.push(format!(
                        "{label}: a corruption decodes but its re-serialization does not round-trip\n  corrupt {}",
                        hex::encode(&bad)
                    ))
                }
                Ok(_) => {}
            }
        }
    }

    fn all(&mut self) {
        let gen = self.gen;
        for def in &gen.defs {
            let name = def.full_name();
            for seed in 0..SEEDS {
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ u64::from(def.id) << 8);
                let mut random = RandomTl::new(gen, seed);
                if seed % 3 == 2 {
                    random.max_len = 40; // short strings: deep values stay small
                }
                let label = format!(
                    "{} {name} (seed {seed}, flags {:?})",
                    gen.module, random.flags
                );
                match def.category {
                    tl_codegen::Category::Function => {
                        let input = random.function(&name);
                        let check = self.check("func", &name);
                        self.valid(&label, check, &input, None, &mut rng);
                    }
                    tl_codegen::Category::Type => {
                        let input = random.constructor_boxed(&name);
                        let boxed = self.check("ty", &def.result.full_name());
                        self.valid(
                            &format!("{label} boxed"),
                            boxed,
                            &input,
                            Some(def.id),
                            &mut rng,
                        );
                        let bare = self.check("ctor", &name);
                        self.valid(&format!("{label} bare"), bare, &input[4..], None, &mut rng);
                    }
                }
            }
        }
    }
}

/// One random corruption: flip bits, overwrite a word, insert or remove bytes, swap two words.
fn corrupt(input: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    let n = b.len();
    match rng.gen_range(0..6) {
        0 if n > 0 => {
            let i = rng.gen_range(0..n);
            b[i] ^= 1 << rng.gen_range(0..8);
        }
        1 if n >= 4 => {
            let i = rng.gen_range(0..=n - 4) & !3;
            let word: [u8; 4] = match rng.gen_range(0..4) {
                0 => [0xff; 4],
                1 => [0xfe, 0xff, 0xff, 0x00], // long-form length 0xffff
                2 => 0x7fff_ffffu32.to_le_bytes(),
                _ => rng.gen(),
            };
            b[i..i + 4].copy_from_slice(&word);
        }
        2 => {
            let i = rng.gen_range(0..=n);
            let extra: Vec<u8> = (0..rng.gen_range(1..=8)).map(|_| rng.gen()).collect();
            b.splice(i..i, extra);
        }
        3 if n > 0 => {
            let i = rng.gen_range(0..n);
            let j = (i + rng.gen_range(1..=8)).min(n);
            b.drain(i..j);
        }
        4 if n >= 8 => {
            let i = rng.gen_range(0..=n - 4) & !3;
            let j = rng.gen_range(0..=n - 4) & !3;
            let (x, y) = (b[i..i + 4].to_vec(), b[j..j + 4].to_vec());
            b[i..i + 4].copy_from_slice(&y);
            b[j..j + 4].copy_from_slice(&x);
        }
        _ => {
            for _ in 0..rng.gen_range(1..=4) {
                if n > 0 {
                    let i = rng.gen_range(0..n);
                    b[i] = rng.gen();
                }
            }
        }
    }
    b
}

/// The table of a module lists exactly the generated constructors, boxed types and functions.
fn assert_table_complete(gen: &Generated, rows: &[(&'static str, &'static str, Check)]) {
    let (ctors, funcs, types) = gen.names();
    let of = |kinds: &[&str]| -> BTreeSet<String> {
        rows.iter()
            .filter(|r| kinds.contains(&r.0))
            .map(|r| r.1.to_string())
            .collect()
    };
    assert_eq!(
        of(&["ctor"]),
        ctors,
        "{}: constructors in the table vs the selection",
        gen.module
    );
    assert_eq!(
        of(&["func", "gfunc"]),
        funcs,
        "{}: functions in the table vs the selection",
        gen.module
    );
    assert_eq!(
        of(&["ty"]),
        types,
        "{}: boxed types in the table vs the selection",
        gen.module
    );
}

fn run(module: &str, rows: Vec<(&'static str, &'static str, Check)>) {
    let gen = Generated::load(module);
    assert_table_complete(&gen, &rows);
    let mut run = Run {
        gen: &gen,
        rows,
        failures: Vec::new(),
        values: 0,
        decodes: 0,
    };
    run.all();
    eprintln!(
        "{module}: {} definitions, {} values, {} decodes",
        gen.defs.len(),
        run.values,
        run.decodes
    );
    assert!(
        run.failures.is_empty(),
        "{} failure(s) in {module}:\n{}",
        run.failures.len(),
        run.failures.join("\n")
    );
}

#[test]
fn api_round_trips_and_rejects_bad_input() {
    run("api", project_tests::api_table!(api_rows));
}

#[test]
fn mtproto_round_trips_and_rejects_bad_input() {
    run("mtproto", project_tests::mtproto_table!(mtproto_rows));
}

#[test]
fn layer23_round_trips_and_rejects_bad_input() {
    run(
        "legacy_layer23",
        project_tests::layer23_table!(layer23_rows),
    );
}
