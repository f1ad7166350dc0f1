//! Telethon 1.45 (PyPI; an independent MTProto client, layer 229) logging in to the test DC
//! ([`test_dc::TestDc`], three DCs on loopback with the real login backend) with its own,
//! unchanged high-level API, once per Telethon connection class: `ConnectionTcpFull`,
//! `ConnectionTcpIntermediate`, `ConnectionTcpAbridged` and `ConnectionTcpObfuscated`
//! (obfuscated2 around abridged). The Python side is `tests/py/telethon_client.py`; each
//! test function runs one group of its flows against its own `TestDc`.
//!
//! Every client is given only the DCs' public key and starts on DC 2 (session DC id 2).
//! For each connection class:
//! - `login`: a registered number (`send_code_request`, a wrong code raises
//!   `PhoneCodeInvalidError`, `sign_in`); a new number (`sign_in` raises
//!   `PhoneNumberUnoccupiedError`; Telethon 1.45's own `sign_up` refuses to run, so the
//!   account is made with the raw `auth.signUp` and the hash Telethon kept); a number homed
//!   on DC 3, which Telethon follows by itself from `PHONE_MIGRATE_3` and the `dc_options`
//!   of `help.getConfig`.
//! - `two_factor`: `client.start(phone, code_callback, password)` for a 2FA account, and
//!   `sign_in` with the code (`SessionPasswordNeededError`), a wrong password
//!   (`PasswordHashInvalidError`), then the right one: real SRP on both sides.
//! - `qr`: `client.qr_login()` accepted by a second, logged-in Telethon client with
//!   `auth.acceptLoginToken`; `wait()` returns the accepting user, also when that user is
//!   homed on DC 3 (`auth.loginTokenMigrateTo`, then `auth.importLoginToken` there).
//!
//! Every login ends with `get_me()` (the account the backend has: id, names, phone,
//! `is_self`) and `log_out()` (true); a new client reusing the logged-out key then finds
//! itself unauthorized, and the backend agrees.
//!
//! Needs the oracle venv (`cargo xtask py-setup`); a missing interpreter or package fails the
//! test, never skips it. Run: `cargo test -p project-tests --test telethon_client`.

use std::process::Command;

use project_tests::script::{bounded, run_script, ScriptNames};
use project_tests::{oracle_python, workspace_root};
use serde_json::{json, Value};
use test_dc::{Account, TestDc};

/// Telethon 1.45's layer: the layer its `invokeWithLayer` announces.
const TELETHON_LAYER: i32 = 229;
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// Every login code of these DCs.
const CODE: &str = "24680";
const WRONG_CODE: &str = "13579";

/// A registered number on DC 2.
const REGISTERED: &str = "+9996621001";
/// A number nobody has registered (DC 2).
const NEW: &str = "+9996621002";
/// A 2FA account on DC 2.
const TWO_FA: &str = "+9996621003";
const PASSWORD: &str = "correct horse battery staple";
const WRONG_PASSWORD: &str = "correct horse battery stable";
/// A registered number homed on DC 3.
const ON_DC3: &str = "+9996631005";
/// The users who accept QR tokens: on DC 2 and on DC 3.
const QR_ACCEPTER: &str = "+9996621006";
const QR_ACCEPTER_DC3: &str = "+9996631007";

/// Three DCs with `accounts`, every code [`CODE`].
///
/// Each group registers only the accounts it uses: an account with a password costs its
/// SRP verifier (100 000 rounds of PBKDF2-HMAC-SHA512), seconds in a debug build.
async fn start_dc(accounts: impl IntoIterator<Item = Account>) -> TestDc {
    accounts
        .into_iter()
        .fold(TestDc::builder().dcs(3).code(CODE), |dc, account| {
            dc.user(account)
        })
        .start()
        .await
        .expect("the test DC starts")
}

/// Runs `telethon_client.py` with `flows` over `connection` against `dc`, starting on DC 2.
async fn run_telethon(dc: &TestDc, connection: &str, flows: Value) -> Vec<Value> {
    let plan = json!({
        "pem": dc.public_key_pem(),
        "port": dc.addr(2).port(),
        "connection": connection,
        "api_id": API_ID,
        "api_hash": API_HASH,
        "code": CODE,
        "wrong_code": WRONG_CODE,
        "flows": flows,
        "timeout": 80,
    });
    let mut command = Command::new(oracle_python());
    command.arg(workspace_root().join("tests/py/telethon_client.py"));
    let names = ScriptNames {
        script: &format!("telethon_client.py ({connection})"),
        runner: "the oracle Python",
        oracle: "Telethon",
        setup: "cargo xtask py-setup",
    };
    run_script(command, plan.to_string().as_bytes(), names).await
}

/// The steps of one flow, in order.
struct Steps<'a> {
    flow: &'a str,
    steps: Vec<&'a Value>,
}

impl<'a> Steps<'a> {
    fn of(all: &'a [Value], flow: &'a str) -> Self {
        let steps = all.iter().filter(|s| s["flow"] == flow).collect();
        Self { flow, steps }
    }

    fn names(&self) -> Vec<&str> {
        self.steps
            .iter()
            .map(|s| s["step"].as_str().expect("every line has a step"))
            .collect()
    }

    fn get(&self, name: &str) -> &'a Value {
        self.steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("no {name:?} step in flow {}: {:#?}", self.flow, self.steps))
    }
}

/// Telethon's `User` is the account the backend has for `phone`, as its own user.
fn assert_user(user: &Value, dc: &TestDc, phone: &str, first: &str, last: &str) {
    let id = dc
        .backend()
        .user_id(phone)
        .unwrap_or_else(|| panic!("the backend has no account for {phone}"));
    assert_eq!(user["class"], "User", "{user}");
    assert_eq!(user["id"], id, "{user}");
    assert_eq!(user["is_self"], true, "{user}");
    assert_eq!(user["first_name"], first, "{user}");
    assert_eq!(user["last_name"], last, "{user}");
    assert_eq!(user["phone"], phone.trim_start_matches('+'), "{user}");
}

/// An RPC error raised as Telethon's class for it.
fn assert_error(step: &Value, class: &str, code: i64) {
    assert_eq!(step["error"], class, "{step}");
    assert_eq!(step["code"], code, "{step}");
}

/// The end of every login: `get_me` on DC `home` (a key that DC knows, logged in as the
/// account), `log_out`, and the logged-out key unauthorized for Telethon and the backend.
fn assert_finish(dc: &TestDc, steps: &Steps<'_>, home: i32, user: (&str, &str, &str)) {
    let (phone, first, last) = user;
    let get_me = steps.get("get_me");
    assert_user(&get_me["user"], dc, phone, first, last);
    assert_eq!(get_me["dc_id"], home, "{get_me}");
    assert_eq!(get_me["port"], dc.addr(home).port(), "{get_me}");
    let key_id = get_me["auth_key_id"].as_i64().expect("auth_key_id");
    assert!(
        dc.server(home).salt(key_id).is_some(),
        "Telethon's key {key_id:#x} is not one DC {home} knows"
    );

    let log_out = steps.get("log_out");
    assert_eq!(log_out["authorized_before"], true, "{log_out}");
    assert_eq!(log_out["result"], true, "{log_out}");
    assert_eq!(log_out["session_dropped"], true, "{log_out}");
    assert_eq!(log_out["connected"], false, "{log_out}");

    let after = steps.get("after_log_out");
    assert_eq!(after["same_key"], true, "{after}");
    assert_eq!(after["authorized"], false, "{after}");
    assert_eq!(after["get_me"], Value::Null, "{after}");
    assert_eq!(
        dc.backend().authorized_user(home, key_id),
        None,
        "the backend still has key {key_id:#x} of DC {home} logged in"
    );
}

const FINISH: [&str; 4] = ["get_me", "log_out", "after_log_out", "done"];

fn with_finish<'a>(steps: &[&'a str]) -> Vec<&'a str> {
    steps.iter().copied().chain(FINISH).collect()
}

// ---------------------------------------------------------------------------------------
// The groups of flows.

async fn login(connection: &str) {
    bounded(async {
        let dc = start_dc([
            Account::new(REGISTERED).name("Ada", "Lovelace"),
            Account::new(ON_DC3).name("Alan", "Turing"),
        ])
        .await;
        assert_eq!(dc.backend().user_id(NEW), None);
        let flows = json!([
            {"flow": "registered", "phone": REGISTERED},
            {"flow": "signup", "phone": NEW, "first_name": "Niklaus", "last_name": "Wirth"},
            {"flow": "migrate", "phone": ON_DC3},
        ]);
        let all = run_telethon(&dc, connection, flows).await;

        let steps = Steps::of(&all, "registered");
        assert_eq!(
            steps.names(),
            with_finish(&["connect", "send_code", "wrong_code", "sign_in"]),
            "{all:#?}"
        );
        let connect = steps.get("connect");
        assert_eq!(connect["layer"], TELETHON_LAYER);
        assert_eq!(connect["authorized"], false);
        let sent = steps.get("send_code");
        assert_eq!(sent["type"], "SentCodeTypeApp", "{sent}");
        assert_eq!(sent["length"], CODE.len(), "{sent}");
        assert_eq!(sent["dc_id"], 2, "{sent}");
        assert_error(steps.get("wrong_code"), "PhoneCodeInvalidError", 400);
        let user = (REGISTERED, "Ada", "Lovelace");
        assert_user(&steps.get("sign_in")["user"], &dc, user.0, user.1, user.2);
        assert_finish(&dc, &steps, 2, user);

        let steps = Steps::of(&all, "signup");
        assert_eq!(
            steps.names(),
            with_finish(&["send_code", "sign_in", "telethon_sign_up", "sign_up"]),
            "{all:#?}"
        );
        assert_error(steps.get("sign_in"), "PhoneNumberUnoccupiedError", 400);
        assert_eq!(steps.get("telethon_sign_up")["error"], "ValueError");
        let sign_up = steps.get("sign_up");
        assert_eq!(sign_up["type"], "Authorization", "{sign_up}");
        let user = (NEW, "Niklaus", "Wirth");
        assert_user(&sign_up["user"], &dc, user.0, user.1, user.2);
        assert_finish(&dc, &steps, 2, user);

        let steps = Steps::of(&all, "migrate");
        assert_eq!(
            steps.names(),
            with_finish(&["connect", "send_code", "sign_in"]),
            "{all:#?}"
        );
        assert_eq!(steps.get("connect")["dc_id"], 2);
        // `auth.sendCode` on DC 2 got PHONE_MIGRATE_3; Telethon moved to DC 3 by itself.
        let sent = steps.get("send_code");
        assert_eq!(sent["dc_id"], 3, "{sent}");
        assert_eq!(sent["port"], dc.addr(3).port(), "{sent}");
        let user = (ON_DC3, "Alan", "Turing");
        assert_user(&steps.get("sign_in")["user"], &dc, user.0, user.1, user.2);
        assert_finish(&dc, &steps, 3, user);
        // Only this flow went to DC 3: a key there (and the logged-out key's second visit).
        let dc3 = dc.server(3).stats();
        assert!(dc3.key_exchanges >= 1, "{dc3:?}");
        assert_eq!(dc.server(1).stats().connections, 0);
    })
    .await
}

async fn two_factor(connection: &str) {
    bounded(async {
        let dc = start_dc([Account::new(TWO_FA)
            .name("Grace", "Hopper")
            .password(PASSWORD)
            .hint("the usual")])
        .await;
        // The same account, logged in twice, each time by a new client.
        let flows = json!([
            {"flow": "start_2fa", "phone": TWO_FA, "password": PASSWORD},
            {
                "flow": "wrong_2fa",
                "phone": TWO_FA,
                "password": PASSWORD,
                "wrong_password": WRONG_PASSWORD,
            },
        ]);
        let all = run_telethon(&dc, connection, flows).await;

        let steps = Steps::of(&all, "start_2fa");
        assert_eq!(steps.names(), with_finish(&["start"]), "{all:#?}");
        let start = steps.get("start");
        assert_eq!(start["same_client"], true, "{start}");
        assert_eq!(start["code_asked"], 1, "{start}");
        assert!(
            start["printed"]
                .as_str()
                .is_some_and(|p| p.starts_with("Signed in successfully as Grace Hopper")),
            "{start}"
        );
        assert_eq!(start["dc_id"], 2, "{start}");
        assert_finish(&dc, &steps, 2, (TWO_FA, "Grace", "Hopper"));

        let steps = Steps::of(&all, "wrong_2fa");
        assert_eq!(
            steps.names(),
            with_finish(&["sign_in", "wrong_password", "password"]),
            "{all:#?}"
        );
        assert_error(steps.get("sign_in"), "SessionPasswordNeededError", 401);
        assert_error(steps.get("wrong_password"), "PasswordHashInvalidError", 400);
        let user = (TWO_FA, "Grace", "Hopper");
        assert_user(&steps.get("password")["user"], &dc, user.0, user.1, user.2);
        assert_finish(&dc, &steps, 2, user);
    })
    .await
}

async fn qr(connection: &str) {
    bounded(async {
        let dc = start_dc([
            Account::new(QR_ACCEPTER).name("Barbara", "Liskov"),
            Account::new(QR_ACCEPTER_DC3).name("Donald", "Knuth"),
        ])
        .await;
        let flows = json!([
            {"flow": "qr@2", "phone": QR_ACCEPTER},
            {"flow": "qr@3", "phone": QR_ACCEPTER_DC3},
        ]);
        let all = run_telethon(&dc, connection, flows).await;

        for (flow, home, user) in [
            ("qr@2", 2, (QR_ACCEPTER, "Barbara", "Liskov")),
            ("qr@3", 3, (QR_ACCEPTER_DC3, "Donald", "Knuth")),
        ] {
            let steps = Steps::of(&all, flow);
            assert_eq!(
                steps.names(),
                with_finish(&["qr_login", "send_code", "sign_in", "accept", "wait"]),
                "{all:#?}"
            );
            let qr = steps.get("qr_login");
            assert_eq!(qr["url_prefix"], "tg://login?token", "{qr}");
            assert_eq!(qr["dc_id"], 2, "{qr}");
            assert!(qr["token_len"].as_u64().is_some_and(|n| n > 0), "{qr}");
            // The accepting client logged in on the user's DC (migrating there for DC 3).
            assert_eq!(steps.get("sign_in")["dc_id"], home);
            assert_user(&steps.get("sign_in")["user"], &dc, user.0, user.1, user.2);
            let accept = steps.get("accept");
            assert_eq!(accept["type"], "Authorization", "{accept}");
            assert_eq!(accept["dc_id"], home, "{accept}");
            // wait() returned the accepting user, on the user's home DC.
            let wait = steps.get("wait");
            assert_user(&wait["user"], &dc, user.0, user.1, user.2);
            assert_eq!(wait["dc_id"], home, "{wait}");
            assert_finish(&dc, &steps, home, user);

            let accepting = format!("{flow}/accepting");
            let steps = Steps::of(&all, &accepting);
            assert_eq!(steps.names(), FINISH[..3], "{all:#?}");
            assert_finish(&dc, &steps, home, user);
        }
    })
    .await
}

// ---------------------------------------------------------------------------------------
// Each group over each connection class.

macro_rules! connection_tests {
    ($($module:ident => $class:literal;)*) => {$(
        mod $module {
            #[tokio::test]
            async fn login() {
                super::login($class).await;
            }

            #[tokio::test]
            async fn two_factor() {
                super::two_factor($class).await;
            }

            #[tokio::test]
            async fn qr() {
                super::qr($class).await;
            }
        }
    )*};
}

connection_tests! {
    tcp_full => "ConnectionTcpFull";
    tcp_intermediate => "ConnectionTcpIntermediate";
    tcp_abridged => "ConnectionTcpAbridged";
    tcp_obfuscated => "ConnectionTcpObfuscated";
}
