//! `cargo xtask load [--clients N] [--seconds S] [--pfs]`: builds `mtproto-load` and the
//! `test-dc` binary in release mode and runs the load (`tests/load`): N clients log in at
//! once to the test DC on loopback, then send requests for S seconds. Fails if any login or
//! request failed.

use std::path::Path;
use std::process::{Command, ExitCode};

/// Builds and runs the load.
pub fn run(root: &Path, clients: usize, seconds: u64, pfs: bool) -> Result<ExitCode, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(&cargo)
        .current_dir(root)
        .args(["build", "--release", "-p", "mtproto-load", "-p", "test-dc"])
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err("building mtproto-load and test-dc failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut cmd = Command::new(target.join("release/mtproto-load"));
    cmd.current_dir(root)
        .args(["--clients", &clients.to_string()])
        .args(["--seconds", &seconds.to_string()])
        .arg("--out")
        .arg(target.join("load"));
    if pfs {
        cmd.arg("--pfs");
    }
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run mtproto-load: {e}"))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
