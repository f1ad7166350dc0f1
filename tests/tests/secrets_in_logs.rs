//! No secret of a whole login shows in the client's `tracing` output at TRACE level or in the
//! `Debug` form of anything the client hands out: not the login code, not the password, not
//! the `phone_code_hash`, not the authorization key's bytes (in hex or as a `Debug` byte list).
//!
//! The login: PFS on (a permanent and a temporary key, bound), a 2FA account, a wrong code,
//! the right one, a wrong password, the right one, `get_me`, then the session is saved to a
//! file. Only the client's crates are captured: the test DC runs in the same process and is
//! allowed to know the code.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use auth_api::client::{Client, ClientConfig, FileStore, SessionStore, SignIn};
use project_tests::script::bounded;
use test_dc::{Account, AuthConfig, TestDc};

const CODE: &str = "7391528640";
const WRONG_CODE: &str = "7391528641";
const PASSWORD: &str = "correct horse battery 42";
const PHONE: &str = "+9996624242";

/// Everything the client's crates log, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let filter = tracing_subscriber::filter::Targets::new()
            .with_target("auth_api", tracing::Level::TRACE)
            .with_target("mtproto_net", tracing::Level::TRACE)
            .with_target("mtproto_proto::endpoint::client", tracing::Level::TRACE)
            .with_target("mtproto_proto::session::client", tracing::Level::TRACE)
            .with_target("mtproto_proto::handshake::client", tracing::Level::TRACE)
            .with_target("mtproto_crypto", tracing::Level::TRACE)
            .with_target("tl_wire", tracing::Level::TRACE);
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .with_filter(filter),
        );
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        captured
    })
}

use tracing_subscriber::Layer;

/// The ways a secret could be printed.
fn renderings(name: &str, secret: &[u8]) -> Vec<(String, String)> {
    let mut out = vec![
        (
            format!("{name} (hex)"),
            hex::encode(&secret[..secret.len().min(12)]),
        ),
        (
            format!("{name} (HEX)"),
            hex::encode_upper(&secret[..secret.len().min(12)]),
        ),
        (
            format!("{name} (Debug bytes)"),
            format!("{:?}", &secret[..secret.len().min(8)])
                .trim_end_matches(']')
                .to_string(),
        ),
    ];
    if let Ok(text) = std::str::from_utf8(secret) {
        out.push((name.to_string(), text.to_string()));
    }
    out
}

#[tokio::test]
async fn a_whole_login_leaks_no_secret_into_logs_or_debug_output() {
    let captured = capture();
    bounded(async {
        let dc = TestDc::builder()
            .dcs(2)
            .auth_config(AuthConfig {
                code: Some(CODE.into()),
                ..AuthConfig::default()
            })
            .user(Account::new(PHONE).password(PASSWORD).hint("a horse"))
            .start()
            .await
            .unwrap();
        let dir = std::env::temp_dir().join(format!("secrets-in-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(FileStore::new(dir.join("session")));
        let mut config = ClientConfig::new(
            611_335,
            "d524b414d21f4d37f08684c1df41ac9c",
            dc.dcs(),
            2,
            vec![test_dc::test_server_key().public_key().clone()],
        )
        .pfs(true);
        config.store = store.clone();
        let client = Client::new(config).unwrap();
        let mut debug = Vec::new();

        let sent = client.send_code(PHONE).await.unwrap();
        debug.push(format!("{sent:?}"));
        let token = sent.into_code().unwrap();
        debug.push(format!("{token:?} {token:#?}"));
        let wrong = client.sign_in(&token, WRONG_CODE).await.unwrap_err();
        debug.push(format!("{wrong:?} {wrong}"));
        let answer = client.sign_in(&token, CODE).await.unwrap();
        debug.push(format!("{answer:?}"));
        let SignIn::PasswordRequired(password) = answer else {
            panic!("no password asked: {answer:?}")
        };
        let wrong = client
            .check_password(&password, "not the password")
            .await
            .unwrap_err();
        debug.push(format!("{wrong:?} {wrong}"));
        let user = client.check_password(&password, PASSWORD).await.unwrap();
        debug.push(format!("{user:?}"));
        debug.push(format!("{:?}", client.get_me().await.unwrap()));
        let session = client.session().await;
        debug.push(format!("{session:?} {session:#?} {client:?}"));
        debug.push(format!("{:?}", store.load().unwrap()));
        debug.push(format!("{:?}", client.connection_status(2).await));

        let key = session
            .keys
            .get(&2)
            .expect("a key for DC 2")
            .auth_key
            .as_bytes()
            .to_vec();
        let mut secrets = Vec::new();
        secrets.extend(renderings("the login code", CODE.as_bytes()));
        secrets.extend(renderings("the wrong code", WRONG_CODE.as_bytes()));
        secrets.extend(renderings("the password", PASSWORD.as_bytes()));
        secrets.extend(renderings(
            "phone_code_hash",
            token.phone_code_hash.as_bytes(),
        ));
        secrets.extend(renderings("the permanent key", &key));
        drop(client);

        let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
        assert!(
            logs.lines().count() > 20,
            "the client logged almost nothing; is the capture working?\n{logs}"
        );
        let debug = debug.join("\n");
        for (what, rendering) in &secrets {
            assert!(!rendering.is_empty());
            if let Some(at) = logs.find(rendering.as_str()) {
                let line = logs[..at].lines().count();
                panic!("{what} ({rendering}) is in the TRACE log, line {line}");
            }
            assert!(
                !debug.contains(rendering.as_str()),
                "{what} ({rendering}) is in Debug output:\n{debug}"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    })
    .await;
}
