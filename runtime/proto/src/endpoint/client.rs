//! The client endpoint: one DC connection (a session over one key), across as many TCP
//! connections as it takes.

use std::collections::VecDeque;
use std::time::Duration;

use super::{ConnectionError, StoredAuth};
use crate::handshake::client::{
    self as kex, ClientConfig as KexConfig, ClientDhGenStep, ExpectDhGenAnswer, ExpectResPq,
    ExpectServerDhParams,
};
use crate::handshake::KeyExchangeOutcome;
use crate::session::{BindPlan, Event, Prologue, RequestId, Session, SessionConfig, SessionError};
use crate::transport::{Codec, Frame, MtProxySecret, Transport, TransportConfig};
use mtproto_crypto::PrimeCache;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// Obfuscated2 around the framing, optionally keyed with an MTProxy secret.
#[derive(Clone, Debug)]
pub struct Obfuscation {
    /// The DC id written in the obfuscation header (how an MTProxy picks the DC).
    pub dc_id: i16,
    /// The MTProxy secret, when connecting through one.
    pub secret: Option<MtProxySecret>,
}

/// What a [`ClientEndpoint`] needs.
#[derive(Clone, Debug)]
pub struct ClientEndpointConfig {
    /// The framing.
    pub transport: Transport,
    /// Obfuscated2 (and MTProxy) around the framing; `None` speaks the framing in the clear.
    pub obfuscation: Option<Obfuscation>,
    /// Frame limits.
    pub transport_config: TransportConfig,
    /// The key exchange: DC id, trusted RSA keys, temporary keys, retries.
    pub kex: KexConfig,
    /// The encrypted session's tunables.
    pub session: SessionConfig,
    /// A connection on which nothing arrives for this long is dead
    /// ([`ConnectionError::Idle`]); `None` relies on the transport alone.
    pub idle_timeout: Option<Duration>,
    /// Perfect forward secrecy: traffic runs over temporary keys bound to the permanent
    /// one; `None` uses the permanent key on the wire.
    pub pfs: Option<PfsConfig>,
    /// Wraps the first application request over each key (the layer and app declaration).
    pub prologue: Option<Prologue>,
}

/// Perfect forward secrecy (core.telegram.org/api/pfs): the endpoint creates a temporary
/// key (`p_q_inner_data_temp_dc`), binds it to the permanent key with
/// `auth.bindTempAuthKey` before any other request, and replaces it before it expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PfsConfig {
    /// How long a temporary key lives (sent as `expires_in`).
    pub temp_key_lifetime: Duration,
    /// How long before its expiry a temporary key is replaced.
    pub renew_before: Duration,
    /// During a replacement, how long requests already sent may take to be answered over
    /// the old key before the new key takes over (and resends what is left).
    pub drain_timeout: Duration,
}

impl PfsConfig {
    /// Temporary keys living `lifetime`, replaced a quarter of it (at most 5 minutes) early.
    pub fn new(lifetime: Duration) -> Self {
        Self {
            temp_key_lifetime: lifetime,
            renew_before: (lifetime / 4).min(Duration::from_secs(300)),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// Something the application (or the edge) should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// A key exchange created a new permanent key (without PFS the session now runs over
    /// it): persist [`ClientEndpoint::auth`].
    KeyCreated,
    /// A temporary key was created (PFS); its bind follows.
    TempKeyCreated {
        /// Its key id.
        key_id: i64,
    },
    /// What the session reports: answers, updates, resends, failures.
    Session(Event),
}

/// Where the key exchange of the current connection is.
#[derive(Debug)]
enum Kex {
    ResPq(ExpectResPq),
    DhParams(ExpectServerDhParams),
    DhGen(Box<ExpectDhGenAnswer>),
}

/// Which key an exchange creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyKind {
    /// The permanent key (the only one without PFS).
    Permanent,
    /// A temporary key (PFS).
    Temporary,
}

/// The current TCP connection's protocol state.
#[derive(Debug)]
struct Link {
    codec: Codec,
    kex: Option<Kex>,
    /// What the running exchange creates.
    kex_kind: KeyKind,
    /// Unencrypted key-exchange packets waiting to be framed.
    plain_out: VecDeque<Vec<u8>>,
    /// When the last valid packet (or the connection itself) arrived.
    last_received: Duration,
    /// Whether a valid packet arrived on this connection.
    healthy: bool,
}

/// The client side of one DC connection, sans-IO: transport framing, the key exchange when
/// there is no key (or the server lost it), and the encrypted session, which outlives TCP
/// connections so unanswered requests survive them.
///
/// Polling order for an edge: after every input (`connect`, `handle_input`,
/// `handle_timeout`, `enqueue`), drain [`ClientEndpoint::poll_transmit`] into the socket and
/// [`ClientEndpoint::poll_event`], then sleep until [`ClientEndpoint::poll_timeout`].
/// Randomness comes from a ChaCha20 generator seeded by the caller.
pub struct ClientEndpoint {
    config: ClientEndpointConfig,
    rng: ChaCha20Rng,
    primes: PrimeCache,
    session: Option<Session>,
    /// Requests enqueued before the first key existed.
    early: VecDeque<(RequestId, Vec<u8>)>,
    next_request: u64,
    link: Option<Link>,
    /// The next connection runs a key exchange (no key yet, or the server lost ours).
    need_key: bool,
    events: VecDeque<ClientEvent>,
    key_exchanges: u32,
    /// With PFS: the permanent key (the session runs over a temporary one).
    perm: Option<StoredAuth>,
    /// With PFS: when the current temporary key expires (local clock).
    temp_expires_at: Option<Duration>,
    /// With PFS: a new temporary key waiting for the old one's requests to be answered,
    /// and since when it waits.
    next_temp: Option<(KeyExchangeOutcome, Duration)>,
    /// With PFS: the bind failed; the connection ends with this error.
    bind_refused: Option<crate::session::RpcError>,
    /// A bug planted by a test (feature `testing`), given to every session.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    planted: Option<crate::session::PlantedBug>,
}

impl std::fmt::Debug for ClientEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientEndpoint")
            .field("session", &self.session)
            .field("connected", &self.link.is_some())
            .field("need_key", &self.need_key)
            .finish_non_exhaustive()
    }
}

impl ClientEndpoint {
    /// An endpoint over `auth` (a key from an earlier run) or, with `None`, one that creates
    /// a key on its first connection. `rng_seed` seeds every random draw (use 32 bytes of OS
    /// randomness in production, a constant in tests).
    pub fn new(config: ClientEndpointConfig, auth: Option<StoredAuth>, rng_seed: [u8; 32]) -> Self {
        let mut rng = ChaCha20Rng::from_seed(rng_seed);
        if config.pfs.is_some() {
            // The session waits for the first temporary key.
            return Self {
                need_key: true,
                config,
                rng,
                primes: PrimeCache::new(),
                session: None,
                early: VecDeque::new(),
                next_request: 0,
                link: None,
                events: VecDeque::new(),
                key_exchanges: 0,
                perm: auth,
                temp_expires_at: None,
                next_temp: None,
                bind_refused: None,
                planted: None,
            };
        }
        let session = auth.map(|auth| {
            let mut session = Session::new(
                config.session.clone(),
                auth.auth_key,
                auth.salt,
                Some(auth.time_offset),
                rng.next_u64() as i64,
            );
            session.set_prologue(config.prologue.clone());
            session
        });
        Self {
            need_key: session.is_none(),
            config,
            rng,
            primes: PrimeCache::new(),
            session,
            early: VecDeque::new(),
            next_request: 0,
            link: None,
            events: VecDeque::new(),
            key_exchanges: 0,
            perm: None,
            temp_expires_at: None,
            next_temp: None,
            bind_refused: None,
            planted: None,
        }
    }

    /// Plants `bug` in this endpoint's sessions, now and after a new key (feature
    /// `testing`): for proving that tests and the simulator catch it.
    #[cfg(feature = "testing")]
    pub fn plant_bug(&mut self, bug: Option<crate::session::PlantedBug>) {
        self.planted = bug;
        if let Some(session) = &mut self.session {
            session.plant_bug(bug);
        }
    }

    /// The permanent key with its current salt and clock offset, once there is one (what
    /// to persist; with PFS it never goes on the wire after its exchange).
    pub fn auth(&self) -> Option<StoredAuth> {
        if self.config.pfs.is_some() {
            let mut perm = self.perm.clone()?;
            if let Some(session) = &self.session {
                perm.time_offset = session.time_offset();
            }
            return Some(perm);
        }
        self.session.as_ref().map(|s| StoredAuth {
            auth_key: s.auth_key().clone(),
            salt: s.salt(),
            time_offset: s.time_offset(),
        })
    }

    /// The key on the wire: the temporary key with PFS, else the permanent key.
    pub fn wire_key_id(&self) -> Option<i64> {
        self.session.as_ref().map(|s| s.auth_key().id())
    }

    /// Whether the session's temporary key is bound (always `false` without PFS).
    pub fn is_bound(&self) -> bool {
        self.config.pfs.is_some()
            && self
                .session
                .as_ref()
                .is_some_and(|s| !s.is_gated() && self.next_temp.is_none())
    }

    /// The encrypted session, once there is a key.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Key exchanges completed by this endpoint.
    pub fn key_exchanges(&self) -> u32 {
        self.key_exchanges
    }

    /// Whether a connection is open.
    pub fn is_connected(&self) -> bool {
        self.link.is_some()
    }

    /// Whether the current connection delivered a valid packet (the edge resets its
    /// reconnection backoff only then).
    pub fn is_healthy(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.healthy)
    }

    /// Whether the next connection will run a key exchange.
    pub fn needs_key(&self) -> bool {
        self.need_key
    }

    /// The longest request body that fits one transport frame once encrypted (auth_key_id,
    /// msg_key, the 32-byte plaintext header and the most padding MTProto allows); a longer
    /// one could never be sent, so callers refuse it up front.
    pub fn max_request_len(&self) -> usize {
        const OVERHEAD: usize = 8 + 16 + 32 + 1024;
        self.config
            .transport_config
            .max_frame_len
            .saturating_sub(OVERHEAD)
    }

    /// Enqueues a serialized request; it is sent as soon as a connection with a key allows.
    pub fn enqueue(&mut self, body: Vec<u8>) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        match &mut self.session {
            Some(session) => session.push_request(id, body),
            None => self.early.push_back((id, body)),
        }
        id
    }

    /// Forgets a request: it is not sent (or resent), and its answer is dropped.
    pub fn cancel(&mut self, id: RequestId) {
        self.early.retain(|(early, _)| *early != id);
        if let Some(session) = &mut self.session {
            session.cancel(id);
        }
    }

    /// Replaces the key on the next connection (after the server said it does not know it,
    /// and the application agreed): unanswered requests move to a session over the new key.
    pub fn replace_key(&mut self) {
        self.need_key = true;
        if self.config.pfs.is_some() {
            // The permanent key is what the server lost: a new one, then a temporary key.
            self.perm = None;
            self.bind_refused = None;
        }
    }

    /// Whether this endpoint recovers from the server's "unknown key" (-404) by itself:
    /// with PFS the lost key is the temporary one, and a new one is made and bound.
    pub fn recovers_unknown_key(&self) -> bool {
        self.config.pfs.is_some()
    }

    /// The key exchange configuration for `kind`.
    fn kex_config(&self, kind: KeyKind) -> KexConfig {
        let mut kex = self.config.kex.clone();
        kex.temp_key_expires_in = match (kind, self.config.pfs) {
            (KeyKind::Temporary, Some(pfs)) => {
                Some(i32::try_from(pfs.temp_key_lifetime.as_secs()).unwrap_or(i32::MAX))
            }
            _ => None,
        };
        kex
    }

    /// Which key the next exchange creates.
    fn next_key_kind(&self) -> KeyKind {
        if self.config.pfs.is_some() && self.perm.is_some() {
            KeyKind::Temporary
        } else {
            KeyKind::Permanent
        }
    }

    /// A new transport connection is open: frames will go to it from now on (the opening
    /// bytes go out with the first packet). Starts a key exchange if one is needed.
    pub fn connect(&mut self, now: Duration) -> Result<(), ConnectionError> {
        self.connection_lost();
        let codec = match &self.config.obfuscation {
            None => Codec::client(self.config.transport, self.config.transport_config.clone()),
            Some(o) => Codec::client_obfuscated(
                self.config.transport,
                o.dc_id,
                o.secret.as_ref(),
                self.config.transport_config.clone(),
                &mut self.rng,
            )?,
        };
        let mut link = Link {
            codec,
            kex: None,
            kex_kind: KeyKind::Permanent,
            plain_out: VecDeque::new(),
            last_received: now,
            healthy: false,
        };
        // A refused bind is tried again with a new temporary key.
        if self.bind_refused.take().is_some() {
            self.need_key = true;
        }
        // A temporary key close to its end is replaced on this connection, before any
        // request goes out over it.
        if let (Some(pfs), Some(expires)) = (self.config.pfs, self.temp_expires_at) {
            if now + pfs.renew_before >= expires {
                self.need_key = true;
            }
        }
        if self.need_key {
            let kind = self.next_key_kind();
            let (step, packet) = kex::start(self.kex_config(kind), now, &mut self.rng);
            link.kex = Some(Kex::ResPq(step));
            link.kex_kind = kind;
            link.plain_out.push_back(packet);
            // With PFS, requests wait for the new temporary key's bind.
            if let (Some(session), Some(_)) = (&mut self.session, self.config.pfs) {
                session.set_gated(true);
            }
        }
        self.link = Some(link);
        if let Some(session) = &mut self.session {
            // Arms the keepalive timer on the first connection; harmless afterwards.
            session.handle_timeout(now);
        }
        Ok(())
    }

    /// The connection is gone (closed by either side, or after an error): every sent and
    /// unanswered request goes back to the queue, for a new msg_id on the next connection.
    pub fn connection_lost(&mut self) {
        if self.link.take().is_some() {
            if let Some(session) = &mut self.session {
                session.connection_lost();
            }
            // A new temporary key waiting for the old one's answers: they are resent anyway.
            if let Some((outcome, _)) = self.next_temp.take() {
                self.install_temp_key(outcome);
            }
            self.drain_session_events();
        }
    }

    /// Bytes from the socket. An error means the connection must be closed.
    pub fn handle_input(&mut self, now: Duration, data: &[u8]) -> Result<(), ConnectionError> {
        let link = self.link.as_mut().ok_or(ConnectionError::NotConnected)?;
        link.codec.handle_input(data);
        let result = self.handle_frames(now);
        self.drain_session_events();
        result
    }

    /// The socket reached its end: whatever complete frames remain are handled, then the
    /// connection is over ([`ConnectionError::Eof`], or the frame error that ended it).
    pub fn handle_eof(&mut self, now: Duration) -> ConnectionError {
        let Some(link) = self.link.as_mut() else {
            return ConnectionError::NotConnected;
        };
        link.codec.handle_eof();
        let result = self.handle_frames(now);
        self.drain_session_events();
        result.err().unwrap_or(ConnectionError::Eof)
    }

    fn handle_frames(&mut self, now: Duration) -> Result<(), ConnectionError> {
        let result = self.handle_frames_inner(now);
        if let Err(error) = &result {
            if error.is_unknown_key() && self.config.pfs.is_some() {
                // The temporary key is gone: a new one on the next connection, bound again;
                // requests wait for it.
                tracing::info!("the server forgot the temporary key: a new one will be bound");
                self.need_key = true;
                self.temp_expires_at = None;
                if let Some(session) = &mut self.session {
                    session.set_gated(true);
                }
            }
        }
        result
    }

    fn handle_frames_inner(&mut self, now: Duration) -> Result<(), ConnectionError> {
        loop {
            if let Some(error) = &self.bind_refused {
                return Err(ConnectionError::BindRefused(error.clone()));
            }
            let link = self.link.as_mut().ok_or(ConnectionError::NotConnected)?;
            let Some(frame) = link.codec.poll_frame()? else {
                return Ok(());
            };
            let Frame::Packet { payload, .. } = frame else {
                continue;
            };
            let unencrypted = payload.len() >= 8 && payload[..8] == [0; 8];
            // During a key exchange, its (unencrypted) packets go to it; encrypted ones still
            // reach the session (a temporary key is replaced while the old one works).
            if link.kex.is_some() && (unencrypted || self.session.is_none() || self.need_key) {
                self.handle_kex_packet(now, &payload)?;
                continue;
            }
            if unencrypted {
                tracing::warn!(
                    len = payload.len(),
                    "ignoring an unencrypted packet in an encrypted session"
                );
                continue;
            }
            let Some(session) = self.session.as_mut() else {
                continue;
            };
            match session.handle_packet(now, &payload) {
                Ok(()) => {
                    link.healthy = true;
                    link.last_received = now;
                    self.drain_session_events();
                    self.maybe_switch_temp_key(now);
                }
                Err(SessionError::Decrypt) => return Err(ConnectionError::Decrypt),
                Err(error) => {
                    tracing::warn!(%error, "a server packet failed a check: closing the connection");
                    return Err(ConnectionError::Security(error));
                }
            }
        }
    }

    fn handle_kex_packet(&mut self, now: Duration, packet: &[u8]) -> Result<(), ConnectionError> {
        let link = self.link.as_mut().ok_or(ConnectionError::NotConnected)?;
        let Some(step) = link.kex.take() else {
            return Ok(());
        };
        link.last_received = now;
        let rng = &mut self.rng;
        let (next, packet) = match step {
            Kex::ResPq(step) => {
                let (next, packet) = step.handle(packet, now, rng)?;
                (Some(Kex::DhParams(next)), Some(packet))
            }
            Kex::DhParams(step) => {
                let (next, packet) = step.handle(packet, now, rng, &mut self.primes)?;
                (Some(Kex::DhGen(Box::new(next))), Some(packet))
            }
            Kex::DhGen(step) => match step.handle(packet, now, rng)? {
                ClientDhGenStep::Retry(next, packet) => {
                    tracing::debug!("dh_gen_retry: sending a new g_b");
                    (Some(Kex::DhGen(next)), Some(packet))
                }
                ClientDhGenStep::Done(outcome) if self.config.pfs.is_some() => {
                    link.healthy = true;
                    let kind = link.kex_kind;
                    link.kex = None;
                    self.key_exchanges += 1;
                    self.pfs_key_created(now, kind, outcome);
                    return Ok(());
                }
                ClientDhGenStep::Done(outcome) => {
                    link.healthy = true;
                    link.kex = None;
                    tracing::info!(auth_key = ?outcome.auth_key, "created a new authorization key");
                    self.move_session_to(outcome);
                    if let Some(session) = &mut self.session {
                        session.handle_timeout(now);
                    }
                    self.need_key = false;
                    self.key_exchanges += 1;
                    self.events.push_back(ClientEvent::KeyCreated);
                    return Ok(());
                }
            },
        };
        link.kex = next;
        if let Some(packet) = packet {
            link.plain_out.push_back(packet);
        }
        Ok(())
    }

    /// With PFS, a key exchange finished: a permanent key is kept (and a temporary one
    /// started at once); a temporary key replaces the session's key and is bound, at once
    /// or once the old key's requests are answered.
    fn pfs_key_created(&mut self, now: Duration, kind: KeyKind, outcome: KeyExchangeOutcome) {
        match kind {
            KeyKind::Permanent => {
                tracing::info!(auth_key = ?outcome.auth_key, "created a new permanent key");
                self.perm = Some(StoredAuth {
                    auth_key: outcome.auth_key,
                    salt: outcome.first_salt,
                    time_offset: outcome.time_offset,
                });
                self.events.push_back(ClientEvent::KeyCreated);
                let (step, packet) =
                    kex::start(self.kex_config(KeyKind::Temporary), now, &mut self.rng);
                if let Some(link) = &mut self.link {
                    link.kex = Some(Kex::ResPq(step));
                    link.kex_kind = KeyKind::Temporary;
                    link.plain_out.push_back(packet);
                }
            }
            KeyKind::Temporary => {
                tracing::debug!(auth_key = ?outcome.auth_key, "created a temporary key");
                self.events.push_back(ClientEvent::TempKeyCreated {
                    key_id: outcome.auth_key.id(),
                });
                // The server counts whole seconds on its own clock, which this side knows to a
                // second or so: the key (and its bind) may end up to two seconds before
                // `now + lifetime` here, so the local deadline keeps that slack.
                let lifetime = self
                    .config
                    .pfs
                    .map_or(Duration::ZERO, |p| p.temp_key_lifetime);
                let slack = Duration::from_secs(2).min(lifetime / 3);
                self.temp_expires_at = Some(now + lifetime - slack);
                let busy = self
                    .session
                    .as_ref()
                    .is_some_and(|s| s.in_flight() > 0 && !self.need_key);
                if busy {
                    // Requests sent over the old key are answered there first.
                    self.next_temp = Some((outcome, now));
                    self.maybe_switch_temp_key(now);
                } else {
                    self.install_temp_key(outcome);
                    if let Some(session) = &mut self.session {
                        session.handle_timeout(now);
                    }
                }
                self.need_key = false;
            }
        }
    }

    /// Moves the session to a new temporary key and starts its bind.
    fn install_temp_key(&mut self, outcome: KeyExchangeOutcome) {
        let Some(perm) = &self.perm else {
            return;
        };
        let plan = BindPlan {
            perm_key: perm.auth_key.clone(),
            nonce: self.rng.next_u64() as i64,
            expires_at: outcome
                .expires_at
                .map_or(i32::MAX, |at| i32::try_from(at).unwrap_or(i32::MAX)),
        };
        self.move_session_to(outcome);
        if let Some(session) = &mut self.session {
            session.start_bind(plan);
        }
    }

    /// Runs the session over a new key (a fresh session id): every unanswered request moves
    /// to it with its `RequestId`; the first session takes the requests made before it.
    fn move_session_to(&mut self, outcome: KeyExchangeOutcome) {
        let session_id = self.rng.next_u64() as i64;
        match &mut self.session {
            Some(session) => session.rekey(
                outcome.auth_key,
                outcome.first_salt,
                outcome.time_offset,
                session_id,
            ),
            None => {
                let mut session = Session::new(
                    self.config.session.clone(),
                    outcome.auth_key,
                    outcome.first_salt,
                    Some(outcome.time_offset),
                    session_id,
                );
                session.set_prologue(self.config.prologue.clone());
                #[cfg(feature = "testing")]
                session.plant_bug(self.planted);
                for (id, body) in self.early.drain(..) {
                    session.push_request(id, body);
                }
                self.session = Some(session);
            }
        }
    }

    /// Switches to the waiting temporary key once the old key's requests are answered (or
    /// the drain timeout passed).
    fn maybe_switch_temp_key(&mut self, now: Duration) {
        let Some((_, since)) = &self.next_temp else {
            return;
        };
        let drain = self.config.pfs.map_or(Duration::ZERO, |p| p.drain_timeout);
        let idle = self.session.as_ref().map_or(true, |s| s.in_flight() == 0);
        if idle || now >= *since + drain {
            if let Some((outcome, _)) = self.next_temp.take() {
                self.install_temp_key(outcome);
                if let Some(session) = &mut self.session {
                    session.handle_timeout(now);
                }
            }
        }
    }

    /// With PFS, starts replacing the temporary key on the current connection when its
    /// renewal time has come.
    fn maybe_renew_temp_key(&mut self, now: Duration) {
        let (Some(pfs), Some(expires)) = (self.config.pfs, self.temp_expires_at) else {
            return;
        };
        if now + pfs.renew_before < expires || self.next_temp.is_some() || self.need_key {
            return;
        }
        if self.link.as_ref().map_or(true, |l| l.kex.is_some()) {
            return;
        }
        tracing::debug!("renewing the temporary key");
        let config = self.kex_config(KeyKind::Temporary);
        let (step, packet) = kex::start(config, now, &mut self.rng);
        let Some(link) = &mut self.link else {
            return;
        };
        link.kex = Some(Kex::ResPq(step));
        link.kex_kind = KeyKind::Temporary;
        link.plain_out.push_back(packet);
        // New requests wait for the new key; those in flight are answered over the old one.
        if let Some(session) = &mut self.session {
            session.set_gated(true);
        }
    }

    /// Appends to `out` the bytes to write to the socket (key-exchange packets, then the
    /// session's packets once the key exists); `Ok(false)` if there was nothing to send.
    pub fn poll_transmit(
        &mut self,
        now: Duration,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConnectionError> {
        let link = self.link.as_mut().ok_or(ConnectionError::NotConnected)?;
        let mut wrote = false;
        while let Some(packet) = link.plain_out.pop_front() {
            link.codec.encode(&packet, &mut self.rng, out)?;
            wrote = true;
        }
        if link.kex.is_none() || !self.need_key {
            if let Some(session) = &mut self.session {
                while let Some(packet) = session.poll_transmit(now, &mut self.rng) {
                    tracing::trace!(len = packet.len(), "sending a packet");
                    link.codec.encode(&packet, &mut self.rng, out)?;
                    wrote = true;
                }
            }
        }
        self.drain_session_events();
        Ok(wrote)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.drain_session_events();
        self.events.pop_front()
    }

    /// When [`ClientEndpoint::handle_timeout`] should be called next: the session's timer
    /// (keepalive, salts) and the idle deadline of the connection.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let session = self.session.as_ref().and_then(Session::poll_timeout);
        let idle = self
            .link
            .as_ref()
            .zip(self.config.idle_timeout)
            .map(|(link, idle)| link.last_received + idle);
        let renew = self
            .config
            .pfs
            .zip(self.temp_expires_at)
            .map(|(pfs, expires)| expires.saturating_sub(pfs.renew_before));
        let drain = self
            .config
            .pfs
            .zip(self.next_temp.as_ref())
            .map(|(pfs, (_, since))| *since + pfs.drain_timeout);
        [session, idle, renew, drain].into_iter().flatten().min()
    }

    /// Runs the timers. An error ([`ConnectionError::Idle`]) means the connection is dead.
    pub fn handle_timeout(&mut self, now: Duration) -> Result<(), ConnectionError> {
        if let Some(session) = &mut self.session {
            session.handle_timeout(now);
        }
        self.maybe_renew_temp_key(now);
        self.maybe_switch_temp_key(now);
        self.drain_session_events();
        match (&self.link, self.config.idle_timeout) {
            (Some(link), Some(idle)) if now >= link.last_received + idle => {
                Err(ConnectionError::Idle(idle))
            }
            _ => Ok(()),
        }
    }

    fn drain_session_events(&mut self) {
        if let Some(session) = &mut self.session {
            while let Some(event) = session.poll_event() {
                if let Event::BindRefused { error } = &event {
                    tracing::warn!(%error, "the server refused to bind the temporary key");
                    self.bind_refused = Some(error.clone());
                }
                self.events.push_back(ClientEvent::Session(event));
            }
        }
    }
}
