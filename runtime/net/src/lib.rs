//! The tokio edge of the MTProto stack: one driver task per DC connection, over the sans-IO
//! state machines of `mtproto-proto`.
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr, keys: Vec<mtproto_crypto::RsaPublicKey>)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use mtproto_net::{ConnectConfig, Connection};
//!
//! let config = ConnectConfig::new(addr, 2, keys);
//! let (conn, _events) = Connection::connect(config).await?;
//! // Any serialized TL function; `invoke` takes a typed one.
//! let answer = conn.invoke_raw(vec![0xde, 0xad, 0xbe, 0xef]).await;
//! // Persist this to skip the key exchange next time (`ConnectConfig::auth`).
//! let stored = conn.auth();
//! # let _ = (answer, stored); Ok(()) }
//! ```
//!
//! What the driver does ([`Connection::connect`] starts it; every [`Connection`] clone talks
//! to it through a channel):
//! - reads the socket into the transport codec, hands each packet to the session (or, while
//!   there is no key, to the key exchange), drains `poll_transmit` into the socket and
//!   `poll_event` into the waiting `invoke`s, and sleeps until `poll_timeout` to call
//!   `handle_timeout` (keepalive pings, future salts);
//! - on EOF, a socket error, a transport error, a packet that fails to decrypt, or an idle
//!   connection: tells the session (`connection_lost`, so every unanswered request is resent
//!   with a new msg_id) and reconnects with exponential [`Backoff`] on the same key. A -404
//!   transport error means the server does not know the key: the driver reports
//!   [`NetEvent::AuthKeyUnknown`] and waits for [`Connection::create_new_key`] (or creates
//!   one at once with [`UnknownKeyPolicy::CreateNew`]); the unanswered requests then move to
//!   a new session over the new key;
//! - feeds the session Unix time that never steps back (read once, then advanced by the
//!   monotonic clock); the session follows the server's clock from its messages;
//! - `invoke` times out after [`ConnectConfig::request_timeout`]; dropping its future
//!   cancels the request in the session (not resent; a late answer is ignored).
//!
//! Logging goes through `tracing`: sizes, constructor ids, key ids and salts, never key
//! bytes or request and answer bodies.
//!
//! Through an MTProxy: set [`ConnectConfig::mtproxy`] (or call
//! [`ConnectConfig::via_mtproxy`]) with the proxy's [`MtProxySecret`]; the connection is then
//! obfuscated2 keyed with the secret, and the proxy forwards it to the DC named by
//! [`ConnectConfig::dc_id`]. A `dd` secret requires padded intermediate.
//!
//! Modules: [`Connection`] and its [`Events`]; [`ConnectConfig`], [`Backoff`],
//! [`StoredAuth`]; the errors [`NetError`] (with [`ConfigError`]) and [`InvokeError`]. The
//! loopback server its tests run against is the `test-dc` crate (`tests/dc`).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod clock;
mod config;
mod connection;
mod driver;
mod error;
mod link;

pub use config::{Backoff, ConnectConfig, StoredAuth, UnknownKeyPolicy};
pub use connection::{Connection, Events, NetEvent, Status};
pub use error::{ConfigError, GaveUp, InvokeError, NetError};
pub use mtproto_proto::endpoint::PfsConfig;
pub use mtproto_proto::session::{Prologue, RpcError, SessionConfig};
pub use mtproto_proto::transport::{MtProxySecret, Transport};
