//! Intermediate and padded intermediate framing: a 4-byte little-endian length, then the
//! payload (plus 0-15 random padding bytes counted in the length, for the padded variant).
//!
//! Quick ACK: a client sets the top bit of the length to ask for one; the server answers with
//! the 4-byte token, top bit set, little-endian, in place of a length.

use super::{Decoded, DecodedKind, Role, TransportError};

/// The longest payload the 31-bit length can describe.
pub(crate) const MAX_PAYLOAD: usize = 0x7fff_ffff;

/// The largest padding the padded variant may add (documented range 0-15).
pub const MAX_PADDING: u8 = 15;

/// Appends the length, `payload` and `padding`.
pub(crate) fn encode(payload: &[u8], padding: &[u8], quick_ack: bool, out: &mut Vec<u8>) {
    let mut len = (payload.len() + padding.len()) as u32;
    if quick_ack {
        len |= 0x8000_0000;
    }
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(padding);
}

/// Appends a quick-ACK token as a server sends it.
pub(crate) fn encode_quick_ack(token: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&(token | 0x8000_0000).to_le_bytes());
}

/// Reads one frame from the front of `buf`, or `None` if it is not complete yet. For the
/// padded variant the payload range still includes the padding.
pub(crate) fn decode(
    buf: &[u8],
    role: Role,
    padded: bool,
    max: usize,
) -> Result<Option<Decoded>, TransportError> {
    let Some(word) = buf.get(..4) else {
        return Ok(None);
    };
    let word = u32::from_le_bytes(word.try_into().expect("4 bytes"));
    let mut quick_ack = false;
    if word & 0x8000_0000 != 0 {
        match role {
            Role::Client => {
                return Ok(Some(Decoded {
                    consumed: 4,
                    kind: DecodedKind::QuickAck(word),
                }))
            }
            Role::Server => quick_ack = true,
        }
    }
    let len = u64::from(word & 0x7fff_ffff);
    if len == 0 || (!padded && len % 4 != 0) {
        return Err(TransportError::BadLength { len });
    }
    if len > max as u64 {
        return Err(TransportError::FrameTooLarge { len, max });
    }
    let end = 4 + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Decoded {
        consumed: end,
        kind: DecodedKind::Packet {
            payload: 4..end,
            quick_ack,
        },
    }))
}

/// The length of the MTProto packet at the start of a padded-intermediate `frame` (which
/// includes 0-15 padding bytes), found from the packet's own structure rather than from
/// `frame.len() % 4`, which breaks for padding of 4 bytes or more:
///
/// 1. `auth_key_id` (bytes 0..8) is zero: an unencrypted message, `msg_id(8)`, then a
///    little-endian `length(4)` and that many bytes: `20 + length`, which must leave at most
///    15 bytes of padding.
/// 2. Otherwise, at least 40 bytes: an encrypted message, `auth_key_id(8) msg_key(16)` and a
///    multiple of 16 bytes: `24 + 16 * ((len - 24) / 16)`.
/// 3. Otherwise, 4 to 19 bytes starting with a negative little-endian `int`: a transport
///    error code, 4 bytes.
///
/// Returns `None` when none of these fits.
pub fn padded_payload_len(frame: &[u8]) -> Option<usize> {
    let len = frame.len();
    let max_pad = usize::from(MAX_PADDING);
    if len >= 20 && frame[..8] == [0; 8] {
        let body = u32::from_le_bytes(frame[16..20].try_into().expect("4 bytes")) as usize;
        let payload = body.checked_add(20)?;
        return (payload <= len && len - payload <= max_pad).then_some(payload);
    }
    if len >= 40 {
        return Some(24 + (len - 24) / 16 * 16);
    }
    if (4..20).contains(&len) && i32::from_le_bytes(frame[..4].try_into().expect("4 bytes")) < 0 {
        return Some(4);
    }
    None
}
