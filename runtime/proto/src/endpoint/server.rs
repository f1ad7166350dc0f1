//! The server endpoint: every connection and every authorization key of one server (a DC).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use mtproto_crypto::AuthKey;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;

use super::ConnectionError;
use crate::handshake::server::{
    DhParamsStep, ExpectReqDhParams, ExpectReqPq, ExpectSetClientDhParams, ServerConfig,
    ServerDhGenStep,
};
use crate::session::{RpcError, ServerEvent, ServerSession, SessionConfig, SessionError};
use crate::transport::{
    Codec, Frame, MtProxySecret, Transport, TransportConfig, TransportError, TransportErrorCode,
};

/// What a [`ServerEndpoint`] needs.
#[derive(Debug)]
pub struct ServerEndpointConfig {
    /// The key exchange: RSA keys and the DH group.
    pub kex: ServerConfig,
    /// The sessions' tunables.
    pub session: SessionConfig,
    /// Frame limits.
    pub transport_config: TransportConfig,
    /// Act as an MTProxy endpoint: accept only obfuscated2 keyed with this secret (and only
    /// padded intermediate inside it for a `dd` secret). `None` accepts every transport.
    pub mtproxy_secret: Option<MtProxySecret>,
}

/// Names one accepted connection of a [`ServerEndpoint`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// What the server application (or its edge) must know or act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEndpointEvent {
    /// The transport of a connection was recognized from its first bytes.
    TransportDetected {
        /// The connection.
        conn: ConnectionId,
        /// The framing.
        transport: Transport,
        /// Whether it is wrapped in obfuscated2.
        obfuscated: bool,
        /// The DC id of the obfuscation header (random bytes for some clients).
        dc_id: Option<i16>,
    },
    /// A connection's opening bytes were refused (no known transport, a wrong MTProxy
    /// secret, or a framing the secret does not allow).
    TransportRefused {
        /// The connection.
        conn: ConnectionId,
        /// Why.
        error: TransportError,
    },
    /// A key exchange finished: the key is known from now on.
    KeyCreated {
        /// The connection that ran it.
        conn: ConnectionId,
        /// The new key's id.
        key_id: i64,
        /// The DC the client asked for (`None` for the legacy `p_q_inner_data`).
        dc: Option<i32>,
        /// `Some(seconds)` for a temporary key.
        temp_expires_in: Option<i32>,
    },
    /// A packet under a key the server does not know: transport error -404 was queued and
    /// the connection is over.
    UnknownKey {
        /// The connection.
        conn: ConnectionId,
        /// The unknown key id.
        key_id: i64,
    },
    /// A request to answer with [`ServerEndpoint::respond`].
    Request {
        /// The connection it came on.
        conn: ConnectionId,
        /// The key it came under.
        key_id: i64,
        /// Its message id (the `req_msg_id` of the answer).
        msg_id: i64,
        /// The client session it came in (its `session_id`).
        session_id: i64,
        /// The request's TL body (gzip unpacked).
        body: Vec<u8>,
    },
    /// A client started a new session over a key.
    NewSession {
        /// The key.
        key_id: i64,
        /// The session's id.
        session_id: i64,
    },
    /// The server refused a client message (`bad_msg_notification` with this code, or 48
    /// for `bad_server_salt`).
    Refused {
        /// The key.
        key_id: i64,
        /// The error code.
        code: i32,
    },
}

/// Where the key exchange of one connection is.
#[derive(Debug)]
enum Kex {
    Idle,
    ReqDh(ExpectReqDhParams),
    SetDh(ExpectSetClientDhParams),
}

/// One connection's state.
#[derive(Debug)]
struct Conn {
    codec: Codec,
    kex: Kex,
    /// The key this connection's encrypted packets use.
    key_id: Option<i64>,
    /// Unencrypted key-exchange answers waiting to be framed.
    plain_out: VecDeque<Vec<u8>>,
    /// A transport error to send, after which the connection is over.
    closing: Option<TransportErrorCode>,
    detected: bool,
}

/// One authorization key and its session.
struct KeyEntry {
    auth_key: AuthKey,
    session: ServerSession,
    /// The connection its last authenticated packet came on: the session's output goes
    /// there while it is open (another connection of the same key, such as one its client
    /// is closing, must not take the answers).
    current_conn: Option<ConnectionId>,
}

/// The server side of MTProto, sans-IO, for every connection and key of one DC: transport
/// detection, the server key exchange, and one [`ServerSession`] per key, which outlives
/// connections (a client that reconnects keeps its session). Answers for a key go out on
/// the connection its client used last, or, once that one is closed, on whichever of its
/// connections asks next ([`ServerEndpoint::poll_transmit`]).
///
/// For each connection, an edge calls [`ServerEndpoint::accept`] once, then
/// [`ServerEndpoint::handle_input`] with what it reads and writes what
/// [`ServerEndpoint::poll_transmit`] gives; after an error it writes what is left to write
/// and closes the socket, then calls [`ServerEndpoint::close`].
pub struct ServerEndpoint {
    config: ServerEndpointConfig,
    rng: ChaCha20Rng,
    conns: HashMap<ConnectionId, Conn>,
    next_conn: u64,
    keys: HashMap<i64, KeyEntry>,
    events: VecDeque<ServerEndpointEvent>,
    #[cfg(feature = "testing")]
    tamper: Option<PacketTamper>,
}

/// Changes each encrypted packet a server session sends, before it is framed (feature
/// `testing`: a test server that violates one client check on purpose).
#[cfg(feature = "testing")]
pub type PacketTamper = Box<dyn FnMut(&AuthKey, Vec<u8>) -> Vec<u8> + Send>;

impl std::fmt::Debug for ServerEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEndpoint")
            .field("connections", &self.conns.len())
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl ServerEndpoint {
    /// A server with no connections and no keys; `rng_seed` seeds every random draw.
    pub fn new(config: ServerEndpointConfig, rng_seed: [u8; 32]) -> Self {
        Self {
            config,
            rng: ChaCha20Rng::from_seed(rng_seed),
            conns: HashMap::new(),
            next_conn: 0,
            keys: HashMap::new(),
            events: VecDeque::new(),
            #[cfg(feature = "testing")]
            tamper: None,
        }
    }

    /// Changes the key exchange's deliberate misbehaviour for exchanges from now on (feature
    /// `testing`).
    #[cfg(feature = "testing")]
    pub fn set_quirks(&mut self, quirks: crate::handshake::server::ServerQuirks) {
        self.config.kex.quirks = quirks;
    }

    /// Installs (or with `None` removes) a function that changes every encrypted packet the
    /// sessions send, before framing (feature `testing`).
    #[cfg(feature = "testing")]
    pub fn set_tamper(&mut self, tamper: Option<PacketTamper>) {
        self.tamper = tamper;
    }

    /// A new connection: its transport is detected from its first bytes.
    pub fn accept(&mut self) -> ConnectionId {
        let id = ConnectionId(self.next_conn);
        self.next_conn += 1;
        let codec = match &self.config.mtproxy_secret {
            Some(secret) => {
                Codec::server_with_secret(self.config.transport_config.clone(), secret.clone())
            }
            None => Codec::server(self.config.transport_config.clone()),
        };
        self.conns.insert(
            id,
            Conn {
                codec,
                kex: Kex::Idle,
                key_id: None,
                plain_out: VecDeque::new(),
                closing: None,
                detected: false,
            },
        );
        id
    }

    /// Forgets a closed connection (its key and session stay).
    pub fn close(&mut self, conn: ConnectionId) {
        self.conns.remove(&conn);
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Registers a key as if a key exchange had created it, with `salt` as its salt.
    pub fn add_key(&mut self, auth_key: AuthKey, salt: i64) {
        let session = ServerSession::new(self.config.session.clone(), auth_key.clone(), salt);
        self.keys.insert(
            auth_key.id(),
            KeyEntry {
                auth_key,
                session,
                current_conn: None,
            },
        );
    }

    /// Forgets every key: the next packet under any of them gets transport error -404.
    pub fn forget_keys(&mut self) {
        self.keys.clear();
    }

    /// Forgets one key (an expired temporary key, a destroyed one): the next packet under
    /// it gets transport error -404. `false` if it was not known.
    pub fn forget_key(&mut self, key_id: i64) -> bool {
        self.keys.remove(&key_id).is_some()
    }

    /// Keys known.
    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// Sends an update (a boxed `Updates` object) to the session of a key, on whichever
    /// connection of the key writes next; `false` if the key is gone.
    pub fn push_update(&mut self, key_id: i64, body: Vec<u8>) -> bool {
        match self.keys.get_mut(&key_id) {
            Some(entry) => {
                entry.session.push_update(body);
                true
            }
            None => false,
        }
    }

    /// The key with this id, if known.
    pub fn auth_key(&self, key_id: i64) -> Option<&AuthKey> {
        self.keys.get(&key_id).map(|e| &e.auth_key)
    }

    /// The session of a key, if known (to change its salt, push updates, ...).
    pub fn session_mut(&mut self, key_id: i64) -> Option<&mut ServerSession> {
        self.keys.get_mut(&key_id).map(|e| &mut e.session)
    }

    /// The key a connection's encrypted packets use, once one arrived.
    pub fn key_of(&self, conn: ConnectionId) -> Option<i64> {
        self.conns.get(&conn).and_then(|c| c.key_id)
    }

    /// Answers request `msg_id` of key `key_id`; `false` if the key is gone.
    pub fn respond(&mut self, key_id: i64, msg_id: i64, result: Result<&[u8], &RpcError>) -> bool {
        let Some(entry) = self.keys.get_mut(&key_id) else {
            return false;
        };
        match result {
            Ok(body) => entry.session.respond(msg_id, body),
            Err(error) => entry.session.respond_error(msg_id, error),
        }
        true
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ServerEndpointEvent> {
        self.events.pop_front()
    }

    /// Bytes from connection `conn`. An error means the connection must be closed (after
    /// writing what [`ServerEndpoint::poll_transmit`] still gives, such as a -404).
    ///
    /// The same as [`ServerEndpoint::receive`], then [`ServerEndpoint::next_packet`] and
    /// [`ServerEndpoint::handle_packet`] for each packet (for an edge that looks at packets
    /// before they are handled).
    pub fn handle_input(
        &mut self,
        conn: ConnectionId,
        now: Duration,
        data: &[u8],
    ) -> Result<(), ConnectionError> {
        self.receive(conn, data)?;
        while let Some(packet) = self.next_packet(conn)? {
            self.handle_packet(conn, now, &packet)?;
        }
        Ok(())
    }

    /// Buffers bytes from connection `conn` without handling them.
    pub fn receive(&mut self, conn: ConnectionId, data: &[u8]) -> Result<(), ConnectionError> {
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ConnectionError::NotConnected)?;
        if c.closing.is_some() {
            return Err(ConnectionError::Eof);
        }
        c.codec.handle_input(data);
        Ok(())
    }

    /// The next whole MTProto packet received on `conn` (unencrypted: a key-exchange
    /// message; else an encrypted one, starting with its auth_key_id), not handled yet.
    pub fn next_packet(&mut self, conn: ConnectionId) -> Result<Option<Vec<u8>>, ConnectionError> {
        loop {
            let c = self
                .conns
                .get_mut(&conn)
                .ok_or(ConnectionError::NotConnected)?;
            let frame = match c.codec.poll_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Ok(None),
                Err(error) => {
                    if c.codec.transport().is_none() {
                        self.events
                            .push_back(ServerEndpointEvent::TransportRefused {
                                conn,
                                error: error.clone(),
                            });
                    }
                    return Err(error.into());
                }
            };
            if !c.detected {
                c.detected = true;
                if let Some(transport) = c.codec.transport() {
                    let obfuscated = c.codec.is_obfuscated();
                    self.events
                        .push_back(ServerEndpointEvent::TransportDetected {
                            conn,
                            transport,
                            obfuscated,
                            dc_id: c.codec.dc_id().filter(|_| obfuscated),
                        });
                }
            }
            if let Frame::Packet { payload, .. } = frame {
                return Ok(Some(payload));
            }
        }
    }

    /// Handles one packet of `conn` (from [`ServerEndpoint::next_packet`]).
    pub fn handle_packet(
        &mut self,
        conn: ConnectionId,
        now: Duration,
        packet: &[u8],
    ) -> Result<(), ConnectionError> {
        if packet.len() >= 8 && packet[..8] == [0; 8] {
            self.handle_plain(conn, now, packet)
        } else {
            self.handle_encrypted(conn, now, packet)
        }
    }

    /// One step of the server key exchange.
    fn handle_plain(
        &mut self,
        conn: ConnectionId,
        now: Duration,
        packet: &[u8],
    ) -> Result<(), ConnectionError> {
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ConnectionError::NotConnected)?;
        let config = &self.config.kex;
        let rng = &mut self.rng;
        let (next, answer) = match std::mem::replace(&mut c.kex, Kex::Idle) {
            Kex::Idle => {
                let (step, answer) = ExpectReqPq::new().handle(config, packet, now, rng)?;
                (Kex::ReqDh(step), answer)
            }
            Kex::ReqDh(step) => match step.handle(config, packet, now, rng)? {
                DhParamsStep::Continue(step, answer) => (Kex::SetDh(step), answer),
                DhParamsStep::Refused(answer) => (Kex::Idle, answer),
            },
            Kex::SetDh(step) => match step.handle(config, packet, now)? {
                ServerDhGenStep::Done(outcome, answer) => {
                    let key_id = outcome.auth_key.id();
                    tracing::debug!(auth_key = ?outcome.auth_key, "server: key created");
                    let session = ServerSession::new(
                        self.config.session.clone(),
                        outcome.auth_key.clone(),
                        outcome.first_salt,
                    );
                    self.keys.insert(
                        key_id,
                        KeyEntry {
                            auth_key: outcome.auth_key,
                            session,
                            current_conn: Some(conn),
                        },
                    );
                    self.events.push_back(ServerEndpointEvent::KeyCreated {
                        conn,
                        key_id,
                        dc: outcome.dc,
                        temp_expires_in: outcome.temp_expires_in,
                    });
                    (Kex::Idle, answer)
                }
                ServerDhGenStep::Retry(step, answer) => (Kex::SetDh(step), answer),
                ServerDhGenStep::Failed(answer) => (Kex::Idle, answer),
            },
        };
        c.kex = next;
        c.plain_out.push_back(answer);
        Ok(())
    }

    fn handle_encrypted(
        &mut self,
        conn: ConnectionId,
        now: Duration,
        packet: &[u8],
    ) -> Result<(), ConnectionError> {
        // A packet too short to carry an auth_key_id is malformed.
        let Some(key_id) = packet
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
        else {
            return Err(ConnectionError::ShortPacket { len: packet.len() });
        };
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ConnectionError::NotConnected)?;
        let Some(entry) = self.keys.get_mut(&key_id) else {
            tracing::debug!(
                auth_key_id = format_args!("{key_id:#x}"),
                "server: unknown key, sending -404"
            );
            c.closing = Some(TransportErrorCode::NoSuchKey);
            self.events
                .push_back(ServerEndpointEvent::UnknownKey { conn, key_id });
            return Err(ConnectionError::Transport(TransportError::Server(
                TransportErrorCode::NoSuchKey,
            )));
        };
        c.key_id = Some(key_id);
        match entry.session.handle_packet(now, packet) {
            Ok(()) => {}
            Err(SessionError::Decrypt) => return Err(ConnectionError::Decrypt),
            Err(error) => tracing::debug!(%error, "server: client packet refused"),
        }
        // Authenticated: this is where its client is now.
        entry.current_conn = Some(conn);
        let session_id = entry.session.session_id().unwrap_or(0);
        while let Some(event) = entry.session.poll_event() {
            self.events.push_back(match event {
                ServerEvent::Request { msg_id, body } => ServerEndpointEvent::Request {
                    conn,
                    key_id,
                    msg_id,
                    session_id,
                    body,
                },
                ServerEvent::NewSession { session_id } => {
                    ServerEndpointEvent::NewSession { key_id, session_id }
                }
                ServerEvent::Refused { code } => ServerEndpointEvent::Refused { key_id, code },
            });
        }
        Ok(())
    }

    /// Appends to `out` what connection `conn` should write: key-exchange answers, a
    /// transport error, then whatever the session of its key has to send, if `conn` is the
    /// connection that key's client used last (or that one is closed). `Ok(false)` if there
    /// was nothing.
    pub fn poll_transmit(
        &mut self,
        conn: ConnectionId,
        now: Duration,
        out: &mut Vec<u8>,
    ) -> Result<bool, ConnectionError> {
        let key_id = self
            .conns
            .get(&conn)
            .ok_or(ConnectionError::NotConnected)?
            .key_id;
        let routed_here = key_id.and_then(|k| self.keys.get(&k)).is_some_and(|entry| {
            entry.current_conn.map_or(true, |current| {
                current == conn || !self.conns.contains_key(&current)
            })
        });
        let c = self
            .conns
            .get_mut(&conn)
            .ok_or(ConnectionError::NotConnected)?;
        let mut wrote = false;
        while let Some(packet) = c.plain_out.pop_front() {
            c.codec.encode(&packet, &mut self.rng, out)?;
            wrote = true;
        }
        if let Some(code) = c.closing.take() {
            c.codec.encode_transport_error(code, &mut self.rng, out)?;
            return Ok(true);
        }
        let entry = key_id
            .filter(|_| routed_here)
            .and_then(|k| self.keys.get_mut(&k));
        if let Some(entry) = entry {
            while let Some(packet) = entry.session.poll_transmit(now, &mut self.rng) {
                #[cfg(feature = "testing")]
                let packet = match self.tamper.as_mut() {
                    Some(tamper) => tamper(&entry.auth_key, packet),
                    None => packet,
                };
                c.codec.encode(&packet, &mut self.rng, out)?;
                wrote = true;
            }
        }
        Ok(wrote)
    }
}
