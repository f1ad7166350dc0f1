//! The errors of this crate's two boundaries: opening a connection ([`NetError`]) and
//! invoking a request ([`InvokeError`]).

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mtproto_proto::handshake::KexError;
use mtproto_proto::session::RpcError;
use mtproto_proto::transport::{Transport, TransportError};
use thiserror::Error;

/// Why a connection could not be opened, or was lost.
///
/// [`Connection::connect`](crate::Connection::connect) returns it for the first connection;
/// later losses are reported as [`NetEvent::Disconnected`](crate::NetEvent::Disconnected)
/// and handled by reconnecting.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum NetError {
    /// The [`ConnectConfig`](crate::ConnectConfig) cannot work; found before any socket was
    /// opened (see [`ConnectConfig::validate`](crate::ConnectConfig::validate)).
    #[error("invalid connection configuration: {0}")]
    Config(#[from] ConfigError),
    /// The TCP connection could not be opened.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address tried.
        addr: SocketAddr,
        /// The socket error.
        source: Arc<io::Error>,
    },
    /// Opening the connection (TCP plus a key exchange, when needed) took longer than
    /// [`ConnectConfig::connect_timeout`](crate::ConnectConfig::connect_timeout).
    #[error("connecting took longer than {0:?}")]
    ConnectTimeout(Duration),
    /// Reading or writing the socket failed.
    #[error("socket error: {0}")]
    Io(Arc<io::Error>),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Eof,
    /// The transport failed: a bad frame, or a transport error code from the server (-404:
    /// the key is unknown; see [`NetEvent::AuthKeyUnknown`](crate::NetEvent::AuthKeyUnknown)).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The key exchange failed.
    #[error("key exchange: {0}")]
    KeyExchange(#[from] KexError),
    /// A server packet failed decryption (security guidelines item 14: drop the connection).
    #[error("a server packet failed to decrypt")]
    Decrypt,
    /// The connection broke the protocol in another way (see the inner error).
    #[error("connection: {0}")]
    Connection(mtproto_proto::endpoint::ConnectionError),
    /// Nothing arrived for [`ConnectConfig::idle_timeout`](crate::ConnectConfig::idle_timeout).
    #[error("nothing received for {0:?}")]
    Idle(Duration),
    /// Reconnection failed [`Backoff::max_attempts`](crate::Backoff::max_attempts) times in a
    /// row.
    #[error("gave up after {attempts} reconnection attempts; last error: {last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The error of the last one.
        last: Box<NetError>,
    },
}

impl NetError {
    pub(crate) fn io(error: io::Error) -> Self {
        Self::Io(Arc::new(error))
    }

    /// Whether the server said it does not know the auth key (transport error -404).
    pub fn is_unknown_key(&self) -> bool {
        matches!(
            self,
            Self::Transport(TransportError::Server(
                mtproto_proto::transport::TransportErrorCode::NoSuchKey
            ))
        )
    }
}

/// Settings of a [`ConnectConfig`](crate::ConnectConfig) that do not work together.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The MTProxy secret starts with `0xdd`: the proxy accepts only padded intermediate,
    /// but another transport was chosen
    /// ([`ConnectConfig::via_mtproxy`](crate::ConnectConfig::via_mtproxy) picks the right
    /// one).
    #[error("a `dd` MTProxy secret requires Transport::PaddedIntermediate, not {transport:?}")]
    MtProxyNeedsPadding {
        /// The transport that was configured.
        transport: Transport,
    },
    /// obfuscated2 (asked for, or implied by an MTProxy) cannot carry this transport.
    #[error("obfuscated2 (and so an MTProxy) cannot carry the {0:?} transport")]
    CannotObfuscate(Transport),
    /// The DC id does not fit the obfuscation header's signed 16-bit field.
    #[error("DC id {0} does not fit the obfuscation header (a signed 16-bit value)")]
    DcIdOutOfRange(i32),
}

/// Why an `invoke` produced no result.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InvokeError {
    /// The server answered with an RPC error.
    #[error("{0}")]
    Rpc(RpcError),
    /// No answer within [`ConnectConfig::request_timeout`](crate::ConnectConfig); the request
    /// was cancelled (a late answer is ignored).
    #[error("no answer in time")]
    Timeout,
    /// The connection is closed: every handle was dropped or closed.
    #[error("the connection is closed")]
    Closed,
    /// Reconnecting gave up ([`Backoff::max_attempts`](crate::Backoff::max_attempts)); the
    /// error says why the last connection failed (a security check, the transport, ...).
    #[error("{0}")]
    GaveUp(GaveUp),
    /// The answer does not decode as the type the function returns.
    #[error("cannot decode the answer: {0}")]
    Decode(tl_wire::DecodeError),
    /// The server refused the request too many times in a row (`bad_msg_notification` or
    /// `bad_server_salt` each time; see `mtproto_proto::session::MAX_REFUSALS`).
    #[error("the server refused the request repeatedly ({0:?})")]
    Refused(mtproto_proto::session::ResendReason),
    /// The request is longer than one transport frame can carry once encrypted.
    #[error("a request of {len} bytes does not fit a frame (at most {max})")]
    TooLarge {
        /// The body's length.
        len: usize,
        /// The longest body that fits.
        max: usize,
    },
    /// A request body must be a non-empty multiple of 4 bytes (a serialized TL function).
    #[error("a request body must be a non-empty multiple of 4 bytes, not {len}")]
    InvalidBody {
        /// The body's length.
        len: usize,
    },
}

/// Why a connection gave up (in [`InvokeError::GaveUp`]): the driver's [`NetError`], shared.
/// Two are equal when they say the same.
#[derive(Debug, Clone)]
pub struct GaveUp(pub std::sync::Arc<NetError>);

impl PartialEq for GaveUp {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for GaveUp {}

impl std::fmt::Display for GaveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
