//! The error type of the transport boundary.

use std::fmt;

/// Why a transport codec refused to encode or decode.
///
/// Any error returned by [`poll_frame`] poisons the decoder: a byte stream cannot
/// resynchronise after a bad frame (and servers close the connection after a transport
/// error), so every later [`poll_frame`] returns the same error and the caller must close the
/// connection. Errors returned by the `encode*` methods are the caller's mistakes and leave
/// the codec unchanged.
///
/// [`poll_frame`]: super::Codec::poll_frame
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A frame header announced a payload longer than the configured maximum. Raised as soon
    /// as the header is readable, before anything of that size is allocated.
    #[error("frame of {len} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The payload length the header announced (for `full`, without its 12 framing bytes).
        len: u64,
        /// The configured maximum ([`TransportConfig::max_frame_len`](super::TransportConfig)).
        max: usize,
    },
    /// A frame header announced a length that no valid frame can have: zero, not a multiple
    /// of 4 where the transport requires it, or shorter than the `full` envelope.
    #[error("invalid frame length {len}")]
    BadLength {
        /// The length as written in the header (for `full`, including the envelope).
        len: u64,
    },
    /// A `full` frame arrived with an unexpected sequence number.
    #[error("full transport: expected seq_no {expected}, got {got}")]
    BadSeq {
        /// The next sequence number of this direction.
        expected: u32,
        /// The sequence number in the frame.
        got: u32,
    },
    /// A `full` frame's CRC32 does not match its length, sequence number and payload.
    #[error("full transport: CRC32 mismatch (computed {expected:#010x}, frame has {got:#010x})")]
    BadCrc {
        /// The CRC32 computed over the received bytes.
        expected: u32,
        /// The CRC32 written in the frame.
        got: u32,
    },
    /// A padded-intermediate frame whose MTProto structure does not tell where the padding
    /// starts (see [`padded_payload_len`](super::padded_payload_len)).
    #[error("padded intermediate: cannot find the payload in a {len}-byte frame")]
    BadPadding {
        /// The frame length including padding.
        len: usize,
    },
    /// The decrypted obfuscation header names no known transport (wrong key, wrong MTProxy
    /// secret, or not an obfuscated client at all).
    #[error("obfuscated2: unknown protocol tag {0:#010x}")]
    BadObfuscationTag(u32),
    /// The MTProxy secret requires padded intermediate (a `dd` secret) but the peer or the
    /// caller chose another transport.
    #[error("this MTProxy secret requires the padded intermediate transport")]
    PaddingRequired,
    /// An MTProxy secret that is neither 16 bytes nor 17 bytes starting with `0xdd`.
    #[error("unsupported MTProxy secret of {len} bytes")]
    BadSecret {
        /// The length of the rejected secret.
        len: usize,
    },
    /// Server role: the client's first bytes match no supported transport (HTTP, TLS, or a
    /// header that is not allowed to start an obfuscated2 stream).
    #[error("the peer speaks no supported MTProto transport")]
    UnknownTransport,
    /// The server sent a transport error: a packet whose payload is exactly 4 bytes holding a
    /// negative little-endian `int` (or, in `full`, a negative length field: some servers send
    /// the raw code without an envelope).
    #[error("transport error from the server: {0}")]
    Server(TransportErrorCode),
    /// The stream ended in the middle of a frame (or of the transport header).
    #[error("connection closed in the middle of a frame ({buffered} bytes pending)")]
    Truncated {
        /// Bytes received but not forming a complete frame.
        buffered: usize,
    },
    /// A payload the caller asked to send cannot be framed: empty, not a multiple of 4
    /// bytes, or longer than the configured maximum or the transport's own limit.
    #[error(
        "cannot send a payload of {len} bytes (limit {max}, must be a non-empty multiple of 4)"
    )]
    BadPayload {
        /// The payload length.
        len: usize,
        /// The largest length this codec may send.
        max: usize,
    },
    /// The operation needs the other role (for example a client sending a quick-ack token).
    #[error("this operation is not available in the {0:?} role")]
    WrongRole(super::Role),
    /// The transport has no such feature (quick ACK over `full`).
    #[error("the {0:?} transport does not support quick ACK")]
    QuickAckUnsupported(super::Transport),
    /// obfuscated2 cannot wrap this transport (only abridged and the intermediates have a tag).
    #[error("obfuscated2 cannot carry the {0:?} transport")]
    CannotObfuscate(super::Transport),
    /// Server role: nothing can be sent before the client's transport has been detected.
    #[error("the client's transport is not known yet")]
    NotDetected,
    /// The random number generator failed, or produced no acceptable obfuscation header in
    /// many attempts (a broken generator).
    #[error("randomness unavailable for the transport")]
    Randomness,
}

/// The code of a transport error (a 4-byte negative payload sent by the server).
///
/// Codes without a documented meaning are kept raw in [`TransportErrorCode::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorCode {
    /// -404: the auth key id is unknown to the server (or the packet was malformed); start
    /// the key exchange again.
    NoSuchKey,
    /// -429: too many connections or transport-level flood; retry later.
    Flood,
    /// -444: invalid DC id given in the obfuscation header or at connection time.
    BadDc,
    /// Any other negative code, as received.
    Other(i32),
}

impl TransportErrorCode {
    /// Classifies a raw code.
    pub fn from_code(code: i32) -> Self {
        match code {
            -404 => Self::NoSuchKey,
            -429 => Self::Flood,
            -444 => Self::BadDc,
            other => Self::Other(other),
        }
    }

    /// The raw code as sent on the wire.
    pub fn code(self) -> i32 {
        match self {
            Self::NoSuchKey => -404,
            Self::Flood => -429,
            Self::BadDc => -444,
            Self::Other(code) => code,
        }
    }
}

impl fmt::Display for TransportErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Self::NoSuchKey => "no such auth key",
            Self::Flood => "flood",
            Self::BadDc => "bad DC id",
            Self::Other(_) => "unknown",
        };
        write!(f, "{} ({what})", self.code())
    }
}
