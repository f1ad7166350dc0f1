//! `cargo xtask fuzz [--seconds N] [TARGET]`: runs the cargo-fuzz targets of `fuzz/` one
//! after the other, each for `N` seconds, and reports their figures.
//!
//! cargo-fuzz needs nightly flags (`-Zsanitizer`); the stable toolchain accepts them with
//! `RUSTC_BOOTSTRAP=1`, which this sets. `cargo-fuzz` itself is installed
//! (`cargo install cargo-fuzz --locked`) when it is missing. The fuzz crate is built in
//! `$CARGO_FUZZ_TARGET_DIR`, else `<root>/target/fuzz` (never the main target folder: the
//! sanitizer flags would rebuild everything there).
//!
//! The big-number crates ([`UNINSTRUMENTED`]) are compiled without coverage instrumentation,
//! through a small `RUSTC_WRAPPER` script this writes into the fuzz target folder: with
//! comparisons traced in their inner loops, a 2048-bit modular exponentiation took about half
//! a second and the key-exchange targets ran one input per second. Their branches are not
//! what is fuzzed (our checks of the numbers are), and AddressSanitizer still checks them.
//! (Cargo's per-package profile flags cannot do this: they come before cargo-fuzz's flags,
//! and the last `-sanitizer-coverage-*` wins.) A plain `cargo fuzz run` builds everything
//! instrumented: correct, slower, and a separate build.
//!
//! Each target starts from its corpus `fuzz/corpus/<target>/` (the checked-in `seed-*` files,
//! plus whatever earlier local runs added, which git ignores). Per target it prints the
//! coverage lines libFuzzer reports at the start and at the end, then executions, execs/s,
//! coverage, features, corpus size and peak memory; the whole libFuzzer output goes to
//! `fuzz/logs/<target>.log`. A crash (or a leak, timeout or out-of-memory) fails the run
//! after the remaining targets ran, naming the input libFuzzer saved under
//! `fuzz/artifacts/<target>/`; `tests/tests/fuzz_regressions.rs` is where it becomes a test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

/// Seconds per target when `--seconds` is not given.
pub const DEFAULT_SECONDS: u64 = 60;

/// Crates compiled without coverage instrumentation (see the module docs).
pub const UNINSTRUMENTED: &[&str] = &["num_bigint", "crypto_bigint", "crypto_primes"];

/// Longest a single input may run before libFuzzer calls it a timeout.
const UNIT_TIMEOUT_SECS: u64 = 60;

/// Runs `target` (or every target) for `seconds` each.
pub fn run(root: &Path, seconds: u64, target: Option<&str>) -> Result<ExitCode, String> {
    let fuzz_dir = root.join("fuzz");
    let all = targets(&fuzz_dir)?;
    let chosen: Vec<String> = match target {
        None => all,
        Some(t) if all.iter().any(|a| a == t) => vec![t.to_string()],
        Some(t) => {
            return Err(format!(
                "no fuzz target `{t}`; the targets are: {}",
                all.join(", ")
            ))
        }
    };
    ensure_cargo_fuzz()?;
    let target_dir = std::env::var_os("CARGO_FUZZ_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/fuzz"));
    let logs = fuzz_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;

    let wrapper = write_wrapper(&target_dir)?;

    eprintln!(
        "xtask: building the fuzz targets in {}",
        target_dir.display()
    );
    let mut build = cargo_fuzz(root, &fuzz_dir, &target_dir, &wrapper, "build");
    if let [one] = &chosen[..] {
        build.arg(one);
    }
    let status = build
        .status()
        .map_err(|e| format!("cannot run cargo fuzz build: {e}"))?;
    if !status.success() {
        return Err(format!("cargo fuzz build failed with {status}"));
    }

    let mut failures = Vec::new();
    for target in &chosen {
        let dirs = Dirs {
            root,
            fuzz: &fuzz_dir,
            target: &target_dir,
            wrapper: &wrapper,
            logs: &logs,
        };
        let report = run_target(&dirs, target, seconds)?;
        println!("{target}: {}", report.summary());
        if let Some(problem) = report.problem {
            failures.push(format!("{target}: {problem}"));
        }
    }
    if failures.is_empty() {
        println!(
            "xtask: {} target(s), {seconds} s each, no crash",
            chosen.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("xtask: fuzzing found problems:");
        for f in &failures {
            eprintln!("  {f}");
        }
        eprintln!(
            "Reproduce one with `RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz <target> \
             <artifact>`, then add it to tests/tests/fuzz_regressions.rs."
        );
        Ok(ExitCode::FAILURE)
    }
}

/// The `[[bin]]` names of `fuzz/Cargo.toml`, in order.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>, String> {
    let manifest = fuzz_dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest)
        .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let names: Vec<String> = text
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| {
            let line = section
                .lines()
                .find(|l| l.trim_start().starts_with("name"))?;
            let (_, value) = line.split_once('=')?;
            Some(value.trim().trim_matches('"').to_string())
        })
        .collect();
    if names.is_empty() {
        return Err(format!("{} lists no [[bin]] targets", manifest.display()));
    }
    Ok(names)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Installs cargo-fuzz when `cargo fuzz` is not available.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = Command::new(cargo())
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz (cargo install cargo-fuzz --locked)");
    let status = Command::new(cargo())
        .args(["install", "cargo-fuzz", "--locked"])
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("cargo install cargo-fuzz failed with {status}"))
    }
}

/// Writes the `RUSTC_WRAPPER` script that compiles [`UNINSTRUMENTED`] without the
/// coverage pass (and everything else as it is); returns its path.
fn write_wrapper(target_dir: &Path) -> Result<PathBuf, String> {
    let crates: Vec<String> = UNINSTRUMENTED
        .iter()
        .map(|c| format!("*\" --crate-name {c} \"*"))
        .collect();
    let script = format!(
        "#!/bin/sh\n\
         # Written by `cargo xtask fuzz` (xtask/src/fuzz.rs): rustc without the coverage pass\n\
         # for the big-number crates.\n\
         rustc=\"$1\"\n\
         shift\n\
         case \" $* \" in\n\
         {}) for arg do\n\
         \x20   shift\n\
         \x20   case \"$arg\" in\n\
         \x20     -Cpasses=sancov-module|-Cllvm-args=-sanitizer-coverage*) ;;\n\
         \x20     *) set -- \"$@\" \"$arg\" ;;\n\
         \x20   esac\n\
         \x20 done ;;\n\
         esac\n\
         exec \"$rustc\" \"$@\"\n",
        crates.join("|")
    );
    std::fs::create_dir_all(target_dir)
        .map_err(|e| format!("cannot create {}: {e}", target_dir.display()))?;
    let path = target_dir.join("rustc-uninstrumented-bignum");
    if std::fs::read_to_string(&path).ok().as_deref() != Some(script.as_str()) {
        std::fs::write(&path, &script)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
    }
    Ok(path)
}

/// The folders of a run.
struct Dirs<'a> {
    root: &'a Path,
    fuzz: &'a Path,
    target: &'a Path,
    wrapper: &'a Path,
    logs: &'a Path,
}

/// `cargo fuzz <command>` for this repository's fuzz crate.
fn cargo_fuzz(
    root: &Path,
    fuzz_dir: &Path,
    target_dir: &Path,
    wrapper: &Path,
    command: &str,
) -> Command {
    // Cargo's fingerprints ignore the wrapper: a flag of its own keeps these builds apart
    // from uninstrumented-everywhere ones in a shared folder (cargo-fuzz appends RUSTFLAGS).
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    rustflags.push_str(" --cfg=xtask_fuzz_bignum_uninstrumented");
    let mut cmd = Command::new(cargo());
    cmd.current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTC_WRAPPER", wrapper)
        .env("RUSTFLAGS", rustflags.trim_start())
        // The main build's target folder is not the fuzz build's (see the module docs).
        .env_remove("CARGO_TARGET_DIR")
        .args(["fuzz", command, "--fuzz-dir"])
        .arg(fuzz_dir)
        .arg("--target-dir")
        .arg(target_dir);
    cmd
}

/// What one target's run gave.
#[derive(Debug, Default)]
struct Report {
    /// libFuzzer's final status line (`#N DONE cov: ... exec/s: ...`).
    done: Option<String>,
    /// `stat::number_of_executed_units`.
    execs: Option<u64>,
    /// `stat::average_exec_per_sec`.
    execs_per_sec: Option<u64>,
    /// `stat::peak_rss_mb`.
    peak_rss_mb: Option<u64>,
    /// A crash, leak, timeout or failure to run, with the artifact when there is one.
    problem: Option<String>,
}

impl Report {
    fn summary(&self) -> String {
        let field = |name: &str| {
            self.done.as_deref().and_then(|line| {
                let at = line.find(&format!("{name}: "))?;
                line[at + name.len() + 2..].split_whitespace().next()
            })
        };
        let show = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
        format!(
            "{} execs, {} execs/s, cov {}, ft {}, corpus {}, peak RSS {} MB{}",
            show(self.execs),
            show(self.execs_per_sec),
            field("cov").unwrap_or("?"),
            field("ft").unwrap_or("?"),
            field("corp").unwrap_or("?"),
            show(self.peak_rss_mb),
            if self.problem.is_some() {
                " — FAILED"
            } else {
                ""
            },
        )
    }
}

fn run_target(dirs: &Dirs<'_>, target: &str, seconds: u64) -> Result<Report, String> {
    let log_path = dirs.logs.join(format!("{target}.log"));
    let mut log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    eprintln!(
        "xtask: fuzzing {target} for {seconds} s (log: {})",
        log_path.display()
    );
    let mut child = cargo_fuzz(dirs.root, dirs.fuzz, dirs.target, dirs.wrapper, "run")
        .arg(target)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={UNIT_TIMEOUT_SECS}"))
        .arg("-print_final_stats=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo fuzz run {target}: {e}"))?;
    // libFuzzer writes to stderr; cargo's own messages too. Stdout is drained on a thread
    // so that neither pipe can fill up and block the child.
    let stdout = child.stdout.take().expect("piped");
    let out_thread = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    let mut report = Report::default();
    let mut artifact = None;
    let stderr = child.stderr.take().expect("piped");
    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        let _ = writeln!(log, "{line}");
        let stat = |name: &str| {
            line.strip_prefix(name)
                .and_then(|v| v.trim_start_matches(':').trim().parse::<u64>().ok())
        };
        // `#212\tINITED cov: ...` and `#64828\tDONE   cov: ...`.
        let coverage = line.starts_with('#') && line.contains("cov: ");
        if coverage && (line.contains("INITED") || line.contains("DONE")) {
            eprintln!("  {line}");
        }
        if coverage && line.contains("DONE") {
            report.done = Some(line.clone());
        }
        if let Some(v) = stat("stat::number_of_executed_units") {
            report.execs = Some(v);
        }
        if let Some(v) = stat("stat::average_exec_per_sec") {
            report.execs_per_sec = Some(v);
        }
        if let Some(v) = stat("stat::peak_rss_mb") {
            report.peak_rss_mb = Some(v);
        }
        if line.contains("panicked at")
            || line.starts_with("==")
            || line.starts_with("SUMMARY:")
            || line.contains("Test unit written to")
        {
            eprintln!("  {line}");
        }
        if let Some((_, path)) = line.split_once("Test unit written to ") {
            artifact = Some(path.trim().to_string());
        }
    }
    for line in out_thread.join().unwrap_or_default() {
        let _ = writeln!(log, "{line}");
    }
    let status = child
        .wait()
        .map_err(|e| format!("cargo fuzz run {target}: {e}"))?;
    if !status.success() {
        report.problem = Some(match artifact {
            Some(path) => format!("failed ({status}); the input is {path}"),
            None => format!(
                "failed ({status}) without an artifact; see {}",
                log_path.display()
            ),
        });
    }
    Ok(report)
}
