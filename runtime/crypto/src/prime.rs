//! Primality testing (not public API): deterministic Miller-Rabin for `u64`, and Miller-Rabin
//! for big numbers with witnesses derived from SHA-256 of the candidate.
//!
//! Deriving the witnesses from a hash of the number keeps the crate free of OS randomness and
//! still denies an adversary the choice of witnesses: a composite chosen by a peer passes each
//! round with probability at most 1/4, independently of how it was built.

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, Zero};

use crate::hash::sha256;

/// Odd primes below 1000, for trial division before Miller-Rabin.
fn small_primes() -> impl Iterator<Item = u32> {
    (3u32..1000).step_by(2).filter(|&n| {
        let mut d = 3;
        while d * d <= n {
            if n % d == 0 {
                return false;
            }
            d += 2;
        }
        true
    })
}

/// `a * b mod m` without overflow.
pub(crate) fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

fn pow_mod(mut base: u64, mut exp: u64, m: u64) -> u64 {
    let mut acc = 1 % m;
    base %= m;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul_mod(acc, base, m);
        }
        base = mul_mod(base, base, m);
        exp >>= 1;
    }
    acc
}

/// Deterministic primality for every `u64` (Miller-Rabin with the first 12 prime bases,
/// which is exact below 3.3 * 10^24).
pub(crate) fn is_prime_u64(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'witness: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// True if `n` has a prime factor below 1000 (and is not that prime itself).
pub(crate) fn has_small_factor(n: &BigUint) -> bool {
    if n.is_even() {
        return *n != BigUint::from(2u32);
    }
    small_primes().any(|p| (n % p).is_zero() && *n != BigUint::from(p))
}

/// Witness number `round` for `n` (> 4): a value in `[2, n-2]` derived from SHA-256.
fn witness(n: &BigUint, round: u32) -> BigUint {
    let n_bytes = n.to_bytes_be();
    let mut stream = Vec::with_capacity(n_bytes.len() + 32);
    let mut counter = 0u32;
    while stream.len() < n_bytes.len() + 16 {
        stream.extend_from_slice(&sha256(&[
            b"mtproto-crypto miller-rabin",
            &n_bytes,
            &round.to_be_bytes(),
            &counter.to_be_bytes(),
        ]));
        counter += 1;
    }
    let span = n - 3u32; // witnesses 2..=n-2
    BigUint::from_bytes_be(&stream) % span + 2u32
}

/// One Miller-Rabin round for odd `n` > 4 with `n - 1 = d * 2^s`.
fn mr_round(n: &BigUint, n_minus_1: &BigUint, d: &BigUint, s: u64, a: &BigUint) -> bool {
    let mut x = a.modpow(d, n);
    if x.is_one() || x == *n_minus_1 {
        return true;
    }
    for _ in 1..s {
        x = (&x * &x) % n;
        if x == *n_minus_1 {
            return true;
        }
        if x.is_one() {
            return false;
        }
    }
    false
}

/// Miller-Rabin with base 2 (if `base_two`) and then `rounds` hash-derived witnesses, after
/// trial division. Exact for `n < 2^64`.
pub(crate) fn is_probable_prime(n: &BigUint, rounds: u32, base_two: bool) -> bool {
    if let Ok(small) = u64::try_from(n) {
        return is_prime_u64(small);
    }
    if has_small_factor(n) {
        return false;
    }
    let n_minus_1 = n - 1u32;
    let s = n_minus_1.trailing_zeros().unwrap_or(0);
    let d = &n_minus_1 >> s;
    if base_two && !mr_round(n, &n_minus_1, &d, s, &BigUint::from(2u32)) {
        return false;
    }
    (0..rounds).all(|r| mr_round(n, &n_minus_1, &d, s, &witness(n, r)))
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
        // Strong pseudoprime to bases 2..=37 is above u64; 3215031751 fools 2,3,5,7.
        assert!(!is_prime_u64(3_215_031_751));
        assert!(is_prime_u64(1_000_000_000_000_000_003));
        assert!(is_prime_u64(u64::MAX - 58)); // 2^64 - 59, the largest u64 prime
        assert!(!is_prime_u64(u64::MAX));
    }

    #[test]
    fn big_numbers() {
        // 2^127 - 1 is a Mersenne prime; 2^128 + 1 is not prime (Fermat F7).
        let m127 = (BigUint::one() << 127u32) - 1u32;
        assert!(is_probable_prime(&m127, 8, true));
        let f7 = (BigUint::one() << 128u32) + 1u32;
        assert!(!is_probable_prime(&f7, 8, true));
        // Carmichael number 561 = 3 * 11 * 17 (goes through the u64 path).
        assert!(!is_probable_prime(&BigUint::from(561u32), 8, true));
        let w = witness(&m127, 0);
        assert!(w >= BigUint::from(2u32) && w <= &m127 - 2u32);
    }
}
