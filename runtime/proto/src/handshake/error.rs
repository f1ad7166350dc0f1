//! Errors of the key exchange, one variant per check (client and server roles).

use thiserror::Error;

use crate::plain::PlainError;

/// Why a key exchange failed. Every check of the security guidelines has its own variant.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KexError {
    /// The packet is not an unencrypted message.
    #[error("bad unencrypted message: {0}")]
    Plain(#[from] PlainError),
    /// The body does not decode as the expected TL object.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was being read.
        what: &'static str,
        /// The decoding error.
        source: tl_wire::DecodeError,
    },
    /// `nonce` differs from the one this exchange sent.
    #[error("nonce in {step} does not match")]
    NonceMismatch {
        /// The message that carried it.
        step: &'static str,
    },
    /// `server_nonce` differs from the one received in `resPQ`.
    #[error("server_nonce in {step} does not match")]
    ServerNonceMismatch {
        /// The message that carried it.
        step: &'static str,
    },
    /// None of the server's key fingerprints is a key we know.
    #[error("no known RSA key among the server's fingerprints {fingerprints:x?}")]
    NoKnownKey {
        /// The fingerprints offered.
        fingerprints: Vec<i64>,
    },
    /// `pq` is not 8 bytes or does not factor into two primes.
    #[error("pq cannot be factored: {0}")]
    Factor(String),
    /// An RSA operation failed.
    #[error("RSA: {0}")]
    Rsa(#[from] mtproto_crypto::RsaError),
    /// A Diffie-Hellman check failed (prime, generator, ranges, answer hash).
    #[error("Diffie-Hellman: {0}")]
    Dh(#[from] mtproto_crypto::DhError),
    /// A `new_nonce_hash` (1, 2 or 3, or the one of `server_DH_params_fail`) is wrong.
    #[error("new_nonce_hash{number} does not match")]
    NewNonceHashMismatch {
        /// 1 = dh_gen_ok, 2 = dh_gen_retry, 3 = dh_gen_fail, 0 = server_DH_params_fail.
        number: u8,
    },
    /// The server answered `server_DH_params_fail` (its hash checked): start over.
    #[error("the server refused the DH parameters request (server_DH_params_fail)")]
    ServerDhParamsFail,
    /// The server answered `dh_gen_fail` (its hash checked): start over.
    #[error("the server rejected the key (dh_gen_fail)")]
    DhGenFail,
    /// The server asked to retry more often than allowed.
    #[error("more than {limit} dh_gen_retry answers")]
    TooManyRetries {
        /// The limit.
        limit: u32,
    },
    /// The peer sent a message this step does not expect.
    #[error("unexpected message in {step}: constructor {id:#010x}")]
    UnexpectedMessage {
        /// The step.
        step: &'static str,
        /// Its constructor id.
        id: u32,
    },
    /// (Server) the client's `p`/`q` are not the factors that were sent.
    #[error("p and q do not match the pq that was sent")]
    WrongFactors,
    /// (Server) the client's `retry_id` is not the aux_hash of the previous key.
    #[error("retry_id {got:#x} is not the expected {expected:#x}")]
    WrongRetryId {
        /// Expected value.
        expected: i64,
        /// Value received.
        got: i64,
    },
    /// (Server) the encrypted inner data is not valid under any accepted RSA scheme.
    #[error("encrypted p_q_inner_data cannot be decrypted")]
    BadInnerData,
}

impl KexError {
    pub(crate) fn decode(what: &'static str) -> impl FnOnce(tl_wire::DecodeError) -> Self {
        move |source| KexError::Decode { what, source }
    }
}
