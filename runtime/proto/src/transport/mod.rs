//! MTProto transports as pure framing state machines: payloads in, bytes out; bytes in,
//! frames out. No sockets, no clock, no OS randomness (padding and obfuscation headers come
//! from a caller-supplied generator).
//!
//! A [`Codec`] is one end of one connection, in the [`Role::Client`] or [`Role::Server`]
//! role, speaking one [`Transport`] (abridged, intermediate, padded intermediate or full),
//! optionally wrapped in obfuscated2 (not for full), optionally with an [`MtProxySecret`].
//!
//! - Sending: [`Codec::encode`] appends the bytes for one MTProto packet to a caller-owned
//!   buffer. A client's first call also writes the transport's opening bytes (the tag, or the
//!   64-byte obfuscation header).
//! - Receiving: [`Codec::handle_input`] takes whatever the socket produced (any split),
//!   [`Codec::poll_frame`] returns the complete [`Frame`]s one by one, then `Ok(None)`;
//!   [`Codec::handle_eof`] tells it the stream ended, after which an incomplete frame is
//!   [`TransportError::Truncated`]. Call `poll_frame` until `Ok(None)` after every
//!   `handle_input`: the codec keeps the unread bytes, and validates a frame's header (length
//!   limit included) before waiting for, or allocating, its body. The buffer holds exactly
//!   what was fed and not yet returned, so a caller that polls after each read of at most
//!   `R` bytes never has more than about `max_frame_len + R + 64` bytes buffered; the codec
//!   itself does not refuse input.
//! - A server codec starts without a transport and detects it from the client's first bytes
//!   ([`Codec::transport`] tells the result): `0xef` abridged, `0xeeeeeeee` intermediate,
//!   `0xdddddddd` padded intermediate, a length followed by a zero seq_no full, anything else
//!   a 64-byte obfuscated2 header whose decrypted tag names the inner transport.
//!
//! Every decoding error poisons the codec; see [`TransportError`].

mod abridged;
mod codec;
mod detect;
mod error;
mod full;
mod intermediate;
mod obfuscated;

use std::ops::Range;

pub use codec::Codec;
pub use error::{TransportError, TransportErrorCode};
pub use intermediate::{padded_payload_len, MAX_PADDING};
pub use obfuscated::{MtProxySecret, HEADER_LEN as OBFUSCATED_HEADER_LEN};

/// The default [`TransportConfig::max_frame_len`]: 4 MiB. Telegram's own messages stay near
/// 1 MiB (a 512 KiB file part plus MTProto overhead), so this leaves room while bounding what
/// a peer can make us buffer.
pub const DEFAULT_MAX_FRAME_LEN: usize = 4 << 20;

/// A framing scheme (the inner transport, when obfuscated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// Length / 4 in 1 or 4 bytes; the client opens with `0xef`.
    Abridged,
    /// 4-byte length; the client opens with `0xeeeeeeee`.
    Intermediate,
    /// 4-byte length including 0-15 random padding bytes; the client opens with `0xdddddddd`.
    PaddedIntermediate,
    /// Length, seq_no, payload, CRC32; no opening bytes; cannot be obfuscated.
    Full,
}

/// Which end of the connection a codec is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Opens the connection and writes the transport's opening bytes.
    Client,
    /// Accepts the connection and detects the transport from the client's first bytes.
    Server,
}

/// Limits and knobs of one codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportConfig {
    /// The largest payload accepted or sent, padding included (for padded intermediate).
    /// A received header announcing more is [`TransportError::FrameTooLarge`].
    pub max_frame_len: usize,
    /// Padded intermediate: the sender adds `0..=max_padding` random bytes (capped at
    /// [`MAX_PADDING`]).
    pub max_padding: u8,
}

impl TransportConfig {
    /// Client defaults: [`DEFAULT_MAX_FRAME_LEN`], padding up to 15 bytes.
    pub fn for_client() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_padding: MAX_PADDING,
        }
    }

    /// Server defaults: [`DEFAULT_MAX_FRAME_LEN`], padding up to 3 bytes, because Telethon
    /// strips padding with `len % 4` and breaks on more.
    pub fn for_server() -> Self {
        Self {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_padding: 3,
        }
    }
}

/// One unit received from the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Frame {
    /// An MTProto packet (padding already removed for padded intermediate).
    Packet {
        /// The packet bytes.
        payload: Vec<u8>,
        /// Server role: the client asked for a quick ACK of this packet. Always `false` in
        /// the client role.
        quick_ack: bool,
    },
    /// Client role: a quick-ACK token from the server, top bit included as received.
    QuickAck(u32),
}

/// One frame located at the front of a buffer.
#[derive(Debug)]
pub(crate) struct Decoded {
    /// Bytes the frame occupies.
    consumed: usize,
    kind: DecodedKind,
}

#[derive(Debug)]
pub(crate) enum DecodedKind {
    Packet {
        payload: Range<usize>,
        quick_ack: bool,
    },
    QuickAck(u32),
}
