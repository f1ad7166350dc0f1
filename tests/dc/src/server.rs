//! One DC's server: the tokio edge of `mtproto_proto::endpoint::ServerEndpoint`, which does
//! everything MTProto (transport detection, the server key exchange, one session per key
//! across connections). This module accepts TCP connections, moves bytes and time, peels
//! the wrappers of each request and hands it to a [`Backend`] on a task of its own.
//!
//! Each DC has its own lock (never held across an await); connections per DC, idle time
//! and calls in flight are bounded ([`ServerLimits`]). [`Knobs`] make it misbehave on
//! purpose; [`Stats`] count what it saw and what it refused.
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
use mtproto_proto::session::{RpcError, SessionConfig, BIND_TEMP_AUTH_KEY_ID};
use mtproto_proto::transport::{MtProxySecret, Transport, TransportConfig};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use tl_wire::Identifiable;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

use crate::attack::{tamper_fn, AttackState, SessionAttack};
use crate::backend::{
    Backend, Call, CallContext, DcLink, FnBackend, Handler, InitConnection, Reply,
};
use crate::layers::LayerSchemas;
use crate::unix_now;
use crate::unwrap::unwrap;

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// Entries kept in each list and map of [`Stats`] (a long-running DC must not grow with
/// every connection or request): later ones are counted only in the totals.
pub const STATS_ENTRIES: usize = 4096;

/// Pushes `value` unless `list` is full.
fn record<T>(list: &mut Vec<T>, value: T) {
    if list.len() < STATS_ENTRIES {
        list.push(value);
    }
}

/// Counts `body` in `map` unless the map is full and does not know it.
fn count(map: &mut HashMap<Vec<u8>, u64>, body: &[u8]) {
    if let Some(n) = map.get_mut(body) {
        *n += 1;
    } else if map.len() < STATS_ENTRIES {
        map.insert(body.to_vec(), 1);
    }
}

/// What the server needs.
#[derive(Clone)]
pub struct TestServerConfig {
    /// The DC id this server is (in call contexts and the obfuscated header check).
    pub dc: i32,
    /// The server's RSA keys (clients must trust one of their public halves).
    pub keys: Vec<RsaPrivateKey>,
    /// The session tunables of the server side.
    pub session: SessionConfig,
    /// Key-exchange misbehaviour (see `ServerQuirks`); `Default` is a correct server.
    pub quirks: ServerQuirks,
    /// Answers requests.
    pub backend: Arc<dyn Backend>,
    /// Act as an MTProxy endpoint: accept only obfuscated2 keyed with this secret (and, for
    /// a `dd` secret, only padded intermediate inside it). A client that speaks a plain
    /// transport, another secret, or another framing is disconnected at once and counted in
    /// [`Stats::refused_transports`]. `None` (the default) accepts every transport, and
    /// obfuscated2 only without a secret.
    pub mtproxy_secret: Option<MtProxySecret>,
    /// Bounds on what clients can make the server hold.
    pub limits: ServerLimits,
}

impl TestServerConfig {
    /// A correct server (DC 2) with the default session tunables, answering with `handler`
    /// (which sees each request as the client sent it, wrappers included).
    pub fn new(keys: Vec<RsaPrivateKey>, handler: Handler) -> Self {
        Self::with_backend(keys, Arc::new(FnBackend(handler)))
    }

    /// A correct server (DC 2) with the default session tunables, answering with `backend`.
    pub fn with_backend(keys: Vec<RsaPrivateKey>, backend: Arc<dyn Backend>) -> Self {
        Self {
            dc: 2,
            keys,
            session: SessionConfig::default(),
            quirks: ServerQuirks::default(),
            backend,
            mtproxy_secret: None,
            limits: ServerLimits::default(),
        }
    }
}

/// What a DC lets its clients make it hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Open connections; one more is closed as soon as it is accepted (counted in
    /// [`Stats::refused_connections`]).
    pub max_connections: usize,
    /// A connection that sends nothing for this long is closed ([`Stats::idle_closed`]).
    pub idle_timeout: Duration,
    /// Calls being answered at once; a request beyond that gets `500 SERVER_BUSY`.
    pub max_calls_in_flight: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            idle_timeout: Duration::from_secs(120),
            max_calls_in_flight: 4096,
        }
    }
}

/// Deliberate misbehaviour, changed at any time for the whole DC with
/// [`TestServerHandle::update_knobs`], or for one connection with
/// [`TestServerHandle::update_connection_knobs`] (there `clock_offset`, `silent`,
/// `delay_answers` and `close_on_accept` act; the fire-once knobs, `drop_on_request` (which
/// counts the DC's requests) and `attack` act per DC only).
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
    /// While set, every answer waits this long before it is sent.
    pub delay_answers: Option<Duration>,
    /// While set, every encrypted packet the server sends violates this client check.
    pub attack: Option<SessionAttack>,
    /// The next call gets this RPC error instead of its answer (NETWORK_MIGRATE_X,
    /// FLOOD_WAIT_X, ...). Fires once; a temporary key's `auth.bindTempAuthKey` does not
    /// count.
    pub fail_next_call: Option<RpcError>,
    /// How the key exchange misbehaves (per DC), for exchanges started from now on; starts
    /// as [`TestServerConfig::quirks`].
    pub quirks: ServerQuirks,
}

/// What the server saw and sent. Lists and maps keep their first [`STATS_ENTRIES`] entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Connections closed at once because [`ServerLimits::max_connections`] were open.
    pub refused_connections: u64,
    /// Connections closed after [`ServerLimits::idle_timeout`] without input.
    pub idle_closed: u64,
    /// Connections closed because what they sent broke the transport or the session.
    pub broken_connections: u64,
    /// The transport each connection spoke, in order: (framing, obfuscated).
    pub transports: Vec<(Transport, bool)>,
    /// The DC id of each obfuscated connection's header, in order.
    pub obfuscated_dc_ids: Vec<i16>,
    /// Connections closed because their transport was refused (no supported transport, a
    /// wrong MTProxy secret, or a framing the secret does not allow), with the reason.
    pub refused_transports: Vec<String>,
    /// Key exchanges completed.
    pub key_exchanges: u64,
    /// Of those, exchanges that created a temporary key (`p_q_inner_data_temp_dc`).
    pub temp_key_exchanges: u64,
    /// Each request (its top-level constructor) with the key id it came under, in order:
    /// shows which key carried what (the bind, then API calls over the temporary key).
    pub request_keys: Vec<(i64, u32)>,
    /// Temporary keys forgotten because they expired.
    pub expired_temp_keys: u64,
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
    /// Encrypted packets changed by [`Knobs::attack`].
    pub tampered_packets: u64,
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
        Self::bind_to((std::net::Ipv4Addr::LOCALHOST, 0).into(), config).await
    }

    /// Listens on `addr` and serves connections on the current tokio runtime until the
    /// handle is dropped.
    pub async fn bind_to(
        addr: SocketAddr,
        config: TestServerConfig,
    ) -> io::Result<(SocketAddr, TestServerHandle)> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok((addr, Self::serve(listener, config)))
    }

    /// Serves connections from `listener` on the current tokio runtime until the handle is
    /// dropped.
    pub fn serve(listener: TcpListener, config: TestServerConfig) -> TestServerHandle {
        let mut kex = ServerConfig::new(config.keys, DhParams::telegram());
        kex.quirks = config.quirks.clone();
        let mut seed = [0u8; 32];
        StdRng::from_entropy().fill_bytes(&mut seed);
        let mut endpoint = ServerEndpoint::new(
            ServerEndpointConfig {
                kex,
                session: config.session,
                transport_config: TransportConfig::for_server(),
                mtproxy_secret: config.mtproxy_secret,
            },
            seed,
        );
        let attack = Arc::new(Mutex::new(AttackState::default()));
        endpoint.set_tamper(Some(tamper_fn(attack.clone())));
        let shared = Arc::new(Shared {
            attack,
            dc: config.dc,
            backend: config.backend,
            limits: config.limits,
            state: Mutex::new(State {
                endpoint,
                knobs: Knobs {
                    quirks: config.quirks,
                    ..Knobs::default()
                },
                stats: Stats::default(),
                wakers: HashMap::new(),
                keys: HashMap::new(),
                calls_in_flight: 0,
                conn_knobs: HashMap::new(),
                conn_index: HashMap::new(),
            }),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        TestServerHandle { shared, task }
    }
}

/// Controls a running [`TestServer`]; dropping it stops the server and its connections.
pub struct TestServerHandle {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for TestServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServerHandle")
            .field("dc", &self.shared.dc)
            .finish_non_exhaustive()
    }
}

impl TestServerHandle {
    /// The DC id.
    pub fn dc(&self) -> i32 {
        self.shared.dc
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        let mut stats = self.shared.lock().stats.clone();
        stats.tampered_packets = self.shared.attack_state().tampered;
        stats
    }

    /// A copy of the knobs.
    pub fn knobs(&self) -> Knobs {
        self.shared.lock().knobs.clone()
    }

    /// Changes the knobs of connection `index` (the order in which the DC accepted it, from
    /// 0; [`TestServerHandle::next_connection_index`] is the next one), overriding the DC's
    /// knobs for it. The override starts as a copy of the DC's knobs.
    pub fn update_connection_knobs(&self, index: u64, change: impl FnOnce(&mut Knobs)) {
        let mut state = self.shared.lock();
        let dc_knobs = state.knobs.clone();
        change(state.conn_knobs.entry(index).or_insert(dc_knobs));
    }

    /// The index the next accepted connection gets (see
    /// [`TestServerHandle::update_connection_knobs`]).
    pub fn next_connection_index(&self) -> u64 {
        self.shared.lock().stats.connections
    }

    /// Changes the knobs of the whole DC.
    pub fn update_knobs(&self, change: impl FnOnce(&mut Knobs)) {
        let mut guard = self.shared.lock();
        let state = &mut *guard;
        change(&mut state.knobs);
        self.shared.attack_state().attack = state.knobs.attack;
        state.endpoint.set_quirks(state.knobs.quirks.clone());
    }

    /// Registers a key as if a key exchange had created it, with `salt` as its salt (tests
    /// that are not about the key exchange skip it this way).
    pub fn add_key(&self, auth_key: AuthKey, salt: i64) {
        self.shared.lock().endpoint.add_key(auth_key, salt);
    }

    /// Registers a temporary key (as if a `p_q_inner_data_temp` exchange had created it)
    /// that expires at `expires_at` (Unix time): from then on its packets get -404.
    pub fn add_temp_key(&self, auth_key: AuthKey, salt: i64, expires_at: i64) {
        let mut state = self.shared.lock();
        let key_id = auth_key.id();
        state.endpoint.add_key(auth_key, salt);
        state.keys.insert(
            key_id,
            KeyMeta {
                temp_expires_at: Some(expires_at),
                ..KeyMeta::default()
            },
        );
    }

    /// Forgets every key: the next packet under any of them gets transport error -404.
    pub fn forget_keys(&self) {
        let mut state = self.shared.lock();
        state.endpoint.forget_keys();
        state.keys.clear();
    }

    /// Forgets one key (as if it expired or the DC lost it): its next packet gets -404.
    /// Returns whether the key was known.
    pub fn forget_key(&self, key_id: i64) -> bool {
        let mut state = self.shared.lock();
        state.keys.remove(&key_id);
        state.endpoint.forget_key(key_id)
    }

    /// The salt the server expects with this key, if it knows the key.
    pub fn salt(&self, auth_key_id: i64) -> Option<i64> {
        self.shared
            .lock()
            .endpoint
            .session_mut(auth_key_id)
            .map(|s| s.salt())
    }

    /// What the client of a key declared: its layer (`invokeWithLayer`) and its
    /// `initConnection`.
    pub fn declared(&self, key_id: i64) -> (Option<i32>, Option<InitConnection>) {
        let state = self.shared.lock();
        match state.keys.get(&key_id) {
            Some(meta) => (meta.layer, meta.init.clone()),
            None => (None, None),
        }
    }

    /// Open connections.
    pub fn connections(&self) -> usize {
        self.shared.lock().endpoint.connections()
    }

    /// A link for backends (the one their calls get in [`CallContext::server`]).
    pub fn link(&self) -> DcLink {
        DcLink {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl Drop for TestServerHandle {
    fn drop(&mut self) {
        // The accept task owns the connections' JoinSet: aborting it ends them too.
        self.task.abort();
    }
}

/// One DC's state and what never changes, shared by its tasks.
pub(crate) struct Shared {
    /// Read by the endpoint's tamper function (its own lock: taken inside the state's).
    attack: Arc<Mutex<AttackState>>,
    dc: i32,
    backend: Arc<dyn Backend>,
    limits: ServerLimits,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn attack_state(&self) -> MutexGuard<'_, AttackState> {
        self.attack.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// See [`DcLink::push_update`].
    pub(crate) fn push_update(&self, key_id: i64, body: Vec<u8>) -> bool {
        let mut state = self.lock();
        let pushed = state.endpoint.push_update(key_id, body);
        if pushed {
            state.wake_key(key_id);
        }
        pushed
    }

    /// See [`DcLink::auth_key`].
    pub(crate) fn auth_key(&self, key_id: i64) -> Option<AuthKey> {
        self.lock().endpoint.auth_key(key_id).cloned()
    }

    /// See [`DcLink::temp_expiry`].
    pub(crate) fn temp_expiry(&self, key_id: i64) -> Option<i64> {
        self.lock()
            .keys
            .get(&key_id)
            .and_then(|k| k.temp_expires_at)
    }
}

/// What the server remembers about a key beyond the endpoint.
#[derive(Clone, Debug, Default)]
struct KeyMeta {
    /// `Some(Unix time)` for a temporary key.
    temp_expires_at: Option<i64>,
    /// The layer its client declared last.
    layer: Option<i32>,
    /// Its client's `initConnection`, last declared.
    init: Option<InitConnection>,
}

struct State {
    endpoint: ServerEndpoint,
    knobs: Knobs,
    stats: Stats,
    /// Wakes a connection's task when something for it is ready (answers, updates).
    wakers: HashMap<ConnectionId, mpsc::UnboundedSender<()>>,
    keys: HashMap<i64, KeyMeta>,
    calls_in_flight: usize,
    /// Knob overrides by connection index (accept order).
    conn_knobs: HashMap<u64, Knobs>,
    /// The accept index of each open connection.
    conn_index: HashMap<ConnectionId, u64>,
}

impl State {
    /// The knobs that act on connection `conn`: its override, else the DC's.
    fn knobs_of(&self, conn: ConnectionId) -> &Knobs {
        self.conn_index
            .get(&conn)
            .and_then(|index| self.conn_knobs.get(index))
            .unwrap_or(&self.knobs)
    }

    /// Wakes the connections that use `key_id` (every connection while a key is unknown
    /// to them yet).
    fn wake_key(&self, key_id: i64) {
        for (conn, wake) in &self.wakers {
            if self.endpoint.key_of(*conn).map_or(true, |k| k == key_id) {
                let _ = wake.send(());
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    tracing::debug!(%peer, dc = shared.dc, "test server: connection accepted");
                    let (close, index) = {
                        let mut state = shared.lock();
                        let index = state.stats.connections;
                        state.stats.connections += 1;
                        let close = if connections.len() >= shared.limits.max_connections {
                            state.stats.refused_connections += 1;
                            true
                        } else {
                            let close_on_accept = state
                                .conn_knobs
                                .get(&index)
                                .unwrap_or(&state.knobs)
                                .close_on_accept;
                            state.stats.dropped_connections += u64::from(close_on_accept);
                            close_on_accept
                        };
                        (close, index)
                    };
                    // Dropping the stream closes the connection.
                    if !close {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve(shared.clone(), stream, index));
                    } else {
                        shared.lock().conn_knobs.remove(&index);
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "test server: accept failed");
                    // Out of file descriptors, say: let connections end before retrying.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
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

async fn serve(shared: Arc<Shared>, mut stream: TcpStream, index: u64) {
    let (wake, mut woken) = mpsc::unbounded_channel();
    let conn = {
        let mut state = shared.lock();
        let conn = state.endpoint.accept();
        state.wakers.insert(conn, wake);
        state.conn_index.insert(conn, index);
        conn
    };
    let mut buf = vec![0u8; READ_CHUNK];
    let idle = shared.limits.idle_timeout;
    let mut deadline = tokio::time::Instant::now() + idle;
    loop {
        let mut next = Next::Continue;
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    deadline = tokio::time::Instant::now() + idle;
                    next = handle_input(&shared, conn, &buf[..n]);
                }
            },
            Some(()) = woken.recv() => {}
            () = tokio::time::sleep_until(deadline) => {
                shared.lock().stats.idle_closed += 1;
                break;
            }
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
    state.conn_index.remove(&conn);
    state.conn_knobs.remove(&index);
}

/// A request taken from the endpoint, to hand to the backend.
struct Incoming {
    conn: ConnectionId,
    key_id: i64,
    msg_id: i64,
    session_id: i64,
    body: Vec<u8>,
}

/// Feeds bytes to the endpoint packet by packet (the knobs act between packets), then
/// starts a call for each request that came.
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
                    state.stats.broken_connections += 1;
                    next = Next::Close;
                    break;
                }
            };
            let now = offset_now(state.knobs_of(conn).clock_offset);
            forget_if_expired(state, &packet, now);
            apply_knobs(state, &packet);
            let now = offset_now(state.knobs_of(conn).clock_offset);
            if let Err(error) = state.endpoint.handle_packet(conn, now, &packet) {
                tracing::debug!(%error, "test server: closing the connection");
                state.stats.broken_connections += 1;
                next = Next::Close;
            }
            next = match route_events(state, conn, now, &mut requests) {
                Next::Continue => next,
                other => other,
            };
        }
        // Events of a connection that failed (a refused transport, say) count too.
        let now = offset_now(state.knobs_of(conn).clock_offset);
        match route_events(state, conn, now, &mut requests) {
            Next::Continue => next,
            other => other,
        }
    };
    for request in requests {
        start_call(shared, request);
    }
    next
}

/// The key id of an encrypted packet (`None` for a plain one or a runt).
fn packet_key_id(packet: &[u8]) -> Option<i64> {
    packet
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(i64::from_le_bytes)
        .filter(|id| *id != 0)
}

/// A packet under an expired temporary key: the key is forgotten first, so the packet gets
/// -404 (as Telegram does).
fn forget_if_expired(state: &mut State, packet: &[u8], now: Duration) {
    let Some(key_id) = packet_key_id(packet) else {
        return;
    };
    let expired = state
        .keys
        .get(&key_id)
        .and_then(|k| k.temp_expires_at)
        .is_some_and(|at| at <= now.as_secs() as i64);
    if expired {
        tracing::debug!(
            key_id = format_args!("{key_id:#x}"),
            "test server: temporary key expired"
        );
        state.endpoint.forget_key(key_id);
        state.keys.remove(&key_id);
        state.stats.expired_temp_keys += 1;
    }
}

/// Unwraps a request, remembers what it declared, and runs the backend on a task of its
/// own; the answer is re-encoded for the client's layer and sent.
fn start_call(shared: &Arc<Shared>, request: Incoming) {
    let Incoming {
        conn,
        key_id,
        msg_id,
        session_id,
        body,
    } = request;
    let unwrapped = match unwrap(&body) {
        Ok(unwrapped) => unwrapped,
        Err(error) => {
            tracing::debug!(%error, "test server: request refused");
            let error = RpcError::new(400, "INPUT_REQUEST_INVALID".into());
            respond(shared, key_id, msg_id, &body, Err(error));
            return;
        }
    };
    let (ctx, delay) = {
        let mut state = shared.lock();
        // A temporary key's bind is plumbing, not "the next call" a test means to fail.
        let is_bind = unwrapped.query.get(..4) == Some(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes()[..]);
        let failing = if is_bind {
            None
        } else {
            state.knobs.fail_next_call.take()
        };
        if let Some(error) = failing {
            drop(state);
            respond(shared, key_id, msg_id, &body, Err(error));
            return;
        }
        if state.calls_in_flight >= shared.limits.max_calls_in_flight {
            drop(state);
            let error = RpcError::new(500, "SERVER_BUSY".into());
            respond(shared, key_id, msg_id, &body, Err(error));
            return;
        }
        state.calls_in_flight += 1;
        let meta = state.keys.entry(key_id).or_default();
        if let Some(layer) = unwrapped.layer {
            meta.layer = Some(layer);
        }
        if let Some(init) = unwrapped.init {
            meta.init = Some(init);
        }
        let ctx = CallContext {
            dc: shared.dc,
            key_id,
            temp_expires_at: meta.temp_expires_at,
            session_id,
            msg_id,
            layer: meta.layer,
            init: meta.init.clone(),
            wrappers: unwrapped.wrappers,
            server: DcLink {
                shared: Arc::downgrade(shared),
            },
        };
        let delay = state.knobs_of(conn).delay_answers;
        (ctx, delay)
    };
    // The client's modern layer, when it is served in another than the native one (the
    // schemas are parsed on the first such client).
    let reencode = ctx
        .layer
        .filter(|l| !ctx.is_legacy() && *l < auth_api::LAYER)
        .filter(|l| {
            let layers = LayerSchemas::bundled();
            layers.served_layer(*l) != layers.native_layer()
        });
    let query = match reencode {
        Some(layer) => match LayerSchemas::bundled().request_from(layer, &unwrapped.query) {
            Ok(query) => query.into_owned(),
            Err(error) => {
                tracing::debug!(%error, layer, "test server: request not in the client's layer");
                shared.lock().calls_in_flight -= 1;
                let error = RpcError::new(400, "INPUT_METHOD_INVALID".into());
                respond(shared, key_id, msg_id, &body, Err(error));
                return;
            }
        },
        None => unwrapped.query,
    };
    let call = Call {
        ctx,
        query,
        raw: body.clone(),
    };
    let future = shared.backend.call(call);
    let shared = shared.clone();
    tokio::spawn(async move {
        let reply = future.await;
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        shared.lock().calls_in_flight -= 1;
        let result = match reply {
            Reply::Ok(result) => Ok(result),
            Reply::Error(error) => Err(error),
            Reply::Delayed(delay, result) => {
                tokio::time::sleep(delay).await;
                result
            }
            Reply::Never => return,
        };
        let result = match (result, reencode) {
            (Ok(answer), Some(layer)) => match LayerSchemas::bundled().answer_to(layer, &answer) {
                Ok(answer) => Ok(answer.into_owned()),
                Err(error) => {
                    tracing::warn!(%error, layer, "test server: answer not expressible in the client's layer");
                    Err(RpcError::new(500, "ANSWER_NOT_IN_CLIENT_LAYER".into()))
                }
            },
            (result, _) => result,
        };
        respond(&shared, key_id, msg_id, &body, result);
    });
}

/// Before an encrypted packet that carries a request is handled: the knobs that fire then.
fn apply_knobs(state: &mut State, packet: &[u8]) {
    let Some(key_id) = packet_key_id(packet) else {
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
fn route_events(
    state: &mut State,
    conn: ConnectionId,
    now: Duration,
    requests: &mut Vec<Incoming>,
) -> Next {
    let mut next = Next::Continue;
    while let Some(event) = state.endpoint.poll_event() {
        match event {
            ServerEndpointEvent::TransportDetected {
                transport,
                obfuscated,
                dc_id,
                ..
            } => {
                record(&mut state.stats.transports, (transport, obfuscated));
                if let Some(dc_id) = dc_id {
                    record(&mut state.stats.obfuscated_dc_ids, dc_id);
                }
            }
            ServerEndpointEvent::TransportRefused { error, .. } => {
                record(&mut state.stats.refused_transports, error.to_string());
            }
            ServerEndpointEvent::KeyCreated {
                key_id,
                temp_expires_in,
                ..
            } => {
                state.stats.key_exchanges += 1;
                if temp_expires_in.is_some() {
                    state.stats.temp_key_exchanges += 1;
                }
                state.keys.insert(
                    key_id,
                    KeyMeta {
                        temp_expires_at: temp_expires_in
                            .map(|s| now.as_secs() as i64 + i64::from(s)),
                        ..KeyMeta::default()
                    },
                );
            }
            ServerEndpointEvent::UnknownKey { .. } => state.stats.unknown_key_errors += 1,
            ServerEndpointEvent::Refused { code: 48, .. } => state.stats.bad_server_salts += 1,
            ServerEndpointEvent::Refused { code, .. } => {
                *state.stats.bad_msg_notifications.entry(code).or_default() += 1;
            }
            ServerEndpointEvent::NewSession { .. } => {}
            ServerEndpointEvent::Request {
                key_id,
                msg_id,
                session_id,
                body,
                ..
            } => {
                state.stats.requests += 1;
                count(&mut state.stats.received, &body);
                let constructor = body
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
                record(&mut state.stats.request_keys, (key_id, constructor));
                if state.knobs.drop_on_request == Some(state.stats.requests) {
                    state.knobs.drop_on_request = None;
                    state.stats.dropped_connections += 1;
                    tracing::debug!(msg_id, "test server: dropping the connection (knob)");
                    next = Next::Drop;
                    continue;
                }
                if next == Next::Continue {
                    requests.push(Incoming {
                        conn,
                        key_id,
                        msg_id,
                        session_id,
                        body,
                    });
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
    let now = offset_now(state.knobs_of(conn).clock_offset);
    if let Err(error) = state.endpoint.poll_transmit(conn, now, &mut out) {
        tracing::warn!(%error, "test server: cannot frame a packet");
    }
    if state.knobs_of(conn).silent && !out.is_empty() {
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
        count(&mut state.stats.answered, body);
        state.wake_key(key_id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_stop_growing_at_their_cap_but_keep_counting_known_entries() {
        let mut list = Vec::new();
        let mut map = HashMap::new();
        for i in 0..STATS_ENTRIES as u32 + 100 {
            record(&mut list, i);
            count(&mut map, &i.to_le_bytes());
        }
        assert_eq!((list.len(), map.len()), (STATS_ENTRIES, STATS_ENTRIES));
        // A body seen before the cap is still counted.
        count(&mut map, &0u32.to_le_bytes());
        assert_eq!(map[&0u32.to_le_bytes().to_vec()], 2);
        let late = (STATS_ENTRIES as u32 + 50).to_le_bytes().to_vec();
        assert!(!map.contains_key(&late));
    }
}
