//! The authorization key exchange (core.telegram.org `mtproto/auth_key`), sans-IO, in both roles.
//!
//! Each step is a struct named for the message it expects; its `handle` consumes the step and
//! returns the next one with the packet to send (an unencrypted message, see [`crate::plain`]),
//! so a step cannot be handled twice and a finished exchange cannot be resumed. Time (`now`,
//! since the Unix epoch) and randomness are inputs.
//!
//! Client: [`client::start`] → [`client::ExpectResPq`] → [`client::ExpectServerDhParams`] →
//! [`client::ExpectDhGenAnswer`] → [`client::ClientDhGenStep`] (a retry, or
//! [`KeyExchangeOutcome`]).
//! Server: [`server::ExpectReqPq`] → [`server::ExpectReqDhParams`] →
//! [`server::ExpectSetClientDhParams`] → [`server::ServerDhGenStep`] (a retry, a failure, or
//! [`server::ServerKeyOutcome`]).
//!
//! The client makes every check of the security guidelines' items 1 to 6: nonce and
//! server_nonce at every step (failure answers included), the answer's SHA1, the 2048-bit safe
//! prime, `g` and its residue condition, the ranges of `g_a` and `g_b`, and `new_nonce_hash`
//! 1, 2 and 3 (and that of `server_DH_params_fail`). Randomness (item 7) is the caller's
//! cryptographic RNG.

pub mod client;
mod error;
pub mod server;

use std::fmt;
use std::ops::Deref;

use mtproto_crypto::AuthKey;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

pub use error::KexError;

/// What a successful exchange gives the client.
#[derive(Debug)]
pub struct KeyExchangeOutcome {
    /// The new authorization key.
    pub auth_key: AuthKey,
    /// The first server salt: `new_nonce[0..8] xor server_nonce[0..8]`.
    pub first_salt: i64,
    /// Server time minus local time, in seconds (from `server_time`).
    pub time_offset: i64,
    /// For a temporary key: when it expires, in server Unix time.
    pub expires_at: Option<i64>,
}

/// The 256-bit `new_nonce`: key material, zeroized on drop and redacted in `Debug`.
pub(crate) struct SecretNonce(Zeroizing<[u8; 32]>);

impl SecretNonce {
    pub(crate) fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut n = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut n[..]);
        Self(n)
    }

    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

impl Deref for SecretNonce {
    type Target = [u8; 32];
    fn deref(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretNonce(<redacted>)")
    }
}

/// Overwrites the `new_nonce` of a generated `p_q_inner_data*` value with zeros once it has
/// been serialized or copied into a [`SecretNonce`]: the generated struct is plain data, so
/// the key exchange wipes the copy it holds itself.
pub(crate) fn wipe_new_nonce(inner: &mut crate::schema::enums::PQInnerData) {
    use crate::schema::enums::PQInnerData;
    use zeroize::Zeroize;
    match inner {
        PQInnerData::PQInnerData(i) => i.new_nonce.zeroize(),
        PQInnerData::Dc(i) => i.new_nonce.zeroize(),
        PQInnerData::Temp(i) => i.new_nonce.zeroize(),
        PQInnerData::TempDc(i) => i.new_nonce.zeroize(),
    }
}

#[cfg(test)]
mod tests {
    use super::wipe_new_nonce;
    use crate::schema::{enums::PQInnerData, types};

    #[test]
    fn every_inner_data_variant_has_its_new_nonce_wiped() {
        let mut variants: Vec<PQInnerData> = vec![
            types::PQInnerData {
                pq: vec![1],
                p: vec![2],
                q: vec![3],
                nonce: [4; 16],
                server_nonce: [5; 16],
                new_nonce: [6; 32].into(),
            }
            .into(),
            types::PQInnerDataDc {
                pq: vec![1],
                p: vec![2],
                q: vec![3],
                nonce: [4; 16],
                server_nonce: [5; 16],
                new_nonce: [6; 32].into(),
                dc: 2,
            }
            .into(),
            types::PQInnerDataTemp {
                pq: vec![1],
                p: vec![2],
                q: vec![3],
                nonce: [4; 16],
                server_nonce: [5; 16],
                new_nonce: [6; 32].into(),
                expires_in: 60,
            }
            .into(),
            types::PQInnerDataTempDc {
                pq: vec![1],
                p: vec![2],
                q: vec![3],
                nonce: [4; 16],
                server_nonce: [5; 16],
                new_nonce: [6; 32].into(),
                dc: 2,
                expires_in: 60,
            }
            .into(),
        ];
        for inner in &mut variants {
            wipe_new_nonce(inner);
            let nonce = match inner {
                PQInnerData::PQInnerData(i) => *i.new_nonce,
                PQInnerData::Dc(i) => *i.new_nonce,
                PQInnerData::Temp(i) => *i.new_nonce,
                PQInnerData::TempDc(i) => *i.new_nonce,
            };
            assert_eq!(nonce, [0; 32]);
        }
    }
}
