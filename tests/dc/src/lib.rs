//! A loopback MTProto server **for tests** (and the base of the future test DC): it accepts
//! TCP connections on 127.0.0.1, detects the client's transport, runs the server side of the
//! key exchange, keeps `auth_key_id → (key, ServerSession)` across connections (so a client
//! that reconnects keeps its session), and answers requests with a [`Handler`].
//!
//! It is deliberately simple and trusting: one lock around all state, no limits on clients,
//! keys kept in memory. [`Knobs`] make it misbehave on purpose; [`Stats`] count what it saw
//! and what it sent (outgoing packets are decrypted again to count `bad_server_salt` and
//! `bad_msg_notification`, so the counts are what went on the wire).
//!
//! ```no_run
//! # async fn demo(keys: Vec<mtproto_crypto::RsaPrivateKey>) -> std::io::Result<()> {
//! use test_dc::{echo, TestServer, TestServerConfig};
//! let (addr, server) = TestServer::bind(TestServerConfig::new(keys, echo())).await?;
//! // ... connect a client to `addr` ...
//! server.update_knobs(|k| k.drop_on_request = Some(2));
//! assert_eq!(server.stats().key_exchanges, 0);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mtproto_crypto::message::decrypt_v2_message;
use mtproto_crypto::{AuthKey, DhParams, Direction, RsaPrivateKey};
use mtproto_proto::handshake::server::{
    self as kex, DhParamsStep, ExpectReqDhParams, ExpectReqPq, ExpectSetClientDhParams,
    ServerConfig, ServerQuirks,
};
use mtproto_proto::schema::{enums, functions, types};
use mtproto_proto::session::wire::{self, Message};
use mtproto_proto::session::{RpcError, ServerEvent, ServerSession, SessionConfig};
use mtproto_proto::transport::{
    Codec, Frame, MtProxySecret, Transport, TransportConfig, TransportErrorCode,
};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tl_wire::{Deserialize, Identifiable};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The server's clock: time since the Unix epoch.
fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

/// Answers a request body: called once per request received (resent copies included).
pub type Handler = Arc<dyn Fn(&[u8]) -> Reply + Send + Sync>;

/// What the [`Handler`] wants sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this result object.
    Ok(Vec<u8>),
    /// Answer with an RPC error.
    Error(RpcError),
    /// Answer after a delay (on whichever connection of the key is up then).
    Delayed(Duration, Result<Vec<u8>, RpcError>),
    /// Never answer.
    Never,
}

/// A handler that answers every request with its own body.
pub fn echo() -> Handler {
    Arc::new(|body: &[u8]| Reply::Ok(body.to_vec()))
}

/// What the server needs.
#[derive(Clone)]
pub struct TestServerConfig {
    /// The server's RSA keys (clients must trust one of their public halves).
    pub keys: Vec<RsaPrivateKey>,
    /// The session tunables of the server side.
    pub session: SessionConfig,
    /// Key-exchange misbehaviour (see `ServerQuirks`); `Default` is a correct server.
    pub quirks: ServerQuirks,
    /// Answers requests.
    pub handler: Handler,
    /// Act as an MTProxy endpoint: accept only obfuscated2 keyed with this secret (and, for
    /// a `dd` secret, only padded intermediate inside it). A client that speaks a plain
    /// transport, another secret, or another framing is disconnected at once and counted in
    /// [`Stats::refused_transports`]. `None` (the default) accepts every transport, and
    /// obfuscated2 only without a secret.
    pub mtproxy_secret: Option<MtProxySecret>,
}

impl TestServerConfig {
    /// A correct server with the default session tunables.
    pub fn new(keys: Vec<RsaPrivateKey>, handler: Handler) -> Self {
        Self {
            keys,
            session: SessionConfig::default(),
            quirks: ServerQuirks::default(),
            handler,
            mtproxy_secret: None,
        }
    }
}

/// Deliberate misbehaviour, changed at any time with [`TestServerHandle::update_knobs`].
///
/// "Carries a request" means a client packet with a content-related message that is not a
/// service call (ping, `get_future_salts`, `destroy_session`, acks and state messages); the
/// server decrypts a copy of each client packet to tell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Knobs {
    /// When the `n`th request (counted over the server's life, see [`Stats::requests`])
    /// arrives, close its connection without answering it. Fires once, then resets to
    /// `None`.
    pub drop_on_request: Option<u64>,
    /// Before handling the next packet that carries a request, switch that key's salt to
    /// this value, so the packet gets `bad_server_salt`. Fires once.
    pub rotate_salt_on_next_request: Option<i64>,
    /// Before handling the next packet that carries a request, set
    /// [`Knobs::clock_offset`] to this value. Fires once.
    pub clock_offset_on_next_request: Option<i64>,
    /// Seconds added to the server's clock in encrypted sessions (its msg_ids and its
    /// time-window check; not the key exchange). A client more than 300 s behind gets
    /// `bad_msg_notification` 16, more than 30 s ahead 17.
    pub clock_offset: i64,
    /// While set, encrypted sessions send nothing: packets are still read and handled
    /// (requests are answered), but what the session has to send is discarded. A dead
    /// network path, as the client sees it.
    pub silent: bool,
    /// While set, every new connection is closed as soon as it is accepted.
    pub close_on_accept: bool,
}

/// What the server saw and sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// The transport each connection spoke, in order: (framing, obfuscated).
    pub transports: Vec<(Transport, bool)>,
    /// The DC id of each obfuscated connection's header, in order.
    pub obfuscated_dc_ids: Vec<i16>,
    /// Connections closed because their transport was refused (no supported transport, a
    /// wrong MTProxy secret, or a framing the secret does not allow), with the reason.
    pub refused_transports: Vec<String>,
    /// Key exchanges completed.
    pub key_exchanges: u64,
    /// Requests received (every copy of a resent request counts).
    pub requests: u64,
    /// Requests received, by body.
    pub received: HashMap<Vec<u8>, u64>,
    /// Requests answered (result or error), by body.
    pub answered: HashMap<Vec<u8>, u64>,
    /// Client packets that were a `msg_container`.
    pub containers: u64,
    /// `bad_server_salt` messages sent.
    pub bad_server_salts: u64,
    /// `bad_msg_notification` messages sent, by error code.
    pub bad_msg_notifications: BTreeMap<i32, u64>,
    /// Transport errors -404 sent (packet under an unknown key).
    pub unknown_key_errors: u64,
    /// Connections closed by [`Knobs::drop_on_request`] or [`Knobs::close_on_accept`].
    pub dropped_connections: u64,
    /// `ping` / `ping_delay_disconnect` messages received.
    pub pings: u64,
    /// Server packets discarded because of [`Knobs::silent`].
    pub swallowed_packets: u64,
}

impl Stats {
    /// How many times a request with this body arrived.
    pub fn received(&self, body: &[u8]) -> u64 {
        self.received.get(body).copied().unwrap_or(0)
    }

    /// How many times a request with this body was answered.
    pub fn answered(&self, body: &[u8]) -> u64 {
        self.answered.get(body).copied().unwrap_or(0)
    }
}

/// The loopback server (see the [module docs](self)).
#[derive(Debug)]
pub struct TestServer;

impl TestServer {
    /// Listens on 127.0.0.1 on a free port and serves connections on the current tokio
    /// runtime until the handle is dropped.
    pub async fn bind(config: TestServerConfig) -> io::Result<(SocketAddr, TestServerHandle)> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            kex: ServerConfig {
                keys: config.keys,
                dh: DhParams::telegram(),
                quirks: config.quirks,
            },
            session: config.session,
            handler: config.handler,
            mtproxy_secret: config.mtproxy_secret,
            state: Mutex::new(State::default()),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok((addr, TestServerHandle { shared, task }))
    }
}

/// Controls a running [`TestServer`]; dropping it stops the server and its connections.
pub struct TestServerHandle {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for TestServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServerHandle").finish_non_exhaustive()
    }
}

impl TestServerHandle {
    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.shared.lock().stats.clone()
    }

    /// A copy of the knobs.
    pub fn knobs(&self) -> Knobs {
        self.shared.lock().knobs.clone()
    }

    /// Changes the knobs.
    pub fn update_knobs(&self, change: impl FnOnce(&mut Knobs)) {
        change(&mut self.shared.lock().knobs);
    }

    /// Registers a key as if a key exchange had created it, with `salt` as its salt (tests
    /// that are not about the key exchange skip it this way).
    pub fn add_key(&self, auth_key: AuthKey, salt: i64) {
        let session = ServerSession::new(self.shared.session.clone(), auth_key.clone(), salt);
        self.shared
            .lock()
            .keys
            .insert(auth_key.id(), KeyEntry { auth_key, session });
    }

    /// Forgets every key: the next packet under any of them gets transport error -404.
    pub fn forget_keys(&self) {
        self.shared.lock().keys.clear();
    }

    /// The salt the server expects with this key, if it knows the key.
    pub fn salt(&self, auth_key_id: i64) -> Option<i64> {
        self.shared
            .lock()
            .keys
            .get(&auth_key_id)
            .map(|e| e.session.salt())
    }
}

impl Drop for TestServerHandle {
    fn drop(&mut self) {
        // The accept task owns the connections' JoinSet: aborting it ends them too.
        self.task.abort();
    }
}

struct Shared {
    kex: ServerConfig,
    session: SessionConfig,
    handler: Handler,
    mtproxy_secret: Option<MtProxySecret>,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct State {
    keys: HashMap<i64, KeyEntry>,
    knobs: Knobs,
    stats: Stats,
}

struct KeyEntry {
    auth_key: AuthKey,
    session: ServerSession,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, "test server: connection accepted");
                    let close = {
                        let mut state = shared.lock();
                        state.stats.connections += 1;
                        state.stats.dropped_connections += u64::from(state.knobs.close_on_accept);
                        state.knobs.close_on_accept
                    };
                    // Dropping the stream closes the connection.
                    if !close {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve(shared.clone(), stream));
                    }
                }
                Err(error) => tracing::warn!(%error, "test server: accept failed"),
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// Where the key exchange of one connection is.
enum Kex {
    Idle,
    ReqDh(ExpectReqDhParams),
    SetDh(ExpectSetClientDhParams),
}

/// One connection's state.
struct Conn {
    shared: Arc<Shared>,
    codec: Codec,
    rng: StdRng,
    kex: Kex,
    /// The key this connection's encrypted packets use.
    key_id: Option<i64>,
    recorded_transport: bool,
    wake: mpsc::UnboundedSender<()>,
    out: Vec<u8>,
}

/// What to do after a packet.
#[derive(PartialEq, Eq)]
enum Next {
    Continue,
    Close,
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream) {
    let (wake, mut woken) = mpsc::unbounded_channel();
    let codec = match &shared.mtproxy_secret {
        Some(secret) => Codec::server_with_secret(TransportConfig::for_server(), secret.clone()),
        None => Codec::server(TransportConfig::for_server()),
    };
    let mut conn = Conn {
        shared,
        codec,
        rng: StdRng::from_entropy(),
        kex: Kex::Idle,
        key_id: None,
        recorded_transport: false,
        wake,
        out: Vec::new(),
    };
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let mut next = Next::Continue;
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    conn.codec.handle_input(&buf[..n]);
                    next = conn.handle_frames();
                }
            },
            Some(()) = woken.recv() => {}
        }
        // A connection closed on purpose sends only what is already framed (a -404).
        if next == Next::Continue {
            conn.flush();
        }
        if !conn.out.is_empty() {
            let written = stream.write_all(&conn.out).await;
            conn.out.clear();
            if written.is_err() {
                return;
            }
        }
        if next == Next::Close {
            return;
        }
    }
}

impl Conn {
    fn handle_frames(&mut self) -> Next {
        loop {
            let frame = match self.codec.poll_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => return Next::Continue,
                Err(error) => {
                    tracing::debug!(%error, "test server: transport error, closing");
                    if self.codec.transport().is_none() {
                        // The client's opening bytes were refused.
                        self.shared
                            .lock()
                            .stats
                            .refused_transports
                            .push(error.to_string());
                    }
                    return Next::Close;
                }
            };
            if !self.recorded_transport {
                self.recorded_transport = true;
                if let Some(transport) = self.codec.transport() {
                    let obfuscated = self.codec.is_obfuscated();
                    let mut state = self.shared.lock();
                    state.stats.transports.push((transport, obfuscated));
                    if let Some(dc_id) = self.codec.dc_id().filter(|_| obfuscated) {
                        state.stats.obfuscated_dc_ids.push(dc_id);
                    }
                }
            }
            let Frame::Packet { payload, .. } = frame else {
                continue;
            };
            let next = if payload.len() >= 8 && payload[..8] == [0; 8] {
                self.handle_plain(&payload)
            } else {
                self.handle_encrypted(&payload)
            };
            if next == Next::Close {
                return Next::Close;
            }
        }
    }

    /// One step of the server key exchange.
    fn handle_plain(&mut self, packet: &[u8]) -> Next {
        let now = unix_now();
        let config = &self.shared.kex;
        let (next, answer) = match std::mem::replace(&mut self.kex, Kex::Idle) {
            Kex::Idle => match ExpectReqPq::new().handle(config, packet, now, &mut self.rng) {
                Ok((step, answer)) => (Kex::ReqDh(step), answer),
                Err(error) => return kex_failed(error),
            },
            Kex::ReqDh(step) => match step.handle(config, packet, now, &mut self.rng) {
                Ok(DhParamsStep::Continue(step, answer)) => (Kex::SetDh(step), answer),
                Ok(DhParamsStep::Refused(answer)) => (Kex::Idle, answer),
                Err(error) => return kex_failed(error),
            },
            Kex::SetDh(step) => match step.handle(config, packet, now) {
                Ok(kex::DhGenStep::Done(outcome, answer)) => {
                    let session = ServerSession::new(
                        self.shared.session.clone(),
                        outcome.auth_key.clone(),
                        outcome.first_salt,
                    );
                    tracing::debug!(auth_key = ?outcome.auth_key, "test server: key created");
                    let mut state = self.shared.lock();
                    state.stats.key_exchanges += 1;
                    state.keys.insert(
                        outcome.auth_key.id(),
                        KeyEntry {
                            auth_key: outcome.auth_key,
                            session,
                        },
                    );
                    (Kex::Idle, answer)
                }
                Ok(kex::DhGenStep::Retry(step, answer)) => (Kex::SetDh(step), answer),
                Ok(kex::DhGenStep::Failed(answer)) => (Kex::Idle, answer),
                Err(error) => return kex_failed(error),
            },
        };
        self.kex = next;
        self.send(&answer);
        Next::Continue
    }

    fn handle_encrypted(&mut self, packet: &[u8]) -> Next {
        // A packet too short to carry an auth_key_id is malformed: drop the connection.
        let Some(key_id) = packet
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
        else {
            return Next::Close;
        };
        let shared = self.shared.clone();
        let mut requests = Vec::new();
        {
            let mut guard = shared.lock();
            let state = &mut *guard;
            let Some(entry) = state.keys.get_mut(&key_id) else {
                drop(guard);
                return self.unknown_key(key_id);
            };
            self.key_id = Some(key_id);
            let peek = peek_client_packet(&entry.auth_key, packet);
            if peek.container {
                state.stats.containers += 1;
            }
            state.stats.pings += peek.pings;
            if peek.carries_request {
                if let Some(salt) = state.knobs.rotate_salt_on_next_request.take() {
                    entry.session.set_salt(salt);
                }
                if let Some(offset) = state.knobs.clock_offset_on_next_request.take() {
                    state.knobs.clock_offset = offset;
                }
            }
            let now = offset_now(state.knobs.clock_offset);
            if let Err(error) = entry.session.handle_packet(now, packet) {
                tracing::debug!(%error, "test server: client packet refused");
                if error == mtproto_proto::session::SessionError::Decrypt {
                    return Next::Close;
                }
            }
            while let Some(event) = entry.session.poll_event() {
                let ServerEvent::Request { msg_id, body } = event else {
                    continue;
                };
                state.stats.requests += 1;
                *state.stats.received.entry(body.clone()).or_default() += 1;
                if state.knobs.drop_on_request == Some(state.stats.requests) {
                    state.knobs.drop_on_request = None;
                    state.stats.dropped_connections += 1;
                    tracing::debug!(msg_id, "test server: dropping the connection (knob)");
                    return Next::Close;
                }
                requests.push((msg_id, body));
            }
        }
        // The handler runs without the lock held.
        for (msg_id, body) in requests {
            let reply = (self.shared.handler)(&body);
            match reply {
                Reply::Ok(result) => respond(&self.shared, key_id, msg_id, &body, Ok(result)),
                Reply::Error(error) => respond(&self.shared, key_id, msg_id, &body, Err(error)),
                Reply::Delayed(delay, result) => {
                    let shared = self.shared.clone();
                    let wake = self.wake.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        respond(&shared, key_id, msg_id, &body, result);
                        let _ = wake.send(());
                    });
                }
                Reply::Never => {}
            }
        }
        Next::Continue
    }

    fn unknown_key(&mut self, key_id: i64) -> Next {
        tracing::debug!(
            auth_key_id = format_args!("{key_id:#x}"),
            "test server: unknown key, sending -404"
        );
        self.shared.lock().stats.unknown_key_errors += 1;
        let _ = self.codec.encode_transport_error(
            TransportErrorCode::NoSuchKey,
            &mut self.rng,
            &mut self.out,
        );
        Next::Close
    }

    /// Frames a packet into the output buffer.
    fn send(&mut self, packet: &[u8]) {
        if let Err(error) = self.codec.encode(packet, &mut self.rng, &mut self.out) {
            tracing::warn!(%error, "test server: cannot frame a packet");
        }
    }

    /// Moves everything the session of this connection's key has to send into the output.
    fn flush(&mut self) {
        let Some(key_id) = self.key_id else {
            return;
        };
        let shared = self.shared.clone();
        let mut packets = Vec::new();
        {
            let mut guard = shared.lock();
            let state = &mut *guard;
            let Some(entry) = state.keys.get_mut(&key_id) else {
                return;
            };
            let now = offset_now(state.knobs.clock_offset);
            while let Some(packet) = entry.session.poll_transmit(now, &mut self.rng) {
                if state.knobs.silent {
                    state.stats.swallowed_packets += 1;
                    continue;
                }
                count_server_packet(&entry.auth_key, &packet, &mut state.stats);
                packets.push(packet);
            }
        }
        for packet in packets {
            self.send(&packet);
        }
    }
}

fn kex_failed(error: mtproto_proto::handshake::KexError) -> Next {
    tracing::debug!(%error, "test server: key exchange failed, closing");
    Next::Close
}

fn respond(
    shared: &Shared,
    key_id: i64,
    msg_id: i64,
    body: &[u8],
    result: Result<Vec<u8>, RpcError>,
) {
    let mut guard = shared.lock();
    let state = &mut *guard;
    let Some(entry) = state.keys.get_mut(&key_id) else {
        return;
    };
    match result {
        Ok(result) => entry.session.respond(msg_id, &result),
        Err(error) => entry.session.respond_error(msg_id, &error),
    }
    *state.stats.answered.entry(body.to_vec()).or_default() += 1;
}

fn offset_now(offset: i64) -> Duration {
    let now = unix_now();
    if offset >= 0 {
        now + Duration::from_secs(offset.unsigned_abs())
    } else {
        now.saturating_sub(Duration::from_secs(offset.unsigned_abs()))
    }
}

/// What a copy of a client packet shows.
#[derive(Default)]
struct Peek {
    container: bool,
    carries_request: bool,
    pings: u64,
}

fn peek_client_packet(key: &AuthKey, packet: &[u8]) -> Peek {
    let Ok(msg) = decrypt_v2_message(key, Direction::ClientToServer, packet) else {
        return Peek::default();
    };
    let top = Message {
        msg_id: msg.msg_id,
        seq_no: msg.seq_no,
        body: msg.body,
    };
    let container = wire::peek_id(&top.body) == Some(wire::MSG_CONTAINER_ID);
    let messages = if container {
        wire::parse_container(&top.body).unwrap_or_default()
    } else {
        vec![top]
    };
    let carries_request = messages
        .iter()
        .any(|m| m.is_content_related() && !is_service(wire::peek_id(&m.body)));
    let pings = messages
        .iter()
        .filter(|m| {
            matches!(
                wire::peek_id(&m.body),
                Some(
                    functions::Ping::CONSTRUCTOR_ID
                        | functions::PingDelayDisconnect::CONSTRUCTOR_ID
                )
            )
        })
        .count() as u64;
    Peek {
        container,
        carries_request,
        pings,
    }
}

fn is_service(id: Option<u32>) -> bool {
    matches!(
        id,
        Some(
            functions::Ping::CONSTRUCTOR_ID
                | functions::PingDelayDisconnect::CONSTRUCTOR_ID
                | functions::GetFutureSalts::CONSTRUCTOR_ID
                | functions::DestroySession::CONSTRUCTOR_ID
                | types::MsgsAck::CONSTRUCTOR_ID
                | types::MsgsStateReq::CONSTRUCTOR_ID
                | types::MsgResendReq::CONSTRUCTOR_ID
                | types::MsgsStateInfo::CONSTRUCTOR_ID
                | types::MsgsAllInfo::CONSTRUCTOR_ID
        ) | None
    )
}

/// Counts the notifications in a server packet (decrypting a copy).
fn count_server_packet(key: &AuthKey, packet: &[u8], stats: &mut Stats) {
    let Ok(msg) = decrypt_v2_message(key, Direction::ServerToClient, packet) else {
        return;
    };
    let bodies = if wire::peek_id(&msg.body) == Some(wire::MSG_CONTAINER_ID) {
        wire::parse_container(&msg.body)
            .map(|messages| messages.into_iter().map(|m| m.body).collect())
            .unwrap_or_default()
    } else {
        vec![msg.body]
    };
    for body in bodies {
        match enums::BadMsgNotification::from_bytes(&body) {
            Ok(enums::BadMsgNotification::BadServerSalt(_)) => stats.bad_server_salts += 1,
            Ok(enums::BadMsgNotification::BadMsgNotification(bad)) => {
                *stats
                    .bad_msg_notifications
                    .entry(bad.error_code)
                    .or_default() += 1;
            }
            Err(_) => {}
        }
    }
}
