//! Our tokio client through a real MTProxy: PyPI `mtprotoproxy` 1.0.6, an independent
//! implementation of the obfuscated2 proxy protocol, started by `tests/py/mtproxy_run.py`
//! on 127.0.0.1 in direct mode (no middle proxy), with its DC table pointed at our loopback
//! `TestServer` for one DC id only.
//!
//! The path is client → (obfuscated2 keyed with the secret) → mtprotoproxy → (obfuscated2
//! with the proxy's own random header, no secret) → `TestServer`. What it proves:
//! - the proxy accepts our header: it derives the same stream keys from the secret
//!   (`SHA256(key + secret)`), finds a valid protocol tag, and reads the DC id from bytes
//!   60..62 (it routes by `abs(dc) - 1`, and only the requested DC leads to our server, so a
//!   misplaced id would not connect); a `dd` secret makes our client speak padded
//!   intermediate, which a `SECURE_ONLY` proxy demands;
//! - a real key exchange and encrypted requests survive the proxy's re-encryption both ways
//!   (with `FAST_MODE`, the proxy's default, the DC answers on the client's key; without it
//!   the proxy decrypts and re-encrypts every byte), and the server saw exactly our requests,
//!   each once, over obfuscated2 carrying the framing we chose;
//! - a wrong secret, a non-padded framing through a `SECURE_ONLY` proxy, and a DC the proxy
//!   does not route to never reach the server.
//!
//! Needs the oracle venv (`cargo xtask py-setup`); a missing interpreter or package fails
//! the test, never skips it.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use mtproto_crypto::RsaPrivateKey;
use mtproto_net::{Backoff, ConnectConfig, Connection, MtProxySecret, StoredAuth, Transport};
use project_tests::{oracle_python, workspace_root};
use test_dc::{echo, TestServer, TestServerConfig, TestServerHandle};

/// The DC the proxy routes to our server.
const DC: i32 = 2;
/// The proxy user's secret (hex, as mtprotoproxy's `USERS` takes it).
const SECRET_HEX: &str = "5a17c0ffee0ddba11deadbeef0123456";

fn server_key() -> RsaPrivateKey {
    test_dc::test_server_key()
}

/// The secret as a client gets it: plain, or with the `dd` mark (padded intermediate only).
fn secret(hex_key: &str, dd: bool) -> MtProxySecret {
    let prefix = if dd { "dd" } else { "" };
    let bytes = hex::decode(format!("{prefix}{hex_key}")).expect("hex secret");
    MtProxySecret::from_bytes(&bytes).expect("valid secret")
}

async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(120), test)
        .await
        .expect("the test did not finish within 120 s")
}

/// A running mtprotoproxy; killed when dropped (and it exits by itself when its stdin
/// closes, should this process die first).
struct Proxy {
    child: Child,
    _stdin: ChildStdin,
    addr: SocketAddr,
}

#[derive(Clone, Copy)]
struct ProxyOptions {
    /// Only padded intermediate (what a `dd` secret announces).
    secure_only: bool,
    /// The proxy's default: the DC encrypts toward the client's key and the proxy relays
    /// those bytes as they are. Off, it decrypts and re-encrypts both directions.
    fast_mode: bool,
}

impl Proxy {
    fn start(dc_addr: SocketAddr, options: ProxyOptions) -> Self {
        let script = workspace_root().join("tests/py/mtproxy_run.py");
        let mut command = Command::new(oracle_python());
        command
            .arg(&script)
            .args(["--dc-port", &dc_addr.port().to_string()])
            .args(["--dc", &DC.to_string()])
            .args(["--secret", SECRET_HEX]);
        if options.secure_only {
            command.arg("--secure-only");
        }
        if !options.fast_mode {
            command.arg("--no-fast-mode");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the oracle Python: {e}; run `cargo xtask py-setup`")
            });
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = child.stdout.take().expect("stdout is piped");
        // A thread reads the port line so that waiting for it is bounded.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep draining so the script never blocks on a full pipe.
            for _ in lines {}
        });
        let mut proxy = Proxy {
            child,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Some(Ok(line))) => line,
            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = proxy
                    .child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                panic!(
                    "mtprotoproxy did not start ({status}; its stderr is above): \
                     run `cargo xtask py-setup` to install tests/requirements.txt"
                );
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("mtprotoproxy did not report its port within 30 s")
            }
        };
        let port: u16 = line
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from mtproxy_run.py: {line:?}"));
        proxy.addr.set_port(port);
        proxy
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server() -> (SocketAddr, TestServerHandle) {
    TestServer::bind(TestServerConfig::new(vec![server_key()], echo()))
        .await
        .expect("bind the test server")
}

/// A client config through `proxy` for DC `dc_id` (`via_mtproxy` picks padded intermediate
/// for a `dd` secret; otherwise `transport` is kept).
fn through(
    proxy: &Proxy,
    secret: MtProxySecret,
    transport: Transport,
    dc_id: i32,
) -> ConnectConfig {
    let unused = SocketAddr::from(([127, 0, 0, 1], 9));
    let mut config = ConnectConfig::new(unused, dc_id, vec![server_key().public_key().clone()]);
    config.transport = transport;
    config.request_timeout = Duration::from_secs(20);
    config.connect_timeout = Duration::from_secs(20);
    config.reconnect = Backoff {
        initial: Duration::from_millis(50),
        max: Duration::from_millis(500),
        max_attempts: Some(3),
    };
    config.via_mtproxy(proxy.addr, secret)
}

/// A request body (a multiple of 4 bytes that is no service message).
fn body(tag: &str, n: u32) -> Vec<u8> {
    let mut b = format!("{tag:<8}").into_bytes();
    b.truncate(8);
    b.extend_from_slice(&n.to_le_bytes());
    b
}

/// Sends `bodies` one after another and checks each echo.
async fn echo_all(conn: &Connection, bodies: &[Vec<u8>]) {
    for request in bodies {
        let answer = conn
            .invoke_raw(request.clone())
            .await
            .expect("an answer through the proxy");
        assert_eq!(&answer, request);
    }
}

/// A connection the proxy must not forward: it fails, and the server sees nothing.
async fn refused(server: &TestServerHandle, mut config: ConnectConfig, what: &str) {
    let before = server.stats().connections;
    config.connect_timeout = Duration::from_secs(3);
    let result = Connection::connect(config).await;
    assert!(result.is_err(), "{what}: the proxy forwarded it");
    // Let a (wrongly) forwarded connection show up before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.stats().connections,
        before,
        "{what}: reached the server"
    );
}

/// Asserts the server received exactly `bodies`, once each, and answered each once.
fn assert_exactly(server: &TestServerHandle, bodies: &[Vec<u8>]) {
    let stats = server.stats();
    assert_eq!(stats.requests, bodies.len() as u64, "{stats:?}");
    assert_eq!(stats.received.len(), bodies.len(), "{stats:?}");
    for b in bodies {
        assert_eq!((stats.received(b), stats.answered(b)), (1, 1), "{b:?}");
    }
}

#[tokio::test]
async fn plain_secret_through_mtprotoproxy() {
    bounded(async {
        let (dc_addr, server) = start_server().await;
        let proxy = Proxy::start(
            dc_addr,
            ProxyOptions {
                secure_only: false,
                fast_mode: true,
            },
        );

        // A key exchange and encrypted requests over intermediate.
        let first: Vec<_> = (0..3).map(|n| body("inter", n)).collect();
        let (conn, _events) = Connection::connect(through(
            &proxy,
            secret(SECRET_HEX, false),
            Transport::Intermediate,
            DC,
        ))
        .await
        .expect("connect through mtprotoproxy");
        assert_eq!(conn.status().key_exchanges, 1);
        echo_all(&conn, &first).await;
        let stored: StoredAuth = conn.auth();
        conn.close();

        // A second proxy connection over abridged, on the key the first one created.
        let second: Vec<_> = (0..2).map(|n| body("abridged", n)).collect();
        let mut config = through(&proxy, secret(SECRET_HEX, false), Transport::Abridged, DC);
        config.auth = Some(stored);
        let (conn, _events) = Connection::connect(config)
            .await
            .expect("reconnect through mtprotoproxy");
        assert_eq!(conn.status().key_exchanges, 0);
        echo_all(&conn, &second).await;
        conn.close();

        let stats = server.stats();
        assert_eq!(stats.connections, 2);
        assert_eq!(stats.key_exchanges, 1);
        // The proxy re-obfuscates toward the DC with its own header and keeps our framing.
        assert_eq!(
            stats.transports,
            vec![(Transport::Intermediate, true), (Transport::Abridged, true)]
        );
        assert!(stats.refused_transports.is_empty());
        assert_exactly(&server, &[first, second].concat());

        // What the proxy must not forward.
        let wrong = "00112233445566778899aabbccddeeff";
        refused(
            &server,
            through(&proxy, secret(wrong, false), Transport::Intermediate, DC),
            "a wrong secret",
        )
        .await;
        refused(
            &server,
            through(
                &proxy,
                secret(SECRET_HEX, false),
                Transport::Intermediate,
                3,
            ),
            "a DC the proxy does not route to our server",
        )
        .await;
    })
    .await
}

#[tokio::test]
async fn dd_secret_through_a_secure_only_mtprotoproxy() {
    bounded(async {
        let (dc_addr, server) = start_server().await;
        let proxy = Proxy::start(
            dc_addr,
            ProxyOptions {
                secure_only: true,
                fast_mode: false,
            },
        );

        // The plain secret with intermediate: this proxy wants padded intermediate only.
        refused(
            &server,
            through(
                &proxy,
                secret(SECRET_HEX, false),
                Transport::Intermediate,
                DC,
            ),
            "intermediate through a SECURE_ONLY proxy",
        )
        .await;

        // The `dd` secret: `via_mtproxy` switches the abridged default to padded intermediate.
        let first: Vec<_> = (0..3).map(|n| body("padded", n)).collect();
        let config = through(&proxy, secret(SECRET_HEX, true), Transport::Abridged, DC);
        assert_eq!(config.transport, Transport::PaddedIntermediate);
        let (conn, _events) = Connection::connect(config)
            .await
            .expect("connect through mtprotoproxy with a dd secret");
        assert_eq!(conn.status().key_exchanges, 1);
        echo_all(&conn, &first).await;
        let stored = conn.auth();
        conn.close();

        // A media DC id (negative): the proxy routes by its absolute value.
        let second = vec![body("media", 0)];
        let mut config = through(&proxy, secret(SECRET_HEX, true), Transport::Abridged, -DC);
        config.auth = Some(stored);
        let (conn, _events) = Connection::connect(config)
            .await
            .expect("connect for a media DC id");
        echo_all(&conn, &second).await;
        conn.close();

        let stats = server.stats();
        assert_eq!(stats.connections, 2);
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!(
            stats.transports,
            vec![(Transport::PaddedIntermediate, true); 2]
        );
        assert!(stats.refused_transports.is_empty());
        assert_exactly(&server, &[first, second].concat());
    })
    .await
}
