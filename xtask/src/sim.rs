//! `cargo xtask sim`: builds the deterministic simulator (`tests/sim`, crate `mtproto-sim`)
//! in release mode and runs it: `--seeds N [--start S]`, or `--seed S` to replay one schedule
//! (printed with its report). A failing seed prints the command that replays it.

use std::path::Path;
use std::process::{Command, ExitCode};

/// Runs the simulator over `seeds` seeds from `start`, or only `seed`.
pub fn run(root: &Path, seeds: u64, start: u64, seed: Option<u64>) -> Result<ExitCode, String> {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(root)
        .args(["run", "--quiet", "--release", "-p", "mtproto-sim", "--"]);
    match seed {
        Some(seed) => command.args(["--seed", &seed.to_string()]),
        None => command.args(["--seeds", &seeds.to_string(), "--start", &start.to_string()]),
    };
    let status = command
        .status()
        .map_err(|e| format!("cannot run the simulator: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
