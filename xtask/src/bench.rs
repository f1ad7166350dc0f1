//! `cargo xtask bench`: runs the criterion benchmarks and measures the peers in the same run,
//! then prints each of our figures next to the peer's and their ratio.
//!
//! Absolute times on a shared machine are noisy; the ratios, measured back to back, are what
//! to compare.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Sizes the IGE benchmark measures (bytes).
const IGE_SIZES: [u64; 3] = [1024, 16 * 1024, 1024 * 1024];

/// Runs the benchmarks; `quick` shortens criterion's measurement.
pub fn run(root: &Path, quick: bool) -> Result<ExitCode, String> {
    let criterion_args: &[&str] = if quick {
        &["--warm-up-time", "1", "--measurement-time", "3"]
    } else {
        &[]
    };
    for (package, bench) in [("tl-codegen", "parse"), ("mtproto-crypto", "ige")] {
        let status = Command::new(cargo())
            .current_dir(root)
            .args(["bench", "-p", package, "--bench", bench, "--"])
            .args(criterion_args)
            .status()
            .map_err(|e| format!("cannot run cargo bench: {e}"))?;
        if !status.success() {
            return Err(format!("cargo bench -p {package} --bench {bench} failed"));
        }
    }
    let criterion = target_dir(root).join("criterion");

    println!("\n== schema parsing (criterion median)");
    for name in ["parse", "parse+validate"] {
        let ns = median_ns(&criterion.join("api.tl").join(name))?;
        println!("api.tl {name:<15} {:>8.2} ms", ns / 1e6);
    }
    println!("(goal: parse < 20 ms)");

    println!("\n== AES-256-IGE encrypt vs peers measured now (MB/s = 10^6 bytes/s)");
    let openssl = openssl_cbc_encrypt()?;
    let cryptg = cryptg_ige(root)?;
    println!(
        "{:>9} {:>10} {:>18} {:>8} {:>12} {:>8}",
        "size", "ours", "openssl cbc enc", "ratio", "cryptg ige", "ratio"
    );
    for size in IGE_SIZES {
        let ns = median_ns(
            &criterion
                .join("aes256_ige")
                .join("encrypt")
                .join(size.to_string()),
        )?;
        let ours = size as f64 / ns * 1e3;
        // openssl measures up to 16 KiB blocks; its 16 KiB figure is the serial limit for 1 MiB.
        let reference = openssl
            .iter()
            .filter(|(s, _)| *s <= size)
            .max_by_key(|(s, _)| *s)
            .map(|&(_, v)| v)
            .unwrap_or(f64::NAN);
        let peer = cryptg
            .iter()
            .find(|(s, _)| *s == size)
            .map(|&(_, v)| v)
            .unwrap_or(f64::NAN);
        println!(
            "{size:>9} {ours:>10.0} {reference:>18.0} {:>8.2} {peer:>12.0} {:>8.2}",
            ours / reference,
            ours / peer
        );
    }
    println!("(goal: ours / openssl >= 0.75)");
    Ok(ExitCode::SUCCESS)
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// The median of a criterion benchmark, in nanoseconds.
fn median_ns(dir: &Path) -> Result<f64, String> {
    let path = dir.join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median", path.display()))
}

/// `openssl speed -evp aes-256-cbc` (encrypt): (block size, MB/s) pairs.
fn openssl_cbc_encrypt() -> Result<Vec<(u64, f64)>, String> {
    let out = Command::new("openssl")
        .args(["speed", "-seconds", "2", "-evp", "aes-256-cbc"])
        .output()
        .map_err(|e| format!("cannot run openssl speed: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let header = text
        .lines()
        .find(|l| l.starts_with("type"))
        .ok_or("openssl speed printed no table")?;
    let sizes: Vec<u64> = header
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let row = text
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("aes-256-cbc"))
        .ok_or("openssl speed printed no AES-256-CBC row")?;
    let values: Vec<f64> = row
        .split_whitespace()
        .filter_map(|w| w.strip_suffix('k').and_then(|n| n.parse::<f64>().ok()))
        .map(|kb| kb / 1000.0)
        .collect();
    Ok(sizes.into_iter().zip(values).collect())
}

/// cryptg's AES-256-IGE encrypt speed: (size, MB/s) pairs, from `tests/py/crypto_bench_cryptg.py`.
fn cryptg_ige(root: &Path) -> Result<Vec<(u64, f64)>, String> {
    let python = crate::python::setup(root)?;
    let out = Command::new(python)
        .arg(root.join("tests/py/crypto_bench_cryptg.py"))
        .arg("2")
        .output()
        .map_err(|e| format!("cannot run the cryptg benchmark: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cryptg benchmark failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
        })
        .collect())
}
