//! RSA as MTProto uses it: raw `m^e mod n` on 2048-bit keys with Telegram's own padding.
//!
//! - [`RsaPublicKey::from_pem`] reads `-----BEGIN RSA PUBLIC KEY-----` (PKCS#1) and
//!   `-----BEGIN PUBLIC KEY-----` (SubjectPublicKeyInfo) keys.
//! - [`RsaPublicKey::fingerprint`]: last 8 bytes of SHA1(TL bytes n + TL bytes e), as a
//!   little-endian `long`.
//! - [`RsaPublicKey::encrypt_pad`]: RSA_PAD for `p_q_inner_data*` (key exchange step 4.1).
//! - [`RsaPrivateKey`]: the server-side inverse ([`RsaPrivateKey::decrypt_pad`]), for a test DC;
//!   [`RsaPrivateKey::generate`] draws one, [`RsaPrivateKey::from_pem`] reads PKCS#1 and
//!   PKCS#8 PEM, [`RsaPrivateKey::to_pkcs1_pem`] writes PKCS#1.
//! - Telegram's production and test-server keys: [`telegram_production_key`],
//!   [`telegram_test_key`].
//!
//! Known limits: `num-bigint` is not constant-time and its integers are not zeroized (a
//! private key keeps its secrets as bytes, zeroized on drop, but the numbers computed from
//! them are not), so the private-key side is meant for tests and local servers, not for
//! production secrets.

use std::fmt;

use crypto_bigint::{Encoding, U1024};
use crypto_primes::hazmat::{random_odd_uint, Sieve};
use crypto_primes::is_prime_with_rng;
use num_bigint::BigUint;
use num_traits::Zero;
use pkcs1::der::pem::{LineEnding, PemLabel};
use pkcs1::der::{Decode, Document, EncodePem, SecretDocument};
use pkcs1::UintRef;
use rand_core::CryptoRngCore;
use spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::hash::{array, ct_eq, sha1, sha256};
use crate::ige;

/// Modulus size every MTProto RSA key has.
pub const MODULUS_BITS: u64 = 2048;
/// Bytes in an RSA block for a 2048-bit key.
pub const BLOCK_LEN: usize = 256;
/// Largest `data` RSA_PAD accepts.
pub const RSA_PAD_MAX_DATA: usize = 144;
/// Length of RSA_PAD's `data_with_padding`.
pub const RSA_PAD_PADDED_LEN: usize = 192;
/// How many temporary keys RSA_PAD draws before giving up (each is refused with probability
/// below 1/2, so this is never reached with a working RNG).
const MAX_TEMP_KEYS: usize = 256;

/// `rsaEncryption` (RFC 8017 appendix C), the algorithm of an RSA `SubjectPublicKeyInfo`.
const RSA_ENCRYPTION_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

/// Telegram's production-server public key, as published on my.telegram.org/apps.
pub const TELEGRAM_PRODUCTION_KEY_PEM: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA6LszBcC1LGzyr992NzE0ieY+BSaOW622Aa9Bd4ZHLl+TuFQ4lo4g
5nKaMBwK/BIb9xUfg0Q29/2mgIR6Zr9krM7HjuIcCzFvDtr+L0GQjae9H0pRB2OO
62cECs5HKhT5DZ98K33vmWiLowc621dQuwKWSQKjWf50XYFw42h21P2KXUGyp2y/
+aEyZ+uVgLLQbRA1dEjSDZ2iGRy12Mk5gpYc397aYp438fsJoHIgJ2lgMv5h7WY9
t6N/byY9Nw9p21Og3AoXSL2q/2IJ1WRUhebgAdGVMlV1fkuOQoEzR7EdpqtQD9Cs
5+bfo3Nhmcyvk5ftB0WkJ9z6bNZ7yxrP8wIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Fingerprint of [`TELEGRAM_PRODUCTION_KEY_PEM`]: `0xd09d1d85de64fd85` (its wire bytes
/// `85FD64DE851D9DD0` appear in core.telegram.org/mtproto/samples-auth_key).
pub const TELEGRAM_PRODUCTION_KEY_FINGERPRINT: i64 = 0xd09d_1d85_de64_fd85_u64 as i64;

/// Telegram's test-server public key, as published on my.telegram.org/apps.
pub const TELEGRAM_TEST_KEY_PEM: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAyMEdY1aR+sCR3ZSJrtztKTKqigvO/vBfqACJLZtS7QMgCGXJ6XIR
yy7mx66W0/sOFa7/1mAZtEoIokDP3ShoqF4fVNb6XeqgQfaUHd8wJpDWHcR2OFwv
plUUI1PLTktZ9uW2WE23b+ixNwJjJGwBDJPQEQFBE+vfmH0JP503wr5INS1poWg/
j25sIWeYPHYeOrFp/eXaqhISP6G+q2IeTaWTXpwZj4LzXq5YOpk4bYEQ6mvRq7D1
aHWfYmlEGepfaYR8Q0YqvvhYtMte3ITnuSJs171+GDqpdKcSwHnd6FudwGO4pcCO
j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB
-----END RSA PUBLIC KEY-----
";

/// Fingerprint of [`TELEGRAM_TEST_KEY_PEM`]: `0xb25898df208d2603` (the value Telegram's
/// official clients pin next to this key).
pub const TELEGRAM_TEST_KEY_FINGERPRINT: i64 = 0xb258_98df_208d_2603_u64 as i64;

/// A failed RSA operation or a malformed key.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaError {
    /// No PEM block with a supported label, or its base64 is invalid.
    #[error("not a PEM RSA key with a supported label")]
    InvalidPem,
    /// The DER structure inside the PEM is malformed or not an RSA key.
    #[error("malformed DER RSA key")]
    InvalidDer,
    /// The modulus is not 2048 bits (RSA_PAD produces exactly 256 bytes).
    #[error("RSA modulus has {bits} bits, expected 2048")]
    ModulusSize {
        /// Its bit length.
        bits: u64,
    },
    /// The public exponent is even, below 3 or not below the modulus.
    #[error("invalid RSA public exponent")]
    InvalidExponent,
    /// The private exponent does not invert the public one.
    #[error("private exponent does not match the public key")]
    InvalidPrivateKey,
    /// RSA_PAD takes at most 144 bytes.
    #[error("RSA_PAD data of {len} bytes exceeds 144")]
    DataTooLong {
        /// The data length given.
        len: usize,
    },
    /// An RSA block must be exactly 256 bytes.
    #[error("RSA block of {len} bytes, expected 256")]
    BlockLength {
        /// The length given.
        len: usize,
    },
    /// The block, read as a number, is not below the modulus.
    #[error("RSA block is not below the modulus")]
    BlockOutOfRange,
    /// The hash inside RSA_PAD (or the legacy SHA1 scheme) does not match: wrong key or
    /// corrupted data.
    #[error("RSA padding check failed")]
    PaddingMismatch,
    /// Every temporary key drawn gave a number above the modulus (a broken RNG).
    #[error("no suitable RSA_PAD temporary key found")]
    RandomnessExhausted,
}

/// TL serialization of `bytes` (length prefix and zero padding to 4), used by fingerprints.
pub fn tl_bytes(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    if data.len() <= 253 {
        out.push(data.len() as u8);
    } else {
        out.push(254);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes()[..3]);
    }
    out.extend_from_slice(data);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// A 2048-bit RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPublicKey {
    n: BigUint,
    e: BigUint,
    fingerprint: i64,
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPublicKey(fingerprint={:#018x})",
            self.fingerprint as u64
        )
    }
}

impl RsaPublicKey {
    /// Builds a key from big-endian `n` and `e`; `n` must be 2048 bits, `e` odd in `[3, n)`.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, RsaError> {
        let n = BigUint::from_bytes_be(n);
        let e = BigUint::from_bytes_be(e);
        if n.bits() != MODULUS_BITS {
            return Err(RsaError::ModulusSize { bits: n.bits() });
        }
        if e < BigUint::from(3u32) || !e.bit(0) || e >= n {
            return Err(RsaError::InvalidExponent);
        }
        let fingerprint = fingerprint_of(&n, &e);
        Ok(Self { n, e, fingerprint })
    }

    /// Parses a PEM key: PKCS#1 (`BEGIN RSA PUBLIC KEY`) or SPKI (`BEGIN PUBLIC KEY`).
    /// Text before the `BEGIN` line and whitespace around the block are ignored.
    pub fn from_pem(pem: &str) -> Result<Self, RsaError> {
        let (label, der) = Document::from_pem(pem.trim()).map_err(|_| RsaError::InvalidPem)?;
        if label == pkcs1::RsaPublicKey::PEM_LABEL {
            Self::from_pkcs1_der(der.as_bytes())
        } else if label == SubjectPublicKeyInfoRef::PEM_LABEL {
            Self::from_spki_der(der.as_bytes())
        } else {
            Err(RsaError::InvalidPem)
        }
    }

    /// Parses a DER PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaError> {
        let key = pkcs1::RsaPublicKey::from_der(der).map_err(|_| RsaError::InvalidDer)?;
        Self::from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    /// Parses a DER `SubjectPublicKeyInfo` holding an `rsaEncryption` key (parameters absent
    /// or NULL).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, RsaError> {
        let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| RsaError::InvalidDer)?;
        let params_ok = spki.algorithm.parameters.map_or(true, |p| p.is_null());
        if spki.algorithm.oid != RSA_ENCRYPTION_OID || !params_ok {
            return Err(RsaError::InvalidDer);
        }
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or(RsaError::InvalidDer)?;
        Self::from_pkcs1_der(key)
    }

    /// The key as a PKCS#1 PEM (`BEGIN RSA PUBLIC KEY`, 64-character lines, `\n` line
    /// endings), the form clients import.
    pub fn to_pkcs1_pem(&self) -> String {
        let (n, e) = (self.n.to_bytes_be(), self.e.to_bytes_be());
        let pem = UintRef::new(&n).and_then(|modulus| {
            let public_exponent = UintRef::new(&e)?;
            pkcs1::RsaPublicKey {
                modulus,
                public_exponent,
            }
            .to_pem(LineEnding::LF)
        });
        match pem {
            Ok(pem) => pem,
            // Unreachable: two integers of at most 256 bytes always encode.
            Err(err) => panic!("PKCS#1 encoding of a 2048-bit key failed: {err}"),
        }
    }

    /// Telegram's fingerprint: the last 8 bytes of SHA1(TL bytes n + TL bytes e), read as a
    /// little-endian `long` (the value sent in `req_DH_params`).
    pub fn fingerprint(&self) -> i64 {
        self.fingerprint
    }

    /// The modulus, big-endian without leading zeros.
    pub fn n_bytes(&self) -> Vec<u8> {
        self.n.to_bytes_be()
    }

    /// The public exponent, big-endian without leading zeros.
    pub fn e_bytes(&self) -> Vec<u8> {
        self.e.to_bytes_be()
    }

    /// Raw RSA: `block^e mod n` as exactly 256 big-endian bytes. The block, read as a
    /// big-endian number, must be below `n`.
    pub fn encrypt_raw(&self, block: &[u8]) -> Result<[u8; BLOCK_LEN], RsaError> {
        let m = self.block_to_int(block)?;
        Ok(pad_block(&m.modpow(&self.e, &self.n)))
    }

    fn block_to_int(&self, block: &[u8]) -> Result<BigUint, RsaError> {
        if block.len() != BLOCK_LEN {
            return Err(RsaError::BlockLength { len: block.len() });
        }
        let m = BigUint::from_bytes_be(block);
        if m >= self.n {
            return Err(RsaError::BlockOutOfRange);
        }
        Ok(m)
    }

    /// RSA_PAD (core.telegram.org/mtproto/auth_key, step 4.1), randomness from `rng`:
    ///
    /// 1. `data_with_padding` = data + random bytes up to 192; `data_pad_reversed` = its reverse;
    /// 2. random 32-byte `temp_key`;
    /// 3. `data_with_hash` = data_pad_reversed + SHA256(temp_key + data_with_padding) (224 bytes);
    /// 4. `aes_encrypted` = AES-256-IGE(data_with_hash, temp_key, zero IV);
    /// 5. `temp_key_xor` = temp_key XOR SHA256(aes_encrypted);
    /// 6. `key_aes_encrypted` = temp_key_xor + aes_encrypted (256 bytes); if it is not below
    ///    the modulus, go back to step 2;
    /// 7. result = key_aes_encrypted^e mod n, exactly 256 big-endian bytes.
    pub fn encrypt_pad(
        &self,
        data: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<[u8; BLOCK_LEN], RsaError> {
        if data.len() > RSA_PAD_MAX_DATA {
            return Err(RsaError::DataTooLong { len: data.len() });
        }
        let mut padded = [0u8; RSA_PAD_PADDED_LEN];
        padded[..data.len()].copy_from_slice(data);
        rng.fill_bytes(&mut padded[data.len()..]);
        let mut block = [0u8; BLOCK_LEN];
        let mut result = Err(RsaError::RandomnessExhausted);
        for _ in 0..MAX_TEMP_KEYS {
            let mut temp_key = [0u8; 32];
            rng.fill_bytes(&mut temp_key);
            pad_block_into(&padded, &temp_key, &mut block);
            temp_key.zeroize();
            let m = BigUint::from_bytes_be(&block);
            if m < self.n {
                result = Ok(pad_block(&m.modpow(&self.e, &self.n)));
                break;
            }
        }
        padded.zeroize();
        block.zeroize();
        result
    }
}

/// Steps 3-6 of RSA_PAD for one temporary key.
fn pad_block_into(
    padded: &[u8; RSA_PAD_PADDED_LEN],
    temp_key: &[u8; 32],
    block: &mut [u8; BLOCK_LEN],
) {
    let (head, aes_part) = block.split_at_mut(32);
    aes_part[..RSA_PAD_PADDED_LEN].copy_from_slice(padded);
    aes_part[..RSA_PAD_PADDED_LEN].reverse();
    aes_part[RSA_PAD_PADDED_LEN..].copy_from_slice(&sha256(&[temp_key, padded]));
    // 224 bytes: a multiple of 16.
    let sealed = ige::encrypt_ige(aes_part, temp_key, &[0u8; 32]);
    debug_assert!(sealed.is_ok());
    let mask = sha256(&[aes_part]);
    for (i, h) in head.iter_mut().enumerate() {
        *h = temp_key[i] ^ mask[i];
    }
}

fn fingerprint_of(n: &BigUint, e: &BigUint) -> i64 {
    let digest = sha1(&[&tl_bytes(&n.to_bytes_be()), &tl_bytes(&e.to_bytes_be())]);
    i64::from_le_bytes(array(&digest, 12))
}

fn pad_block(n: &BigUint) -> [u8; BLOCK_LEN] {
    crate::dh::pad256(n)
}

/// A 2048-bit RSA private key `(n, e, d)` and the primes of `n`: the server side of RSA_PAD,
/// for a test DC. The secret parts are zeroized on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    secret: PrivateParts,
}

/// The secret half of an [`RsaPrivateKey`], big-endian without leading zeros (`p > q`), with
/// the CRT values `dp = d mod (p-1)`, `dq = d mod (q-1)` and `qinv = q^-1 mod p`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct PrivateParts {
    d: Vec<u8>,
    p: Vec<u8>,
    q: Vec<u8>,
    dp: Vec<u8>,
    dq: Vec<u8>,
    qinv: Vec<u8>,
}

/// The public exponent of generated keys.
const GENERATED_E: u32 = 65_537;
/// Bits of each prime of a generated key.
const PRIME_BITS: usize = 1024;
/// Bases tried when recovering `p` and `q` from `(n, e, d)` (each finds them with
/// probability at least 1/2).
const RECOVERY_BASES: u32 = 100;

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RsaPrivateKey(fingerprint={:#018x}, <redacted>)",
            self.public.fingerprint as u64
        )
    }
}

impl RsaPrivateKey {
    /// Builds a key from big-endian `n`, `e`, `d`, checking that `d` inverts `e`; the primes
    /// of `n` are recovered from them (so [`Self::to_pkcs1_pem`] can write them).
    pub fn from_components(n: &[u8], e: &[u8], d: &[u8]) -> Result<Self, RsaError> {
        let public = RsaPublicKey::from_components(n, e)?;
        let d = BigUint::from_bytes_be(d);
        if d.is_zero() || d >= public.n {
            return Err(RsaError::InvalidPrivateKey);
        }
        // (2^e)^d must give 2 back.
        let two = BigUint::from(2u32);
        if two.modpow(&public.e, &public.n).modpow(&d, &public.n) != two {
            return Err(RsaError::InvalidPrivateKey);
        }
        let (p, q) = recover_primes(&public.n, &public.e, &d).ok_or(RsaError::InvalidPrivateKey)?;
        Ok(Self::assemble(public, &d, &p, &q))
    }

    /// Builds the key once `d`, `p` and `q` are known to belong to `public`.
    fn assemble(public: RsaPublicKey, d: &BigUint, p: &BigUint, q: &BigUint) -> Self {
        let (p, q) = if p > q { (p, q) } else { (q, p) };
        let one = BigUint::from(1u32);
        let secret = PrivateParts {
            d: d.to_bytes_be(),
            p: p.to_bytes_be(),
            q: q.to_bytes_be(),
            dp: (d % (p - &one)).to_bytes_be(),
            dq: (d % (q - &one)).to_bytes_be(),
            // Distinct primes: q is invertible modulo p.
            qinv: q.modinv(p).unwrap_or_default().to_bytes_be(),
        };
        Self { public, secret }
    }

    /// Draws a new key: two random 1024-bit primes (probable primes: Miller-Rabin and a
    /// strong Lucas test, from `crypto-primes`), `e` = 65537, `d` = `e`^-1 mod lcm(p-1, q-1).
    ///
    /// `bits` must be 2048, the only modulus size MTProto uses
    /// ([`RsaError::ModulusSize`] otherwise). Takes a fraction of a second in an optimized
    /// build.
    pub fn generate(rng: &mut impl CryptoRngCore, bits: u64) -> Result<Self, RsaError> {
        if bits != MODULUS_BITS {
            return Err(RsaError::ModulusSize { bits });
        }
        let e = BigUint::from(GENERATED_E);
        let one = BigUint::from(1u32);
        loop {
            let p = random_prime(rng);
            let q = random_prime(rng);
            if p == q {
                continue;
            }
            let (p1, q1) = (&p - &one, &q - &one);
            let lambda = &p1 / gcd(&p1, &q1) * &q1;
            // `None` when e divides p-1 or q-1: draw again.
            let Some(d) = e.modinv(&lambda) else {
                continue;
            };
            let n = &p * &q;
            // Both primes have their two top bits set, so n has exactly 2048 bits.
            let public = RsaPublicKey::from_components(&n.to_bytes_be(), &e.to_bytes_be())?;
            return Ok(Self::assemble(public, &d, &p, &q));
        }
    }

    /// Parses a PEM private key: PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`) or unencrypted
    /// PKCS#8 (`-----BEGIN PRIVATE KEY-----`, algorithm `rsaEncryption`). Text before the
    /// `BEGIN` line and whitespace around the block are ignored. The primes in the file must
    /// multiply to `n`; the CRT values in it are not used.
    pub fn from_pem(pem: &str) -> Result<Self, RsaError> {
        let (label, der) =
            SecretDocument::from_pem(pem.trim()).map_err(|_| RsaError::InvalidPem)?;
        if label == pkcs1::RsaPrivateKey::PEM_LABEL {
            Self::from_pkcs1_der(der.as_bytes())
        } else if label == pkcs8::PrivateKeyInfo::PEM_LABEL {
            Self::from_pkcs8_der(der.as_bytes())
        } else {
            Err(RsaError::InvalidPem)
        }
    }

    /// Parses a PKCS#1 `-----BEGIN RSA PRIVATE KEY-----` PEM (see [`Self::from_pem`], which
    /// also takes PKCS#8).
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, RsaError> {
        let (label, der) =
            SecretDocument::from_pem(pem.trim()).map_err(|_| RsaError::InvalidPem)?;
        if label != pkcs1::RsaPrivateKey::PEM_LABEL {
            return Err(RsaError::InvalidPem);
        }
        Self::from_pkcs1_der(der.as_bytes())
    }

    /// Parses a DER PKCS#1 two-prime `RSAPrivateKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, RsaError> {
        let key = pkcs1::RsaPrivateKey::from_der(der).map_err(|_| RsaError::InvalidDer)?;
        if key.other_prime_infos.is_some() {
            return Err(RsaError::InvalidDer);
        }
        let public =
            RsaPublicKey::from_components(key.modulus.as_bytes(), key.public_exponent.as_bytes())?;
        let d = BigUint::from_bytes_be(key.private_exponent.as_bytes());
        let p = BigUint::from_bytes_be(key.prime1.as_bytes());
        let q = BigUint::from_bytes_be(key.prime2.as_bytes());
        let one = BigUint::from(1u32);
        if p <= one || q <= one || &p * &q != public.n || d.is_zero() || d >= public.n {
            return Err(RsaError::InvalidPrivateKey);
        }
        // e·d ≡ 1 modulo p-1 and q-1: d inverts e for every message.
        let ed = &public.e * &d;
        if &ed % (&p - &one) != one || &ed % (&q - &one) != one {
            return Err(RsaError::InvalidPrivateKey);
        }
        Ok(Self::assemble(public, &d, &p, &q))
    }

    /// Parses a DER PKCS#8 `PrivateKeyInfo` holding an `rsaEncryption` key (parameters
    /// absent or NULL).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, RsaError> {
        let info = pkcs8::PrivateKeyInfo::from_der(der).map_err(|_| RsaError::InvalidDer)?;
        let params_ok = info.algorithm.parameters.map_or(true, |p| p.is_null());
        if info.algorithm.oid != RSA_ENCRYPTION_OID || !params_ok {
            return Err(RsaError::InvalidDer);
        }
        Self::from_pkcs1_der(info.private_key)
    }

    /// The key as a PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`, 64-character lines, `\n`
    /// line endings), with the CRT values; the text is zeroized on drop.
    pub fn to_pkcs1_pem(&self) -> Zeroizing<String> {
        let (dp, dq, qinv) = (&self.secret.dp, &self.secret.dq, &self.secret.qinv);
        let (n, e) = (self.public.n.to_bytes_be(), self.public.e.to_bytes_be());
        let pem = (|| {
            let key = pkcs1::RsaPrivateKey {
                modulus: UintRef::new(&n)?,
                public_exponent: UintRef::new(&e)?,
                private_exponent: UintRef::new(&self.secret.d)?,
                prime1: UintRef::new(&self.secret.p)?,
                prime2: UintRef::new(&self.secret.q)?,
                exponent1: UintRef::new(dp)?,
                exponent2: UintRef::new(dq)?,
                coefficient: UintRef::new(qinv)?,
                other_prime_infos: None,
            };
            SecretDocument::encode_msg(&key)?
                .to_pem(pkcs1::RsaPrivateKey::PEM_LABEL, LineEnding::LF)
        })();
        match pem {
            Ok(pem) => pem,
            // Unreachable: integers of at most 256 bytes always encode.
            Err(err) => panic!("PKCS#1 encoding of a 2048-bit private key failed: {err}"),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Raw RSA: `block^d mod n` as exactly 256 big-endian bytes.
    ///
    /// Computed with the Chinese remainder theorem (two 1024-bit exponentiations, about a
    /// quarter of the work of one 2048-bit one), then checked by re-encrypting: a wrong
    /// result (a fault) is never returned, it falls back to the plain `block^d mod n`.
    pub fn decrypt_raw(&self, block: &[u8]) -> Result<[u8; BLOCK_LEN], RsaError> {
        let c = self.public.block_to_int(block)?;
        let m = self.crt_power(&c);
        if m.modpow(&self.public.e, &self.public.n) == c {
            return Ok(pad_block(&m));
        }
        let d = BigUint::from_bytes_be(&self.secret.d);
        Ok(pad_block(&c.modpow(&d, &self.public.n)))
    }

    /// `c^d mod n` by the CRT: `m1 = c^dp mod p`, `m2 = c^dq mod q`,
    /// `m = m2 + q·(qinv·(m1 - m2) mod p)`.
    fn crt_power(&self, c: &BigUint) -> BigUint {
        let s = &self.secret;
        let (p, q) = (BigUint::from_bytes_be(&s.p), BigUint::from_bytes_be(&s.q));
        let dp = BigUint::from_bytes_be(&s.dp);
        let dq = BigUint::from_bytes_be(&s.dq);
        let qinv = BigUint::from_bytes_be(&s.qinv);
        let m1 = (c % &p).modpow(&dp, &p);
        let m2 = (c % &q).modpow(&dq, &q);
        // m1 - m2 modulo p (m2 < q < p).
        let diff = (&m1 + &p - (&m2 % &p)) % &p;
        let h = (qinv * diff) % &p;
        m2 + h * q
    }

    /// Undoes RSA_PAD: returns the 192-byte `data_with_padding` (the TL inner data followed by
    /// the client's random padding), after checking the SHA256 inside.
    ///
    /// The plaintext holds `new_nonce`, so it comes back in a buffer that is zeroized on drop;
    /// the decrypted block and `temp_key` are zeroized before returning.
    pub fn decrypt_pad(&self, block: &[u8]) -> Result<Zeroizing<Vec<u8>>, RsaError> {
        let mut m = Zeroizing::new(self.decrypt_raw(block)?);
        let (head, aes_part) = m.split_at_mut(32);
        let mask = sha256(&[aes_part]);
        let mut temp_key = Zeroizing::new([0u8; 32]);
        for ((t, h), k) in temp_key.iter_mut().zip(head.iter()).zip(mask.iter()) {
            *t = h ^ k;
        }
        let opened = ige::decrypt_ige(aes_part, &temp_key, &[0u8; 32]);
        debug_assert!(opened.is_ok());
        let mut padded = Zeroizing::new(aes_part[..RSA_PAD_PADDED_LEN].to_vec());
        padded.reverse();
        let ok = ct_eq(
            &sha256(&[&temp_key[..], &padded[..]]),
            &aes_part[RSA_PAD_PADDED_LEN..],
        );
        if ok {
            Ok(padded)
        } else {
            Err(RsaError::PaddingMismatch)
        }
    }

    /// Undoes the legacy scheme some clients still use with `p_q_inner_data` (Telethon 1.x):
    /// the block is `SHA1(data) + data + random padding` (255 bytes). Returns `data`, found as
    /// the prefix whose SHA1 matches.
    pub fn decrypt_legacy(&self, block: &[u8]) -> Result<Vec<u8>, RsaError> {
        let mut m = self.decrypt_raw(block)?;
        let result = if m[0] != 0 {
            Err(RsaError::PaddingMismatch)
        } else {
            let hash = &m[1..21];
            let body = &m[21..];
            (0..=body.len())
                .find(|&len| ct_eq(&sha1(&[&body[..len]]), hash))
                .map(|len| body[..len].to_vec())
                .ok_or(RsaError::PaddingMismatch)
        };
        m.zeroize();
        result
    }
}

/// A random 1024-bit probable prime whose two top bits are set (so that the product of two
/// has exactly 2048 bits).
fn random_prime(rng: &mut impl CryptoRngCore) -> BigUint {
    loop {
        let mut start: Zeroizing<U1024> = Zeroizing::new(random_odd_uint(rng, PRIME_BITS));
        *start |= U1024::ONE.shl_vartime(PRIME_BITS - 2);
        for candidate in Sieve::new(&start, PRIME_BITS, false) {
            let candidate = Zeroizing::new(candidate);
            if is_prime_with_rng(rng, &*candidate) {
                let bytes = Zeroizing::new(candidate.to_be_bytes());
                return BigUint::from_bytes_be(&*bytes);
            }
        }
    }
}

/// Euclid's greatest common divisor.
fn gcd(a: &BigUint, b: &BigUint) -> BigUint {
    let (mut a, mut b) = (a.clone(), b.clone());
    while !b.is_zero() {
        let r = &a % &b;
        a = std::mem::replace(&mut b, r);
    }
    a
}

/// Finds `p` and `q` from `n = pq`, `e` and `d` (NIST SP 800-56B, appendix C): `ed - 1` is a
/// multiple of λ(n), so for a random `g` the sequence `g^(r·2^i)` (with `ed - 1 = r·2^t`, r
/// odd) usually meets a square root of 1 other than ±1, which shares a factor with `n`.
fn recover_primes(n: &BigUint, e: &BigUint, d: &BigUint) -> Option<(BigUint, BigUint)> {
    let one = BigUint::from(1u32);
    let k = e * d - &one;
    let t = k.trailing_zeros()?;
    let r = &k >> t;
    let n_minus_1 = n - &one;
    for g in 2..RECOVERY_BASES + 2 {
        let mut y = BigUint::from(g).modpow(&r, n);
        if y == one || y == n_minus_1 {
            continue;
        }
        for _ in 0..t {
            let x = &y * &y % n;
            if x == one {
                let p = gcd(&(&y - &one), n);
                let q = n / &p;
                return (p > one && q > one && &p * &q == *n).then_some((p, q));
            }
            if x == n_minus_1 {
                break;
            }
            y = x;
        }
    }
    None
}

/// Parses a built-in PEM constant (covered by tests, so the failure arm is unreachable).
fn builtin(pem: &str) -> RsaPublicKey {
    match RsaPublicKey::from_pem(pem) {
        Ok(key) => key,
        Err(e) => panic!("built-in Telegram key does not parse: {e}"),
    }
}

/// Telegram's production-server key ([`TELEGRAM_PRODUCTION_KEY_PEM`]).
pub fn telegram_production_key() -> RsaPublicKey {
    builtin(TELEGRAM_PRODUCTION_KEY_PEM)
}

/// Telegram's test-server key ([`TELEGRAM_TEST_KEY_PEM`]).
pub fn telegram_test_key() -> RsaPublicKey {
    builtin(TELEGRAM_TEST_KEY_PEM)
}

/// The first of `keys` whose fingerprint is among `fingerprints` (from `resPQ`).
pub fn find_key<'a>(keys: &'a [RsaPublicKey], fingerprints: &[i64]) -> Option<&'a RsaPublicKey> {
    keys.iter().find(|k| fingerprints.contains(&k.fingerprint))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `decrypt_raw` (CRT) against the textbook `c^d mod n`, and its fault check: with a
    /// corrupted CRT exponent the answer is still right (the check catches the bad result).
    #[test]
    fn crt_decryption_matches_the_plain_power_and_survives_a_fault() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        let key = RsaPrivateKey::generate(&mut rng, 2048).unwrap();
        let mut faulty = key.clone();
        faulty.secret.dp[0] ^= 1;
        let d = BigUint::from_bytes_be(&key.secret.d);
        for _ in 0..8 {
            let mut block = [0u8; 256];
            rng.fill_bytes(&mut block);
            block[0] = 0; // below n
            let plain = pad_block(&BigUint::from_bytes_be(&block).modpow(&d, &key.public.n));
            assert_eq!(key.decrypt_raw(&block).unwrap(), plain);
            assert_ne!(
                pad_block(&faulty.crt_power(&BigUint::from_bytes_be(&block))),
                plain
            );
            assert_eq!(faulty.decrypt_raw(&block).unwrap(), plain);
        }
    }

    #[test]
    fn tl_bytes_encoding() {
        assert_eq!(tl_bytes(&[]), [0, 0, 0, 0]);
        assert_eq!(tl_bytes(&[1, 2, 3]), [3, 1, 2, 3]);
        assert_eq!(tl_bytes(&[9; 4]), [4, 9, 9, 9, 9, 0, 0, 0]);
        let long = tl_bytes(&[7; 256]);
        assert_eq!(&long[..4], &[254, 0, 1, 0]);
        assert_eq!(long.len(), 260);
    }

    #[test]
    fn builtin_keys_and_fingerprints() {
        let prod = telegram_production_key();
        assert_eq!(prod.fingerprint(), TELEGRAM_PRODUCTION_KEY_FINGERPRINT);
        let test = telegram_test_key();
        assert_eq!(test.fingerprint(), TELEGRAM_TEST_KEY_FINGERPRINT);
        assert_eq!(prod.e_bytes(), [1, 0, 1]);
        let keys = [prod.clone(), test.clone()];
        assert_eq!(
            find_key(&keys, &[1, TELEGRAM_TEST_KEY_FINGERPRINT]),
            Some(&test)
        );
        assert_eq!(find_key(&keys, &[1, 2]), None);
        // PEM export parses back to the same key.
        assert_eq!(RsaPublicKey::from_pem(&prod.to_pkcs1_pem()).unwrap(), prod);
        assert!(format!("{prod:?}").contains("0xd09d1d85de64fd85"));
    }

    #[test]
    fn malformed_pem_is_an_error() {
        assert_eq!(RsaPublicKey::from_pem("hello"), Err(RsaError::InvalidPem));
        let truncated =
            TELEGRAM_TEST_KEY_PEM.replace("j4WcDuXc2CTHgH8gFTNhp/Y8/SpDOhvn9QIDAQAB\n", "");
        assert!(RsaPublicKey::from_pem(&truncated).is_err());
        let bad = "-----BEGIN RSA PUBLIC KEY-----\nMAA=\n-----END RSA PUBLIC KEY-----";
        assert!(RsaPublicKey::from_pem(bad).is_err());
    }

    #[test]
    fn pkcs1_pem_export_is_the_published_form() {
        // Same bytes as the PEM Telegram publishes: 64-character lines, `\n` endings.
        assert_eq!(
            telegram_production_key().to_pkcs1_pem(),
            TELEGRAM_PRODUCTION_KEY_PEM
        );
        assert_eq!(telegram_test_key().to_pkcs1_pem(), TELEGRAM_TEST_KEY_PEM);
    }

    #[test]
    fn pem_framing_and_labels() {
        let key = telegram_test_key();
        // Text before the block, whitespace around it and CRLF line endings are accepted.
        let framed = format!("Telegram test key:\n\n{TELEGRAM_TEST_KEY_PEM}\n\n");
        assert_eq!(RsaPublicKey::from_pem(&framed).unwrap(), key);
        let crlf = TELEGRAM_TEST_KEY_PEM.replace('\n', "\r\n");
        assert_eq!(RsaPublicKey::from_pem(&crlf).unwrap(), key);
        // Another label, or a private-key label for a public key, is not a supported PEM.
        let other = TELEGRAM_TEST_KEY_PEM.replace("RSA PUBLIC KEY", "CERTIFICATE");
        assert_eq!(RsaPublicKey::from_pem(&other), Err(RsaError::InvalidPem));
        let private = TELEGRAM_TEST_KEY_PEM.replace("PUBLIC", "PRIVATE");
        assert_eq!(
            RsaPrivateKey::from_pkcs1_pem(&private).unwrap_err(),
            RsaError::InvalidDer
        );
        assert_eq!(
            RsaPrivateKey::from_pkcs1_pem(TELEGRAM_TEST_KEY_PEM).unwrap_err(),
            RsaError::InvalidPem
        );
        // Invalid base64 inside a well-framed block.
        let bad_b64 = TELEGRAM_TEST_KEY_PEM.replace("MIIBCgKCAQEA", "MIIBCgKCAQE!");
        assert_eq!(RsaPublicKey::from_pem(&bad_b64), Err(RsaError::InvalidPem));
    }

    #[test]
    fn malformed_der_is_an_error() {
        let key = telegram_test_key();
        let n = key.n_bytes();
        // SEQUENCE { INTEGER n, INTEGER 65537 }, built by hand.
        let mut body = vec![0x02, 0x82, 0x01, 0x01, 0x00];
        body.extend_from_slice(&n);
        body.extend_from_slice(&[0x02, 0x03, 0x01, 0x00, 0x01]);
        let mut der = vec![0x30, 0x82, 0x01, 0x0a];
        der.extend_from_slice(&body);
        assert_eq!(RsaPublicKey::from_pkcs1_der(&der).unwrap(), key);
        // Every truncation, a trailing byte, a negative modulus and a non-minimal exponent
        // are refused.
        for cut in 0..der.len() {
            assert_eq!(
                RsaPublicKey::from_pkcs1_der(&der[..cut]),
                Err(RsaError::InvalidDer),
                "cut at {cut}"
            );
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(
            RsaPublicKey::from_pkcs1_der(&trailing),
            Err(RsaError::InvalidDer)
        );
        let mut negative = der.clone();
        negative[8] = 0x80;
        negative.remove(7);
        negative[3] -= 1;
        negative[6] -= 1;
        assert_eq!(
            RsaPublicKey::from_pkcs1_der(&negative),
            Err(RsaError::InvalidDer)
        );
        let mut padded_e = der[..der.len() - 5].to_vec();
        padded_e.extend_from_slice(&[0x02, 0x04, 0x00, 0x01, 0x00, 0x01]);
        padded_e[3] += 1;
        assert_eq!(
            RsaPublicKey::from_pkcs1_der(&padded_e),
            Err(RsaError::InvalidDer)
        );
        // An absurd length.
        assert_eq!(
            RsaPublicKey::from_pkcs1_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            Err(RsaError::InvalidDer)
        );
        // SPKI: the wrong algorithm, or parameters other than NULL, are refused.
        let spki = |oid_last: u8, params: &[u8]| {
            let mut alg = vec![0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
            alg.push(oid_last);
            alg.extend_from_slice(params);
            let mut inner = vec![0x30, alg.len() as u8];
            inner.extend_from_slice(&alg);
            inner.extend_from_slice(&[0x03, 0x82, 0x01, 0x0f, 0x00]);
            inner.extend_from_slice(&der);
            let mut out = vec![0x30, 0x82];
            out.extend_from_slice(&(inner.len() as u16).to_be_bytes());
            out.extend_from_slice(&inner);
            out
        };
        assert_eq!(
            RsaPublicKey::from_spki_der(&spki(1, &[0x05, 0x00])).unwrap(),
            key
        );
        assert_eq!(RsaPublicKey::from_spki_der(&spki(1, &[])).unwrap(), key);
        assert_eq!(
            RsaPublicKey::from_spki_der(&spki(10, &[0x05, 0x00])),
            Err(RsaError::InvalidDer)
        );
        assert_eq!(
            RsaPublicKey::from_spki_der(&spki(1, &[0x02, 0x01, 0x00])),
            Err(RsaError::InvalidDer)
        );
    }
}
