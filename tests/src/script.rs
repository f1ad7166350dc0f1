//! Running an oracle client (a Python or Node script) against a server in the same test:
//! [`run_script`] feeds the script its input, waits without blocking the runtime the server
//! runs on, and returns the JSON lines it printed; [`bounded`] caps a whole test.

use std::future::Future;
use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Runs `test`, failing when it takes more than 150 s.
pub async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(150), test)
        .await
        .expect("the test did not finish within 150 s")
}

/// An oracle script's process; killed when dropped (a failed assertion or a timeout never
/// leaves it running).
pub struct Script(pub Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How [`run_script`] names the script in its failures.
pub struct ScriptNames<'a> {
    /// The script and its variant, e.g. `telethon_client.py (ConnectionTcpFull)`.
    pub script: &'a str,
    /// What runs it, e.g. `the oracle Python`.
    pub runner: &'a str,
    /// The oracle package, e.g. `Telethon`.
    pub oracle: &'a str,
    /// What installs it, e.g. `cargo xtask py-setup`.
    pub setup: &'a str,
}

/// Runs `command` (the script with its arguments), feeding it `input`, waiting (without
/// blocking the runtime the server runs on) at most 90 s. Returns its output lines as JSON;
/// fails when it does not finish in time or exits non-zero.
pub async fn run_script(mut command: Command, input: &[u8], names: ScriptNames<'_>) -> Vec<Value> {
    let ScriptNames {
        script,
        runner,
        oracle,
        setup,
    } = names;
    let mut child = Script(
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {runner}: {e}; run `{setup}`")),
    );
    {
        let mut stdin = child.0.stdin.take().expect("stdin is piped");
        stdin.write_all(input).expect("write the script's input");
    }
    // Threads drain the pipes so the script never blocks on a full one.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.0.stdout.take().expect("stdout is piped")));
    let stderr = drain(Box::new(child.0.stderr.take().expect("stderr is piped")));

    let deadline = Instant::now() + Duration::from_secs(90);
    let status: ExitStatus = loop {
        if let Some(status) = child.0.try_wait().expect("poll the script") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{script} did not finish within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.success(),
        "{script} failed ({status}); if {oracle} is missing, run `{setup}`.\nstdout:\n{stdout}\n\
         stderr:\n{stderr}"
    );
    if !stderr.trim().is_empty() {
        // Oracles log warnings there (none are expected); show them with the test output.
        eprintln!("{script} stderr:\n{stderr}");
    }
    stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("the script printed {line:?}, not JSON: {e}"))
        })
        .collect()
}

/// The script's output line whose `step` is `name`.
pub fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name:?} step in {steps:#?}"))
}
