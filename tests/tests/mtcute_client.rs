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

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_api::{enums, functions, types, Deserialize, Identifiable, Reader, Serialize};
use mtproto_crypto::RsaPrivateKey;
use mtproto_net::test_server::{Handler, Reply, TestServer, TestServerConfig, TestServerHandle};
use mtproto_net::{RpcError, Transport};
use project_tests::{js_dir, node};
use serde_json::{json, Value};
use tl_wire::RawObject;

/// mtcute 0.30.3's layer: the layer its `invokeWithLayer` announces.
const MTCUTE_LAYER: i32 = 227;
const MTCUTE_VERSION: &str = "0.30.3";
const DC: i32 = 2;
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// A test-number phone (99966 + DC + 4 digits); mtcute's raw `auth.sendCode` sends it as given.
const PHONE: &str = "9996624242";
const CODE: &str = "24680";
const WRONG_CODE: &str = "13579";
const PHONE_CODE_HASH: &str = "5f1c0a2e9b7d4e31";
/// Sent in `auth.sendCode`'s `codeSettings.logout_tokens`: compressible, so that the request
/// is over mtcute's 128-byte threshold and shrinks by 10 %, which makes mtcute send it as
/// `gzip_packed` (real logout tokens are random and would not compress).
const LOGOUT_TOKEN: &[u8] =
    b"loopback-logout-token/loopback-logout-token/loopback-logout-token/loopback-logout-token/";
const USER_ID: i64 = 5_000_000_123;
const ACCESS_HASH: i64 = -0x1234_5678_9abc_def0;
/// `user` in layer 227 (mtcute's): layer 230's `user#b1b8cc83` without its last field,
/// `linked_community_id:flags2.21?long`.
const USER_227_ID: u32 = 0x3177_4388;

fn server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(include_str!(
        "../../runtime/net/tests/fixtures/test_server_key.pem"
    ))
    .expect("test key")
}

async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(150), test)
        .await
        .expect("the test did not finish within 150 s")
}

fn unix_now() -> i32 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i32::try_from(secs).expect("unix time fits an int")
}

// ---------------------------------------------------------------------------------------
// The answers, built with our layer-230 bindings.

/// `config` for DC 2 at 127.0.0.1:`port` (numbers in the range Telegram sends).
fn config(port: u16, date: i32) -> enums::Config {
    let option = |ipv6: bool, ip: &str| -> enums::DcOption {
        types::DcOption {
            ipv6,
            media_only: false,
            tcpo_only: false,
            cdn: false,
            r#static: false,
            this_port_only: false,
            id: DC,
            ip_address: ip.into(),
            port: i32::from(port),
            secret: None,
        }
        .into()
    };
    types::Config {
        default_p2p_contacts: true,
        preload_featured_stickers: false,
        revoke_pm_inbox: true,
        blocked_mode: false,
        force_try_ipv6: false,
        date,
        expires: date + 3600,
        test_mode: true,
        this_dc: DC,
        dc_options: vec![option(false, "127.0.0.1"), option(true, "::1")],
        dc_txt_domain_name: "localhost".into(),
        chat_size_max: 200,
        megagroup_size_max: 200_000,
        forwarded_count_max: 100,
        online_update_period_ms: 210_000,
        offline_blur_timeout_ms: 5_000,
        offline_idle_timeout_ms: 30_000,
        online_cloud_timeout_ms: 300_000,
        notify_cloud_delay_ms: 30_000,
        notify_default_delay_ms: 1_500,
        push_chat_period_ms: 60_000,
        push_chat_limit: 2,
        edit_time_limit: 172_800,
        revoke_time_limit: 2_147_483_647,
        revoke_pm_time_limit: 2_147_483_647,
        rating_e_decay: 2_419_200,
        stickers_recent_limit: 200,
        channels_read_media_period: 604_800,
        tmp_sessions: None,
        call_receive_timeout_ms: 20_000,
        call_ring_timeout_ms: 90_000,
        call_connect_timeout_ms: 30_000,
        call_packet_timeout_ms: 10_000,
        me_url_prefix: "https://t.me/".into(),
        autoupdate_url_prefix: None,
        gif_search_username: Some("gif".into()),
        venue_search_username: None,
        img_search_username: None,
        static_maps_provider: None,
        caption_length_max: 1024,
        message_length_max: 4096,
        webfile_dc_id: 4,
        suggested_lang_code: Some("en".into()),
        lang_pack_version: Some(1),
        base_lang_pack_version: Some(1),
        reactions_default: None,
        autologin_token: None,
    }
    .into()
}

fn nearest_dc() -> enums::NearestDc {
    types::NearestDc {
        country: "NL".into(),
        this_dc: DC,
        nearest_dc: DC,
    }
    .into()
}

fn sent_code() -> enums::auth::SentCode {
    types::auth::SentCode {
        r#type: types::auth::SentCodeTypeSms {
            length: CODE.len() as i32,
        }
        .into(),
        phone_code_hash: PHONE_CODE_HASH.into(),
        next_type: None,
        timeout: Some(60),
    }
    .into()
}

/// The `codeSettings` the script sends: only the logout token.
fn logout_settings() -> enums::CodeSettings {
    types::CodeSettings {
        logout_tokens: Some(vec![LOGOUT_TOKEN.to_vec()]),
        ..Default::default()
    }
    .into()
}

/// The signed-in user in layer 230's `user#b1b8cc83`, which mtcute's layer 227 does not know
/// (see [`USER_227_ID`]); used only in the offline probes.
fn me_230() -> enums::User {
    types::User {
        self_: true,
        contact: false,
        mutual_contact: false,
        deleted: false,
        bot: false,
        bot_chat_history: false,
        bot_nochats: false,
        verified: false,
        restricted: false,
        min: false,
        bot_inline_geo: false,
        support: false,
        scam: false,
        apply_min_photo: false,
        fake: false,
        bot_attach_menu: false,
        premium: true,
        attach_menu_enabled: false,
        bot_can_edit: false,
        close_friend: false,
        stories_hidden: false,
        stories_unavailable: true,
        contact_require_premium: false,
        bot_business: false,
        bot_has_main_app: false,
        bot_forum_view: false,
        bot_forum_can_manage_topics: false,
        bot_can_manage_bots: false,
        bot_guestchat: false,
        bot_guard: false,
        id: USER_ID,
        access_hash: Some(ACCESS_HASH),
        first_name: Some("Loopback".into()),
        last_name: Some("Tester".into()),
        username: Some("loopback_tester".into()),
        phone: Some(PHONE.into()),
        photo: None,
        status: None,
        bot_info_version: None,
        restriction_reason: None,
        bot_inline_placeholder: None,
        lang_code: Some("en".into()),
        emoji_status: None,
        usernames: None,
        stories_max_id: None,
        color: None,
        profile_color: None,
        bot_active_users: None,
        bot_verification_icon: None,
        send_paid_messages_stars: None,
        linked_community_id: None,
    }
    .into()
}

fn authorization_with(user: enums::User) -> enums::auth::Authorization {
    types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: Some(b"future-token".to_vec()),
        user,
    }
    .into()
}

/// What the right code gets on the wire: `auth.authorization` around `userEmpty`, whose
/// layout (and id) layer 227 shares with layer 230, unlike `user`.
fn authorization() -> enums::auth::Authorization {
    authorization_with(types::UserEmpty { id: USER_ID }.into())
}

// ---------------------------------------------------------------------------------------
// The handler: peels the wrappers, answers the inner call, logs what it saw.

/// One request as the handler saw it.
#[derive(Clone, Debug)]
struct Seen {
    /// The wrappers around the call, outermost first.
    wrappers: Vec<&'static str>,
    /// `invokeWithLayer`'s layer.
    layer: Option<i32>,
    /// `initConnection`'s fields (its query replaced by nothing).
    init: Option<functions::InitConnection<RawObject>>,
    /// The inner call's TL name (or its id in hex when the bindings do not know it).
    method: String,
    /// What was answered: `ok` or the error message.
    answer: String,
    /// Problems reading the request with our bindings (empty when all went well).
    problems: Vec<String>,
}

struct Dc {
    port: AtomicU16,
    date: i32,
    log: Mutex<Vec<Seen>>,
}

/// Decodes `bytes` as `T` with our bindings and checks it re-serializes to the same bytes.
fn typed<T: Deserialize + Serialize>(bytes: &[u8], problems: &mut Vec<String>) -> Option<T> {
    match T::from_bytes(bytes) {
        Ok(value) => {
            let again = value.to_bytes();
            if again != bytes {
                problems.push(format!(
                    "{}: re-serialized {} != received {}",
                    std::any::type_name::<T>(),
                    hex::encode(&again),
                    hex::encode(bytes)
                ));
            }
            Some(value)
        }
        Err(error) => {
            problems.push(format!(
                "{}: {error} in {}",
                std::any::type_name::<T>(),
                hex::encode(bytes)
            ));
            None
        }
    }
}

fn error(code: i32, message: &str) -> Result<Vec<u8>, RpcError> {
    Err(RpcError::new(code, message.into()))
}

impl Dc {
    fn handle(&self, body: &[u8]) -> Reply {
        let mut seen = Seen {
            wrappers: Vec::new(),
            layer: None,
            init: None,
            method: String::new(),
            answer: String::new(),
            problems: Vec::new(),
        };
        let result = self.answer(body, &mut seen);
        seen.answer = match &result {
            Ok(_) => "ok".into(),
            Err(e) => e.message.clone(),
        };
        self.log.lock().unwrap().push(seen);
        match result {
            Ok(bytes) => Reply::Ok(bytes),
            Err(e) => Reply::Error(e),
        }
    }

    fn answer(&self, body: &[u8], seen: &mut Seen) -> Result<Vec<u8>, RpcError> {
        let problems = &mut seen.problems;
        // Peel the wrappers, outermost first.
        let mut query = body.to_vec();
        loop {
            let Ok(id) = Reader::new(&query).peek_u32() else {
                problems.push(format!("no constructor id in {}", hex::encode(&query)));
                return error(400, "INPUT_REQUEST_INVALID");
            };
            let inner = match id {
                functions::InvokeWithLayer::<RawObject>::CONSTRUCTOR_ID => {
                    seen.wrappers.push("invokeWithLayer");
                    typed::<functions::InvokeWithLayer<RawObject>>(&query, problems).map(|w| {
                        seen.layer = Some(w.layer);
                        w.query
                    })
                }
                functions::InvokeWithoutUpdates::<RawObject>::CONSTRUCTOR_ID => {
                    seen.wrappers.push("invokeWithoutUpdates");
                    typed::<functions::InvokeWithoutUpdates<RawObject>>(&query, problems)
                        .map(|w| w.query)
                }
                functions::InitConnection::<RawObject>::CONSTRUCTOR_ID => {
                    seen.wrappers.push("initConnection");
                    typed::<functions::InitConnection<RawObject>>(&query, problems).map(|mut w| {
                        let query = std::mem::take(&mut w.query);
                        seen.init = Some(w);
                        query
                    })
                }
                _ => break,
            };
            match inner {
                Some(inner) => query = inner.0,
                None => return error(400, "INPUT_REQUEST_INVALID"),
            }
        }

        let id = Reader::new(&query).peek_u32().expect("checked above");
        seen.method =
            auth_api::constructor_name(id).map_or_else(|| format!("{id:#010x}"), str::to_owned);
        let invalid = || error(400, "INPUT_REQUEST_INVALID");
        match id {
            functions::help::GetConfig::CONSTRUCTOR_ID => {
                match typed::<functions::help::GetConfig>(&query, problems) {
                    Some(_) => Ok(config(self.port.load(Ordering::SeqCst), self.date).to_bytes()),
                    None => invalid(),
                }
            }
            functions::help::GetNearestDc::CONSTRUCTOR_ID => {
                match typed::<functions::help::GetNearestDc>(&query, problems) {
                    Some(_) => Ok(nearest_dc().to_bytes()),
                    None => invalid(),
                }
            }
            functions::auth::SendCode::CONSTRUCTOR_ID => {
                let Some(call) = typed::<functions::auth::SendCode>(&query, problems) else {
                    return invalid();
                };
                if (call.api_id, call.api_hash.as_str()) != (API_ID, API_HASH) {
                    error(400, "API_ID_INVALID")
                } else if call.phone_number != PHONE {
                    error(400, "PHONE_NUMBER_INVALID")
                } else if call.settings != logout_settings() {
                    error(400, "CODE_SETTINGS_INVALID")
                } else {
                    Ok(sent_code().to_bytes())
                }
            }
            functions::auth::SignIn::CONSTRUCTOR_ID => {
                let Some(call) = typed::<functions::auth::SignIn>(&query, problems) else {
                    return invalid();
                };
                if call.phone_number != PHONE {
                    error(400, "PHONE_NUMBER_INVALID")
                } else if call.phone_code_hash != PHONE_CODE_HASH {
                    error(400, "PHONE_CODE_HASH_INVALID")
                } else if call.phone_code.as_deref() != Some(CODE) {
                    error(400, "PHONE_CODE_INVALID")
                } else {
                    Ok(authorization().to_bytes())
                }
            }
            _ => error(400, "METHOD_NOT_SUPPORTED_IN_TEST"),
        }
    }
}

async fn start() -> (SocketAddr, TestServerHandle, Arc<Dc>) {
    let dc = Arc::new(Dc {
        port: AtomicU16::new(0),
        date: unix_now(),
        log: Mutex::new(Vec::new()),
    });
    let handler: Handler = {
        let dc = dc.clone();
        Arc::new(move |body: &[u8]| dc.handle(body))
    };
    let (addr, server) = TestServer::bind(TestServerConfig::new(vec![server_key()], handler))
        .await
        .expect("bind the test server");
    dc.port.store(addr.port(), Ordering::SeqCst);
    (addr, server, dc)
}

// ---------------------------------------------------------------------------------------
// Running the script.

/// The Node.js process; killed when dropped (a failed assertion or a timeout never leaves
/// it running).
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Our `auth.authorization` with layer 230's `user`, and the same bytes with the user's
/// constructor id changed to layer 227's (the only difference while `linked_community_id`
/// is unset), for mtcute's reader to try offline.
fn probes() -> Value {
    let with_user_230 = authorization_with(me_230()).to_bytes();
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
/// runtime the server runs on) at most 90 s. Returns its output lines as JSON.
async fn run_mtcute(addr: SocketAddr, transport: &str) -> Vec<Value> {
    let script = js_dir().join("mtcute_client.mjs");
    let input = json!({
        "pem": server_key().public_key().to_pkcs1_pem(),
        "probes": probes(),
    });
    let mut child = Script(
        Command::new(node())
            .arg(&script)
            .args(["--port", &addr.port().to_string()])
            .args(["--transport", transport])
            .args(["--api-id", &API_ID.to_string()])
            .args(["--api-hash", API_HASH])
            .args(["--phone", PHONE])
            .args(["--code", CODE])
            .args(["--wrong-code", WRONG_CODE])
            .args(["--logout-token", &hex::encode(LOGOUT_TOKEN)])
            .args(["--timeout", "80"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Node.js: {e}; run `cargo xtask js-setup`")),
    );
    {
        let mut stdin = child.0.stdin.take().expect("stdin is piped");
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("write the script's input");
    }
    // Threads drain the pipes so the script never blocks on a full one.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.0.stdout.take().expect("stdout is piped")));
    let stderr = drain(Box::new(child.0.stderr.take().expect("stderr is piped")));

    let deadline = Instant::now() + Duration::from_secs(90);
    let status: ExitStatus = loop {
        if let Some(status) = child.0.try_wait().expect("poll the script") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "mtcute_client.mjs ({transport}) did not finish within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.success(),
        "mtcute_client.mjs ({transport}) failed ({status}); if mtcute is missing, run \
         `cargo xtask js-setup`.\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    if !stderr.trim().is_empty() {
        eprintln!("mtcute_client.mjs ({transport}) stderr:\n{stderr}");
    }
    stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("the script printed {line:?}, not JSON: {e}"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The test, per codec.

fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name:?} step in {steps:#?}"))
}

fn probe<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == "probe" && s["name"] == name)
        .unwrap_or_else(|| panic!("no probe {name:?} in {steps:#?}"))
}

fn hex_of(value: &impl Serialize) -> Value {
    Value::from(hex::encode(value.to_bytes()))
}

async fn mtcute_session(codec: &str, transport: Transport, obfuscated: bool) {
    bounded(async {
        let (addr, server, dc) = start().await;
        let steps = run_mtcute(addr, codec).await;

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
        assert_eq!(nearest["hex"], hex_of(&nearest_dc()));

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
        assert_eq!(get_config["hex"], hex_of(&config(addr.port(), dc.date)));

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
        assert_eq!(send_code["hex"], hex_of(&sent_code()));

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

        // The right code: `auth.authorization`, with `userEmpty` (see `authorization`).
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
        assert_eq!(sign_in["hex"], hex_of(&authorization()));

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
        assert_eq!(user_227["hex"], probes()["authorization_user_as_227"]);
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
        let log = dc.log.lock().unwrap().clone();
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
        assert_eq!(log[0].layer, Some(MTCUTE_LAYER));
        let init = log[0].init.as_ref().expect("initConnection");
        assert_eq!(init.api_id, API_ID);
        assert_eq!(
            [
                &init.device_model,
                &init.system_version,
                &init.app_version,
                &init.system_lang_code,
                &init.lang_pack,
                &init.lang_code,
            ],
            ["interop-test", "loopback", "0.1", "en-US", "", "en"]
        );
        assert!(init.proxy.is_none() && init.params.is_none());

        let stats = server.stats();
        assert_eq!(stats.connections, 1, "{stats:?}");
        assert_eq!(stats.transports, vec![(transport, obfuscated)]);
        // mtcute leaves the DC id bytes of its obfuscated2 header random (it sets them only
        // for an MTProxy): only count them.
        assert_eq!(stats.obfuscated_dc_ids.len(), usize::from(obfuscated));
        assert!(stats.refused_transports.is_empty(), "{stats:?}");
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!(stats.unknown_key_errors, 0);
        // mtcute derives the first salt from the nonces, as the server does.
        assert_eq!(stats.bad_server_salts, 0, "{stats:?}");
        assert!(stats.bad_msg_notifications.is_empty(), "{stats:?}");
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
