//! Pyrogram's session strings: URL-safe base64 with the `=` padding stripped, of one of three
//! big-endian layouts (Python `struct` formats), told apart by the string's length:
//!
//! | layout                           | format       | bytes | characters |
//! |----------------------------------|--------------|-------|------------|
//! | current                          | `>BI?256sQ?` | 271   | 362        |
//! | old, 32-bit user id (read only)  | `>B?256sI?`  | 263   | 351        |
//! | old, 64-bit user id (read only)  | `>B?256sQ?`  | 267   | 356        |
//!
//! The current layout, field by field:
//!
//! | offset | size | field                      |
//! |--------|------|----------------------------|
//! | 0      | 1    | DC id                      |
//! | 1      | 4    | `api_id` (unsigned)        |
//! | 5      | 1    | test mode (0 or 1)         |
//! | 6      | 256  | authorization key          |
//! | 262    | 8    | user id (unsigned)         |
//! | 270    | 1    | is a bot (0 or 1)          |
//!
//! The old layouts have no `api_id`: DC id, test mode, key, user id (4 or 8 bytes), is a bot.
//! The strings carry no address: an import takes the DC's address from a DC table.
//!
//! Like Pyrogram, this tells the layouts apart by length alone, so a current string cut to
//! 351 or 356 characters can read as an old one (with another key and user id); the
//! result's `format` says which layout was read.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use zeroize::Zeroizing;

use super::base64::{self, Padding};
use super::{is_zero, one_dc_session, Fields, ForeignSessionError, StringFormat};
use super::{ImportedSession, PyrogramExtras, SessionData, KEY_LEN};

/// The current layout's string length.
pub(super) const CURRENT_LEN: usize = 362;
/// The oldest layout's string length (32-bit user id).
pub(super) const OLD32_LEN: usize = 351;
/// The older layout's string length (64-bit user id).
pub(super) const OLD64_LEN: usize = 356;

/// The current layout's decoded length.
const CURRENT_BYTES: usize = 1 + 4 + 1 + KEY_LEN + 8 + 1;

/// What a Pyrogram session string needs besides the session (its fields in the current
/// layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PyrogramExport {
    /// The application's `api_id` (e.g. [`crate::client::ClientConfig::api_id`]).
    pub api_id: i32,
    /// Whether the session is for Telegram's test servers.
    pub test_mode: bool,
    /// Whether the signed-in user is a bot.
    pub is_bot: bool,
}

/// Reads a Pyrogram session string of any of its layouts (see the [module docs](self)),
/// recognized by its length. `dcs` gives the string's DC its address (e.g.
/// [`crate::client::ClientConfig::dcs`]; take the test servers' table for a string whose
/// test mode is set). A user id of 0 is read as "not known".
///
/// The result's `pyrogram` is always `Some`, with the `api_id`, test mode and bot flag.
pub fn import_string(
    s: &str,
    dcs: &BTreeMap<i32, SocketAddr>,
) -> Result<ImportedSession, ForeignSessionError> {
    let format = match s.len() {
        CURRENT_LEN => StringFormat::Pyrogram,
        OLD32_LEN => StringFormat::PyrogramOld32,
        OLD64_LEN => StringFormat::PyrogramOld64,
        len => {
            return Err(ForeignSessionError::WrongLength {
                format: StringFormat::Pyrogram,
                len,
                expected: "362 (351 or 356 for the older layouts)",
            })
        }
    };
    let bytes = super::decode(s, 0, Padding::Stripped, format)?;
    let expected = match format {
        StringFormat::PyrogramOld32 => 1 + 1 + KEY_LEN + 4 + 1,
        StringFormat::PyrogramOld64 => 1 + 1 + KEY_LEN + 8 + 1,
        _ => CURRENT_BYTES,
    };
    if bytes.len() != expected {
        // Not reached: unpadded base64 of this many characters is exactly this long.
        return Err(truncated(format, s.len()));
    }
    let mut fields = Fields::new(&bytes);
    let bool_at = |fields: &mut Fields<'_>, field: &'static str| {
        let offset = fields.pos();
        match fields.u8() {
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(value) => Err(ForeignSessionError::NotABool {
                format,
                field,
                offset,
                value,
            }),
            None => Err(truncated(format, s.len())),
        }
    };

    let dc = fields.u8().ok_or_else(|| truncated(format, s.len()))?;
    let api_id = match format {
        StringFormat::Pyrogram => {
            let raw = u32::from_be_bytes(fields.array().ok_or_else(|| truncated(format, s.len()))?);
            let api_id = i32::try_from(raw).map_err(|_| ForeignSessionError::ApiIdOutOfRange {
                format,
                api_id: i64::from(raw),
            })?;
            Some(api_id)
        }
        _ => None,
    };
    let test_mode = bool_at(&mut fields, "test_mode")?;
    let key = fields
        .take(KEY_LEN)
        .ok_or_else(|| truncated(format, s.len()))?;
    let user_id = match format {
        StringFormat::PyrogramOld32 => fields.array().map(|b| u64::from(u32::from_be_bytes(b))),
        _ => fields.array().map(u64::from_be_bytes),
    }
    .ok_or_else(|| truncated(format, s.len()))?;
    let is_bot = bool_at(&mut fields, "is_bot")?;

    if dc == 0 {
        return Err(ForeignSessionError::DcIdZero { format });
    }
    if is_zero(key) {
        return Err(ForeignSessionError::NoAuthKey { format });
    }
    let user_id = match user_id {
        0 => None,
        id => Some(
            i64::try_from(id).map_err(|_| ForeignSessionError::UserIdOutOfRange {
                format,
                user_id: i128::from(id),
            })?,
        ),
    };
    let dc = i32::from(dc);
    let addr = *dcs
        .get(&dc)
        .ok_or(ForeignSessionError::UnknownDc { format, dc })?;
    let session =
        one_dc_session(dc, addr, key, user_id).ok_or(ForeignSessionError::NoAuthKey { format })?;
    Ok(ImportedSession {
        session,
        format,
        pyrogram: Some(PyrogramExtras {
            api_id,
            test_mode,
            is_bot,
        }),
    })
}

/// The error for fields missing after the length check (it does not happen: the length
/// fixes the decoded size).
fn truncated(format: StringFormat, len: usize) -> ForeignSessionError {
    ForeignSessionError::WrongLength {
        format,
        len,
        expected: "362 (351 or 356 for the older layouts)",
    }
}

/// A Pyrogram session string (current layout) for `session`: its home DC's id and key, the
/// user id, and `extra`'s `api_id`, test mode and bot flag. The string is the account's
/// credentials: it is zeroized when dropped.
///
/// Errors: no home DC or no key for it, a home DC above 255, a session that is not logged
/// in (Pyrogram needs the user id), a negative user id or `api_id`.
pub fn export_string(
    session: &SessionData,
    extra: &PyrogramExport,
) -> Result<Zeroizing<String>, ForeignSessionError> {
    let format = StringFormat::Pyrogram;
    let dc = session.home_dc.ok_or(ForeignSessionError::NoHomeDc)?;
    let auth = session
        .keys
        .get(&dc)
        .ok_or(ForeignSessionError::NoKey { dc })?;
    let dc_byte = u8::try_from(dc)
        .ok()
        .filter(|&d| d != 0)
        .ok_or(ForeignSessionError::DcIdOutOfRange { format, dc })?;
    let user_id = session
        .user_id
        .ok_or(ForeignSessionError::NotLoggedIn { format })?;
    let user_id = u64::try_from(user_id).ok().filter(|&id| id != 0).ok_or(
        ForeignSessionError::UserIdOutOfRange {
            format,
            user_id: i128::from(user_id),
        },
    )?;
    let api_id = u32::try_from(extra.api_id).map_err(|_| ForeignSessionError::ApiIdOutOfRange {
        format,
        api_id: i64::from(extra.api_id),
    })?;

    let mut bytes = Zeroizing::new(Vec::with_capacity(CURRENT_BYTES));
    bytes.push(dc_byte);
    bytes.extend_from_slice(&api_id.to_be_bytes());
    bytes.push(u8::from(extra.test_mode));
    bytes.extend_from_slice(auth.auth_key.as_bytes());
    bytes.extend_from_slice(&user_id.to_be_bytes());
    bytes.push(u8::from(extra.is_bot));
    Ok(base64::encode(&bytes, Padding::Stripped))
}
