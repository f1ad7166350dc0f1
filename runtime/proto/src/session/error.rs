//! Why an incoming encrypted message was rejected. A rejected message changes nothing.

use thiserror::Error;

/// Why [`Session::handle_packet`](super::Session::handle_packet) (or the server's) refused a
/// packet. The session's state is unchanged when it returns an error.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SessionError {
    /// Decryption failed: wrong auth_key_id, bad length, msg_key mismatch or bad padding.
    /// Deliberately one opaque variant (no oracle).
    #[error("message decryption failed")]
    Decrypt,
    /// The message is for another session.
    #[error("session_id {got:#x} is not this session's {expected:#x}")]
    WrongSession {
        /// This session's id.
        expected: i64,
        /// The id in the message.
        got: i64,
    },
    /// A server message id must be odd; a client's must be divisible by 4.
    #[error("msg_id {msg_id:#x} has the wrong parity for its sender")]
    BadMsgIdParity {
        /// The id.
        msg_id: i64,
    },
    /// The seq_no parity does not match the message: acknowledgements and containers must
    /// be even (not content-related), requests, answers and updates odd.
    #[error("msg_id {msg_id:#x} has seq_no {seq_no}, expected an {} one", if *expected_odd { "odd" } else { "even" })]
    BadSeqNoParity {
        /// The message id.
        msg_id: i64,
        /// Its seq_no.
        seq_no: i32,
        /// Whether an odd (content-related) seq_no was expected.
        expected_odd: bool,
    },
    /// The message id was already received.
    #[error("msg_id {msg_id:#x} was already received (replay)")]
    Replayed {
        /// The id.
        msg_id: i64,
    },
    /// The message id is older than the replay window.
    #[error("msg_id {msg_id:#x} is older than the replay window")]
    TooOld {
        /// The id.
        msg_id: i64,
    },
    /// The message id is more than 300 s behind the synchronized clock, or more than 30 s
    /// ahead of it after the connection has carried a message (the first message of a
    /// connection moves the clock instead).
    #[error("msg_id {msg_id:#x} is outside the time window ({skew} s from now)")]
    OutsideTimeWindow {
        /// The id.
        msg_id: i64,
        /// Its time minus server time now, in seconds.
        skew: i64,
    },
}
