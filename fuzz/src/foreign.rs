//! `session_string` and `session_file`: the readers of saved sessions, ours and other
//! libraries'.
//!
//! - Strings: `parse_session_string` (any format), Telethon's and Pyrogram's readers.
//!   A string that imports exports again (in its format) and re-imports to the same session;
//!   the `Debug` output of what was imported never shows the authorization key.
//! - Files: `FileStore::load` on a fuzzed file (whose length field and SHA-256 the harness
//!   can set, so the body parser is reached), and Telethon's `import_file` on a database the
//!   harness writes from fuzzed values (tables, column types and rows), or on raw bytes. A
//!   file that loads is saved again (`FileStore::save`, `export_file`) and reloads to the
//!   same session.
//!
//! Files live in a fresh directory per call (under `/dev/shm` when it exists, so that the
//! stores' `fsync`s cost nothing), removed afterwards.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ::auth_api::client::foreign::{self, pyrogram, telethon, PyrogramExtras};
use ::auth_api::client::{FileStore, SessionData, SessionStore};
use ::rusqlite::types::Value;
use ::rusqlite::Connection;

use super::input::{Input, Output};
use super::sha256;

/// The DC table Pyrogram strings are imported with.
pub fn dcs() -> BTreeMap<i32, SocketAddr> {
    (1..=5)
        .map(|dc| (dc, SocketAddr::from(([149, 154, 167, 50 + dc as u8], 443))))
        .collect()
}

/// Which reader a string goes to (the first input byte, mod 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringReader {
    /// 0: `foreign::parse_session_string`.
    Any,
    /// 1: `telethon::import_string`.
    Telethon,
    /// 2: `pyrogram::import_string`.
    Pyrogram,
}

/// A `session_string` input: the reader, then the string.
pub fn string_input(reader: StringReader, s: &str) -> Vec<u8> {
    let mut out = Output::new();
    out.u8(reader as u8).raw(s.as_bytes());
    out.finish()
}

/// The `session_string` entry point (the string is read lossily from UTF-8).
pub fn session_string(data: &[u8]) {
    let mut input = Input::new(data);
    let reader = input.u8() % 3;
    let s = String::from_utf8_lossy(input.rest());
    let dcs = dcs();
    let imported = match reader {
        0 => foreign::parse_session_string(&s, &dcs).map(|i| (i.session, i.pyrogram)),
        1 => telethon::import_string(&s).map(|session| (session, None)),
        _ => pyrogram::import_string(&s, &dcs).map(|i| (i.session, i.pyrogram)),
    };
    let (session, extras) = match imported {
        Ok(ok) => ok,
        Err(e) => {
            let _ = format!("{e} {e:?}");
            return;
        }
    };
    assert_no_key_in(&session, &format!("{session:?} {extras:?}"));
    match extras {
        None => {
            let exported = telethon::export_string(&session)
                .unwrap_or_else(|e| panic!("an imported Telethon session does not export: {e}"));
            let again = telethon::import_string(&exported)
                .unwrap_or_else(|e| panic!("an exported Telethon string does not import: {e}"));
            assert_eq!(again, session, "Telethon string round trip");
        }
        Some(extras) => pyrogram_round_trip(&session, &extras, &dcs),
    }
}

fn pyrogram_round_trip(
    session: &SessionData,
    extras: &PyrogramExtras,
    dcs: &BTreeMap<i32, SocketAddr>,
) {
    let export = pyrogram::PyrogramExport {
        api_id: extras.api_id.unwrap_or(0),
        test_mode: extras.test_mode,
        is_bot: extras.is_bot,
    };
    // A string without a user id (0) cannot be exported: Pyrogram needs one.
    let Ok(exported) = pyrogram::export_string(session, &export) else {
        assert!(
            session.user_id.is_none(),
            "a Pyrogram session with a user id exports"
        );
        return;
    };
    let again = pyrogram::import_string(&exported, dcs)
        .unwrap_or_else(|e| panic!("an exported Pyrogram string does not import: {e}"));
    assert_eq!(&again.session, session, "Pyrogram string round trip");
    assert_eq!(
        again.pyrogram.map(|p| (p.test_mode, p.is_bot)),
        Some((extras.test_mode, extras.is_bot))
    );
}

/// Fails if `text` shows a key of `session` (as hex or as a list of bytes).
fn assert_no_key_in(session: &SessionData, text: &str) {
    for auth in session.keys.values() {
        let key = auth.auth_key.as_bytes();
        let hex: String = key[..12].iter().map(|b| format!("{b:02x}")).collect();
        let list = format!("{:?}", &key[..12]);
        let list = list.trim_end_matches(']');
        assert!(
            !text.contains(&hex) && !text.contains(list),
            "an authorization key shows in Debug output"
        );
    }
}

/// A scratch directory for one call, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!(
            "project-fuzz-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// [`session_file`]'s first byte: bit 0 a Telethon file (else a `FileStore` file). For a
/// `FileStore` file, bit 1 sets the length field and bit 2 the SHA-256. For a Telethon file,
/// bit 1 takes the rest as the raw file; otherwise see [`write_telethon_db`].
pub const TELETHON: u8 = 1;
/// `FileStore` file: set the body length field from the file's size.
pub const FIX_LENGTH: u8 = 2;
/// `FileStore` file: set the SHA-256 at the end.
pub const FIX_CHECKSUM: u8 = 4;
/// Telethon file: the rest of the input is the file.
pub const RAW: u8 = 2;

/// The `session_file` entry point.
pub fn session_file(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let scratch = Scratch::new();
    let path = scratch.path("fuzz.session");
    if flags & TELETHON == 0 {
        let mut file = input.rest().to_vec();
        fix_file_store(&mut file, flags);
        std::fs::write(&path, &file).expect("write the scratch file");
        file_store(&scratch, &path);
        return;
    }
    if flags & RAW != 0 {
        std::fs::write(&path, input.rest()).expect("write the scratch file");
    } else if write_telethon_db(&path, flags, &mut input).is_err() {
        // A combination SQLite refuses to store (a type the column does not take).
        return;
    }
    match telethon::import_file(&path) {
        Ok(session) => {
            assert_no_key_in(&session, &format!("{session:?}"));
            let out = scratch.path("again.session");
            telethon::export_file(&session, &out)
                .unwrap_or_else(|e| panic!("an imported Telethon file does not export: {e}"));
            let again = telethon::import_file(&out)
                .unwrap_or_else(|e| panic!("an exported Telethon file does not import: {e}"));
            assert_eq!(again, session, "Telethon file round trip");
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
}

/// Sets the length field and the checksum of a `FileStore` file as `flags` ask.
pub fn fix_file_store(file: &mut [u8], flags: u8) {
    const HEADER: usize = 24;
    const CHECKSUM: usize = 32;
    if flags & FIX_LENGTH != 0 && file.len() >= HEADER + CHECKSUM {
        let body = (file.len() - HEADER - CHECKSUM) as u32;
        file[20..24].copy_from_slice(&body.to_le_bytes());
    }
    if flags & FIX_CHECKSUM != 0 && file.len() >= CHECKSUM {
        let end = file.len() - CHECKSUM;
        let digest = sha256::digest(&file[..end]);
        file[end..].copy_from_slice(&digest);
    }
}

fn file_store(scratch: &Scratch, path: &Path) {
    match FileStore::new(path).load() {
        Ok(Some(session)) => {
            assert_no_key_in(&session, &format!("{session:?}"));
            let out = FileStore::new(scratch.path("again.session"));
            out.save(&session)
                .unwrap_or_else(|e| panic!("a loaded session does not save: {e}"));
            let again = out
                .load()
                .unwrap_or_else(|e| panic!("a saved session does not load: {e}"));
            assert_eq!(again.as_ref(), Some(&session), "FileStore round trip");
        }
        Ok(None) => panic!("an existing file loads as no session"),
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
}

/// One SQLite value from the input: a type byte (mod 4: NULL, integer, text, blob), then
/// the value.
fn value(input: &mut Input<'_>) -> Value {
    match input.u8() % 4 {
        0 => Value::Null,
        1 => Value::Integer(input.i64()),
        2 => Value::Text(String::from_utf8_lossy(input.bytes()).into_owned()),
        _ => Value::Blob(input.bytes().to_vec()),
    }
}

/// Writes a value as [`value`] reads it.
pub fn write_value(out: &mut Output, v: &Value) {
    match v {
        Value::Null => out.u8(0),
        Value::Integer(i) => out.u8(1).i64(*i),
        Value::Text(t) => out.u8(2).bytes(t.as_bytes()),
        Value::Blob(b) => out.u8(3).bytes(b),
        Value::Real(_) => out.u8(0),
    };
}

/// Telethon database flags (with [`TELETHON`]): bit 2 no `version` table, bit 3 columns
/// without types (any value fits; otherwise Telethon's own `CREATE TABLE`s), bit 4 no
/// `port` column.
pub const NO_VERSION_TABLE: u8 = 4;
/// See [`NO_VERSION_TABLE`].
pub const UNTYPED: u8 = 8;
/// See [`NO_VERSION_TABLE`].
pub const NO_PORT: u8 = 16;

/// Writes a Telethon-like database at `path`: per `flags`, then the version rows (a count
/// byte mod 3, values) and the `sessions` rows (a count byte mod 3; per row dc_id,
/// server_address, port, auth_key, takeout_id values).
fn write_telethon_db(path: &Path, flags: u8, input: &mut Input<'_>) -> rusqlite::Result<()> {
    let conn = Connection::open(path)?;
    let typed = flags & UNTYPED == 0;
    if flags & NO_VERSION_TABLE == 0 {
        conn.execute_batch(if typed {
            "CREATE TABLE version (version integer primary key);"
        } else {
            "CREATE TABLE version (version);"
        })?;
    }
    let port = if flags & NO_PORT != 0 { "" } else { "port, " };
    conn.execute_batch(&if typed {
        format!(
            "CREATE TABLE sessions (dc_id integer primary key, server_address text, {} \
             auth_key blob, takeout_id integer, tmp_auth_key blob);",
            if port.is_empty() { "" } else { "port integer," }
        )
    } else {
        format!("CREATE TABLE sessions (dc_id, server_address, {port} auth_key, takeout_id);")
    })?;
    for _ in 0..input.u8() % 3 {
        let v = value(input);
        if flags & NO_VERSION_TABLE == 0 {
            conn.execute("INSERT INTO version VALUES (?1)", [v])?;
        }
    }
    for _ in 0..input.u8() % 3 {
        let row: Vec<Value> = (0..5).map(|_| value(input)).collect();
        if port.is_empty() {
            conn.execute(
                "INSERT INTO sessions (dc_id, server_address, auth_key, takeout_id) \
                 VALUES (?1, ?2, ?4, ?5)",
                rusqlite::params_from_iter(row),
            )?;
        } else {
            conn.execute(
                "INSERT INTO sessions (dc_id, server_address, port, auth_key, takeout_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params_from_iter(row),
            )?;
        }
    }
    conn.close().map_err(|(_, e)| e)
}
