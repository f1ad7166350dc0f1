//! What a connection needs: [`ConnectConfig`], [`Backoff`] and a [`StoredAuth`] key.

use std::net::SocketAddr;
use std::time::Duration;

use mtproto_crypto::RsaPublicKey;
pub use mtproto_proto::endpoint::StoredAuth;
use mtproto_proto::endpoint::{ClientEndpointConfig, Obfuscation, PfsConfig};
use mtproto_proto::handshake::client::ClientConfig as KexConfig;
use mtproto_proto::session::{Prologue, SessionConfig};
use mtproto_proto::transport::{MtProxySecret, Transport, TransportConfig};

use crate::error::{ConfigError, NetError};

/// What the driver does when the server answers with transport error -404 (it does not know
/// the authorization key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownKeyPolicy {
    /// Report [`NetEvent::AuthKeyUnknown`](crate::NetEvent::AuthKeyUnknown) and wait for the
    /// application: four bytes anyone on the path can send must not silently replace a key
    /// that may carry a login.
    Report,
    /// Create a new key at once and move the waiting requests to it (for keys that carry
    /// nothing worth keeping, such as a fresh connection before any login).
    CreateNew,
}

/// Everything [`Connection::connect`](crate::Connection::connect) needs to reach one DC.
///
/// Every field is public and documented; [`ConnectConfig::new`] fills the tunables with the
/// defaults listed there.
#[derive(Clone, Debug)]
pub struct ConnectConfig {
    /// The address to connect to: the DC's, or the MTProxy's when [`ConnectConfig::mtproxy`]
    /// is set.
    pub addr: SocketAddr,
    /// The framing to speak (inside obfuscated2 when obfuscated).
    pub transport: Transport,
    /// Wrap the framing in obfuscated2 (not possible with [`Transport::Full`]). Implied by
    /// [`ConnectConfig::mtproxy`].
    pub obfuscated: bool,
    /// Connect through an MTProxy with this secret: [`ConnectConfig::addr`] is the proxy, the
    /// connection is obfuscated2 with both stream keys mixed with the secret
    /// (`SHA256(key + secret)`), and the proxy forwards it to the DC named by
    /// [`ConnectConfig::dc_id`] in the obfuscation header.
    ///
    /// Parse the secret with [`MtProxySecret::from_bytes`] from the hex-decoded bytes the
    /// proxy publishes: 16 bytes, or 17 starting with `0xdd`. A `dd` secret means the proxy
    /// accepts only [`Transport::PaddedIntermediate`]: [`ConnectConfig::via_mtproxy`]
    /// selects it, and [`Connection::connect`](crate::Connection::connect) refuses any other
    /// transport with [`ConfigError::MtProxyNeedsPadding`] before opening a socket.
    /// Fake-TLS (`0xee`) secrets are not supported. `Debug` does not show the secret.
    pub mtproxy: Option<MtProxySecret>,
    /// The DC id: sent in `p_q_inner_data_dc` and, when obfuscated, in the obfuscation
    /// header as a signed 16-bit value, which is how an MTProxy picks the DC. Telegram's
    /// numbering is the caller's business: +10000 for test DCs, negative for media DCs. An
    /// obfuscated connection refuses an id outside `i16` ([`ConfigError::DcIdOutOfRange`]).
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
    /// What to do when the server says it does not know the key (transport error -404).
    /// With [`ConnectConfig::pfs`] a lost temporary key is replaced and bound by the
    /// connection itself; this policy then applies to the permanent key (its bind refused).
    pub unknown_key: UnknownKeyPolicy,
    /// Perfect forward secrecy: `Some` runs every request over temporary keys bound to the
    /// permanent key ([`PfsConfig`]); `None` (the default here) uses the permanent key.
    pub pfs: Option<PfsConfig>,
    /// Wraps the first request over each key (a new connection's key, each temporary key):
    /// how a client declares its layer and app with `invokeWithLayer(initConnection(...))`.
    /// `None` sends requests as they are.
    pub prologue: Option<Prologue>,
    /// Names constructor ids in logs (for example `auth_api::constructor_name`); the
    /// runtime itself knows only the service schema's names.
    pub constructor_names: fn(u32) -> Option<&'static str>,
}

impl ConnectConfig {
    /// A configuration with these defaults: abridged transport in the clear, no stored key,
    /// 30 s request timeout, 10 s connect timeout, idle timeout of the ping interval plus
    /// 30 s, [`Backoff::default`], [`SessionConfig::default`], 3 key-exchange retries, 1024
    /// buffered events, names of the service schema in logs, [`UnknownKeyPolicy::Report`].
    pub fn new(addr: SocketAddr, dc_id: i32, public_keys: Vec<RsaPublicKey>) -> Self {
        let session = SessionConfig::default();
        Self {
            addr,
            transport: Transport::Abridged,
            obfuscated: false,
            mtproxy: None,
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
            constructor_names: mtproto_proto::schema::name_of,
            unknown_key: UnknownKeyPolicy::Report,
            pfs: None,
            prologue: None,
        }
    }

    /// Routes the connection through an MTProxy at `proxy` with `secret`: sets
    /// [`ConnectConfig::addr`] and [`ConnectConfig::mtproxy`], and for a `dd` secret
    /// switches [`ConnectConfig::transport`] to [`Transport::PaddedIntermediate`] (the only
    /// framing such a proxy accepts). [`ConnectConfig::dc_id`] stays the DC the proxy should
    /// reach.
    pub fn via_mtproxy(mut self, proxy: SocketAddr, secret: MtProxySecret) -> Self {
        if secret.requires_padding() {
            self.transport = Transport::PaddedIntermediate;
        }
        self.addr = proxy;
        self.mtproxy = Some(secret);
        self
    }

    /// Whether the connection is wrapped in obfuscated2: [`ConnectConfig::obfuscated`] or
    /// an MTProxy.
    pub fn is_obfuscated(&self) -> bool {
        self.obfuscated || self.mtproxy.is_some()
    }

    /// Checks that the settings can work together;
    /// [`Connection::connect`](crate::Connection::connect) calls it before opening any
    /// socket. Refuses obfuscating [`Transport::Full`], a `dd` MTProxy secret with another
    /// transport than padded intermediate, and an obfuscated `dc_id` outside `i16`.
    pub fn validate(&self) -> Result<(), NetError> {
        if !self.is_obfuscated() {
            return Ok(());
        }
        if self.transport == Transport::Full {
            return Err(NetError::Config(ConfigError::CannotObfuscate(
                self.transport,
            )));
        }
        if self
            .mtproxy
            .as_ref()
            .is_some_and(MtProxySecret::requires_padding)
            && self.transport != Transport::PaddedIntermediate
        {
            return Err(NetError::Config(ConfigError::MtProxyNeedsPadding {
                transport: self.transport,
            }));
        }
        self.obfuscation_dc_id()?;
        Ok(())
    }

    /// The sans-IO endpoint's configuration for these settings.
    pub(crate) fn endpoint_config(&self) -> Result<ClientEndpointConfig, NetError> {
        let obfuscation = if self.is_obfuscated() {
            Some(Obfuscation {
                dc_id: self.obfuscation_dc_id()?,
                secret: self.mtproxy.clone(),
            })
        } else {
            None
        };
        Ok(ClientEndpointConfig {
            transport: self.transport,
            obfuscation,
            transport_config: TransportConfig::for_client(),
            kex: KexConfig {
                dc_id: self.dc_id,
                public_keys: self.public_keys.clone(),
                temp_key_expires_in: None,
                max_retries: self.max_kex_retries,
            },
            session: self.session.clone(),
            idle_timeout: self.idle_timeout,
            pfs: self.pfs,
            prologue: self.prologue.clone(),
        })
    }

    /// The DC id as the obfuscation header carries it.
    pub(crate) fn obfuscation_dc_id(&self) -> Result<i16, NetError> {
        i16::try_from(self.dc_id)
            .map_err(|_| NetError::Config(ConfigError::DcIdOutOfRange(self.dc_id)))
    }
}

/// Exponential backoff between reconnection attempts: attempt `n` (from 1) waits
/// `min(initial * 2^(n-1), max)` first. Attempts count up until a connection carries a valid
/// packet from the server (a connection that opens and dies at once does not reset them).
/// After `max_attempts` the connection gives up and every waiting request fails with
/// [`InvokeError::GaveUp`](crate::InvokeError::GaveUp), which names the last connection's
/// error. There is no jitter.
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
