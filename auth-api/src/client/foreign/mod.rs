//! Sessions from (and for) other libraries: a [`SessionData`] made from a Telethon or
//! Pyrogram session, and those libraries' sessions made from a [`SessionData`], so an account
//! moves between them without a new login (and without a new key exchange: the
//! authorization key moves with it).
//!
//! | format                                 | import                          | export                          |
//! |----------------------------------------|---------------------------------|---------------------------------|
//! | Telethon 1.45 `StringSession`          | [`telethon::import_string`]     | [`telethon::export_string`]     |
//! | Telethon 1.45 `.session` file (SQLite) | `telethon::import_file`         | `telethon::export_file`         |
//! | Pyrogram session string                | [`pyrogram::import_string`]     | [`pyrogram::export_string`]     |
//! | any of the strings                     | [`parse_session_string`]        |                                 |
//!
//! The `.session` file functions need the `sqlite` feature.
//!
//! What moves: the DC the account lives on, its address and the authorization key of that
//! DC. The others keep one key and one DC, so an import gives a session with only that DC's
//! key (the client exchanges keys for other DCs as it needs them), salt 0 and clock offset 0
//! (the server corrects both on the first request). Telethon does not keep the user id;
//! Pyrogram does, and also the `api_id`, test mode and whether the user is a bot
//! ([`PyrogramExtras`]).
//!
//! Guarantees: malformed input gives a [`ForeignSessionError`] that names what is wrong and
//! where (never a panic); reading a file never modifies it; authorization keys are never in
//! an error, a log or `Debug` output, and the buffers that held them are zeroized (the
//! strings returned by the exports are [`Zeroizing`] too).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use mtproto_net::StoredAuth;
use zeroize::Zeroizing;

use super::session::SessionData;

mod base64;
pub mod pyrogram;
pub mod telethon;
#[cfg(feature = "sqlite")]
mod telethon_file;

/// Length of an authorization key.
const KEY_LEN: usize = 256;

/// The session string formats [`parse_session_string`] recognizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StringFormat {
    /// Telethon's `StringSession` (version `1`): 353 characters for an IPv4 DC address, 369
    /// for IPv6.
    Telethon,
    /// Pyrogram's current layout, `>BI?256sQ?` (with the `api_id`): 362 characters.
    Pyrogram,
    /// Pyrogram's oldest layout, `>B?256sI?` (32-bit user id, no `api_id`): 351 characters.
    PyrogramOld32,
    /// Pyrogram's older layout, `>B?256sQ?` (64-bit user id, no `api_id`): 356 characters.
    PyrogramOld64,
}

impl std::fmt::Display for StringFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Telethon => "Telethon StringSession",
            Self::Pyrogram => "Pyrogram session string",
            Self::PyrogramOld32 => "Pyrogram session string (old layout, 32-bit user id)",
            Self::PyrogramOld64 => "Pyrogram session string (old layout, 64-bit user id)",
        })
    }
}

/// What a Pyrogram session string holds besides the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PyrogramExtras {
    /// The `api_id` the session was made with (`None` in the older layouts, which lack it).
    pub api_id: Option<i32>,
    /// Whether the session is for Telegram's test servers.
    pub test_mode: bool,
    /// Whether the signed-in user is a bot.
    pub is_bot: bool,
}

/// A session read from another library's session string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedSession {
    /// The session: home DC, its key and address, and the user id when the format has it.
    /// Pre-load a [`super::SessionStore`] with it to start a [`super::Client`] from it.
    pub session: SessionData,
    /// The format the string was in.
    pub format: StringFormat,
    /// For a Pyrogram string, the rest of what it held; `None` for Telethon.
    pub pyrogram: Option<PyrogramExtras>,
}

/// Why a session could not be imported or exported. Nothing is changed when this is
/// returned (no file is written or modified).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ForeignSessionError {
    /// The string is empty (or only whitespace).
    #[error("the session string is empty")]
    Empty,
    /// The string's length is none of the formats' lengths.
    #[error(
        "not a session string this crate reads: {len} characters is neither a Telethon \
         StringSession (353 or 369) nor a Pyrogram session string (362; older layouts 351 or 356)"
    )]
    Unrecognized {
        /// The string's length in bytes.
        len: usize,
    },
    /// The string has the wrong length for its format.
    #[error("{format}: wrong length {len}, expected {expected}")]
    WrongLength {
        /// The format.
        format: StringFormat,
        /// The string's length in bytes.
        len: usize,
        /// The lengths the format has.
        expected: &'static str,
    },
    /// A Telethon string with a version character other than `1`.
    #[error(
        "Telethon StringSession: unknown version character {found:?} (Telethon 1.45 writes '1')"
    )]
    UnknownVersion {
        /// The first character.
        found: char,
    },
    /// The base64 part is not what the format writes.
    #[error("{format}: bad base64 at character {at}: {why}")]
    Base64 {
        /// The format.
        format: StringFormat,
        /// The character's 0-based position in the whole string.
        at: usize,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The DC id is 0.
    #[error("{format}: DC id 0 (DC ids start at 1)")]
    DcIdZero {
        /// The format.
        format: StringFormat,
    },
    /// The port is 0.
    #[error("{format}: port 0")]
    PortZero {
        /// The format.
        format: StringFormat,
    },
    /// A boolean byte is neither 0 nor 1.
    #[error("{format}: the {field} byte (offset {offset}) is {value}, not 0 or 1")]
    NotABool {
        /// The format.
        format: StringFormat,
        /// The field.
        field: &'static str,
        /// Its offset in the decoded bytes.
        offset: usize,
        /// The byte.
        value: u8,
    },
    /// The key bytes are all zero: the session has no authorization key.
    #[error("{format}: the authorization key is all zeros (the session has no key)")]
    NoAuthKey {
        /// The format.
        format: StringFormat,
    },
    /// A user id that is not a positive 64-bit signed id.
    #[error("{format}: user id {user_id} is out of range (1 to 2^63 - 1)")]
    UserIdOutOfRange {
        /// The format.
        format: StringFormat,
        /// The user id.
        user_id: i128,
    },
    /// An `api_id` that does not fit (Pyrogram stores it unsigned, this crate as `i32`).
    #[error("{format}: api_id {api_id} is out of range (0 to 2^31 - 1)")]
    ApiIdOutOfRange {
        /// The format.
        format: StringFormat,
        /// The `api_id`.
        api_id: i64,
    },
    /// The string's DC is not in the DC table given to the import (Pyrogram strings carry
    /// no address).
    #[error("{format}: DC {dc} is not in the DC table, so it has no address")]
    UnknownDc {
        /// The format.
        format: StringFormat,
        /// The DC.
        dc: i32,
    },
    /// Export: the session has no home DC (it never connected).
    #[error("the session has no home DC (it never connected), so there is nothing to export")]
    NoHomeDc,
    /// Export: the session has no key for its home DC.
    #[error("the session has no authorization key for its home DC {dc}")]
    NoKey {
        /// The home DC.
        dc: i32,
    },
    /// Export: the session has no address for its home DC.
    #[error("the session has no address for its home DC {dc}")]
    NoAddress {
        /// The home DC.
        dc: i32,
    },
    /// Export: the format keeps the DC id in one byte and the home DC does not fit.
    #[error("{format} keeps the DC id in one byte: DC {dc} does not fit")]
    DcIdOutOfRange {
        /// The format.
        format: StringFormat,
        /// The home DC.
        dc: i32,
    },
    /// Export: the format needs the user id and the session is not logged in.
    #[error("{format} needs the user id, and the session is not logged in")]
    NotLoggedIn {
        /// The format.
        format: StringFormat,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not a Telethon session file (or is a damaged one); it was not changed.
    #[error("{path} is not a Telethon session file: {why}")]
    NotTelethonFile {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// A Telethon session file of a schema version this crate does not read (newer than
    /// Telethon 1.45's 8); it was not changed.
    #[error(
        "{path} is a Telethon session file of schema version {version}; this reads versions 1 \
         to 8 (Telethon 1.45 writes 8)"
    )]
    TelethonVersion {
        /// The file.
        path: String,
        /// Its `version` table's value.
        version: i64,
    },
    /// A Telethon session file without an authorization key (the client never connected,
    /// or the key was removed).
    #[error("the Telethon session file {path} holds no authorization key")]
    NoKeyInFile {
        /// The file.
        path: String,
    },
    /// SQLite failed on a `.session` file.
    #[cfg(feature = "sqlite")]
    #[error("{path}: SQLite: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

/// Reads a session string of any format this module knows, recognized by its length (and
/// Telethon's version character): Telethon's `StringSession` (353 or 369 characters,
/// starting with `1`) or a Pyrogram session string (362 characters, or 351 / 356 for the
/// older layouts). Whitespace around the string is ignored (a pasted line's newline).
///
/// `dcs` gives a Pyrogram string's DC its address (Pyrogram strings carry none), e.g.
/// [`super::ClientConfig::dcs`]; Telethon strings carry their own.
pub fn parse_session_string(
    s: &str,
    dcs: &BTreeMap<i32, SocketAddr>,
) -> Result<ImportedSession, ForeignSessionError> {
    let s = s.trim_ascii();
    match s.len() {
        0 => Err(ForeignSessionError::Empty),
        telethon::IPV4_LEN | telethon::IPV6_LEN => Ok(ImportedSession {
            session: telethon::import_string(s)?,
            format: StringFormat::Telethon,
            pyrogram: None,
        }),
        pyrogram::CURRENT_LEN | pyrogram::OLD32_LEN | pyrogram::OLD64_LEN => {
            pyrogram::import_string(s, dcs)
        }
        // A Telethon string of the wrong length: say so rather than "unrecognized".
        len if s.starts_with(telethon::VERSION) => Err(ForeignSessionError::WrongLength {
            format: StringFormat::Telethon,
            len,
            expected: telethon::EXPECTED_LENGTHS,
        }),
        len => Err(ForeignSessionError::Unrecognized { len }),
    }
}

/// The home DC, its key and its address: what both Telethon exports need.
fn home_parts(
    session: &SessionData,
) -> Result<(i32, &StoredAuth, SocketAddr), ForeignSessionError> {
    let dc = session.home_dc.ok_or(ForeignSessionError::NoHomeDc)?;
    let auth = session
        .keys
        .get(&dc)
        .ok_or(ForeignSessionError::NoKey { dc })?;
    let addr = *session
        .dcs
        .get(&dc)
        .ok_or(ForeignSessionError::NoAddress { dc })?;
    Ok((dc, auth, addr))
}

/// A session with one DC: `dc` at `addr` with `key` (salt and clock offset 0).
fn one_dc_session(
    dc: i32,
    addr: SocketAddr,
    key: &[u8],
    user_id: Option<i64>,
) -> Option<SessionData> {
    let auth = StoredAuth::from_bytes(key, 0, 0)?;
    Some(SessionData {
        home_dc: Some(dc),
        keys: BTreeMap::from([(dc, auth)]),
        dcs: BTreeMap::from([(dc, addr)]),
        user_id,
        future_auth_tokens: Vec::new(),
    })
}

/// Whether `key` is all zeros (Telethon and Pyrogram both mean "no key" by that).
fn is_zero(key: &[u8]) -> bool {
    key.iter().fold(0u8, |acc, b| acc | b) == 0
}

/// Splits fixed-size fields off decoded bytes (lengths are checked before it is used).
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The next `n` bytes; `None` past the end (never for a length-checked input).
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let field = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(field)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    /// The offset of the next field.
    fn pos(&self) -> usize {
        self.pos
    }
}

/// Decodes the base64 part of a string of `format` that starts at `offset` in the whole
/// string (positions in errors count from the start of the whole string).
fn decode(
    text: &str,
    offset: usize,
    padding: base64::Padding,
    format: StringFormat,
) -> Result<Zeroizing<Vec<u8>>, ForeignSessionError> {
    base64::decode(text, padding).map_err(|e| ForeignSessionError::Base64 {
        format,
        at: offset + e.at,
        why: e.why,
    })
}
