//! Shared helpers for the cross-crate and interoperability tests in `tests/tests/`.
//!
//! The oracle tests run independent implementations (Telethon, cryptg, Python `rsa`) from a
//! virtual environment that `cargo xtask py-setup` creates at `<workspace>/.venv`, and npm
//! packages (mtcute) that `cargo xtask js-setup` installs into `tests/js/node_modules`.
//! `cargo xtask test` sets up both before running the tests, so a plain checkout needs nothing
//! else.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

pub mod raw_login;
pub mod script;
pub mod tl_random;

/// The workspace root (the parent of this crate's folder).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The Python interpreter that has the oracle packages: `$ORACLE_PYTHON`, else `<root>/.venv/bin/python`.
///
/// Panics with instructions when it is missing: an oracle test must never pass silently.
pub fn oracle_python() -> PathBuf {
    if let Some(p) = std::env::var_os("ORACLE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "oracle Python not found at {}: run `cargo xtask py-setup` (or `cargo xtask test`)",
        venv.display()
    );
    venv
}

/// Runs `tests/py/<script>` with `args`, feeds `stdin`, and returns its stdout.
///
/// Panics (failing the test) when the script exits non-zero, showing its stderr.
pub fn run_python(script: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let path = workspace_root().join("tests/py").join(script);
    let mut child = Command::new(oracle_python())
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start the oracle Python for {script}: {e}"));
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        input.write_all(stdin).expect("write to oracle stdin");
    }
    let out = child.wait_with_output().expect("oracle process output");
    assert!(
        out.status.success(),
        "oracle script {script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A long-running oracle: a Python script (given as source) that answers one line per request
/// line, fields separated by single spaces. An answer starting with `ERR` fails the test.
pub struct Oracle {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Oracle {
    /// Starts `python -c script` with the oracle interpreter.
    pub fn start(script: &str) -> Self {
        let mut child = Command::new(oracle_python())
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start the oracle Python");
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends one request line (`fields` joined by spaces) and returns the answer's fields.
    pub fn ask(&mut self, fields: &[String]) -> Vec<String> {
        writeln!(self.stdin, "{}", fields.join(" ")).expect("write to the oracle");
        self.stdin.flush().expect("flush the oracle's stdin");
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .expect("read the oracle's answer");
        assert!(
            n > 0,
            "the oracle script died (are the packages installed? run `cargo xtask py-setup`)"
        );
        // Split on single spaces: an empty field (empty bytes, say) stays a field.
        let answer: Vec<String> = line
            .trim_end_matches(['\n', '\r'])
            .split(' ')
            .map(str::to_owned)
            .collect();
        assert_ne!(
            answer.first().map(String::as_str),
            Some("ERR"),
            "oracle: {answer:?}"
        );
        answer
    }
}

/// The folder of the npm oracles: `tests/js` (its `package.json` and `package-lock.json`, the
/// scripts, and `node_modules` once `cargo xtask js-setup` has run).
pub fn js_dir() -> PathBuf {
    workspace_root().join("tests/js")
}

/// The Node.js interpreter for the npm oracles: `$ORACLE_NODE`, else `node` on the `PATH`.
///
/// Panics with instructions when it cannot run or when `tests/js/node_modules` lacks the
/// packages (`@mtcute/node`): an oracle test must never pass silently. The scripts check the
/// exact versions themselves.
pub fn node() -> PathBuf {
    let node = std::env::var_os("ORACLE_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let version = Command::new(&node).arg("--version").output();
    assert!(
        matches!(&version, Ok(out) if out.status.success()),
        "Node.js not found ({} --version: {version:?}): install Node.js 20 or later, then run \
         `cargo xtask js-setup` (or `cargo xtask test`)",
        node.display()
    );
    let installed = js_dir().join("node_modules/@mtcute/node/package.json");
    assert!(
        installed.exists(),
        "the npm oracles are not installed ({} is missing): run `cargo xtask js-setup` (or \
         `cargo xtask test`)",
        installed.display()
    );
    node
}

/// Runs `tests/js/<script>` with Node.js and `args`, feeds `stdin`, and returns its stdout.
///
/// Panics (failing the test) when the script exits non-zero, showing its stderr.
pub fn run_node(script: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let path = js_dir().join(script);
    let mut child = Command::new(node())
        .arg(&path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Node.js for {script}: {e}"));
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        input.write_all(stdin).expect("write to the script's stdin");
    }
    let out = child.wait_with_output().expect("node process output");
    assert!(
        out.status.success(),
        "node script {script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

impl Drop for Oracle {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
