//! Telethon 1.45's `.session` SQLite files (schema in the [`super::telethon`] docs).
//!
//! Reading opens the file read-only, so a file that fails to read is left as it was.
//! Writing builds the new file next to the target (mode 0600 on unix) and renames it over
//! the target, so the target is either the old file or the new one; a target that exists
//! and is not a Telethon session file is refused and left as it is. As with
//! [`crate::client::FileStore`], the check of the existing file and the rename are not one
//! atomic step.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{home_parts, is_zero, one_dc_session, ForeignSessionError, SessionData, KEY_LEN};

/// The schema version Telethon 1.45 writes (and the newest this reads).
const VERSION: i64 = 8;
/// Every SQLite 3 database starts with these 16 bytes.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";
/// Attempts at a fresh temporary name before giving up.
const TEMP_ATTEMPTS: u32 = 16;
/// The longest text of a file quoted in an error.
const QUOTE_MAX: usize = 64;

/// Telethon 1.45's tables, as its `SQLiteSession` creates them (schema version 8).
const SCHEMA: &str = "
    CREATE TABLE version (version integer primary key);
    CREATE TABLE sessions (
        dc_id integer primary key,
        server_address text,
        port integer,
        auth_key blob,
        takeout_id integer,
        tmp_auth_key blob
    );
    CREATE TABLE entities (
        id integer primary key,
        hash integer not null,
        username text,
        phone integer,
        name text,
        date integer
    );
    CREATE TABLE sent_files (
        md5_digest blob,
        file_size integer,
        type integer,
        id integer,
        hash integer,
        primary key(md5_digest, file_size, type)
    );
    CREATE TABLE update_state (
        id integer primary key,
        pts integer,
        qts integer,
        date integer,
        seq integer
    );
";

/// Reads a Telethon `.session` file: its DC, that DC's address and key (salt and clock
/// offset 0, no user id: the file keeps none). The file is opened read-only and never
/// changed.
///
/// Errors: I/O ([`ForeignSessionError::Io`]); not an SQLite database, no `version` or
/// `sessions` table, a `sessions` table without the columns, not exactly one session row, or
/// a bad value in it ([`ForeignSessionError::NotTelethonFile`], saying which); a schema
/// version above 8 ([`ForeignSessionError::TelethonVersion`]); no key
/// ([`ForeignSessionError::NoKeyInFile`]); SQLite's own errors
/// ([`ForeignSessionError::Sqlite`]).
pub fn import_file(path: impl AsRef<Path>) -> Result<SessionData, ForeignSessionError> {
    let file = TelethonFile::new(path.as_ref());
    let conn = file.open_read_only()?;
    file.check_schema(&conn)?;
    file.session(&conn)
}

/// Writes `session` as a Telethon 1.45 `.session` file at `path` (schema version 8, every
/// table Telethon creates, one `sessions` row with the home DC's id, address and key).
/// Telethon opens it as its own: `TelegramClient("name")` reads `name.session`, so give
/// `path` that extension.
///
/// An existing file at `path` is replaced only if it is a Telethon session file (of any
/// version this module reads, with or without a key); anything else is refused with the
/// error [`import_file`] would give, and left as it is.
///
/// Errors: no home DC, or no key or address for it; the existing file's; I/O and SQLite.
pub fn export_file(
    session: &SessionData,
    path: impl AsRef<Path>,
) -> Result<(), ForeignSessionError> {
    let (dc, auth, addr) = home_parts(session)?;
    let file = TelethonFile::new(path.as_ref());
    match fs::symlink_metadata(file.path) {
        Ok(_) => {
            // Never replace another program's file.
            let conn = file.open_read_only()?;
            file.check_schema(&conn)?;
            file.close(conn)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(file.io(e)),
    }

    let temp = file.create_temp()?;
    let mut conn = Connection::open_with_flags(
        &temp.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| file.sqlite(e))?;
    let tx = conn.transaction().map_err(|e| file.sqlite(e))?;
    tx.execute_batch(SCHEMA).map_err(|e| file.sqlite(e))?;
    tx.execute("INSERT INTO version VALUES (?1)", [VERSION])
        .map_err(|e| file.sqlite(e))?;
    // As Telethon writes a session: no takeout, and an empty temporary key.
    tx.execute(
        "INSERT INTO sessions VALUES (?1, ?2, ?3, ?4, NULL, ?5)",
        rusqlite::params![
            dc,
            addr.ip().to_string(),
            addr.port(),
            &auth.auth_key.as_bytes()[..],
            &[] as &[u8],
        ],
    )
    .map_err(|e| file.sqlite(e))?;
    tx.commit().map_err(|e| file.sqlite(e))?;
    file.close(conn)?;
    File::open(&temp.path)
        .and_then(|f| f.sync_all())
        .map_err(|e| file.io(e))?;
    fs::rename(&temp.path, file.path).map_err(|e| file.io(e))?;
    temp.disarm();
    if let Ok(dir) = File::open(parent_dir(file.path)) {
        // Makes the rename durable; a platform that cannot sync a directory is ignored.
        let _ = dir.sync_all();
    }
    Ok(())
}

/// One `.session` file being read or written; names it in errors.
struct TelethonFile<'a> {
    path: &'a Path,
}

impl<'a> TelethonFile<'a> {
    fn new(path: &'a Path) -> Self {
        Self { path }
    }

    fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn io(&self, source: io::Error) -> ForeignSessionError {
        ForeignSessionError::Io {
            path: self.name(),
            source,
        }
    }

    fn sqlite(&self, source: rusqlite::Error) -> ForeignSessionError {
        ForeignSessionError::Sqlite {
            path: self.name(),
            source,
        }
    }

    fn not_telethon(&self, why: impl Into<String>) -> ForeignSessionError {
        ForeignSessionError::NotTelethonFile {
            path: self.name(),
            why: why.into(),
        }
    }

    /// The database, read-only, after checking that the file is one (SQLite would treat
    /// an empty file as an empty database, and name other files only "not a database").
    fn open_read_only(&self) -> Result<Connection, ForeignSessionError> {
        let mut header = Vec::with_capacity(SQLITE_HEADER.len());
        File::open(self.path)
            .and_then(|f| f.take(SQLITE_HEADER.len() as u64).read_to_end(&mut header))
            .map_err(|e| self.io(e))?;
        if header.is_empty() {
            return Err(self.not_telethon("the file is empty"));
        }
        if header != SQLITE_HEADER {
            return Err(self.not_telethon(
                "not an SQLite database (it does not start with \"SQLite format 3\")",
            ));
        }
        Connection::open_with_flags(
            self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| self.sqlite(e))
    }

    fn close(&self, conn: Connection) -> Result<(), ForeignSessionError> {
        conn.close().map_err(|(_, e)| self.sqlite(e))
    }

    /// Checks the tables, the version and the `sessions` columns this module reads.
    fn check_schema(&self, conn: &Connection) -> Result<(), ForeignSessionError> {
        let tables: BTreeSet<String> = {
            let mut stmt = conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
                .map_err(|e| self.sqlite(e))?;
            let names = stmt
                .query_map([], |row| row.get::<_, String>(0))
                .map_err(|e| self.sqlite(e))?;
            names
                .collect::<Result<_, _>>()
                .map_err(|e| self.sqlite(e))?
        };
        for table in ["version", "sessions"] {
            if !tables.contains(table) {
                return Err(self.not_telethon(format!("it has no `{table}` table")));
            }
        }

        if !self.columns(conn, "version")?.contains("version") {
            return Err(self.not_telethon("its `version` table has no `version` column"));
        }
        let versions = {
            let mut stmt = conn
                .prepare("SELECT version FROM version LIMIT 2")
                .map_err(|e| self.sqlite(e))?;
            let mut rows = stmt.query([]).map_err(|e| self.sqlite(e))?;
            let mut versions = Vec::new();
            while let Some(row) = rows.next().map_err(|e| self.sqlite(e))? {
                versions.push(match row.get_ref(0).map_err(|e| self.sqlite(e))? {
                    ValueRef::Integer(v) => v,
                    other => {
                        return Err(self.not_telethon(format!(
                            "its version is {}, not an integer",
                            describe(other)
                        )))
                    }
                });
            }
            versions
        };
        let version = match versions[..] {
            [version] => version,
            [] => return Err(self.not_telethon("its `version` table is empty")),
            _ => return Err(self.not_telethon("its `version` table has more than one row")),
        };
        if !(1..=VERSION).contains(&version) {
            return Err(ForeignSessionError::TelethonVersion {
                path: self.name(),
                version,
            });
        }

        let columns = self.columns(conn, "sessions")?;
        for column in ["dc_id", "server_address", "port", "auth_key"] {
            if !columns.contains(column) {
                return Err(
                    self.not_telethon(format!("its `sessions` table has no `{column}` column"))
                );
            }
        }
        Ok(())
    }

    /// The names of `table`'s columns (`table` is one of ours, never from the file).
    fn columns(
        &self,
        conn: &Connection,
        table: &str,
    ) -> Result<BTreeSet<String>, ForeignSessionError> {
        let mut stmt = conn
            .prepare("SELECT name FROM pragma_table_info(?1)")
            .map_err(|e| self.sqlite(e))?;
        let names = stmt
            .query_map([table], |row| row.get::<_, String>(0))
            .map_err(|e| self.sqlite(e))?;
        names.collect::<Result<_, _>>().map_err(|e| self.sqlite(e))
    }

    /// The one `sessions` row as a session.
    fn session(&self, conn: &Connection) -> Result<SessionData, ForeignSessionError> {
        let mut stmt = conn
            .prepare("SELECT dc_id, server_address, port, auth_key FROM sessions LIMIT 2")
            .map_err(|e| self.sqlite(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.sqlite(e))?;
        let row = match rows.next().map_err(|e| self.sqlite(e))? {
            Some(row) => row,
            None => {
                return Err(ForeignSessionError::NoKeyInFile { path: self.name() });
            }
        };
        let value = |i: usize| row.get_ref(i).map_err(|e| self.sqlite(e));

        let dc = match value(0)? {
            ValueRef::Integer(dc) => {
                i32::try_from(dc).ok().filter(|&dc| dc > 0).ok_or_else(|| {
                    self.not_telethon(format!("its dc_id {dc} is out of range (1 to 2^31 - 1)"))
                })?
            }
            other => {
                return Err(
                    self.not_telethon(format!("its dc_id is {}, not an integer", describe(other)))
                )
            }
        };
        let ip: IpAddr = match value(1)? {
            ValueRef::Text(text) => std::str::from_utf8(text)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| {
                    self.not_telethon(format!(
                        "its server_address {} is not an IP address",
                        quote(text)
                    ))
                })?,
            other => {
                return Err(self.not_telethon(format!(
                    "its server_address is {}, not text",
                    describe(other)
                )))
            }
        };
        let port =
            match value(2)? {
                ValueRef::Integer(port) => u16::try_from(port)
                    .ok()
                    .filter(|&p| p != 0)
                    .ok_or_else(|| {
                        self.not_telethon(format!("its port {port} is out of range (1 to 65535)"))
                    })?,
                other => {
                    return Err(self
                        .not_telethon(format!("its port is {}, not an integer", describe(other))))
                }
            };
        let key = match value(3)? {
            ValueRef::Null => &[][..],
            ValueRef::Blob(key) => key,
            other => {
                return Err(
                    self.not_telethon(format!("its auth_key is {}, not a blob", describe(other)))
                )
            }
        };
        if key.is_empty() {
            return Err(ForeignSessionError::NoKeyInFile { path: self.name() });
        }
        if key.len() != KEY_LEN {
            return Err(self.not_telethon(format!(
                "its auth_key is {} bytes, not {KEY_LEN}",
                key.len()
            )));
        }
        if is_zero(key) {
            return Err(ForeignSessionError::NoKeyInFile { path: self.name() });
        }
        let session = one_dc_session(dc, SocketAddr::new(ip, port), key, None)
            .ok_or_else(|| ForeignSessionError::NoKeyInFile { path: self.name() })?;
        if rows.next().map_err(|e| self.sqlite(e))?.is_some() {
            return Err(self
                .not_telethon("its `sessions` table has more than one row (Telethon keeps one)"));
        }
        Ok(session)
    }

    /// A new empty file next to the target (an empty file is an empty SQLite database).
    fn create_temp(&self) -> Result<TempFile, ForeignSessionError> {
        let name = self.path.file_name().ok_or_else(|| {
            self.io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path names no file",
            ))
        })?;
        let dir = parent_dir(self.path);
        let mut attempt = 0;
        loop {
            let mut temp_name = OsString::from(name);
            temp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), random_u64()));
            let path = dir.join(temp_name);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&path) {
                Ok(_) => return Ok(TempFile { path, armed: true }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < TEMP_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(self.io(e)),
            }
        }
    }
}

/// A temporary database removed (with its journal) on drop unless disarmed after the rename.
struct TempFile {
    path: PathBuf,
    /// Cleared by [`TempFile::disarm`]: the file was renamed into place.
    armed: bool,
}

impl TempFile {
    /// Keeps the file (it was renamed into place); the value is dropped normally, so
    /// nothing it owns leaks.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let _ = fs::remove_file(&self.path);
        let mut journal = self.path.clone().into_os_string();
        journal.push("-journal");
        let _ = fs::remove_file(journal);
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// A value's SQLite type, for errors (never the value: it may be a key).
fn describe(value: ValueRef<'_>) -> &'static str {
    match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real number",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

/// Text from the file, quoted and cut short.
fn quote(text: &[u8]) -> String {
    let text = String::from_utf8_lossy(text);
    let mut quoted: String = text.chars().take(QUOTE_MAX).collect();
    if text.chars().nth(QUOTE_MAX).is_some() {
        quoted.push_str("...");
    }
    format!("{quoted:?}")
}

/// A value unlikely to repeat, for temporary names (collisions are retried anyway).
fn random_u64() -> u64 {
    use rand::RngCore;
    rand::thread_rng().next_u64()
}
