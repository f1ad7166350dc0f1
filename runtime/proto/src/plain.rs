//! Unencrypted messages, used only by the key exchange:
//! `auth_key_id = 0` (8 bytes), `msg_id` (8), `message_data_length` (4), then the body.

use thiserror::Error;

/// Bytes before the body of an unencrypted message.
pub const HEADER_LEN: usize = 20;

/// Why a packet is not a well-formed unencrypted message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlainError {
    /// Shorter than the 20-byte header.
    #[error("unencrypted message of {len} bytes is shorter than its 20-byte header")]
    TooShort {
        /// The packet length.
        len: usize,
    },
    /// The `auth_key_id` is not zero: the packet is encrypted.
    #[error("auth_key_id is {auth_key_id:#x}, not 0: not an unencrypted message")]
    Encrypted {
        /// The id found.
        auth_key_id: u64,
    },
    /// The length field does not match the bytes that follow.
    #[error("message_data_length says {declared} bytes but {actual} follow")]
    LengthMismatch {
        /// The declared length.
        declared: usize,
        /// The bytes present.
        actual: usize,
    },
}

/// Wraps `body` into an unencrypted message with `msg_id`.
pub fn wrap(msg_id: i64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&msg_id.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits an unencrypted message into its `msg_id` and body.
pub fn unwrap(packet: &[u8]) -> Result<(i64, &[u8]), PlainError> {
    if packet.len() < HEADER_LEN {
        return Err(PlainError::TooShort { len: packet.len() });
    }
    let word = |at: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&packet[at..at + 8]);
        b
    };
    let auth_key_id = u64::from_le_bytes(word(0));
    if auth_key_id != 0 {
        return Err(PlainError::Encrypted { auth_key_id });
    }
    let msg_id = i64::from_le_bytes(word(8));
    let mut len = [0u8; 4];
    len.copy_from_slice(&packet[16..20]);
    let declared = u32::from_le_bytes(len) as usize;
    let body = &packet[HEADER_LEN..];
    if declared != body.len() {
        return Err(PlainError::LengthMismatch {
            declared,
            actual: body.len(),
        });
    }
    Ok((msg_id, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_then_unwrap() {
        let packet = wrap(0x5e0b_7000_0000_0004, &[1, 2, 3, 4]);
        assert_eq!(packet.len(), 24);
        assert_eq!(&packet[16..20], &[4, 0, 0, 0]);
        assert_eq!(
            unwrap(&packet),
            Ok((0x5e0b_7000_0000_0004, &[1u8, 2, 3, 4][..]))
        );
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        assert_eq!(unwrap(&[0; 19]), Err(PlainError::TooShort { len: 19 }));
        let mut p = wrap(4, &[9; 8]);
        p[0] = 1;
        assert_eq!(unwrap(&p), Err(PlainError::Encrypted { auth_key_id: 1 }));
        let mut p = wrap(4, &[9; 8]);
        p[16] = 9;
        assert_eq!(
            unwrap(&p),
            Err(PlainError::LengthMismatch {
                declared: 9,
                actual: 8
            })
        );
    }
}
