//! Rough load figures for the test DC (run by hand, not a test):
//!
//! ```text
//! cargo run --release -p project-tests --example test_dc_load [-- SECONDS CLIENTS]
//! ```
//!
//! One DC (fixed code `12345`, 100 registered accounts `+99966 2 0000` ... `+99966 2 0099`)
//! served by a current-thread runtime on a thread of its own; the clients (our runtime's
//! `mtproto_net::Connection`) on another current-thread runtime on the main thread. Two
//! phases of SECONDS each (10 by default) with CLIENTS clients (100 by default):
//!
//! 1. full logins: each client in a loop connects with no key (a fresh key exchange: RSA
//!    and DH over 2048 bits on both sides), sends `auth.sendCode` (inside
//!    `invokeWithLayer` + `initConnection`) and `auth.signIn` for its own account, closes;
//! 2. logins on a kept key: each client connects once (before the clock starts), then
//!    repeats `auth.sendCode` + `auth.signIn`.
//!
//! Prints logins/s, key exchanges/s (the server's count), failures, the CPU time the process
//! used (of the two threads' wall time), and its peak RSS (`VmHWM`, both sides together).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtproto_net::{Backoff, ConnectConfig, Connection};
use test_dc::{Account, TestDc};

const CODE: &str = "12345";

fn phone(i: usize) -> String {
    format!("+999662{i:04}")
}

/// A field of `/proc/self/status` in KiB.
fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn config(addr: SocketAddr) -> ConnectConfig {
    let mut config = ConnectConfig::new(
        addr,
        1,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.request_timeout = Duration::from_secs(30);
    config.connect_timeout = Duration::from_secs(30);
    config.reconnect = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(500),
        max_attempts: Some(3),
    };
    config
}

#[derive(Default)]
struct Counters {
    logins: AtomicU64,
    failures: AtomicU64,
    /// Time spent in `Connection::connect` (the key exchange), summed over clients, in µs.
    connect_us: AtomicU64,
    connects: AtomicU64,
    /// Time spent in sendCode + signIn, summed over clients, in µs.
    login_us: AtomicU64,
}

/// The process's CPU time so far (user + system), from `/proc/self/stat` (in clock ticks
/// of 10 ms, Linux's `USER_HZ`).
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // The fields after the command name (which is in parentheses).
            let rest = stat.rsplit_once(')')?.1.to_string();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime: fields 14 and 15 of the whole line.
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Runs `clients` clients for `duration`; `fresh_key`: a new connection (and key) per
/// login, else each client connects once before the clock starts and keeps its key.
async fn phase(
    addr: SocketAddr,
    clients: usize,
    duration: Duration,
    fresh_key: bool,
) -> (Arc<Counters>, Duration) {
    let counters = Arc::new(Counters::default());
    let mut kept = Vec::new();
    if !fresh_key {
        let mut connects = tokio::task::JoinSet::new();
        for i in 0..clients {
            connects.spawn(async move {
                let (conn, _events) = Connection::connect(config(addr))
                    .await
                    .unwrap_or_else(|e| panic!("client {i}: connect: {e}"));
                (i, conn)
            });
        }
        while let Some(done) = connects.join_next().await {
            kept.push(done.expect("a connect task panicked"));
        }
        kept.sort_by_key(|(i, _)| *i);
    }
    let mut kept = kept.into_iter().map(|(_, conn)| conn);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let counters = counters.clone();
        let kept = kept.next();
        tasks.spawn(async move {
            let phone = phone(i);
            while Instant::now() < deadline {
                let connecting = Instant::now();
                let conn = match &kept {
                    Some(conn) => conn.clone(),
                    None => match Connection::connect(config(addr)).await {
                        Ok((conn, _events)) => {
                            let us = connecting.elapsed().as_micros() as u64;
                            counters.connect_us.fetch_add(us, Ordering::Relaxed);
                            counters.connects.fetch_add(1, Ordering::Relaxed);
                            conn
                        }
                        Err(e) => {
                            eprintln!("client {i}: connect: {e}");
                            counters.failures.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                    },
                };
                let logging_in = Instant::now();
                match project_tests::raw_login::log_in(&conn, &phone, CODE, "load example").await {
                    Ok(_) => {
                        let us = logging_in.elapsed().as_micros() as u64;
                        counters.login_us.fetch_add(us, Ordering::Relaxed);
                        counters.logins.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("client {i}: {e}");
                        counters.failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if kept.is_none() {
                    conn.close();
                }
            }
            if let Some(conn) = kept {
                conn.close();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a client task panicked");
    }
    (counters, started.elapsed())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let duration = Duration::from_secs(seconds);

    // The server: its own thread and runtime.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the server's runtime");
        runtime.block_on(async move {
            let mut builder = TestDc::builder().dcs(1).code(CODE);
            for i in 0..clients {
                builder = builder.user(Account::new(phone(i)));
            }
            let dc = Arc::new(builder.start().await.expect("start the test DC"));
            ready_tx.send(dc.clone()).expect("main waits");
            let _ = stop_rx.await;
            drop(dc);
        });
    });
    let dc = ready_rx.recv().expect("the test DC started");
    let addr = dc.addr(1);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the clients' runtime");
    println!(
        "test DC load: {clients} clients, {seconds} s per phase, server and clients on one \
         current-thread runtime each ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("VmHWM at start: {} KiB", proc_status_kib("VmHWM"));

    for (fresh_key, name) in [
        (true, "full logins (key exchange + sendCode + signIn)"),
        (false, "logins on a kept key (sendCode + signIn)"),
    ] {
        let kex_before = dc.server(1).stats().key_exchanges;
        let cpu_before = cpu_time();
        let (counters, elapsed) = runtime.block_on(phase(addr, clients, duration, fresh_key));
        let kex = dc.server(1).stats().key_exchanges - kex_before;
        let cpu = cpu_time().saturating_sub(cpu_before);
        let logins = counters.logins.load(Ordering::Relaxed);
        let connects = counters.connects.load(Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let mean_ms =
            |us: &AtomicU64, n: u64| us.load(Ordering::Relaxed) as f64 / 1e3 / n.max(1) as f64;
        println!(
            "  mean time per client: connect (key exchange) {:.1} ms over {connects}, sendCode + \
             signIn {:.1} ms",
            mean_ms(&counters.connect_us, connects),
            mean_ms(&counters.login_us, logins)
        );
        println!(
            "{name}: {logins} in {secs:.1} s = {:.1} logins/s; key exchanges {kex} ({}); \
             failures {}; CPU {:.1} s of {:.1} s available; VmHWM {} KiB",
            logins as f64 / secs,
            if fresh_key {
                format!("{:.1}/s", kex as f64 / secs)
            } else {
                "before the clock started".to_string()
            },
            counters.failures.load(Ordering::Relaxed),
            cpu.as_secs_f64(),
            secs * 2.0,
            proc_status_kib("VmHWM")
        );
    }
    let stats = dc.server(1).stats();
    println!(
        "server: connections {}, key exchanges {}, requests {}, broken {}; VmRSS now {} KiB",
        stats.connections,
        stats.key_exchanges,
        stats.requests,
        stats.broken_connections,
        proc_status_kib("VmRSS")
    );

    drop(runtime);
    let _ = stop_tx.send(());
    let _ = server.join();
}
