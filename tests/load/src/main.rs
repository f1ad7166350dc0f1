//! `mtproto-load` (run it as `cargo xtask load --clients N --seconds S`): N clients of
//! `auth_api::client` log in at once to the test DC (a child process) on loopback, sit idle
//! (memory per idle session), then each sends `ping` and `help.getConfig` in turn for S
//! seconds. Prints requests/s, latency p50/p99, errors and memory, one line each, and exits
//! non-zero if any login or request failed.

mod dc;
mod latency;
mod memory;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use auth_api::client::{Client, ClientConfig, SignIn};
use auth_api::{functions, mtproto};
use clap::Parser;
use latency::Recorder;
use mtproto_crypto::RsaPublicKey;

/// Command line.
#[derive(Parser)]
#[command(name = "mtproto-load", about = "Load against the test DC on loopback")]
struct Args {
    /// Concurrent clients (each signs in, then sends requests one after the other).
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Seconds of requests after the logins.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Perfect forward secrecy (a temporary key per client as well).
    #[arg(long)]
    pfs: bool,
    /// Where the DC's public key and `load.json` go.
    #[arg(long, default_value = "target/load")]
    out: PathBuf,
    /// Only serve the test DC (with the accounts of `--clients`) on this address until
    /// killed; prints `ready`. The clients then run with `--connect` (another process,
    /// possibly in another network namespace).
    #[arg(long, conflicts_with = "connect")]
    serve_dc: Option<SocketAddr>,
    /// Use the DC at this address instead of starting one (`--pem` is its key).
    #[arg(long, requires = "pem")]
    connect: Option<SocketAddr>,
    /// The public key of the `--connect` DC (PKCS#1 PEM).
    #[arg(long)]
    pem: Option<PathBuf>,
    /// Over a faulty link: a request that fails with an error still has its outcome; only
    /// requests with no outcome at all (lost) fail the run. Errors are reported.
    #[arg(long)]
    faulty_link: bool,
}

/// What one client did during the request phase.
struct ClientRun {
    latencies: Recorder,
    errors: Vec<String>,
    /// Requests that got no outcome at all within the deadline.
    lost: u64,
}

/// Past this, a request without an answer or an error counts as lost (the client's own
/// request timeout is 120 s).
const LOST_AFTER: Duration = Duration::from_secs(180);

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config(addr: SocketAddr, key: &RsaPublicKey, pfs: bool) -> ClientConfig {
    let mut config = ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        [(1, addr)],
        1,
        vec![key.clone()],
    )
    .pfs(pfs);
    // Under load, a request waits behind many: generous limits, so that a failure means a
    // real failure and not a busy machine.
    config.connect_timeout = Duration::from_secs(120);
    config.request_timeout = Duration::from_secs(120);
    // Reconnect through outages (a partition of the faulty link) instead of giving up.
    config.reconnect.max_attempts = None;
    config
}

async fn sign_in(client: &Client, phone: &str) -> Result<(), String> {
    let token = client
        .send_code(phone)
        .await
        .and_then(|sent| sent.into_code())
        .map_err(|e| format!("{phone}: send_code: {e}"))?;
    match client.sign_in(&token, dc::CODE).await {
        Ok(SignIn::SignedIn(_)) => Ok(()),
        Ok(other) => Err(format!("{phone}: not signed in: {other:?}")),
        Err(e) => Err(format!("{phone}: sign_in: {e}")),
    }
}

/// Requests until `deadline`: `ping` and `help.getConfig` in turn, each answer checked.
async fn requests(client: Client, deadline: Instant) -> ClientRun {
    let mut run = ClientRun {
        latencies: Recorder::default(),
        errors: Vec::new(),
        lost: 0,
    };
    let mut n: i64 = 0;
    while Instant::now() < deadline {
        n += 1;
        let start = Instant::now();
        let call = async {
            if n % 2 == 0 {
                client
                    .invoke(&mtproto::functions::Ping { ping_id: n })
                    .await
                    .map_err(|e| format!("ping: {e}"))
                    .and_then(|mtproto::enums::Pong::Pong(p)| {
                        (p.ping_id == n)
                            .then_some(())
                            .ok_or_else(|| format!("pong {} for ping {n}", p.ping_id))
                    })
            } else {
                client
                    .invoke(&functions::help::GetConfig {})
                    .await
                    .map(drop)
                    .map_err(|e| format!("help.getConfig: {e}"))
            }
        };
        match tokio::time::timeout(LOST_AFTER, call).await {
            Ok(Ok(())) => run.latencies.record(start.elapsed().as_micros() as u64),
            Ok(Err(e)) => run.errors.push(e),
            Err(_) => run.lost += 1,
        }
    }
    run
}

fn line(name: &str, value: f64, unit: &str, how: &str) {
    println!("{name} ours={value:.3} peer=- ratio=- ({unit}, {how})");
}

fn run(args: &Args) -> Result<bool, String> {
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    if let Some(listen) = args.serve_dc {
        let dc = dc::DcProcess::start(args.clients, listen, &args.out)?;
        println!("ready {}", dc.addr);
        std::io::Write::flush(&mut std::io::stdout()).ok();
        // Serve until killed.
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    let local = match args.connect {
        Some(_) => None,
        None => Some(dc::DcProcess::start(
            args.clients,
            SocketAddr::from(([127, 0, 0, 1], 0)),
            &args.out,
        )?),
    };
    let (addr, key) = match (&local, &args.connect, &args.pem) {
        (Some(dc), _, _) => (dc.addr, dc.key.clone()),
        (None, Some(addr), Some(pem)) => {
            let text =
                std::fs::read_to_string(pem).map_err(|e| format!("{}: {e}", pem.display()))?;
            let key = RsaPublicKey::from_pem(&text).map_err(|e| e.to_string())?;
            (*addr, key)
        }
        _ => return Err("--connect needs --pem".into()),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let rss_before = memory::rss_kib().unwrap_or(f64::NAN);
        // Logins, all at once.
        let start = Instant::now();
        let mut logins = tokio::task::JoinSet::new();
        for i in 0..args.clients {
            let config = config(addr, &key, args.pfs);
            logins.spawn(async move {
                let client = Client::new(config).map_err(|e| e.to_string())?;
                sign_in(&client, &dc::phone(i)).await?;
                Ok::<_, String>(client)
            });
        }
        let mut clients = Vec::with_capacity(args.clients);
        let mut login_errors = Vec::new();
        while let Some(done) = logins.join_next().await {
            match done {
                Ok(Ok(client)) => clients.push(client),
                Ok(Err(e)) => login_errors.push(e),
                Err(e) => login_errors.push(format!("login task: {e}")),
            }
        }
        let login_wall = start.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_idle = memory::rss_kib().unwrap_or(f64::NAN);

        // Requests.
        let start = Instant::now();
        let deadline = start + Duration::from_secs(args.seconds);
        let mut tasks = tokio::task::JoinSet::new();
        for client in clients.iter().cloned() {
            tasks.spawn(requests(client, deadline));
        }
        let mut all = Recorder::default();
        let mut errors = Vec::new();
        let mut lost = 0u64;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(run) => {
                    all.merge(run.latencies);
                    errors.extend(run.errors);
                    lost += run.lost;
                }
                Err(e) => errors.push(format!("request task: {e}")),
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        let requests = all.count();
        let signed_in = clients.len();
        drop(clients);

        let n = args.clients;
        line(
            "load_logins_wall",
            login_wall,
            "s",
            &format!("{n} concurrent logins"),
        );
        line(
            "load_login_errors",
            login_errors.len() as f64,
            "count",
            "must be 0",
        );
        line(
            "load_requests_per_s",
            requests as f64 / elapsed,
            "requests/s",
            &format!("{n} clients, ping and help.getConfig in turn, {elapsed:.1} s"),
        );
        line(
            "load_latency_p50",
            all.percentile_ms(50.0),
            "ms",
            &format!("of {requests} requests"),
        );
        line(
            "load_latency_p99",
            all.percentile_ms(99.0),
            "ms",
            &format!("of {requests} requests"),
        );
        let must = if args.faulty_link {
            "reported: over a faulty link a request may fail clearly"
        } else {
            "must be 0"
        };
        line("load_request_errors", errors.len() as f64, "count", must);
        line(
            "load_requests_lost",
            lost as f64,
            "count",
            "no outcome within 180 s: must be 0",
        );
        line(
            "load_rss_per_idle_session",
            (rss_idle - rss_before) / n as f64,
            "KiB",
            &format!("(RSS with {n} idle signed-in clients - RSS before) / {n}"),
        );
        line(
            "load_peak_rss_clients",
            memory::peak_rss_kib().unwrap_or(f64::NAN) / 1024.0,
            "MiB",
            "client process VmHWM",
        );
        if let Some(dc) = &local {
            line(
                "load_peak_rss_dc",
                dc.peak_rss_kib().unwrap_or(f64::NAN) / 1024.0,
                "MiB",
                "test DC process VmHWM",
            );
        }
        for e in login_errors.iter().chain(&errors).take(10) {
            eprintln!("error: {e}");
        }
        let report = serde_json::json!({
            "clients": n, "seconds": args.seconds, "pfs": args.pfs,
            "signed_in": signed_in, "login_wall_s": login_wall,
            "login_errors": login_errors.len(), "requests": requests,
            "requests_per_s": requests as f64 / elapsed,
            "p50_ms": all.percentile_ms(50.0), "p99_ms": all.percentile_ms(99.0),
            "request_errors": errors.len(),
            "requests_lost": lost,
            "rss_per_idle_session_kib": (rss_idle - rss_before) / n as f64,
            "peak_rss_clients_kib": memory::peak_rss_kib(),
            "peak_rss_dc_kib": local.as_ref().and_then(|dc| dc.peak_rss_kib()),
        });
        let path = args.out.join("load.json");
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&report).unwrap_or_default(),
        )
        .map_err(|e| format!("{}: {e}", path.display()))?;
        let errors_ok = errors.is_empty() || args.faulty_link;
        Ok(login_errors.is_empty() && errors_ok && lost == 0 && signed_in == n && requests > 0)
    })
}
