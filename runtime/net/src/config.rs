//! What a connection needs: [`ConnectConfig`], [`Backoff`] and a [`StoredAuth`] key.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use mtproto_crypto::{AuthKey, RsaPublicKey};
use mtproto_proto::session::SessionConfig;
use mtproto_proto::transport::Transport;

/// Everything [`Connection::connect`](crate::Connection::connect) needs to reach one DC.
///
/// Every field is public and documented; [`ConnectConfig::new`] fills the tunables with the
/// defaults listed there.
#[derive(Clone, Debug)]
pub struct ConnectConfig {
    /// The DC's address.
    pub addr: SocketAddr,
    /// The framing to speak.
    pub transport: Transport,
    /// Wrap the framing in obfuscated2 (not possible with [`Transport::Full`]).
    pub obfuscated: bool,
    /// The DC id: sent in `p_q_inner_data_dc` and in the obfuscation header (+10000 for test
    /// DCs, negative for media DCs).
    pub dc_id: i32,
    /// The server RSA keys trusted for the key exchange.
    pub public_keys: Vec<RsaPublicKey>,
    /// A key from an earlier run: `Some` skips the key exchange. `None` creates a key.
    pub auth: Option<StoredAuth>,
    /// How long an `invoke` waits for its answer, resends included.
    pub request_timeout: Duration,
    /// How long opening the TCP connection plus a key exchange (when one is needed) may take.
    pub connect_timeout: Duration,
    /// When nothing at all arrives for this long the connection is considered dead and is
    /// replaced. Keep it above the session's `ping_interval` (pings are answered), or `None`
    /// to rely on TCP alone.
    pub idle_timeout: Option<Duration>,
    /// How to reconnect after the connection is lost.
    pub reconnect: Backoff,
    /// The encrypted session's tunables (ping interval, container limits, gzip).
    pub session: SessionConfig,
    /// How many `dh_gen_retry` answers a key exchange accepts.
    pub max_kex_retries: u32,
    /// Capacity of the [`Events`](crate::Events) channel; events beyond it are dropped (and
    /// logged) rather than blocking the connection.
    pub event_capacity: usize,
}

impl ConnectConfig {
    /// A configuration with these defaults: abridged transport in the clear, no stored key,
    /// 30 s request timeout, 10 s connect timeout, idle timeout of the ping interval plus
    /// 30 s, [`Backoff::default`], [`SessionConfig::default`], 3 key-exchange retries, 1024
    /// buffered events.
    pub fn new(addr: SocketAddr, dc_id: i32, public_keys: Vec<RsaPublicKey>) -> Self {
        let session = SessionConfig::default();
        Self {
            addr,
            transport: Transport::Abridged,
            obfuscated: false,
            dc_id,
            public_keys,
            auth: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Some(session.ping_interval + Duration::from_secs(30)),
            reconnect: Backoff::default(),
            session,
            max_kex_retries: 3,
            event_capacity: 1024,
        }
    }
}

/// Exponential backoff between reconnection attempts: attempt `n` (from 1) waits
/// `min(initial * 2^(n-1), max)` first. Attempts count up until a connection carries a valid
/// packet from the server (a connection that opens and dies at once does not reset them).
/// After `max_attempts` the connection gives up and every waiting request fails with
/// [`InvokeError::Closed`](crate::InvokeError::Closed). There is no jitter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The wait before the first reconnection attempt.
    pub initial: Duration,
    /// The longest wait.
    pub max: Duration,
    /// Consecutive failed attempts before giving up; `None` retries forever.
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    /// 100 ms, doubling up to 30 s, forever.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The wait before attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(31);
        self.initial
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

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

impl fmt::Debug for StoredAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredAuth")
            .field("auth_key", &self.auth_key)
            .field("salt", &format_args!("{:#x}", self.salt))
            .field("time_offset", &self.time_offset)
            .finish()
    }
}
