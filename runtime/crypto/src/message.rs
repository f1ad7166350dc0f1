//! Encrypted MTProto messages: `auth_key_id(8) msg_key(16) encrypted_data`.
//!
//! MTProto 2.0 ([`encrypt_v2`], [`decrypt_v2`], [`decrypt_v2_message`]) is what every session
//! uses. MTProto 1.0 ([`encrypt_v1_with_padding`], [`decrypt_v1`]) exists only for the
//! `bind_auth_key_inner` message of PFS.
//!
//! Decryption failures are deliberately indistinguishable: a wrong auth key id, a bad length,
//! a `msg_key` mismatch and an inconsistent inner header all return the same opaque
//! [`DecryptError`], and `msg_key` is compared in constant time.

use rand_core::CryptoRngCore;
use zeroize::Zeroize;

use crate::hash::{array, ct_eq};
use crate::ige;
use crate::keys::{derive_v1, derive_v2, msg_key_v1, msg_key_v2, AuthKey, Direction};

/// Bytes before the encrypted data: `auth_key_id(8) + msg_key(16)`.
pub const ENVELOPE_LEN: usize = 24;
/// Inner header: `salt(8) session_id(8) msg_id(8) seq_no(4) length(4)`.
pub const HEADER_LEN: usize = 32;
/// Smallest MTProto 2.0 padding.
pub const MIN_PADDING_V2: usize = 12;
/// Largest MTProto 2.0 padding.
pub const MAX_PADDING_V2: usize = 1024;

/// Why a message could not be encrypted (these are caller errors, not peer input).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// MTProto 2.0 padding must be 12..=1024 bytes.
    #[error("padding of {len} bytes is outside 12..=1024")]
    PaddingLength {
        /// The padding length given.
        len: usize,
    },
    /// Plaintext plus padding must be a multiple of 16 bytes.
    #[error("plaintext plus padding is {len} bytes, not a multiple of 16")]
    NotBlockAligned {
        /// The padded length.
        len: usize,
    },
}

/// The single, opaque decryption failure (no detail, so there is no padding or key oracle).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("message decryption failed")]
pub struct DecryptError {
    _private: (),
}

const FAIL: DecryptError = DecryptError { _private: () };

/// The minimal MTProto 2.0 padding length (12..=27) that makes `plaintext_len + padding` a
/// multiple of 16.
pub fn padding_len_v2(plaintext_len: usize) -> usize {
    MIN_PADDING_V2 + (16 - (plaintext_len + MIN_PADDING_V2) % 16) % 16
}

/// Encrypts an MTProto 2.0 message with the minimal random padding drawn from `rng`.
///
/// `plaintext` is the whole inner message: `salt session_id msg_id seq_no length body`.
pub fn encrypt_v2(
    auth_key: &AuthKey,
    direction: Direction,
    plaintext: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let mut padding = [0u8; MIN_PADDING_V2 + 15];
    let len = padding_len_v2(plaintext.len());
    rng.fill_bytes(&mut padding[..len]);
    let out = seal_v2(auth_key, direction, plaintext, &padding[..len]);
    padding.zeroize();
    out
}

/// Encrypts an MTProto 2.0 message with caller-chosen padding bytes (12..=1024 of them, and
/// `plaintext.len() + padding.len()` a multiple of 16).
pub fn encrypt_v2_with_padding(
    auth_key: &AuthKey,
    direction: Direction,
    plaintext: &[u8],
    padding: &[u8],
) -> Result<Vec<u8>, MessageError> {
    if !(MIN_PADDING_V2..=MAX_PADDING_V2).contains(&padding.len()) {
        return Err(MessageError::PaddingLength { len: padding.len() });
    }
    let total = plaintext.len() + padding.len();
    if total % 16 != 0 {
        return Err(MessageError::NotBlockAligned { len: total });
    }
    Ok(seal_v2(auth_key, direction, plaintext, padding))
}

fn seal_v2(auth_key: &AuthKey, direction: Direction, plaintext: &[u8], padding: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENVELOPE_LEN + plaintext.len() + padding.len());
    out.extend_from_slice(&auth_key.id_bytes());
    out.extend_from_slice(&[0u8; 16]);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(padding);
    let msg_key = msg_key_v2(auth_key, direction, &out[ENVELOPE_LEN..]);
    out[8..ENVELOPE_LEN].copy_from_slice(&msg_key);
    let keys = derive_v2(auth_key, direction, &msg_key);
    // Length is a multiple of 16 by construction (checked or computed by the callers).
    let sealed = ige::encrypt_ige(&mut out[ENVELOPE_LEN..], keys.key(), keys.iv());
    debug_assert!(sealed.is_ok());
    out
}

/// Decrypts an MTProto 2.0 message and checks its `auth_key_id` and `msg_key`.
///
/// `direction` is the sender's direction (a client decrypts [`Direction::ServerToClient`]).
/// Returns the whole padded plaintext (header, body and padding); use
/// [`decrypt_v2_message`] to also validate and split the header.
pub fn decrypt_v2(
    auth_key: &AuthKey,
    direction: Direction,
    message: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    if message.len() <= ENVELOPE_LEN || (message.len() - ENVELOPE_LEN) % 16 != 0 {
        return Err(FAIL);
    }
    // The key id is public; comparing it first leaks nothing about the key.
    if message[..8] != auth_key.id_bytes() {
        return Err(FAIL);
    }
    let msg_key: [u8; 16] = array(message, 8);
    let keys = derive_v2(auth_key, direction, &msg_key);
    let mut plain = message[ENVELOPE_LEN..].to_vec();
    if ige::decrypt_ige(&mut plain, keys.key(), keys.iv()).is_err() {
        return Err(FAIL);
    }
    let expected = msg_key_v2(auth_key, direction, &plain);
    if !ct_eq(&expected, &msg_key) {
        plain.zeroize();
        return Err(FAIL);
    }
    Ok(plain)
}

/// A decrypted and validated MTProto 2.0 message.
#[derive(Clone, PartialEq, Eq)]
pub struct DecryptedMessage {
    /// The server salt.
    pub salt: i64,
    /// The session id (the caller must compare it with its own).
    pub session_id: i64,
    /// The message id.
    pub msg_id: i64,
    /// The sequence number.
    pub seq_no: i32,
    /// The message body (`length` bytes, padding removed).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for DecryptedMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecryptedMessage")
            .field("msg_id", &self.msg_id)
            .field("seq_no", &self.seq_no)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// [`decrypt_v2`] plus the length checks of the security guidelines: the body length is a
/// multiple of 4 and fits, and the padding is 12..=1024 bytes. Any failure is the same
/// opaque [`DecryptError`].
pub fn decrypt_v2_message(
    auth_key: &AuthKey,
    direction: Direction,
    message: &[u8],
) -> Result<DecryptedMessage, DecryptError> {
    let mut plain = decrypt_v2(auth_key, direction, message)?;
    match parse_header(&plain, MIN_PADDING_V2, MAX_PADDING_V2) {
        Ok((salt, session_id, msg_id, seq_no, len)) => {
            // The body moves to the front of the same buffer (no second allocation); the
            // header and padding bytes it leaves behind are wiped.
            plain.copy_within(HEADER_LEN..HEADER_LEN + len, 0);
            plain[len..].zeroize();
            plain.truncate(len);
            Ok(DecryptedMessage {
                salt,
                session_id,
                msg_id,
                seq_no,
                body: plain,
            })
        }
        Err(e) => {
            plain.zeroize();
            Err(e)
        }
    }
}

type Header = (i64, i64, i64, i32, usize);

fn parse_header(plain: &[u8], min_pad: usize, max_pad: usize) -> Result<Header, DecryptError> {
    if plain.len() < HEADER_LEN {
        return Err(FAIL);
    }
    let salt = i64::from_le_bytes(array(plain, 0));
    let session_id = i64::from_le_bytes(array(plain, 8));
    let msg_id = i64::from_le_bytes(array(plain, 16));
    let seq_no = i32::from_le_bytes(array(plain, 24));
    let len = u32::from_le_bytes(array(plain, 28)) as usize;
    let room = plain.len() - HEADER_LEN;
    if len % 4 != 0 || len > room {
        return Err(FAIL);
    }
    let padding = room - len;
    if padding < min_pad || padding > max_pad {
        return Err(FAIL);
    }
    Ok((salt, session_id, msg_id, seq_no, len))
}

/// Encrypts an MTProto 1.0 message: `msg_key` = SHA1(plaintext)[4..20], then 0..=15 padding
/// bytes (exactly those given) so the total is a multiple of 16.
pub fn encrypt_v1_with_padding(
    auth_key: &AuthKey,
    direction: Direction,
    plaintext: &[u8],
    padding: &[u8],
) -> Result<Vec<u8>, MessageError> {
    if padding.len() > 15 {
        return Err(MessageError::PaddingLength { len: padding.len() });
    }
    let total = plaintext.len() + padding.len();
    if total % 16 != 0 {
        return Err(MessageError::NotBlockAligned { len: total });
    }
    Ok(seal_v1(auth_key, direction, plaintext, padding))
}

/// MTProto 1.0 sealing; callers guarantee `plaintext.len() + padding.len()` is a multiple of 16.
pub(crate) fn seal_v1(
    auth_key: &AuthKey,
    direction: Direction,
    plaintext: &[u8],
    padding: &[u8],
) -> Vec<u8> {
    let msg_key = msg_key_v1(plaintext);
    let keys = derive_v1(auth_key, direction, &msg_key);
    let mut out = Vec::with_capacity(ENVELOPE_LEN + plaintext.len() + padding.len());
    out.extend_from_slice(&auth_key.id_bytes());
    out.extend_from_slice(&msg_key);
    out.extend_from_slice(plaintext);
    out.extend_from_slice(padding);
    let sealed = ige::encrypt_ige(&mut out[ENVELOPE_LEN..], keys.key(), keys.iv());
    debug_assert!(sealed.is_ok());
    out
}

/// Encrypts an MTProto 1.0 message with the needed 0..=15 random padding bytes from `rng`.
pub fn encrypt_v1(
    auth_key: &AuthKey,
    direction: Direction,
    plaintext: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let mut padding = [0u8; 15];
    let len = (16 - plaintext.len() % 16) % 16;
    rng.fill_bytes(&mut padding[..len]);
    let out = seal_v1(auth_key, direction, plaintext, &padding[..len]);
    padding.zeroize();
    out
}

/// Decrypts an MTProto 1.0 message whose plaintext has the standard 32-byte header, checks
/// the `auth_key_id`, the header `length` (multiple of 4, 0..=15 padding bytes) and the
/// `msg_key` (constant time). Returns the plaintext without padding.
pub fn decrypt_v1(
    auth_key: &AuthKey,
    direction: Direction,
    message: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    if message.len() < ENVELOPE_LEN + HEADER_LEN || (message.len() - ENVELOPE_LEN) % 16 != 0 {
        return Err(FAIL);
    }
    if message[..8] != auth_key.id_bytes() {
        return Err(FAIL);
    }
    let msg_key: [u8; 16] = array(message, 8);
    let keys = derive_v1(auth_key, direction, &msg_key);
    let mut plain = message[ENVELOPE_LEN..].to_vec();
    if ige::decrypt_ige(&mut plain, keys.key(), keys.iv()).is_err() {
        return Err(FAIL);
    }
    let header = parse_header(&plain, 0, 15);
    let ok = match header {
        Ok((_, _, _, _, len)) => {
            plain.truncate(HEADER_LEN + len);
            ct_eq(&msg_key_v1(&plain), &msg_key)
        }
        Err(_) => false,
    };
    if !ok {
        plain.zeroize();
        return Err(FAIL);
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuthKey {
        let mut bytes = [0u8; 256];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        AuthKey::from_bytes(bytes)
    }

    fn header(len: u32) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&1i64.to_le_bytes());
        p.extend_from_slice(&2i64.to_le_bytes());
        p.extend_from_slice(&3i64.to_le_bytes());
        p.extend_from_slice(&4i32.to_le_bytes());
        p.extend_from_slice(&len.to_le_bytes());
        p
    }

    #[test]
    fn padding_lengths() {
        for len in 0..100 {
            let pad = padding_len_v2(len);
            assert!((12..=27).contains(&pad));
            assert_eq!((len + pad) % 16, 0);
        }
    }

    #[test]
    fn v2_message_roundtrip_and_header_checks() {
        let k = key();
        let mut plain = header(8);
        plain.extend_from_slice(b"abcdefgh");
        let enc = encrypt_v2_with_padding(&k, Direction::ServerToClient, &plain, &[9; 24]).unwrap();
        let msg = decrypt_v2_message(&k, Direction::ServerToClient, &enc).unwrap();
        assert_eq!(
            (msg.salt, msg.session_id, msg.msg_id, msg.seq_no),
            (1, 2, 3, 4)
        );
        assert_eq!(msg.body, b"abcdefgh");
        // Wrong direction fails.
        assert!(decrypt_v2(&k, Direction::ClientToServer, &enc).is_err());

        // Length field too large, not a multiple of 4, or leaving too little padding.
        for bad_len in [9u32, 24, 1000, u32::MAX] {
            let mut plain = header(bad_len);
            plain.extend_from_slice(b"abcdefgh");
            let enc =
                encrypt_v2_with_padding(&k, Direction::ServerToClient, &plain, &[9; 24]).unwrap();
            assert!(decrypt_v2(&k, Direction::ServerToClient, &enc).is_ok());
            assert_eq!(
                decrypt_v2_message(&k, Direction::ServerToClient, &enc),
                Err(FAIL)
            );
        }
    }

    #[test]
    fn v2_padding_errors() {
        let k = key();
        assert_eq!(
            encrypt_v2_with_padding(&k, Direction::ClientToServer, &[0; 20], &[0; 11]),
            Err(MessageError::PaddingLength { len: 11 })
        );
        assert_eq!(
            encrypt_v2_with_padding(&k, Direction::ClientToServer, &[0; 20], &[0; 13]),
            Err(MessageError::NotBlockAligned { len: 33 })
        );
    }

    #[test]
    fn v1_roundtrip() {
        let k = key();
        let mut plain = header(40);
        plain.extend_from_slice(&[5; 40]);
        let enc = encrypt_v1_with_padding(&k, Direction::ClientToServer, &plain, &[1; 8]).unwrap();
        assert_eq!(enc.len(), 24 + 80);
        assert_eq!(
            decrypt_v1(&k, Direction::ClientToServer, &enc).unwrap(),
            plain
        );
        assert!(decrypt_v1(&k, Direction::ServerToClient, &enc).is_err());
        assert_eq!(
            encrypt_v1_with_padding(&k, Direction::ClientToServer, &plain, &[1; 16]),
            Err(MessageError::PaddingLength { len: 16 })
        );
    }

    #[test]
    fn short_and_misaligned_inputs_fail() {
        let k = key();
        for len in [0, 8, 23, 24, 25, 39, 41] {
            let mut m = vec![0u8; len];
            if len >= 8 {
                m[..8].copy_from_slice(&k.id_bytes());
            }
            assert_eq!(decrypt_v2(&k, Direction::ServerToClient, &m), Err(FAIL));
            assert_eq!(decrypt_v1(&k, Direction::ServerToClient, &m), Err(FAIL));
        }
    }
}
