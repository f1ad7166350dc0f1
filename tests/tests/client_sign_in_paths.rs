//! Every answer layer 230 gives to `auth.sendCode`, end to end against the test DC: each
//! code type reaches the user with what it needs to show and signs in; `resend_code`
//! follows `next_type`; e-mail codes; a login e-mail set up first; a future auth token
//! honoured after `log_out` (also across a restart, from the session file); a payment
//! required; a forgotten 2FA password recovered by e-mail.

use std::sync::Arc;

use auth_api::client::{
    AuthFuture, Authenticator, Client, ClientConfig, ClientError, CodeKind, CodeToken,
    EmailCodeSent, FileStore, MemoryStore, NextCodeKind, PasswordToken, SentCode, SessionStore,
    SignIn,
};
use project_tests::script::bounded;
use test_dc::{Account, AuthBackend, AuthConfig, CodeDelivery, TestDc};

const CODE: &str = "24680";
const PHONE: &str = "+9996621111";

async fn start(account: Account, auth: AuthConfig) -> TestDc {
    TestDc::builder()
        .dcs(2)
        .auth_config(AuthConfig {
            code: Some(CODE.into()),
            ..auth
        })
        .user(account)
        .start()
        .await
        .expect("start the test DC")
}

fn client_with(dc: &TestDc, store: Arc<dyn SessionStore>) -> Client {
    let mut config = ClientConfig::new(
        611_335,
        "d524b414d21f4d37f08684c1df41ac9c",
        dc.dcs(),
        2,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.store = store;
    Client::new(config).expect("client")
}

fn client(dc: &TestDc) -> Client {
    client_with(dc, Arc::new(MemoryStore::new()))
}

async fn code_token(client: &Client) -> CodeToken {
    match client.send_code(PHONE).await.expect("sendCode") {
        SentCode::Code(token) => token,
        other => panic!("expected a code, got {other:?}"),
    }
}

fn signed_in(outcome: SignIn) -> i64 {
    match outcome {
        SignIn::SignedIn(user) => user.id,
        other => panic!("expected to be signed in, got {other:?}"),
    }
}

/// Sends a code to an account that gets it `delivery`'s way, checks what the user is shown,
/// and signs in with the code the test DC sent.
async fn delivered(delivery: CodeDelivery, expected: impl Fn(&str) -> CodeKind) {
    bounded(async {
        let dc = start(
            Account::new(PHONE).delivery(delivery),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        let code = dc.backend().last_code(PHONE).expect("a code was sent");
        assert_eq!(token.kind, expected(&code), "code {code:?}");
        assert!(!token.kind.to_string().is_empty());
        let id = signed_in(client.sign_in(&token, &code).await.unwrap());
        assert_eq!(Some(id), dc.backend().user_id(PHONE));
    })
    .await;
}

#[tokio::test]
async fn an_app_code_shows_its_length() {
    delivered(CodeDelivery::App, |_| CodeKind::App { length: 5 }).await;
}

#[tokio::test]
async fn an_sms_code_shows_its_length() {
    delivered(CodeDelivery::Sms, |_| CodeKind::Sms { length: 5 }).await;
}

#[tokio::test]
async fn a_call_code_shows_its_length() {
    delivered(CodeDelivery::Call, |_| CodeKind::Call { length: 5 }).await;
}

#[tokio::test]
async fn a_flash_call_shows_the_pattern_the_calling_number_matches() {
    delivered(CodeDelivery::FlashCall, |code| {
        // The code is the whole calling number, which the pattern describes.
        assert_eq!(code, format!("99966{CODE}"));
        CodeKind::FlashCall {
            pattern: "+99966*".into(),
        }
    })
    .await;
}

#[tokio::test]
async fn a_missed_call_shows_the_prefix_and_length() {
    delivered(CodeDelivery::MissedCall, |_| CodeKind::MissedCall {
        prefix: "+99966".into(),
        length: 5,
    })
    .await;
}

#[tokio::test]
async fn a_fragment_sms_shows_where_to_read_it() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).delivery(CodeDelivery::FragmentSms),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        assert_eq!(
            token.kind,
            CodeKind::FragmentSms {
                url: format!("https://fragment.com/number/{}/code", token.phone_code_hash),
                length: 5,
            }
        );
        signed_in(client.sign_in(&token, CODE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn a_firebase_sms_shows_its_length() {
    delivered(CodeDelivery::FirebaseSms, |_| CodeKind::FirebaseSms {
        length: 5,
    })
    .await;
}

#[tokio::test]
async fn an_sms_word_shows_its_first_letter() {
    delivered(CodeDelivery::SmsWord, |code| {
        assert!(code.chars().all(|c| c.is_ascii_lowercase()), "{code}");
        CodeKind::SmsWord {
            beginning: Some(code[..1].to_string()),
        }
    })
    .await;
}

#[tokio::test]
async fn an_sms_phrase_shows_its_first_word() {
    delivered(CodeDelivery::SmsPhrase, |code| {
        assert_eq!(code.split(' ').count(), 3, "{code}");
        CodeKind::SmsPhrase {
            beginning: code.split(' ').next().map(String::from),
        }
    })
    .await;
}

#[tokio::test]
async fn resend_code_follows_next_type_until_there_is_none() {
    bounded(async {
        let dc = start(Account::new(PHONE), AuthConfig::default()).await;
        let client = client(&dc);
        let app = code_token(&client).await;
        assert_eq!(app.kind, CodeKind::App { length: 5 });
        assert_eq!(app.next, Some(NextCodeKind::Sms));
        assert_eq!(app.timeout, Some(std::time::Duration::from_secs(60)));

        let sms = client.resend_code(&app).await.unwrap().into_code().unwrap();
        assert_eq!(sms.kind, CodeKind::Sms { length: 5 });
        assert_eq!(sms.next, Some(NextCodeKind::Call));
        assert_eq!(sms.phone_code_hash, app.phone_code_hash);

        let call = client.resend_code(&sms).await.unwrap().into_code().unwrap();
        assert_eq!(call.kind, CodeKind::Call { length: 5 });
        assert_eq!(call.next, None);
        assert_eq!(call.timeout, None);

        let error = client.resend_code(&call).await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("SEND_CODE_UNAVAILABLE"), "{error}");
        // The last code sent still signs in.
        signed_in(client.sign_in(&call, CODE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn an_emailed_code_signs_in_as_an_email_verification() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).login_email("ada@example.com"),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        assert_eq!(
            token.kind,
            CodeKind::Email {
                pattern: "a***@example.com".into(),
                length: 6,
                apple_signin_allowed: false,
                google_signin_allowed: false,
                reset_available_period: None,
                reset_pending_date: None,
            }
        );
        let code = dc.backend().last_email_code("ada@example.com").unwrap();
        // No SMS went out.
        assert_eq!(dc.backend().last_code(PHONE), None);
        let wrong = client.sign_in(&token, "000000").await.unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("PHONE_CODE_INVALID"), "{wrong}");
        let id = signed_in(client.sign_in(&token, &code).await.unwrap());
        assert_eq!(Some(id), dc.backend().user_id(PHONE));
    })
    .await;
}

#[tokio::test]
async fn an_email_code_sent_as_a_phone_code_is_refused() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).login_email("ada@example.com"),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let mut token = code_token(&client).await;
        let code = dc.backend().last_email_code("ada@example.com").unwrap();
        // The same code as `phone_code` instead of `email_verification`.
        token.kind = CodeKind::Sms { length: 6 };
        let error = client.sign_in(&token, &code).await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("PHONE_CODE_INVALID"), "{error}");
    })
    .await;
}

#[tokio::test]
async fn a_required_login_email_is_set_up_then_its_code_signs_in() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).email_setup_required(),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        assert_eq!(
            token.kind,
            CodeKind::SetUpEmailRequired {
                apple_signin_allowed: false,
                google_signin_allowed: false
            }
        );
        // No code is sent, and signing in without the e-mail is refused.
        assert_eq!(dc.backend().last_code(PHONE), None);
        let early = client.sign_in(&token, CODE).await.unwrap_err();
        assert_eq!(early.rpc_name(), Some("EMAIL_SETUP_REQUIRED"), "{early}");

        let bad = client
            .send_login_email_code(&token, "not an address")
            .await
            .unwrap_err();
        assert_eq!(bad.rpc_name(), Some("EMAIL_INVALID"), "{bad}");
        let sent = client
            .send_login_email_code(&token, "grace@example.org")
            .await
            .unwrap();
        assert_eq!(
            sent,
            EmailCodeSent {
                pattern: "g***@example.org".into(),
                length: 6
            }
        );
        let verification = dc.backend().last_email_code("grace@example.org").unwrap();
        let wrong = client
            .verify_login_email(&token, "000000")
            .await
            .unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("CODE_INVALID"), "{wrong}");
        let login = client
            .verify_login_email(&token, &verification)
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert!(
            matches!(&login.kind, CodeKind::Email { pattern, length: 6, .. } if pattern == "g***@example.org"),
            "{:?}",
            login.kind
        );
        assert_eq!(login.phone_code_hash, token.phone_code_hash);
        let code = dc.backend().last_email_code("grace@example.org").unwrap();
        assert_ne!(code, verification);
        let id = signed_in(client.sign_in(&login, &code).await.unwrap());
        assert_eq!(Some(id), dc.backend().user_id(PHONE));

        // The address is now the account's login e-mail: the next login gets an e-mail code.
        let other = client_with(&dc, Arc::new(MemoryStore::new()));
        let next = code_token(&other).await;
        assert!(next.kind.is_email(), "{:?}", next.kind);
    })
    .await;
}

/// An authenticator that reads every code from the test DC and records what it was asked.
struct FromTestDc {
    backend: AuthBackend,
    email: &'static str,
    password: &'static str,
    forgot: bool,
    new_password: Option<&'static str>,
    asked: Vec<String>,
}

impl FromTestDc {
    fn new(dc: &TestDc) -> Self {
        Self {
            backend: dc.backend().clone(),
            email: "",
            password: "",
            forgot: false,
            new_password: None,
            asked: Vec::new(),
        }
    }
}

impl Authenticator for FromTestDc {
    fn phone(&mut self) -> AuthFuture<'_, String> {
        self.asked.push("phone".into());
        Box::pin(async { Ok(PHONE.to_string()) })
    }

    fn code<'a>(&'a mut self, token: &'a CodeToken, _attempt: u32) -> AuthFuture<'a, String> {
        self.asked.push(format!("code ({})", token.kind));
        let code = match &token.kind {
            CodeKind::Email { .. } => self.backend.last_email_code(self.email),
            _ => self.backend.last_code(PHONE),
        };
        Box::pin(async move { code.ok_or(ClientError::NotProvided("a code")) })
    }

    fn password<'a>(
        &'a mut self,
        _token: &'a PasswordToken,
        attempt: u32,
    ) -> AuthFuture<'a, String> {
        self.asked.push(format!("password {attempt}"));
        let password = self.password.to_string();
        Box::pin(async move { Ok(password) })
    }

    fn sign_up<'a>(&'a mut self, _terms: Option<&'a str>) -> AuthFuture<'a, (String, String)> {
        Box::pin(async { Err(ClientError::NotProvided("names")) })
    }

    fn login_email(&mut self) -> AuthFuture<'_, String> {
        self.asked.push("login e-mail".into());
        let email = self.email.to_string();
        Box::pin(async move { Ok(email) })
    }

    fn login_email_code<'a>(
        &'a mut self,
        sent: &'a EmailCodeSent,
        attempt: u32,
    ) -> AuthFuture<'a, String> {
        self.asked
            .push(format!("e-mail code {attempt} ({})", sent.pattern));
        // A wrong code first: the flow asks again.
        let code = match attempt {
            1 => Some("000000".to_string()),
            _ => self.backend.last_email_code(self.email),
        };
        Box::pin(async move { code.ok_or(ClientError::NotProvided("the e-mail code")) })
    }

    fn forgot_password<'a>(&'a mut self, token: &'a PasswordToken) -> AuthFuture<'a, bool> {
        self.asked
            .push(format!("forgot? (recovery {})", token.has_recovery));
        let forgot = self.forgot;
        Box::pin(async move { Ok(forgot) })
    }

    fn recovery_code<'a>(&'a mut self, pattern: &'a str, attempt: u32) -> AuthFuture<'a, String> {
        self.asked
            .push(format!("recovery code {attempt} ({pattern})"));
        let code = match attempt {
            1 => Some("000000".to_string()),
            _ => self.backend.last_email_code(self.email),
        };
        Box::pin(async move { code.ok_or(ClientError::NotProvided("the recovery code")) })
    }

    fn new_password(&mut self) -> AuthFuture<'_, Option<String>> {
        self.asked.push("new password".into());
        let new = self.new_password.map(String::from);
        Box::pin(async move { Ok(new) })
    }
}

#[tokio::test]
async fn the_login_flow_sets_up_a_required_email_and_signs_in_with_its_code() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).email_setup_required(),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let mut auth = FromTestDc {
            email: "grace@example.org",
            ..FromTestDc::new(&dc)
        };
        let user = client.login(&mut auth).await.unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id(PHONE));
        assert_eq!(
            auth.asked,
            [
                "phone",
                "login e-mail",
                "e-mail code 1 (g***@example.org)",
                "e-mail code 2 (g***@example.org)",
                "code (by e-mail to g***@example.org, 6 digits)",
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn a_future_auth_token_signs_in_again_without_a_code_after_log_out() {
    bounded(async {
        let dc = start(Account::new(PHONE), AuthConfig::default()).await;
        let dir = std::env::temp_dir().join(format!("future-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("session.bin");
        let _ = std::fs::remove_file(&path);
        let client = client_with(&dc, Arc::new(FileStore::new(&path)));
        let token = code_token(&client).await;
        let id = signed_in(client.sign_in(&token, CODE).await.unwrap());
        // auth.authorization carried one token, auth.loggedOut another.
        assert_eq!(client.session().await.future_auth_tokens.len(), 1);
        client.log_out().await.unwrap();
        let session = client.session().await;
        assert_eq!(session.user_id, None);
        assert_eq!(session.future_auth_tokens.len(), 2);
        // Tokens are secrets: Debug shows their length only.
        let shown = format!("{session:?}");
        let secret: String = session.future_auth_tokens[0]
            .as_bytes()
            .iter()
            .map(|b| format!("{b}"))
            .collect::<Vec<_>>()
            .join(", ");
        assert!(!shown.contains(&secret), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        drop(client);

        // A new process with the same session file: no code is sent, the login succeeds.
        let restarted = client_with(&dc, Arc::new(FileStore::new(&path)));
        let before = dc.backend().last_code(PHONE);
        match restarted.send_code(PHONE).await.unwrap() {
            SentCode::SignedIn(user) => assert_eq!(user.id, id),
            other => panic!("expected sentCodeSuccess, got {other:?}"),
        }
        assert_eq!(
            dc.backend().last_code(PHONE),
            before,
            "no new code was sent"
        );
        assert_eq!(restarted.get_me().await.unwrap().id, id);
        assert_eq!(restarted.session().await.user_id, Some(id));
        let _ = std::fs::remove_dir_all(&dir);
    })
    .await;
}

#[tokio::test]
async fn without_future_auth_tokens_the_server_sends_a_code() {
    bounded(async {
        let dc = start(
            Account::new(PHONE),
            AuthConfig {
                honour_future_auth_tokens: false,
                ..AuthConfig::default()
            },
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        signed_in(client.sign_in(&token, CODE).await.unwrap());
        client.log_out().await.unwrap();
        assert!(!client.session().await.future_auth_tokens.is_empty());
        // The server does not honour them: a code again.
        let again = code_token(&client).await;
        assert_eq!(again.kind, CodeKind::App { length: 5 });
    })
    .await;
}

#[tokio::test]
async fn a_paid_code_is_a_typed_outcome() {
    bounded(async {
        let dc = start(
            Account::new(PHONE).payment_required(),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let SentCode::PaymentRequired(payment) = client.send_code(PHONE).await.unwrap() else {
            panic!("expected a payment required");
        };
        assert_eq!(payment.phone, PHONE);
        assert_eq!(payment.store_product, "org.telegram.test.login_code");
        assert_eq!(payment.currency, "USD");
        assert_eq!(payment.amount, 199);
        assert_eq!(payment.premium_days, 7);
        assert!(!payment.phone_code_hash.is_empty());
        assert_eq!(dc.backend().last_code(PHONE), None, "nothing was sent");
        // The login flow stops with the same typed outcome.
        let mut auth = FromTestDc::new(&dc);
        match client.login(&mut auth).await {
            Err(ClientError::PaymentRequired(p)) => assert_eq!(p.amount, 199),
            other => panic!("expected PaymentRequired, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn a_forgotten_password_is_recovered_with_the_emailed_code_and_replaced() {
    bounded(async {
        let dc = start(
            Account::new(PHONE)
                .password("old secret")
                .recovery_email("rita@example.net"),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let token = code_token(&client).await;
        let SignIn::PasswordRequired(password) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("expected the password step");
        };
        assert!(password.has_recovery);
        assert_eq!(
            client.request_password_recovery().await.unwrap(),
            "r***@example.net"
        );
        let code = dc.backend().last_email_code("rita@example.net").unwrap();
        assert!(!client.check_recovery_code("000000").await.unwrap());
        assert!(client.check_recovery_code(&code).await.unwrap());
        let wrong = client.recover_password("000000", None).await.unwrap_err();
        assert_eq!(wrong.rpc_name(), Some("CODE_INVALID"), "{wrong}");
        let user = client
            .recover_password(&code, Some("new secret"))
            .await
            .unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id(PHONE));
        assert_eq!(client.get_me().await.unwrap().id, user.id);

        // The new password is the one that works now.
        let other = client_with(&dc, Arc::new(MemoryStore::new()));
        let token = code_token(&other).await;
        let SignIn::PasswordRequired(p) = other.sign_in(&token, CODE).await.unwrap() else {
            panic!("expected the password step");
        };
        let old = other.check_password(&p, "old secret").await.unwrap_err();
        assert_eq!(old.rpc_name(), Some("PASSWORD_HASH_INVALID"), "{old}");
        assert_eq!(
            other.check_password(&p, "new secret").await.unwrap().id,
            user.id
        );
    })
    .await;
}

#[tokio::test]
async fn the_login_flow_recovers_a_forgotten_password() {
    bounded(async {
        let dc = start(
            Account::new(PHONE)
                .password("lost")
                .recovery_email("rita@example.net"),
            AuthConfig::default(),
        )
        .await;
        let client = client(&dc);
        let mut auth = FromTestDc {
            email: "rita@example.net",
            forgot: true,
            ..FromTestDc::new(&dc)
        };
        let user = client.login(&mut auth).await.unwrap();
        assert_eq!(Some(user.id), dc.backend().user_id(PHONE));
        assert_eq!(
            auth.asked,
            [
                "phone",
                "code (in a Telegram app, 5 digits)",
                "forgot? (recovery true)",
                "recovery code 1 (r***@example.net)",
                "recovery code 2 (r***@example.net)",
                "new password",
            ]
        );
        // Recovered without a new password: the account has none now.
        let other = client_with(&dc, Arc::new(MemoryStore::new()));
        let token = code_token(&other).await;
        signed_in(other.sign_in(&token, CODE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn recovery_without_a_recovery_email_is_refused() {
    bounded(async {
        let dc = start(Account::new(PHONE).password("pw"), AuthConfig::default()).await;
        let client = client(&dc);
        let token = code_token(&client).await;
        let SignIn::PasswordRequired(password) = client.sign_in(&token, CODE).await.unwrap() else {
            panic!("expected the password step");
        };
        assert!(!password.has_recovery);
        let error = client.request_password_recovery().await.unwrap_err();
        assert_eq!(error.rpc_name(), Some("PASSWORD_RECOVERY_NA"), "{error}");
    })
    .await;
}

#[tokio::test]
async fn a_future_auth_token_signs_in_only_its_own_user() {
    bounded(async {
        let other_phone = "+9996623333";
        let dc = TestDc::builder()
            .dcs(2)
            .code(CODE)
            .user(Account::new(PHONE))
            .user(Account::new(other_phone))
            .start()
            .await
            .unwrap();
        let client = client(&dc);
        let token = code_token(&client).await;
        signed_in(client.sign_in(&token, CODE).await.unwrap());
        client.log_out().await.unwrap();
        // The tokens are offered for another number: a code is sent for it.
        let other = client
            .send_code(other_phone)
            .await
            .unwrap()
            .into_code()
            .unwrap();
        assert_eq!(other.kind, CodeKind::App { length: 5 });
        // ... and they still work for their own user.
        assert!(matches!(
            client.send_code(PHONE).await.unwrap(),
            SentCode::SignedIn(_)
        ));
    })
    .await;
}
