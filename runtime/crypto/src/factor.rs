//! Factorization of the key exchange's `pq` (a product of two primes below 2^32 in practice)
//! with Pollard's rho in Brent's variant over `u64`, using `u128` products.
//!
//! Every loop is bounded, so a hostile `pq` ends in an error, never in a hang or a panic.

use crate::prime::is_prime_u64;

/// Why `pq` could not be split into two primes.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FactorError {
    /// 0 and 1 have no prime factors.
    #[error("pq = {pq} has no prime factors")]
    TooSmall {
        /// The input.
        pq: u64,
    },
    /// A prime cannot be split into two factors.
    #[error("pq = {pq} is prime")]
    Prime {
        /// The input.
        pq: u64,
    },
    /// The number has more than two prime factors.
    #[error("pq = {pq} is not a product of exactly two primes")]
    NotTwoPrimes {
        /// The input.
        pq: u64,
    },
    /// No factor was found within the iteration budget.
    #[error("no factor of pq = {pq} found within the iteration budget")]
    NotFound {
        /// The input.
        pq: u64,
    },
}

/// Largest number of polynomial constants tried before giving up.
const MAX_ATTEMPTS: u64 = 64;
/// Iteration budget per attempt (the expected need is about 2^16 for a 64-bit `pq`).
const MAX_STEPS: u64 = 1 << 24;
/// Batch size for the accumulated gcd.
const BATCH: u64 = 128;

/// Splits `pq` into primes `(p, q)` with `p <= q` (equal only for the square of a prime;
/// the key exchange's `pq` always has `p < q`).
pub fn factorize(pq: u64) -> Result<(u64, u64), FactorError> {
    if pq < 2 {
        return Err(FactorError::TooSmall { pq });
    }
    if is_prime_u64(pq) {
        return Err(FactorError::Prime { pq });
    }
    let d = if pq % 2 == 0 {
        2
    } else {
        (1..=MAX_ATTEMPTS)
            .find_map(|c| brent(pq, c))
            .ok_or(FactorError::NotFound { pq })?
    };
    let (p, q) = (d.min(pq / d), d.max(pq / d));
    if is_prime_u64(p) && is_prime_u64(q) {
        Ok((p, q))
    } else {
        Err(FactorError::NotTwoPrimes { pq })
    }
}

/// `a * b mod m` without overflow.
fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    ((a as u128 * b as u128) % m as u128) as u64
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// One Brent attempt with f(x) = x^2 + c mod n; returns a nontrivial divisor or `None`.
fn brent(n: u64, c: u64) -> Option<u64> {
    let f = |x: u64| (mul_mod(x, x, n) + c) % n;
    let (mut y, mut x, mut ys) = (2 % n, 2 % n, 2 % n);
    let mut q = 1u64;
    let mut g = 1u64;
    let mut r = 1u64;
    let mut steps = 0u64;
    while g == 1 {
        x = y;
        for _ in 0..r {
            y = f(y);
        }
        let mut k = 0;
        while k < r && g == 1 {
            ys = y;
            for _ in 0..BATCH.min(r - k) {
                y = f(y);
                q = mul_mod(q, x.abs_diff(y), n);
            }
            g = gcd(q, n);
            k += BATCH;
        }
        steps += r;
        r *= 2;
        if steps > MAX_STEPS {
            return None;
        }
    }
    if g == n {
        // The batch overshot: redo it one step at a time.
        for _ in 0..=BATCH {
            ys = f(ys);
            g = gcd(x.abs_diff(ys), n);
            if g > 1 {
                break;
            }
        }
    }
    (g > 1 && g != n).then_some(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        assert_eq!(factorize(0), Err(FactorError::TooSmall { pq: 0 }));
        assert_eq!(factorize(1), Err(FactorError::TooSmall { pq: 1 }));
        assert_eq!(factorize(2), Err(FactorError::Prime { pq: 2 }));
        assert_eq!(factorize(4), Ok((2, 2)));
        assert_eq!(factorize(6), Ok((2, 3)));
        assert_eq!(factorize(15), Ok((3, 5)));
        assert_eq!(factorize(8), Err(FactorError::NotTwoPrimes { pq: 8 }));
        assert_eq!(factorize(30), Err(FactorError::NotTwoPrimes { pq: 30 }));
        assert_eq!(
            factorize(1_000_000_007),
            Err(FactorError::Prime { pq: 1_000_000_007 })
        );
    }

    #[test]
    fn three_factors_and_squares() {
        // 65537 * 65539 * 3: three primes.
        let n = 65_537u64 * 65_539 * 3;
        assert_eq!(factorize(n), Err(FactorError::NotTwoPrimes { pq: n }));
        // Square of a prime near 2^32.
        let p = 4_294_967_291u64;
        assert_eq!(factorize(p * p), Ok((p, p)));
    }
}
