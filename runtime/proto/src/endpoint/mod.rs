//! One sans-IO endpoint per role: the composition of transport codec, unencrypted or
//! encrypted dispatch, key exchange and session, written once for the tokio edges and the
//! in-process tests alike (the shape of quinn-proto's `Connection`).
//!
//! - [`ClientEndpoint`]: one DC connection of a client, across TCP connections: `connect`
//!   for each new socket, `handle_input(now, bytes)`, `poll_transmit(now, &mut out)`,
//!   `poll_event()`, `poll_timeout()` / `handle_timeout(now)`, `connection_lost()`.
//! - [`ServerEndpoint`]: every connection and every authorization key of a server:
//!   `accept()` gives a [`ConnectionId`], then the same inputs and outputs per connection;
//!   requests come out as events and are answered with `respond`.
//!
//! An edge only moves bytes and time: read the socket into `handle_input`, write what
//! `poll_transmit` gives, act on `poll_event`, sleep until `poll_timeout`. An error from
//! `handle_input` or `handle_timeout` means the connection must be closed (the client then
//! calls `connection_lost` and may `connect` again).

mod client;
mod server;

pub use client::{ClientEndpoint, ClientEndpointConfig, ClientEvent, Obfuscation, PfsConfig};
#[cfg(feature = "testing")]
pub use server::PacketTamper;
pub use server::{ConnectionId, ServerEndpoint, ServerEndpointConfig, ServerEndpointEvent};

use std::time::Duration;

use mtproto_crypto::AuthKey;
use thiserror::Error;

use crate::handshake::KexError;
use crate::transport::{TransportError, TransportErrorCode};

/// An authorization key with the salt and clock offset last used with it: what must survive
/// a restart. Persist [`StoredAuth::auth_key`]'s bytes (`as_bytes`) with care: they are the
/// account's credentials. `Debug` shows only the key id.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredAuth {
    /// The key.
    pub auth_key: AuthKey,
    /// The server salt last used.
    pub salt: i64,
    /// Server time minus local time, in seconds.
    pub time_offset: i64,
}

impl StoredAuth {
    /// From persisted key bytes; `None` unless `key` is exactly 256 bytes.
    pub fn from_bytes(key: &[u8], salt: i64, time_offset: i64) -> Option<Self> {
        Some(Self {
            auth_key: AuthKey::from_slice(key)?,
            salt,
            time_offset,
        })
    }
}

impl std::fmt::Debug for StoredAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAuth")
            .field("auth_key", &self.auth_key)
            .field("salt", &format_args!("{:#x}", self.salt))
            .field("time_offset", &self.time_offset)
            .finish()
    }
}

/// Why a connection must be closed. On a client, unanswered requests are kept: call
/// [`ClientEndpoint::connection_lost`], then [`ClientEndpoint::connect`] again.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConnectionError {
    /// A bad frame, or a transport error code from the server (-404: it does not know the
    /// key; see [`ConnectionError::is_unknown_key`]).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// The key exchange failed.
    #[error("key exchange: {0}")]
    KeyExchange(#[from] KexError),
    /// A server packet failed decryption (security guidelines item 14: drop the connection).
    #[error("a server packet failed to decrypt")]
    Decrypt,
    /// A server packet decrypted but failed a session check (session_id, msg_id parity,
    /// replay, time window, seq_no parity): dropped, and the connection is given up
    /// (PROTOCOL.md §9, check 14: drop, reconnect, redo).
    #[error("a server packet failed a security check: {0}")]
    Security(crate::session::SessionError),
    /// Nothing arrived for the configured idle timeout.
    #[error("nothing received for {0:?}")]
    Idle(Duration),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Eof,
    /// A packet too short to hold an auth_key_id.
    #[error("a packet of {len} bytes is too short")]
    ShortPacket {
        /// Its length.
        len: usize,
    },
    /// There is no such connection (client: [`ClientEndpoint::connect`] first).
    #[error("not connected")]
    NotConnected,
    /// The server refused to bind the temporary key to the permanent one (PFS): the
    /// permanent key is unknown to it (or the bind was malformed).
    #[error("the server refused to bind the temporary key: {0}")]
    BindRefused(crate::session::RpcError),
}

impl ConnectionError {
    /// Whether the server refused a temporary key's bind because it does not know the
    /// permanent key (`PERM_AUTH_KEY_INVALID`): the permanent key must be replaced.
    pub fn is_unknown_perm_key(&self) -> bool {
        matches!(self, Self::BindRefused(e) if e.name == "PERM_AUTH_KEY_INVALID")
    }

    /// Whether the server said it does not know the key (transport error -404).
    pub fn is_unknown_key(&self) -> bool {
        matches!(
            self,
            Self::Transport(TransportError::Server(TransportErrorCode::NoSuchKey))
        )
    }
}
