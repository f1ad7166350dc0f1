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

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use auth_api::{enums, functions, types, Deserialize, Identifiable, Reader, Serialize};
use mtproto_crypto::RsaPrivateKey;
use mtproto_net::test_server::{Handler, Reply, TestServer, TestServerConfig, TestServerHandle};
use mtproto_net::{RpcError, Transport};
use project_tests::{oracle_python, workspace_root};
use serde_json::Value;
use tl_wire::RawObject;

/// Telethon 1.45's layer: the layer its `invokeWithLayer` announces.
const TELETHON_LAYER: i32 = 229;
const DC: i32 = 2;
const API_ID: i32 = 611_335;
const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// A test-number phone (99966 + DC + 4 digits) as the server sees it: Telethon's
/// `send_code_request` strips the `+` the script is given.
const PHONE: &str = "9996624242";
const CODE: &str = "24680";
const WRONG_CODE: &str = "13579";
const PHONE_CODE_HASH: &str = "5f1c0a2e9b7d4e31";
const USER_ID: i64 = 5_000_000_123;
const ACCESS_HASH: i64 = -0x1234_5678_9abc_def0;

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

/// The signed-in user, as `auth.authorization` and `users.getUsers` return it.
fn me() -> enums::User {
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

fn authorization() -> enums::auth::Authorization {
    types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: Some(b"future-token".to_vec()),
        user: me(),
    }
    .into()
}

fn state(date: i32) -> enums::updates::State {
    types::updates::State {
        pts: 17,
        qts: 0,
        date,
        seq: 3,
        unread_count: 0,
    }
    .into()
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
    /// Set by a successful `auth.signIn`: `users.getUsers`/`updates.getState` work then.
    authorized: AtomicBool,
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
        let authorized = self.authorized.load(Ordering::SeqCst);
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
                    self.authorized.store(true, Ordering::SeqCst);
                    Ok(authorization().to_bytes())
                }
            }
            functions::users::GetUsers::CONSTRUCTOR_ID => {
                let Some(call) = typed::<functions::users::GetUsers>(&query, problems) else {
                    return invalid();
                };
                if !authorized {
                    error(401, "AUTH_KEY_UNREGISTERED")
                } else if call.id != [enums::InputUser::Self_] {
                    error(400, "USER_ID_INVALID")
                } else {
                    Ok(vec![me()].to_bytes())
                }
            }
            functions::updates::GetState::CONSTRUCTOR_ID => {
                match typed::<functions::updates::GetState>(&query, problems) {
                    Some(_) if authorized => Ok(state(self.date).to_bytes()),
                    Some(_) => error(401, "AUTH_KEY_UNREGISTERED"),
                    None => invalid(),
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
        authorized: AtomicBool::new(false),
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

/// The Telethon process; killed when dropped (a failed assertion or a timeout never leaves
/// it running).
struct Script(Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `telethon_client.py` against `addr` with `connection`, waiting (without blocking the
/// runtime the server runs on) at most 90 s. Returns its output lines as JSON.
async fn run_telethon(addr: SocketAddr, connection: &str) -> Vec<Value> {
    let script = workspace_root().join("tests/py/telethon_client.py");
    let pem = server_key().public_key().to_pkcs1_pem();
    let mut child = Script(
        Command::new(oracle_python())
            .arg(&script)
            .args(["--port", &addr.port().to_string()])
            .args(["--connection", connection])
            .args(["--api-id", &API_ID.to_string()])
            .args(["--api-hash", API_HASH])
            .args(["--phone", &format!("+{PHONE}")])
            .args(["--code", CODE])
            .args(["--wrong-code", WRONG_CODE])
            .args(["--timeout", "80"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the oracle Python: {e}; run `cargo xtask py-setup`")
            }),
    );
    {
        let mut stdin = child.0.stdin.take().expect("stdin is piped");
        stdin.write_all(pem.as_bytes()).expect("write the PEM");
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
            "telethon_client.py ({connection}) did not finish within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.success(),
        "telethon_client.py ({connection}) failed ({status}); if Telethon is missing, run \
         `cargo xtask py-setup`.\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    if !stderr.trim().is_empty() {
        // Telethon logs warnings there (none are expected); show them with the test output.
        eprintln!("telethon_client.py ({connection}) stderr:\n{stderr}");
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
// The test, per connection class.

fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name:?} step in {steps:#?}"))
}

fn hex_of(value: &impl Serialize) -> Value {
    Value::from(hex::encode(value.to_bytes()))
}

/// Telethon's view of a user, as the script prints it.
fn assert_user(user: &Value) {
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
        hex_of(&me()),
        "Telethon re-serialized our user differently"
    );
}

async fn telethon_session(connection: &str, transport: Transport, obfuscated: bool) {
    bounded(async {
        let (addr, server, dc) = start().await;
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
        assert_eq!(get_config["hex"], hex_of(&config(addr.port(), dc.date)));

        let nearest = step(&steps, "get_nearest_dc");
        assert_eq!(
            (
                &nearest["country"],
                &nearest["this_dc"],
                &nearest["nearest_dc"]
            ),
            (&Value::from("NL"), &Value::from(DC), &Value::from(DC))
        );
        assert_eq!(nearest["hex"], hex_of(&nearest_dc()));

        let send_code = step(&steps, "send_code");
        assert_eq!(send_code["type"], "SentCodeTypeSms");
        assert_eq!(send_code["length"], CODE.len());
        assert_eq!(send_code["phone_code_hash"], PHONE_CODE_HASH);
        assert_eq!(send_code["timeout"], 60);
        assert_eq!(send_code["hex"], hex_of(&sent_code()));

        let wrong = step(&steps, "sign_in_wrong_code");
        assert_eq!(wrong["error"], "PhoneCodeInvalidError");
        assert_eq!(wrong["code"], 400);
        // Telethon maps the message to the class and keeps only the code's name.
        assert_eq!(wrong["message"], "BAD_REQUEST");

        let sign_in = step(&steps, "sign_in");
        assert_eq!(sign_in["type"], "Authorization");
        assert_user(&sign_in["user"]);
        assert_eq!(sign_in["hex"], hex_of(&authorization()));

        assert_user(&step(&steps, "get_me")["user"]);

        let get_state = step(&steps, "get_state");
        assert_eq!(
            [&get_state["pts"], &get_state["qts"], &get_state["seq"]],
            [&Value::from(17), &Value::from(0), &Value::from(3)]
        );
        assert_eq!(get_state["date"], dc.date);
        assert_eq!(get_state["hex"], hex_of(&state(dc.date)));

        let unsupported = step(&steps, "unsupported_call");
        assert_eq!(unsupported["error"], "BadRequestError");
        assert_eq!(unsupported["code"], 400);
        assert_eq!(unsupported["message"], "METHOD_NOT_SUPPORTED_IN_TEST");

        assert_eq!(step(&steps, "disconnect")["connected"], false);

        // What the server saw: every request, its wrappers, and what it answered.
        let log = dc.log.lock().unwrap().clone();
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
        assert_eq!(log[0].layer, Some(TELETHON_LAYER));
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
        // Telethon leaves the DC id bytes of its obfuscated2 header random: only count them.
        assert_eq!(stats.obfuscated_dc_ids.len(), usize::from(obfuscated));
        assert!(stats.refused_transports.is_empty(), "{stats:?}");
        assert_eq!(stats.key_exchanges, 1);
        assert_eq!(stats.unknown_key_errors, 0);
        // Telethon sends its first encrypted message with salt 0 (it does not derive the
        // first salt from the nonces); the server corrects it once.
        assert_eq!(stats.bad_server_salts, 1, "{stats:?}");
        assert!(stats.bad_msg_notifications.is_empty(), "{stats:?}");
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
