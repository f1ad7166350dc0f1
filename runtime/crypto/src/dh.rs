//! Diffie-Hellman for the key exchange (and the group checks SRP shares), following
//! Telegram's security guidelines:
//!
//! 1. `dh_prime` is a 2048-bit safe prime ([`DhParams::new`]: fast path for the well-known
//!    Telegram prime, otherwise `crypto-primes`' Baillie-PSW test plus a Miller-Rabin round on
//!    both `p` and `(p-1)/2`, verdicts kept in a caller-owned [`PrimeCache`]);
//! 2. `g` is in 2..=7 and generates the subgroup of order `(p-1)/2` (residue conditions);
//! 3. `1 < g_a, g_b < p-1` and 4. `2^(2048-64) <= g_a, g_b <= p - 2^(2048-64)`
//!    ([`DhParams::check_value`]);
//! 5. the SHA1 of `answer_with_hash` ([`unwrap_with_hash`]).
//!
//! Each failed check has its own [`DhError`] variant.

use std::fmt;

use num_bigint::BigUint;
use num_traits::One;
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hash::{ct_eq, sha1, sha256};
use crate::ige;
use crate::keys::{AesKeyIv, AuthKey};
use crate::prime::is_safe_prime_2048;

/// Size of the DH prime and of every value in the group, in bits.
pub const PRIME_BITS: u64 = 2048;
/// Size in bytes of the prime and of padded group elements.
pub const VALUE_LEN: usize = 256;
/// Values must lie in `[2^SAFE_RANGE_BITS, p - 2^SAFE_RANGE_BITS]`.
pub const SAFE_RANGE_BITS: u32 = 2048 - 64;

/// The 2048-bit safe prime Telegram's servers use (big-endian), published in
/// core.telegram.org/mtproto/auth_key ("currently, dh_prime equals ...") and in the
/// `mtproto/samples-auth_key` exchange.
pub const TELEGRAM_DH_PRIME: [u8; VALUE_LEN] = [
    0xC7, 0x1C, 0xAE, 0xB9, 0xC6, 0xB1, 0xC9, 0x04, 0x8E, 0x6C, 0x52, 0x2F, 0x70, 0xF1, 0x3F, 0x73,
    0x98, 0x0D, 0x40, 0x23, 0x8E, 0x3E, 0x21, 0xC1, 0x49, 0x34, 0xD0, 0x37, 0x56, 0x3D, 0x93, 0x0F,
    0x48, 0x19, 0x8A, 0x0A, 0xA7, 0xC1, 0x40, 0x58, 0x22, 0x94, 0x93, 0xD2, 0x25, 0x30, 0xF4, 0xDB,
    0xFA, 0x33, 0x6F, 0x6E, 0x0A, 0xC9, 0x25, 0x13, 0x95, 0x43, 0xAE, 0xD4, 0x4C, 0xCE, 0x7C, 0x37,
    0x20, 0xFD, 0x51, 0xF6, 0x94, 0x58, 0x70, 0x5A, 0xC6, 0x8C, 0xD4, 0xFE, 0x6B, 0x6B, 0x13, 0xAB,
    0xDC, 0x97, 0x46, 0x51, 0x29, 0x69, 0x32, 0x84, 0x54, 0xF1, 0x8F, 0xAF, 0x8C, 0x59, 0x5F, 0x64,
    0x24, 0x77, 0xFE, 0x96, 0xBB, 0x2A, 0x94, 0x1D, 0x5B, 0xCD, 0x1D, 0x4A, 0xC8, 0xCC, 0x49, 0x88,
    0x07, 0x08, 0xFA, 0x9B, 0x37, 0x8E, 0x3C, 0x4F, 0x3A, 0x90, 0x60, 0xBE, 0xE6, 0x7C, 0xF9, 0xA4,
    0xA4, 0xA6, 0x95, 0x81, 0x10, 0x51, 0x90, 0x7E, 0x16, 0x27, 0x53, 0xB5, 0x6B, 0x0F, 0x6B, 0x41,
    0x0D, 0xBA, 0x74, 0xD8, 0xA8, 0x4B, 0x2A, 0x14, 0xB3, 0x14, 0x4E, 0x0E, 0xF1, 0x28, 0x47, 0x54,
    0xFD, 0x17, 0xED, 0x95, 0x0D, 0x59, 0x65, 0xB4, 0xB9, 0xDD, 0x46, 0x58, 0x2D, 0xB1, 0x17, 0x8D,
    0x16, 0x9C, 0x6B, 0xC4, 0x65, 0xB0, 0xD6, 0xFF, 0x9C, 0xA3, 0x92, 0x8F, 0xEF, 0x5B, 0x9A, 0xE4,
    0xE4, 0x18, 0xFC, 0x15, 0xE8, 0x3E, 0xBE, 0xA0, 0xF8, 0x7F, 0xA9, 0xFF, 0x5E, 0xED, 0x70, 0x05,
    0x0D, 0xED, 0x28, 0x49, 0xF4, 0x7B, 0xF9, 0x59, 0xD9, 0x56, 0x85, 0x0C, 0xE9, 0x29, 0x85, 0x1F,
    0x0D, 0x81, 0x15, 0xF6, 0x35, 0xB1, 0x05, 0xEE, 0x2E, 0x4E, 0x15, 0xD0, 0x4B, 0x24, 0x54, 0xBF,
    0x6F, 0x4F, 0xAD, 0xF0, 0x34, 0xB1, 0x04, 0x03, 0x11, 0x9C, 0xD8, 0xE3, 0xB9, 0x2F, 0xCC, 0x5B,
];

/// Which group element a check was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DhValue {
    /// The server's `g_a` (key exchange) or the client's `g_a`/`A` (SRP).
    GA,
    /// The client's `g_b` (key exchange) or the server's `srp_B` (SRP).
    GB,
    /// SRP's `t = (g_b - k*v) mod p`.
    SrpT,
}

impl fmt::Display for DhValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DhValue::GA => "g_a",
            DhValue::GB => "g_b",
            DhValue::SrpT => "t",
        })
    }
}

/// A failed Diffie-Hellman check; each guideline check has its own variant.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhError {
    /// `dh_prime` is not exactly 2048 bits long.
    #[error("dh_prime has {bits} bits, expected 2048")]
    PrimeWrongSize {
        /// Its actual bit length.
        bits: u64,
    },
    /// `dh_prime` or `(dh_prime - 1) / 2` is not prime.
    #[error("dh_prime is not a safe prime")]
    PrimeNotSafe,
    /// `g` is not in 2..=7.
    #[error("generator g = {g} is not in 2..=7")]
    GeneratorOutOfRange {
        /// The generator received.
        g: i32,
    },
    /// `g` does not generate the subgroup of order `(p-1)/2` for this prime.
    #[error("generator g = {g} fails its quadratic residue condition for dh_prime")]
    GeneratorResidue {
        /// The generator received.
        g: i32,
    },
    /// The value is not strictly between 1 and p-1.
    #[error("{which} is not in (1, p-1)")]
    ValueOutOfRange {
        /// Which value.
        which: DhValue,
    },
    /// The value is not in `[2^1984, p - 2^1984]`.
    #[error("{which} is not in [2^1984, p - 2^1984]")]
    ValueNotInSafeRange {
        /// Which value.
        which: DhValue,
    },
    /// `encrypted_answer` has a length that cannot hold `answer_with_hash`.
    #[error("encrypted answer of {len} bytes is not a positive multiple of 16 above 20")]
    AnswerLength {
        /// The length received.
        len: usize,
    },
    /// The SHA1 inside `answer_with_hash` does not match the answer.
    #[error("SHA1 of the decrypted answer does not match")]
    AnswerHashMismatch,
    /// Padding for `data_with_hash` must make the total a multiple of 16 (0..=15 bytes).
    #[error("padding of {len} bytes does not align data_with_hash to 16 bytes")]
    PaddingLength {
        /// The padding length given.
        len: usize,
    },
    /// No suitable secret exponent was drawn after many attempts (a broken RNG).
    #[error("could not draw a secret whose public value is in the safe range")]
    RandomnessExhausted,
}

/// Verdicts of earlier safe-prime checks, owned by the caller (no global state).
///
/// Keyed by SHA-256 of the prime; keeps the most recent [`PrimeCache::CAPACITY`] verdicts.
#[derive(Debug, Clone, Default)]
pub struct PrimeCache {
    entries: Vec<([u8; 32], bool)>,
}

impl PrimeCache {
    /// How many verdicts are kept.
    pub const CAPACITY: usize = 16;

    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of remembered verdicts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, digest: &[u8; 32]) -> Option<bool> {
        self.entries
            .iter()
            .find(|(d, _)| d == digest)
            .map(|&(_, v)| v)
    }

    fn insert(&mut self, digest: [u8; 32], verdict: bool) {
        if self.entries.len() >= Self::CAPACITY {
            self.entries.remove(0);
        }
        self.entries.push((digest, verdict));
    }
}

/// Is `p` (exactly 2048 bits, given as 256 big-endian bytes) a safe prime?
///
/// Fast path for [`TELEGRAM_DH_PRIME`], then the caller's cache; otherwise `crypto-primes`
/// decides (`p = 3 mod 4`, then Baillie-PSW and one Miller-Rabin round on `p` and on
/// `(p-1)/2`), and the verdict is remembered.
fn is_safe_prime(p_bytes: &[u8; VALUE_LEN], cache: &mut PrimeCache) -> bool {
    if *p_bytes == TELEGRAM_DH_PRIME {
        return true;
    }
    let digest = sha256(&[p_bytes]);
    if let Some(v) = cache.get(&digest) {
        return v;
    }
    let verdict = is_safe_prime_2048(p_bytes);
    cache.insert(digest, verdict);
    verdict
}

/// The residue condition that makes `g` generate the subgroup of order `(p-1)/2`.
fn generator_ok(g: u32, p: &BigUint) -> bool {
    let m = |n: u32| (p % n).to_u32_digits().first().copied().unwrap_or(0);
    match g {
        2 => m(8) == 7,
        3 => m(3) == 2,
        4 => true,
        5 => matches!(m(5), 1 | 4),
        6 => matches!(m(24), 19 | 23),
        7 => matches!(m(7), 3 | 5 | 6),
        _ => false,
    }
}

/// Checked Diffie-Hellman group parameters: only [`DhParams::new`] makes one, so holding a
/// `DhParams` means checks 1 and 2 passed.
#[derive(Clone)]
pub struct DhParams {
    p: BigUint,
    p_bytes: [u8; VALUE_LEN],
    g: u32,
    p_minus_1: BigUint,
    low: BigUint,
    high: BigUint,
}

impl fmt::Debug for DhParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhParams")
            .field("g", &self.g)
            .field("p_prefix", &format_args!("{:02X?}", &self.p_bytes[..4]))
            .finish_non_exhaustive()
    }
}

impl DhParams {
    /// Checks `dh_prime` (big-endian) and `g` as the guidelines require, in this order:
    /// size ([`DhError::PrimeWrongSize`]), `g` range ([`DhError::GeneratorOutOfRange`]),
    /// residue condition ([`DhError::GeneratorResidue`]) and safe primality
    /// ([`DhError::PrimeNotSafe`], the expensive one, last).
    pub fn new(dh_prime: &[u8], g: i32, cache: &mut PrimeCache) -> Result<Self, DhError> {
        let p = BigUint::from_bytes_be(dh_prime);
        let bits = p.bits();
        if bits != PRIME_BITS {
            return Err(DhError::PrimeWrongSize { bits });
        }
        let g_u = match u32::try_from(g) {
            Ok(v @ 2..=7) => v,
            _ => return Err(DhError::GeneratorOutOfRange { g }),
        };
        if !generator_ok(g_u, &p) {
            return Err(DhError::GeneratorResidue { g });
        }
        let mut p_bytes = [0u8; VALUE_LEN];
        p_bytes.copy_from_slice(&pad256(&p));
        if !is_safe_prime(&p_bytes, cache) {
            return Err(DhError::PrimeNotSafe);
        }
        let safe = BigUint::one() << SAFE_RANGE_BITS;
        Ok(Self {
            p_minus_1: &p - 1u32,
            high: &p - &safe,
            low: safe,
            p,
            p_bytes,
            g: g_u,
        })
    }

    /// Telegram's usual group: [`TELEGRAM_DH_PRIME`] with `g = 3`.
    pub fn telegram() -> Self {
        let mut cache = PrimeCache::new();
        match Self::new(&TELEGRAM_DH_PRIME, 3, &mut cache) {
            Ok(params) => params,
            // Unreachable: the constant passes every check (covered by tests).
            Err(e) => panic!("built-in DH parameters rejected: {e}"),
        }
    }

    /// The prime as 256 big-endian bytes.
    pub fn p_bytes(&self) -> &[u8; VALUE_LEN] {
        &self.p_bytes
    }

    /// The generator.
    pub fn g(&self) -> u32 {
        self.g
    }

    pub(crate) fn p(&self) -> &BigUint {
        &self.p
    }

    /// Checks 3 and 4 for a peer's (or our own) group element given as big-endian bytes:
    /// [`DhError::ValueOutOfRange`] unless `1 < v < p-1`, then
    /// [`DhError::ValueNotInSafeRange`] unless `2^1984 <= v <= p - 2^1984`.
    pub fn check_value(&self, value: &[u8], which: DhValue) -> Result<(), DhError> {
        // Longer than 256 significant bytes cannot be below p; avoid big allocations.
        let significant = value.iter().skip_while(|&&b| b == 0).count();
        if significant > VALUE_LEN {
            return Err(DhError::ValueOutOfRange { which });
        }
        self.check_int(&BigUint::from_bytes_be(value), which)
    }

    /// Check 3 only: `1 < v < p-1`.
    pub(crate) fn check_open_range(&self, v: &BigUint, which: DhValue) -> Result<(), DhError> {
        if *v <= BigUint::one() || *v >= self.p_minus_1 {
            return Err(DhError::ValueOutOfRange { which });
        }
        Ok(())
    }

    pub(crate) fn check_int(&self, v: &BigUint, which: DhValue) -> Result<(), DhError> {
        if *v <= BigUint::one() || *v >= self.p_minus_1 {
            return Err(DhError::ValueOutOfRange { which });
        }
        if *v < self.low || *v > self.high {
            return Err(DhError::ValueNotInSafeRange { which });
        }
        Ok(())
    }

    /// `g^secret mod p`, left-padded to 256 bytes (no range check; see
    /// [`DhParams::generate_secret`] for a checked draw).
    ///
    /// For Telegram's prime a precomputed comb does it in about a fifth of a plain
    /// exponentiation (`fixed_base`); other groups use `modpow`.
    pub fn public_value(&self, secret: &DhSecret) -> [u8; VALUE_LEN] {
        if let Some(value) = crate::fixed_base::telegram_comb(&self.p_bytes, self.g)
            .and_then(|comb| comb.pow(&secret.bytes[..]))
        {
            return pad256(&value);
        }
        let exp = BigUint::from_bytes_be(&secret.bytes[..]);
        pad256(&BigUint::from(self.g).modpow(&exp, &self.p))
    }

    /// Draws a 2048-bit secret whose public value `g^secret mod p` passes checks 3 and 4 (as
    /// `own`, e.g. [`DhValue::GB`] for a client), re-drawing if needed. Returns both.
    pub fn generate_secret(
        &self,
        rng: &mut impl CryptoRngCore,
        own: DhValue,
    ) -> Result<(DhSecret, [u8; VALUE_LEN]), DhError> {
        for _ in 0..64 {
            let secret = DhSecret::generate(rng);
            let public = self.public_value(&secret);
            if self.check_value(&public, own).is_ok() {
                return Ok((secret, public));
            }
        }
        Err(DhError::RandomnessExhausted)
    }

    /// The shared key `peer_value^secret mod p`, left-padded to 256 bytes, after checking the
    /// peer's value (checks 3 and 4, reported as `which`).
    pub fn auth_key(
        &self,
        secret: &DhSecret,
        peer_value: &[u8],
        which: DhValue,
    ) -> Result<AuthKey, DhError> {
        self.check_value(peer_value, which)?;
        let peer = BigUint::from_bytes_be(peer_value);
        let exp = BigUint::from_bytes_be(&secret.bytes[..]);
        let shared = peer.modpow(&exp, &self.p);
        Ok(AuthKey::from_bytes(pad256(&shared)))
    }
}

/// A Diffie-Hellman secret exponent (`a` or `b`, 2048 bits). Zeroized on drop; `Debug` is
/// redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct DhSecret {
    bytes: Box<[u8; VALUE_LEN]>,
}

impl DhSecret {
    /// Wraps 256 big-endian bytes (e.g. a published test vector's `b`).
    pub fn from_bytes(mut bytes: [u8; VALUE_LEN]) -> Self {
        let secret = Self {
            bytes: Box::new(bytes),
        };
        bytes.zeroize();
        secret
    }

    pub(crate) fn expose(&self) -> &[u8; VALUE_LEN] {
        &self.bytes
    }

    /// Draws 256 random bytes.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = Box::new([0u8; VALUE_LEN]);
        rng.fill_bytes(&mut bytes[..]);
        Self { bytes }
    }
}

impl fmt::Debug for DhSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DhSecret(<redacted>)")
    }
}

/// Left-pads a number to 256 big-endian bytes (callers guarantee it is below 2^2048). The
/// temporary byte vector is zeroized, as the number may be a shared key or a decrypted block.
pub(crate) fn pad256(n: &BigUint) -> [u8; VALUE_LEN] {
    let bytes = Zeroizing::new(n.to_bytes_be());
    let mut out = [0u8; VALUE_LEN];
    let take = bytes.len().min(VALUE_LEN);
    out[VALUE_LEN - take..].copy_from_slice(&bytes[bytes.len() - take..]);
    out
}

/// Builds and encrypts `data_with_hash = SHA1(data) + data + padding` with the temporary key
/// (for `client_DH_inner_data`, and `server_DH_inner_data` on a server). `padding` must be
/// exactly the 0..=15 bytes that make the total a multiple of 16.
pub fn wrap_with_hash(data: &[u8], key_iv: &AesKeyIv, padding: &[u8]) -> Result<Vec<u8>, DhError> {
    let total = 20 + data.len() + padding.len();
    if padding.len() > 15 || total % 16 != 0 {
        return Err(DhError::PaddingLength { len: padding.len() });
    }
    Ok(seal_with_hash(data, key_iv, padding))
}

/// Callers guarantee the alignment.
fn seal_with_hash(data: &[u8], key_iv: &AesKeyIv, padding: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + data.len() + padding.len());
    out.extend_from_slice(&sha1(&[data]));
    out.extend_from_slice(data);
    out.extend_from_slice(padding);
    let sealed = ige::encrypt_ige(&mut out, key_iv.key(), key_iv.iv());
    debug_assert!(sealed.is_ok());
    out
}

/// [`wrap_with_hash`] with the padding drawn from `rng`.
pub fn wrap_with_hash_random(
    data: &[u8],
    key_iv: &AesKeyIv,
    rng: &mut impl CryptoRngCore,
) -> Vec<u8> {
    let mut padding = [0u8; 15];
    let len = (16 - (20 + data.len()) % 16) % 16;
    rng.fill_bytes(&mut padding[..len]);
    seal_with_hash(data, key_iv, &padding[..len])
}

/// Decrypts `encrypted_answer` and verifies `answer_with_hash = SHA1(answer) + answer +
/// 0..15 padding bytes` (check 5). As the answer's length is only known after TL parsing,
/// each possible padding length is tried; returns the answer without hash or padding.
pub fn unwrap_with_hash(encrypted: &[u8], key_iv: &AesKeyIv) -> Result<Vec<u8>, DhError> {
    let len = encrypted.len();
    if len <= 20 || len % 16 != 0 {
        return Err(DhError::AnswerLength { len });
    }
    let mut plain = Zeroizing::new(encrypted.to_vec());
    ige::decrypt_ige(&mut plain, key_iv.key(), key_iv.iv())
        .map_err(|_| DhError::AnswerLength { len })?;
    let (hash, rest) = plain.split_at(20);
    for pad in 0..16.min(rest.len() + 1) {
        let answer = &rest[..rest.len() - pad];
        if ct_eq(&sha1(&[answer]), hash) {
            return Ok(answer.to_vec());
        }
    }
    Err(DhError::AnswerHashMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_params_pass() {
        let params = DhParams::telegram();
        assert_eq!(params.g(), 3);
        assert_eq!(params.p_bytes(), &TELEGRAM_DH_PRIME);
        let mut cache = PrimeCache::new();
        for g in [3, 4, 7] {
            assert!(
                DhParams::new(&TELEGRAM_DH_PRIME, g, &mut cache).is_ok(),
                "g = {g}"
            );
        }
        for g in [2, 5, 6] {
            assert_eq!(
                DhParams::new(&TELEGRAM_DH_PRIME, g, &mut cache).unwrap_err(),
                DhError::GeneratorResidue { g }
            );
        }
        // The fast path does not touch the cache.
        assert!(cache.is_empty());
    }

    #[test]
    fn generator_conditions_on_small_safe_primes() {
        // Safe primes and the generator conditions from core.telegram.org/mtproto/security_guidelines.
        let p = |n: u32| BigUint::from(n);
        assert!(generator_ok(2, &p(23)));
        assert!(!generator_ok(2, &p(11)));
        assert!(generator_ok(3, &p(47)));
        assert!(generator_ok(4, &p(11)));
        assert!(generator_ok(5, &p(11)) && generator_ok(5, &p(179)));
        assert!(!generator_ok(5, &p(23)));
        assert!(generator_ok(6, &p(383)));
        assert!(generator_ok(7, &p(383)) && generator_ok(7, &p(479)) && generator_ok(7, &p(503)));
        assert!(!generator_ok(8, &p(23)));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = DhSecret::from_bytes([0x5A; 256]);
        assert_eq!(format!("{s:?}"), "DhSecret(<redacted>)");
    }

    #[test]
    fn wrap_unwrap_roundtrip() {
        let kv = AesKeyIv::new([3; 32], [4; 32]);
        for len in [0usize, 1, 12, 100, 555] {
            let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let pad = (16 - (20 + len) % 16) % 16;
            let enc = wrap_with_hash(&data, &kv, &vec![0xEE; pad]).unwrap();
            assert_eq!(unwrap_with_hash(&enc, &kv).unwrap(), data);
            let mut bad = enc.clone();
            let last = bad.len() - 1;
            bad[last] ^= 1;
            assert_eq!(
                unwrap_with_hash(&bad, &kv),
                Err(DhError::AnswerHashMismatch)
            );
        }
        assert_eq!(
            wrap_with_hash(&[1, 2, 3], &kv, &[0; 3]),
            Err(DhError::PaddingLength { len: 3 })
        );
        assert_eq!(
            unwrap_with_hash(&[0; 16], &kv),
            Err(DhError::AnswerLength { len: 16 })
        );
        assert_eq!(
            unwrap_with_hash(&[0; 33], &kv),
            Err(DhError::AnswerLength { len: 33 })
        );
    }
}
