//! Negative (and boundary) tests for every Diffie-Hellman check of
//! core.telegram.org/mtproto/security_guidelines: each crafted bad value must be refused with
//! its own error variant.

use mtproto_crypto::dh::{self, DhError, DhParams, DhValue, PrimeCache, TELEGRAM_DH_PRIME};
use mtproto_crypto::keys::{self};
use num_bigint::BigUint;

fn telegram_p() -> BigUint {
    BigUint::from_bytes_be(&TELEGRAM_DH_PRIME)
}

fn be256(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    let mut out = vec![0u8; 256 - bytes.len()];
    out.extend_from_slice(&bytes);
    out
}

/// RFC 7919 appendix A.1, ffdhe2048: a 2048-bit safe prime that is not Telegram's, so it
/// exercises the Miller-Rabin path. (Re-derived from its defining formula
/// 2^2048 - 2^1984 + (floor(2^1918 * e) + 560316) * 2^64 - 1 before use.)
const FFDHE2048: &str = concat!(
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE",
    "249B3EF97D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3",
    "B557135E7F57C935984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182",
    "B324FB61D108A94BB2C8E3FBB96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D70",
    "9E02FCE1CDF7E2ECC03404CD28342F619172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC",
    "2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA886B423861285C97FFFFFFFFFFFFFFFF",
);

#[test]
fn miller_rabin_path_accepts_a_safe_prime_and_caches_it() {
    let p = hex::decode(FFDHE2048).unwrap();
    let mut cache = PrimeCache::new();
    let params = DhParams::new(&p, 2, &mut cache).unwrap();
    assert_eq!(params.g(), 2);
    assert_eq!(cache.len(), 1);
    // Second time the verdict comes from the caller-owned cache.
    DhParams::new(&p, 5, &mut cache).unwrap();
    assert_eq!(cache.len(), 1);
    // g = 7 needs p mod 7 in {3, 5, 6}; here p mod 7 = 4.
    assert_eq!(
        DhParams::new(&p, 7, &mut cache).unwrap_err(),
        DhError::GeneratorResidue { g: 7 }
    );
}

#[test]
fn non_prime_p_is_rejected() {
    // Telegram's prime plus a multiple of 6 that makes it divisible by 5: composite, same
    // size, same residue mod 3 (so g = 3 passes its own check).
    let base = telegram_p();
    let k = (0u32..5)
        .find(|k| ((&base + 6u32 * k) % 5u32) == BigUint::from(0u32))
        .unwrap();
    let composite = &base + 6u32 * k;
    let mut cache = PrimeCache::new();
    assert_eq!(
        DhParams::new(&be256(&composite), 3, &mut cache).unwrap_err(),
        DhError::PrimeNotSafe
    );
    // A composite with no small factor: the Miller-Rabin rounds must catch it.
    let n = (0u32..)
        .map(|k| &base + 6u32 * k)
        .find(|n| {
            [5u32, 7, 11, 13, 17, 19, 23, 29, 31, 37]
                .iter()
                .all(|p| n % p != BigUint::from(0u32))
                && BigUint::from(2u32).modpow(&(n - 1u32), n) != BigUint::from(1u32)
        })
        .unwrap();
    assert_eq!(
        DhParams::new(&be256(&n), 3, &mut cache).unwrap_err(),
        DhError::PrimeNotSafe
    );
}

/// A 2048-bit prime p with p = 3 mod 4 (so (p-1)/2 is odd and no parity filter refuses it) and
/// p = 2 mod 3 (so g = 3 passes its residue check), whose (p-1)/2 is composite with no prime
/// factor below 1000: only a primality test of (p-1)/2 can refuse it.
///
/// Found by a deterministic search: draw primes with crypto-primes 0.5.0
/// `generate_prime_with_rng::<U2048>(&mut ChaCha20Rng::seed_from_u64(0x6d7470726f746f),
/// Some(2048))` (rand_chacha 0.3) and keep the first with those properties (the fifth drawn);
/// Python's `pow`-based Miller-Rabin (64 random bases) agrees that p is prime and (p-1)/2 is not.
const PRIME_NOT_SAFE: &str = concat!(
    "9B58A66C87850097D337FB5B6C4C6982FAFF6771461B703DA849E124A81F92A4",
    "8FDDFD5DB1E9036FD65D82035960DECF3D00DCC89CD57D9B44BA7C33BF14800A",
    "78C3807DBB70374FE42E5F5FF30F8768BC72ACC79E74A18A05D40F8771AE61C6",
    "3F529E0851DCDD9922F4E7F4A9A1915B8276FD742896C83114EB8C12A219055A",
    "6792066F34FE1BC6C7B60FC8E21E84B6970B5A3D622CDD39EE02C4D9128F436A",
    "24A2C615103F221CBAA21C467E8B783B93D33E2111CF1E40861F68D3D02405A4",
    "7C3E538A57F7CE4873435B0B99A46E633DE49C80397B276A79BFFC60672F5F84",
    "6767D14AC515C3C37CDA93513F7AFA0D0F88507B62B9916F7D1349D8313782FB",
);

#[test]
fn prime_that_is_not_safe_is_rejected() {
    use rand::SeedableRng;
    let p_bytes = hex::decode(PRIME_NOT_SAFE).unwrap();
    let p = BigUint::from_bytes_be(&p_bytes);
    let q = &p >> 1u32;
    let zero = BigUint::from(0u32);
    let one = BigUint::from(1u32);
    // p itself is prime and 2048 bits long, so the verdict below is about (p-1)/2 alone.
    assert_eq!(p.bits(), 2048);
    assert!(crypto_primes::is_prime_with_rng(
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(1),
        &crypto_bigint::U2048::from_be_slice(&p_bytes),
    ));
    assert_eq!(BigUint::from(3u32).modpow(&(&p - 1u32), &p), one);
    // It gets past the cheap filters: p = 3 mod 4 (q odd), p = 2 mod 3 (g = 3 is fine) and q
    // has no factor below 1000.
    assert_eq!(&p % 4u32, BigUint::from(3u32));
    assert_eq!(&p % 3u32, BigUint::from(2u32));
    assert!((2u32..1000).all(|d| &q % d != zero));
    // (p-1)/2 is composite: 2 is a Fermat witness.
    assert_ne!(BigUint::from(2u32).modpow(&(&q - 1u32), &q), one);
    assert_eq!(
        DhParams::new(&p_bytes, 3, &mut PrimeCache::new()).unwrap_err(),
        DhError::PrimeNotSafe
    );
}

#[test]
fn p_of_2047_bits_is_rejected() {
    let short = telegram_p() >> 1u32;
    assert_eq!(short.bits(), 2047);
    assert_eq!(
        DhParams::new(&be256(&short), 3, &mut PrimeCache::new()).unwrap_err(),
        DhError::PrimeWrongSize { bits: 2047 }
    );
    let long = telegram_p() << 1u32;
    assert_eq!(
        DhParams::new(&long.to_bytes_be(), 3, &mut PrimeCache::new()).unwrap_err(),
        DhError::PrimeWrongSize { bits: 2049 }
    );
    assert_eq!(
        DhParams::new(&[], 3, &mut PrimeCache::new()).unwrap_err(),
        DhError::PrimeWrongSize { bits: 0 }
    );
}

#[test]
fn generator_out_of_range_is_rejected() {
    for g in [8, 1, 0, -3, i32::MAX, i32::MIN] {
        assert_eq!(
            DhParams::new(&TELEGRAM_DH_PRIME, g, &mut PrimeCache::new()).unwrap_err(),
            DhError::GeneratorOutOfRange { g }
        );
    }
}

#[test]
fn generator_failing_its_residue_condition_is_rejected() {
    // Telegram's prime is 3 mod 8, 3 mod 5 and 11 mod 24: g = 2, 5, 6 do not generate the
    // order-(p-1)/2 subgroup.
    for g in [2, 5, 6] {
        assert_eq!(
            DhParams::new(&TELEGRAM_DH_PRIME, g, &mut PrimeCache::new()).unwrap_err(),
            DhError::GeneratorResidue { g }
        );
    }
}

#[test]
fn g_a_range_checks() {
    let params = DhParams::telegram();
    let p = telegram_p();
    let bound = BigUint::from(1u32) << 1984u32;
    let out = |which| DhError::ValueOutOfRange { which };
    let unsafe_ = |which| DhError::ValueNotInSafeRange { which };

    // g_a = 1, g_a = p - 1 (and 0, p, p + 1, huge): outside (1, p-1).
    for v in [
        BigUint::from(0u32),
        BigUint::from(1u32),
        &p - 1u32,
        p.clone(),
        &p + 1u32,
    ] {
        assert_eq!(
            params.check_value(&v.to_bytes_be(), DhValue::GA),
            Err(out(DhValue::GA)),
            "{v:x}"
        );
    }
    assert_eq!(
        params.check_value(&[0xFF; 300], DhValue::GB),
        Err(out(DhValue::GB))
    );
    // Inside (1, p-1) but outside [2^1984, p - 2^1984].
    for v in [
        BigUint::from(2u32),
        &bound - 1u32,
        &p - &bound + 1u32,
        &p - 2u32,
    ] {
        assert_eq!(
            params.check_value(&be256(&v), DhValue::GA),
            Err(unsafe_(DhValue::GA)),
            "{v:x}"
        );
    }
    // The bounds themselves are allowed; leading zero bytes are fine.
    params.check_value(&be256(&bound), DhValue::GA).unwrap();
    params
        .check_value(&be256(&(&p - &bound)), DhValue::GB)
        .unwrap();
    let mut padded = vec![0u8; 10];
    padded.extend_from_slice(&be256(&bound));
    params.check_value(&padded, DhValue::GA).unwrap();

    // auth_key() checks the peer value first.
    let secret = mtproto_crypto::DhSecret::from_bytes([7; 256]);
    assert_eq!(
        params.auth_key(&secret, &[1], DhValue::GA).unwrap_err(),
        out(DhValue::GA)
    );
    assert_eq!(
        params
            .auth_key(&secret, &be256(&(&bound - 1u32)), DhValue::GA)
            .unwrap_err(),
        unsafe_(DhValue::GA)
    );
}

#[test]
fn bad_answer_hash_is_rejected() {
    let kv = keys::tmp_aes_key_iv(&[1; 32], &[2; 16]);
    let answer = vec![0x42u8; 100];
    let enc = dh::wrap_with_hash(&answer, &kv, &[0; 8]).unwrap();
    assert_eq!(dh::unwrap_with_hash(&enc, &kv).unwrap(), answer);
    // Flip one bit anywhere: the SHA1 no longer matches.
    for i in [0, 19, 20, 60, enc.len() - 1] {
        let mut bad = enc.clone();
        bad[i] ^= 0x10;
        assert_eq!(
            dh::unwrap_with_hash(&bad, &kv),
            Err(DhError::AnswerHashMismatch),
            "byte {i}"
        );
    }
    // Wrong key: mismatch as well.
    let other = keys::tmp_aes_key_iv(&[1; 32], &[3; 16]);
    assert_eq!(
        dh::unwrap_with_hash(&enc, &other),
        Err(DhError::AnswerHashMismatch)
    );
}

#[test]
fn generated_secrets_give_checked_public_values() {
    use rand::SeedableRng;
    let params = DhParams::telegram();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let (a, g_a) = params.generate_secret(&mut rng, DhValue::GA).unwrap();
    let (b, g_b) = params.generate_secret(&mut rng, DhValue::GB).unwrap();
    let k1 = params.auth_key(&a, &g_b, DhValue::GB).unwrap();
    let k2 = params.auth_key(&b, &g_a, DhValue::GA).unwrap();
    assert_eq!(k1, k2);
}

/// A broken random source: every byte it gives is zero.
struct ZeroRng;

impl rand::RngCore for ZeroRng {
    fn next_u32(&mut self) -> u32 {
        0
    }
    fn next_u64(&mut self) -> u64 {
        0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        dest.fill(0);
        Ok(())
    }
}

impl rand::CryptoRng for ZeroRng {}

#[test]
fn a_broken_random_source_never_yields_a_public_value() {
    // Check 7 (secure randomness) and our own values' checks 3 and 4: a secret of zero gives
    // g^0 = 1, which the client refuses to send; after its bounded re-draws it reports the
    // broken source instead of sending a value an eavesdropper could guess.
    let mut cache = PrimeCache::default();
    let params = DhParams::new(&TELEGRAM_DH_PRIME, 3, &mut cache).unwrap();
    for own in [DhValue::GB, DhValue::GA] {
        assert_eq!(
            params.generate_secret(&mut ZeroRng, own).map(|_| ()),
            Err(DhError::RandomnessExhausted),
            "{own:?}"
        );
    }
    // A working source gives a value that passes the checks.
    let mut rng = rand::thread_rng();
    let (_, public) = params.generate_secret(&mut rng, DhValue::GB).unwrap();
    assert!(params.check_value(&public, DhValue::GB).is_ok());
}
