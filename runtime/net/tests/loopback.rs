//! End-to-end tests of the driver against the loopback [`TestServer`] over real TCP sockets
//! on 127.0.0.1. Each test runs on a current-thread runtime and is bounded by a timeout.
//!
//! Tests that are not about the key exchange register a key with the server up front
//! (`TestServerHandle::add_key`) and connect with it, which keeps them fast in debug builds.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mtproto_crypto::{AuthKey, RsaPrivateKey};
use mtproto_net::{
    Backoff, ConnectConfig, Connection, Events, InvokeError, NetError, NetEvent, RpcError,
    StoredAuth, Transport, UnknownKeyPolicy,
};
use mtproto_proto::schema::{enums, functions, types};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use test_dc::{echo, Handler, Reply, TestServer, TestServerConfig, TestServerHandle};
use tl_wire::Serialize;

const DC: i32 = 10002;

fn server_key() -> RsaPrivateKey {
    test_dc::test_server_key()
}

/// Runs a test body with a hard time limit, so a bug can never hang CI.
async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), test)
        .await
        .expect("the test did not finish within 30 s")
}

async fn start(handler: Handler) -> (SocketAddr, TestServerHandle) {
    TestServer::bind(TestServerConfig::new(vec![server_key()], handler))
        .await
        .expect("bind the test server")
}

fn config(addr: SocketAddr) -> ConnectConfig {
    let mut config = ConnectConfig::new(addr, DC, vec![server_key().public_key().clone()]);
    config.request_timeout = Duration::from_secs(10);
    config.connect_timeout = Duration::from_secs(10);
    config.reconnect = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
        max_attempts: Some(20),
    };
    config
}

/// A key known to the server without a key exchange, and a config that uses it.
fn preshared(server: &TestServerHandle, addr: SocketAddr, seed: u64) -> ConnectConfig {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut bytes = [0u8; 256];
    rng.fill_bytes(&mut bytes);
    let auth_key = AuthKey::from_bytes(bytes);
    let salt = rng.next_u64() as i64;
    server.add_key(auth_key.clone(), salt);
    let mut config = config(addr);
    config.auth = Some(StoredAuth {
        auth_key,
        salt,
        time_offset: 0,
    });
    config
}

/// A request body (any multiple of 4 bytes that is not a service message).
fn body(tag: &str, n: u32) -> Vec<u8> {
    let mut b = format!("{tag:<8}").into_bytes();
    b.truncate(8);
    b.extend_from_slice(&n.to_le_bytes());
    b
}

/// Events received so far.
fn drain(events: &mut Events) -> Vec<NetEvent> {
    std::iter::from_fn(|| events.try_recv()).collect()
}

/// Waits (bounded by the caller's timeout) until `done` holds.
async fn until(mut done: impl FnMut() -> bool) {
    while !done() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Every transport: key exchange, then an encrypted request and its answer.

async fn key_exchange_and_echo(transport: Transport, obfuscated: bool) {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let mut config = config(addr);
        config.transport = transport;
        config.obfuscated = obfuscated;
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        assert_eq!(conn.status().key_exchanges, 1);

        let request = body("echo", 1);
        let answer = conn.invoke_raw(request.clone()).await.expect("answer");
        assert_eq!(answer, request);
        // Once the driver ran: still one exchange, and no second `NewAuthKey` for it.
        assert_eq!(conn.status().key_exchanges, 1);
        while let Some(event) = events.try_recv() {
            assert!(!matches!(event, NetEvent::NewAuthKey), "{event:?}");
        }

        let stats = server.stats();
        assert_eq!(stats.transports, vec![(transport, obfuscated)]);
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!((stats.received(&request), stats.answered(&request)), (1, 1));
        // The key the client exported is the one the server created.
        assert!(server.salt(conn.auth().auth_key.id()).is_some());
    })
    .await
}

#[tokio::test]
async fn abridged() {
    key_exchange_and_echo(Transport::Abridged, false).await;
}

#[tokio::test]
async fn intermediate() {
    key_exchange_and_echo(Transport::Intermediate, false).await;
}

#[tokio::test]
async fn padded_intermediate() {
    key_exchange_and_echo(Transport::PaddedIntermediate, false).await;
}

#[tokio::test]
async fn full() {
    key_exchange_and_echo(Transport::Full, false).await;
}

#[tokio::test]
async fn obfuscated_abridged() {
    key_exchange_and_echo(Transport::Abridged, true).await;
}

#[tokio::test]
async fn obfuscated_intermediate() {
    key_exchange_and_echo(Transport::Intermediate, true).await;
}

#[tokio::test]
async fn obfuscated_padded_intermediate() {
    key_exchange_and_echo(Transport::PaddedIntermediate, true).await;
}

// ---------------------------------------------------------------------------------------
// Typed calls and RPC errors.

#[tokio::test]
async fn typed_invoke_sends_the_serialized_call_and_decodes_the_answer() {
    bounded(async {
        // A function of the service schema, so this crate's tests need no API bindings
        // (the API's typed calls are exercised by the client tests in `tests/`).
        let res_pq: enums::ResPq = types::ResPq {
            nonce: [7; 16],
            server_nonce: [9; 16],
            pq: vec![0x17, 0xed, 0x48, 0x94, 0x1a, 0x08, 0xf9, 0x81],
            server_public_key_fingerprints: vec![0x1234, -5],
        }
        .into();
        let answer = res_pq.to_bytes();
        let (addr, server) = start(Arc::new(move |_: &[u8]| Reply::Ok(answer.clone()))).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 1))
            .await
            .expect("connect");

        let call = functions::ReqPqMulti { nonce: [7; 16] };
        let got = conn.invoke(&call).await.expect("typed answer");
        assert_eq!(got, res_pq);
        assert_eq!(server.stats().received(&call.to_bytes()), 1);
    })
    .await
}

#[tokio::test]
async fn rpc_error_reaches_the_caller() {
    bounded(async {
        let handler: Handler =
            Arc::new(|_: &[u8]| Reply::Error(RpcError::new(420, "FLOOD_WAIT_17".into())));
        let (addr, server) = start(handler).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 2))
            .await
            .expect("connect");
        let error = conn.invoke_raw(body("flood", 1)).await.unwrap_err();
        let InvokeError::Rpc(error) = error else {
            panic!("expected an RPC error, got {error:?}")
        };
        assert_eq!(
            (error.code, error.name.as_str(), error.value),
            (420, "FLOOD_WAIT", Some(17))
        );
        // An RPC error is an answer: the connection goes on.
        assert_eq!(conn.status().pending, 0);
    })
    .await
}

#[tokio::test]
async fn invalid_body_is_refused_before_sending() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 3))
            .await
            .expect("connect");
        assert_eq!(
            conn.invoke_raw(vec![1, 2, 3]).await,
            Err(InvokeError::InvalidBody { len: 3 })
        );
        assert_eq!(
            conn.invoke_raw(Vec::new()).await,
            Err(InvokeError::InvalidBody { len: 0 })
        );
    })
    .await
}

// ---------------------------------------------------------------------------------------
// A request survives the server closing the connection mid-flight.

#[tokio::test]
async fn request_survives_the_server_closing_the_connection_mid_flight() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (conn, mut events) = Connection::connect(preshared(&server, addr, 4))
            .await
            .expect("connect");
        let first = body("first", 1);
        assert_eq!(conn.invoke_raw(first.clone()).await.unwrap(), first);

        // Request 2 arrives, the server closes the connection without answering it.
        server.update_knobs(|k| k.drop_on_request = Some(2));
        let second = body("second", 2);
        assert_eq!(conn.invoke_raw(second.clone()).await.unwrap(), second);

        let stats = server.stats();
        assert_eq!(stats.dropped_connections, 1);
        assert_eq!(stats.connections, 2, "the client reconnected once");
        // The first copy reached the server and was never answered; the copy resent on the
        // new connection (with a new msg_id) was answered: one answer in all.
        assert_eq!(stats.received(&second), 2);
        assert_eq!(stats.answered(&second), 1);
        assert_eq!(stats.received(&first), 1);

        let status = conn.status();
        assert_eq!(status.connections, 2);
        assert!(status.resent >= 1, "{status:?}");
        assert_eq!(status.pending, 0);
        let events = drain(&mut events);
        assert!(events
            .iter()
            .any(|e| matches!(e, NetEvent::Disconnected { .. })));
        assert!(events
            .iter()
            .any(|e| matches!(e, NetEvent::Reconnected { attempts: 1 })));
    })
    .await
}

// ---------------------------------------------------------------------------------------
// bad_server_salt and bad_msg_notification 16/17 are recovered transparently.

#[tokio::test]
async fn bad_server_salt_is_recovered_transparently() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let config = preshared(&server, addr, 5);
        let old_salt = config.auth.as_ref().unwrap().salt;
        let (conn, _events) = Connection::connect(config).await.expect("connect");
        let warm_up = body("warm", 1);
        assert_eq!(conn.invoke_raw(warm_up.clone()).await.unwrap(), warm_up);
        assert_eq!(conn.auth().salt, old_salt);

        let new_salt = old_salt ^ 0x5a5a_5a5a;
        server.update_knobs(|k| k.rotate_salt_on_next_request = Some(new_salt));
        let request = body("salty", 2);
        assert_eq!(conn.invoke_raw(request.clone()).await.unwrap(), request);

        let stats = server.stats();
        assert_eq!(
            stats.bad_server_salts, 1,
            "the request's packet was refused once"
        );
        // The refused copy never reached the handler; the resent one did, once.
        assert_eq!((stats.received(&request), stats.answered(&request)), (1, 1));
        assert_eq!(conn.auth().salt, new_salt);
        assert!(conn.status().resent >= 1);
    })
    .await
}

#[tokio::test]
async fn bad_msg_notification_16_is_recovered_transparently() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 6))
            .await
            .expect("connect");
        let warm_up = body("warm", 1);
        assert_eq!(conn.invoke_raw(warm_up.clone()).await.unwrap(), warm_up);
        assert_eq!(conn.auth().time_offset, 0);

        // The server's clock jumps 600 s ahead: the client's msg_ids are now too low.
        server.update_knobs(|k| k.clock_offset_on_next_request = Some(600));
        let request = body("late", 2);
        assert_eq!(conn.invoke_raw(request.clone()).await.unwrap(), request);

        let stats = server.stats();
        assert_eq!(stats.bad_msg_notifications.get(&16), Some(&1));
        assert_eq!(stats.bad_msg_notifications.len(), 1);
        assert_eq!((stats.received(&request), stats.answered(&request)), (1, 1));
        // The client took the server's time from the notification's msg_id.
        let offset = conn.auth().time_offset;
        assert!((599..=601).contains(&offset), "time offset {offset}");
    })
    .await
}

#[tokio::test]
async fn bad_msg_notification_17_is_recovered_transparently() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        // The server's clock is 120 s behind from the start (a clock cannot jump back in a
        // running session: its msg_ids must keep growing), so the client's ids are too high.
        server.update_knobs(|k| k.clock_offset = -120);
        let (conn, _events) = Connection::connect(preshared(&server, addr, 7))
            .await
            .expect("connect");
        // On a current-thread runtime the driver has not run yet, so this request rides the
        // session's first packet with `get_future_salts`: that container is refused.
        let request = body("early", 1);
        assert_eq!(conn.invoke_raw(request.clone()).await.unwrap(), request);

        let stats = server.stats();
        assert_eq!(stats.bad_msg_notifications.get(&17), Some(&1));
        assert_eq!(stats.bad_msg_notifications.len(), 1);
        assert_eq!((stats.received(&request), stats.answered(&request)), (1, 1));
        let offset = conn.auth().time_offset;
        assert!((-121..=-119).contains(&offset), "time offset {offset}");
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Timeouts, cancellation, concurrency.

fn slow_or_never() -> Handler {
    Arc::new(|request: &[u8]| {
        if request.starts_with(b"never") {
            Reply::Never
        } else if request.starts_with(b"slow") {
            Reply::Delayed(Duration::from_millis(500), Ok(b"late".to_vec()))
        } else {
            Reply::Ok(request.to_vec())
        }
    })
}

#[tokio::test]
async fn unanswered_request_times_out_and_is_not_resent() {
    bounded(async {
        let (addr, server) = start(slow_or_never()).await;
        let mut config = preshared(&server, addr, 8);
        config.request_timeout = Duration::from_millis(300);
        let (conn, _events) = Connection::connect(config).await.expect("connect");

        let never = body("never", 1);
        assert_eq!(
            conn.invoke_raw(never.clone()).await,
            Err(InvokeError::Timeout)
        );
        // Force a reconnection: only requests still waiting are resent.
        server.update_knobs(|k| k.drop_on_request = Some(2));
        let after = body("after", 2);
        assert_eq!(conn.invoke_raw(after.clone()).await.unwrap(), after);

        let stats = server.stats();
        assert_eq!(stats.connections, 2);
        assert_eq!(stats.received(&after), 2);
        assert_eq!(
            stats.received(&never),
            1,
            "the timed-out request was cancelled, not resent"
        );
        assert_eq!(conn.status().pending, 0);
    })
    .await
}

#[tokio::test]
async fn dropping_an_invoke_cancels_it_and_the_late_answer_is_ignored() {
    bounded(async {
        let (addr, server) = start(slow_or_never()).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 9))
            .await
            .expect("connect");
        let slow = body("slow", 1);
        let dropped =
            tokio::time::timeout(Duration::from_millis(50), conn.invoke_raw(slow.clone())).await;
        assert!(dropped.is_err(), "the slow answer came too early");

        // The server answers 500 ms after the request; the answer goes on the same connection, before
        // the answer to the next request.
        until(|| server.stats().answered(&slow) == 1).await;
        let next = body("next", 2);
        assert_eq!(conn.invoke_raw(next.clone()).await.unwrap(), next);

        let status = conn.status();
        assert_eq!(status.pending, 0);
        assert_eq!(
            status.connections, 1,
            "the late answer did not break the connection"
        );
        assert_eq!(server.stats().received(&slow), 1);
    })
    .await
}

#[tokio::test]
async fn two_hundred_concurrent_invokes_share_containers() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 10))
            .await
            .expect("connect");
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..200u32 {
            let conn = conn.clone();
            tasks.spawn(async move {
                let request = body("many", n);
                let answer = conn.invoke_raw(request.clone()).await;
                (request, answer)
            });
        }
        let mut done = 0;
        while let Some(joined) = tasks.join_next().await {
            let (request, answer) = joined.expect("task");
            assert_eq!(answer.expect("answer"), request);
            done += 1;
        }
        assert_eq!(done, 200);
        let stats = server.stats();
        assert_eq!(stats.requests, 200);
        assert!(stats.answered.values().all(|&n| n == 1));
        // At most 100 messages per container: the batch needed at least two.
        assert!(stats.containers >= 2, "containers: {}", stats.containers);
        assert_eq!(conn.status().pending, 0);
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Keys: stored, refused (-404), and giving up.

#[tokio::test]
async fn stored_key_skips_the_key_exchange() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (first, _events) = Connection::connect(config(addr)).await.expect("connect");
        let one = body("one", 1);
        assert_eq!(first.invoke_raw(one.clone()).await.unwrap(), one);
        let stored = first.auth();
        first.close();
        until(|| first.status().closed).await;
        assert_eq!(
            first.invoke_raw(one.clone()).await,
            Err(InvokeError::Closed)
        );

        let mut again = config(addr);
        again.auth = Some(stored.clone());
        let (second, _events) = Connection::connect(again).await.expect("reconnect");
        let two = body("two", 2);
        assert_eq!(second.invoke_raw(two.clone()).await.unwrap(), two);

        let stats = server.stats();
        assert_eq!(
            stats.key_exchanges, 1,
            "the second connection reused the key"
        );
        assert_eq!(stats.connections, 2);
        assert_eq!(second.status().key_exchanges, 0);
        assert_eq!(second.auth().auth_key, stored.auth_key);
    })
    .await
}

#[tokio::test]
async fn an_unknown_key_is_reported_and_replaced_only_when_the_application_says_so() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let config = preshared(&server, addr, 11);
        let old_key = config.auth.as_ref().unwrap().auth_key.clone();
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        let before = body("before", 1);
        assert_eq!(conn.invoke_raw(before.clone()).await.unwrap(), before);

        // The server answers -404 (four bytes anyone on the path could have sent).
        server.forget_keys();
        let after = body("after", 2);
        let waiting = {
            let conn = conn.clone();
            let after = after.clone();
            tokio::spawn(async move { conn.invoke_raw(after).await })
        };
        loop {
            match events.recv().await.expect("events") {
                NetEvent::AuthKeyUnknown => break,
                NetEvent::NewAuthKey => panic!("the key was replaced without asking"),
                _ => {}
            }
        }
        // Nothing replaced: the key (which may carry a login) is still the one to persist.
        assert_eq!(conn.auth().auth_key, old_key);
        assert!(conn.status().key_unknown);
        assert_eq!(server.stats().key_exchanges, 0);
        assert!(!waiting.is_finished(), "the request waits for the decision");

        // The application decides: a new key; the waiting request goes out over it.
        conn.create_new_key();
        assert_eq!(waiting.await.unwrap().unwrap(), after);
        let stats = server.stats();
        assert_eq!(stats.unknown_key_errors, 1);
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!((stats.received(&after), stats.answered(&after)), (1, 1));
        assert_eq!(conn.status().key_exchanges, 1);
        assert!(!conn.status().key_unknown);
        let new_key = conn.auth().auth_key;
        assert_ne!(new_key, old_key);
        assert!(server.salt(new_key.id()).is_some());
        let events = drain(&mut events);
        assert!(events.iter().any(|e| matches!(e, NetEvent::NewAuthKey)));
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Keepalive and dead connections.

#[tokio::test]
async fn keepalive_pings_follow_the_session_timer() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let mut config = preshared(&server, addr, 14);
        config.session.ping_interval = Duration::from_millis(50);
        let (conn, _events) = Connection::connect(config).await.expect("connect");
        // Nothing is invoked: the driver wakes at `poll_timeout` by itself.
        until(|| server.stats().pings >= 3).await;
        assert_eq!(conn.status().connections, 1);
    })
    .await
}

#[tokio::test]
async fn silent_connection_is_replaced_after_the_idle_timeout() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let mut config = preshared(&server, addr, 15);
        config.session.ping_interval = Duration::from_millis(50);
        config.idle_timeout = Some(Duration::from_millis(300));
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        let warm_up = body("warm", 1);
        assert_eq!(conn.invoke_raw(warm_up.clone()).await.unwrap(), warm_up);

        // The path dies silently: the server still reads, but nothing comes back.
        server.update_knobs(|k| k.silent = true);
        let request = body("lost", 2);
        let pending = {
            let conn = conn.clone();
            let request = request.clone();
            tokio::spawn(async move { conn.invoke_raw(request).await })
        };
        let error = loop {
            match events.recv().await.expect("events") {
                NetEvent::Disconnected { error } => break error,
                _ => continue,
            }
        };
        assert!(matches!(error, NetError::Idle(_)), "{error:?}");
        server.update_knobs(|k| k.silent = false);

        assert_eq!(pending.await.unwrap().unwrap(), request);
        let stats = server.stats();
        // The first copy was answered into the void; the resent copy got through.
        assert_eq!(stats.received(&request), 2);
        assert!(stats.swallowed_packets >= 1);
        assert!(conn.status().connections >= 2);
    })
    .await
}

#[tokio::test]
async fn connections_that_die_at_once_do_not_reset_the_backoff() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let mut config = preshared(&server, addr, 16);
        config.reconnect.max_attempts = Some(3);
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        let warm_up = body("warm", 1);
        assert_eq!(conn.invoke_raw(warm_up.clone()).await.unwrap(), warm_up);

        // Every new connection is accepted and closed at once; the current one is dropped.
        server.update_knobs(|k| {
            k.close_on_accept = true;
            k.drop_on_request = Some(2);
        });
        let doomed = conn.invoke_raw(body("doomed", 2)).await;
        assert!(
            matches!(&doomed, Err(InvokeError::GaveUp(why)) if matches!(*why.0, NetError::GaveUp { attempts: 3, .. })),
            "{doomed:?}"
        );
        let last = loop {
            match events.recv().await {
                Some(NetEvent::Closed { error }) => break error,
                Some(_) => continue,
                None => panic!("no Closed event"),
            }
        };
        assert!(
            matches!(last, Some(NetError::GaveUp { attempts: 3, .. })),
            "{last:?}"
        );
        let stats = server.stats();
        assert_eq!(
            stats.connections, 4,
            "the first, then three that died at once"
        );
        assert_eq!(stats.dropped_connections, 4);
    })
    .await
}

#[tokio::test]
async fn stale_stored_key_is_replaced_on_first_use() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        // A stored key the server has never seen (or has forgotten), which carries nothing
        // worth keeping: the application lets the driver replace it at once.
        let mut config = preshared(&server, addr, 13);
        config.unknown_key = UnknownKeyPolicy::CreateNew;
        server.forget_keys();
        let (conn, _events) = Connection::connect(config).await.expect("connect");
        let request = body("stale", 1);
        assert_eq!(conn.invoke_raw(request.clone()).await.unwrap(), request);
        let stats = server.stats();
        assert_eq!((stats.unknown_key_errors, stats.key_exchanges), (1, 1));
        assert_eq!(conn.status().key_exchanges, 1);
    })
    .await
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_fails_waiting_requests() {
    bounded(async {
        let (addr, server) = start(slow_or_never()).await;
        let mut config = preshared(&server, addr, 12);
        config.reconnect.max_attempts = Some(2);
        let (conn, mut events) = Connection::connect(config).await.expect("connect");
        let waiting = {
            let conn = conn.clone();
            tokio::spawn(async move { conn.invoke_raw(body("never", 1)).await })
        };
        until(|| server.stats().requests == 1).await;
        // The server goes away for good: the connection drops and nobody listens any more.
        drop(server);
        let failed = waiting.await.unwrap();
        assert!(
            matches!(&failed, Err(InvokeError::GaveUp(why)) if matches!(*why.0, NetError::GaveUp { attempts: 2, .. })),
            "{failed:?}"
        );
        assert!(conn.status().closed);
        let last = loop {
            match events.recv().await {
                Some(NetEvent::Closed { error }) => break error,
                Some(_) => continue,
                None => panic!("no Closed event"),
            }
        };
        assert!(
            matches!(last, Some(NetError::GaveUp { attempts: 2, .. })),
            "{last:?}"
        );
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Clock skew and answers that cannot be read.

#[tokio::test]
async fn clock_skews_inside_the_servers_window_are_survived() {
    bounded(async {
        // The server's clock runs `skew` seconds ahead of the client's, which believes it is
        // synchronized (stored offset 0): the server accepts the client's messages, and the
        // client must accept the server's answers by following its clock.
        for (n, skew) in [299i64, 120, 31, -29].into_iter().enumerate() {
            let (addr, server) = start(echo()).await;
            server.update_knobs(|k| k.clock_offset = skew);
            let (conn, _events) = Connection::connect(preshared(&server, addr, 40 + n as u64))
                .await
                .expect("connect");
            for i in 0..3 {
                let request = body("skew", i);
                let answer = conn.invoke_raw(request.clone()).await;
                assert_eq!(answer.as_ref(), Ok(&request), "skew {skew}: request {i}");
            }
            let stats = server.stats();
            assert!(
                stats.bad_msg_notifications.is_empty(),
                "skew {skew}: inside the server's window, nothing refused: {stats:?}"
            );
            if skew > 30 {
                assert_eq!(conn.auth().time_offset, skew, "skew {skew}: clock followed");
            }
        }
    })
    .await
}

#[tokio::test]
async fn an_unreadable_answer_is_an_error_not_a_timeout() {
    bounded(async {
        let mut corrupt_gzip = tl_wire::GZIP_PACKED_ID.to_le_bytes().to_vec();
        tl_wire::write_bytes(
            &mut corrupt_gzip,
            &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff],
        );
        let (addr, server) = start(Arc::new(move |_: &[u8]| Reply::Ok(corrupt_gzip.clone()))).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 50))
            .await
            .expect("connect");
        let started = std::time::Instant::now();
        let error = conn.invoke_raw(body("corrupt", 1)).await.unwrap_err();
        assert!(
            matches!(
                error,
                InvokeError::Decode(tl_wire::DecodeError::BadGzip { .. })
            ),
            "{error:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "not a timeout");
        assert_eq!(conn.status().pending, 0);
    })
    .await
}

#[tokio::test]
async fn a_request_too_large_for_a_frame_is_refused_at_once() {
    bounded(async {
        let (addr, server) = start(echo()).await;
        let (conn, _events) = Connection::connect(preshared(&server, addr, 60))
            .await
            .expect("connect");
        let error = conn.invoke_raw(vec![0; 4 << 20]).await.unwrap_err();
        assert!(
            matches!(error, InvokeError::TooLarge { len, max } if len == 4 << 20 && max < len),
            "{error:?}"
        );
        // The connection is unharmed.
        let small = body("small", 1);
        assert_eq!(conn.invoke_raw(small.clone()).await.unwrap(), small);
    })
    .await
}
