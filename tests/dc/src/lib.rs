//! A loopback MTProto server **for tests** (and the base of the future test DC): the tokio
//! edge of `mtproto_proto::endpoint::ServerEndpoint`, which does everything MTProto (transport
//! detection, the server key exchange, one session per key across connections). This crate
//! accepts TCP connections on 127.0.0.1, moves bytes and time, and answers requests with a
//! [`Handler`].
//!
//! It is deliberately simple and trusting: one lock around all state, no limits on clients,
//! keys kept in memory. [`Knobs`] make it misbehave on purpose; [`Stats`] count what it saw
//! and what it refused.
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
use mtproto_proto::endpoint::{
    ConnectionId, ServerEndpoint, ServerEndpointConfig, ServerEndpointEvent,
};
use mtproto_proto::handshake::server::{ServerConfig, ServerQuirks};
use mtproto_proto::schema::{functions, types};
use mtproto_proto::session::wire::{self, Message};
use mtproto_proto::session::{RpcError, SessionConfig};
use mtproto_proto::transport::{MtProxySecret, Transport, TransportConfig};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tl_wire::Identifiable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

/// The RSA key of the test server (2048 bits, made for these tests; never use it elsewhere):
/// clients of the test server trust its public half.
pub fn test_server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(TEST_SERVER_KEY_PEM).expect("the bundled test key parses")
}

/// [`test_server_key`] as PKCS#1 PEM (for clients in other languages).
pub const TEST_SERVER_KEY_PEM: &str = include_str!("test_server_key.pem");

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The server's clock: time since the Unix epoch (also what fake backends date things with).
pub fn unix_now() -> Duration {
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
    /// Seconds added to the server's clock (its msg_ids and its time-window check; the key
    /// exchange's `server_time` too). A client more than 300 s behind gets
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
    /// Server writes discarded because of [`Knobs::silent`].
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
        let mut kex = ServerConfig::new(config.keys, DhParams::telegram());
        kex.quirks = config.quirks;
        let mut seed = [0u8; 32];
        StdRng::from_entropy().fill_bytes(&mut seed);
        let endpoint = ServerEndpoint::new(
            ServerEndpointConfig {
                kex,
                session: config.session,
                transport_config: TransportConfig::for_server(),
                mtproxy_secret: config.mtproxy_secret,
            },
            seed,
        );
        let shared = Arc::new(Shared {
            handler: config.handler,
            state: Mutex::new(State {
                endpoint,
                knobs: Knobs::default(),
                stats: Stats::default(),
                wakers: HashMap::new(),
            }),
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
        self.shared.lock().endpoint.add_key(auth_key, salt);
    }

    /// Forgets every key: the next packet under any of them gets transport error -404.
    pub fn forget_keys(&self) {
        self.shared.lock().endpoint.forget_keys();
    }

    /// The salt the server expects with this key, if it knows the key.
    pub fn salt(&self, auth_key_id: i64) -> Option<i64> {
        self.shared
            .lock()
            .endpoint
            .session_mut(auth_key_id)
            .map(|s| s.salt())
    }
}

impl Drop for TestServerHandle {
    fn drop(&mut self) {
        // The accept task owns the connections' JoinSet: aborting it ends them too.
        self.task.abort();
    }
}

struct Shared {
    handler: Handler,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

struct State {
    endpoint: ServerEndpoint,
    knobs: Knobs,
    stats: Stats,
    /// Wakes a connection's task when an answer for it is ready (delayed replies).
    wakers: HashMap<ConnectionId, mpsc::UnboundedSender<()>>,
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

/// What to do after handling input.
#[derive(PartialEq, Eq)]
enum Next {
    Continue,
    /// Write what is pending, then close.
    Close,
    /// Close without writing anything more.
    Drop,
}

async fn serve(shared: Arc<Shared>, mut stream: TcpStream) {
    let (wake, mut woken) = mpsc::unbounded_channel();
    let conn = {
        let mut state = shared.lock();
        let conn = state.endpoint.accept();
        state.wakers.insert(conn, wake);
        conn
    };
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let mut next = Next::Continue;
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => next = handle_input(&shared, conn, &buf[..n]),
            },
            Some(()) = woken.recv() => {}
        }
        if next == Next::Drop {
            break;
        }
        let out = transmit(&shared, conn);
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            break;
        }
        if next == Next::Close {
            break;
        }
    }
    let mut state = shared.lock();
    state.endpoint.close(conn);
    state.wakers.remove(&conn);
}

/// Feeds bytes to the endpoint packet by packet (the knobs act between packets), then runs
/// the handler for the requests that came.
fn handle_input(shared: &Arc<Shared>, conn: ConnectionId, data: &[u8]) -> Next {
    let mut requests = Vec::new();
    let next = {
        let mut guard = shared.lock();
        let state = &mut *guard;
        let mut next = match state.endpoint.receive(conn, data) {
            Ok(()) => Next::Continue,
            Err(_) => Next::Close,
        };
        while next == Next::Continue {
            let packet = match state.endpoint.next_packet(conn) {
                Ok(Some(packet)) => packet,
                Ok(None) => break,
                Err(error) => {
                    tracing::debug!(%error, "test server: transport error, closing");
                    next = Next::Close;
                    break;
                }
            };
            apply_knobs(state, &packet);
            let now = offset_now(state.knobs.clock_offset);
            if let Err(error) = state.endpoint.handle_packet(conn, now, &packet) {
                tracing::debug!(%error, "test server: closing the connection");
                next = Next::Close;
            }
            next = match route_events(state, &mut requests) {
                Next::Continue => next,
                other => other,
            };
        }
        // Events of a connection that failed (a refused transport, say) count too.
        match route_events(state, &mut requests) {
            Next::Continue => next,
            other => other,
        }
    };
    // The handler runs without the lock held.
    for (key_id, msg_id, body) in requests {
        let reply = (shared.handler)(&body);
        match reply {
            Reply::Ok(result) => respond(shared, key_id, msg_id, &body, Ok(result)),
            Reply::Error(error) => respond(shared, key_id, msg_id, &body, Err(error)),
            Reply::Delayed(delay, result) => {
                let shared = shared.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    respond(&shared, key_id, msg_id, &body, result);
                    // The answer goes out on whichever connection of the key is up.
                    let state = shared.lock();
                    for wake in state.wakers.values() {
                        let _ = wake.send(());
                    }
                });
            }
            Reply::Never => {}
        }
    }
    next
}

/// Before an encrypted packet that carries a request is handled: the knobs that fire then.
fn apply_knobs(state: &mut State, packet: &[u8]) {
    let Some(key_id) = packet
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_le_bytes)
        .filter(|id| *id != 0)
    else {
        return;
    };
    let Some(key) = state.endpoint.auth_key(key_id) else {
        return;
    };
    let peek = peek_client_packet(key, packet);
    if peek.container {
        state.stats.containers += 1;
    }
    state.stats.pings += peek.pings;
    if peek.carries_request {
        if let Some(salt) = state.knobs.rotate_salt_on_next_request.take() {
            if let Some(session) = state.endpoint.session_mut(key_id) {
                session.set_salt(salt);
            }
        }
        if let Some(offset) = state.knobs.clock_offset_on_next_request.take() {
            state.knobs.clock_offset = offset;
        }
    }
}

/// Counts what the endpoint reports and collects the requests to answer.
fn route_events(state: &mut State, requests: &mut Vec<(i64, i64, Vec<u8>)>) -> Next {
    let mut next = Next::Continue;
    while let Some(event) = state.endpoint.poll_event() {
        match event {
            ServerEndpointEvent::TransportDetected {
                transport,
                obfuscated,
                dc_id,
                ..
            } => {
                state.stats.transports.push((transport, obfuscated));
                if let Some(dc_id) = dc_id {
                    state.stats.obfuscated_dc_ids.push(dc_id);
                }
            }
            ServerEndpointEvent::TransportRefused { error, .. } => {
                state.stats.refused_transports.push(error.to_string());
            }
            ServerEndpointEvent::KeyCreated { .. } => state.stats.key_exchanges += 1,
            ServerEndpointEvent::UnknownKey { .. } => state.stats.unknown_key_errors += 1,
            ServerEndpointEvent::Refused { code: 48, .. } => state.stats.bad_server_salts += 1,
            ServerEndpointEvent::Refused { code, .. } => {
                *state.stats.bad_msg_notifications.entry(code).or_default() += 1;
            }
            ServerEndpointEvent::NewSession { .. } => {}
            ServerEndpointEvent::Request {
                key_id,
                msg_id,
                body,
                ..
            } => {
                state.stats.requests += 1;
                *state.stats.received.entry(body.clone()).or_default() += 1;
                if state.knobs.drop_on_request == Some(state.stats.requests) {
                    state.knobs.drop_on_request = None;
                    state.stats.dropped_connections += 1;
                    tracing::debug!(msg_id, "test server: dropping the connection (knob)");
                    next = Next::Drop;
                    continue;
                }
                if next == Next::Continue {
                    requests.push((key_id, msg_id, body));
                }
            }
        }
    }
    next
}

/// What the endpoint has to send on `conn` (nothing while [`Knobs::silent`]).
fn transmit(shared: &Shared, conn: ConnectionId) -> Vec<u8> {
    let mut guard = shared.lock();
    let state = &mut *guard;
    let mut out = Vec::new();
    let now = offset_now(state.knobs.clock_offset);
    if let Err(error) = state.endpoint.poll_transmit(conn, now, &mut out) {
        tracing::warn!(%error, "test server: cannot frame a packet");
    }
    if state.knobs.silent && !out.is_empty() {
        state.stats.swallowed_packets += 1;
        out.clear();
    }
    out
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
    let answered = match &result {
        Ok(result) => state.endpoint.respond(key_id, msg_id, Ok(result)),
        Err(error) => state.endpoint.respond(key_id, msg_id, Err(error)),
    };
    if answered {
        *state.stats.answered.entry(body.to_vec()).or_default() += 1;
    }
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
