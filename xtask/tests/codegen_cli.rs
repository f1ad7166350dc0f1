//! `cargo xtask codegen` as CI and users run it: the checked-in bindings are fresh, generation
//! is reproducible, and the whole layer-230 API generates a crate that compiles.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn xtask(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("xtask runs")
}

#[test]
fn checked_in_bindings_are_fresh() {
    let out = xtask(&["codegen", "--check"]);
    assert!(
        out.status.success(),
        "generated code is stale:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn whole_api_generates_identically_twice_and_compiles() {
    let dir = root().join("target/tl-api-all-test");
    let _ = std::fs::remove_dir_all(dir.join("src"));
    let out = xtask(&["codegen", "--all", "--out", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read(dir.join("src/api.rs")).unwrap();
    let out = xtask(&["codegen", "--all", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success());
    // The second run finds every file up to date and writes nothing.
    assert!(!String::from_utf8_lossy(&out.stderr).contains("wrote"));
    assert_eq!(first, std::fs::read(dir.join("src/api.rs")).unwrap());
    assert!(first.len() > 1_000_000, "the whole API is large");

    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--quiet", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .status()
        .expect("cargo check runs");
    assert!(
        status.success(),
        "the generated whole-API crate does not compile"
    );
}
