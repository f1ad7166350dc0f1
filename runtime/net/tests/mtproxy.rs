//! Connecting through an MTProxy ([`ConnectConfig::mtproxy`]) against the loopback
//! [`TestServer`] acting as the proxy endpoint ([`TestServerConfig::mtproxy_secret`]): it
//! accepts only obfuscated2 keyed with its secret, so a key exchange and an answered request
//! prove the client mixed the secret into both stream keys, framed as the secret allows, and
//! put the DC id where the header carries it. The interop test against a real MTProxy
//! (`mtprotoproxy`) is `tests/tests/mtproxy_interop.rs`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use mtproto_crypto::{AuthKey, RsaPrivateKey};
use mtproto_net::{
    Backoff, ConfigError, ConnectConfig, Connection, MtProxySecret, NetError, NetEvent, StoredAuth,
    Transport,
};
use test_dc::{echo, TestServer, TestServerConfig, TestServerHandle};

const DC: i32 = 10002;
const KEY: [u8; 16] = *b"0123456789abcdef";

fn server_key() -> RsaPrivateKey {
    test_dc::test_server_key()
}

/// A 16-byte secret, or the same key announced with `dd` (padded intermediate only).
fn secret(key: [u8; 16], dd: bool) -> MtProxySecret {
    let mut bytes = Vec::with_capacity(17);
    if dd {
        bytes.push(0xdd);
    }
    bytes.extend_from_slice(&key);
    MtProxySecret::from_bytes(&bytes).expect("valid secret")
}

async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the test did not finish within 30 s")
}

/// A test server that accepts only `secret` (or anything, for `None`).
async fn start(secret: Option<MtProxySecret>) -> (SocketAddr, TestServerHandle) {
    let mut config = TestServerConfig::new(vec![server_key()], echo());
    config.mtproxy_secret = secret;
    TestServer::bind(config)
        .await
        .expect("bind the test server")
}

fn config(addr: SocketAddr, dc_id: i32) -> ConnectConfig {
    let mut config = ConnectConfig::new(addr, dc_id, vec![server_key().public_key().clone()]);
    config.request_timeout = Duration::from_secs(10);
    config.connect_timeout = Duration::from_secs(10);
    config.reconnect = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
        max_attempts: Some(5),
    };
    config
}

fn body(n: u32) -> Vec<u8> {
    let mut b = b"mtproxy!".to_vec();
    b.extend_from_slice(&n.to_le_bytes());
    b
}

/// The first connection failed because the server closed it.
fn assert_closed_by_server(result: Result<(Connection, mtproto_net::Events), NetError>) {
    match result {
        Err(NetError::Eof | NetError::Io(_)) => {}
        Err(other) => panic!("expected the server to close the connection, got {other}"),
        Ok(_) => panic!("the server accepted a connection it should refuse"),
    }
}

async fn key_exchange_and_echo(transport: Transport, dd: bool, dc_id: i32) {
    bounded(async {
        let secret = secret(KEY, dd);
        let (addr, server) = start(Some(secret.clone())).await;
        let mut config = config(addr, dc_id);
        config.transport = transport;
        config.mtproxy = Some(secret);
        assert!(config.is_obfuscated() && !config.obfuscated);
        let (conn, _events) = Connection::connect(config).await.expect("connect");
        assert_eq!(conn.status().key_exchanges, 1);
        for n in 0..3 {
            let request = body(n);
            assert_eq!(conn.invoke_raw(request.clone()).await.unwrap(), request);
        }
        let stats = server.stats();
        assert_eq!(stats.transports, vec![(transport, true)]);
        assert_eq!(stats.obfuscated_dc_ids, vec![dc_id as i16]);
        assert!(stats.refused_transports.is_empty());
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!(stats.requests, 3);
        for n in 0..3 {
            assert_eq!((stats.received(&body(n)), stats.answered(&body(n))), (1, 1));
        }
    })
    .await
}

#[tokio::test]
async fn secret_with_abridged() {
    key_exchange_and_echo(Transport::Abridged, false, DC).await;
}

#[tokio::test]
async fn secret_with_intermediate_and_a_media_dc() {
    key_exchange_and_echo(Transport::Intermediate, false, -2).await;
}

#[tokio::test]
async fn dd_secret_with_padded_intermediate() {
    key_exchange_and_echo(Transport::PaddedIntermediate, true, DC).await;
}

#[tokio::test]
async fn via_mtproxy_picks_padded_intermediate_for_a_dd_secret() {
    bounded(async {
        let (addr, server) = start(Some(secret(KEY, true))).await;
        // The address given first is replaced by the proxy's.
        let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let dd = config(unused, DC).via_mtproxy(addr, secret(KEY, true));
        assert_eq!(
            (dd.addr, dd.transport),
            (addr, Transport::PaddedIntermediate)
        );
        let (conn, _events) = Connection::connect(dd).await.expect("connect");
        assert_eq!(conn.invoke_raw(body(7)).await.unwrap(), body(7));
        assert_eq!(
            server.stats().transports,
            vec![(Transport::PaddedIntermediate, true)]
        );

        // A plain secret leaves the transport alone.
        let plain = config(unused, DC).via_mtproxy(addr, secret(KEY, false));
        assert_eq!(plain.transport, Transport::Abridged);
    })
    .await
}

#[tokio::test]
async fn server_refuses_a_wrong_or_missing_secret() {
    bounded(async {
        let (addr, server) = start(Some(secret(KEY, false))).await;

        let mut wrong = config(addr, DC);
        wrong.mtproxy = Some(secret(*b"fedcba9876543210", false));
        assert_closed_by_server(Connection::connect(wrong).await);

        let mut no_secret = config(addr, DC);
        no_secret.obfuscated = true;
        assert_closed_by_server(Connection::connect(no_secret).await);

        assert_closed_by_server(Connection::connect(config(addr, DC)).await);

        let stats = server.stats();
        assert_eq!(stats.connections, 3);
        assert_eq!(stats.refused_transports.len(), 3, "{stats:?}");
        assert!(stats.transports.is_empty());
        assert_eq!(stats.key_exchanges, 0);
    })
    .await
}

#[tokio::test]
async fn dd_server_refuses_other_framing_under_the_same_key() {
    bounded(async {
        let (addr, server) = start(Some(secret(KEY, true))).await;
        // The same 16 bytes without the `dd` mark: the keys match, the framing does not.
        let mut config = config(addr, DC);
        config.transport = Transport::Intermediate;
        config.mtproxy = Some(secret(KEY, false));
        assert_closed_by_server(Connection::connect(config).await);
        let stats = server.stats();
        assert_eq!(stats.refused_transports.len(), 1);
        assert!(
            stats.refused_transports[0].contains("padded intermediate"),
            "{:?}",
            stats.refused_transports
        );
    })
    .await
}

#[tokio::test]
async fn inconsistent_settings_fail_before_any_socket() {
    bounded(async {
        let (addr, server) = start(None).await;

        let mut dd_abridged = config(addr, DC);
        dd_abridged.mtproxy = Some(secret(KEY, true));
        let error = Connection::connect(dd_abridged).await.unwrap_err();
        assert!(
            matches!(
                error,
                NetError::Config(ConfigError::MtProxyNeedsPadding {
                    transport: Transport::Abridged
                })
            ),
            "{error}"
        );
        assert!(error.to_string().contains("PaddedIntermediate"), "{error}");

        let mut full = config(addr, DC);
        full.transport = Transport::Full;
        full.mtproxy = Some(secret(KEY, false));
        assert!(matches!(
            Connection::connect(full).await.unwrap_err(),
            NetError::Config(ConfigError::CannotObfuscate(Transport::Full))
        ));

        let mut big_dc = config(addr, 40_000);
        big_dc.mtproxy = Some(secret(KEY, false));
        assert!(matches!(
            Connection::connect(big_dc).await.unwrap_err(),
            NetError::Config(ConfigError::DcIdOutOfRange(40_000))
        ));

        // Without obfuscation the DC id only goes into the key exchange: no range check.
        assert!(config(addr, 40_000).validate().is_ok());
        assert_eq!(server.stats().connections, 0);
    })
    .await
}

#[tokio::test]
async fn reconnections_keep_using_the_secret() {
    bounded(async {
        let secret = secret(KEY, false);
        let (addr, server) = start(Some(secret.clone())).await;
        let auth_key = AuthKey::from_bytes([7; 256]);
        server.add_key(auth_key.clone(), 42);
        let mut config = config(addr, DC);
        config.transport = Transport::Intermediate;
        config.mtproxy = Some(secret);
        config.auth = Some(StoredAuth {
            auth_key,
            salt: 42,
            time_offset: 0,
        });
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        server.update_knobs(|k| k.drop_on_request = Some(1));
        // The first copy is dropped with its connection; the resent one is answered.
        assert_eq!(conn.invoke_raw(body(1)).await.unwrap(), body(1));
        let stats = server.stats();
        assert_eq!(stats.dropped_connections, 1);
        assert_eq!(stats.received(&body(1)), 2);
        assert_eq!(
            stats.transports,
            vec![(Transport::Intermediate, true); 2],
            "both connections spoke obfuscated2 with the secret"
        );
        assert!(stats.refused_transports.is_empty());
        let mut reconnected = false;
        while let Some(event) = events.try_recv() {
            reconnected |= matches!(event, NetEvent::Reconnected { .. });
        }
        assert!(reconnected);
    })
    .await
}
