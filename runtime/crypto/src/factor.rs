//! Factorization of the key exchange's `pq` (a product of two primes below 2^32 in practice)
//! with Pollard's rho in Brent's variant over `u64`, the gcds batched, the products in
//! Montgomery form (no `u128` division in the loop).
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

/// Arithmetic modulo an odd `n` in Montgomery form (R = 2^64): `x` stands for `x·R mod n`.
/// The rho walk never leaves this form: `gcd(x·R mod n, n) = gcd(x, n)` since R is coprime
/// with an odd `n`, so differences and products can be checked as they are.
#[derive(Clone, Copy)]
struct Montgomery {
    n: u64,
    /// -n^-1 mod 2^64.
    neg_inv: u64,
}

impl Montgomery {
    fn new(n: u64) -> Self {
        debug_assert!(n % 2 == 1);
        // Newton's iteration doubles the correct low bits of n^-1 mod 2^64 each time
        // (n·n ≡ 1 mod 8 gives 3 bits to start).
        let mut inv = n;
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n.wrapping_mul(inv)));
        }
        Self {
            n,
            neg_inv: inv.wrapping_neg(),
        }
    }

    /// `x·R mod n`.
    fn to_form(self, x: u64) -> u64 {
        (((x as u128) << 64) % self.n as u128) as u64
    }

    /// `t·R^-1 mod n` for `t < n·2^64`.
    fn reduce(self, t: u128) -> u64 {
        let m = (t as u64).wrapping_mul(self.neg_inv);
        let (sum, carry) = t.overflowing_add(m as u128 * self.n as u128);
        // The low half of `sum` is zero; the high half plus the carry is below 2n.
        let high = (sum >> 64) | ((carry as u128) << 64);
        let n = self.n as u128;
        (if high >= n { high - n } else { high }) as u64
    }

    /// `a·b·R^-1 mod n` (Montgomery product of two numbers in form).
    fn mul(self, a: u64, b: u64) -> u64 {
        self.reduce(a as u128 * b as u128)
    }

    /// `a + b mod n` for `a, b < n`.
    fn add(self, a: u64, b: u64) -> u64 {
        let (s, carry) = a.overflowing_add(b);
        if carry || s >= self.n {
            s.wrapping_sub(self.n)
        } else {
            s
        }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// One Brent attempt with f(x) = x^2 + c mod n (odd `n`); returns a nontrivial divisor or
/// `None`.
fn brent(n: u64, c: u64) -> Option<u64> {
    let m = Montgomery::new(n);
    let c = m.to_form(c % n);
    let f = |x: u64| m.add(m.mul(x, x), c);
    let start = m.to_form(2 % n);
    let (mut y, mut x, mut ys) = (start, start, start);
    let mut q = m.to_form(1);
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
                q = m.mul(q, x.abs_diff(y));
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

    #[test]
    fn montgomery_products_match_u128_arithmetic() {
        for n in [
            3u64,
            0xffff_ffff_ffff_ffc5,
            4_294_967_291 * 4_294_967_279,
            1_000_003,
        ] {
            let m = Montgomery::new(n);
            let back = |x: u64| m.reduce(x as u128); // out of the form
            for (a, b) in [
                (0u64, 5u64),
                (1, 1),
                (n - 1, n - 1),
                (n / 2, n / 3 + 1),
                (12345, n - 2),
            ] {
                let (a, b) = (a % n, b % n);
                let want = ((a as u128 * b as u128) % n as u128) as u64;
                assert_eq!(
                    back(m.mul(m.to_form(a), m.to_form(b))),
                    want,
                    "{a}*{b} mod {n}"
                );
                let sum = ((a as u128 + b as u128) % n as u128) as u64;
                assert_eq!(
                    back(m.add(m.to_form(a), m.to_form(b))),
                    sum,
                    "{a}+{b} mod {n}"
                );
            }
        }
    }

    #[test]
    fn products_of_two_large_primes_split() {
        // Primes just below 2^32 (the largest pq a server can send) and random-looking ones.
        for (p, q) in [
            (4_294_967_279u64, 4_294_967_291u64),
            (2_147_483_647, 4_294_967_291),
            (998_244_353, 1_000_000_007),
            (65_537, 4_294_967_291),
        ] {
            assert_eq!(factorize(p * q), Ok((p, q)), "{p} * {q}");
        }
    }
}
