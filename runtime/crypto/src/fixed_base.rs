//! `g^e mod p` for a fixed `g` and `p` (the Diffie-Hellman public values `g_a`, `g_b`) with
//! a precomputed comb (Lim and Lee, 1994): the 2048 exponent bits are read as [`TEETH`] rows of
//! [`SPACING`] bits, and the table holds every product of `g^(2^(SPACING·j))` over the rows.
//! One exponentiation is then [`SPACING`] squarings and at most [`SPACING`] multiplications,
//! about a fifth of the work of a sliding-window `modpow` over 2048 bits.
//!
//! The table (256 numbers of 2048 bits, 64 KiB) is built once per generator of Telegram's
//! group, on first use; other groups fall back to `modpow`. Like `modpow`, the table index
//! depends on secret exponent bits (not constant time), as for every other modular
//! exponentiation here.

use std::sync::OnceLock;

use num_bigint::BigUint;
use num_traits::One;

use crate::dh::TELEGRAM_DH_PRIME;

/// Rows of the comb (bits of a table index).
const TEETH: usize = 8;
/// Exponent bits per row: 8 rows of 256 bits cover a 2048-bit exponent.
const SPACING: usize = 256;
/// Exponent bytes covered.
const EXPONENT_BYTES: usize = TEETH * SPACING / 8;

/// A comb for one `(g, p)`.
pub(crate) struct Comb {
    p: BigUint,
    /// `table[mask]` = product of `g^(2^(SPACING·j))` over the bits `j` set in `mask`.
    table: Vec<BigUint>,
}

impl Comb {
    /// Builds the table (about one plain exponentiation's work).
    pub(crate) fn new(g: &BigUint, p: &BigUint) -> Self {
        let mut rows = Vec::with_capacity(TEETH);
        let mut base = g % p;
        for j in 0..TEETH {
            rows.push(base.clone());
            if j + 1 < TEETH {
                for _ in 0..SPACING {
                    base = &base * &base % p;
                }
            }
        }
        let mut table = vec![BigUint::one(); 1 << TEETH];
        for mask in 1usize..(1 << TEETH) {
            let low = mask.trailing_zeros() as usize;
            table[mask] = &table[mask & (mask - 1)] * &rows[low] % p;
        }
        Self {
            p: p.clone(),
            table,
        }
    }

    /// `g^e mod p` for `e` of at most 2048 bits (big-endian); `None` for a longer `e`.
    pub(crate) fn pow(&self, e_be: &[u8]) -> Option<BigUint> {
        let significant = e_be.iter().skip_while(|&&b| b == 0).count();
        if significant > EXPONENT_BYTES {
            return None;
        }
        // Little-endian and zero-extended: bit i of e is bit (i % 8) of le[i / 8].
        let mut le = [0u8; EXPONENT_BYTES];
        for (dst, src) in le.iter_mut().zip(e_be.iter().rev()) {
            *dst = *src;
        }
        let bit = |i: usize| usize::from((le[i / 8] >> (i % 8)) & 1);
        let mut acc = BigUint::one();
        for column in (0..SPACING).rev() {
            acc = &acc * &acc % &self.p;
            let mask = (0..TEETH).fold(0, |m, j| m | bit(column + SPACING * j) << j);
            if mask != 0 {
                acc = &acc * &self.table[mask] % &self.p;
            }
        }
        le.fill(0);
        Some(acc)
    }
}

/// The comb for generator `g` of Telegram's prime, built on first use; `None` for another
/// group or a generator outside 2..=7.
pub(crate) fn telegram_comb(p_bytes: &[u8], g: u32) -> Option<&'static Comb> {
    static COMBS: [OnceLock<Comb>; 8] = [const { OnceLock::new() }; 8];
    if p_bytes != TELEGRAM_DH_PRIME || !(2..=7).contains(&g) {
        return None;
    }
    Some(COMBS[g as usize].get_or_init(|| {
        Comb::new(
            &BigUint::from(g),
            &BigUint::from_bytes_be(&TELEGRAM_DH_PRIME),
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    #[test]
    fn the_comb_agrees_with_modpow() {
        let p = BigUint::from_bytes_be(&TELEGRAM_DH_PRIME);
        let comb = telegram_comb(&TELEGRAM_DH_PRIME, 3).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let mut exps: Vec<Vec<u8>> = vec![vec![], vec![0], vec![1], vec![0xff; 256], vec![0, 0, 5]];
        for len in [1usize, 31, 32, 255, 256] {
            let mut e = vec![0u8; len];
            rng.fill_bytes(&mut e);
            exps.push(e);
        }
        for e in exps {
            let want = BigUint::from(3u32).modpow(&BigUint::from_bytes_be(&e), &p);
            assert_eq!(comb.pow(&e), Some(want), "e = {e:02x?}");
        }
        // A longer exponent is refused (the caller falls back to modpow); leading zeros are not.
        assert_eq!(comb.pow(&[1; 257]), None);
        let mut padded = vec![0u8; 300];
        padded[299] = 2;
        assert_eq!(comb.pow(&padded), Some(BigUint::from(9u32)));
    }

    #[test]
    fn other_groups_have_no_comb() {
        assert!(telegram_comb(&[0xff; 256], 3).is_none());
        assert!(telegram_comb(&TELEGRAM_DH_PRIME, 9).is_none());
        assert!(telegram_comb(&TELEGRAM_DH_PRIME, 2).is_some());
    }
}
