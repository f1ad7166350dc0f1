//! The `test-dc` program, run as a person or another language's test suite would: its
//! printed addresses, its key files, Telethon 1.45 logging in through it (the oracle Python
//! of `cargo xtask py-setup`, `tests/py/telethon_cli_login.py`), its error messages, and a
//! clean stop on SIGINT.
//!
//! The binary is the one Cargo builds for these tests (`CARGO_BIN_EXE_test-dc`). A missing
//! oracle Python fails the tests: they never pass without Telethon having run.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use mtproto_crypto::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_test-dc");
/// Until `ready` (a debug build draws a new RSA key in a few seconds).
const READY_TIMEOUT: Duration = Duration::from_secs(120);
/// Until the process exits after SIGINT.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// `$ORACLE_PYTHON`, else `<root>/.venv/bin/python` (the same rule as
/// `project_tests::oracle_python`, which this crate cannot depend on).
fn oracle_python() -> PathBuf {
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

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir =
            std::env::temp_dir().join(format!("test-dc-cli-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `test-dc`, past `ready`.
struct Running {
    child: Child,
    /// `dc I HOST:PORT` lines, in order.
    dcs: Vec<(i32, SocketAddr)>,
    stdout_rest: JoinHandle<String>,
    stderr: JoinHandle<String>,
}

impl Running {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start test-dc");
        let mut err_pipe = child.stderr.take().unwrap();
        let stderr = thread::spawn(move || {
            let mut text = String::new();
            let _ = err_pipe.read_to_string(&mut text);
            text
        });
        let (lines_tx, lines) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let stdout_rest = thread::spawn(move || {
            let mut rest = String::new();
            let mut ready = false;
            for line in out.lines() {
                let Ok(line) = line else { break };
                if ready {
                    rest.push_str(&line);
                    rest.push('\n');
                } else {
                    ready = line == "ready";
                    let _ = lines_tx.send(line);
                }
            }
            rest
        });
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut dcs = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match lines.recv_timeout(left) {
                Ok(line) => line,
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "test-dc did not print `ready` ({e:?}); stderr:\n{}",
                        stderr.join().unwrap()
                    );
                }
            };
            if line == "ready" {
                break;
            }
            let fields: Vec<&str> = line.split(' ').collect();
            match fields[..] {
                ["dc", id, addr] => dcs.push((id.parse().unwrap(), addr.parse().unwrap())),
                _ => panic!("unexpected line before `ready`: {line:?}"),
            }
        }
        Self {
            child,
            dcs,
            stdout_rest,
            stderr,
        }
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits: the exit status, what stdout printed after
    /// `ready`, and all of stderr.
    fn interrupt(mut self) -> (ExitStatus, String, String) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-INT", &pid]).status().unwrap();
        assert!(kill.success(), "kill -INT {pid}");
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("test-dc did not stop within {STOP_TIMEOUT:?} of SIGINT");
            }
            thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout_rest.join().unwrap();
        let stderr = self.stderr.join().unwrap();
        (status, stdout, stderr)
    }
}

/// Runs `tests/py/telethon_cli_login.py` against DC `dc` and returns its JSON answer.
fn telethon_login(
    running: &Running,
    dc: i32,
    public_key: &Path,
    phone: &str,
    code: &str,
    password: Option<&str>,
) -> Value {
    let mut extra = Vec::new();
    if let Some(password) = password {
        extra.extend(["--password", password]);
    }
    let out = telethon_run(running, dc, public_key, phone, code, &extra);
    assert!(
        out.status.success(),
        "telethon_cli_login.py failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "telethon_cli_login.py printed no JSON ({e}): {:?}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs `tests/py/telethon_cli_login.py` against DC `dc` with `extra` arguments.
fn telethon_run(
    running: &Running,
    dc: i32,
    public_key: &Path,
    phone: &str,
    code: &str,
    extra: &[&str],
) -> Output {
    let addr = running
        .dcs
        .iter()
        .find(|(id, _)| *id == dc)
        .map(|(_, addr)| *addr)
        .expect("that DC was printed");
    let script = workspace_root().join("tests/py/telethon_cli_login.py");
    let mut cmd = Command::new(oracle_python());
    cmd.arg(&script)
        .args(["--host", &addr.ip().to_string()])
        .args(["--port", &addr.port().to_string()])
        .args(["--dc", &dc.to_string()])
        .arg("--public-key")
        .arg(public_key)
        .args(["--phone", phone, "--code", code])
        .args(extra);
    cmd.output().expect("start the oracle Python")
}

#[test]
fn telethon_logs_in_through_the_program_and_sigint_stops_it() {
    let tmp = TempDir::new("login");
    let (key, public) = (tmp.path("key.pem"), tmp.path("pub.pem"));
    let running = Running::start(&[
        "--listen",
        "127.0.0.1:0",
        "--dcs",
        "3",
        "--rsa-key",
        key.to_str().unwrap(),
        "--public-key-out",
        public.to_str().unwrap(),
        "--code",
        "24680",
        "--user",
        "+9996621111",
        "--user",
        "+9996632222:pw@3",
    ]);

    // Three DCs on consecutive loopback ports, in order.
    let ids: Vec<i32> = running.dcs.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2, 3]);
    let base = running.dcs[0].1.port();
    assert_ne!(base, 0);
    for (i, (_, addr)) in running.dcs.iter().enumerate() {
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_eq!(addr.port(), base + i as u16);
    }

    // The key was created (PKCS#1), and the public key written is its public half.
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    let private = RsaPrivateKey::from_pem(&key_pem).unwrap();
    let public_pem = std::fs::read_to_string(&public).unwrap();
    assert!(public_pem.starts_with("-----BEGIN RSA PUBLIC KEY-----\n"));
    assert_eq!(
        RsaPublicKey::from_pem(&public_pem).unwrap(),
        *private.public_key()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by others: {mode:o}"
        );
    }

    // The first account: user 1000001, homed on DC 2 (its number says so), reached from
    // DC 1 through PHONE_MIGRATE_2.
    let first = telethon_login(&running, 1, &public, "+9996621111", "24680", None);
    assert_eq!(first["id"], 1_000_001, "{first}");
    assert_eq!(first["phone"], "9996621111");
    assert_eq!(first["first_name"], "Test");
    assert_eq!(first["is_self"], true);
    assert_eq!(first["dc"], 2);
    assert_eq!(first["password_needed"], false);
    assert_eq!(first["authorized"], true);

    // The second: user 1000002 on DC 3 (`@3`), with a 2FA password checked by SRP.
    let second = telethon_login(&running, 1, &public, "+9996632222", "24680", Some("pw"));
    assert_eq!(second["id"], 1_000_002, "{second}");
    assert_eq!(second["phone"], "9996632222");
    assert_eq!(second["dc"], 3);
    assert_eq!(second["password_needed"], true);
    assert_eq!(second["authorized"], true);

    let (status, stdout, stderr) = running.interrupt();
    assert!(
        status.success(),
        "exit status after SIGINT: {status}\n{stderr}"
    );
    assert_eq!(stdout, "", "nothing on stdout after `ready`");
    // The codes went to stderr, one per sendCode.
    assert_eq!(
        stderr.matches("code for +9996621111: 24680").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("code for +9996632222: 24680").count(),
        1,
        "{stderr}"
    );
    let fingerprint = format!("{:#018x}", private.public_key().fingerprint() as u64);
    assert!(stderr.contains(&fingerprint), "{stderr}");
    assert!(stderr.contains("wrote a new RSA key"), "{stderr}");
    assert!(stderr.trim_end().ends_with("test-dc: stopped"), "{stderr}");
}

#[test]
fn key_file_is_created_once_then_reused() {
    let tmp = TempDir::new("reuse");
    let key = tmp.path("key.pem");
    let run = |public: &Path| {
        let running = Running::start(&[
            "--listen",
            "127.0.0.1:0",
            "--rsa-key",
            key.to_str().unwrap(),
            "--public-key-out",
            public.to_str().unwrap(),
        ]);
        assert_eq!(running.dcs.len(), 1);
        let (status, _, stderr) = running.interrupt();
        assert!(status.success(), "{status}\n{stderr}");
        (std::fs::read_to_string(public).unwrap(), stderr)
    };
    assert!(!key.exists());
    let (first_public, first_err) = run(&tmp.path("pub1.pem"));
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(first_err.contains("wrote a new RSA key"), "{first_err}");

    let (second_public, second_err) = run(&tmp.path("pub2.pem"));
    assert!(!second_err.contains("wrote a new RSA key"), "{second_err}");
    assert_eq!(second_public, first_public);
    assert_eq!(
        std::fs::read_to_string(&key).unwrap(),
        key_pem,
        "key file untouched"
    );
    assert_eq!(
        RsaPublicKey::from_pem(&first_public).unwrap(),
        *RsaPrivateKey::from_pem(&key_pem).unwrap().public_key()
    );
    // Not the bundled key; without --rsa-key the bundled key is served.
    let bundled = test_dc::test_server_key().public_key().to_pkcs1_pem();
    assert_ne!(first_public, bundled);
    let (bundled_public, _) = {
        let public = tmp.path("pub3.pem");
        let running = Running::start(&[
            "--listen",
            "127.0.0.1:0",
            "--public-key-out",
            public.to_str().unwrap(),
        ]);
        let (status, _, stderr) = running.interrupt();
        assert!(status.success(), "{status}\n{stderr}");
        (std::fs::read_to_string(public).unwrap(), stderr)
    };
    assert_eq!(bundled_public, bundled);
}

/// Python `cryptography` draws a key and writes it as PKCS#8; the program serves it and
/// Telethon, trusting the public key Python computed, logs in.
#[test]
fn pkcs8_key_from_python_is_served() {
    let tmp = TempDir::new("pkcs8");
    let (key, public_out, python_public) = (
        tmp.path("key8.pem"),
        tmp.path("pub.pem"),
        tmp.path("python_pub.pem"),
    );
    let script = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
with open(sys.argv[1], "wb") as f:
    f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))
with open(sys.argv[2], "wb") as f:
    f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.PKCS1))
"#;
    let out: Output = Command::new(oracle_python())
        .args(["-c", script])
        .arg(&key)
        .arg(&python_public)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key_pem = std::fs::read_to_string(&key).unwrap();
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));

    let running = Running::start(&[
        "--listen",
        "127.0.0.1:0",
        "--rsa-key",
        key.to_str().unwrap(),
        "--public-key-out",
        public_out.to_str().unwrap(),
        "--code",
        "13579",
        "--user",
        "+9996611234",
    ]);
    // The same PKCS#1 text as Python's encoder.
    assert_eq!(
        std::fs::read_to_string(&public_out).unwrap(),
        std::fs::read_to_string(&python_public).unwrap()
    );
    let me = telethon_login(&running, 1, &python_public, "+9996611234", "13579", None);
    assert_eq!(me["id"], 1_000_001, "{me}");
    assert_eq!(me["phone"], "9996611234");
    assert_eq!(me["dc"], 1);
    let (status, _, stderr) = running.interrupt();
    assert!(status.success(), "{status}\n{stderr}");
    assert!(!stderr.contains("wrote a new RSA key"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), key_pem);
}

/// With `--mtproxy-secret`, every DC is an MTProxy: Telethon's MTProxy connection with that
/// secret logs in; with another secret it cannot connect.
#[test]
fn mtproxy_secret_is_served() {
    let tmp = TempDir::new("mtproxy");
    let public = tmp.path("pub.pem");
    let secret = "dd00112233445566778899aabbccddeeff";
    let running = Running::start(&[
        "--listen",
        "127.0.0.1:0",
        "--public-key-out",
        public.to_str().unwrap(),
        "--code",
        "11111",
        "--user",
        "+9996611111",
        "--mtproxy-secret",
        secret,
    ]);
    let out = telethon_run(
        &running,
        1,
        &public,
        "+9996611111",
        "11111",
        &["--mtproxy-secret", secret],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(me["id"], 1_000_001, "{me}");
    assert_eq!(me["phone"], "9996611111");
    assert_eq!(me["dc"], 1);

    let wrong = "dd00112233445566778899aabbccddeefe";
    let out = telethon_run(
        &running,
        1,
        &public,
        "+9996611111",
        "11111",
        &["--mtproxy-secret", wrong, "--timeout", "20"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "logged in with the wrong secret");
    assert!(stderr.contains("ConnectionError"), "{stderr}");
    assert!(out.stdout.is_empty());
    let (status, _, stderr) = running.interrupt();
    assert!(status.success(), "{status}\n{stderr}");
    // One code: the failed client never got as far as sendCode.
    assert_eq!(
        stderr.matches("code for +9996611111: 11111").count(),
        1,
        "{stderr}"
    );
}

/// Runs the program expecting it to refuse its arguments.
fn refused(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("ready"), "{args:?} started: {stdout}");
    let code = out.status.code().expect("exited, not killed");
    assert_ne!(code, 0, "{args:?}");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let tmp = TempDir::new("bad");
    fn with_listen<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        ["--listen", "127.0.0.1:0"]
            .iter()
            .chain(extra)
            .copied()
            .collect()
    }

    // clap's refusals: exit status 2, naming the option and the value.
    let (code, err) = refused(&["--listen"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("a value is required for '--listen <HOST:PORT>'"),
        "{err}"
    );
    let (code, err) = refused(&["--dcs", "2"]);
    assert_eq!(code, 2);
    assert!(err.contains("--listen <HOST:PORT>"), "{err}");
    let (code, err) = refused(&["--listen", "127.0.0.1:99999"]);
    assert_eq!(code, 2);
    assert!(err.contains("'127.0.0.1:99999'"), "{err}");
    let (code, err) = refused(&with_listen(&["--dcs", "0"]));
    assert_eq!(code, 2);
    assert!(err.contains("'0'") && err.contains("--dcs"), "{err}");

    for (user, why) in [
        ("+9996621111:", "empty password after ':'"),
        ("+9996621111@two", "the DC after '@' is not a number"),
        ("nobody", "the phone number has no digits"),
    ] {
        let (code, err) = refused(&with_listen(&["--user", user]));
        assert_eq!(code, 2, "{user}");
        assert!(
            err.contains(&format!("invalid value '{user}' for '--user")),
            "{err}"
        );
        assert!(err.contains(why), "{user}: {err}");
    }
    for (secret, why) in [
        ("not-hex!", "\"not-hex!\" is not hex"),
        ("abc", "\"abc\" is not hex"),
        ("00112233445566778899aabbccddee", "secret of 15 bytes"),
        ("ee00112233445566778899aabbccddeeff", "secret of 17 bytes"),
    ] {
        let (code, err) = refused(&with_listen(&["--mtproxy-secret", secret]));
        assert_eq!(code, 2, "{secret}");
        assert!(
            err.contains(&format!("invalid value '{secret}' for '--mtproxy-secret")),
            "{err}"
        );
        assert!(err.contains(why), "{secret}: {err}");
    }
    let (code, err) = refused(&with_listen(&["--code", "12a45"]));
    assert_eq!(code, 2);
    assert!(err.contains("'12a45'"), "{err}");

    // The program's own refusals: exit status 1, `test-dc: error: ...` naming the problem.
    let (code, err) = refused(&with_listen(&["--dcs", "2", "--user", "+9996621111@3"]));
    assert_eq!(code, 1);
    assert!(
        err.contains("test-dc: error: --user +9996621111: home DC 3 does not exist"),
        "{err}"
    );
    let (code, err) = refused(&with_listen(&[
        "--user",
        "+9996621111",
        "--user",
        "9996621111",
    ]));
    assert_eq!(code, 1);
    assert!(err.contains("9996621111 is registered twice"), "{err}");
    let junk = tmp.path("junk.pem");
    std::fs::write(&junk, "not a key\n").unwrap();
    let (code, err) = refused(&with_listen(&["--rsa-key", junk.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("{}: not a PEM RSA key", junk.display())),
        "{err}"
    );
    // A public key where the private one belongs.
    let public = tmp.path("public.pem");
    std::fs::write(
        &public,
        test_dc::test_server_key().public_key().to_pkcs1_pem(),
    )
    .unwrap();
    let (code, err) = refused(&with_listen(&["--rsa-key", public.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains("expected a PKCS#1 or PKCS#8 PEM RSA private key"),
        "{err}"
    );
    // A key file in a directory that does not exist cannot be created.
    let nowhere = tmp.path("missing-dir/key.pem");
    let (code, err) = refused(&with_listen(&["--rsa-key", nowhere.to_str().unwrap()]));
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("{}: cannot write the new key", nowhere.display())),
        "{err}"
    );
    // A port already taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = refused(&["--listen", &addr]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("cannot start on {addr}")), "{err}");
}
