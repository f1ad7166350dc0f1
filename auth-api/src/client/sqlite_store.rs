//! [`SqliteStore`]: many named sessions in one SQLite database (feature `sqlite`), for
//! programs that hold thousands of accounts, as bridges do.
//!
//! # Layout
//!
//! The database is marked as this program's with `PRAGMA application_id` =
//! [`APPLICATION_ID`] (`"TGLS"`) and `PRAGMA user_version` = [`SCHEMA_VERSION`], and has one
//! table:
//!
//! ```sql
//! CREATE TABLE sessions (name TEXT PRIMARY KEY NOT NULL, data BLOB NOT NULL,
//!                        updated_at INTEGER NOT NULL) STRICT
//! ```
//!
//! `data` is a session in the [`FileStore`](super::FileStore) format (magic, version,
//! length, body, SHA-256), so a row is checked the way a session file is.
//!
//! # Guarantees
//!
//! - Each save is one transaction (WAL journal, `synchronous = FULL`): a process killed at
//!   any point leaves every committed session readable, and never half a session.
//! - A database this program cannot read (not SQLite, another program's, a newer schema) is
//!   refused with [`StoreError::Unusable`] saying why, and left untouched; so is a row that
//!   does not decode (its session cannot be saved over either, as with a session file).
//! - A new database file is created with mode 0600 (SQLite gives its WAL and shared-memory
//!   files the same mode); an existing one of ours is set to 0600 when opened.
//! - One connection serves every session of the store (behind a mutex): concurrent callers
//!   are serialized, and SQLite's busy timeout covers other processes.
//! - Key bytes are never logged or shown by `Debug`; buffers that held them are zeroized.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::file_store::{decode, encode};
use super::session::{SessionData, SessionStore, StoreError};

/// `PRAGMA application_id` of a session database: `"TGLS"`.
pub const APPLICATION_ID: i32 = 0x5447_4C53;
/// `PRAGMA user_version` this program writes, and the newest it reads.
pub const SCHEMA_VERSION: i32 = 1;
/// How long a write waits for another process holding the database.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Many named sessions in one SQLite database (see the [module docs](self)). Cheap to clone;
/// every clone shares the connection.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the session database at `path`. Refuses, leaving it untouched, a
    /// file that is not SQLite, another program's database, or a newer schema.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let path = path.into();
        let unusable = |why: String| StoreError::Unusable {
            path: path.display().to_string(),
            why,
        };
        let created = create_private_file(&path)?;
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| unusable(format!("cannot open it as SQLite: {e}")))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| unusable(format!("cannot set the busy timeout: {e}")))?;
        // Read-only checks first: nothing is written to a database that is not ours.
        let pragma = |name: &str| -> Result<i32, StoreError> {
            conn.query_row(&format!("PRAGMA {name}"), [], |row| row.get(0))
                .map_err(|e| unusable(format!("not a SQLite database ({name}: {e})")))
        };
        let application_id = pragma("application_id")?;
        let user_version = pragma("user_version")?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| unusable(format!("not a SQLite database: {e}")))?;
        let fresh = application_id == 0 && user_version == 0 && tables == 0;
        if !fresh {
            if application_id != APPLICATION_ID {
                return Err(unusable(format!(
                    "another program's database (application_id {application_id:#x}, {tables} tables), not a session database"
                )));
            }
            if user_version > SCHEMA_VERSION {
                return Err(unusable(format!(
                    "schema version {user_version} is newer than this program's {SCHEMA_VERSION}"
                )));
            }
            if user_version < 1 {
                return Err(unusable(format!("unknown schema version {user_version}")));
            }
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| unusable(format!("cannot enable the WAL journal: {e}")))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(|e| unusable(format!("cannot set synchronous: {e}")))?;
        if fresh {
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE;
                 CREATE TABLE IF NOT EXISTS sessions (
                     name TEXT PRIMARY KEY NOT NULL,
                     data BLOB NOT NULL,
                     updated_at INTEGER NOT NULL
                 ) STRICT;
                 PRAGMA application_id = {APPLICATION_ID};
                 PRAGMA user_version = {SCHEMA_VERSION};
                 COMMIT;"
            ))
            .map_err(|e| unusable(format!("cannot create the schema: {e}")))?;
        }
        if !created {
            restrict_mode(&path);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The session named `name`, as a [`SessionStore`] (for [`super::ClientConfig::store`]).
    pub fn session(&self, name: impl Into<String>) -> SqliteSession {
        SqliteSession {
            store: self.clone(),
            name: name.into(),
        }
    }

    /// The names of the stored sessions, in order.
    pub fn names(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.conn();
        let mut statement = conn
            .prepare("SELECT name FROM sessions ORDER BY name")
            .map_err(|e| self.io(e))?;
        let names = statement
            .query_map([], |row| row.get::<_, String>(0))
            .map_err(|e| self.io(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.io(e))?;
        Ok(names)
    }

    /// Deletes the session `name`; `false` if there was none.
    pub fn remove(&self, name: &str) -> Result<bool, StoreError> {
        let conn = self.conn();
        let removed = conn
            .execute("DELETE FROM sessions WHERE name = ?1", [name])
            .map_err(|e| self.io(e))?;
        Ok(removed > 0)
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.inner.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn io(&self, error: rusqlite::Error) -> StoreError {
        StoreError::Io {
            path: self.inner.path.display().to_string(),
            source: std::io::Error::other(error),
        }
    }

    fn unusable_row(&self, name: &str, why: String) -> StoreError {
        StoreError::Unusable {
            path: format!("{} (session {name:?})", self.inner.path.display()),
            why,
        }
    }

    fn load(&self, name: &str) -> Result<Option<SessionData>, StoreError> {
        let conn = self.conn();
        let data: Option<zeroize::Zeroizing<Vec<u8>>> = conn
            .query_row("SELECT data FROM sessions WHERE name = ?1", [name], |row| {
                row.get::<_, Vec<u8>>(0).map(zeroize::Zeroizing::new)
            })
            .optional()
            .map_err(|e| self.io(e))?;
        match data {
            None => Ok(None),
            Some(bytes) => decode(&bytes)
                .map(Some)
                .map_err(|why| self.unusable_row(name, why)),
        }
    }

    fn save(&self, name: &str, data: &SessionData) -> Result<(), StoreError> {
        let bytes = encode(data).map_err(|e| StoreError::Io {
            path: self.inner.path.display().to_string(),
            source: e,
        })?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.io(e))?;
        // Never replace a row this program cannot read (as with a session file).
        let existing: Option<zeroize::Zeroizing<Vec<u8>>> = tx
            .query_row("SELECT data FROM sessions WHERE name = ?1", [name], |row| {
                row.get::<_, Vec<u8>>(0).map(zeroize::Zeroizing::new)
            })
            .optional()
            .map_err(|e| self.io(e))?;
        if let Some(existing) = existing {
            decode(&existing).map_err(|why| self.unusable_row(name, why))?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        tx.execute(
            "INSERT INTO sessions (name, data, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            rusqlite::params![name, &bytes[..], now],
        )
        .map_err(|e| self.io(e))?;
        tx.commit().map_err(|e| self.io(e))
    }
}

/// One named session of a [`SqliteStore`]; a [`SessionStore`].
#[derive(Clone, Debug)]
pub struct SqliteSession {
    store: SqliteStore,
    name: String,
}

impl SqliteSession {
    /// The session's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl SessionStore for SqliteSession {
    fn load(&self) -> Result<Option<SessionData>, StoreError> {
        self.store.load(&self.name)
    }

    fn save(&self, data: &SessionData) -> Result<(), StoreError> {
        self.store.save(&self.name, data)
    }
}

/// Creates `path` empty with mode 0600 if it does not exist; `true` if it was created.
fn create_private_file(path: &Path) -> Result<bool, StoreError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StoreError::Io {
            path: path.display().to_string(),
            source: e,
        }),
    }
}

/// Makes an existing database of ours private (best effort).
fn restrict_mode(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}
