//! `cargo xtask bench [--quick]`: every figure of `BENCHMARKS.md`, ours beside the peer's,
//! measured in one run, one line each:
//! `NAME ours=VALUE peer=VALUE ratio=OURS/PEER (UNIT, HOW; peer: WHO)`.
//!
//! 1. builds `bench/` (its own workspace: the peers never enter the main one) in release mode
//!    and runs `auth-bench run`: the timed figures, alternating ours and the peer's;
//! 2. counts instructions per call of the sub-microsecond figures with callgrind (exact and
//!    repeatable whatever the machine's load: the ratios CI can hold);
//! 3. times release builds: the whole layer-230 API crate (`codegen --all`) against
//!    `grammers-tl-types`, alternating, dependencies prebuilt; and `auth-api`.
//!
//! Results go to `target/bench/` (`--quick`) or `bench/results/` (the full run, whose
//! figures.json and plots `BENCHMARKS.md` shows).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Figures whose instructions per call callgrind counts, and the iterations of the two runs
/// whose difference is counted (so start-up and set-up cancel out).
const COUNTED: [(&str, u64, u64); 7] = [
    ("serialize_send_code", 1_000, 11_000),
    ("serialize_send_code_reused", 1_000, 11_000),
    ("deserialize_authorization", 1_000, 11_000),
    ("ige_encrypt_1kib", 200, 2_200),
    ("encrypt_message_1kib", 200, 2_200),
    ("decrypt_message_1kib", 200, 2_200),
    ("factorize_pq", 256, 512),
];

/// Runs everything; `quick` shortens each part (CI runs it so the harness keeps working).
pub fn run(root: &Path, quick: bool) -> Result<ExitCode, String> {
    let target = target_dir(root);
    let out = if quick {
        target.join("bench")
    } else {
        root.join("bench/results")
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    cargo(root)
        .args(["build", "--release", "--manifest-path"])
        .arg(root.join("bench/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status_ok("build bench/")?;
    let bench = target.join("release/auth-bench");
    let python = match crate::python::setup(root) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!("xtask: no Python oracles ({e}): Telethon's logins are skipped");
            None
        }
    };

    println!("\n== timed figures (ours against the peer, alternating rounds)");
    let mut cmd = Command::new(&bench);
    cmd.arg("run")
        .arg("--root")
        .arg(root)
        .arg("--out")
        .arg(&out)
        .args(["--clients", if quick { "200" } else { "1000" }]);
    if quick {
        cmd.arg("--quick");
    }
    if let Some(python) = &python {
        cmd.arg("--python").arg(python);
    }
    cmd.status_ok("auth-bench run")?;

    println!("\n== instructions per call (callgrind: exact, independent of the machine's load)");
    let counts = match instruction_counts(&bench) {
        Ok(lines) => lines,
        Err(e) => {
            println!("skipped: {e}");
            Vec::new()
        }
    };
    for line in &counts {
        println!("{line}");
    }

    println!("\n== release build times (dependencies prebuilt, alternating)");
    let builds = build_times(root, &target, if quick { 1 } else { 3 })?;
    for line in &builds {
        println!("{line}");
    }
    let lines: Vec<String> = counts.into_iter().chain(builds).collect();
    let path = out.join("xtask-figures.txt");
    std::fs::write(&path, lines.join("\n") + "\n")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nresults: {}", out.display());
    Ok(ExitCode::SUCCESS)
}

fn cargo(root: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root);
    c
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

trait StatusOk {
    fn status_ok(&mut self, what: &str) -> Result<(), String>;
}

impl StatusOk for Command {
    fn status_ok(&mut self, what: &str) -> Result<(), String> {
        let status = self
            .status()
            .map_err(|e| format!("cannot run {what}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{what} failed ({status})"))
        }
    }
}

/// Instructions of `auth-bench count FIGURE [--peer] --iters N` under callgrind.
fn instructions(bench: &Path, figure: &str, peer: bool, iters: u64) -> Result<u64, String> {
    let mut cmd = Command::new("valgrind");
    cmd.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
        .arg(bench)
        .args(["count", figure, "--iters", &iters.to_string()]);
    if peer {
        cmd.arg("--peer");
    }
    let out = cmd
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "callgrind of {figure} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // "==PID== Collected : 123456"
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.split("Collected :").nth(1))
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("callgrind printed no count for {figure}"))
}

fn instruction_counts(bench: &Path) -> Result<Vec<String>, String> {
    Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("valgrind is not installed ({e}; Debian's package valgrind)"))?;
    let mut lines = Vec::new();
    for (figure, low, high) in COUNTED {
        let per_call = |peer: bool| -> Result<f64, String> {
            let a = instructions(bench, figure, peer, low)?;
            let b = instructions(bench, figure, peer, high)?;
            Ok(b.saturating_sub(a) as f64 / (high - low) as f64)
        };
        let (ours, peer) = (per_call(false)?, per_call(true)?);
        lines.push(format!(
            "{figure}_instructions ours={ours:.0} peer={peer:.0} ratio={:.2} (instructions per call, callgrind, ({high} - {low}) calls; peer: as {figure})",
            ours / peer
        ));
    }
    Ok(lines)
}

/// The scratch workspace of the build-time figures: the whole API crate (generated as
/// `cargo xtask codegen --all` does) and a crate depending on `grammers-tl-types` 0.11 with
/// the features the bench uses.
fn build_workspace(root: &Path, target: &Path) -> Result<PathBuf, String> {
    let dir = target.join("bench-build");
    let all = dir.join("tl-api-all");
    crate::codegen::generate_all(root, &all)?;
    // The generated crate declares itself a workspace; here it is a member instead.
    let manifest = all.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| e.to_string())?;
    std::fs::write(&manifest, text.replace("\n[workspace]\n", "\n")).map_err(|e| e.to_string())?;
    let peer = dir.join("peer-types");
    std::fs::create_dir_all(peer.join("src")).map_err(|e| e.to_string())?;
    let files = [
        (
            dir.join("Cargo.toml"),
            "[workspace]\nresolver = \"2\"\nmembers = [\"tl-api-all\", \"peer-types\"]\n",
        ),
        (
            peer.join("Cargo.toml"),
            "[package]\nname = \"peer-types\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\ngrammers-tl-types = { version = \"=0.11.0\", features = [\"tl-mtproto\"] }\n",
        ),
        (peer.join("src/lib.rs"), "pub use grammers_tl_types;\n"),
    ];
    for (path, text) in files {
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(dir)
}

/// Seconds to build `package` in release mode after cleaning only it.
fn timed_build(dir: &Path, target: &Path, manifest: &Path, package: &str) -> Result<f64, String> {
    cargo(dir)
        .args([
            "clean",
            "--release",
            "--quiet",
            "-p",
            package,
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target)
        .status_ok(&format!("cargo clean -p {package}"))?;
    let start = Instant::now();
    cargo(dir)
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            package,
            "--manifest-path",
        ])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target)
        .status_ok(&format!("cargo build -p {package}"))?;
    Ok(start.elapsed().as_secs_f64())
}

fn build_times(root: &Path, target: &Path, rounds: usize) -> Result<Vec<String>, String> {
    let dir = build_workspace(root, target)?;
    let manifest = dir.join("Cargo.toml");
    let build_target = target.join("bench-build-target");
    // Dependencies first, untimed.
    cargo(&dir)
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&build_target)
        .status_ok("prebuild the build-time workspace")?;
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let o = || timed_build(&dir, &build_target, &manifest, "tl-api-all");
        let p = || timed_build(&dir, &build_target, &manifest, "grammers-tl-types");
        if round % 2 == 0 {
            ours.push(o()?);
            peer.push(p()?);
        } else {
            peer.push(p()?);
            ours.push(o()?);
        }
    }
    let (o, p) = (median(&mut ours), median(&mut peer));
    let main_manifest = root.join("Cargo.toml");
    cargo(root)
        .args(["build", "--release", "--quiet", "-p", "auth-api"])
        .status_ok("prebuild auth-api's dependencies")?;
    let mut auth = Vec::new();
    for _ in 0..rounds {
        auth.push(timed_build(root, target, &main_manifest, "auth-api")?);
    }
    let a = median(&mut auth);
    Ok(vec![
        format!(
            "build_api_all ours={o:.1} peer={p:.1} ratio={:.2} (s, release build of the whole layer-230 API crate, median of {rounds} alternating rounds; peer: grammers-tl-types 0.11 with tl-mtproto, its build script included)",
            o / p
        ),
        format!(
            "build_auth_api ours={a:.1} peer=- ratio=- (s, release build of auth-api alone, dependencies prebuilt, median of {rounds})"
        ),
    ])
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}
