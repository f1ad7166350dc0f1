//! Perfect forward secrecy, on by default in `auth_api::Client`, against the test DC: the
//! temporary key is bound once with a real MTProto 1.0 bind message and carries every API
//! message after it (the permanent key never goes on the wire after its exchange); a short
//! lifetime (3 s) makes the client bind a new key while requests keep flowing, none lost or
//! answered twice; a temporary key the DC forgets (-404) is replaced and bound again with
//! the waiting request answered once.

use std::sync::Arc;
use std::time::Duration;

use auth_api::client::{Client, ClientConfig, MemoryStore, SignIn};
use auth_api::{functions, Identifiable};
use project_tests::script::bounded;
use test_dc::{Account, TestDc};

const CODE: &str = "24680";
const PHONE: &str = "+9996621111";
const BIND: u32 = functions::auth::BindTempAuthKey::CONSTRUCTOR_ID;
const GET_USERS: u32 = functions::users::GetUsers::CONSTRUCTOR_ID;
const INVOKE_WITH_LAYER: u32 =
    functions::InvokeWithLayer::<functions::users::GetUsers>::CONSTRUCTOR_ID;

async fn start() -> TestDc {
    TestDc::builder()
        .dcs(2)
        .code(CODE)
        .user(Account::new(PHONE))
        .start()
        .await
        .expect("start the test DC")
}

fn config(dc: &TestDc) -> ClientConfig {
    let mut config = ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        dc.dcs(),
        2,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = Arc::new(MemoryStore::new());
    config
}

async fn log_in(client: &Client) -> i64 {
    let token = client.send_code(PHONE).await.unwrap().into_code().unwrap();
    match client.sign_in(&token, CODE).await.unwrap() {
        SignIn::SignedIn(user) => user.id,
        other => panic!("not signed in: {other:?}"),
    }
}

/// The key ids the DC saw requests under, in order, with their constructors.
fn requests(dc: &TestDc) -> Vec<(i64, u32)> {
    dc.server(2).stats().request_keys
}

#[tokio::test]
async fn one_bind_then_every_api_message_uses_the_temporary_key() {
    bounded(async {
        let dc = start().await;
        let client = Client::new(config(&dc)).unwrap();
        let id = log_in(&client).await;
        assert_eq!(client.get_me().await.unwrap().id, id);

        let perm = client.session().await.keys[&2].auth_key.id();
        let status = client.connection_status(2).await.unwrap();
        let temp = status.wire_key_id.unwrap();
        assert_ne!(temp, perm);
        assert_eq!(status.temp_keys_bound, 1);
        let seen = requests(&dc);
        // Exactly one bind, first, under the temporary key; nothing ever under the
        // permanent key.
        assert_eq!(seen.iter().filter(|(_, c)| *c == BIND).count(), 1);
        assert_eq!(seen[0], (temp, BIND));
        assert!(seen.iter().all(|(key, _)| *key == temp), "{seen:x?}");
        assert!(seen.len() >= 4, "{seen:x?}");
        let stats = dc.server(2).stats();
        assert_eq!((stats.key_exchanges, stats.temp_key_exchanges), (2, 1));
        // The login belongs to the permanent key: a bound temporary key acts for it.
        assert_eq!(dc.backend().authorized_user(2, perm), Some(id));
        assert_eq!(dc.backend().authorized_user(2, temp), Some(id));
    })
    .await;
}

#[tokio::test]
async fn without_pfs_the_permanent_key_carries_the_requests() {
    bounded(async {
        let dc = start().await;
        let client = Client::new(config(&dc).pfs(false)).unwrap();
        log_in(&client).await;
        let perm = client.session().await.keys[&2].auth_key.id();
        let seen = requests(&dc);
        assert!(
            seen.iter().all(|(key, c)| *key == perm && *c != BIND),
            "{seen:x?}"
        );
        let stats = dc.server(2).stats();
        assert_eq!((stats.key_exchanges, stats.temp_key_exchanges), (1, 0));
        assert_eq!(
            client.connection_status(2).await.unwrap().temp_keys_bound,
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_temporary_key_is_replaced_while_requests_keep_flowing() {
    bounded(async {
        let dc = start().await;
        let mut config = config(&dc);
        // Replaced a quarter of its life early (after 2.25 s), while the calls go on for 6 s.
        config.pfs = Some(Duration::from_secs(3));
        let client = Client::new(config).unwrap();
        let id = log_in(&client).await;
        let before = requests(&dc)
            .iter()
            .filter(|(_, c)| *c == GET_USERS || *c == INVOKE_WITH_LAYER)
            .count();

        // Two tasks call get_me back to back for 6 s: the 3 s key is replaced twice meanwhile.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..2 {
            let client = client.clone();
            tasks.spawn(async move {
                let started = std::time::Instant::now();
                let mut calls = 0usize;
                while started.elapsed() < Duration::from_secs(6) {
                    assert_eq!(client.get_me().await.expect("get_me").id, id);
                    calls += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                calls
            });
        }
        let mut calls = 0;
        while let Some(n) = tasks.join_next().await {
            calls += n.expect("join");
        }

        let status = client.connection_status(2).await.unwrap();
        assert!(status.temp_keys_bound >= 3, "{status:?}");
        // All on the first connection: late packets under a replaced key are dropped, not
        // taken for an attack.
        assert_eq!(status.connections, 1, "{status:?}");
        let seen = requests(&dc);
        let binds: Vec<i64> = seen
            .iter()
            .filter(|(_, c)| *c == BIND)
            .map(|(k, _)| *k)
            .collect();
        assert!(binds.len() >= 3, "{seen:x?}");
        // Each key's first request is its bind, and each bind is for a new key.
        for (i, key) in binds.iter().enumerate() {
            let first = seen.iter().position(|(k, _)| k == key).unwrap();
            assert_eq!(seen[first], (*key, BIND), "key {i}");
        }
        let mut distinct = binds.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), binds.len());
        // Every call reached the DC once: none lost (all answered), none twice.
        let after = seen
            .iter()
            .filter(|(_, c)| *c == GET_USERS || *c == INVOKE_WITH_LAYER)
            .count();
        assert_eq!(after - before, calls, "{seen:x?}");
        assert!(calls > 20, "{calls}");
        // Replaced before it expired: the DC never had to refuse it.
        let stats = dc.server(2).stats();
        assert_eq!((stats.unknown_key_errors, stats.expired_temp_keys), (0, 0));
        // Nothing under the permanent key.
        let perm = client.session().await.keys[&2].auth_key.id();
        assert!(seen.iter().all(|(k, _)| *k != perm));
    })
    .await;
}

#[tokio::test]
async fn a_forgotten_temporary_key_is_replaced_and_the_request_answered_once() {
    bounded(async {
        let dc = start().await;
        let client = Client::new(config(&dc)).unwrap();
        let id = log_in(&client).await;
        let temp = client
            .connection_status(2)
            .await
            .unwrap()
            .wire_key_id
            .unwrap();
        assert!(dc.server(2).forget_key(temp));
        let before = requests(&dc).len();

        assert_eq!(client.get_me().await.unwrap().id, id);

        let status = client.connection_status(2).await.unwrap();
        let new_temp = status.wire_key_id.unwrap();
        assert_ne!(new_temp, temp);
        assert_eq!(status.temp_keys_bound, 2);
        let after: Vec<(i64, u32)> = requests(&dc)[before..].to_vec();
        // The new key's bind, then the waiting get_me (declaring the layer again on the new
        // key), once.
        assert_eq!(after[0], (new_temp, BIND), "{after:x?}");
        let calls: Vec<_> = after.iter().filter(|(_, c)| *c != BIND).collect();
        assert_eq!(calls, [&(new_temp, INVOKE_WITH_LAYER)], "{after:x?}");
        assert_eq!(dc.server(2).stats().unknown_key_errors, 1);
        // The login survived: it belongs to the permanent key.
        assert!(client.is_authorized().await.unwrap());
    })
    .await;
}

/// The DC lost the permanent key (and so the login): with PFS the bind says
/// PERM_AUTH_KEY_INVALID, without it the DC answers -404. Either way the client makes a new
/// key by itself and the call ends in its 401 at once, not in a timeout.
async fn lost_permanent_key(pfs: bool) {
    let dc = start().await;
    let client = Client::new(config(&dc).pfs(pfs)).unwrap();
    log_in(&client).await;
    let perm = client.session().await.keys[&2].auth_key.id();
    let wire = client
        .connection_status(2)
        .await
        .unwrap()
        .wire_key_id
        .unwrap();
    dc.server(2).forget_key(perm);
    dc.server(2).forget_key(wire);

    let started = std::time::Instant::now();
    let error = client.get_me().await.unwrap_err();
    assert_eq!(error.rpc_name(), Some("AUTH_KEY_UNREGISTERED"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let session = client.session().await;
    assert_ne!(session.keys[&2].auth_key.id(), perm, "a new permanent key");
    assert_eq!(session.user_id, None, "the login went with the old key");
    assert!(!client.is_authorized().await.unwrap());
}

#[tokio::test]
async fn a_permanent_key_the_dc_lost_is_replaced_with_pfs() {
    bounded(lost_permanent_key(true)).await;
}

#[tokio::test]
async fn a_permanent_key_the_dc_lost_is_replaced_without_pfs() {
    bounded(lost_permanent_key(false)).await;
}
