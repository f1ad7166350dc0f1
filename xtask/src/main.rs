//! Project automation, run as `cargo xtask <command>` (the alias lives in `.cargo/config.toml`).

mod bench;
mod bindings;
mod codegen;
mod fuzz;
mod load;
mod netem;
mod node;
mod python;
mod schema;
mod sim;

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

/// Command-line interface of `cargo xtask`.
#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project automation")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Schema tools: check, diff, import-json.
    Schema {
        #[command(subcommand)]
        command: SchemaCmd,
    },
    /// Generate the bindings (`runtime/proto/src/generated/`, `auth-api/src/generated/`; see `xtask/src/bindings.rs`).
    Codegen {
        /// Do not write; fail if the checked-in files differ from a fresh generation.
        #[arg(long)]
        check: bool,
        /// Generate the entire layer-230 API as a standalone crate instead (see `--out`).
        #[arg(long)]
        all: bool,
        /// Output folder of `--all` (default `target/tl-api-all`).
        #[arg(long, requires = "all")]
        out: Option<PathBuf>,
    },
    /// Measure ours beside the peers (grammers 0.11, libcrypto, Telethon 1.45) in one run: one line per figure (`bench/`, `BENCHMARKS.md`).
    Bench {
        /// Shorter measurements, fewer logins, one build round (what CI runs).
        #[arg(long)]
        quick: bool,
    },
    /// Create `.venv` with the Python oracle packages of `tests/requirements.txt`.
    PySetup,
    /// Install the npm oracles (mtcute) of `tests/js/package-lock.json` into `tests/js/node_modules`.
    JsSetup,
    /// Run the cargo-fuzz targets of `fuzz/`, each in turn (installs cargo-fuzz if missing).
    Fuzz {
        /// Seconds per target.
        #[arg(long, default_value_t = fuzz::DEFAULT_SECONDS)]
        seconds: u64,
        /// Only this target (default: all of `fuzz/Cargo.toml`'s).
        target: Option<String>,
    },
    /// Load against the test DC on loopback: logins at once, then requests for a while
    /// (`tests/load`); fails on any error.
    Load {
        /// Concurrent clients.
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// Seconds of requests after the logins.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Perfect forward secrecy on (a temporary key per client as well).
        #[arg(long)]
        pfs: bool,
    },
    /// The client against the test DC across a real faulty link (network namespace, TUN
    /// devices, 5 % loss, duplication, 100 ± 50 ms delay, a 10 s partition); needs root.
    Netem {
        /// Concurrent clients.
        #[arg(long, default_value_t = 20)]
        clients: usize,
        /// Seconds of requests after the logins.
        #[arg(long, default_value_t = 40)]
        seconds: u64,
    },
    /// Run the deterministic simulator (`tests/sim`) over seeded fault schedules.
    Sim {
        /// How many seeds.
        #[arg(long, default_value_t = 1000)]
        seeds: u64,
        /// The first seed.
        #[arg(long, default_value_t = 0)]
        start: u64,
        /// Replay only this seed, printing its schedule and report.
        #[arg(long, conflicts_with_all = ["seeds", "start"])]
        seed: Option<u64>,
    },
    /// Run the whole test suite (sets up the Python and npm oracles first).
    Test {
        /// Extra arguments passed to `cargo test`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum SchemaCmd {
    /// Parse and validate schema files; print a summary line per file, or every error.
    Check {
        /// The `.tl` files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// What changes from OLD to NEW: added, removed, id or params changed; then a summary.
    Diff {
        /// The schema before.
        old: PathBuf,
        /// The schema after.
        new: PathBuf,
    },
    /// Convert Telegram's JSON schema form to TL text on stdout.
    ImportJson {
        /// The `.json` file.
        file: PathBuf,
        /// Write `// LAYER N` as the first line.
        #[arg(long)]
        layer: Option<u32>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Schema { command } => match command {
            SchemaCmd::Check { files } => schema::check_files(&files),
            SchemaCmd::Diff { old, new } => schema::diff_files(&old, &new),
            SchemaCmd::ImportJson { file, layer } => schema::import_json(&file, layer),
        },
        Cmd::Codegen { check, all, out } => {
            let root = workspace_root();
            if all {
                let out = out.unwrap_or_else(|| codegen::default_all_dir(&root));
                codegen::generate_all(&root, &out)
            } else {
                codegen::run(&root, check)
            }
        }
        Cmd::Bench { quick } => bench::run(&workspace_root(), quick),
        Cmd::PySetup => python::setup(&workspace_root()).map(|_| ExitCode::SUCCESS),
        Cmd::JsSetup => node::setup(&workspace_root()).map(|_| ExitCode::SUCCESS),
        Cmd::Fuzz { seconds, target } => fuzz::run(&workspace_root(), seconds, target.as_deref()),
        Cmd::Load {
            clients,
            seconds,
            pfs,
        } => load::run(&workspace_root(), clients, seconds, pfs),
        Cmd::Netem { clients, seconds } => netem::run(&workspace_root(), clients, seconds),
        Cmd::Sim { seeds, start, seed } => sim::run(&workspace_root(), seeds, start, seed),
        Cmd::Test { args } => run_tests(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the parent of the xtask crate.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent folder")
        .to_path_buf()
}

fn run_tests(args: &[String]) -> Result<ExitCode, String> {
    let root = workspace_root();
    let python = python::setup(&root)?;
    let node = node::setup(&root)?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&root)
        .env("ORACLE_PYTHON", python)
        .env("ORACLE_NODE", node)
        .args(["test", "--workspace"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo test: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
