//! The test DC facing hostile clients, with a well-behaved client of our runtime beside them.
//!
//! - `hostile_and_idle_clients_leave_a_good_client_unharmed`: one DC (idle timeout 4 s)
//!   serves, on a thread of its own, 10 000 hostile inputs over fresh TCP connections (50 at
//!   a time), 1 000 connections that never send anything, and a `mtproto_net::Connection`
//!   that logs in and then asks `help.getNearestDc` every 100 ms. Every good call must
//!   succeed; every hostile connection must be closed by the server (the deterministic ones
//!   for their error, never by the idle timer); the counters must name what the server saw;
//!   every idle connection must be closed by the idle timer, and no sooner; the process's
//!   peak RSS must stay bounded (printed).
//! - `max_connections_is_enforced`: with `max_connections` = 16 and 16 connections open, a
//!   new client is refused (and counted); once some close, a new client gets in and is
//!   answered.
//!
//! Run: `cargo test -p project-tests --test test_dc_hostile -- --nocapture` (prints the
//! figures).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::{enums, functions};
use mtproto_net::{Backoff, ConnectConfig, Connection, InvokeError};
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use test_dc::{Account, ServerLimits, TestDc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Hostile inputs, each on a fresh TCP connection.
const HOSTILE: usize = 10_000;
/// Hostile connections open at once.
const HOSTILE_WORKERS: usize = 50;
/// Connections that never send anything.
const IDLE: usize = 1_000;
/// The server's idle timeout in the first test.
/// (Above the longest silence of a client during its key exchange in a debug build.)
const IDLE_TIMEOUT: Duration = Duration::from_secs(4);
/// How long the good client waits between calls.
const GOOD_PERIOD: Duration = Duration::from_millis(100);
/// The bound on the growth of the process's peak RSS during the first test.
const MAX_PEAK_GROWTH_KIB: u64 = 256 * 1024;
/// The fixed login code.
const CODE: &str = "12345";
const GOOD_PHONE: &str = "+9996620001";
/// Transport error -404 as an intermediate frame: what a packet under an unknown key gets.
const NO_SUCH_KEY_FRAME: [u8; 8] = [4, 0, 0, 0, 0x6c, 0xfe, 0xff, 0xff];

/// A `TestDc` served by a current-thread runtime on a thread of its own, so that the
/// server's work and the clients' do not share one thread.
struct ServerThread {
    dc: Arc<TestDc>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn start(limits: ServerLimits, accounts: Vec<Account>) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the server's runtime");
            runtime.block_on(async move {
                let mut builder = TestDc::builder().dcs(1).code(CODE).limits(limits);
                for account in accounts {
                    builder = builder.user(account);
                }
                let dc = Arc::new(builder.start().await.expect("start the test DC"));
                ready_tx.send(dc.clone()).expect("the test waits");
                let _ = stop_rx.await;
                drop(dc);
            });
        });
        let dc = ready_rx.recv().expect("the test DC started");
        Self {
            dc,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A field of `/proc/self/status` in KiB (`VmHWM`: peak RSS; `VmRSS`: RSS now).
fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

fn client_config(addr: SocketAddr) -> ConnectConfig {
    let mut config = ConnectConfig::new(
        addr,
        1,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.request_timeout = Duration::from_secs(10);
    config.connect_timeout = Duration::from_secs(20);
    config.reconnect = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(500),
        max_attempts: Some(3),
    };
    config
}

/// The hostile inputs, one per kind in turn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Random bytes of random length (1..=4096).
    Random,
    /// An intermediate header and a frame length, then less than that many bytes.
    TruncatedFrame,
    /// An intermediate frame announcing more than the 4 MiB maximum.
    OversizedIntermediate,
    /// An abridged frame announcing more than the maximum.
    OversizedAbridged,
    /// Garbage after a valid intermediate header (its first word a length no frame has).
    GarbageAfterHeader,
    /// 64 random bytes as the obfuscated2 header (so no transport inside), then more.
    RandomObfuscatedHeader,
    /// An encrypted-looking packet under a key id the server never made.
    UnknownKey,
    /// An unencrypted packet (auth_key_id 0) whose body is no key-exchange message.
    BadKeyExchange,
    /// A `full` frame with a wrong CRC32.
    FullBadCrc,
    /// HTTP and TLS starts.
    ForeignProtocol,
}

const KINDS: [Kind; 10] = [
    Kind::Random,
    Kind::TruncatedFrame,
    Kind::OversizedIntermediate,
    Kind::OversizedAbridged,
    Kind::GarbageAfterHeader,
    Kind::RandomObfuscatedHeader,
    Kind::UnknownKey,
    Kind::BadKeyExchange,
    Kind::FullBadCrc,
    Kind::ForeignProtocol,
];

impl Kind {
    /// Whether the server must close the connection because of the input itself (the
    /// others may leave it waiting for more bytes: the client half-closes them).
    fn breaks_connection(self) -> bool {
        !matches!(self, Kind::Random | Kind::TruncatedFrame)
    }

    /// Whether the server must refuse the transport.
    fn refuses_transport(self) -> bool {
        matches!(self, Kind::RandomObfuscatedHeader | Kind::ForeignProtocol)
    }
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// Input `i` of the hostile run.
fn hostile_input(kind: Kind, rng: &mut StdRng) -> Vec<u8> {
    const MAX_FRAME: u32 = 4 << 20;
    match kind {
        Kind::Random => {
            let len = rng.gen_range(1..=4096);
            random_bytes(rng, len)
        }
        Kind::TruncatedFrame => {
            let len = rng.gen_range(4..=1024u32) * 4;
            let mut out = vec![0xee; 4];
            out.extend_from_slice(&len.to_le_bytes());
            let sent = rng.gen_range(0..len as usize);
            out.extend(random_bytes(rng, sent));
            out
        }
        Kind::OversizedIntermediate => {
            let len = rng.gen_range(MAX_FRAME / 4 + 1..=0x7fff_ffff / 4) * 4;
            let mut out = vec![0xee; 4];
            out.extend_from_slice(&len.to_le_bytes());
            let tail = rng.gen_range(0..256);
            out.extend(random_bytes(rng, tail));
            out
        }
        Kind::OversizedAbridged => {
            let words: u32 = rng.gen_range(MAX_FRAME / 4 + 1..=0x00ff_ffff);
            let mut out = vec![0xef, 0x7f];
            out.extend_from_slice(&words.to_le_bytes()[..3]);
            let tail = rng.gen_range(0..256);
            out.extend(random_bytes(rng, tail));
            out
        }
        Kind::GarbageAfterHeader => {
            let mut out = vec![0xee; 4];
            let len = rng.gen_range(4..=512);
            let mut garbage = random_bytes(rng, len);
            // A length that is not a multiple of 4 (and not a quick-ack flag): no frame.
            garbage[0] = (garbage[0] & !3) | rng.gen_range(1..=3);
            garbage[3] &= 0x7f;
            out.extend(garbage);
            out
        }
        Kind::RandomObfuscatedHeader => {
            let len = 64 + rng.gen_range(0..512);
            let mut out = random_bytes(rng, len);
            // What a client may send as an obfuscated2 header in clear: not a plain
            // transport's tag, not HTTP or TLS, bytes 4..8 not zero.
            out[0] = rng.gen_range(0x00..=0x0f);
            out[4] |= 1;
            out
        }
        Kind::UnknownKey => {
            let mut key_id = rng.gen::<i64>();
            if key_id == 0 {
                key_id = 1;
            }
            let mut packet = key_id.to_le_bytes().to_vec();
            let blocks = rng.gen_range(2..=16);
            packet.extend(random_bytes(rng, 16 + 16 * blocks));
            let mut out = vec![0xee; 4];
            out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
            out.extend(packet);
            out
        }
        Kind::BadKeyExchange => {
            let body_len = rng.gen_range(1..=64) * 4;
            let mut packet = vec![0u8; 8];
            packet.extend_from_slice(&rng.gen::<i64>().to_le_bytes());
            packet.extend_from_slice(&(body_len as u32).to_le_bytes());
            // Never req_pq / req_pq_multi (a random id is one with probability 2^-31).
            let mut body = random_bytes(rng, body_len);
            body[0] ^= 0x55;
            packet.extend(body);
            let mut out = vec![0xee; 4];
            out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
            out.extend(packet);
            out
        }
        Kind::FullBadCrc => {
            let payload_len = rng.gen_range(1..=64) * 4;
            let len = 12 + payload_len as u32;
            let mut out = len.to_le_bytes().to_vec();
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend(random_bytes(rng, payload_len));
            let crc = crc32(&out) ^ rng.gen_range(1..=u32::MAX);
            out.extend_from_slice(&crc.to_le_bytes());
            out
        }
        Kind::ForeignProtocol => {
            let starts: [&[u8]; 5] = [
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                b"POST /api HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
                b"HEAD / HTTP/1.0\r\n\r\n",
                b"OPTIONS * HTTP/1.1\r\n\r\n",
                &[
                    0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
                ],
            ];
            let mut out = starts[rng.gen_range(0..starts.len())].to_vec();
            let tail = rng.gen_range(0..128);
            out.extend(random_bytes(rng, tail));
            out
        }
    }
}

/// CRC-32 (IEEE), bit by bit: only to make a wrong one on purpose.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// How one hostile connection ended.
#[derive(Debug)]
enum Ending {
    /// The server closed it; what it wrote first.
    Closed(Vec<u8>),
    /// Still open after the deadline.
    Hung,
    /// Could not connect.
    ConnectFailed(String),
}

/// Sends one hostile input on a fresh connection and waits until the server closes it.
/// Inputs that need not break the connection are followed by a half-close.
async fn hostile_connection(addr: SocketAddr, kind: Kind, input: &[u8]) -> Ending {
    let mut stream = match TcpStream::connect(addr).await {
        Ok(stream) => stream,
        Err(e) => return Ending::ConnectFailed(e.to_string()),
    };
    // The server may close before reading everything: a failed write is fine.
    let _ = stream.write_all(input).await;
    if !kind.breaks_connection() {
        let _ = stream.shutdown().await;
    }
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    match read {
        Ok(()) => Ending::Closed(received),
        Err(_) => Ending::Hung,
    }
}

#[derive(Debug, Default)]
struct KindTally {
    sent: usize,
    closed: usize,
    replies: BTreeMap<Vec<u8>, usize>,
    problems: Vec<String>,
}

/// The hostile run: returns the tally by kind.
async fn hostile_run(addr: SocketAddr, seed: u64) -> BTreeMap<Kind, KindTally> {
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(BTreeMap::<Kind, KindTally>::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..HOSTILE_WORKERS {
        let next = next.clone();
        let tally = tally.clone();
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= HOSTILE {
                    break;
                }
                let kind = KINDS[i % KINDS.len()];
                let mut rng = StdRng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9e37_79b9));
                let input = hostile_input(kind, &mut rng);
                let ending = hostile_connection(addr, kind, &input).await;
                let mut tally = tally.lock().unwrap();
                let entry = tally.entry(kind).or_default();
                entry.sent += 1;
                match ending {
                    Ending::Closed(reply) => {
                        entry.closed += 1;
                        *entry.replies.entry(reply).or_default() += 1;
                    }
                    Ending::Hung => entry.problems.push(format!("input {i}: still open")),
                    Ending::ConnectFailed(e) => {
                        entry.problems.push(format!("input {i}: connect: {e}"))
                    }
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.expect("a hostile worker panicked");
    }
    Arc::try_unwrap(tally)
        .expect("the workers are done")
        .into_inner()
        .unwrap()
}

/// Opens the idle connections, then waits for each to be closed by the server: how long
/// each stayed open (`None`: not closed within the bound).
async fn idle_run(addr: SocketAddr) -> Vec<Option<Duration>> {
    let mut streams = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        let stream = TcpStream::connect(addr)
            .await
            .expect("open an idle connection");
        streams.push((Instant::now(), stream));
    }
    let mut waits = tokio::task::JoinSet::new();
    for (i, (opened, mut stream)) in streams.into_iter().enumerate() {
        waits.spawn(async move {
            let mut buf = [0u8; 64];
            let closed = tokio::time::timeout(IDLE_TIMEOUT * 10, async {
                loop {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            (i, closed.ok().map(|()| opened.elapsed()))
        });
    }
    let mut lifetimes = vec![None; IDLE];
    while let Some(done) = waits.join_next().await {
        let (i, lifetime) = done.expect("an idle waiter panicked");
        lifetimes[i] = lifetime;
    }
    lifetimes
}

#[derive(Debug, Default)]
struct GoodRecord {
    calls: usize,
    failures: Vec<String>,
    max_latency: Duration,
    total_latency: Duration,
}

#[tokio::test]
async fn hostile_and_idle_clients_leave_a_good_client_unharmed() {
    let wall = Instant::now();
    let limits = ServerLimits {
        idle_timeout: IDLE_TIMEOUT,
        ..ServerLimits::default()
    };
    let server = ServerThread::start(limits, vec![Account::new(GOOD_PHONE)]);
    let dc = server.dc.clone();
    let addr = dc.addr(1);
    let hwm_before = proc_status_kib("VmHWM");
    let rss_before = proc_status_kib("VmRSS");

    // The good client: one key exchange, a login, then a call every 100 ms until the
    // hostile and idle runs are over, then a check that the login held.
    let connecting = Instant::now();
    let (conn, _events) = Connection::connect(client_config(addr))
        .await
        .expect("the good client connects");
    eprintln!(
        "good client: connected (key exchange) in {:?}",
        connecting.elapsed()
    );
    let user_id = project_tests::raw_login::log_in(&conn, GOOD_PHONE, CODE, "hostile test")
        .await
        .expect("the good client logs in");
    assert_eq!(Some(user_id), dc.backend().user_id(GOOD_PHONE));

    let seed = rand::thread_rng().gen::<u64>();
    eprintln!("hostile inputs seeded with {seed:#x}");
    let (stop_good, mut good_stopped) = tokio::sync::watch::channel(false);
    let good_conn = conn.clone();
    let good = tokio::spawn(async move {
        let mut record = GoodRecord::default();
        let mut tick = tokio::time::interval(GOOD_PERIOD);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = good_stopped.changed() => break,
            }
            let started = Instant::now();
            let answer: Result<enums::NearestDc, InvokeError> = good_conn
                .invoke(&functions::help::GetNearestDc::new())
                .await;
            let latency = started.elapsed();
            record.calls += 1;
            record.max_latency = record.max_latency.max(latency);
            record.total_latency += latency;
            match answer {
                Ok(enums::NearestDc::NearestDc(nearest)) if nearest.this_dc == 1 => {}
                other => record
                    .failures
                    .push(format!("call {}: {other:?}", record.calls)),
            }
        }
        record
    });

    let hostile_started = Instant::now();
    let (tally, lifetimes) = tokio::join!(
        async {
            let tally = hostile_run(addr, seed).await;
            eprintln!(
                "{HOSTILE} hostile connections done in {:?}",
                hostile_started.elapsed()
            );
            tally
        },
        idle_run(addr),
    );
    let stats_mid = dc.server(1).stats();
    // A little longer, so the good client also runs when the server is quiet again.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop_good.send(true).expect("the good client listens");
    let record = good.await.expect("the good client's task");

    // The login held through all of it.
    let me = conn
        .invoke(&functions::users::GetUsers::new(vec![
            enums::InputUser::Self_,
        ]))
        .await
        .expect("users.getUsers after the storm");
    assert!(
        matches!(me.as_slice(), [enums::User::User(u)] if u.id == user_id && u.self_),
        "users.getUsers([self]) = {me:?}"
    );
    let status = conn.status();
    conn.close();

    // Let the server notice the good client left, then read the counters.
    let deadline = Instant::now() + Duration::from_secs(10);
    while dc.server(1).connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open_after = dc.server(1).connections();
    let stats = dc.server(1).stats();
    let hwm_after = proc_status_kib("VmHWM");
    let rss_after = proc_status_kib("VmRSS");

    // --- The figures -----------------------------------------------------------------
    eprintln!("good client: {record:?}");
    eprintln!(
        "good client: {} calls, mean latency {:?}, max {:?}; status {status:?}",
        record.calls,
        record.total_latency / record.calls.max(1) as u32,
        record.max_latency
    );
    for (kind, t) in &tally {
        let replies: Vec<String> = t
            .replies
            .iter()
            .map(|(bytes, n)| format!("{n}x {}", hex::encode(bytes)))
            .collect();
        eprintln!(
            "{kind:?}: sent {}, closed by the server {}, replies [{}], problems {}",
            t.sent,
            t.closed,
            replies.join(", "),
            t.problems.len()
        );
    }
    let closed_lifetimes: Vec<Duration> = lifetimes.iter().flatten().copied().collect();
    let shortest = closed_lifetimes.iter().min().copied();
    let longest = closed_lifetimes.iter().max().copied();
    eprintln!(
        "idle: {} of {IDLE} closed by the server, open for {shortest:?}..{longest:?}",
        closed_lifetimes.len()
    );
    eprintln!(
        "server: connections {}, refused_connections {}, idle_closed {}, broken {}, \
         refused_transports {}, unknown_key_errors {}, key_exchanges {}, requests {}; \
         open now {open_after}",
        stats.connections,
        stats.refused_connections,
        stats.idle_closed,
        stats.broken_connections,
        stats.refused_transports.len(),
        stats.unknown_key_errors,
        stats.key_exchanges,
        stats.requests
    );
    let mut reasons = BTreeMap::<&str, usize>::new();
    for reason in &stats.refused_transports {
        // "unknown protocol tag 0x...": one entry for every tag.
        let reason = reason.split(" tag 0x").next().unwrap_or(reason);
        *reasons.entry(reason).or_default() += 1;
    }
    eprintln!("refused transports by reason: {reasons:?}");
    eprintln!(
        "peak RSS (VmHWM) {hwm_before} KiB -> {hwm_after} KiB (+{} KiB); RSS {rss_before} KiB \
         -> {rss_after} KiB",
        hwm_after.saturating_sub(hwm_before)
    );
    eprintln!("wall time {:?}", wall.elapsed());

    // --- The good client -------------------------------------------------------------
    assert!(
        record.failures.is_empty(),
        "good calls failed: {:?}",
        record.failures
    );
    let expected_calls = (hostile_started.elapsed().as_millis() / GOOD_PERIOD.as_millis()) / 2;
    assert!(
        record.calls as u128 >= expected_calls.max(10),
        "the good client made only {} calls",
        record.calls
    );
    assert_eq!(
        status.connections, 1,
        "the good client never lost its connection"
    );

    // --- The hostile connections -----------------------------------------------------
    let mut expected_broken = 0;
    let mut expected_refused = 0;
    for kind in KINDS {
        let t = &tally[&kind];
        assert!(
            t.problems.is_empty(),
            "{kind:?}: {:?}",
            &t.problems[..t.problems.len().min(5)]
        );
        assert_eq!(
            (t.sent, t.closed),
            (HOSTILE / KINDS.len(), HOSTILE / KINDS.len()),
            "{kind:?}"
        );
        if kind.breaks_connection() {
            expected_broken += t.sent;
        }
        if kind.refuses_transport() {
            expected_refused += t.sent;
        }
    }
    // Each packet under an unknown key got the -404, and nothing else.
    let unknown = &tally[&Kind::UnknownKey];
    assert_eq!(
        unknown.replies.get(NO_SUCH_KEY_FRAME.as_slice()).copied(),
        Some(unknown.sent),
        "replies to unknown keys: {:?}",
        unknown.replies
    );
    // The other inputs that break the connection get no answer at all.
    for kind in KINDS
        .into_iter()
        .filter(|k| k.breaks_connection() && *k != Kind::UnknownKey)
    {
        assert_eq!(
            tally[&kind].replies.get(&Vec::new()).copied(),
            Some(tally[&kind].sent),
            "{kind:?} replies: {:?}",
            tally[&kind]
                .replies
                .keys()
                .take(3)
                .map(hex::encode)
                .collect::<Vec<_>>()
        );
    }
    assert!(
        (expected_broken as u64..=HOSTILE as u64).contains(&stats.broken_connections),
        "broken_connections {} (at least {expected_broken} inputs break a connection; only the \
         {HOSTILE} hostile ones may)",
        stats.broken_connections
    );
    assert!(
        stats.refused_transports.len() >= expected_refused,
        "refused_transports {} < {expected_refused}",
        stats.refused_transports.len()
    );
    assert!(
        stats.unknown_key_errors >= unknown.sent as u64,
        "unknown_key_errors {} < {}",
        stats.unknown_key_errors,
        unknown.sent
    );
    assert_eq!(stats.key_exchanges, 1, "only the good client made a key");
    assert_eq!(stats.refused_connections, 0);
    assert_eq!(
        stats.connections,
        (HOSTILE + IDLE + 1) as u64,
        "every connection was accepted"
    );

    // --- The idle connections --------------------------------------------------------
    assert_eq!(
        closed_lifetimes.len(),
        IDLE,
        "idle connections the server never closed: {}",
        IDLE - closed_lifetimes.len()
    );
    let shortest = shortest.expect("idle connections were closed");
    assert!(
        shortest >= IDLE_TIMEOUT - Duration::from_millis(100),
        "an idle connection was closed after only {shortest:?}"
    );
    // Exactly the idle ones: no hostile input was left to the idle timer.
    assert_eq!(stats.idle_closed, IDLE as u64);
    assert!(
        stats_mid.idle_closed >= IDLE as u64,
        "{}",
        stats_mid.idle_closed
    );
    assert_eq!(open_after, 0, "connections still open on the server");

    // --- Memory ----------------------------------------------------------------------
    let growth = hwm_after.saturating_sub(hwm_before);
    assert!(
        growth < MAX_PEAK_GROWTH_KIB,
        "peak RSS grew by {growth} KiB (bound {MAX_PEAK_GROWTH_KIB} KiB)"
    );
}

#[tokio::test]
async fn max_connections_is_enforced() {
    const MAX: usize = 16;
    let limits = ServerLimits {
        max_connections: MAX,
        ..ServerLimits::default()
    };
    let server = ServerThread::start(limits, vec![Account::new(GOOD_PHONE)]);
    let dc = server.dc.clone();
    let addr = dc.addr(1);

    let mut held = Vec::new();
    for _ in 0..MAX {
        held.push(TcpStream::connect(addr).await.expect("connect"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while dc.server(1).connections() < MAX && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(dc.server(1).connections(), MAX);

    // One more raw connection: closed at once, without a byte.
    let mut extra = TcpStream::connect(addr).await.expect("the kernel accepts");
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read(&mut buf))
        .await
        .expect("the server closes the extra connection at once");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    // A client of our runtime is refused too.
    let mut config = client_config(addr);
    config.connect_timeout = Duration::from_secs(5);
    let refused = Connection::connect(config).await;
    assert!(refused.is_err(), "a client got in past the limit");
    let stats = dc.server(1).stats();
    assert!(
        stats.refused_connections >= 2,
        "refused_connections {}",
        stats.refused_connections
    );
    assert_eq!(dc.server(1).connections(), MAX);
    eprintln!(
        "with {MAX} open: refused_connections {}, connections {}",
        stats.refused_connections, stats.connections
    );

    // Half of the held connections leave; a new client gets in and is answered.
    held.truncate(MAX / 2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while dc.server(1).connections() > MAX / 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(dc.server(1).connections(), MAX / 2);
    let refused_before = dc.server(1).stats().refused_connections;
    let (conn, _events) = Connection::connect(client_config(addr))
        .await
        .expect("a client gets in once others closed");
    let user_id = project_tests::raw_login::log_in(&conn, GOOD_PHONE, CODE, "hostile test")
        .await
        .expect("log in");
    assert_eq!(Some(user_id), dc.backend().user_id(GOOD_PHONE));
    let nearest = conn
        .invoke(&functions::help::GetNearestDc::new())
        .await
        .expect("help.getNearestDc");
    let enums::NearestDc::NearestDc(nearest) = nearest;
    assert_eq!(nearest.this_dc, 1);
    assert_eq!(dc.server(1).stats().refused_connections, refused_before);
    assert_eq!(dc.server(1).connections(), MAX / 2 + 1);
    conn.close();
    drop(held);
}
