//! Telethon 1.45's sessions: the `StringSession` string and (with the `sqlite` feature) the
//! `.session` SQLite file.
//!
//! # `StringSession`
//!
//! The version character `1`, then URL-safe base64 (with `=` padding) of, big-endian:
//!
//! | offset | size    | field                                  |
//! |--------|---------|----------------------------------------|
//! | 0      | 1       | DC id                                  |
//! | 1      | 4 or 16 | the DC's IP address (IPv4 or IPv6)     |
//! | 5, 17  | 2       | port                                   |
//! | 7, 19  | 256     | authorization key                      |
//!
//! 263 bytes (352 base64 characters, 353 with the version) for IPv4, 275 bytes (368, 369)
//! for IPv6. Telethon tells the two apart by length, as this module does.
//!
//! # `.session` file
//!
//! (With the `sqlite` feature.) An SQLite database, schema version 8 in Telethon 1.45:
//! tables `version (version)`, `sessions (dc_id, server_address, port, auth_key,
//! takeout_id, tmp_auth_key)` with one row, `entities`, `sent_files` and `update_state`.
//! `import_file` reads versions 1 to 8 (the four `sessions` columns it needs have been there
//! since version 1) and `export_file` writes version 8 with every table, as Telethon 1.45
//! creates them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use zeroize::Zeroizing;

use super::base64::{self, Padding};
use super::{home_parts, is_zero, one_dc_session, Fields, ForeignSessionError, StringFormat};
use super::{SessionData, KEY_LEN};

#[cfg(feature = "sqlite")]
pub use super::telethon_file::{export_file, import_file};

/// The version character Telethon 1.45 writes and reads.
pub(super) const VERSION: char = '1';
/// A string with an IPv4 address: the version and 352 base64 characters.
pub(super) const IPV4_LEN: usize = 1 + 352;
/// A string with an IPv6 address: the version and 368 base64 characters.
pub(super) const IPV6_LEN: usize = 1 + 368;
/// The lengths, for errors.
pub(super) const EXPECTED_LENGTHS: &str = "353 (IPv4 address) or 369 (IPv6 address)";

const FORMAT: StringFormat = StringFormat::Telethon;

/// Reads a Telethon `StringSession` string (layout in the [module docs](self)): the session
/// of its DC, with that DC's address and key (salt and clock offset 0, no user id: the
/// string has none).
pub fn import_string(s: &str) -> Result<SessionData, ForeignSessionError> {
    let mut chars = s.chars();
    match chars.next() {
        None => return Err(ForeignSessionError::Empty),
        Some(VERSION) => {}
        Some(found) => return Err(ForeignSessionError::UnknownVersion { found }),
    }
    let ip_len = match s.len() {
        IPV4_LEN => 4,
        IPV6_LEN => 16,
        len => {
            return Err(ForeignSessionError::WrongLength {
                format: FORMAT,
                len,
                expected: EXPECTED_LENGTHS,
            })
        }
    };
    let bytes = super::decode(chars.as_str(), 1, Padding::Required, FORMAT)?;
    let expected = 1 + ip_len + 2 + KEY_LEN;
    if bytes.len() != expected {
        // The right number of characters with the padding elsewhere (or none).
        return Err(ForeignSessionError::Base64 {
            format: FORMAT,
            at: 1 + (expected * 4).div_ceil(3),
            why: "the '=' padding is not where this format has it",
        });
    }
    let mut fields = Fields::new(&bytes);
    let parsed = (|| {
        let dc = fields.u8()?;
        let ip = if ip_len == 4 {
            IpAddr::V4(Ipv4Addr::from(fields.array::<4>()?))
        } else {
            IpAddr::V6(Ipv6Addr::from(fields.array::<16>()?))
        };
        let port = u16::from_be_bytes(fields.array()?);
        let key = fields.take(KEY_LEN)?;
        Some((dc, ip, port, key))
    })();
    // The length was checked, so the fields are all there; say so if not.
    let (dc, ip, port, key) = parsed.ok_or(ForeignSessionError::WrongLength {
        format: FORMAT,
        len: s.len(),
        expected: EXPECTED_LENGTHS,
    })?;
    if dc == 0 {
        return Err(ForeignSessionError::DcIdZero { format: FORMAT });
    }
    if port == 0 {
        return Err(ForeignSessionError::PortZero { format: FORMAT });
    }
    if is_zero(key) {
        return Err(ForeignSessionError::NoAuthKey { format: FORMAT });
    }
    one_dc_session(i32::from(dc), SocketAddr::new(ip, port), key, None)
        .ok_or(ForeignSessionError::NoAuthKey { format: FORMAT })
}

/// A Telethon `StringSession` string for `session`: its home DC's id, address and key
/// (Telethon keeps one DC). The string is the account's credentials: it is zeroized when
/// dropped, and should be kept as secret as the session.
///
/// Errors: no home DC, no key or address for it, or a home DC above 255 (one byte).
pub fn export_string(session: &SessionData) -> Result<Zeroizing<String>, ForeignSessionError> {
    let (dc, auth, addr) = home_parts(session)?;
    let dc_byte = u8::try_from(dc)
        .ok()
        .filter(|&d| d != 0)
        .ok_or(ForeignSessionError::DcIdOutOfRange { format: FORMAT, dc })?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(1 + 16 + 2 + KEY_LEN));
    bytes.push(dc_byte);
    match addr.ip() {
        IpAddr::V4(ip) => bytes.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => bytes.extend_from_slice(&ip.octets()),
    }
    bytes.extend_from_slice(&addr.port().to_be_bytes());
    bytes.extend_from_slice(auth.auth_key.as_bytes());
    let encoded = base64::encode(&bytes, Padding::Required);
    let mut out = Zeroizing::new(String::with_capacity(1 + encoded.len()));
    out.push(VERSION);
    out.push_str(&encoded);
    Ok(out)
}
