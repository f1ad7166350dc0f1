//! mtcute 0.30.3 (npm `@mtcute/node` + `@mtcute/core`; an independent MTProto client in
//! TypeScript, layer 227) logging in with its high-level `TelegramClient.start()` against
//! the test DC ([`TestDc`], two DCs, the accounts homed on DC 2), once per codec mtcute has
//! for TCP: intermediate, padded intermediate, and obfuscated2 around each (mtcute has no
//! abridged or full codec). The Node.js side is `tests/js/mtcute_client.mjs`.
//!
//! What it proves, for each codec:
//! - mtcute's whole login completes against the real backend: `start` first calls `getMe`
//!   (`users.getUsers([inputUserSelf])`), which the new key is refused with 401
//!   `AUTH_KEY_UNREGISTERED`, then `auth.sendCode` (mtcute's `codeSentCallback` sees the
//!   backend's `auth.sentCodeTypeApp` and its code length) and `auth.signIn`;
//! - a wrong code first (mtcute's `code` callback answers a wrong one once) reaches mtcute
//!   as its `RpcError` 400 `PHONE_CODE_INVALID` from `auth.signIn`; `start` then calls
//!   `invalidCodeCallback("code")` and asks again, and the right code signs in;
//! - a 2FA account: `auth.signIn` answers 401 `SESSION_PASSWORD_NEEDED`, mtcute fetches
//!   `account.getPassword` and proves the password with its own SRP in `auth.checkPassword`,
//!   which the backend verifies against the account's verifier. A wrong password first is
//!   refused with 400 `PASSWORD_HASH_INVALID` (mtcute's `invalidCodeCallback("password")`),
//!   and the retry, with a fresh `account.getPassword`, signs in;
//! - mtcute declares layer 227 and the server answers in layer 227: `start` returns the user
//!   of `auth.authorization` and `getMe()` the one of `users.getUsers`, both a full `user`
//!   with the account's id, names, username and phone, which mtcute can only have parsed
//!   from `user#31774388` (layer 227), not from the `user#b1b8cc83` the backend writes in
//!   layer 230 (an unknown constructor to mtcute);
//! - mtcute's updates loop, which the login starts, is served: `updates.getState` (refused
//!   with `AUTH_KEY_UNREGISTERED` before the login, `updates.state` after it) and
//!   `updates.getDifference` (`updates.differenceEmpty`);
//! - the backend agrees: mtcute's auth key (read from mtcute's storage) is the one the
//!   backend authorized as that user, with the salt mtcute uses; one connection and one key
//!   exchange per login, no `bad_server_salt`, no `bad_msg_notification`, every request
//!   answered once, and mtcute logs no warning and reports no error.
//!
//! mtcute runs with updates on, as it does by default. With `disableUpdates` it resets its
//! sessions after the login (a new connection, and `destroy_session` for the old session),
//! and our server session answers `destroy_session` inside `rpc_result` after a separate
//! ack, where mtcute (like Telethon) expects a bare `destroy_session_ok`/`_none` as the
//! acknowledgement: mtcute then logs a warning and an error (the login still completes).
//!
//! Needs Node.js 20+ and the npm packages of `tests/js/package-lock.json` (`cargo xtask
//! js-setup`, which `cargo xtask test` runs); anything missing fails the test, never skips
//! it. Run: `cargo test -p project-tests --test mtcute_client`.

use std::process::Command;

use mtproto_net::Transport;
use project_tests::script::{bounded, run_script, step, ScriptNames};
use project_tests::{js_dir, node};
use serde_json::{json, Value};
use test_dc::{Account, TestDc};

/// mtcute 0.30.3's layer: the layer its `invokeWithLayer` announces.
const MTCUTE_LAYER: i32 = 227;
const MTCUTE_VERSION: &str = "0.30.3";
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// The DC the accounts live on (their numbers say so: `99966 2 YYYY`), mtcute's primary.
const HOME_DC: i32 = 2;
/// Every login code of this test DC.
const CODE: &str = "24680";
const WRONG_CODE: &str = "13579";
/// An account without a password.
const PHONE: &str = "+999 66 2 4242";
/// An account with a 2FA password.
const PHONE_2FA: &str = "+999 66 2 4343";
const PASSWORD: &str = "correct horse battery staple";
const WRONG_PASSWORD: &str = "incorrect horse";

/// The test DC: two DCs, both accounts on DC 2, every code [`CODE`].
async fn start_dc() -> TestDc {
    TestDc::builder()
        .dcs(2)
        .user(
            Account::new(PHONE)
                .name("Loopback", "Tester")
                .username("loopback_tester"),
        )
        .user(
            Account::new(PHONE_2FA)
                .name("Secret", "Keeper")
                .password(PASSWORD)
                .hint("the usual"),
        )
        .code(CODE)
        .start()
        .await
        .expect("the test DC starts")
}

/// Who logs in: the account's number and, for a 2FA account, its password.
struct Login {
    phone: &'static str,
    password: Option<&'static str>,
}

/// Runs `mtcute_client.mjs` against DC [`HOME_DC`] of `dc` with `codec`, a wrong code (or
/// for a 2FA account a wrong password) first. Returns its output lines as JSON.
async fn run_mtcute(dc: &TestDc, codec: &str, login: &Login) -> Vec<Value> {
    let script = js_dir().join("mtcute_client.mjs");
    let mut command = Command::new(node());
    command
        .arg(&script)
        .args(["--port", &dc.addr(HOME_DC).port().to_string()])
        .args(["--dc", &HOME_DC.to_string()])
        .args(["--transport", codec])
        .args(["--api-id", &API_ID.to_string()])
        .args(["--api-hash", API_HASH])
        .args(["--phone", login.phone])
        .args(["--code", CODE])
        .args(["--timeout", "80"])
        .arg("--updates");
    match login.password {
        Some(password) => command
            .args(["--password", password])
            .args(["--wrong-password", WRONG_PASSWORD]),
        None => command.args(["--wrong-code", WRONG_CODE]),
    };
    let names = ScriptNames {
        script: &format!("mtcute_client.mjs ({codec}, {})", login.phone),
        runner: "Node.js",
        oracle: "mtcute",
        setup: "cargo xtask js-setup",
    };
    let input = json!({ "pem": dc.public_key_pem() });
    run_script(command, input.to_string().as_bytes(), names).await
}

/// A call mtcute made: (method, the result's constructor as JSON, or `code TEXT` for an RPC
/// error).
type Outcome = (String, String);

/// A call mtcute made, as the script reports it.
fn outcome(call: &Value) -> Outcome {
    let method = call["method"].as_str().unwrap_or_default().to_string();
    let result = if call.get("error").is_some() {
        assert_eq!(call["is_rpc_error"], true, "{call}");
        assert_eq!(call["error"], "RpcError", "{call}");
        format!(
            "{} {}",
            call["code"],
            call["text"].as_str().unwrap_or_default()
        )
    } else {
        call["result"].to_string()
    };
    (method, result)
}

/// Asserts a user as mtcute reports it (its accessors and the TL object it parsed) is the
/// account of `phone` named `first last` with `username`.
fn assert_user(user: &Value, id: i64, phone: &str, names: [&str; 2], username: Option<&str>) {
    assert_eq!(user["id"], id, "{user:#}");
    assert_eq!(user["is_self"], true, "{user:#}");
    assert_eq!(user["first_name"], names[0], "{user:#}");
    assert_eq!(user["last_name"], names[1], "{user:#}");
    assert_eq!(user["username"], json!(username), "{user:#}");
    assert_eq!(user["phone"], phone, "{user:#}");
    // mtcute's own parse of the constructor: a full layer-227 `user`.
    let raw = &user["raw"];
    assert_eq!(raw["_"], "user", "{raw:#}");
    assert_eq!(raw["id"], id);
    assert_eq!(raw["self"], true);
    assert_eq!(raw["firstName"], names[0]);
    assert_eq!(raw["lastName"], names[1]);
    assert_eq!(raw["phone"], phone);
    assert!(raw["accessHash"].is_string(), "{raw:#}");
}

/// The first bytes of a request body, for a failure message.
fn hex_of(body: &[u8]) -> String {
    body.iter().take(32).map(|b| format!("{b:02x}")).collect()
}

/// One login with `start` and a `getMe`, checked end to end.
async fn mtcute_login(dc: &TestDc, codec: &str, login: Login) {
    let steps = run_mtcute(dc, codec, &login).await;
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "versions",
            "code_sent",
            "start",
            "session",
            "get_me",
            "calls",
            "callbacks",
            "log",
            "disconnect"
        ],
        "{steps:#?}"
    );

    let versions = step(&steps, "versions");
    assert_eq!(versions["layer"], MTCUTE_LAYER);
    for package in ["@mtcute/core", "@mtcute/node", "@mtcute/tl-runtime"] {
        assert_eq!(versions["mtcute"][package], MTCUTE_VERSION, "{versions}");
    }

    // The backend's `auth.sentCode`, as mtcute's `codeSentCallback` got it.
    let sent = step(&steps, "code_sent");
    assert_eq!(sent["type"], "app", "{sent}");
    assert_eq!(sent["length"], CODE.len(), "{sent}");
    assert_eq!(sent["timeout"], 60, "{sent}");
    assert_eq!(sent["next_type"], "sms", "{sent}");
    assert!(
        sent["phone_code_hash"]
            .as_str()
            .is_some_and(|h| !h.is_empty()),
        "{sent}"
    );

    // The user `start` returned (from `auth.authorization`) and `getMe()`'s (from
    // `users.getUsers`): the registered account, parsed by mtcute as a layer-227 `user`.
    let digits = test_dc::auth::normalize_phone(login.phone);
    let id = dc
        .backend()
        .user_id(login.phone)
        .expect("a registered account");
    let (names, username) = match login.password {
        Some(_) => (["Secret", "Keeper"], None),
        None => (["Loopback", "Tester"], Some("loopback_tester")),
    };
    assert_user(&step(&steps, "start")["user"], id, &digits, names, username);
    assert_user(
        &step(&steps, "get_me")["user"],
        id,
        &digits,
        names,
        username,
    );

    // The backend authorized mtcute's key as that user.
    let session = step(&steps, "session");
    assert_eq!(session["auth_key_len"], 256);
    let key_id: i64 = session["auth_key_id"].as_str().unwrap().parse().unwrap();
    assert_eq!(dc.backend().authorized_user(HOME_DC, key_id), Some(id));
    let salt: i64 = session["salt"].as_str().unwrap().parse().unwrap();
    assert_eq!(dc.server(HOME_DC).salt(key_id), Some(salt), "mtcute's salt");

    // Every request of mtcute's high-level layer, with what it got: the wrong code (or
    // password) surfaced as mtcute's `RpcError` and `start` carried on. The updates loop,
    // which the login starts, runs beside `getMe`: its calls are checked apart.
    let (updates, calls): (Vec<Outcome>, Vec<Outcome>) = step(&steps, "calls")["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(outcome)
        .partition(|(method, _)| method.starts_with("updates."));
    let call = |method: &str, result: &str| (method.to_string(), result.to_string());
    assert_eq!(
        updates,
        [
            call("updates.getState", "\"updates.state\""),
            call("updates.getDifference", "\"updates.differenceEmpty\""),
        ],
        "{steps:#?}"
    );
    let mut expected = vec![
        call("users.getUsers", "401 AUTH_KEY_UNREGISTERED"),
        call("auth.sendCode", "\"auth.sentCode\""),
    ];
    let callbacks = match login.password {
        None => {
            expected.extend([
                call("auth.signIn", "400 PHONE_CODE_INVALID"),
                call("auth.signIn", "\"auth.authorization\""),
            ]);
            json!([
                {"callback": "code_sent"},
                {"callback": "code", "wrong": true},
                {"callback": "invalid", "kind": "code"},
                {"callback": "code", "wrong": false},
            ])
        }
        Some(_) => {
            expected.extend([
                call("auth.signIn", "401 SESSION_PASSWORD_NEEDED"),
                call("account.getPassword", "\"account.password\""),
                call("auth.checkPassword", "400 PASSWORD_HASH_INVALID"),
                call("account.getPassword", "\"account.password\""),
                call("auth.checkPassword", "\"auth.authorization\""),
            ]);
            json!([
                {"callback": "code_sent"},
                {"callback": "code", "wrong": false},
                {"callback": "password", "wrong": true},
                {"callback": "invalid", "kind": "password"},
                {"callback": "password", "wrong": false},
            ])
        }
    };
    expected.push(call("users.getUsers", "[\"user\"]"));
    assert_eq!(calls, expected, "{steps:#?}");
    assert_eq!(step(&steps, "callbacks")["callbacks"], callbacks);

    // mtcute has nothing to warn about, and reported no error.
    let log = step(&steps, "log");
    assert_eq!(log["warnings"], json!([]), "{log:#}");
    assert_eq!(log["reported"], json!([]), "{log:#}");
    assert_eq!(step(&steps, "disconnect")["connected"], false);
}

/// Both accounts log in over `codec`, one after the other, on one test DC.
async fn mtcute_logins(codec: &str, transport: Transport, obfuscated: bool) {
    bounded(async {
        let dc = start_dc().await;
        let logins = [
            Login {
                phone: PHONE,
                password: None,
            },
            Login {
                phone: PHONE_2FA,
                password: Some(PASSWORD),
            },
        ];
        let runs = logins.len() as u64;
        for login in logins {
            mtcute_login(&dc, codec, login).await;
        }
        // What the server saw: one connection per login, each over `codec`, one key
        // exchange each (mtcute derives the first salt from the nonces, as the server does:
        // no `bad_server_salt`), and nothing refused or out of order.
        let stats = dc.server(HOME_DC).stats();
        assert_eq!(stats.connections, runs, "{stats:?}");
        assert_eq!(
            stats.transports,
            vec![(transport, obfuscated); runs as usize]
        );
        // mtcute does not write the DC id into its obfuscated2 header (the bytes are random):
        // only count them.
        let headers = if obfuscated { runs as usize } else { 0 };
        assert_eq!(stats.obfuscated_dc_ids.len(), headers, "{stats:?}");
        assert!(stats.refused_transports.is_empty(), "{stats:?}");
        assert_eq!(stats.key_exchanges, runs, "{stats:?}");
        assert_eq!(stats.unknown_key_errors, 0, "{stats:?}");
        assert_eq!(stats.bad_server_salts, 0, "{stats:?}");
        assert!(stats.bad_msg_notifications.is_empty(), "{stats:?}");
        // Every request was answered as many times as it arrived (a body may come more than
        // once: `updates.getState` before and after the login, and from both logins).
        assert!(!stats.received.is_empty(), "{stats:?}");
        for (body, count) in &stats.received {
            assert_eq!(stats.answered(body), *count, "{}", hex_of(body));
        }
        // mtcute needs no other DC for this.
        assert_eq!(dc.server(1).stats().connections, 0);
    })
    .await
}

#[tokio::test]
async fn mtcute_start_intermediate() {
    mtcute_logins("intermediate", Transport::Intermediate, false).await;
}

#[tokio::test]
async fn mtcute_start_padded_intermediate() {
    mtcute_logins("padded", Transport::PaddedIntermediate, false).await;
}

#[tokio::test]
async fn mtcute_start_obfuscated() {
    mtcute_logins("obfuscated", Transport::Intermediate, true).await;
}

#[tokio::test]
async fn mtcute_start_obfuscated_padded() {
    mtcute_logins("obfuscated-padded", Transport::PaddedIntermediate, true).await;
}
