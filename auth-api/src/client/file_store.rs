//! [`FileStore`]: a [`SessionStore`] that keeps the session in one file, replaced atomically.
//!
//! # Format (version 2; version 1 files are still read)
//!
//! A binary file; every integer is little-endian.
//!
//! | offset     | size | content                                                      |
//! |------------|------|--------------------------------------------------------------|
//! | 0          | 16   | magic: `TGLOGIN-SESSION` followed by one zero byte           |
//! | 16         | 4    | format version, `u32` (this program writes `2`, reads 1, 2) |
//! | 20         | 4    | body length `n`, `u32`                                       |
//! | 24         | `n`  | body (below)                                                 |
//! | 24 + `n`   | 32   | SHA-256 of bytes `0 .. 24 + n` (magic, version, length, body) |
//!
//! The body:
//! - home DC: `u8` (0 = none, 1 = some), then `i32` (0 when none);
//! - user id: `u8` (0 = none, 1 = some), then `i64` (0 when none);
//! - keys: `u32` count, then per DC in ascending order: `i32` DC id, the 256 key bytes,
//!   `i64` salt, `i64` time offset;
//! - DC table: `u32` count, then per DC in ascending order: `i32` DC id, `u8` family, then
//!   for family 4: 4 address bytes and a `u16` port; for family 6: 16 address bytes, a `u16`
//!   port, `u32` flow info and `u32` scope id;
//! - (version 2 only) future auth tokens, newest first: `u32` count, then per token a `u32`
//!   length and its bytes (a token is at most 1024 bytes, at most 20 tokens).
//!
//! A reader checks the magic first, then the version (a newer version may lay out the rest
//! differently), then the length, then the checksum, and only then parses the body.
//!
//! # Guarantees
//!
//! - [`FileStore::load`] never modifies the file; a missing file is `Ok(None)`; anything it
//!   cannot read (empty, truncated, corrupt, foreign, newer) is [`StoreError::Unusable`] saying
//!   why.
//! - [`FileStore::save`] writes a temporary file `<name>.tmp-<pid>-<random>` in the same
//!   directory (mode 0600 on unix), syncs it, renames it over the target and syncs the
//!   directory: the target is always either the old file or the new one, never a mix. It
//!   refuses (with the same `Unusable` error) to replace a file `load` cannot read, which is
//!   left byte-identical. When the target is a symbolic link, the link itself is replaced.
//! - Concurrent saves (threads or processes) each write their own temporary file; the last
//!   rename wins. The check of the existing file and the rename are not one atomic step: a
//!   foreign file written between the two by another program can still be replaced.
//! - Key and token bytes are never logged or shown by `Debug`; buffers that held them are
//!   zeroized.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};

use mtproto_net::StoredAuth;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::session::{FutureAuthToken, SessionData, SessionStore, StoreError};

/// The 16 bytes every session file starts with.
const MAGIC: &[u8; 16] = b"TGLOGIN-SESSION\0";
/// The format version this program writes, and the newest it reads.
const VERSION: u32 = 2;
/// The oldest format version this program reads (it has no future auth tokens).
const OLDEST_VERSION: u32 = 1;
/// The longest future auth token a file may hold.
const MAX_TOKEN_LEN: usize = 1024;
/// Magic, version and body length.
const HEADER_LEN: usize = 24;
/// The SHA-256 at the end.
const CHECKSUM_LEN: usize = 32;
/// Length of an authorization key.
const KEY_LEN: usize = 256;
/// A session file is a few kilobytes; anything much larger is not one.
const MAX_FILE_LEN: u64 = 16 << 20;
/// Attempts at a fresh temporary name before giving up.
const TEMP_ATTEMPTS: u32 = 16;

/// A [`SessionStore`] backed by one file (format and guarantees in the module docs).
///
/// `Debug` shows only the path: the store keeps no session data in memory.
#[derive(Clone, Debug)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store for the file at `path` (nothing is read or created until `load` or `save`).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io_error(path: &Path, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn unusable(&self, why: String) -> StoreError {
        StoreError::Unusable {
            path: self.path.display().to_string(),
            why,
        }
    }

    /// The file's bytes, `None` when there is no file.
    fn read_bytes(&self) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Self::io_error(&self.path, e)),
        };
        let len = file
            .metadata()
            .map_err(|e| Self::io_error(&self.path, e))?
            .len();
        if len > MAX_FILE_LEN {
            return Err(self.unusable(format!(
                "{len} bytes is too large for a session file (at most {MAX_FILE_LEN})"
            )));
        }
        // Exact capacity, so reading does not reallocate and leave copies of the key behind.
        let mut bytes = Zeroizing::new(Vec::with_capacity(len as usize + 1));
        (&mut file)
            .take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Self::io_error(&self.path, e))?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(self.unusable(format!(
                "larger than {MAX_FILE_LEN} bytes: too large for a session file"
            )));
        }
        Ok(Some(bytes))
    }

    /// Writes `bytes` to a fresh temporary file next to the target, synced, and returns it.
    fn write_temp(&self, bytes: &[u8]) -> Result<TempFile, StoreError> {
        let invalid = || {
            Self::io_error(
                &self.path,
                io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
            )
        };
        let name = self.path.file_name().ok_or_else(invalid)?;
        let dir = parent_dir(&self.path);
        let mut attempt = 0;
        let (temp, mut file) = loop {
            let mut temp_name = OsString::from(name);
            temp_name.push(format!(".tmp-{}-{:016x}", std::process::id(), random_u64()));
            let temp_path = dir.join(temp_name);
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(&temp_path) {
                Ok(file) => {
                    let temp = TempFile {
                        path: temp_path,
                        armed: true,
                    };
                    break (temp, file);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < TEMP_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(Self::io_error(&temp_path, e)),
            }
        };
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Self::io_error(&temp.path, e))?;
        Ok(temp)
    }
}

impl SessionStore for FileStore {
    fn load(&self) -> Result<Option<SessionData>, StoreError> {
        match self.read_bytes()? {
            None => Ok(None),
            Some(bytes) => decode(&bytes).map(Some).map_err(|why| self.unusable(why)),
        }
    }

    fn save(&self, data: &SessionData) -> Result<(), StoreError> {
        // Never replace a file this program cannot read: it may be another program's, or a
        // newer version's.
        if let Some(existing) = self.read_bytes()? {
            decode(&existing).map_err(|why| self.unusable(why))?;
        }
        let bytes = encode(data).map_err(|e| Self::io_error(&self.path, e))?;
        let temp = self.write_temp(&bytes)?;
        fs::rename(&temp.path, &self.path).map_err(|e| Self::io_error(&self.path, e))?;
        temp.disarm();
        sync_dir(parent_dir(&self.path));
        Ok(())
    }
}

/// A temporary file removed on drop unless [`TempFile::disarm`]ed (after the rename).
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
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Makes the rename durable; platforms that cannot open or sync a directory are ignored.
fn sync_dir(dir: &Path) {
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
}

/// A value unlikely to repeat, for temporary names (collisions are retried anyway).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(now);
    hasher.finish()
}

fn too_large(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("the session has too many {what} to store"),
    )
}

/// The file's bytes for `data`.
pub(super) fn encode(data: &SessionData) -> io::Result<Zeroizing<Vec<u8>>> {
    let dcs_len: usize = data
        .dcs
        .values()
        .map(|addr| match addr {
            SocketAddr::V4(_) => 4 + 1 + 4 + 2,
            SocketAddr::V6(_) => 4 + 1 + 16 + 2 + 4 + 4,
        })
        .sum();
    let tokens = &data.future_auth_tokens[..data
        .future_auth_tokens
        .len()
        .min(super::session::MAX_FUTURE_AUTH_TOKENS)];
    if tokens.iter().any(|t| t.as_bytes().len() > MAX_TOKEN_LEN) {
        return Err(too_large("bytes in a future auth token"));
    }
    let tokens_len: usize = tokens.iter().map(|t| 4 + t.as_bytes().len()).sum();
    let body_len = (1 + 4)
        + (1 + 8)
        + 4
        + data.keys.len() * (4 + KEY_LEN + 8 + 8)
        + 4
        + dcs_len
        + 4
        + tokens_len;
    let body_len_u32 = u32::try_from(body_len).map_err(|_| too_large("entries"))?;
    let key_count = u32::try_from(data.keys.len()).map_err(|_| too_large("keys"))?;
    let dc_count = u32::try_from(data.dcs.len()).map_err(|_| too_large("DCs"))?;

    // Exact capacity: the buffer never reallocates, so no stray copy of a key is left.
    let mut out = Zeroizing::new(Vec::with_capacity(HEADER_LEN + body_len + CHECKSUM_LEN));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&body_len_u32.to_le_bytes());

    out.push(u8::from(data.home_dc.is_some()));
    out.extend_from_slice(&data.home_dc.unwrap_or(0).to_le_bytes());
    out.push(u8::from(data.user_id.is_some()));
    out.extend_from_slice(&data.user_id.unwrap_or(0).to_le_bytes());

    out.extend_from_slice(&key_count.to_le_bytes());
    for (dc, auth) in &data.keys {
        out.extend_from_slice(&dc.to_le_bytes());
        out.extend_from_slice(auth.auth_key.as_bytes());
        out.extend_from_slice(&auth.salt.to_le_bytes());
        out.extend_from_slice(&auth.time_offset.to_le_bytes());
    }

    out.extend_from_slice(&dc_count.to_le_bytes());
    for (dc, addr) in &data.dcs {
        out.extend_from_slice(&dc.to_le_bytes());
        match addr {
            SocketAddr::V4(addr) => {
                out.push(4);
                out.extend_from_slice(&addr.ip().octets());
                out.extend_from_slice(&addr.port().to_le_bytes());
            }
            SocketAddr::V6(addr) => {
                out.push(6);
                out.extend_from_slice(&addr.ip().octets());
                out.extend_from_slice(&addr.port().to_le_bytes());
                out.extend_from_slice(&addr.flowinfo().to_le_bytes());
                out.extend_from_slice(&addr.scope_id().to_le_bytes());
            }
        }
    }
    out.extend_from_slice(&(tokens.len() as u32).to_le_bytes());
    for token in tokens {
        out.extend_from_slice(&(token.as_bytes().len() as u32).to_le_bytes());
        out.extend_from_slice(token.as_bytes());
    }
    debug_assert_eq!(out.len(), HEADER_LEN + body_len);

    let checksum = Sha256::digest(&out[..]);
    out.extend_from_slice(&checksum);
    Ok(out)
}

/// Reads a session file's bytes; `Err` says what is wrong with them.
pub(super) fn decode(bytes: &[u8]) -> Result<SessionData, String> {
    let len = bytes.len();
    let truncated = |expected: usize| {
        format!("truncated at byte {len} (a complete file here has {expected} bytes or more)")
    };

    // Magic: a strict prefix of it is a truncated session file, anything else a foreign one.
    let magic_seen = &bytes[..len.min(MAGIC.len())];
    if magic_seen != &MAGIC[..magic_seen.len()] {
        return Err("wrong magic: not a TGLOGIN-SESSION file".into());
    }
    if len < MAGIC.len() + 4 {
        return Err(truncated(HEADER_LEN + CHECKSUM_LEN));
    }

    let version = u32_at(bytes, 16);
    if version > VERSION {
        return Err(format!(
            "format version {version} is newer than this program's {VERSION}"
        ));
    }
    if version < OLDEST_VERSION {
        return Err(format!(
            "unknown format version {version} (this program reads versions {OLDEST_VERSION} to {VERSION})"
        ));
    }

    if len < HEADER_LEN {
        return Err(truncated(HEADER_LEN + CHECKSUM_LEN));
    }
    let body_len = u32_at(bytes, 20) as usize;
    // Saturating: a corrupt length must not overflow on 32-bit targets.
    let expected = HEADER_LEN
        .saturating_add(body_len)
        .saturating_add(CHECKSUM_LEN);
    if len < expected {
        return Err(format!(
            "truncated at byte {len} (the header announces {expected} bytes)"
        ));
    }
    if len > expected {
        return Err(format!(
            "{} unexpected bytes after the end at byte {expected}",
            len - expected
        ));
    }

    let (content, checksum) = bytes.split_at(HEADER_LEN + body_len);
    if Sha256::digest(content).as_slice() != checksum {
        return Err("checksum mismatch: the file is corrupt".into());
    }

    let mut body = Body {
        bytes: &content[HEADER_LEN..],
        pos: 0,
    };
    let data = body.session(version)?;
    if body.pos != body.bytes.len() {
        return Err(body.malformed("unexpected bytes after the session"));
    }
    Ok(data)
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

/// A cursor over the body (checksum already verified, so errors here mean a writer's bug).
struct Body<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Body<'a> {
    fn malformed(&self, what: &str) -> String {
        format!("malformed body at byte {}: {what}", HEADER_LEN + self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| self.malformed("ends early"))?;
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, String> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn i32(&mut self) -> Result<i32, String> {
        self.array().map(i32::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, String> {
        self.array().map(i64::from_le_bytes)
    }

    fn present(&mut self, what: &str) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.malformed(&format!("bad presence flag for the {what}"))),
        }
    }

    fn session(&mut self, version: u32) -> Result<SessionData, String> {
        let has_home = self.present("home DC")?;
        let home_dc = self.i32()?;
        let has_user = self.present("user id")?;
        let user_id = self.i64()?;

        let mut keys = BTreeMap::new();
        for _ in 0..self.u32()? {
            let dc = self.i32()?;
            let key = self.take(KEY_LEN)?;
            let salt = self.i64()?;
            let time_offset = self.i64()?;
            let auth = StoredAuth::from_bytes(key, salt, time_offset)
                .ok_or_else(|| self.malformed("bad key"))?;
            if keys.insert(dc, auth).is_some() {
                return Err(self.malformed(&format!("two keys for DC {dc}")));
            }
        }

        let mut dcs = BTreeMap::new();
        for _ in 0..self.u32()? {
            let dc = self.i32()?;
            let addr = match self.u8()? {
                4 => {
                    let ip = Ipv4Addr::from(self.array::<4>()?);
                    SocketAddr::V4(SocketAddrV4::new(ip, self.u16()?))
                }
                6 => {
                    let ip = Ipv6Addr::from(self.array::<16>()?);
                    let port = self.u16()?;
                    let flowinfo = self.u32()?;
                    let scope_id = self.u32()?;
                    SocketAddr::V6(SocketAddrV6::new(ip, port, flowinfo, scope_id))
                }
                family => return Err(self.malformed(&format!("unknown address family {family}"))),
            };
            if dcs.insert(dc, addr).is_some() {
                return Err(self.malformed(&format!("two addresses for DC {dc}")));
            }
        }

        let mut future_auth_tokens = Vec::new();
        if version >= 2 {
            let count = self.u32()? as usize;
            if count > super::session::MAX_FUTURE_AUTH_TOKENS {
                return Err(self.malformed(&format!("{count} future auth tokens")));
            }
            for _ in 0..count {
                let len = self.u32()? as usize;
                if len > MAX_TOKEN_LEN {
                    return Err(self.malformed(&format!("a {len}-byte future auth token")));
                }
                future_auth_tokens.push(FutureAuthToken::new(self.take(len)?.to_vec()));
            }
        }

        Ok(SessionData {
            home_dc: has_home.then_some(home_dc),
            keys,
            dcs,
            user_id: has_user.then_some(user_id),
            future_auth_tokens,
        })
    }
}
