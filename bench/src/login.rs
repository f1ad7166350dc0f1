//! Whole logins on loopback against the test DC, run in a child process of its own (so that
//! neither side's memory or CPU is counted as the other's): ours (`auth_api::client::Client`)
//! and Telethon 1.45 with cryptg, one after the other on the same DC; and many of ours at
//! once in another child process, for wall time and memory per signed-in client.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_api::client::{Client, ClientConfig, MemoryStore, SessionStore, SignIn};
use mtproto_crypto::RsaPublicKey;

use crate::harness::{percentile, Figure, Unit};

/// The login code of every account of the bench DC.
pub const CODE: &str = "13579";
/// The DC the bench accounts live on.
pub const DC: i32 = 1;

/// The `n`-th bench account's phone number (homed on DC 1).
pub fn phone(n: usize) -> String {
    format!("+9996610{n:04}")
}

/// `serve-dc`: a one-DC test DC with `users` accounts; prints `ready ADDR` and serves until
/// stdin closes.
pub fn serve_dc(users: usize, pem_out: &Path) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut builder = test_dc::TestDc::builder().dcs(1).code(CODE);
        for i in 0..users {
            builder = builder.user(test_dc::Account::new(phone(i)));
        }
        let dc = builder.start().await.map_err(|e| e.to_string())?;
        std::fs::write(pem_out, dc.public_key_pem()).map_err(|e| e.to_string())?;
        println!("ready {}", dc.addr(DC));
        std::io::stdout().flush().ok();
        // Serve until the parent closes our stdin (or dies).
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin()
                .read_line(&mut line)
                .map(|n| n > 0)
                .unwrap_or(false)
            {
                line.clear();
            }
        })
        .await
        .map_err(|e| e.to_string())?;
        drop(dc);
        Ok(())
    })
}

/// A test DC in a child process.
pub struct DcProcess {
    child: Child,
    /// Its DC 1.
    pub addr: SocketAddr,
    /// Its public key (PKCS#1 PEM file).
    pub pem: PathBuf,
}

impl DcProcess {
    /// Starts `serve-dc` with `users` accounts.
    pub fn start(users: usize, scratch: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
        let pem = scratch.join("dc-public.pem");
        let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
            .args(["serve-dc", "--users", &users.to_string(), "--pem-out"])
            .arg(&pem)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the DC: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().ok_or("no stdout")?)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let addr = line
            .strip_prefix("ready ")
            .and_then(|a| a.trim().parse().ok())
            .ok_or_else(|| format!("the DC printed {line:?}"))?;
        Ok(Self { child, addr, pem })
    }

    /// The DC's public key.
    pub fn public_key(&self) -> RsaPublicKey {
        let pem = std::fs::read_to_string(&self.pem).expect("the DC wrote its key");
        RsaPublicKey::from_pem(&pem).expect("a PKCS#1 key")
    }
}

impl Drop for DcProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// A client configuration for the bench DC.
pub fn config(addr: SocketAddr, key: &RsaPublicKey, pfs: bool) -> ClientConfig {
    ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        [(DC, addr)],
        DC,
        vec![key.clone()],
    )
    .pfs(pfs)
}

/// Signs `phone` in with `client`.
async fn sign_in(client: &Client, phone: &str) -> Result<(), String> {
    let token = client
        .send_code(phone)
        .await
        .map_err(|e| e.to_string())?
        .into_code()
        .map_err(|e| e.to_string())?;
    match client
        .sign_in(&token, CODE)
        .await
        .map_err(|e| e.to_string())?
    {
        SignIn::SignedIn(_) => Ok(()),
        other => Err(format!("not signed in: {other:?}")),
    }
}

/// `n` logins one after the other, each a new client (connect, key exchange unless a stored
/// session is given, send_code, sign_in); latencies in ms.
async fn our_logins(
    config: &ClientConfig,
    n: usize,
    stored: Option<&[auth_api::client::SessionData]>,
) -> Result<Vec<f64>, String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut config = config.clone();
        let store = Arc::new(MemoryStore::new());
        if let Some(session) = stored.and_then(|s| s.get(i)) {
            store.save(session).map_err(|e| e.to_string())?;
        }
        config.store = store;
        let start = Instant::now();
        let client = Client::new(config).map_err(|e| e.to_string())?;
        sign_in(&client, &phone(i % 100)).await?;
        out.push(start.elapsed().as_secs_f64() * 1e3);
        drop(client);
    }
    Ok(out)
}

/// A session holding a key (exchanged, not signed in), for the stored-key logins.
async fn keyed_session(config: &ClientConfig) -> Result<auth_api::client::SessionData, String> {
    let client = Client::new(config.clone()).map_err(|e| e.to_string())?;
    client.is_authorized().await.map_err(|e| e.to_string())?;
    Ok(client.session().await)
}

/// Telethon's logins: `tests/py`-style script `bench/py/telethon_login.py`; latencies in ms.
fn telethon_logins(
    python: &Path,
    root: &Path,
    dc: &DcProcess,
    n: usize,
    stored: bool,
) -> Result<Vec<f64>, String> {
    let plan = serde_json::json!({
        "pem": std::fs::read_to_string(&dc.pem).map_err(|e| e.to_string())?,
        "port": dc.addr.port(),
        "dc": DC,
        "code": CODE,
        "phones": (0..100).map(phone).collect::<Vec<_>>(),
        "count": n,
        "stored": stored,
    });
    let mut child = Command::new(python)
        .arg(root.join("bench/py/telethon_login.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run Telethon: {e}"))?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(plan.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "Telethon's logins failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("Telethon printed: {e}"))?;
    json["ms"]
        .as_array()
        .ok_or("no latencies")?
        .iter()
        .map(|v| v.as_f64().ok_or_else(|| "not a number".to_string()))
        .collect()
}

fn pair(name: &str, ours: &mut [f64], peer: &mut [f64], p: f64, peer_name: &'static str) -> Figure {
    Figure {
        name: name.into(),
        ours: percentile(ours, p),
        peer: Some(percentile(peer, p)),
        peer_name,
        unit: Unit::Ms,
        how: format!("p{p} of {} / {} sequential logins", ours.len(), peer.len()),
    }
}

/// What the login figures measured (latencies kept for the plot).
pub struct LoginRun {
    /// The figures.
    pub figures: Vec<Figure>,
    /// Every latency, in ms: ours, Telethon.
    pub latencies: (Vec<f64>, Vec<f64>),
}

/// `login_p50`, `login_p99` (against Telethon), `login_pfs_p50`, `login_stored_key_p50`
/// (against Telethon with a stored session).
pub fn figures(
    n: usize,
    root: &Path,
    python: Option<&Path>,
    scratch: &Path,
) -> Result<LoginRun, String> {
    let dc = DcProcess::start(100, scratch)?;
    let key = dc.public_key();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let plain = config(dc.addr, &key, false);
    let (mut ours, mut pfs, mut stored) = rt.block_on(async {
        // Warm-up: the DC's first logins and ours.
        our_logins(&plain, 3, None).await?;
        let ours = our_logins(&plain, n, None).await?;
        let pfs = our_logins(&config(dc.addr, &key, true), n.div_ceil(2), None).await?;
        // One key per login, as each returning user has its own: clients sharing a key
        // would share the DC's one session per key.
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            sessions.push(keyed_session(&plain).await?);
        }
        let stored = our_logins(&plain, n, Some(&sessions)).await?;
        Ok::<_, String>((ours, pfs, stored))
    })?;
    let mut figures = Vec::new();
    let telethon_name = "Telethon 1.45 + cryptg, same DC";
    let mut telethon = Vec::new();
    match python {
        Some(python) => {
            telethon = telethon_logins(python, root, &dc, n, false)?;
            let mut telethon_stored = telethon_logins(python, root, &dc, n, true)?;
            figures.push(pair(
                "login_p50",
                &mut ours,
                &mut telethon,
                50.0,
                telethon_name,
            ));
            figures.push(pair(
                "login_p99",
                &mut ours,
                &mut telethon,
                99.0,
                telethon_name,
            ));
            figures.push(pair(
                "login_stored_key_p50",
                &mut stored,
                &mut telethon_stored,
                50.0,
                telethon_name,
            ));
        }
        None => {
            let alone = |name: &str, values: &mut Vec<f64>, p: f64| Figure {
                name: name.into(),
                ours: percentile(values, p),
                peer: None,
                peer_name: "",
                unit: Unit::Ms,
                how: format!(
                    "p{p} of {} sequential logins (no Python: Telethon skipped)",
                    values.len()
                ),
            };
            figures.push(alone("login_p50", &mut ours, 50.0));
            figures.push(alone("login_p99", &mut ours, 99.0));
            figures.push(alone("login_stored_key_p50", &mut stored, 50.0));
        }
    }
    figures.push(Figure {
        name: "login_pfs_p50".into(),
        ours: percentile(&mut pfs, 50.0),
        peer: None,
        peer_name: "",
        unit: Unit::Ms,
        how: format!(
            "p50 of {} sequential logins, permanent + temporary key",
            pfs.len()
        ),
    });
    Ok(LoginRun {
        figures,
        latencies: (ours, telethon),
    })
}

/// This process's resident set, in KiB (`/proc/self/status`).
pub fn rss_kib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `swarm`: `clients` logins at once from this process; prints one JSON object
/// (`wall_s`, `rss_before_kib`, `rss_after_kib`, `failed`) after the clients sat idle.
pub fn swarm(clients: usize, addr: SocketAddr, pem: &Path, pfs: bool) -> Result<(), String> {
    let key = RsaPublicKey::from_pem(&std::fs::read_to_string(pem).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let before = rss_kib().unwrap_or(f64::NAN);
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..clients {
            let mut config = config(addr, &key, pfs);
            config.connect_timeout = Duration::from_secs(120);
            config.request_timeout = Duration::from_secs(120);
            tasks.spawn(async move {
                let client = Client::new(config).map_err(|e| e.to_string())?;
                sign_in(&client, &phone(i)).await?;
                Ok::<_, String>(client)
            });
        }
        let mut kept = Vec::with_capacity(clients);
        let mut failed = 0usize;
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(client)) => kept.push(client),
                Ok(Err(e)) => {
                    failed += 1;
                    eprintln!("login failed: {e}");
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("login task failed: {e}");
                }
            }
        }
        let wall = start.elapsed().as_secs_f64();
        // Idle, signed in, connected.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss_kib().unwrap_or(f64::NAN);
        println!(
            "{}",
            serde_json::json!({
                "wall_s": wall, "rss_before_kib": before, "rss_after_kib": after,
                "signed_in": kept.len(), "failed": failed,
            })
        );
        drop(kept);
        Ok(())
    })
}

/// `logins_1000` (wall time) and `rss_per_idle_client` from a `swarm` child process.
pub fn swarm_figures(clients: usize, scratch: &Path) -> Result<Vec<Figure>, String> {
    let dc = DcProcess::start(clients, scratch)?;
    let out = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(["swarm", "--clients", &clients.to_string(), "--addr"])
        .arg(dc.addr.to_string())
        .arg("--pem")
        .arg(&dc.pem)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("the swarm failed".into());
    }
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("the swarm printed: {e}"))?;
    let num = |k: &str| json[k].as_f64().unwrap_or(f64::NAN);
    let signed_in = num("signed_in");
    if signed_in as usize != clients {
        return Err(format!("only {signed_in} of {clients} clients signed in"));
    }
    Ok(vec![
        Figure {
            name: format!("logins_{clients}"),
            ours: num("wall_s"),
            peer: None,
            peer_name: "",
            unit: Unit::S,
            how: format!("wall time, {clients} concurrent logins in one process, DC in another"),
        },
        Figure {
            name: "rss_per_idle_client".into(),
            ours: (num("rss_after_kib") - num("rss_before_kib")) / clients as f64,
            peer: None,
            peer_name: "",
            unit: Unit::KiB,
            how: format!("(RSS with {clients} idle signed-in clients - RSS before) / {clients}"),
        },
    ])
}
