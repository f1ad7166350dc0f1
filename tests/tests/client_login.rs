//! `auth_api::client::Client` against the test DC over loopback: the login flows, DC
//! migration, flood waits, and a session that survives the client.

use std::time::{Duration, Instant};

use auth_api::client::{
    Client, ClientConfig, ClientError, CodeKind, MemoryStore, SessionStore, SignIn,
};
use project_tests::script::bounded;
use std::sync::Arc;
use test_dc::{Account, AuthConfig, TestDc};

const CODE: &str = "24680";

async fn start(accounts: Vec<Account>, auth: AuthConfig) -> TestDc {
    let mut builder = TestDc::builder().dcs(3).auth_config(AuthConfig {
        code: Some(CODE.into()),
        ..auth
    });
    for account in accounts {
        builder = builder.user(account);
    }
    builder.start().await.expect("start the test DC")
}

fn config(dc: &TestDc, initial_dc: i32, store: Arc<dyn SessionStore>) -> ClientConfig {
    let mut config = ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        dc.dcs(),
        initial_dc,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = store;
    config
}

#[tokio::test]
async fn a_registered_number_signs_in_and_the_session_outlives_the_client() {
    bounded(async {
        let dc = start(
            vec![Account::new("+9996621111").name("Ada", "Lovelace")],
            AuthConfig::default(),
        )
        .await;
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let client = Client::new(config(&dc, 2, store.clone())).unwrap();
        let token = client
            .send_code("+999 66 2 1111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert_eq!(token.kind, CodeKind::App { length: 5 });
        let wrong = client.sign_in(&token, "00000").await.unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("PHONE_CODE_INVALID"));
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        assert_eq!(Some(user.id), dc.backend().user_id("+9996621111"));
        assert_eq!(user.first_name.as_deref(), Some("Ada"));
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        let session = client.session().await;
        assert_eq!((session.home_dc, session.user_id), (Some(2), Some(user.id)));
        // The client declared its layer and app on the connection's first request.
        let wire = client
            .connection_status(2)
            .await
            .and_then(|s| s.wire_key_id)
            .expect("a key on the wire");
        let (layer, init) = dc.server(2).declared(wire);
        assert_eq!(layer, Some(auth_api::LAYER));
        let init = init.expect("initConnection");
        assert_eq!((init.api_id, init.lang_code.as_str()), (611_335, "en"));
        drop(client);

        // A new client from the stored session: no new permanent key (only a temporary
        // one, bound to it), still signed in.
        let exchanges = permanent_exchanges(&dc, 2);
        let temp = dc.server(2).stats().temp_key_exchanges;
        let again = Client::new(config(&dc, 1, store)).unwrap();
        assert_eq!(again.home_dc().await, 2);
        assert_eq!(again.get_me().await.unwrap().id, user.id);
        assert_eq!(permanent_exchanges(&dc, 2), exchanges);
        assert_eq!(dc.server(2).stats().temp_key_exchanges, temp + 1);
        assert!(again.is_authorized().await.unwrap());
        again.log_out().await.unwrap();
        assert!(!again.is_authorized().await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn sign_up_and_two_factor_flows() {
    bounded(async {
        let dc = start(
            vec![Account::new("+9996622222")
                .name("Grace", "Hopper")
                .password("cobol")
                .hint("language")],
            AuthConfig::default(),
        )
        .await;
        let newcomer = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        let token = newcomer
            .send_code("+9996627777")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert!(matches!(
            newcomer.sign_in(&token, CODE).await.unwrap(),
            SignIn::SignUpRequired { .. }
        ));
        let user = newcomer.sign_up(&token, "New", "Comer").await.unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id("+9996627777"));
        assert_eq!(
            newcomer.get_me().await.unwrap().first_name.as_deref(),
            Some("New")
        );

        let grace = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        let token = grace
            .send_code("+9996622222")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::PasswordRequired(password) = grace.sign_in(&token, CODE).await.unwrap() else {
            panic!("no password asked")
        };
        assert_eq!(password.hint.as_deref(), Some("language"));
        let wrong = grace
            .check_password(&password, "fortran")
            .await
            .unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("PASSWORD_HASH_INVALID"));
        let user = grace.check_password(&password, "cobol").await.unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id("+9996622222"));
        assert_eq!(grace.get_me().await.unwrap().id, user.id);
    })
    .await;
}

#[tokio::test]
async fn phone_migrate_moves_the_home_dc_and_the_session_records_it() {
    bounded(async {
        let dc = start(vec![Account::new("+9996621111")], AuthConfig::default()).await;
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        // Starts on DC 1; the number lives on DC 2.
        let client = Client::new(config(&dc, 1, store.clone())).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert_eq!(client.home_dc().await, 2);
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        assert_eq!(store.load().unwrap().unwrap().home_dc, Some(2));
        assert_eq!(
            dc.backend()
                .authorized_user(2, client.session().await.keys[&2].auth_key.id()),
            Some(user.id)
        );
        // DC 1 only saw the sendCode that migrated (over one permanent and one temporary key).
        assert_eq!(permanent_exchanges(&dc, 1), 1);
        assert_eq!(dc.server(1).stats().temp_key_exchanges, 1);
        drop(client);
        let again = Client::new(config(&dc, 1, store)).unwrap();
        let before = dc.server(1).stats().connections;
        assert_eq!(again.get_me().await.unwrap().id, user.id);
        assert_eq!(
            dc.server(1).stats().connections,
            before,
            "went to DC 2 directly"
        );
    })
    .await;
}

#[tokio::test]
async fn short_flood_waits_are_slept_through_and_long_ones_returned() {
    bounded(async {
        let auth = AuthConfig {
            max_wrong_codes: 2,
            flood_wait: Duration::from_secs(2),
            ..AuthConfig::default()
        };
        let dc = start(vec![Account::new("+9996621111")], auth).await;
        let client = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let first = client.sign_in(&token, "00000").await.unwrap_err();
        assert_eq!(first.rpc_name(), Some("PHONE_CODE_INVALID"));
        // The second wrong code gets FLOOD_WAIT_2: the client sleeps 2 s and asks again,
        // which is the first wrong code of a new window.
        let started = Instant::now();
        let second = client.sign_in(&token, "00000").await.unwrap_err();
        assert_eq!(second.rpc_name(), Some("PHONE_CODE_INVALID"));
        assert!(
            started.elapsed() >= Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        let SignIn::SignedIn(_) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };

        // Above the threshold, the wait is the caller's.
        let mut strict = config(&dc, 2, Arc::new(MemoryStore::new()));
        strict.flood_sleep_threshold = Duration::from_secs(1);
        let strict = Client::new(strict).unwrap();
        let token = strict
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        strict.sign_in(&token, "00000").await.unwrap_err();
        let error = strict.sign_in(&token, "00000").await.unwrap_err();
        assert!(
            matches!(error, ClientError::FloodWait(d) if d == Duration::from_secs(2)),
            "{error:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn network_migrate_after_login_carries_the_login_to_the_new_dc() {
    bounded(async {
        let dc = start(vec![Account::new("+9996621111")], AuthConfig::default()).await;
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let client = Client::new(config(&dc, 2, store.clone())).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        dc.server(2).update_knobs(|k| {
            k.fail_next_call = Some(mtproto_net::RpcError::new(303, "NETWORK_MIGRATE_3".into()))
        });
        // get_me is refused on DC 2, the login is exported to DC 3 and imported there.
        assert_eq!(client.get_me().await.unwrap().id, user.id);
        assert_eq!(client.home_dc().await, 3);
        let key_3 = client.session().await.keys[&3].auth_key.id();
        assert_eq!(dc.backend().authorized_user(3, key_3), Some(user.id));
        assert_eq!(store.load().unwrap().unwrap().home_dc, Some(3));
    })
    .await;
}

#[tokio::test]
async fn user_migrate_before_login_moves_the_login_attempt() {
    bounded(async {
        let dc = start(vec![Account::new("+9996631111")], AuthConfig::default()).await;
        let client = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        dc.server(2).update_knobs(|k| {
            k.fail_next_call = Some(mtproto_net::RpcError::new(303, "USER_MIGRATE_3".into()))
        });
        let token = client
            .send_code("+9996631111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert_eq!(client.home_dc().await, 3);
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        assert_eq!(Some(user.id), dc.backend().user_id("+9996631111"));
    })
    .await;
}

/// Key exchanges on DC `i` that made a permanent key (PFS adds a temporary one per
/// connection).
fn permanent_exchanges(dc: &TestDc, i: i32) -> u64 {
    let stats = dc.server(i).stats();
    stats.key_exchanges - stats.temp_key_exchanges
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_then_fifty_with_pfs_log_in_at_once() {
    // 200 without PFS: the test DC runs key exchanges under its one lock, and 400 of them (a
    // permanent and a temporary key per client) do not fit the 10 s connect timeout of a
    // debug build on 2 cores; 50 with PFS (100 exchanges). One after the other: in parallel
    // they would measure the machine, not the client.
    concurrent_logins(200, false).await;
    concurrent_logins(50, true).await;
}

async fn concurrent_logins(clients: usize, pfs: bool) {
    bounded(async {
        let phones: Vec<String> = (0..clients).map(|i| format!("+99966 2 {i:04}")).collect();
        let accounts = phones.iter().map(|p| Account::new(p.clone())).collect();
        let dc = start(accounts, AuthConfig::default()).await;
        let mut tasks = tokio::task::JoinSet::new();
        for phone in phones.clone() {
            let mut config = config(&dc, 2, Arc::new(MemoryStore::new())).pfs(pfs);
            // Correctness under load, not latency: the key exchanges queue on the DC's one
            // lock, and the machine may be busy with other tests.
            config.connect_timeout = Duration::from_secs(60);
            let client = Client::new(config).unwrap();
            tasks.spawn(async move {
                let token = client.send_code(&phone).await?.into_code()?;
                match client.sign_in(&token, CODE).await? {
                    SignIn::SignedIn(user) => Ok::<_, ClientError>((phone, user.id)),
                    other => panic!("{other:?}"),
                }
            });
        }
        let mut done = 0;
        while let Some(result) = tasks.join_next().await {
            let (phone, id) = result.expect("join").expect("login");
            assert_eq!(Some(id), dc.backend().user_id(&phone));
            done += 1;
        }
        assert_eq!(done, clients);
        assert_eq!(permanent_exchanges(&dc, 2), clients as u64);
        let temp = if pfs { clients as u64 } else { 0 };
        assert_eq!(dc.server(2).stats().temp_key_exchanges, temp);
    })
    .await;
}

#[tokio::test]
async fn a_session_file_signs_in_a_new_client_without_a_key_exchange() {
    bounded(async {
        use auth_api::client::FileStore;
        let dc = start(vec![Account::new("+9996621111")], AuthConfig::default()).await;
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("client-session-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("session.bin");
        let client = Client::new(config(&dc, 1, Arc::new(FileStore::new(path.clone())))).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        drop(client);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let exchanges = permanent_exchanges(&dc, 2);
        let again = Client::new(config(&dc, 1, Arc::new(FileStore::new(path.clone())))).unwrap();
        assert_eq!(again.get_me().await.unwrap().id, user.id);
        assert_eq!(
            permanent_exchanges(&dc, 2),
            exchanges,
            "no new permanent key"
        );

        // A truncated copy: a clear error, and the file is left as it was.
        let truncated = dir.join("truncated.bin");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
        let error =
            Client::new(config(&dc, 1, Arc::new(FileStore::new(truncated.clone())))).unwrap_err();
        assert!(error.to_string().contains("truncated"), "{error}");
        assert_eq!(
            std::fs::read(&truncated).unwrap(),
            &bytes[..bytes.len() / 2]
        );
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn a_migration_to_an_unknown_dc_learns_it_from_help_get_config() {
    bounded(async {
        let dc = start(vec![Account::new("+9996631111")], AuthConfig::default()).await;
        // The client only knows DC 2; the number lives on DC 3.
        let mut only_2 = config(&dc, 2, Arc::new(MemoryStore::new()));
        only_2.dcs = [(2, dc.addr(2))].into_iter().collect();
        let client = Client::new(only_2).unwrap();
        let token = client
            .send_code("+9996631111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert_eq!(client.home_dc().await, 3);
        assert_eq!(client.session().await.dcs, dc.dcs().into_iter().collect());
        let SignIn::SignedIn(user) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("not signed in")
        };
        assert_eq!(Some(user.id), dc.backend().user_id("+9996631111"));
    })
    .await;
}

/// An authenticator that answers from lists and records what it was asked.
struct Scripted {
    phone: String,
    codes: Vec<&'static str>,
    passwords: Vec<&'static str>,
    asked: Vec<String>,
}

impl auth_api::client::Authenticator for Scripted {
    fn phone(&mut self) -> auth_api::client::AuthFuture<'_, String> {
        self.asked.push("phone".into());
        let phone = self.phone.clone();
        Box::pin(async move { Ok(phone) })
    }

    fn code<'a>(
        &'a mut self,
        _token: &'a auth_api::client::CodeToken,
        attempt: u32,
    ) -> auth_api::client::AuthFuture<'a, String> {
        self.asked.push(format!("code {attempt}"));
        let code = self.codes.remove(0).to_string();
        Box::pin(async move { Ok(code) })
    }

    fn password<'a>(
        &'a mut self,
        token: &'a auth_api::client::PasswordToken,
        attempt: u32,
    ) -> auth_api::client::AuthFuture<'a, String> {
        self.asked.push(format!(
            "password {attempt} ({})",
            token.hint.clone().unwrap_or_default()
        ));
        let password = self.passwords.remove(0).to_string();
        Box::pin(async move { Ok(password) })
    }

    fn sign_up<'a>(
        &'a mut self,
        _terms: Option<&'a str>,
    ) -> auth_api::client::AuthFuture<'a, (String, String)> {
        self.asked.push("sign up".into());
        Box::pin(async move { Ok(("Scripted".to_string(), "User".to_string())) })
    }
}

#[tokio::test]
async fn the_login_flow_asks_again_after_a_wrong_code_or_password() {
    bounded(async {
        let dc = start(
            vec![Account::new("+9996622222").password("right").hint("h")],
            AuthConfig::default(),
        )
        .await;
        let client = Client::new(config(&dc, 1, Arc::new(MemoryStore::new()))).unwrap();
        let mut auth = Scripted {
            phone: "+9996622222".into(),
            codes: vec!["00000", CODE],
            passwords: vec!["wrong", "right"],
            asked: Vec::new(),
        };
        let user = client.login(&mut auth).await.unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id("+9996622222"));
        assert_eq!(
            auth.asked,
            [
                "phone",
                "code 1",
                "code 2",
                "password 1 (h)",
                "password 2 (h)"
            ]
        );
        // Signed in already: login asks nothing.
        let mut again = Scripted {
            phone: String::new(),
            codes: vec![],
            passwords: vec![],
            asked: Vec::new(),
        };
        assert_eq!(client.login(&mut again).await.unwrap().id, user.id);
        assert!(again.asked.is_empty());

        // A new number signs up through the same flow.
        let newcomer = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        let mut auth = Scripted {
            phone: "+9996625555".into(),
            codes: vec![CODE],
            passwords: vec![],
            asked: Vec::new(),
        };
        let user = newcomer.login(&mut auth).await.unwrap();
        assert_eq!(user.first_name.as_deref(), Some("Scripted"));
        assert_eq!(auth.asked, ["phone", "code 1", "sign up"]);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_client_closes_its_connections() {
    bounded(async {
        let dc = start(vec![Account::new("+9996621111")], AuthConfig::default()).await;
        let client = Client::new(config(&dc, 2, Arc::new(MemoryStore::new()))).unwrap();
        let token = client
            .send_code("+9996621111")
            .await
            .unwrap()
            .into_code()
            .unwrap();
        client.sign_in(&token, CODE).await.unwrap();
        assert_eq!(dc.server(2).connections(), 1);
        drop(client);
        let started = Instant::now();
        while dc.server(2).connections() > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the dropped client's connection stays open"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
