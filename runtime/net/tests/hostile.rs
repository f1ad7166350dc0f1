//! Hostile clients against the loopback test server: malformed frames end that connection
//! (no panic), and the server goes on serving others.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mtproto_crypto::RsaPrivateKey;
use mtproto_net::{ConnectConfig, Connection};
use test_dc::{echo, TestServer, TestServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn server_key() -> RsaPrivateKey {
    test_dc::test_server_key()
}

/// Frames `payload` for the intermediate transport (its tag first).
fn intermediate(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xee; 4];
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Panics anywhere in this test binary (a panicking server task would otherwise go unseen:
/// tokio catches it and the connection just closes).
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[tokio::test]
async fn short_and_garbage_packets_close_only_that_connection() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    tokio::time::timeout(Duration::from_secs(30), async {
        let (addr, server) = TestServer::bind(TestServerConfig::new(vec![server_key()], echo()))
            .await
            .expect("bind");
        // A 4-byte packet (too short for an auth_key_id), then 64 bytes of an unknown key.
        for payload in [vec![1u8, 2, 3, 4], vec![0x5a; 64]] {
            let mut socket = TcpStream::connect(addr).await.expect("connect");
            socket
                .write_all(&intermediate(&payload))
                .await
                .expect("write");
            let mut buf = [0u8; 64];
            // The server answers nothing usable and closes (a -404 frame may come first).
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => continue,
                }
            }
        }
        // The server still works for a well-behaved client.
        let mut config = ConnectConfig::new(addr, 10002, vec![server_key().public_key().clone()]);
        config.request_timeout = Duration::from_secs(10);
        let (conn, _events) = Connection::connect(config)
            .await
            .expect("connect after abuse");
        let body = b"still alive!".to_vec();
        assert_eq!(conn.invoke_raw(body.clone()).await.unwrap(), body);
        assert!(server.stats().connections >= 3);
    })
    .await
    .expect("bounded");
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a server task panicked");
}
