//! Telethon 1.45 (PyPI; an independent MTProto client, layer 229) as a real client of our
//! loopback [`TestServer`] over TCP, once per Telethon connection class: `ConnectionTcpFull`,
//! `ConnectionTcpIntermediate`, `ConnectionTcpAbridged` and `ConnectionTcpObfuscated`
//! (obfuscated2 around abridged). The Python side is `tests/py/telethon_client.py`.
//!
//! What it proves, for each connection class:
//! - our server detects Telethon's transport and completes the server side of the key
//!   exchange with Telethon's client side (the legacy RSA scheme with `p_q_inner_data`, no
//!   dc; the public key given to Telethon as the PKCS#1 PEM of
//!   `RsaPublicKey::to_pkcs1_pem`), and both ends hold the same key: Telethon's `auth_key_id`
//!   is one the server knows, with the salt Telethon ends up using;
//! - our `ServerSession` carries Telethon's encrypted requests and our answers both ways:
//!   Telethon starts with salt 0, gets exactly one `bad_server_salt` and resends; every
//!   request arrives once and is answered once;
//! - our generated bindings read what Telethon sends: the `invokeWithLayer(229, ...)`,
//!   `invokeWithoutUpdates` and `initConnection` wrappers (fields checked) and the inner calls
//!   `help.getConfig`, `help.getNearestDc`, `auth.sendCode`, `auth.signIn`, `users.getUsers`,
//!   `updates.getState`, each decoding and re-serializing to exactly Telethon's bytes;
//! - Telethon reads what our bindings write: `config`, `nearestDc`, `auth.sentCode` (with
//!   `auth.sentCodeTypeSms`), `auth.authorization` with a `user`, `Vector<User>` and
//!   `updates.state` parse in Telethon, and Telethon re-serializes each to exactly our bytes.
//!   So these constructors have the same layout in Telethon's layer 229 as in our layer 230,
//!   which is what lets a layer-230 server answer a layer-229 client with them;
//! - RPC errors reach Telethon as its typed exceptions: 401 `AUTH_KEY_UNREGISTERED` before
//!   login (Telethon's own `get_me`/`is_user_authorized` treat it as "not logged in"),
//!   400 `PHONE_CODE_INVALID` as `PhoneCodeInvalidError` from `client.sign_in`, and a call
//!   the server does not implement as `BadRequestError`.
//!
//! Not covered, on purpose: Telethon's high-level `sign_in` with the right code. After
//! `auth.authorization` it calls `updates.getState` then `updates.getDifference`, and
//! `updates.getDifference` and its `updates.Difference` answers are not in `auth-api`, so the
//! script makes the successful sign-in with the raw `auth.SignInRequest` instead.
//!
//! Needs the oracle venv (`cargo xtask py-setup`); a missing interpreter or package fails the
//! test, never skips it. Run: `cargo test -p project-tests --test telethon_client`.

use std::net::SocketAddr;
use std::process::Command;

use mtproto_net::Transport;
use project_tests::fake_api::{
    bounded, hex_of, run_script, server_key, step, FakeApi, Options, ScriptNames, ACCESS_HASH,
    API_HASH, API_ID, CODE, DC, PHONE, PHONE_CODE_HASH, USER_ID, WRONG_CODE,
};
use project_tests::{fake_api, oracle_python, workspace_root};
use serde_json::Value;

/// Telethon 1.45's layer: the layer its `invokeWithLayer` announces.
const TELETHON_LAYER: i32 = 229;

// ---------------------------------------------------------------------------------------
// Running the script.

/// Runs `telethon_client.py` against `addr` with `connection`, waiting (without blocking the
/// runtime the server runs on) at most 90 s. Returns its output lines as JSON.
///
/// [`PHONE`] is what the server sees: Telethon's `send_code_request` strips the `+` the
/// script is given.
async fn run_telethon(addr: SocketAddr, connection: &str) -> Vec<Value> {
    let script = workspace_root().join("tests/py/telethon_client.py");
    let pem = server_key().public_key().to_pkcs1_pem();
    let mut command = Command::new(oracle_python());
    command
        .arg(&script)
        .args(["--port", &addr.port().to_string()])
        .args(["--connection", connection])
        .args(["--api-id", &API_ID.to_string()])
        .args(["--api-hash", API_HASH])
        .args(["--phone", &format!("+{PHONE}")])
        .args(["--code", CODE])
        .args(["--wrong-code", WRONG_CODE])
        .args(["--timeout", "80"]);
    let names = ScriptNames {
        script: &format!("telethon_client.py ({connection})"),
        runner: "the oracle Python",
        oracle: "Telethon",
        setup: "cargo xtask py-setup",
    };
    run_script(command, pem.as_bytes(), names).await
}

// ---------------------------------------------------------------------------------------
// The test, per connection class.

/// Telethon's view of a user, as the script prints it.
fn assert_user(user: &Value, dc: &FakeApi) {
    assert_eq!(user["class"], "User");
    assert_eq!(user["id"], USER_ID);
    assert_eq!(user["is_self"], true);
    assert_eq!(user["access_hash"], ACCESS_HASH);
    assert_eq!(user["first_name"], "Loopback");
    assert_eq!(user["last_name"], "Tester");
    assert_eq!(user["username"], "loopback_tester");
    assert_eq!(user["phone"], PHONE);
    assert_eq!(
        user["hex"],
        hex_of(&dc.me()),
        "Telethon re-serialized our user differently"
    );
}

async fn telethon_session(connection: &str, transport: Transport, obfuscated: bool) {
    bounded(async {
        let (addr, server, dc) = FakeApi::start(Options::default()).await;
        let steps = run_telethon(addr, connection).await;

        // What Telethon saw, step by step.
        let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "connect",
                "is_user_authorized",
                "get_config",
                "get_nearest_dc",
                "send_code",
                "sign_in_wrong_code",
                "sign_in",
                "get_me",
                "get_state",
                "unsupported_call",
                "disconnect",
            ],
            "{steps:#?}"
        );

        let connect = step(&steps, "connect");
        assert_eq!(connect["layer"], TELETHON_LAYER);
        assert_eq!(connect["connected"], true);
        // Same key on both ends, and Telethon uses the salt the server expects.
        let key_id = connect["auth_key_id"].as_i64().expect("auth_key_id");
        let salt = connect["salt"].as_i64().expect("salt");
        assert_eq!(
            server.salt(key_id),
            Some(salt),
            "Telethon's key {key_id:#x} (salt {salt}) is not the server's"
        );
        assert!(connect["time_offset"].as_i64().unwrap().abs() <= 2);

        assert_eq!(step(&steps, "is_user_authorized")["authorized"], false);

        let get_config = step(&steps, "get_config");
        assert_eq!(get_config["this_dc"], DC);
        let port = i64::from(addr.port());
        assert_eq!(
            get_config["dc_options"],
            serde_json::json!([
                [DC, "127.0.0.1", port, false, false],
                [DC, "::1", port, true, false]
            ])
        );
        assert_eq!(get_config["me_url_prefix"], "https://t.me/");
        assert_eq!(get_config["hex"], hex_of(&dc.config(addr.port(), dc.date)));

        let nearest = step(&steps, "get_nearest_dc");
        assert_eq!(
            (
                &nearest["country"],
                &nearest["this_dc"],
                &nearest["nearest_dc"]
            ),
            (&Value::from("NL"), &Value::from(DC), &Value::from(DC))
        );
        assert_eq!(nearest["hex"], hex_of(&dc.nearest_dc()));

        let send_code = step(&steps, "send_code");
        assert_eq!(send_code["type"], "SentCodeTypeSms");
        assert_eq!(send_code["length"], CODE.len());
        assert_eq!(send_code["phone_code_hash"], PHONE_CODE_HASH);
        assert_eq!(send_code["timeout"], 60);
        assert_eq!(send_code["hex"], hex_of(&dc.sent_code()));

        let wrong = step(&steps, "sign_in_wrong_code");
        assert_eq!(wrong["error"], "PhoneCodeInvalidError");
        assert_eq!(wrong["code"], 400);
        // Telethon maps the message to the class and keeps only the code's name.
        assert_eq!(wrong["message"], "BAD_REQUEST");

        let sign_in = step(&steps, "sign_in");
        assert_eq!(sign_in["type"], "Authorization");
        assert_user(&sign_in["user"], &dc);
        assert_eq!(sign_in["hex"], hex_of(&dc.authorization()));

        assert_user(&step(&steps, "get_me")["user"], &dc);

        let get_state = step(&steps, "get_state");
        assert_eq!(
            [&get_state["pts"], &get_state["qts"], &get_state["seq"]],
            [&Value::from(17), &Value::from(0), &Value::from(3)]
        );
        assert_eq!(get_state["date"], dc.date);
        assert_eq!(get_state["hex"], hex_of(&dc.state(dc.date)));

        let unsupported = step(&steps, "unsupported_call");
        assert_eq!(unsupported["error"], "BadRequestError");
        assert_eq!(unsupported["code"], 400);
        assert_eq!(unsupported["message"], "METHOD_NOT_SUPPORTED_IN_TEST");

        assert_eq!(step(&steps, "disconnect")["connected"], false);

        // What the server saw: every request, its wrappers, and what it answered.
        let log = dc.log();
        for seen in &log {
            assert!(
                seen.problems.is_empty(),
                "our bindings on Telethon's request: {seen:#?}"
            );
        }
        let calls: Vec<(Vec<&str>, &str, &str)> = log
            .iter()
            .map(|s| (s.wrappers.clone(), s.method.as_str(), s.answer.as_str()))
            .collect();
        let first = vec!["invokeWithLayer", "invokeWithoutUpdates", "initConnection"];
        let plain = vec!["invokeWithoutUpdates"];
        let unregistered = "AUTH_KEY_UNREGISTERED";
        assert_eq!(
            calls,
            [
                // `connect`: the first call with the layer and the client's details, then
                // Telethon's own `get_me`.
                (first, "help.getConfig", "ok"),
                (plain.clone(), "users.getUsers", unregistered),
                // `is_user_authorized`.
                (plain.clone(), "updates.getState", unregistered),
                (plain.clone(), "help.getConfig", "ok"),
                (plain.clone(), "help.getNearestDc", "ok"),
                (plain.clone(), "auth.sendCode", "ok"),
                // `sign_in` asks `get_me` first.
                (plain.clone(), "users.getUsers", unregistered),
                (plain.clone(), "auth.signIn", "PHONE_CODE_INVALID"),
                (plain.clone(), "auth.signIn", "ok"),
                (plain.clone(), "users.getUsers", "ok"),
                (plain.clone(), "updates.getState", "ok"),
                // help.getCdnConfig, which the bindings do not know.
                (plain, "0x52029342", "METHOD_NOT_SUPPORTED_IN_TEST"),
            ],
            "{log:#?}"
        );
        fake_api::assert_init_connection(&log[0], TELETHON_LAYER);

        let stats = server.stats();
        fake_api::assert_one_clean_connection(&stats, transport, obfuscated);
        // Telethon sends its first encrypted message with salt 0 (it does not derive the
        // first salt from the nonces); the server corrects it once.
        assert_eq!(stats.bad_server_salts, 1, "{stats:?}");
        // Every request once (the handler saw each), every one answered (a body can repeat:
        // `users.getUsers([inputUserSelf])` is asked three times).
        assert_eq!(stats.requests, log.len() as u64, "{stats:?}");
        assert_eq!(stats.received.values().sum::<u64>(), log.len() as u64);
        for (body, count) in &stats.received {
            assert_eq!(stats.answered(body), *count, "{}", hex::encode(body));
        }
    })
    .await
}

#[tokio::test]
async fn telethon_tcp_full() {
    telethon_session("ConnectionTcpFull", Transport::Full, false).await;
}

#[tokio::test]
async fn telethon_tcp_intermediate() {
    telethon_session("ConnectionTcpIntermediate", Transport::Intermediate, false).await;
}

#[tokio::test]
async fn telethon_tcp_abridged() {
    telethon_session("ConnectionTcpAbridged", Transport::Abridged, false).await;
}

#[tokio::test]
async fn telethon_tcp_obfuscated() {
    telethon_session("ConnectionTcpObfuscated", Transport::Abridged, true).await;
}
