//! The client endpoint: one DC connection (a session over one key), across as many TCP
//! connections as it takes.

use std::collections::VecDeque;
use std::time::Duration;

use super::{ConnectionError, StoredAuth};
use crate::handshake::client::{
    self as kex, ClientConfig as KexConfig, ClientDhGenStep, ExpectDhGenAnswer, ExpectResPq,
    ExpectServerDhParams,
};
use crate::session::{Event, RequestId, Session, SessionConfig, SessionError};
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
}

/// Something the application (or the edge) should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// A key exchange finished and the session now runs over the new key: persist
    /// [`ClientEndpoint::auth`].
    KeyCreated,
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

/// The current TCP connection's protocol state.
#[derive(Debug)]
struct Link {
    codec: Codec,
    kex: Option<Kex>,
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
        let session = auth.map(|auth| {
            Session::new(
                config.session.clone(),
                auth.auth_key,
                auth.salt,
                Some(auth.time_offset),
                rng.next_u64() as i64,
            )
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
        }
    }

    /// The key with its current salt and clock offset, once there is one.
    pub fn auth(&self) -> Option<StoredAuth> {
        self.session.as_ref().map(|s| StoredAuth {
            auth_key: s.auth_key().clone(),
            salt: s.salt(),
            time_offset: s.time_offset(),
        })
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
            plain_out: VecDeque::new(),
            last_received: now,
            healthy: false,
        };
        if self.need_key {
            let (step, packet) = kex::start(self.config.kex.clone(), now, &mut self.rng);
            link.kex = Some(Kex::ResPq(step));
            link.plain_out.push_back(packet);
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
        loop {
            let link = self.link.as_mut().ok_or(ConnectionError::NotConnected)?;
            let Some(frame) = link.codec.poll_frame()? else {
                return Ok(());
            };
            let Frame::Packet { payload, .. } = frame else {
                continue;
            };
            if link.kex.is_some() {
                self.handle_kex_packet(now, &payload)?;
                continue;
            }
            if payload.len() >= 8 && payload[..8] == [0; 8] {
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
                ClientDhGenStep::Done(outcome) => {
                    link.healthy = true;
                    let session_id = rng.next_u64() as i64;
                    tracing::info!(auth_key = ?outcome.auth_key, "created a new authorization key");
                    match &mut self.session {
                        // Every unanswered request moves to the new key's session with its
                        // RequestId.
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
                            for (id, body) in self.early.drain(..) {
                                session.push_request(id, body);
                            }
                            self.session = Some(session);
                        }
                    }
                    if let Some(session) = &mut self.session {
                        session.handle_timeout(now);
                    }
                    self.need_key = false;
                    self.key_exchanges += 1;
                    self.events.push_back(ClientEvent::KeyCreated);
                    (None, None)
                }
            },
        };
        link.kex = next;
        if let Some(packet) = packet {
            link.plain_out.push_back(packet);
        }
        Ok(())
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
        if link.kex.is_none() {
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
        match (session, idle) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the timers. An error ([`ConnectionError::Idle`]) means the connection is dead.
    pub fn handle_timeout(&mut self, now: Duration) -> Result<(), ConnectionError> {
        if let Some(session) = &mut self.session {
            session.handle_timeout(now);
        }
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
                self.events.push_back(ClientEvent::Session(event));
            }
        }
    }
}
