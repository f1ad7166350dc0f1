//! mtcute 0.30.3 (npm `@mtcute/node` + `@mtcute/core`; an independent MTProto client in
//! TypeScript, layer 227) as a real client of our loopback [`TestServer`] over TCP, once per
//! codec mtcute has: intermediate, padded intermediate, and obfuscated2 around each (mtcute
//! has no abridged or full codec). The Node.js side is `tests/js/mtcute_client.mjs`.
//!
//! What it proves, for each codec:
//! - our server detects mtcute's transport and completes the server side of the key exchange
//!   with mtcute's client side, which (unlike Telethon's) is the modern one: `req_pq_multi`,
//!   RSA_PAD encryption of `p_q_inner_data_dc`, the public key given to mtcute as the PKCS#1
//!   PEM of `RsaPublicKey::to_pkcs1_pem` (`addPublicKey` derives the same fingerprint as ours).
//!   Exactly one key exchange, on one connection; both ends hold the same key: mtcute's
//!   `auth_key_id` is one the server knows, with the salt mtcute uses. mtcute takes the
//!   first salt from the nonces, as the server does, so there is no `bad_server_salt`;
//! - our `ServerSession` carries mtcute's encrypted requests and our answers both ways: each
//!   request comes in a `msg_container` of its own (with mtcute's acks; the first with its
//!   `get_future_salts`), arrives once and is answered once, and no `bad_msg_notification`
//!   is sent;
//! - our session inflates mtcute's `gzip_packed`, which is zlib-framed (`78 9c`, Node's
//!   `deflateSync`), not gzip-framed: mtcute packs any request over 128 bytes that shrinks by
//!   10 %, here the `auth.sendCode` that carries a compressible logout token (the others
//!   are shorter and go plain); the handler then reads the token from it;
//! - our generated bindings read what mtcute sends: `invokeWithLayer(227,
//!   initConnection(invokeWithoutUpdates(...)))` (mtcute's order of the wrappers), the
//!   fields of `initConnection`, and `help.getNearestDc`, `help.getConfig`, `auth.sendCode`,
//!   `auth.signIn`, each decoding and re-serializing to exactly mtcute's bytes;
//! - mtcute reads what our bindings write: `nearestDc`, `config`, `auth.sentCode` with
//!   `auth.sentCodeTypeSms`, and `auth.authorization` parse in mtcute's layer 227, and
//!   mtcute's writers give back exactly our bytes. So these constructors have the same
//!   layout in layers 227 and 230;
//! - RPC errors reach mtcute as its `RpcError` with the server's code and text: 400
//!   `PHONE_CODE_INVALID` from `auth.signIn` with the wrong code, and a call the server does
//!   not implement.
//!
//! Layer 227 vs 230: mtcute's `user` is `user#31774388`, layer 230's is `user#b1b8cc83`
//! (230 added `linked_community_id:flags2.21?long`). A layer-230 `user` on the wire would be
//! an unknown constructor to mtcute, so the right code gets `auth.authorization` with
//! `userEmpty` (same id and layout in both layers), and the test asserts, offline, with
//! mtcute's own reader, that our 230 `user` fails as an unknown object while the same bytes
//! with the 227 id parse into the expected user and re-serialize unchanged: a server
//! answering a 227 client needs no more than that id change while the new field is unset.
//!
//! mtcute logs no warning about our server. (It once warned "received unexpected ack for
//! future_salts query": the server acknowledged `get_future_salts` separately; now its bare
//! `future_salts` answer is the acknowledgement.)
//!
//! Needs Node.js 20+ and the npm packages of `tests/js/package-lock.json` (`cargo xtask
//! js-setup`, which `cargo xtask test` runs); anything missing fails the test, never skips
//! it. Run: `cargo test -p project-tests --test mtcute_client`.

use std::net::SocketAddr;
use std::process::Command;

use auth_api::{enums, types, Identifiable, Serialize};
use mtproto_net::Transport;
use project_tests::fake_api::{
    bounded, hex_of, run_script, server_key, step, FakeApi, Options, ScriptNames, SignedInUser,
    ACCESS_HASH, API_HASH, API_ID, CODE, DC, PHONE, PHONE_CODE_HASH, USER_ID, WRONG_CODE,
};
use project_tests::{fake_api, js_dir, node};
use serde_json::{json, Value};

/// mtcute 0.30.3's layer: the layer its `invokeWithLayer` announces.
const MTCUTE_LAYER: i32 = 227;
const MTCUTE_VERSION: &str = "0.30.3";
/// Sent in `auth.sendCode`'s `codeSettings.logout_tokens`: compressible, so that the request
/// is over mtcute's 128-byte threshold and shrinks by 10 %, which makes mtcute send it as
/// `gzip_packed` (real logout tokens are random and would not compress).
const LOGOUT_TOKEN: &[u8] =
    b"loopback-logout-token/loopback-logout-token/loopback-logout-token/loopback-logout-token/";
/// `user` in layer 227 (mtcute's): layer 230's `user#b1b8cc83` without its last field,
/// `linked_community_id:flags2.21?long`.
const USER_227_ID: u32 = 0x3177_4388;

/// The `codeSettings` the script sends: only the logout token.
fn logout_settings() -> enums::CodeSettings {
    types::CodeSettings {
        logout_tokens: Some(vec![LOGOUT_TOKEN.to_vec()]),
        ..Default::default()
    }
    .into()
}

/// The fake for mtcute's layer 227: `auth.sendCode` must carry the logout token (else
/// `CODE_SETTINGS_INVALID`), the right code gets `auth.authorization` with `userEmpty`, whose
/// layout (and id) layer 227 shares with layer 230, unlike `user` (see [`USER_227_ID`]), and
/// only the calls of the login are served (mtcute's raw calls stop at `auth.signIn`).
fn options() -> Options {
    Options {
        code_settings: Some(logout_settings()),
        signed_in_user: SignedInUser::Empty,
        user_calls: false,
        ..Options::default()
    }
}

// ---------------------------------------------------------------------------------------
// Running the script.

/// Our `auth.authorization` with layer 230's `user`, and the same bytes with the user's
/// constructor id changed to layer 227's (the only difference while `linked_community_id`
/// is unset), for mtcute's reader to try offline.
fn probes(dc: &FakeApi) -> Value {
    let with_user_230 = dc.authorization_with(dc.me()).to_bytes();
    let user_230_id = types::User::CONSTRUCTOR_ID.to_le_bytes();
    let at = with_user_230
        .windows(4)
        .position(|w| w == user_230_id)
        .expect("the user's constructor id");
    let mut with_user_227 = with_user_230.clone();
    with_user_227[at..at + 4].copy_from_slice(&USER_227_ID.to_le_bytes());
    json!({
        "authorization_user_230": hex::encode(&with_user_230),
        "authorization_user_as_227": hex::encode(&with_user_227),
    })
}

/// Runs `mtcute_client.mjs` against `addr` with `transport`, waiting (without blocking the
/// runtime the server runs on) at most 90 s. Returns its output lines as JSON. mtcute's raw
/// `auth.sendCode` sends [`PHONE`] as given.
async fn run_mtcute(addr: SocketAddr, transport: &str, dc: &FakeApi) -> Vec<Value> {
    let script = js_dir().join("mtcute_client.mjs");
    let input = json!({
        "pem": server_key().public_key().to_pkcs1_pem(),
        "probes": probes(dc),
    });
    let mut command = Command::new(node());
    command
        .arg(&script)
        .args(["--port", &addr.port().to_string()])
        .args(["--transport", transport])
        .args(["--api-id", &API_ID.to_string()])
        .args(["--api-hash", API_HASH])
        .args(["--phone", PHONE])
        .args(["--code", CODE])
        .args(["--wrong-code", WRONG_CODE])
        .args(["--logout-token", &hex::encode(LOGOUT_TOKEN)])
        .args(["--timeout", "80"]);
    let names = ScriptNames {
        script: &format!("mtcute_client.mjs ({transport})"),
        runner: "Node.js",
        oracle: "mtcute",
        setup: "cargo xtask js-setup",
    };
    run_script(command, input.to_string().as_bytes(), names).await
}

// ---------------------------------------------------------------------------------------
// The test, per codec.

fn probe<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == "probe" && s["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name:?} in {steps:#?}"))
}

async fn mtcute_session(codec: &str, transport: Transport, obfuscated: bool) {
    bounded(async {
        let (addr, server, dc) = FakeApi::start(options()).await;
        let steps = run_mtcute(addr, codec, &dc).await;

        // What mtcute saw, step by step.
        let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "versions",
                "connect",
                "get_nearest_dc",
                "session",
                "get_config",
                "send_code",
                "sign_in_wrong_code",
                "sign_in",
                "unsupported_call",
                "probe",
                "probe",
                "log",
                "disconnect",
            ],
            "{steps:#?}"
        );

        let versions = step(&steps, "versions");
        assert_eq!(versions["layer"], MTCUTE_LAYER);
        for package in ["@mtcute/core", "@mtcute/node", "@mtcute/tl-runtime"] {
            assert_eq!(versions["mtcute"][package], MTCUTE_VERSION, "{versions}");
        }
        assert_eq!(step(&steps, "connect")["connected"], true);

        // Each answer parsed in mtcute's layer 227, and mtcute's writers give back our bytes:
        // these constructors have the same layout in layers 227 and 230.
        let nearest = step(&steps, "get_nearest_dc");
        assert_eq!(
            nearest["object"],
            json!({"_": "nearestDc", "country": "NL", "thisDc": DC, "nearestDc": DC})
        );
        assert_eq!(nearest["hex"], hex_of(&dc.nearest_dc()));

        // Same key on both ends (2048 bits), and mtcute uses the salt the server expects.
        let session = step(&steps, "session");
        assert_eq!(session["auth_key_len"], 256);
        let key_id: i64 = session["auth_key_id"].as_str().unwrap().parse().unwrap();
        let salt: i64 = session["salt"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            server.salt(key_id),
            Some(salt),
            "mtcute's key {key_id:#x} (salt {salt}) is not the server's"
        );

        let get_config = step(&steps, "get_config");
        assert_eq!(get_config["this_dc"], DC);
        assert_eq!(get_config["test_mode"], true);
        let port = i64::from(addr.port());
        assert_eq!(
            get_config["dc_options"],
            json!([[DC, "127.0.0.1", port, false], [DC, "::1", port, true]])
        );
        assert_eq!(get_config["me_url_prefix"], "https://t.me/");
        assert_eq!(get_config["hex"], hex_of(&dc.config(addr.port(), dc.date)));

        let send_code = step(&steps, "send_code");
        assert_eq!(
            send_code["object"],
            json!({
                "_": "auth.sentCode",
                "type": {"_": "auth.sentCodeTypeSms", "length": CODE.len()},
                "phoneCodeHash": PHONE_CODE_HASH,
                "timeout": 60,
            })
        );
        assert_eq!(send_code["hex"], hex_of(&dc.sent_code()));

        // The RPC error surfaces as mtcute's `RpcError` with the server's text.
        let wrong = step(&steps, "sign_in_wrong_code");
        assert_eq!(wrong["error"], "RpcError");
        assert_eq!(wrong["is_rpc_error"], true);
        assert_eq!(wrong["is_phone_code_invalid"], true);
        assert_eq!(wrong["code"], 400);
        assert_eq!(wrong["text"], "PHONE_CODE_INVALID");
        assert_eq!(
            wrong["message"],
            "Telegram API error 400: PHONE_CODE_INVALID"
        );

        // The right code: `auth.authorization`, with `userEmpty` (see `options`).
        let sign_in = step(&steps, "sign_in");
        assert_eq!(
            sign_in["object"],
            json!({
                "_": "auth.authorization",
                "setupPasswordRequired": false,
                "futureAuthToken": hex::encode(b"future-token"),
                "user": {"_": "userEmpty", "id": USER_ID},
            })
        );
        assert_eq!(sign_in["hex"], hex_of(&dc.authorization()));

        let unsupported = step(&steps, "unsupported_call");
        assert_eq!(unsupported["error"], "RpcError");
        assert_eq!(unsupported["code"], 400);
        assert_eq!(unsupported["text"], "METHOD_NOT_SUPPORTED_IN_TEST");

        // Offline: layer 230's `user` is unknown to mtcute; with layer 227's id in its place
        // the same bytes parse, and mtcute writes them back unchanged.
        let user_230 = probe(&steps, "authorization_user_230");
        assert_eq!(user_230["ok"], false, "{user_230}");
        assert_eq!(user_230["error"], "TlUnknownObjectError");
        assert_eq!(
            user_230["message"],
            format!("Unknown object id: {:#x}", types::User::CONSTRUCTOR_ID)
        );
        let user_227 = probe(&steps, "authorization_user_as_227");
        assert_eq!(user_227["ok"], true, "{user_227}");
        assert_eq!(user_227["hex"], probes(&dc)["authorization_user_as_227"]);
        let user = &user_227["object"]["user"];
        assert_eq!(user["_"], "user");
        assert_eq!(user["id"], USER_ID);
        assert_eq!(user["self"], true);
        assert_eq!(user["premium"], true);
        assert_eq!(user["accessHash"], ACCESS_HASH.to_string());
        assert_eq!(user["firstName"], "Loopback");
        assert_eq!(user["lastName"], "Tester");
        assert_eq!(user["username"], "loopback_tester");
        assert_eq!(user["phone"], PHONE);

        // mtcute packed exactly one request, auth.sendCode, and with zlib framing (`78 9c`,
        // Node's `deflateSync`), not gzip's `1f 8b`.
        let mtcute_log = step(&steps, "log");
        let gzipped = mtcute_log["gzipped"].as_array().unwrap();
        assert_eq!(gzipped.len(), 1, "{mtcute_log}");
        assert_eq!(gzipped[0]["method"], "auth.sendCode");
        assert!(gzipped[0]["to"].as_u64() < gzipped[0]["from"].as_u64());
        assert_eq!(mtcute_log["framing"], "789c");
        // mtcute has nothing to warn about (it used to warn once about an early ack of
        // `get_future_salts`, which the server no longer sends).
        let warnings = mtcute_log["warnings"].as_array().unwrap();
        assert!(warnings.is_empty(), "{warnings:#?}");

        assert_eq!(step(&steps, "disconnect")["connected"], false);

        // What the server saw: every request, its wrappers, and what it answered.
        let log = dc.log();
        for seen in &log {
            assert!(
                seen.problems.is_empty(),
                "our bindings on mtcute's request: {seen:#?}"
            );
        }
        let calls: Vec<(Vec<&str>, &str, &str)> = log
            .iter()
            .map(|s| (s.wrappers.clone(), s.method.as_str(), s.answer.as_str()))
            .collect();
        // mtcute puts invokeWithoutUpdates inside initConnection (Telethon outside).
        let first = vec!["invokeWithLayer", "initConnection", "invokeWithoutUpdates"];
        let plain = vec!["invokeWithoutUpdates"];
        assert_eq!(
            calls,
            [
                (first, "help.getNearestDc", "ok"),
                (plain.clone(), "help.getConfig", "ok"),
                // It came gzip_packed (zlib): our session inflated it, our bindings read the
                // logout token in it (else CODE_SETTINGS_INVALID).
                (plain.clone(), "auth.sendCode", "ok"),
                (plain.clone(), "auth.signIn", "PHONE_CODE_INVALID"),
                (plain.clone(), "auth.signIn", "ok"),
                // help.getCdnConfig, which the bindings do not know.
                (plain, "0x52029342", "METHOD_NOT_SUPPORTED_IN_TEST"),
            ],
            "{log:#?}"
        );
        fake_api::assert_init_connection(&log[0], MTCUTE_LAYER);

        let stats = server.stats();
        fake_api::assert_one_clean_connection(&stats, transport, obfuscated);
        // mtcute derives the first salt from the nonces, as the server does.
        assert_eq!(stats.bad_server_salts, 0, "{stats:?}");
        // Every request arrived once, in a container of its own (with mtcute's acks, the
        // first with its `get_future_salts`), and was answered once.
        assert_eq!(stats.requests, log.len() as u64, "{stats:?}");
        assert_eq!(stats.containers, log.len() as u64, "{stats:?}");
        assert_eq!(stats.received.len(), log.len());
        for (body, count) in &stats.received {
            assert_eq!(*count, 1, "{}", hex::encode(body));
            assert_eq!(stats.answered(body), 1, "{}", hex::encode(body));
        }
    })
    .await
}

#[tokio::test]
async fn mtcute_tcp_intermediate() {
    mtcute_session("intermediate", Transport::Intermediate, false).await;
}

#[tokio::test]
async fn mtcute_tcp_padded_intermediate() {
    mtcute_session("padded", Transport::PaddedIntermediate, false).await;
}

#[tokio::test]
async fn mtcute_tcp_obfuscated() {
    mtcute_session("obfuscated", Transport::Intermediate, true).await;
}

#[tokio::test]
async fn mtcute_tcp_obfuscated_padded() {
    mtcute_session("obfuscated-padded", Transport::PaddedIntermediate, true).await;
}
