//! Glue to `crypto-primes` (not public API): byte strings to `crypto-bigint` integers, and a
//! deterministic source for the random Miller-Rabin base.
//!
//! `crypto-primes` runs the Baillie-PSW test (Miller-Rabin base 2 and a strong Lucas test)
//! and then Miller-Rabin with one random base. This crate is sans-IO, so that base comes from
//! ChaCha20 keyed with SHA-256 of the candidate: the verdict is reproducible, and a peer who
//! builds a composite still cannot choose the base.

use crypto_bigint::{U2048, U64};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use crate::dh::VALUE_LEN;
use crate::hash::sha256;

/// The random-base source for one candidate (given big-endian).
fn base_source(candidate: &[u8]) -> ChaCha20Rng {
    ChaCha20Rng::from_seed(sha256(&[b"mtproto-crypto primality base", candidate]))
}

/// Primality of a `u64` (Baillie-PSW has no counterexample below 2^64, so this is exact).
pub(crate) fn is_prime_u64(n: u64) -> bool {
    n >= 2
        && crypto_primes::is_prime_with_rng(&mut base_source(&n.to_be_bytes()), &U64::from_u64(n))
}

/// Is the 2048-bit big-endian `p` a safe prime (`p` and `(p-1)/2` both prime)?
pub(crate) fn is_safe_prime_2048(p: &[u8; VALUE_LEN]) -> bool {
    crypto_primes::is_safe_prime_with_rng(&mut base_source(p), &U2048::from_be_slice(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers() {
        let primes: Vec<u64> = (0..60).filter(|&n| is_prime_u64(n)).collect();
        assert_eq!(
            primes,
            [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59]
        );
        // 3215031751 is a strong pseudoprime to bases 2, 3, 5 and 7; 561 is a Carmichael number.
        assert!(!is_prime_u64(3_215_031_751));
        assert!(!is_prime_u64(561));
        assert!(is_prime_u64(1_000_000_000_000_000_003));
        assert!(is_prime_u64(u64::MAX - 58)); // 2^64 - 59, the largest u64 prime
        assert!(!is_prime_u64(u64::MAX));
    }

    #[test]
    fn safe_primes_2048() {
        // 2^2048 - 1 is divisible by 3; Telegram's prime is a safe prime.
        assert!(!is_safe_prime_2048(&[0xFF; VALUE_LEN]));
        assert!(is_safe_prime_2048(&crate::dh::TELEGRAM_DH_PRIME));
    }
}
