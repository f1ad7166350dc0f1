//! The test DC's login backend, driven by our runtime (`mtproto-net` + `auth-api`) over
//! loopback TCP: every answer decoded with the generated bindings and asserted.
//!
//! The keys are registered on the server directly (`TestServerHandle::add_key`) so the
//! tests spend no time on 2048-bit key exchanges in debug builds; the key exchange itself
//! is covered against Telethon and mtcute in `telethon_client.rs` / `mtcute_client.rs`.
//!
//! Covered: codes (fixed and random, wrong, empty, expired, cancelled, resent), flood wait
//! after wrong codes, sign-up, 2FA with SRP computed by our client code, PHONE_MIGRATE and
//! USER_MIGRATE, `help.getConfig`'s DC list, export/import across DCs (AUTH_BYTES_INVALID),
//! logOut, resetAuthorizations (the other keys get 401), QR login (accept, the pushed
//! `updateLoginToken`, success, migrate-to and import on the home DC), 401 before login,
//! phone normalization, the twelve layer-23 calls answered in layer-23 types, and
//! `auth.bindTempAuthKey` verified (a bound temporary key acts for its permanent key; an
//! expired temporary key gets -404).

use std::time::Duration;

use auth_api::{enums, functions, types, RemoteCall, Serialize};
use mtproto_crypto::pfs::{encrypt_bind_message, BindAuthKeyInner};
use mtproto_crypto::srp::{compute_check, SrpParams};
use mtproto_crypto::{AuthKey, PrimeCache};
use mtproto_net::{
    Backoff, ConnectConfig, Connection, Events, InvokeError, NetEvent, RpcError, StoredAuth,
};
use project_tests::script::bounded;
use rand::{Rng, RngCore};
use test_dc::{Account, AuthConfig, Call, CallContext, Reply, TestDc};

const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
const CODE: &str = "24680";
/// Homed on DC 2 by the test-number rule (99966 2 xxxx).
const ALICE: &str = "+999 66 2 1111";
/// Homed on DC 3, with a password.
const BOB: &str = "+9996631111";
const BOB_PASSWORD: &str = "correct horse";

async fn start(dcs: usize, config: AuthConfig) -> TestDc {
    TestDc::builder()
        .dcs(dcs)
        .auth_config(config)
        .user(
            Account::new(ALICE)
                .name("Alice", "Liddell")
                .username("alice"),
        )
        .user(
            Account::new(BOB)
                .name("Bob", "")
                .password(BOB_PASSWORD)
                .hint("horse"),
        )
        .start()
        .await
        .expect("start the test DC")
}

fn fixed_code() -> AuthConfig {
    AuthConfig {
        code: Some(CODE.into()),
        ..AuthConfig::default()
    }
}

/// A client of DC `dc` under a fresh key registered on that DC.
struct Client {
    conn: Connection,
    events: Events,
    key_id: i64,
}

async fn client(test_dc: &TestDc, dc: i32) -> Client {
    let mut bytes = [0u8; 256];
    rand::thread_rng().fill_bytes(&mut bytes);
    let auth_key = AuthKey::from_bytes(bytes);
    let salt: i64 = rand::thread_rng().gen();
    let key_id = auth_key.id();
    test_dc.server(dc).add_key(auth_key.clone(), salt);
    let mut config = ConnectConfig::new(
        test_dc.addr(dc),
        dc,
        vec![test_dc::test_server_key().public_key().clone()],
    );
    config.auth = Some(StoredAuth {
        auth_key,
        salt,
        time_offset: 0,
    });
    config.reconnect = Backoff::default();
    config.request_timeout = Duration::from_secs(20);
    let (conn, events) = Connection::connect(config).await.expect("connect");
    Client {
        conn,
        events,
        key_id,
    }
}

impl Client {
    async fn call<R: RemoteCall>(&self, request: &R) -> Result<R::Return, String> {
        self.conn.invoke(request).await.map_err(|e| match e {
            InvokeError::Rpc(error) => error.message,
            other => format!("not an RPC error: {other}"),
        })
    }

    /// The first call of a layer-230 client: wrapped as Telethon does.
    async fn hello(&self) -> enums::Config {
        let init = functions::InitConnection::new(
            API_ID,
            "test".into(),
            "linux".into(),
            "1.0".into(),
            "en".into(),
            "".into(),
            "en".into(),
            functions::help::GetConfig {},
        );
        self.call(&functions::InvokeWithLayer::new(auth_api::LAYER, init))
            .await
            .expect("help.getConfig")
    }

    async fn send_code(&self, phone: &str) -> Result<String, String> {
        let sent = self
            .call(&functions::auth::SendCode::new(
                phone.into(),
                API_ID,
                API_HASH.into(),
                types::CodeSettings::default().into(),
            ))
            .await?;
        let enums::auth::SentCode::SentCode(sent) = sent else {
            return Err(format!("unexpected {sent:?}"));
        };
        Ok(sent.phone_code_hash)
    }

    async fn sign_in(
        &self,
        phone: &str,
        hash: &str,
        code: &str,
    ) -> Result<enums::auth::Authorization, String> {
        self.call(&functions::auth::SignIn::new(phone.into(), hash.into()).phone_code(code))
            .await
    }

    async fn me(&self) -> Result<types::User, String> {
        let users = self
            .call(&functions::users::GetUsers::new(vec![
                enums::InputUser::Self_,
            ]))
            .await?;
        match users.into_iter().next() {
            Some(enums::User::User(user)) => Ok(user),
            other => Err(format!("unexpected {other:?}")),
        }
    }

    async fn login(&self, phone: &str) -> types::User {
        let hash = self.send_code(phone).await.expect("sendCode");
        authorized_user(self.sign_in(phone, &hash, CODE).await.expect("signIn"))
    }
}

fn authorized_user(authorization: enums::auth::Authorization) -> types::User {
    match authorization {
        enums::auth::Authorization::Authorization(a) => match a.user {
            enums::User::User(user) => user,
            other => panic!("unexpected user {other:?}"),
        },
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_registered_number_logs_in_with_a_random_code_and_out_again() {
    bounded(async {
        let dc = start(3, AuthConfig::default()).await;
        let alice = client(&dc, 2).await;
        let config = alice.hello().await;
        let enums::Config::Config(config) = config;
        assert_eq!(config.this_dc, 2);
        let options: Vec<(i32, i32)> = config
            .dc_options
            .iter()
            .map(|o| match o {
                enums::DcOption::DcOption(o) => (o.id, o.port),
            })
            .collect();
        let base = i32::from(dc.addr(1).port());
        assert_eq!(options, [(1, base), (2, base + 1), (3, base + 2)]);
        let enums::NearestDc::NearestDc(nearest) =
            alice.call(&functions::help::GetNearestDc {}).await.unwrap();
        assert_eq!(nearest.this_dc, 2);

        assert_eq!(alice.me().await.unwrap_err(), "AUTH_KEY_UNREGISTERED");
        let hash = alice.send_code(ALICE).await.unwrap();
        let code = dc.last_code(ALICE).expect("a code was sent");
        assert_eq!(code.len(), 5);
        let wrong = if code == "00000" { "11111" } else { "00000" };
        assert_eq!(
            alice.sign_in(ALICE, &hash, wrong).await.unwrap_err(),
            "PHONE_CODE_INVALID"
        );
        assert_eq!(
            alice.sign_in(ALICE, &hash, "").await.unwrap_err(),
            "PHONE_CODE_EMPTY"
        );
        // The number in another form is the same number.
        let user = authorized_user(alice.sign_in("9996621111", &hash, &code).await.unwrap());
        assert_eq!(Some(user.id), dc.backend().user_id(ALICE));
        assert_eq!(user.first_name.as_deref(), Some("Alice"));
        assert_eq!(user.phone.as_deref(), Some("9996621111"));
        assert!(user.self_);
        assert_eq!(dc.backend().authorized_user(2, alice.key_id), Some(user.id));

        let me = alice.me().await.unwrap();
        assert_eq!((me.id, me.username.as_deref()), (user.id, Some("alice")));
        let enums::updates::State::State(state) =
            alice.call(&functions::updates::GetState {}).await.unwrap();
        assert!(state.date > 0);

        // The code is used up.
        assert_eq!(
            alice.sign_in(ALICE, &hash, &code).await.unwrap_err(),
            "PHONE_CODE_EXPIRED"
        );
        alice.call(&functions::auth::LogOut {}).await.unwrap();
        assert_eq!(alice.me().await.unwrap_err(), "AUTH_KEY_UNREGISTERED");
        assert_eq!(dc.backend().authorized_user(2, alice.key_id), None);
    })
    .await;
}

#[tokio::test]
async fn a_new_number_signs_up_and_codes_expire_resend_and_cancel() {
    bounded(async {
        let config = AuthConfig {
            code: Some(CODE.into()),
            code_ttl: Duration::from_secs(2),
            ..AuthConfig::default()
        };
        let dc = start(2, config).await;
        let carol = client(&dc, 2).await;
        let phone = "+999 66 2 7777";
        let hash = carol.send_code(phone).await.unwrap();
        let answer = carol.sign_in(phone, &hash, CODE).await.unwrap();
        assert!(
            matches!(answer, enums::auth::Authorization::SignUpRequired(_)),
            "{answer:?}"
        );
        let empty_name =
            functions::auth::SignUp::new(phone.into(), hash.clone(), " ".into(), "".into());
        assert_eq!(
            carol.call(&empty_name).await.unwrap_err(),
            "FIRST_NAME_INVALID"
        );
        let signed_up = carol
            .call(&functions::auth::SignUp::new(
                phone.into(),
                hash.clone(),
                "Carol".into(),
                "C".into(),
            ))
            .await
            .unwrap();
        let user = authorized_user(signed_up);
        assert_eq!(Some(user.id), dc.backend().user_id(phone));
        assert_eq!(
            carol.me().await.unwrap().first_name.as_deref(),
            Some("Carol")
        );

        // resendCode keeps the hash; cancelCode kills it; a code expires.
        let dave = client(&dc, 2).await;
        let phone = "+9996628888";
        let hash = dave.send_code(phone).await.unwrap();
        let resent = dave
            .call(&functions::auth::ResendCode::new(
                phone.into(),
                hash.clone(),
            ))
            .await
            .unwrap();
        let enums::auth::SentCode::SentCode(resent) = resent else {
            panic!("{resent:?}")
        };
        assert_eq!(resent.phone_code_hash, hash);
        assert!(dave
            .call(&functions::auth::CancelCode::new(
                phone.into(),
                hash.clone()
            ))
            .await
            .unwrap());
        assert_eq!(
            dave.sign_in(phone, &hash, CODE).await.unwrap_err(),
            "PHONE_CODE_EXPIRED"
        );
        let hash = dave.send_code(phone).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(
            dave.sign_in(phone, &hash, CODE).await.unwrap_err(),
            "PHONE_CODE_EXPIRED"
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_codes_end_in_a_flood_wait() {
    bounded(async {
        let config = AuthConfig {
            code: Some(CODE.into()),
            max_wrong_codes: 3,
            flood_wait: Duration::from_secs(40),
            ..AuthConfig::default()
        };
        let dc = start(2, config).await;
        let alice = client(&dc, 2).await;
        let hash = alice.send_code(ALICE).await.unwrap();
        for _ in 0..2 {
            assert_eq!(
                alice.sign_in(ALICE, &hash, "99999").await.unwrap_err(),
                "PHONE_CODE_INVALID"
            );
        }
        assert_eq!(
            alice.sign_in(ALICE, &hash, "99999").await.unwrap_err(),
            "FLOOD_WAIT_40"
        );
        let waiting = alice.sign_in(ALICE, &hash, CODE).await.unwrap_err();
        assert!(waiting.starts_with("FLOOD_WAIT_"), "{waiting}");
        let waiting = alice.send_code(ALICE).await.unwrap_err();
        assert!(waiting.starts_with("FLOOD_WAIT_"), "{waiting}");
    })
    .await;
}

/// SRP computed by our client code (`mtproto_crypto::srp::compute_check`).
async fn check_password(
    bob: &Client,
    password: &str,
) -> Result<enums::auth::Authorization, String> {
    let enums::account::Password::Password(info) =
        bob.call(&functions::account::GetPassword {}).await?;
    assert!(info.has_password);
    assert_eq!(info.hint.as_deref(), Some("horse"));
    let Some(enums::PasswordKdfAlgo::Sha256sha256pbkdf2hmacsha512iter100000Sha256ModPow(algo)) =
        info.current_algo
    else {
        panic!("no SRP algorithm")
    };
    let params = SrpParams::new(
        &algo.salt1,
        &algo.salt2,
        algo.g,
        &algo.p,
        &mut PrimeCache::new(),
    )
    .expect("the server's SRP group checks out");
    let answer = compute_check(
        &params,
        password.as_bytes(),
        &info.srp_b.expect("srp_B"),
        &mut rand::thread_rng(),
    )
    .expect("SRP");
    let check = types::InputCheckPasswordSrp {
        srp_id: info.srp_id.expect("srp_id"),
        a: answer.a.to_vec().into(),
        m1: answer.m1.to_vec().into(),
    };
    bob.call(&functions::auth::CheckPassword::new(check.into()))
        .await
}

#[tokio::test]
async fn a_number_homed_elsewhere_migrates_and_2fa_checks_srp() {
    bounded(async {
        let dc = start(3, fixed_code()).await;
        let on_2 = client(&dc, 2).await;
        assert_eq!(on_2.send_code(BOB).await.unwrap_err(), "PHONE_MIGRATE_3");
        let bob = client(&dc, 3).await;
        let hash = bob.send_code(BOB).await.unwrap();
        assert_eq!(
            bob.sign_in(BOB, &hash, CODE).await.unwrap_err(),
            "SESSION_PASSWORD_NEEDED"
        );
        assert_eq!(bob.me().await.unwrap_err(), "SESSION_PASSWORD_NEEDED");
        assert_eq!(
            check_password(&bob, "wrong horse").await.unwrap_err(),
            "PASSWORD_HASH_INVALID"
        );
        let user = authorized_user(check_password(&bob, BOB_PASSWORD).await.unwrap());
        assert_eq!(Some(user.id), dc.backend().user_id(BOB));
        assert_eq!(bob.me().await.unwrap().id, user.id);

        // Export to DC 2 and import there.
        let exported = bob
            .call(&functions::auth::ExportAuthorization::new(2))
            .await
            .unwrap();
        let enums::auth::ExportedAuthorization::ExportedAuthorization(exported) = exported;
        assert_eq!(exported.id, user.id);
        assert_eq!(
            bob.call(&functions::auth::ExportAuthorization::new(9))
                .await
                .unwrap_err(),
            "DC_ID_INVALID"
        );
        let mut forged = exported.bytes.clone();
        forged[0] ^= 1;
        assert_eq!(
            on_2.call(&functions::auth::ImportAuthorization::new(user.id, forged))
                .await
                .unwrap_err(),
            "AUTH_BYTES_INVALID"
        );
        let imported = on_2
            .call(&functions::auth::ImportAuthorization::new(
                user.id,
                exported.bytes.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(authorized_user(imported).id, user.id);
        assert_eq!(on_2.me().await.unwrap().id, user.id);
        // The bytes work once.
        let again = client(&dc, 2).await;
        assert_eq!(
            again
                .call(&functions::auth::ImportAuthorization::new(
                    user.id,
                    exported.bytes
                ))
                .await
                .unwrap_err(),
            "AUTH_BYTES_INVALID"
        );
        // A sign-in on the wrong DC with a valid-looking hash: USER_MIGRATE.
        assert_eq!(
            on_2.sign_in(BOB, &hash, CODE).await.unwrap_err(),
            "USER_MIGRATE_3"
        );
    })
    .await;
}

#[tokio::test]
async fn reset_authorizations_logs_out_the_other_keys() {
    bounded(async {
        let dc = start(3, fixed_code()).await;
        let first = client(&dc, 2).await;
        let second = client(&dc, 2).await;
        let id = first.login(ALICE).await.id;
        assert_eq!(second.login(ALICE).await.id, id);
        assert!(second
            .call(&functions::auth::ResetAuthorizations {})
            .await
            .unwrap());
        assert_eq!(first.me().await.unwrap_err(), "AUTH_KEY_UNREGISTERED");
        assert_eq!(second.me().await.unwrap().id, id);
    })
    .await;
}

async fn next_update(events: &mut Events) -> Vec<u8> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(NetEvent::Update { body })) => return body,
            Ok(Some(_)) => continue,
            other => panic!("no update: {other:?}"),
        }
    }
}

#[tokio::test]
async fn qr_login_is_accepted_by_another_session_and_migrates_to_the_home_dc() {
    bounded(async {
        let dc = start(3, fixed_code()).await;
        let phone_app = client(&dc, 2).await;
        let alice_id = phone_app.login(ALICE).await.id;

        let mut desktop = client(&dc, 2).await;
        let export = functions::auth::ExportLoginToken::new(API_ID, API_HASH.into(), vec![]);
        let enums::auth::LoginToken::LoginToken(token) = desktop.call(&export).await.unwrap()
        else {
            panic!("not a token")
        };
        assert!(i64::from(token.expires) > test_dc::unix_now().as_secs() as i64);
        assert_eq!(
            phone_app
                .call(&functions::auth::AcceptLoginToken::new(b"forged".to_vec()))
                .await
                .unwrap_err(),
            "AUTH_TOKEN_INVALID"
        );
        phone_app
            .call(&functions::auth::AcceptLoginToken::new(token.token.clone()))
            .await
            .unwrap();
        // updateShort{updateLoginToken} is pushed to the waiting session.
        let update = next_update(&mut desktop.events).await;
        assert_eq!(&update[..4], &0x78d4_dec1_u32.to_le_bytes());
        assert_eq!(&update[4..8], &0x564f_e691_u32.to_le_bytes());
        let success = desktop.call(&export).await.unwrap();
        let enums::auth::LoginToken::Success(success) = success else {
            panic!("{success:?}")
        };
        assert_eq!(authorized_user(success.authorization).id, alice_id);
        assert_eq!(desktop.me().await.unwrap().id, alice_id);

        // A user homed on DC 3 accepting a token of DC 2: migrate, then import there.
        let bob_app = client(&dc, 3).await;
        let hash = bob_app.send_code(BOB).await.unwrap();
        bob_app.sign_in(BOB, &hash, CODE).await.unwrap_err();
        let bob_id = authorized_user(check_password(&bob_app, BOB_PASSWORD).await.unwrap()).id;
        let laptop = client(&dc, 2).await;
        let enums::auth::LoginToken::LoginToken(token) = laptop.call(&export).await.unwrap() else {
            panic!("not a token")
        };
        bob_app
            .call(&functions::auth::AcceptLoginToken::new(token.token.clone()))
            .await
            .unwrap();
        let enums::auth::LoginToken::MigrateTo(to) = laptop.call(&export).await.unwrap() else {
            panic!("no migration")
        };
        assert_eq!(to.dc_id, 3);
        let laptop_3 = client(&dc, 3).await;
        // Bob has 2FA: the import asks for the password.
        assert_eq!(
            laptop_3
                .call(&functions::auth::ImportLoginToken::new(to.token))
                .await
                .unwrap_err(),
            "SESSION_PASSWORD_NEEDED"
        );
        let user = authorized_user(check_password(&laptop_3, BOB_PASSWORD).await.unwrap());
        assert_eq!(user.id, bob_id);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Layer 23: the legacy library's twelve calls.

mod legacy {
    pub use auth_api::legacy::layer23::{enums, functions, types};
}

impl Client {
    /// Declares layer 23 with its own `initConnection` form.
    async fn hello_23<R: RemoteCall>(&self, first: R) -> Result<R::Return, String> {
        let init = legacy::functions::InitConnection::new(
            API_ID,
            "legacy".into(),
            "linux".into(),
            "0.1".into(),
            "en".into(),
            first,
        );
        self.call(&legacy::functions::InvokeWithLayer::new(23, init))
            .await
    }
}

fn legacy_user(authorization: legacy::enums::auth::Authorization) -> legacy::types::UserSelf {
    let legacy::enums::auth::Authorization::Authorization(a) = authorization;
    match a.user {
        legacy::enums::User::Self_(user) => user,
        other => panic!("unexpected user {other:?}"),
    }
}

#[tokio::test]
async fn a_layer_23_client_gets_layer_23_answers_to_all_twelve_calls() {
    use auth_api::legacy::layer23 as helpers;
    bounded(async {
        let dc = start(3, fixed_code()).await;
        let old = client(&dc, 2).await;
        let checked = old
            .hello_23(legacy::functions::auth::CheckPhone::new(ALICE.into()))
            .await
            .unwrap();
        let legacy::enums::auth::CheckedPhone::CheckedPhone(checked) = checked;
        assert!(checked.phone_registered);
        let legacy::enums::auth::CheckedPhone::CheckedPhone(unknown) = old
            .call(&legacy::functions::auth::CheckPhone::new(
                "+9996625555".into(),
            ))
            .await
            .unwrap();
        assert!(!unknown.phone_registered);

        let sent = old
            .call(&helpers::send_code(ALICE, API_ID, API_HASH))
            .await
            .unwrap();
        let legacy::enums::auth::SentCode::SentCode(sent) = sent else {
            panic!("{sent:?}")
        };
        assert!(sent.phone_registered);
        let hash = sent.phone_code_hash;
        assert!(old
            .call(&legacy::functions::auth::SendCall::new(
                ALICE.into(),
                hash.clone()
            ))
            .await
            .unwrap());
        assert!(old
            .call(&legacy::functions::auth::SendSms::new(
                ALICE.into(),
                hash.clone()
            ))
            .await
            .unwrap());
        assert_eq!(
            old.call(&legacy::functions::auth::SendInvites::new(
                vec!["+4915112345678".into()],
                "join".into()
            ))
            .await
            .unwrap_err(),
            "AUTH_KEY_UNREGISTERED"
        );
        let user = legacy_user(
            old.call(&legacy::functions::auth::SignIn::new(
                ALICE.into(),
                hash,
                CODE,
            ))
            .await
            .unwrap(),
        );
        assert_eq!(Some(i64::from(user.id)), dc.backend().user_id(ALICE));
        assert_eq!(
            (user.first_name.as_str(), user.phone.as_str()),
            ("Alice", "9996621111")
        );
        assert!(old
            .call(&legacy::functions::auth::SendInvites::new(
                vec!["+4915112345678".into()],
                "join".into()
            ))
            .await
            .unwrap());

        // An unknown number: signIn says unoccupied, signUp (with the code) registers it.
        let newbie = "+9996626666";
        let legacy::enums::auth::SentCode::SentCode(sent) = old
            .call(&helpers::send_code(newbie, API_ID, API_HASH))
            .await
            .unwrap()
        else {
            panic!("not sentCode")
        };
        assert!(!sent.phone_registered);
        let other = client(&dc, 2).await;
        assert_eq!(
            other
                .hello_23(legacy::functions::auth::SignIn::new(
                    newbie.into(),
                    sent.phone_code_hash.clone(),
                    CODE
                ))
                .await
                .unwrap_err(),
            "PHONE_NUMBER_UNOCCUPIED"
        );
        let signed_up = legacy_user(
            other
                .call(&legacy::functions::auth::SignUp::new(
                    newbie.into(),
                    sent.phone_code_hash,
                    CODE,
                    "New".into(),
                    "Comer".into(),
                ))
                .await
                .unwrap(),
        );
        assert_eq!(Some(i64::from(signed_up.id)), dc.backend().user_id(newbie));

        // Export to DC 3, import there in layer 23.
        let legacy::enums::auth::ExportedAuthorization::ExportedAuthorization(exported) = old
            .call(&legacy::functions::auth::ExportAuthorization::new(3))
            .await
            .unwrap();
        assert_eq!(exported.id, user.id);
        let on_3 = client(&dc, 3).await;
        let imported = legacy_user(
            on_3.hello_23(legacy::functions::auth::ImportAuthorization::new(
                exported.id,
                exported.bytes,
            ))
            .await
            .unwrap(),
        );
        assert_eq!(imported.id, user.id);

        // bindTempAuthKey over a permanent key is refused (the key is not temporary).
        assert_eq!(
            old.call(&legacy::functions::auth::BindTempAuthKey::new(
                on_3.key_id,
                1,
                0,
                vec![0; 64]
            ))
            .await
            .unwrap_err(),
            "TEMP_AUTH_KEY_EMPTY"
        );
        assert!(old
            .call(&legacy::functions::auth::ResetAuthorizations {})
            .await
            .unwrap());
        // on_3's authorization was another key of the same user: logged out.
        assert_eq!(dc.backend().authorized_user(3, on_3.key_id), None);
        assert!(old.call(&legacy::functions::auth::LogOut {}).await.unwrap());
        assert_eq!(dc.backend().authorized_user(2, old.key_id), None);
        assert_eq!(
            old.call(&legacy::functions::auth::LogOut {})
                .await
                .unwrap_err(),
            "AUTH_KEY_UNREGISTERED"
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// Temporary keys.

#[tokio::test]
async fn a_bound_temporary_key_acts_for_its_permanent_key_until_it_expires() {
    bounded(async {
        let dc = start(2, fixed_code()).await;
        let perm = client(&dc, 2).await;
        let alice_id = perm.login(ALICE).await.id;
        let perm_key = dc
            .server(2)
            .link()
            .auth_key(perm.key_id)
            .expect("the DC knows the permanent key");

        let mut temp_bytes = [0u8; 256];
        rand::thread_rng().fill_bytes(&mut temp_bytes);
        let temp_key = AuthKey::from_bytes(temp_bytes);
        let now = test_dc::unix_now().as_secs() as i64;
        let expires_at = now + 3;
        dc.server(2).add_temp_key(temp_key.clone(), 7, expires_at);

        // The bind as the backend receives it: the call's context is the temporary key's.
        let (session_id, msg_id, nonce) = (0x1122_3344_5566_7788_i64, (now << 32) | 4, 99_i64);
        let inner = BindAuthKeyInner {
            nonce,
            temp_auth_key_id: temp_key.id(),
            perm_auth_key_id: perm.key_id,
            temp_session_id: session_id,
            expires_at: expires_at as i32,
        };
        let bind = |encrypted: Vec<u8>, nonce: i64| {
            functions::auth::BindTempAuthKey::new(perm.key_id, nonce, expires_at as i32, encrypted)
                .to_bytes()
        };
        let encrypted = encrypt_bind_message(&perm_key, msg_id, &inner, &mut rand::thread_rng());
        let backend = dc.backend().clone();
        let call = |query: Vec<u8>| Call {
            ctx: CallContext {
                dc: 2,
                key_id: temp_key.id(),
                temp_expires_at: Some(expires_at),
                session_id,
                msg_id,
                layer: Some(auth_api::LAYER),
                init: None,
                wrappers: vec![],
                server: dc.server(2).link(),
            },
            raw: query.clone(),
            query,
        };
        use test_dc::Backend;
        // A nonce that does not match the encrypted one is refused.
        let refused = backend.call(call(bind(encrypted.clone(), nonce + 1))).await;
        assert_eq!(
            refused,
            Reply::Error(RpcError::new(400, "ENCRYPTED_MESSAGE_INVALID".into()))
        );
        assert_eq!(backend.authorized_user(2, temp_key.id()), None);
        let bound = backend.call(call(bind(encrypted, nonce))).await;
        assert_eq!(bound, Reply::Ok(true.to_bytes()));
        assert_eq!(backend.authorized_user(2, temp_key.id()), Some(alice_id));

        // Over the wire: the temporary key is logged in as Alice, until it expires; then the
        // server forgets it and the client hears -404.
        let mut config = ConnectConfig::new(
            dc.addr(2),
            2,
            vec![test_dc::test_server_key().public_key().clone()],
        );
        config.auth = Some(StoredAuth {
            auth_key: temp_key,
            salt: 7,
            time_offset: 0,
        });
        config.reconnect = Backoff::default();
        let (conn, events) = Connection::connect(config).await.expect("connect");
        let mut temp = Client {
            conn,
            events,
            key_id: 0,
        };
        assert_eq!(temp.me().await.unwrap().id, alice_id);
        tokio::time::sleep(Duration::from_millis(3100)).await;
        let get_me = functions::users::GetUsers::new(vec![enums::InputUser::Self_]);
        let failed = temp.conn.invoke(&get_me);
        let (result, unknown) = tokio::join!(failed, async {
            loop {
                match tokio::time::timeout(Duration::from_secs(10), temp.events.recv()).await {
                    Ok(Some(NetEvent::AuthKeyUnknown)) => return true,
                    Ok(Some(_)) => continue,
                    _ => return false,
                }
            }
        });
        assert!(unknown, "the client never heard -404");
        assert!(result.is_err());
        assert_eq!(dc.server(2).stats().expired_temp_keys, 1);
    })
    .await;
}
