//! Deterministic simulation: the real [`ClientEndpoint`] and [`ServerEndpoint`] (key exchange,
//! session, transport) over a simulated network with virtual clocks, driven by a fault
//! schedule drawn from a seed. Each run checks the invariants a login library lives by:
//!
//! - every request gets exactly one outcome, and an answer is the answer to *that* request;
//! - no request is lost: the schedules never lose a message silently (a lost connection is
//!   a reset, as over TCP), so every request must be answered before its deadline;
//! - nothing panics;
//! - the state stays bounded (requests waiting, containers in flight, server keys).
//!
//! Faults: latency with jitter, connection resets, server restarts that keep or forget the
//! keys, salt rotation, duplicated and reordered server packets, client clock skew of up to
//! ±120 s, slow answers, and (some schedules) perfect forward secrecy with short-lived
//! temporary keys. The same seed always replays the same run.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use mtproto_crypto::{AuthKey, DhParams, RsaPrivateKey};
use mtproto_proto::endpoint::{
    ClientEndpoint, ClientEndpointConfig, ClientEvent, ConnectionError, ConnectionId, PfsConfig,
    ServerEndpoint, ServerEndpointConfig, ServerEndpointEvent, StoredAuth,
};
use mtproto_proto::handshake::client::ClientConfig as KexConfig;
use mtproto_proto::handshake::server::ServerConfig;
use mtproto_proto::session::{Event, PlantedBug, RequestId, SessionConfig, BIND_TEMP_AUTH_KEY_ID};
use mtproto_proto::transport::{Transport, TransportConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

pub use mtproto_proto::session::PlantedBug as Bug;

/// Unix time the simulated server starts at.
const T0: Duration = Duration::from_secs(1_700_000_000);
/// One step of virtual time.
const STEP: Duration = Duration::from_millis(5);
/// How long a request may wait for its answer before the run counts it as lost.
const REQUEST_DEADLINE: Duration = Duration::from_secs(40);
/// Containers in flight a session may hold at once (a bound on its memory).
const MAX_CONTAINERS_IN_FLIGHT: usize = 64;
/// The DC id the client asks for.
const DC: i32 = 2;
/// `boolTrue`.
const BOOL_TRUE: [u8; 4] = 0x9972_75b5_u32.to_le_bytes();

/// A fault schedule, drawn from a seed.
#[derive(Clone, Debug)]
pub struct Schedule {
    /// The seed it was drawn from.
    pub seed: u64,
    /// The framing.
    pub transport: Transport,
    /// Perfect forward secrecy, with this temporary-key lifetime.
    pub pfs: Option<Duration>,
    /// One-way latency and its jitter.
    pub latency: Duration,
    /// Added to the latency, uniformly up to this.
    pub jitter: Duration,
    /// Client clock minus server clock, in seconds.
    pub skew: i64,
    /// Requests the workload sends, spread over [`Schedule::workload`].
    pub requests: usize,
    /// When the requests are sent.
    pub workload: Duration,
    /// How long the server may take to answer.
    pub answer_delay: Duration,
    /// When the connection is reset.
    pub resets: Vec<Duration>,
    /// When the server restarts, and whether it keeps its keys.
    pub restarts: Vec<(Duration, bool)>,
    /// When the server changes every key's salt.
    pub salt_rotations: Vec<Duration>,
    /// Chance that a server packet is delivered twice.
    pub duplicate: f64,
    /// Chance that a server packet overtakes the one before it.
    pub reorder: f64,
}

impl Schedule {
    /// The schedule of `seed`.
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let workload = Duration::from_millis(rng.gen_range(500..8_000));
        let times = |n: usize, rng: &mut ChaCha20Rng| -> Vec<Duration> {
            let mut t: Vec<Duration> = (0..n)
                .map(|_| {
                    Duration::from_millis(rng.gen_range(0..workload.as_millis() as u64 + 2_000))
                })
                .collect();
            t.sort();
            t
        };
        let resets = {
            let n = rng.gen_range(0..4);
            times(n, &mut rng)
        };
        let restart_times = {
            let n = if rng.gen_bool(0.3) {
                rng.gen_range(1..3)
            } else {
                0
            };
            times(n, &mut rng)
        };
        let restarts = restart_times
            .into_iter()
            .map(|t| (t, rng.gen_bool(0.6)))
            .collect();
        let salt_rotations = {
            let n = rng.gen_range(0..3);
            times(n, &mut rng)
        };
        Self {
            seed,
            transport: [
                Transport::Abridged,
                Transport::Intermediate,
                Transport::PaddedIntermediate,
                Transport::Full,
            ][rng.gen_range(0..4)],
            pfs: rng
                .gen_bool(0.25)
                .then(|| Duration::from_secs(rng.gen_range(6..40))),
            latency: Duration::from_millis(rng.gen_range(0..150)),
            jitter: Duration::from_millis(rng.gen_range(0..100)),
            skew: if rng.gen_bool(0.3) {
                rng.gen_range(-120..=120)
            } else {
                0
            },
            requests: rng.gen_range(1..60),
            workload,
            answer_delay: Duration::from_millis(rng.gen_range(0..500)),
            resets,
            restarts,
            salt_rotations,
            duplicate: if rng.gen_bool(0.3) {
                rng.gen_range(0.0..0.2)
            } else {
                0.0
            },
            reorder: if rng.gen_bool(0.3) {
                rng.gen_range(0.0..0.2)
            } else {
                0.0
            },
        }
    }
}

/// What a run saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Requests answered (each exactly once, with its own answer).
    pub answered: usize,
    /// Requests the client gave up on with a clear error (refused too often, bad answer).
    pub failed: usize,
    /// Connections opened.
    pub connections: u32,
    /// Key exchanges the client completed.
    pub key_exchanges: u32,
    /// Connections the client dropped after an error (a check failed, -404, ...).
    pub connection_errors: u32,
    /// Virtual time until every request had its outcome.
    pub elapsed: Duration,
}

/// An invariant a run broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Something panicked.
    Panic(String),
    /// A request got a second outcome.
    DoubleOutcome {
        /// The workload's request number.
        request: usize,
    },
    /// A request got an answer that is not its own.
    WrongAnswer {
        /// The workload's request number.
        request: usize,
    },
    /// A request had no outcome by its deadline.
    Lost {
        /// The workload's request number.
        request: usize,
        /// When it was sent.
        sent_at: Duration,
    },
    /// An outcome for a request the workload never made.
    UnknownRequest(u64),
    /// State grew past its bound.
    Unbounded {
        /// What.
        what: &'static str,
        /// How large it got.
        value: usize,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::Panic(message) => write!(f, "panic: {message}"),
            Violation::DoubleOutcome { request } => {
                write!(f, "request {request} got a second outcome")
            }
            Violation::WrongAnswer { request } => {
                write!(f, "request {request} got another request's answer")
            }
            Violation::Lost { request, sent_at } => write!(
                f,
                "request {request} (sent at {sent_at:?}) had no outcome within {REQUEST_DEADLINE:?}"
            ),
            Violation::UnknownRequest(id) => write!(f, "an outcome for unknown request id {id}"),
            Violation::Unbounded { what, value } => write!(f, "{what} grew to {value}"),
        }
    }
}

/// Runs the schedule of `seed` (with `bug` planted in the client, to prove the harness
/// catches it).
pub fn run(seed: u64, bug: Option<PlantedBug>) -> Result<Report, Violation> {
    let schedule = Schedule::from_seed(seed);
    run_schedule(&schedule, bug)
}

/// Runs `schedule`; a panic anywhere inside is [`Violation::Panic`].
pub fn run_schedule(schedule: &Schedule, bug: Option<PlantedBug>) -> Result<Report, Violation> {
    let schedule = schedule.clone();
    let result = std::panic::catch_unwind(move || Sim::new(&schedule, bug).run());
    match result {
        Ok(result) => result,
        Err(panic) => Err(Violation::Panic(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".into()),
        )),
    }
}

/// The server's RSA key (the test DC's, parsed once).
fn server_key() -> &'static RsaPrivateKey {
    static KEY: std::sync::OnceLock<RsaPrivateKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        RsaPrivateKey::from_pkcs1_pem(include_str!("../../dc/src/test_server_key.pem"))
            .expect("the bundled test key parses")
    })
}

fn server_endpoint(seed: u64) -> ServerEndpoint {
    let mut rng_seed = [0u8; 32];
    rng_seed[..8].copy_from_slice(&seed.to_le_bytes());
    rng_seed[8] = 0x5e;
    ServerEndpoint::new(
        ServerEndpointConfig {
            kex: ServerConfig::new(vec![server_key().clone()], DhParams::telegram()),
            session: SessionConfig::default(),
            transport_config: TransportConfig::for_server(),
            mtproxy_secret: None,
        },
        rng_seed,
    )
}

/// The body of workload request `i` (unique per request) and its expected answer.
fn request_body(i: usize, rng: &mut ChaCha20Rng) -> Vec<u8> {
    let mut body = 0x1234_5678_u32.to_le_bytes().to_vec();
    body.extend_from_slice(&(i as u32).to_le_bytes());
    let extra = rng.gen_range(0..16) * 4;
    body.extend((0..extra).map(|_| rng.gen::<u8>()));
    body
}

fn answer_of(body: &[u8]) -> Vec<u8> {
    let mut answer = body.to_vec();
    answer.reverse();
    answer
}

/// Bytes in flight in one direction, delivered in order.
#[derive(Default)]
struct Pipe {
    queue: VecDeque<(Duration, Vec<u8>)>,
}

impl Pipe {
    fn push(&mut self, at: Duration, bytes: Vec<u8>) {
        // TCP keeps order: never deliver before what was sent earlier.
        let at = self.queue.back().map_or(at, |(last, _)| at.max(*last));
        self.queue.push_back((at, bytes));
    }

    fn due(&mut self, now: Duration) -> Option<Vec<u8>> {
        match self.queue.front() {
            Some((at, _)) if *at <= now => self.queue.pop_front().map(|(_, b)| b),
            _ => None,
        }
    }
}

struct Request {
    body: Vec<u8>,
    sent_at: Duration,
    done: bool,
}

struct Sim<'a> {
    schedule: &'a Schedule,
    rng: ChaCha20Rng,
    client: ClientEndpoint,
    server: ServerEndpoint,
    conn: Option<ConnectionId>,
    to_server: Pipe,
    to_client: Pipe,
    /// Server time (the client's is this plus the skew).
    now: Duration,
    /// When the client reconnects, after a lost connection.
    reconnect_at: Option<Duration>,
    /// Keys the server knows, to keep across a restart that keeps them.
    server_keys: BTreeMap<i64, AuthKey>,
    /// Answers the server will send: (when, key, msg_id, body).
    answers: Vec<(Duration, i64, i64, Vec<u8>)>,
    requests: Vec<Request>,
    ids: HashMap<RequestId, usize>,
    report: Report,
}

impl<'a> Sim<'a> {
    fn new(schedule: &'a Schedule, bug: Option<PlantedBug>) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(schedule.seed ^ 0x5151_5151);
        // A key both sides already have (most real sessions start from a stored key).
        let mut key = [0u8; 256];
        rng.fill(&mut key[..]);
        let auth_key = AuthKey::from_bytes(key);
        let salt = rng.gen::<i64>();
        let mut server = server_endpoint(schedule.seed);
        server.add_key(auth_key.clone(), salt);
        let config = ClientEndpointConfig {
            transport: schedule.transport,
            obfuscation: None,
            transport_config: TransportConfig::for_client(),
            kex: KexConfig {
                dc_id: DC,
                public_keys: vec![server_key().public_key().clone()],
                temp_key_expires_in: None,
                max_retries: 3,
            },
            session: SessionConfig::default(),
            idle_timeout: Some(Duration::from_secs(90)),
            pfs: schedule.pfs.map(PfsConfig::new),
            prologue: None,
        };
        let mut client_seed = [0u8; 32];
        rng.fill(&mut client_seed);
        let mut client = ClientEndpoint::new(
            config,
            Some(StoredAuth {
                auth_key: auth_key.clone(),
                salt,
                time_offset: -schedule.skew,
            }),
            client_seed,
        );
        client.plant_bug(bug);
        Self {
            schedule,
            rng,
            client,
            server,
            conn: None,
            to_server: Pipe::default(),
            to_client: Pipe::default(),
            now: T0,
            reconnect_at: Some(T0),
            server_keys: BTreeMap::from([(auth_key.id(), auth_key)]),
            answers: Vec::new(),
            requests: Vec::new(),
            ids: HashMap::new(),
            report: Report::default(),
        }
    }

    fn client_now(&self) -> Duration {
        let offset = Duration::from_secs(self.schedule.skew.unsigned_abs());
        if self.schedule.skew >= 0 {
            self.now + offset
        } else {
            self.now.saturating_sub(offset)
        }
    }

    fn latency(&mut self) -> Duration {
        let jitter = self.schedule.jitter.as_millis() as u64;
        self.schedule.latency + Duration::from_millis(self.rng.gen_range(0..=jitter))
    }

    fn run(mut self) -> Result<Report, Violation> {
        let start = self.now;
        let mut send_times: Vec<Duration> = (0..self.schedule.requests)
            .map(|_| {
                start
                    + Duration::from_millis(
                        self.rng
                            .gen_range(0..=self.schedule.workload.as_millis() as u64),
                    )
            })
            .collect();
        send_times.sort();
        let mut send_times: VecDeque<Duration> = send_times.into();
        let mut resets: VecDeque<Duration> =
            self.schedule.resets.iter().map(|t| start + *t).collect();
        let mut restarts: VecDeque<(Duration, bool)> = self
            .schedule
            .restarts
            .iter()
            .map(|(t, keep)| (start + *t, *keep))
            .collect();
        let mut rotations: VecDeque<Duration> = self
            .schedule
            .salt_rotations
            .iter()
            .map(|t| start + *t)
            .collect();
        let end = start + self.schedule.workload + REQUEST_DEADLINE + Duration::from_secs(20);
        while self.now < end {
            if let Some(at) = self.reconnect_at {
                if self.now >= at {
                    self.reconnect_at = None;
                    self.connect();
                }
            }
            while send_times.front().is_some_and(|t| *t <= self.now) {
                send_times.pop_front();
                self.send_request();
            }
            if resets.front().is_some_and(|t| *t <= self.now) {
                resets.pop_front();
                self.reset();
            }
            if let Some((_, keep)) = restarts.front().copied().filter(|(t, _)| *t <= self.now) {
                restarts.pop_front();
                self.restart_server(keep);
            }
            if rotations.front().is_some_and(|t| *t <= self.now) {
                rotations.pop_front();
                self.rotate_salts();
            }
            self.step()?;
            self.check_bounds()?;
            if send_times.is_empty() && self.requests.iter().all(|r| r.done) {
                self.report.elapsed = self.now - start;
                return Ok(self.report);
            }
            for (i, r) in self.requests.iter().enumerate() {
                if !r.done && self.now > r.sent_at + REQUEST_DEADLINE {
                    return Err(Violation::Lost {
                        request: i,
                        sent_at: r.sent_at - start,
                    });
                }
            }
            self.now += STEP;
        }
        match self.requests.iter().position(|r| !r.done) {
            Some(i) => Err(Violation::Lost {
                request: i,
                sent_at: self.requests[i].sent_at - start,
            }),
            None => Ok(self.report),
        }
    }

    fn connect(&mut self) {
        let now = self.client_now();
        if let Err(error) = self.client.connect(now) {
            self.connection_failed(error);
            return;
        }
        self.conn = Some(self.server.accept());
        self.report.connections += 1;
    }

    fn send_request(&mut self) {
        let i = self.requests.len();
        let body = request_body(i, &mut self.rng);
        let id = self.client.enqueue(body.clone());
        self.ids.insert(id, i);
        self.requests.push(Request {
            body,
            sent_at: self.now,
            done: false,
        });
    }

    /// The connection dies: both sides drop it; the client reconnects after a backoff.
    fn reset(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.server.close(conn);
        }
        self.to_server = Pipe::default();
        self.to_client = Pipe::default();
        self.client.connection_lost();
        let backoff = Duration::from_millis(self.rng.gen_range(50..1_000));
        self.reconnect_at = Some(self.now + backoff);
    }

    fn restart_server(&mut self, keep_keys: bool) {
        self.reset();
        let mut server = server_endpoint(self.schedule.seed ^ self.now.as_millis() as u64);
        if keep_keys {
            for key in self.server_keys.values() {
                server.add_key(key.clone(), self.rng.gen());
            }
        } else {
            self.server_keys.clear();
        }
        self.server = server;
        // Answers the old process owed are gone with it.
        self.answers.clear();
    }

    fn rotate_salts(&mut self) {
        let ids: Vec<i64> = self.server_keys.keys().copied().collect();
        for id in ids {
            let salt = self.rng.gen();
            if let Some(session) = self.server.session_mut(id) {
                session.set_salt(salt);
            }
        }
    }

    /// What the client does after a connection error (as the tokio driver does).
    fn connection_failed(&mut self, error: ConnectionError) {
        if std::env::var_os("SIM_TRACE").is_some() {
            eprintln!("{:?}: connection error {error}", self.now - T0);
        }
        self.report.connection_errors += 1;
        if let Some(conn) = self.conn.take() {
            self.server.close(conn);
        }
        self.to_server = Pipe::default();
        self.to_client = Pipe::default();
        self.client.connection_lost();
        if (error.is_unknown_key() && !self.client.recovers_unknown_key())
            || error.is_unknown_perm_key()
        {
            // The key is gone at the server: a new one (these keys carry no login).
            self.client.replace_key();
        }
        let backoff = Duration::from_millis(self.rng.gen_range(50..500));
        self.reconnect_at = Some(self.now + backoff);
    }

    fn step(&mut self) -> Result<(), Violation> {
        let client_now = self.client_now();
        if let Err(error) = self.client.handle_timeout(client_now) {
            self.connection_failed(error);
        }
        let Some(conn) = self.conn else {
            return self.drain_client_events();
        };
        // Client → server.
        let mut out = Vec::new();
        match self.client.poll_transmit(client_now, &mut out) {
            Ok(_) if !out.is_empty() => {
                let at = self.now + self.latency();
                self.to_server.push(at, out);
            }
            Ok(_) => {}
            Err(error) => {
                self.connection_failed(error);
                return self.drain_client_events();
            }
        }
        while let Some(bytes) = self.to_server.due(self.now) {
            if let Err(error) = self.server.handle_input(conn, self.now, &bytes) {
                // The server closes a connection it cannot go on with, after writing what
                // it still has (a -404); the client reads that, then the end of the stream.
                if std::env::var_os("SIM_TRACE").is_some() {
                    eprintln!("{:?}: server error {error}", self.now - T0);
                }
                return self.server_closed(conn);
            }
        }
        self.drain_server_events();
        // Answers that are due.
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) =
            self.answers.drain(..).partition(|(at, ..)| *at <= now);
        self.answers = later;
        for (_, key_id, msg_id, body) in due {
            self.server.respond(key_id, msg_id, Ok(&body));
        }
        // Server → client, with duplicates and reordering.
        let mut out = Vec::new();
        if self.server.poll_transmit(conn, self.now, &mut out).is_err() {
            self.reset();
            return self.drain_client_events();
        }
        if !out.is_empty() {
            let at = self.now + self.latency();
            if self.rng.gen_bool(self.schedule.reorder) && !self.to_client.queue.is_empty() {
                // Overtakes the packet before it.
                let last = self.to_client.queue.len() - 1;
                self.to_client.queue.insert(last, (at, out.clone()));
            } else {
                self.to_client.push(at, out.clone());
            }
            if self.rng.gen_bool(self.schedule.duplicate) {
                self.to_client.push(at, out);
            }
        }
        while let Some(bytes) = self.to_client.due(self.now) {
            if let Err(error) = self.client.handle_input(client_now, &bytes) {
                self.connection_failed(error);
                break;
            }
        }
        self.drain_client_events()
    }

    /// The server closed `conn`: its last bytes reach the client, then the end of the
    /// stream.
    fn server_closed(&mut self, conn: ConnectionId) -> Result<(), Violation> {
        let mut last = Vec::new();
        let _ = self.server.poll_transmit(conn, self.now, &mut last);
        self.server.close(conn);
        self.conn = None;
        self.to_server = Pipe::default();
        let client_now = self.client_now();
        let mut error = None;
        // In order: what was already on its way, then the last bytes.
        let mut pending: Vec<Vec<u8>> = self.to_client.queue.drain(..).map(|(_, b)| b).collect();
        pending.push(last);
        for bytes in pending {
            if let Err(e) = self.client.handle_input(client_now, &bytes) {
                error = Some(e);
                break;
            }
        }
        self.drain_client_events()?;
        let error = error.unwrap_or_else(|| self.client.handle_eof(client_now));
        self.connection_failed(error);
        self.drain_client_events()
    }

    fn drain_server_events(&mut self) {
        while let Some(event) = self.server.poll_event() {
            match event {
                ServerEndpointEvent::KeyCreated { key_id, .. } => {
                    if let Some(key) = self.server.auth_key(key_id) {
                        self.server_keys.insert(key_id, key.clone());
                    }
                }
                ServerEndpointEvent::Request {
                    key_id,
                    msg_id,
                    body,
                    ..
                } => {
                    if body.get(..4) == Some(&BIND_TEMP_AUTH_KEY_ID.to_le_bytes()[..]) {
                        self.server.respond(key_id, msg_id, Ok(&BOOL_TRUE));
                    } else {
                        let delay = Duration::from_millis(
                            self.rng
                                .gen_range(0..=self.schedule.answer_delay.as_millis() as u64),
                        );
                        self.answers
                            .push((self.now + delay, key_id, msg_id, answer_of(&body)));
                    }
                }
                _ => {}
            }
        }
    }

    fn drain_client_events(&mut self) -> Result<(), Violation> {
        while let Some(event) = self.client.poll_event() {
            match event {
                ClientEvent::KeyCreated | ClientEvent::TempKeyCreated { .. } => {
                    self.report.key_exchanges += 1;
                }
                ClientEvent::Session(Event::Response { id, result }) => {
                    let i = self.outcome(id)?;
                    match result {
                        Ok(body) if body == answer_of(&self.requests[i].body) => {
                            self.report.answered += 1;
                        }
                        Ok(_) => return Err(Violation::WrongAnswer { request: i }),
                        Err(_) => self.report.failed += 1,
                    }
                }
                ClientEvent::Session(Event::Failed { id, .. })
                | ClientEvent::Session(Event::BadAnswer { id, .. }) => {
                    self.outcome(id)?;
                    self.report.failed += 1;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Marks request `id` done; a second outcome is a violation.
    fn outcome(&mut self, id: RequestId) -> Result<usize, Violation> {
        let i = *self.ids.get(&id).ok_or(Violation::UnknownRequest(id.0))?;
        let request = &mut self.requests[i];
        if request.done {
            return Err(Violation::DoubleOutcome { request: i });
        }
        request.done = true;
        Ok(i)
    }

    fn check_bounds(&self) -> Result<(), Violation> {
        if let Some(session) = self.client.session() {
            if session.unanswered() > self.schedule.requests {
                return Err(Violation::Unbounded {
                    what: "requests waiting in the session",
                    value: session.unanswered(),
                });
            }
            if session.containers_in_flight() > MAX_CONTAINERS_IN_FLIGHT {
                return Err(Violation::Unbounded {
                    what: "containers in flight",
                    value: session.containers_in_flight(),
                });
            }
        }
        if self.server.keys() > 16 {
            return Err(Violation::Unbounded {
                what: "keys on the server",
                value: self.server.keys(),
            });
        }
        Ok(())
    }
}
