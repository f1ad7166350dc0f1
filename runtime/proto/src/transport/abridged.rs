//! Abridged framing: the payload length divided by 4 in one byte (`0x01..=0x7e`), or `0x7f`
//! followed by 3 little-endian bytes.
//!
//! Quick ACK: a client sets the top bit of the first byte (`0x80 | len/4`, or `0xff` before the
//! 3-byte form) to ask for one; the server answers with the 4-byte token, top bit set, in
//! big-endian order so that its first byte is `>= 0x80` (core.telegram.org, "MTProto
//! transports", Quick ACK).

use super::{Decoded, DecodedKind, Role, TransportError};

/// The longest payload the 3-byte length form can describe.
pub(crate) const MAX_PAYLOAD: usize = 0xff_ffff * 4;

/// Appends the envelope and `payload` (a non-empty multiple of 4, at most [`MAX_PAYLOAD`]).
pub(crate) fn encode(payload: &[u8], quick_ack: bool, out: &mut Vec<u8>) {
    let words = payload.len() / 4;
    let ack = if quick_ack { 0x80 } else { 0 };
    if words < 0x7f {
        out.push(words as u8 | ack);
    } else {
        out.push(0x7f | ack);
        out.extend_from_slice(&(words as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(payload);
}

/// Appends a quick-ACK token as a server sends it.
pub(crate) fn encode_quick_ack(token: u32, out: &mut Vec<u8>) {
    out.extend_from_slice(&(token | 0x8000_0000).to_be_bytes());
}

/// Reads one frame from the front of `buf`, or `None` if it is not complete yet.
pub(crate) fn decode(
    buf: &[u8],
    role: Role,
    max: usize,
) -> Result<Option<Decoded>, TransportError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let mut quick_ack = false;
    if first & 0x80 != 0 {
        match role {
            // Server to client: a quick-ACK token, not a frame.
            Role::Client => {
                let Some(token) = buf.get(..4) else {
                    return Ok(None);
                };
                let token = u32::from_be_bytes(token.try_into().expect("4 bytes"));
                return Ok(Some(Decoded {
                    consumed: 4,
                    kind: DecodedKind::QuickAck(token),
                }));
            }
            Role::Server => quick_ack = true,
        }
    }
    let short = first & 0x7f;
    let (header_len, words) = if short < 0x7f {
        (1, u64::from(short))
    } else {
        let Some(len) = buf.get(1..4) else {
            return Ok(None);
        };
        (
            4,
            u64::from(len[0]) | u64::from(len[1]) << 8 | u64::from(len[2]) << 16,
        )
    };
    let len = words * 4;
    if len == 0 {
        return Err(TransportError::BadLength { len });
    }
    if len > max as u64 {
        return Err(TransportError::FrameTooLarge { len, max });
    }
    let end = header_len + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    Ok(Some(Decoded {
        consumed: end,
        kind: DecodedKind::Packet {
            payload: header_len..end,
            quick_ack,
        },
    }))
}
