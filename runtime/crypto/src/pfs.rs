//! Perfect forward secrecy: the `encrypted_message` of `auth.bindTempAuthKey`
//! (core.telegram.org/api/pfs).
//!
//! It is an MTProto 1.0 message encrypted with the **permanent** key: random salt, random
//! session id, the same `msg_id` as the outer request, `seq_no` 0, length 40, body
//! `bind_auth_key_inner#75a3f765 nonce:long temp_auth_key_id:long perm_auth_key_id:long
//! temp_session_id:long expires_at:int`, then 0..=15 padding bytes.

use rand_core::CryptoRngCore;

use crate::hash::array;
use crate::keys::{AuthKey, Direction};
use crate::message::{self, DecryptError, HEADER_LEN};

/// Constructor id of `bind_auth_key_inner`.
pub const BIND_AUTH_KEY_INNER_ID: u32 = 0x75a3_f765;
/// Serialized length of the boxed `bind_auth_key_inner`.
pub const BODY_LEN: usize = 40;

/// The fields of `bind_auth_key_inner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindAuthKeyInner {
    /// Random nonce, equal to the one in the outer `auth.bindTempAuthKey`.
    pub nonce: i64,
    /// Id of the temporary key being bound.
    pub temp_auth_key_id: i64,
    /// Id of the permanent key.
    pub perm_auth_key_id: i64,
    /// Session id of the connection that sends the request over the temporary key.
    pub temp_session_id: i64,
    /// Unix time at which the temporary key expires.
    pub expires_at: i32,
}

impl BindAuthKeyInner {
    /// The boxed TL serialization (40 bytes).
    pub fn to_bytes(&self) -> [u8; BODY_LEN] {
        let mut out = [0u8; BODY_LEN];
        out[..4].copy_from_slice(&BIND_AUTH_KEY_INNER_ID.to_le_bytes());
        out[4..12].copy_from_slice(&self.nonce.to_le_bytes());
        out[12..20].copy_from_slice(&self.temp_auth_key_id.to_le_bytes());
        out[20..28].copy_from_slice(&self.perm_auth_key_id.to_le_bytes());
        out[28..36].copy_from_slice(&self.temp_session_id.to_le_bytes());
        out[36..].copy_from_slice(&self.expires_at.to_le_bytes());
        out
    }

    /// Parses the boxed TL serialization; `None` on a wrong length or constructor.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != BODY_LEN || u32::from_le_bytes(array(bytes, 0)) != BIND_AUTH_KEY_INNER_ID
        {
            return None;
        }
        Some(Self {
            nonce: i64::from_le_bytes(array(bytes, 4)),
            temp_auth_key_id: i64::from_le_bytes(array(bytes, 12)),
            perm_auth_key_id: i64::from_le_bytes(array(bytes, 20)),
            temp_session_id: i64::from_le_bytes(array(bytes, 28)),
            expires_at: i32::from_le_bytes(array(bytes, 36)),
        })
    }
}

/// Why a bind message was refused (server side).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PfsError {
    /// Not decryptable with the permanent key (wrong key, corrupted, bad `msg_key`).
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// The inner `msg_id` differs from the outer request's.
    #[error("inner msg_id differs from the outer request")]
    MsgIdMismatch,
    /// `seq_no` is not 0 or the length is not 40.
    #[error("inner header is not seq_no 0, length 40")]
    BadHeader,
    /// The body is not a `bind_auth_key_inner`.
    #[error("body is not bind_auth_key_inner")]
    BadBody,
    /// A field differs from the outer request or the connection (named).
    #[error("{field} does not match the outer request")]
    FieldMismatch {
        /// The field name.
        field: &'static str,
    },
}

/// Encrypts the bind message with explicit random values (`salt`, `session_id`, and the 8
/// padding bytes that bring the 72-byte plaintext to 80).
pub fn encrypt_bind_message_with(
    perm_key: &AuthKey,
    msg_id: i64,
    inner: &BindAuthKeyInner,
    salt: [u8; 8],
    session_id: [u8; 8],
    padding: [u8; 8],
) -> Vec<u8> {
    let mut plain = Vec::with_capacity(HEADER_LEN + BODY_LEN);
    plain.extend_from_slice(&salt);
    plain.extend_from_slice(&session_id);
    plain.extend_from_slice(&msg_id.to_le_bytes());
    plain.extend_from_slice(&0i32.to_le_bytes());
    plain.extend_from_slice(&(BODY_LEN as u32).to_le_bytes());
    plain.extend_from_slice(&inner.to_bytes());
    // 72 + 8 = 80: aligned, padding within 0..=15.
    message::seal_v1(perm_key, Direction::ClientToServer, &plain, &padding)
}

/// Encrypts the bind message (`encrypted_message` of `auth.bindTempAuthKey`) with random salt,
/// session id and padding from `rng`. `msg_id` must be the outer request's.
pub fn encrypt_bind_message(
    perm_key: &AuthKey,
    msg_id: i64,
    inner: &BindAuthKeyInner,
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let mut random = [0u8; 24];
    rng.fill_bytes(&mut random);
    encrypt_bind_message_with(
        perm_key,
        msg_id,
        inner,
        array(&random, 0),
        array(&random, 8),
        array(&random, 16),
    )
}

/// Server side: decrypts the bind message with the permanent key and checks the header
/// (`msg_id` equal to the outer one, `seq_no` 0, length 40) and the constructor.
pub fn decrypt_bind_message(
    perm_key: &AuthKey,
    encrypted: &[u8],
    outer_msg_id: i64,
) -> Result<BindAuthKeyInner, PfsError> {
    let plain = message::decrypt_v1(perm_key, Direction::ClientToServer, encrypted)?;
    let msg_id = i64::from_le_bytes(array(&plain, 16));
    if msg_id != outer_msg_id {
        return Err(PfsError::MsgIdMismatch);
    }
    let seq_no = i32::from_le_bytes(array(&plain, 24));
    if seq_no != 0 || plain.len() != HEADER_LEN + BODY_LEN {
        return Err(PfsError::BadHeader);
    }
    BindAuthKeyInner::from_bytes(&plain[HEADER_LEN..]).ok_or(PfsError::BadBody)
}

/// What the server knows from the outer request and the connection, to compare with a
/// decrypted [`BindAuthKeyInner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindOuter {
    /// `nonce` of `auth.bindTempAuthKey`.
    pub nonce: i64,
    /// `perm_auth_key_id` of `auth.bindTempAuthKey`.
    pub perm_auth_key_id: i64,
    /// `expires_at` of `auth.bindTempAuthKey`.
    pub expires_at: i32,
    /// Id of the temporary key the request came in on.
    pub temp_auth_key_id: i64,
    /// Session id of the request's connection.
    pub temp_session_id: i64,
}

impl BindAuthKeyInner {
    /// Checks every field against the outer request ([`PfsError::FieldMismatch`] names the
    /// first that differs).
    pub fn check_outer(&self, outer: &BindOuter) -> Result<(), PfsError> {
        let checks = [
            ("nonce", self.nonce == outer.nonce),
            (
                "perm_auth_key_id",
                self.perm_auth_key_id == outer.perm_auth_key_id,
            ),
            ("expires_at", self.expires_at == outer.expires_at),
            (
                "temp_auth_key_id",
                self.temp_auth_key_id == outer.temp_auth_key_id,
            ),
            (
                "temp_session_id",
                self.temp_session_id == outer.temp_session_id,
            ),
        ];
        match checks.iter().find(|(_, ok)| !ok) {
            Some((field, _)) => Err(PfsError::FieldMismatch { field }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner() -> BindAuthKeyInner {
        BindAuthKeyInner {
            nonce: 0x0102_0304_0506_0708,
            temp_auth_key_id: -5,
            perm_auth_key_id: 77,
            temp_session_id: -123_456_789,
            expires_at: 1_700_000_000,
        }
    }

    #[test]
    fn body_layout() {
        let bytes = inner().to_bytes();
        assert_eq!(&bytes[..4], &[0x65, 0xf7, 0xa3, 0x75]);
        assert_eq!(&bytes[4..12], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(BindAuthKeyInner::from_bytes(&bytes), Some(inner()));
        assert_eq!(BindAuthKeyInner::from_bytes(&bytes[1..]), None);
        let mut wrong = bytes;
        wrong[0] ^= 1;
        assert_eq!(BindAuthKeyInner::from_bytes(&wrong), None);
    }

    #[test]
    fn roundtrip_and_checks() {
        let perm = AuthKey::from_bytes([0x31; 256]);
        let enc = encrypt_bind_message_with(&perm, 42 << 32, &inner(), [1; 8], [2; 8], [3; 8]);
        assert_eq!(enc.len(), 24 + 80);
        assert_eq!(&enc[..8], &perm.id_bytes());
        let got = decrypt_bind_message(&perm, &enc, 42 << 32).unwrap();
        assert_eq!(got, inner());
        assert_eq!(
            decrypt_bind_message(&perm, &enc, 43 << 32),
            Err(PfsError::MsgIdMismatch)
        );
        let other = AuthKey::from_bytes([0x32; 256]);
        assert!(matches!(
            decrypt_bind_message(&other, &enc, 42 << 32),
            Err(PfsError::Decrypt(_))
        ));
        let outer = BindOuter {
            nonce: inner().nonce,
            perm_auth_key_id: 77,
            expires_at: 1_700_000_000,
            temp_auth_key_id: -5,
            temp_session_id: -123_456_789,
        };
        assert_eq!(got.check_outer(&outer), Ok(()));
        assert_eq!(
            got.check_outer(&BindOuter {
                expires_at: 1,
                ..outer
            }),
            Err(PfsError::FieldMismatch {
                field: "expires_at"
            })
        );
    }
}
