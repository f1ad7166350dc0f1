//! QR login with `auth_api::client` against the test DC: `Client::qr_login` shows
//! `tg://login?token=...` URLs; another client of the user (ours, or Telethon 1.45) accepts
//! one with `auth.acceptLoginToken`; the first ends signed in as that user, on that user's
//! home DC, through a 2FA password when the account has one. Expired tokens are replaced,
//! and malformed or unknown ones refused.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_api::client::{
    AuthFuture, Authenticator, Client, ClientConfig, ClientError, CodeToken, MemoryStore,
    PasswordToken, QrLogin, QrToken, SignIn,
};
use project_tests::script::{bounded, run_script, step, ScriptNames};
use project_tests::{oracle_python, workspace_root};
use test_dc::{Account, AuthConfig, TestDc};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const CODE: &str = "24680";
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// How long a token or an outcome may take to come.
const WAIT: Duration = Duration::from_secs(20);

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

fn config(dc: &TestDc, initial_dc: i32) -> ClientConfig {
    let mut config = ClientConfig::new(
        API_ID,
        API_HASH,
        dc.dcs(),
        initial_dc,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = Arc::new(MemoryStore::new());
    config
}

/// A client of ours signed in as `phone` (with its password, if it has one), starting on
/// `initial_dc`; and the user id.
async fn signed_in(
    dc: &TestDc,
    phone: &str,
    initial_dc: i32,
    password: Option<&str>,
) -> (Client, i64) {
    let client = Client::new(config(dc, initial_dc)).unwrap();
    let token = client.send_code(phone).await.unwrap().into_code().unwrap();
    let user = match client.sign_in(&token, CODE).await.unwrap() {
        SignIn::SignedIn(user) => user,
        SignIn::PasswordRequired(p) => client
            .check_password(&p, password.expect("the account has a password"))
            .await
            .unwrap(),
        other => panic!("{phone}: {other:?}"),
    };
    (client, user.id)
}

/// The permanent key of `client` on DC `dc` (the one the login is recorded for).
async fn key_id(client: &Client, dc: i32) -> i64 {
    client.session().await.keys[&dc].auth_key.id()
}

/// The key `client`'s connection to DC `dc` uses on the wire (temporary, with PFS): the
/// one that exported the token, which `auth.acceptLoginToken` names.
async fn wire_key_id(client: &Client, dc: i32) -> i64 {
    client
        .connection_status(dc)
        .await
        .and_then(|status| status.wire_key_id)
        .expect("a key on the wire")
}

/// A `qr_login` running in the background, with the tokens it showed.
struct Waiting {
    tokens: mpsc::UnboundedReceiver<(QrToken, SystemTime)>,
    task: JoinHandle<Result<QrLogin, ClientError>>,
}

impl Waiting {
    fn start(client: &Client) -> Self {
        let (tx, tokens) = mpsc::unbounded_channel();
        let client = client.clone();
        let task = tokio::spawn(async move {
            client
                .qr_login(&[], move |token: &QrToken| {
                    let _ = tx.send((token.clone(), SystemTime::now()));
                })
                .await
        });
        Self { tokens, task }
    }

    /// The next token shown, and when.
    async fn next_token(&mut self) -> (QrToken, SystemTime) {
        match tokio::time::timeout(WAIT, self.tokens.recv()).await {
            Ok(Some(shown)) => shown,
            Ok(None) => panic!(
                "qr_login ended without a token: {:?}",
                (&mut self.task).await
            ),
            Err(_) => panic!("no token shown within {WAIT:?}"),
        }
    }

    /// How the login ended (no further token shown).
    async fn outcome(mut self) -> QrLogin {
        let outcome = tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("qr_login ends after the acceptance")
            .expect("the task joins")
            .expect("qr_login succeeds");
        assert!(
            self.tokens.try_recv().is_err(),
            "a token was shown after the acceptance"
        );
        outcome
    }
}

/// A token as `qr_login` shows it: the URL, unpadded base64url of the token, and an expiry
/// `ttl` from now (within a second either way: the server counts whole seconds).
fn assert_token(token: &QrToken, ttl: Duration) {
    let encoded = token
        .url
        .strip_prefix("tg://login?token=")
        .unwrap_or_else(|| panic!("{:?}", token.url));
    // The test DC's tokens are 32 bytes: 43 characters, unpadded.
    assert_eq!(encoded.len(), 43, "{:?}", token.url);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{:?}",
        token.url
    );
    let left = token
        .expires
        .duration_since(SystemTime::now())
        .expect("the token expires in the future");
    assert!(
        left <= ttl + Duration::from_secs(1) && left + Duration::from_secs(2) >= ttl,
        "expires in {left:?}, the ttl is {ttl:?}"
    );
}

#[tokio::test]
async fn a_second_client_accepts_the_token_and_the_first_signs_in_as_its_user() {
    bounded(async {
        let dc = start(
            vec![Account::new("+9996621111").name("Ada", "Lovelace")],
            AuthConfig::default(),
        )
        .await;
        let (phone, id) = signed_in(&dc, "+9996621111", 2, None).await;
        let desktop = Client::new(config(&dc, 2)).unwrap();
        let mut waiting = Waiting::start(&desktop);
        let (token, _) = waiting.next_token().await;
        assert_token(&token, Duration::from_secs(30));

        let session = phone.accept_login_token(&token.url).await.unwrap();
        // The server names the session it let in: the waiting client's key.
        assert_eq!(session.hash, wire_key_id(&desktop, 2).await);
        assert_eq!(session.api_id, API_ID);

        let QrLogin::SignedIn(user) = waiting.outcome().await else {
            panic!("no login")
        };
        assert_eq!((user.id, user.first_name.as_deref()), (id, Some("Ada")));
        assert_eq!(desktop.get_me().await.unwrap().id, id);
        let session = desktop.session().await;
        assert_eq!((session.user_id, session.home_dc), (Some(id), Some(2)));
        assert_eq!(
            dc.backend().authorized_user(2, key_id(&desktop, 2).await),
            Some(id)
        );
        // A token is good once.
        let again = phone.accept_login_token(&token.url).await.unwrap_err();
        assert_eq!(again.rpc_name(), Some("AUTH_TOKEN_INVALID"), "{again}");
    })
    .await;
}

/// Answers only the password: `passwords[attempt - 1]`, recording each ask.
struct PasswordOnly {
    passwords: Vec<&'static str>,
    asked: Vec<(u32, Option<String>)>,
}

impl Authenticator for PasswordOnly {
    fn phone(&mut self) -> AuthFuture<'_, String> {
        Box::pin(async { Err(ClientError::NotProvided("a phone (a QR login needs none)")) })
    }

    fn code<'a>(&'a mut self, _: &'a CodeToken, _: u32) -> AuthFuture<'a, String> {
        Box::pin(async { Err(ClientError::NotProvided("a code (a QR login needs none)")) })
    }

    fn password<'a>(
        &'a mut self,
        token: &'a PasswordToken,
        attempt: u32,
    ) -> AuthFuture<'a, String> {
        self.asked.push((attempt, token.hint.clone()));
        let password = self.passwords.get(attempt as usize - 1).copied();
        Box::pin(async move {
            password
                .map(str::to_string)
                .ok_or(ClientError::NotProvided("another password"))
        })
    }

    fn sign_up<'a>(&'a mut self, _: Option<&'a str>) -> AuthFuture<'a, (String, String)> {
        Box::pin(async { Err(ClientError::NotProvided("names (a QR login needs none)")) })
    }
}

#[tokio::test]
async fn a_two_factor_account_needs_its_password_after_the_token() {
    bounded(async {
        let dc = start(
            vec![Account::new("+9996622222")
                .name("Grace", "Hopper")
                .password("pw")
                .hint("the usual")],
            AuthConfig::default(),
        )
        .await;
        let (phone, id) = signed_in(&dc, "+9996622222", 2, Some("pw")).await;

        // qr_login stops at the password; check_password finishes.
        let desktop = Client::new(config(&dc, 2)).unwrap();
        let mut waiting = Waiting::start(&desktop);
        let (token, _) = waiting.next_token().await;
        phone.accept_login_token(&token.url).await.unwrap();
        let QrLogin::PasswordRequired(password) = waiting.outcome().await else {
            panic!("no password asked")
        };
        assert_eq!(password.hint.as_deref(), Some("the usual"));
        // Not signed in before the password.
        assert_eq!(desktop.session().await.user_id, None);
        assert_eq!(
            dc.backend().authorized_user(2, key_id(&desktop, 2).await),
            None
        );
        let wrong = desktop.check_password(&password, "nope").await.unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("PASSWORD_HASH_INVALID"));
        let user = desktop.check_password(&password, "pw").await.unwrap();
        assert_eq!(user.id, id);
        assert_eq!(desktop.get_me().await.unwrap().id, id);

        // qr_login_with asks the authenticator, again after a wrong password.
        let laptop = Client::new(config(&dc, 2)).unwrap();
        let (tx, mut tokens) = mpsc::unbounded_channel();
        let task = tokio::spawn({
            let laptop = laptop.clone();
            async move {
                let mut auth = PasswordOnly {
                    passwords: vec!["wrong", "pw"],
                    asked: Vec::new(),
                };
                let user = laptop
                    .qr_login_with(&mut auth, move |token: &QrToken| {
                        let _ = tx.send(token.url.clone());
                    })
                    .await;
                (user, auth.asked)
            }
        });
        let url = tokio::time::timeout(WAIT, tokens.recv())
            .await
            .unwrap()
            .unwrap();
        phone.accept_login_token(&url).await.unwrap();
        let (user, asked) = tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
        assert_eq!(user.unwrap().id, id);
        let hint = Some("the usual".to_string());
        assert_eq!(asked, vec![(1, hint.clone()), (2, hint)]);
        assert_eq!(laptop.get_me().await.unwrap().id, id);
        assert_eq!(laptop.session().await.user_id, Some(id));
    })
    .await;
}

#[tokio::test]
async fn a_user_on_another_dc_moves_the_session_there() {
    bounded(async {
        let dc = start(
            vec![
                Account::new("+9996631111").name("Alan", "Turing"),
                Account::new("+9996632222").password("pw"),
            ],
            AuthConfig::default(),
        )
        .await;
        let (phone, id) = signed_in(&dc, "+9996631111", 3, None).await;
        assert_eq!(phone.home_dc().await, 3);
        // The QR clients know only DC 2: DC 3 comes from help.getConfig.
        let only_2 = || {
            let mut config = config(&dc, 2);
            config.dcs = [(2, dc.addr(2))].into_iter().collect();
            Client::new(config).unwrap()
        };
        let desktop = only_2();
        let mut waiting = Waiting::start(&desktop);
        let (token, _) = waiting.next_token().await;
        // The token was exported on DC 2 and is accepted from DC 3.
        let session = phone.accept_login_token(&token.url).await.unwrap();
        assert_eq!(session.hash, wire_key_id(&desktop, 2).await);

        let QrLogin::SignedIn(user) = waiting.outcome().await else {
            panic!("no login")
        };
        assert_eq!(user.id, id);
        assert_eq!(desktop.home_dc().await, 3);
        let session = desktop.session().await;
        assert_eq!((session.home_dc, session.user_id), (Some(3), Some(id)));
        assert_eq!(session.dcs.get(&3), Some(&dc.addr(3)));
        // Logged in with a key of DC 3 (auth.importLoginToken there), not the one of DC 2.
        assert_eq!(
            dc.backend().authorized_user(3, key_id(&desktop, 3).await),
            Some(id)
        );
        assert_eq!(
            dc.backend().authorized_user(2, key_id(&desktop, 2).await),
            None
        );
        assert_eq!(desktop.get_me().await.unwrap().id, id);

        // A 2FA account on DC 3: the password is checked there, after the import.
        let (phone, id) = signed_in(&dc, "+9996632222", 3, Some("pw")).await;
        let laptop = only_2();
        let mut waiting = Waiting::start(&laptop);
        let (token, _) = waiting.next_token().await;
        phone.accept_login_token(&token.url).await.unwrap();
        let QrLogin::PasswordRequired(password) = waiting.outcome().await else {
            panic!("no password asked")
        };
        assert_eq!(laptop.home_dc().await, 3);
        assert_eq!(laptop.check_password(&password, "pw").await.unwrap().id, id);
        assert_eq!(
            dc.backend().authorized_user(3, key_id(&laptop, 3).await),
            Some(id)
        );
    })
    .await;
}

#[tokio::test]
async fn an_expired_token_is_replaced_by_a_new_one() {
    bounded(async {
        let ttl = Duration::from_secs(2);
        let dc = start(
            vec![Account::new("+9996621111")],
            AuthConfig {
                login_token_ttl: ttl,
                ..AuthConfig::default()
            },
        )
        .await;
        let (phone, id) = signed_in(&dc, "+9996621111", 2, None).await;
        let desktop = Client::new(config(&dc, 2)).unwrap();
        let mut waiting = Waiting::start(&desktop);
        let (first, first_at) = waiting.next_token().await;
        assert_token(&first, ttl);
        let (second, second_at) = waiting.next_token().await;
        assert_token(&second, ttl);
        assert_ne!(first.url, second.url);
        assert!(second.expires > first.expires, "{first:?} {second:?}");
        // Shown again when the first expired, not before.
        let gap = second_at.duration_since(first_at).unwrap();
        assert!(
            gap >= Duration::from_millis(900) && gap <= ttl + Duration::from_secs(2),
            "the second token came {gap:?} after the first"
        );
        // The old token no longer works; the new one does.
        let old = phone.accept_login_token(&first.url).await.unwrap_err();
        assert!(
            matches!(
                old.rpc_name(),
                Some("AUTH_TOKEN_EXPIRED" | "AUTH_TOKEN_INVALID")
            ),
            "{old}"
        );
        phone.accept_login_token(&second.url).await.unwrap();
        let QrLogin::SignedIn(user) = waiting.outcome().await else {
            panic!("no login")
        };
        assert_eq!(user.id, id);
    })
    .await;
}

#[tokio::test]
async fn telethon_accepts_our_token() {
    bounded(async {
        const PHONE: &str = "+9996621333";
        let dc = start(
            vec![Account::new(PHONE).name("Barbara", "Liskov")],
            // Telethon's own login takes seconds: the token must outlive it.
            AuthConfig {
                login_token_ttl: Duration::from_secs(120),
                ..AuthConfig::default()
            },
        )
        .await;
        let desktop = Client::new(config(&dc, 2)).unwrap();
        let mut waiting = Waiting::start(&desktop);
        let (token, _) = waiting.next_token().await;

        let plan = serde_json::json!({
            "pem": dc.public_key_pem(),
            "port": dc.addr(2).port(),
            "api_id": API_ID,
            "api_hash": API_HASH,
            "phone": PHONE,
            "code": CODE,
            "url": token.url,
        });
        let mut command = Command::new(oracle_python());
        command.arg(workspace_root().join("tests/py/telethon_accept_token.py"));
        let steps = run_script(
            command,
            plan.to_string().as_bytes(),
            ScriptNames {
                script: "telethon_accept_token.py",
                runner: "the oracle Python",
                oracle: "Telethon",
                setup: "cargo xtask py-setup",
            },
        )
        .await;
        let id = dc.backend().user_id(PHONE).unwrap();
        let sign_in = step(&steps, "sign_in");
        assert_eq!(sign_in["id"], id, "{sign_in}");
        assert_eq!(sign_in["dc_id"], 2, "{sign_in}");
        // Telethon decoded our base64url into the server's 32 bytes.
        assert_eq!(step(&steps, "token")["length"], 32);
        let accept = step(&steps, "accept");
        assert_eq!(accept["type"], "Authorization", "{accept}");
        assert_eq!(accept["hash"], wire_key_id(&desktop, 2).await, "{accept}");

        let QrLogin::SignedIn(user) = waiting.outcome().await else {
            panic!("no login")
        };
        assert_eq!((user.id, user.first_name.as_deref()), (id, Some("Barbara")));
        assert_eq!(desktop.get_me().await.unwrap().id, id);
    })
    .await;
}

#[tokio::test]
async fn malformed_and_unknown_tokens_are_refused() {
    bounded(async {
        let dc = start(vec![Account::new("+9996621111")], AuthConfig::default()).await;
        let (phone, _) = signed_in(&dc, "+9996621111", 2, None).await;
        for (url, why) in [
            (
                "https://t.me/login?token=AAAA",
                "does not start with tg://login?",
            ),
            ("tg://login?tok=AAAA", "no token parameter"),
            ("tg://login?token=", "the token is empty"),
            (
                "tg://login?token=AA+A",
                "'+' (character 3) is not base64url",
            ),
            ("tg://login?token=AAAAA", "5 characters cannot be base64url"),
        ] {
            let error = phone.accept_login_token(url).await.unwrap_err();
            let ClientError::InvalidLoginUrl(message) = &error else {
                panic!("{url}: {error:?}")
            };
            assert!(message.contains(why), "{url}: {message}");
        }
        // Well formed, but no token the server gave: 32 zero bytes.
        let unknown = format!("tg://login?token={}", "A".repeat(43));
        let error = phone.accept_login_token(&unknown).await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("AUTH_TOKEN_INVALID"), "{error}");
        // The bare token is accepted as well (and refused the same way).
        let error = phone.accept_login_token(&"A".repeat(43)).await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("AUTH_TOKEN_INVALID"), "{error}");
    })
    .await;
}
