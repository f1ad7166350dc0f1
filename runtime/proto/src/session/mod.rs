//! The encrypted MTProto 2.0 session, sans-IO, in both roles.
//!
//! [`Session`] (client) and [`ServerSession`] (server, for the test DC) take decrypted-or-not
//! packets with `handle_packet(now, bytes)`, produce packets with `poll_transmit(now, rng)`,
//! report what happened with `poll_event()`, and ask to be woken with `poll_timeout()`.
//! Transport framing is not their business: they see whole MTProto packets.
//!
//! Incoming checks (security guidelines items 8 to 14): auth_key_id, length a multiple of 16,
//! msg_key recomputed, padding 12..1024 and body length (all inside
//! `mtproto_crypto::message::decrypt_v2_message`, one opaque error), then session_id, msg_id
//! parity, the replay window, and the time window once the clock is synchronized (except for
//! `bad_server_salt` and `bad_msg_notification`). A message failing any check changes nothing.

mod client;
mod error;
pub mod replay;
mod server;
pub mod wire;

use std::time::Duration;

pub use client::{
    BindPlan, Event, PlantedBug, Prologue, RequestId, ResendReason, Session, BIND_TEMP_AUTH_KEY_ID,
    MAX_REFUSALS,
};
pub use error::SessionError;
pub use server::{ServerEvent, ServerSession};
pub use wire::RpcError;

/// Tunables of a session (both roles).
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// How often the client sends `ping_delay_disconnect`.
    pub ping_interval: Duration,
    /// The `disconnect_delay` of those pings, in seconds.
    pub ping_disconnect_delay: i32,
    /// Most messages per container (at most 1020).
    pub max_container_messages: usize,
    /// Most bytes of messages per container.
    pub max_container_bytes: usize,
    /// Requests at least this long are sent `gzip_packed` (when that is smaller); `None` never.
    pub gzip_min_len: Option<usize>,
    /// How many recent message ids the replay window remembers.
    pub replay_window: usize,
    /// Largest inflated `gzip_packed` payload accepted.
    pub max_inflated: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(60),
            ping_disconnect_delay: 75,
            max_container_messages: 100,
            max_container_bytes: 512 * 1024,
            gzip_min_len: Some(1024),
            replay_window: 500,
            max_inflated: tl_wire::DEFAULT_MAX_INFLATED,
        }
    }
}
