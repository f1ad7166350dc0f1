//! SRP for 2FA passwords (core.telegram.org/api/srp, algorithm
//! `passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow`).
//!
//! With H = SHA256 and SH(data, salt) = H(salt + data + salt):
//! PH1 = SH(SH(password, salt1), salt2); x = PH2 = SH(PBKDF2-HMAC-SHA512(PH1, salt1, 100000),
//! salt2); v = g^x; k = H(p + pad(g)); u = H(pad(g_a) + pad(g_b)); g_a = g^a;
//! t = (g_b - k*v) mod p; s_a = t^(a + u*x); k_a = H(pad(s_a));
//! M1 = H(H(p) xor H(pad(g)) + H(salt1) + H(salt2) + pad(g_a) + pad(g_b) + k_a).
//!
//! Client: [`compute_check`] (random `a`) or [`compute_check_with_secret`] (injected `a`).
//! Server (for a test DC): [`compute_verifier`] and [`SrpServer`].
//! Password-derived values live in zeroizing buffers; `Debug` output is redacted.

use std::fmt;

use num_bigint::BigUint;
use num_traits::Zero;
use rand_core::CryptoRngCore;
use sha2::Sha512;
use zeroize::Zeroizing;

use crate::dh::{pad256, DhError, DhParams, DhSecret, DhValue, PrimeCache, VALUE_LEN};
use crate::hash::{ct_eq, sha256};

/// PBKDF2 iterations of the algorithm.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

/// A failed SRP computation or check.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SrpError {
    /// A group check failed: `p`/`g` (prime, size, generator) or a value's range
    /// (`g_b` as [`DhValue::GB`], `g_a` as [`DhValue::GA`], `t` as [`DhValue::SrpT`]).
    #[error(transparent)]
    Dh(#[from] DhError),
    /// `u = H(g_a + g_b)` is zero for the injected `a`; draw another `a`.
    #[error("u is zero for this a; draw another a")]
    UIsZero,
    /// The verifier is not a 256-byte group element.
    #[error("password verifier of {len} bytes is not a group element")]
    BadVerifier {
        /// Its length.
        len: usize,
    },
    /// The client's proof M1 does not match (wrong password).
    #[error("M1 does not match: wrong password")]
    M1Mismatch,
    /// No suitable random value was drawn after many attempts (a broken RNG).
    #[error("could not draw a suitable SRP secret")]
    RandomnessExhausted,
}

/// Checked SRP parameters from `account.password.current_algo`.
#[derive(Clone)]
pub struct SrpParams {
    salt1: Vec<u8>,
    salt2: Vec<u8>,
    group: DhParams,
}

impl fmt::Debug for SrpParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpParams")
            .field("salt1_len", &self.salt1.len())
            .field("salt2_len", &self.salt2.len())
            .field("group", &self.group)
            .finish()
    }
}

impl SrpParams {
    /// Checks `p` (2048-bit safe prime) and `g` exactly as for the key exchange.
    pub fn new(
        salt1: &[u8],
        salt2: &[u8],
        g: i32,
        p: &[u8],
        cache: &mut PrimeCache,
    ) -> Result<Self, SrpError> {
        Ok(Self {
            salt1: salt1.to_vec(),
            salt2: salt2.to_vec(),
            group: DhParams::new(p, g, cache)?,
        })
    }

    /// `salt1`.
    pub fn salt1(&self) -> &[u8] {
        &self.salt1
    }

    /// `salt2`.
    pub fn salt2(&self) -> &[u8] {
        &self.salt2
    }

    /// The checked group.
    pub fn group(&self) -> &DhParams {
        &self.group
    }
}

/// What `inputCheckPasswordSRP` carries: `A` (the client's `g_a`, 256 bytes) and `M1`.
#[derive(Clone, PartialEq, Eq)]
pub struct SrpAnswer {
    /// `A = g^a mod p`, 256 big-endian bytes.
    pub a: [u8; VALUE_LEN],
    /// The proof `M1`.
    pub m1: [u8; 32],
}

impl fmt::Debug for SrpAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SrpAnswer(<redacted>)")
    }
}

fn sh(data: &[u8], salt: &[u8]) -> [u8; 32] {
    sha256(&[salt, data, salt])
}

/// `x = PH2(password, salt1, salt2)` as 32 big-endian bytes (100000 PBKDF2 iterations).
pub fn password_hash(password: &[u8], salt1: &[u8], salt2: &[u8]) -> Zeroizing<[u8; 32]> {
    let inner = Zeroizing::new(sh(password, salt1));
    let ph1 = Zeroizing::new(sh(&inner[..], salt2));
    let mut dk = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<Sha512>(&ph1[..], salt1, PBKDF2_ITERATIONS, &mut dk[..]);
    Zeroizing::new(sh(&dk[..], salt2))
}

/// `k = H(p + pad(g))`.
fn multiplier(p: &[u8; VALUE_LEN], g: u32) -> BigUint {
    BigUint::from_bytes_be(&sha256(&[p, &pad256(&BigUint::from(g))]))
}

/// `M1 = H(H(p) xor H(pad(g)) + H(salt1) + H(salt2) + pad(g_a) + pad(g_b) + k_a)`.
fn proof(
    p: &[u8; VALUE_LEN],
    g: u32,
    salt1: &[u8],
    salt2: &[u8],
    g_a: &[u8; VALUE_LEN],
    g_b: &[u8; VALUE_LEN],
    k_a: &[u8; 32],
) -> [u8; 32] {
    let hp = sha256(&[p]);
    let hg = sha256(&[&pad256(&BigUint::from(g))]);
    let mut xored = [0u8; 32];
    for i in 0..32 {
        xored[i] = hp[i] ^ hg[i];
    }
    sha256(&[&xored, &sha256(&[salt1]), &sha256(&[salt2]), g_a, g_b, k_a])
}

/// The client computation with no range checks (shared by the checked API and by the
/// published-vector tests, whose toy values would not pass the checks).
pub(crate) struct ClientValues {
    pub(crate) g_a: [u8; VALUE_LEN],
    pub(crate) m1: [u8; 32],
    pub(crate) u: BigUint,
    pub(crate) t: BigUint,
    pub(crate) g_a_int: BigUint,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn client_unchecked(
    p_bytes: &[u8; VALUE_LEN],
    g: u32,
    salt1: &[u8],
    salt2: &[u8],
    x: &[u8; 32],
    g_b: &[u8; VALUE_LEN],
    a: &[u8],
) -> ClientValues {
    let p = BigUint::from_bytes_be(p_bytes);
    let g_big = BigUint::from(g);
    let x = BigUint::from_bytes_be(x);
    let a = BigUint::from_bytes_be(a);
    let g_b_int = BigUint::from_bytes_be(g_b);
    let v = g_big.modpow(&x, &p);
    let kv = (multiplier(p_bytes, g) * v) % &p;
    let t = ((&g_b_int % &p) + &p - kv) % &p;
    let g_a_int = g_big.modpow(&a, &p);
    let g_a = pad256(&g_a_int);
    let u = BigUint::from_bytes_be(&sha256(&[&g_a, g_b]));
    let s_a = t.modpow(&(a + &u * x), &p);
    let k_a = Zeroizing::new(sha256(&[&pad256(&s_a)]));
    let m1 = proof(p_bytes, g, salt1, salt2, &g_a, g_b, &k_a);
    ClientValues {
        g_a,
        m1,
        u,
        t,
        g_a_int,
    }
}

/// Client side with an injected secret `a` (256 bytes): checks `1 < g_b < p-1`
/// ([`DhValue::GB`]), then `t` and `g_a` in the safe range ([`DhValue::SrpT`],
/// [`DhValue::GA`]), and `u != 0` ([`SrpError::UIsZero`]).
pub fn compute_check_with_secret(
    params: &SrpParams,
    password: &[u8],
    srp_b: &[u8],
    a: &DhSecret,
) -> Result<SrpAnswer, SrpError> {
    let g_b = checked_g_b(params, srp_b)?;
    let x = password_hash(password, &params.salt1, &params.salt2);
    answer_for(params, &x, &g_b, a)
}

fn checked_g_b(params: &SrpParams, srp_b: &[u8]) -> Result<[u8; VALUE_LEN], SrpError> {
    // Only the open range for g_b (as Telegram's clients do); t gets the safe-range check.
    let significant = srp_b.iter().skip_while(|&&b| b == 0).count();
    if significant > VALUE_LEN {
        return Err(DhError::ValueOutOfRange { which: DhValue::GB }.into());
    }
    let b = BigUint::from_bytes_be(srp_b);
    params.group.check_open_range(&b, DhValue::GB)?;
    Ok(pad256(&b))
}

fn answer_for(
    params: &SrpParams,
    x: &[u8; 32],
    g_b: &[u8; VALUE_LEN],
    a: &DhSecret,
) -> Result<SrpAnswer, SrpError> {
    let group = &params.group;
    let vals = client_unchecked(
        group.p_bytes(),
        group.g(),
        &params.salt1,
        &params.salt2,
        x,
        g_b,
        a.expose(),
    );
    group.check_int(&vals.t, DhValue::SrpT)?;
    group.check_int(&vals.g_a_int, DhValue::GA)?;
    if vals.u.is_zero() {
        return Err(SrpError::UIsZero);
    }
    Ok(SrpAnswer {
        a: vals.g_a,
        m1: vals.m1,
    })
}

/// Client side for `inputCheckPasswordSRP`: draws `a` from `rng`, re-drawing while `g_a` is
/// outside the safe range or `u = 0`. Returns `A` and `M1`.
pub fn compute_check(
    params: &SrpParams,
    password: &[u8],
    srp_b: &[u8],
    rng: &mut impl CryptoRngCore,
) -> Result<SrpAnswer, SrpError> {
    let g_b = checked_g_b(params, srp_b)?;
    let x = password_hash(password, &params.salt1, &params.salt2);
    for _ in 0..64 {
        let a = DhSecret::generate(rng);
        match answer_for(params, &x, &g_b, &a) {
            Err(SrpError::UIsZero)
            | Err(SrpError::Dh(DhError::ValueNotInSafeRange { which: DhValue::GA })) => continue,
            other => return other,
        }
    }
    Err(SrpError::RandomnessExhausted)
}

/// The server-side verifier `v = g^x mod p` for a password (256 bytes), what a server stores
/// instead of the password.
pub fn compute_verifier(params: &SrpParams, password: &[u8]) -> [u8; VALUE_LEN] {
    let x = password_hash(password, &params.salt1, &params.salt2);
    let group = &params.group;
    pad256(&BigUint::from(group.g()).modpow(&BigUint::from_bytes_be(&x[..]), group.p()))
}

/// The server side of one SRP check: holds the secret `b` and `B = (k*v + g^b) mod p`.
#[derive(Clone)]
pub struct SrpServer {
    params: SrpParams,
    v: BigUint,
    b: DhSecret,
    srp_b: [u8; VALUE_LEN],
}

impl fmt::Debug for SrpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SrpServer(<redacted>)")
    }
}

impl SrpServer {
    /// Starts a check with a random `b`, re-drawing until `g^b` and `B` are acceptable.
    pub fn new(
        params: SrpParams,
        verifier: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self, SrpError> {
        for _ in 0..64 {
            match Self::with_secret(params.clone(), verifier, DhSecret::generate(rng)) {
                Err(SrpError::Dh(_)) => continue,
                other => return other,
            }
        }
        Err(SrpError::RandomnessExhausted)
    }

    /// Starts a check with a given secret `b`.
    pub fn with_secret(params: SrpParams, verifier: &[u8], b: DhSecret) -> Result<Self, SrpError> {
        let group = &params.group;
        let v = BigUint::from_bytes_be(verifier);
        if verifier.len() != VALUE_LEN || v >= *group.p() || v.is_zero() {
            return Err(SrpError::BadVerifier {
                len: verifier.len(),
            });
        }
        let g_b = BigUint::from(group.g()).modpow(&BigUint::from_bytes_be(b.expose()), group.p());
        group.check_int(&g_b, DhValue::SrpT)?;
        let big_b = (multiplier(group.p_bytes(), group.g()) * &v + g_b) % group.p();
        group.check_open_range(&big_b, DhValue::GB)?;
        Ok(Self {
            srp_b: pad256(&big_b),
            params,
            v,
            b,
        })
    }

    /// `srp_B` to send in `account.password`.
    pub fn srp_b(&self) -> &[u8; VALUE_LEN] {
        &self.srp_b
    }

    /// Checks the client's `A` (safe range, [`DhValue::GA`]) and proof `M1` (constant-time;
    /// [`SrpError::M1Mismatch`] for a wrong password).
    pub fn verify(&self, a: &[u8], m1: &[u8]) -> Result<(), SrpError> {
        let group = &self.params.group;
        group.check_value(a, DhValue::GA)?;
        let a_int = BigUint::from_bytes_be(a);
        let g_a = pad256(&a_int);
        let u = BigUint::from_bytes_be(&sha256(&[&g_a, &self.srp_b]));
        if u.is_zero() {
            return Err(SrpError::M1Mismatch);
        }
        let p = group.p();
        let base = (a_int * self.v.modpow(&u, p)) % p;
        let s = base.modpow(&BigUint::from_bytes_be(self.b.expose()), p);
        let k = Zeroizing::new(sha256(&[&pad256(&s)]));
        let expected = proof(
            group.p_bytes(),
            group.g(),
            &self.params.salt1,
            &self.params.salt2,
            &g_a,
            &self.srp_b,
            &k,
        );
        if ct_eq(&expected, m1) {
            Ok(())
        } else {
            Err(SrpError::M1Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dh::TELEGRAM_DH_PRIME;

    fn h(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn padded(v: &[u8]) -> [u8; 256] {
        pad256(&BigUint::from_bytes_be(v))
    }

    /// gotd/td internal/crypto/srp/srp_test.go (TestSRP): password "123123", a = 1 (so
    /// A = g = 3, outside the safe range, hence the unchecked core).
    #[test]
    fn gotd_123123_vector() {
        let salt1 =
            h("4D11FB6BEC38F9D2546BB0F61E4F1C99A1BC0DB8F0D5F35B1291B37B213123D7ED48F3C6794D495B");
        let salt2 = h("A1B181AAFE88188680AE32860D60BB01");
        let srp_b = h(concat!(
            "9C52401A6A8084EC82F01C3725D3FB448BD2F0C909F9D97726EAC4B7A74172D9",
            "52F02466BE6734FA274D2B7429E27397F10372D66B400B80A5C5AE3F28B17BF3",
            "105D7A2D2A885998CDC2DEFC208AEC217AB58859A9ABC2374AD93DC285F4B3FB",
            "CAFF4143D7888F2425BD2FB711B25609CEB21757D935B1EF2F042173AD0CE2FE",
            "0E474DAC53914BD25A8A9AED4AEA8953D55CB88621DB37B871EA0D04393AC098",
            "7F68094CCC9DE8239251375D8FFFD263316CD528C097B7BC9FB919FBEDB76C52",
            "5DF3413C374EE076D97A1E6D352BB7CC80FD13651B04B32E2E48C5268150842C",
            "FD07CF855958B1B5EA9C36FDAD697FE3AEC8DCC6B1EFEC36874AF226204676CF",
        ));
        let x = password_hash(b"123123", &salt1, &salt2);
        let mut a = [0u8; 256];
        a[255] = 1;
        let vals = client_unchecked(
            &TELEGRAM_DH_PRIME,
            3,
            &salt1,
            &salt2,
            &x,
            &padded(&srp_b),
            &a,
        );
        let mut expected_a = [0u8; 256];
        expected_a[255] = 3;
        assert_eq!(vals.g_a, expected_a);
        assert_eq!(
            vals.m1.to_vec(),
            h("999DF906BDA2C6CBB52F503406EBA2D0D0503ACE0CC302C38F13EE5010AD4051")
        );
        // The checked API refuses this a (g_a = 3 is far below 2^1984).
        let params = SrpParams::new(
            &salt1,
            &salt2,
            3,
            &TELEGRAM_DH_PRIME,
            &mut PrimeCache::new(),
        )
        .unwrap();
        assert_eq!(
            compute_check_with_secret(&params, b"123123", &srp_b, &DhSecret::from_bytes(a)),
            Err(SrpError::Dh(DhError::ValueNotInSafeRange {
                which: DhValue::GA
            }))
        );
    }

    /// grammers-crypto src/two_factor_auth.rs (check_calculations_1): toy group p = 47, g = 3,
    /// salt1 = [1], salt2 = [2], g_b = [5], a = [6], password = [7].
    #[test]
    fn grammers_toy_vector() {
        let x = password_hash(&[7], &[1], &[2]);
        let vals = client_unchecked(&padded(&[47]), 3, &[1], &[2], &x, &padded(&[5]), &[6]);
        assert_eq!(vals.g_a, padded(&[24]));
        assert_eq!(
            vals.m1,
            [
                157, 131, 196, 103, 0, 184, 116, 232, 7, 196, 85, 231, 17, 36, 30, 222, 158, 234,
                98, 88, 59, 56, 71, 215, 183, 123, 122, 50, 19, 32, 54, 206,
            ]
        );
    }

    #[test]
    fn debug_output_is_redacted() {
        let answer = SrpAnswer {
            a: [0x42; 256],
            m1: [0x43; 32],
        };
        let text = format!("{answer:?}");
        assert!(
            !text.contains("42") && !text.contains("43") && !text.contains("66"),
            "{text}"
        );
        let params = SrpParams::new(
            &[0x44; 8],
            &[0x45; 8],
            3,
            &TELEGRAM_DH_PRIME,
            &mut PrimeCache::new(),
        )
        .unwrap();
        let text = format!("{params:?}");
        assert!(!text.contains("68") && !text.contains("44"), "{text}");
    }
}
