//! Authorization keys and every key derivation MTProto performs with them.
//!
//! - [`AuthKey`]: the 2048-bit key, its id (`auth_key_id`) and `aux_hash`.
//! - MTProto 2.0 message keys: [`msg_key_v2`] and [`derive_v2`] (`aes_key`, `aes_iv`).
//! - MTProto 1.0 (only for the PFS bind message): [`msg_key_v1`] and [`derive_v1`].
//! - Key exchange: [`tmp_aes_key_iv`], [`new_nonce_hash`], [`dh_params_fail_nonce_hash`],
//!   [`first_salt`].

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::hash::{array, ct_eq, sha1, sha256};

/// Length of an authorization key in bytes.
pub const AUTH_KEY_LEN: usize = 256;

/// A 2048-bit MTProto authorization key.
///
/// The bytes are zeroized on drop and never printed: `Debug` shows only the key id, e.g.
/// `AuthKey(id=0x...)`. Equality is constant-time.
pub struct AuthKey {
    bytes: Box<[u8; AUTH_KEY_LEN]>,
    id: [u8; 8],
    aux_hash: [u8; 8],
}

impl AuthKey {
    /// Wraps 256 key bytes (big-endian `g_ab`, left-padded with zeros) and computes id and aux hash.
    pub fn from_bytes(mut bytes: [u8; AUTH_KEY_LEN]) -> Self {
        let digest = sha1(&[&bytes[..]]);
        let key = Self {
            bytes: Box::new(bytes),
            id: array(&digest, 12),
            aux_hash: array(&digest, 0),
        };
        // `bytes` is `Copy`: clear this function's copy too.
        bytes.zeroize();
        key
    }

    /// Like [`AuthKey::from_bytes`] from a slice; `None` unless it is exactly 256 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; AUTH_KEY_LEN] = bytes.try_into().ok()?;
        Some(Self::from_bytes(arr))
    }

    /// The raw key bytes (for persisting the session; handle with care).
    pub fn as_bytes(&self) -> &[u8; AUTH_KEY_LEN] {
        &self.bytes
    }

    /// `auth_key_id`: the last 8 bytes of SHA1(auth_key) as they appear on the wire.
    pub fn id_bytes(&self) -> [u8; 8] {
        self.id
    }

    /// `auth_key_id` as a TL `long` (little-endian reading of [`AuthKey::id_bytes`]).
    pub fn id(&self) -> i64 {
        i64::from_le_bytes(self.id)
    }

    /// `auth_key_aux_hash`: the first 8 bytes of SHA1(auth_key), as on the wire.
    pub fn aux_hash_bytes(&self) -> [u8; 8] {
        self.aux_hash
    }

    /// `auth_key_aux_hash` as a TL `long` (it is the `retry_id` after `dh_gen_retry`).
    pub fn aux_hash(&self) -> i64 {
        i64::from_le_bytes(self.aux_hash)
    }
}

impl Clone for AuthKey {
    fn clone(&self) -> Self {
        Self {
            bytes: self.bytes.clone(),
            id: self.id,
            aux_hash: self.aux_hash,
        }
    }
}

impl PartialEq for AuthKey {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.bytes[..], &other.bytes[..])
    }
}

impl Eq for AuthKey {}

impl Drop for AuthKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for AuthKey {}

impl fmt::Debug for AuthKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthKey(id={:#018x})", u64::from_le_bytes(self.id))
    }
}

/// Who sent a message: selects the `x` offset into the auth key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Client to server (`x = 0`).
    ClientToServer,
    /// Server to client (`x = 8`).
    ServerToClient,
}

impl Direction {
    /// The `x` offset from the MTProto description: 0 client->server, 8 server->client.
    pub fn x(self) -> usize {
        match self {
            Direction::ClientToServer => 0,
            Direction::ServerToClient => 8,
        }
    }
}

/// An AES-256 key and IGE IV pair. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AesKeyIv {
    key: [u8; 32],
    iv: [u8; 32],
}

impl AesKeyIv {
    /// Wraps a key and an IV.
    pub fn new(key: [u8; 32], iv: [u8; 32]) -> Self {
        Self { key, iv }
    }

    /// The 32-byte AES-256 key.
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// The 32-byte IGE IV.
    pub fn iv(&self) -> &[u8; 32] {
        &self.iv
    }
}

impl fmt::Debug for AesKeyIv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKeyIv(<redacted>)")
    }
}

/// MTProto 2.0 `msg_key` = SHA256(auth_key[88+x..120+x] + plaintext_with_padding)[8..24].
pub fn msg_key_v2(auth_key: &AuthKey, direction: Direction, padded_plaintext: &[u8]) -> [u8; 16] {
    let x = direction.x();
    let large = sha256(&[&auth_key.bytes[88 + x..120 + x], padded_plaintext]);
    array(&large, 8)
}

/// MTProto 2.0 `aes_key`/`aes_iv` from the auth key and `msg_key`.
///
/// a = SHA256(msg_key + auth_key[x..x+36]); b = SHA256(auth_key[40+x..76+x] + msg_key);
/// aes_key = a[0..8] + b[8..24] + a[24..32]; aes_iv = b[0..8] + a[8..24] + b[24..32].
pub fn derive_v2(auth_key: &AuthKey, direction: Direction, msg_key: &[u8; 16]) -> AesKeyIv {
    let x = direction.x();
    let k = &auth_key.bytes;
    let mut a = sha256(&[msg_key, &k[x..x + 36]]);
    let mut b = sha256(&[&k[40 + x..76 + x], msg_key]);
    let mut out = AesKeyIv::new([0; 32], [0; 32]);
    out.key[..8].copy_from_slice(&a[..8]);
    out.key[8..24].copy_from_slice(&b[8..24]);
    out.key[24..].copy_from_slice(&a[24..]);
    out.iv[..8].copy_from_slice(&b[..8]);
    out.iv[8..24].copy_from_slice(&a[8..24]);
    out.iv[24..].copy_from_slice(&b[24..]);
    a.zeroize();
    b.zeroize();
    out
}

/// MTProto 1.0 `msg_key` = SHA1(plaintext without padding)[4..20].
pub fn msg_key_v1(plaintext: &[u8]) -> [u8; 16] {
    array(&sha1(&[plaintext]), 4)
}

/// MTProto 1.0 `aes_key`/`aes_iv` (the SHA1 scheme; used only for the PFS bind message).
///
/// a = SHA1(msg_key + key[x..x+32]); b = SHA1(key[32+x..48+x] + msg_key + key[48+x..64+x]);
/// c = SHA1(key[64+x..96+x] + msg_key); d = SHA1(msg_key + key[96+x..128+x]);
/// aes_key = a[0..8] + b[8..20] + c[4..16]; aes_iv = a[8..20] + b[0..8] + c[16..20] + d[0..8].
pub fn derive_v1(auth_key: &AuthKey, direction: Direction, msg_key: &[u8; 16]) -> AesKeyIv {
    let x = direction.x();
    let k = &auth_key.bytes;
    let mut a = sha1(&[msg_key, &k[x..x + 32]]);
    let mut b = sha1(&[&k[32 + x..48 + x], msg_key, &k[48 + x..64 + x]]);
    let mut c = sha1(&[&k[64 + x..96 + x], msg_key]);
    let mut d = sha1(&[msg_key, &k[96 + x..128 + x]]);
    let mut out = AesKeyIv::new([0; 32], [0; 32]);
    out.key[..8].copy_from_slice(&a[..8]);
    out.key[8..20].copy_from_slice(&b[8..20]);
    out.key[20..].copy_from_slice(&c[4..16]);
    out.iv[..12].copy_from_slice(&a[8..20]);
    out.iv[12..20].copy_from_slice(&b[..8]);
    out.iv[20..24].copy_from_slice(&c[16..20]);
    out.iv[24..].copy_from_slice(&d[..8]);
    a.zeroize();
    b.zeroize();
    c.zeroize();
    d.zeroize();
    out
}

/// The key exchange's temporary AES key and IV for `server_DH_inner_data` and
/// `client_DH_inner_data`:
///
/// tmp_aes_key = SHA1(new_nonce + server_nonce) + SHA1(server_nonce + new_nonce)[0..12];
/// tmp_aes_iv = SHA1(server_nonce + new_nonce)[12..20] + SHA1(new_nonce + new_nonce) + new_nonce[0..4].
pub fn tmp_aes_key_iv(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> AesKeyIv {
    let mut h1 = sha1(&[new_nonce, server_nonce]);
    let mut h2 = sha1(&[server_nonce, new_nonce]);
    let mut h3 = sha1(&[new_nonce, new_nonce]);
    let mut out = AesKeyIv::new([0; 32], [0; 32]);
    out.key[..20].copy_from_slice(&h1);
    out.key[20..].copy_from_slice(&h2[..12]);
    out.iv[..8].copy_from_slice(&h2[12..]);
    out.iv[8..28].copy_from_slice(&h3);
    out.iv[28..].copy_from_slice(&new_nonce[..4]);
    h1.zeroize();
    h2.zeroize();
    h3.zeroize();
    out
}

/// Which `new_nonce_hashN` of the final key-exchange answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhGenAnswer {
    /// `dh_gen_ok` (`new_nonce_hash1`).
    Ok,
    /// `dh_gen_retry` (`new_nonce_hash2`).
    Retry,
    /// `dh_gen_fail` (`new_nonce_hash3`).
    Fail,
}

impl DhGenAnswer {
    /// The number N appended to `new_nonce`.
    pub fn number(self) -> u8 {
        match self {
            DhGenAnswer::Ok => 1,
            DhGenAnswer::Retry => 2,
            DhGenAnswer::Fail => 3,
        }
    }
}

/// `new_nonce_hashN` = last 16 bytes of SHA1(new_nonce + \[N\] + auth_key_aux_hash).
pub fn new_nonce_hash(new_nonce: &[u8; 32], answer: DhGenAnswer, auth_key: &AuthKey) -> [u8; 16] {
    let digest = sha1(&[new_nonce, &[answer.number()], &auth_key.aux_hash]);
    array(&digest, 4)
}

/// The `new_nonce_hash` of `server_DH_params_fail`: SHA1(new_nonce)[4..20].
pub fn dh_params_fail_nonce_hash(new_nonce: &[u8; 32]) -> [u8; 16] {
    array(&sha1(&[new_nonce]), 4)
}

/// The first server salt: new_nonce[0..8] xor server_nonce[0..8], read as a TL `long`.
pub fn first_salt(new_nonce: &[u8; 32], server_nonce: &[u8; 16]) -> i64 {
    let mut salt = [0u8; 8];
    for (i, s) in salt.iter_mut().enumerate() {
        *s = new_nonce[i] ^ server_nonce[i];
    }
    i64::from_le_bytes(salt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counting_key() -> AuthKey {
        let mut bytes = [0u8; 256];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        AuthKey::from_bytes(bytes)
    }

    #[test]
    fn debug_shows_only_the_id() {
        let key = AuthKey::from_bytes([0xAB; 256]);
        let text = format!("{key:?}");
        assert!(text.starts_with("AuthKey(id=0x"), "{text}");
        assert!(!text.to_lowercase().contains("abab"), "{text}");
        assert_eq!(text, format!("AuthKey(id={:#018x})", key.id() as u64));
        let pair = derive_v2(&key, Direction::ClientToServer, &[0; 16]);
        let text = format!("{pair:?}");
        assert_eq!(text, "AesKeyIv(<redacted>)");
    }

    #[test]
    fn ids_of_counting_key() {
        // Values from grammers-crypto tests/lib.rs (auth_key = bytes 0..255):
        // auth_key_id = [50, 209, 88, 110, 164, 87, 223, 200],
        // aux_hash = [73, 22, 214, 189, 183, 247, 142, 104].
        let key = counting_key();
        assert_eq!(key.id_bytes(), [50, 209, 88, 110, 164, 87, 223, 200]);
        assert_eq!(key.aux_hash_bytes(), [73, 22, 214, 189, 183, 247, 142, 104]);
        assert_eq!(
            key.id(),
            i64::from_le_bytes([50, 209, 88, 110, 164, 87, 223, 200])
        );
    }

    #[test]
    fn key_equality_and_clone() {
        let a = counting_key();
        let b = a.clone();
        assert_eq!(a, b);
        assert_ne!(a, AuthKey::from_bytes([0; 256]));
        assert!(AuthKey::from_slice(&[0u8; 255]).is_none());
        assert!(AuthKey::from_slice(&[0u8; 256]).is_some());
    }

    // That every key-material type wipes its bytes when dropped is observed on the real drop
    // path, through the allocator, in tests/zeroize_on_drop.rs (it needs `unsafe`, which this
    // crate forbids).

    #[test]
    fn zeroize_clears_key_material() {
        let mut pair = AesKeyIv::new([1; 32], [2; 32]);
        pair.zeroize();
        assert_eq!(pair.key(), &[0; 32]);
        assert_eq!(pair.iv(), &[0; 32]);
    }
}
