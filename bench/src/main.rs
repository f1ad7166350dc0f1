//! `auth-bench`: our runtime and client side by side with their peers (grammers 0.11,
//! libcrypto, Telethon 1.45), in one process run, one line per figure. Run it through
//! `cargo xtask bench [--quick]`, which builds it in release mode, adds the instruction counts
//! (callgrind) and the build times, and prints every figure.

mod crypto;
mod harness;
mod kex;
mod login;
mod plot;
mod schema;
mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::{Figure, Plan};

#[derive(Parser)]
#[command(name = "auth-bench", about = "Benchmarks side by side with the peers")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Measure every figure (or `--only` some), print one line each, write `--out`.
    Run {
        /// Fewer, shorter rounds and fewer logins (checks the harness, rough figures).
        #[arg(long)]
        quick: bool,
        /// The project root (for `schema/` and `bench/py/`).
        #[arg(long)]
        root: PathBuf,
        /// Python with Telethon 1.45 and cryptg (the login peer); without it, no peer.
        #[arg(long)]
        python: Option<PathBuf>,
        /// Where figures.json and the SVG plots go.
        #[arg(long)]
        out: PathBuf,
        /// Only these groups: wire, crypto, kex, schema, login, swarm, series.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Clients of the concurrent-login figure.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
    },
    /// Run one figure's operation `iters` times, untimed (for `valgrind --tool=callgrind`).
    Count {
        /// The figure.
        figure: String,
        /// The peer's side instead of ours.
        #[arg(long)]
        peer: bool,
        /// Iterations.
        #[arg(long)]
        iters: u64,
    },
    /// A one-DC test DC with bench accounts (a child process of `run`).
    ServeDc {
        /// Accounts.
        #[arg(long)]
        users: usize,
        /// Where to write the DC's public key (PKCS#1 PEM).
        #[arg(long)]
        pem_out: PathBuf,
    },
    /// Many concurrent logins from one process (a child process of `run`).
    Swarm {
        /// Clients.
        #[arg(long)]
        clients: usize,
        /// The DC.
        #[arg(long)]
        addr: SocketAddr,
        /// The DC's public key.
        #[arg(long)]
        pem: PathBuf,
        /// Perfect forward secrecy on.
        #[arg(long)]
        pfs: bool,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Cmd::Run {
            quick,
            root,
            python,
            out,
            only,
            clients,
        } => run(quick, &root, python.as_deref(), &out, &only, clients),
        Cmd::Count {
            figure,
            peer,
            iters,
        } => count(&figure, peer, iters),
        Cmd::ServeDc { users, pem_out } => login::serve_dc(users, &pem_out),
        Cmd::Swarm {
            clients,
            addr,
            pem,
            pfs,
        } => login::swarm(clients, addr, &pem, pfs),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn count(figure: &str, peer: bool, iters: u64) -> Result<(), String> {
    let mut op = wire::count_op(figure, peer)
        .or_else(|| crypto::count_op(figure, peer))
        .or_else(|| schema::count_op(figure, peer))
        .ok_or_else(|| format!("no instruction count for {figure}"))?;
    for _ in 0..iters {
        op();
    }
    Ok(())
}

fn run(
    quick: bool,
    root: &Path,
    python: Option<&Path>,
    out: &Path,
    only: &[String],
    clients: usize,
) -> Result<(), String> {
    let plan = if quick { Plan::QUICK } else { Plan::FULL };
    let wanted = |group: &str| only.is_empty() || only.iter().any(|o| o == group);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut figures: Vec<Figure> = Vec::new();
    let emit = |new: Vec<Figure>, figures: &mut Vec<Figure>| {
        for f in new {
            println!("{}", f.line());
            figures.push(f);
        }
    };
    if wanted("wire") {
        emit(wire::figures(plan), &mut figures);
    }
    if wanted("crypto") {
        emit(crypto::figures(plan), &mut figures);
    }
    if wanted("kex") {
        emit(kex::figures(plan), &mut figures);
    }
    if wanted("schema") {
        emit(schema::figures(plan, root), &mut figures);
    }
    let mut extra = serde_json::Map::new();
    if wanted("login") {
        let n = if quick { 20 } else { 200 };
        let run = login::figures(n, root, python, &out.join("scratch"))?;
        emit(run.figures, &mut figures);
        let (ours, telethon) = run.latencies;
        let mut lines = vec![("ours (auth-api)".to_string(), ours.clone())];
        if !telethon.is_empty() {
            lines.push(("Telethon 1.45 + cryptg".to_string(), telethon.clone()));
        }
        plot::latency_cdf(
            &out.join("login_latency.svg"),
            "Login on loopback: connect, key exchange, send_code, sign_in",
            &lines,
        )?;
        extra.insert(
            "login_ms".into(),
            serde_json::json!({"ours": ours, "telethon": telethon}),
        );
    }
    // Derived: login against the key generation CPU measured above.
    let find = |name: &str| figures.iter().find(|f| f.name == name).map(|f| f.ours);
    if let (Some(login), Some(client), Some(server)) = (
        find("login_p50"),
        find("keygen_client"),
        find("keygen_server"),
    ) {
        let f = Figure {
            name: "login_p50_vs_keygen_cpu".into(),
            ours: login,
            peer: Some(client + server),
            peer_name: "keygen_client + keygen_server of this run",
            unit: harness::Unit::Ms,
            how: "login_p50 against the key generation CPU both sides spend".into(),
        };
        emit(vec![f], &mut figures);
    }
    if wanted("swarm") {
        emit(
            login::swarm_figures(clients, &out.join("scratch"))?,
            &mut figures,
        );
    }
    if wanted("series") {
        let series = crypto::series(if quick {
            Plan::QUICK
        } else {
            Plan { rounds: 7, ..plan }
        });
        write_series_plots(out, &series)?;
        extra.insert("series".into(), series);
    }
    let json = serde_json::json!({
        "quick": quick,
        "figures": figures.iter().map(Figure::json).collect::<Vec<_>>(),
        "extra": extra,
    });
    let path = out.join("figures.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

fn write_series_plots(out: &Path, series: &serde_json::Value) -> Result<(), String> {
    let line = |rows: &serde_json::Value, key: &str, name: &str| -> plot::Series {
        let points = rows
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| Some((r["size"].as_f64()?, r[key].as_f64()?)))
                    .collect()
            })
            .unwrap_or_default();
        (name.to_string(), points)
    };
    let ige = &series["ige_encrypt"];
    plot::throughput(
        &out.join("ige_throughput.svg"),
        "AES-256-IGE encryption",
        &[
            line(ige, "ours", "ours (mtproto-crypto)"),
            line(ige, "grammers", "grammers-crypto 0.11"),
            line(ige, "openssl_cbc", "libcrypto AES-256-CBC encrypt (limit)"),
        ],
    )?;
    let msg = &series["message"];
    plot::throughput(
        &out.join("message_throughput.svg"),
        "MTProto 2.0 message encryption and decryption",
        &[
            line(msg, "ours_encrypt", "ours encrypt"),
            line(msg, "grammers_encrypt", "grammers encrypt"),
            line(msg, "ours_decrypt", "ours decrypt"),
            line(msg, "grammers_decrypt", "grammers decrypt"),
        ],
    )
}
