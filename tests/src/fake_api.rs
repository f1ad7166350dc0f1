//! A fake Telegram API behind our loopback [`TestServer`]: just enough of the login flow for
//! a real client to connect, sign in with a test number and ask who it is.
//!
//! This is the seed of the future test DC's fake auth backend. For now the interop tests
//! (`tests/tests/telethon_client.rs`, `tests/tests/mtcute_client.rs`) run it against
//! independent clients: [`FakeApi`] peels the `invokeWithLayer` / `invokeWithoutUpdates` /
//! `initConnection` wrappers, answers `help.getConfig`, `help.getNearestDc`, `auth.sendCode`,
//! `auth.signIn`, `users.getUsers` and `updates.getState` with our generated bindings
//! (`auth-api`, layer 230), checks that each request decodes and re-serializes to exactly
//! the client's bytes, and logs what it saw ([`Seen`]). Everything else gets
//! `400 METHOD_NOT_SUPPORTED_IN_TEST`.
//!
//! The account and the app are the constants below unless [`Options`] says otherwise;
//! [`Options`] also holds what differs between clients (the `codeSettings` expected in
//! `auth.sendCode`, the user a sign-in answers with, whether the calls after login are
//! served).
//!
//! The module also has what running an oracle script around the fake needs: [`Script`] (the
//! child process, killed when dropped), [`run_script`], [`step`], [`hex_of`], [`bounded`].

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_api::{enums, functions, types, Deserialize, Identifiable, Reader, Serialize};
use mtproto_crypto::RsaPrivateKey;
use mtproto_net::RpcError;
use serde_json::Value;
use test_dc::{Handler, Reply, TestServer, TestServerConfig, TestServerHandle};
use tl_wire::RawObject;

/// The DC the fake is: `config` and `nearestDc` name it.
pub const DC: i32 = 2;
pub const API_ID: i32 = 611_335;
pub const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";
/// A test-number phone (99966 + DC + 4 digits) as the server sees it (no `+`).
pub const PHONE: &str = "9996624242";
pub const CODE: &str = "24680";
/// A code that is not [`CODE`], for the clients' failed sign-in.
pub const WRONG_CODE: &str = "13579";
pub const PHONE_CODE_HASH: &str = "5f1c0a2e9b7d4e31";
pub const USER_ID: i64 = 5_000_000_123;
pub const ACCESS_HASH: i64 = -0x1234_5678_9abc_def0;

/// The server's RSA key (the test server's, `test_dc::test_server_key`).
pub fn server_key() -> RsaPrivateKey {
    test_dc::test_server_key()
}

/// Runs `test`, failing when it takes more than 150 s.
pub async fn bounded<F: Future>(test: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(150), test)
        .await
        .expect("the test did not finish within 150 s")
}

/// Unix time as a TL `int` (dates in fake answers).
pub fn unix_now() -> i32 {
    i32::try_from(test_dc::unix_now().as_secs()).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------
// What the fake is configured with.

/// The user `auth.signIn` answers with in its `auth.authorization`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedInUser {
    /// Layer 230's `user` ([`FakeApi::me`]).
    User,
    /// `userEmpty` with the user's id: its layout (and id) is the same in older layers, unlike
    /// `user`'s, so a client of another layer can read it.
    Empty,
}

/// The account, the app, and what differs between clients. `Default` is the constants.
#[derive(Clone, Debug)]
pub struct Options {
    pub dc: i32,
    pub api_id: i32,
    pub api_hash: String,
    pub phone: String,
    pub code: String,
    pub phone_code_hash: String,
    pub user_id: i64,
    pub access_hash: i64,
    /// The `codeSettings` `auth.sendCode` must carry (else `CODE_SETTINGS_INVALID`); `None`
    /// accepts any.
    pub code_settings: Option<enums::CodeSettings>,
    /// What a successful `auth.signIn` answers with.
    pub signed_in_user: SignedInUser,
    /// Whether `users.getUsers` and `updates.getState` are served (with `AUTH_KEY_UNREGISTERED`
    /// before the sign-in); when not, they get `METHOD_NOT_SUPPORTED_IN_TEST`.
    pub user_calls: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dc: DC,
            api_id: API_ID,
            api_hash: API_HASH.into(),
            phone: PHONE.into(),
            code: CODE.into(),
            phone_code_hash: PHONE_CODE_HASH.into(),
            user_id: USER_ID,
            access_hash: ACCESS_HASH,
            code_settings: None,
            signed_in_user: SignedInUser::User,
            user_calls: true,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The fake and its answers, built with our layer-230 bindings.

/// One request as the handler saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// The wrappers around the call, outermost first.
    pub wrappers: Vec<&'static str>,
    /// `invokeWithLayer`'s layer.
    pub layer: Option<i32>,
    /// `initConnection`'s fields (its query replaced by nothing).
    pub init: Option<functions::InitConnection<RawObject>>,
    /// The inner call's TL name (or its id in hex when the bindings do not know it).
    pub method: String,
    /// What was answered: `ok` or the error message.
    pub answer: String,
    /// Problems reading the request with our bindings (empty when all went well).
    pub problems: Vec<String>,
}

/// The fake API: [`Options`], the state of the login, and the log of what it saw.
pub struct FakeApi {
    pub options: Options,
    /// The date of `config` and `updates.state` (the fake's start).
    pub date: i32,
    /// The port `config` announces (set by [`FakeApi::start`]).
    port: AtomicU16,
    /// Set by a successful `auth.signIn`: `users.getUsers`/`updates.getState` work then.
    authorized: AtomicBool,
    log: Mutex<Vec<Seen>>,
}

impl FakeApi {
    pub fn new(options: Options) -> Self {
        Self {
            options,
            date: unix_now(),
            port: AtomicU16::new(0),
            authorized: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Binds a [`TestServer`] (with [`server_key`]) on loopback that hands every request to
    /// a new fake with `options`, which then announces the server's port.
    pub async fn start(options: Options) -> (SocketAddr, TestServerHandle, Arc<Self>) {
        let api = Arc::new(Self::new(options));
        let (addr, server) =
            TestServer::bind(TestServerConfig::new(vec![server_key()], api.handler()))
                .await
                .expect("bind the test server");
        api.set_port(addr.port());
        (addr, server, api)
    }

    /// The port `config` announces.
    pub fn set_port(&self, port: u16) {
        self.port.store(port, Ordering::SeqCst);
    }

    /// The [`TestServer`] handler: [`FakeApi::handle`].
    pub fn handler(self: &Arc<Self>) -> Handler {
        let api = self.clone();
        Arc::new(move |body: &[u8]| api.handle(body))
    }

    /// What the fake saw so far, in order.
    pub fn log(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    /// `config` for the DC at 127.0.0.1:`port` and ::1:`port` (numbers in the range Telegram
    /// sends).
    pub fn config(&self, port: u16, date: i32) -> enums::Config {
        let dc = self.options.dc;
        let option = |ipv6: bool, ip: &str| -> enums::DcOption {
            types::DcOption {
                ipv6,
                media_only: false,
                tcpo_only: false,
                cdn: false,
                r#static: false,
                this_port_only: false,
                id: dc,
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
            this_dc: dc,
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

    pub fn nearest_dc(&self) -> enums::NearestDc {
        types::NearestDc {
            country: "NL".into(),
            this_dc: self.options.dc,
            nearest_dc: self.options.dc,
        }
        .into()
    }

    pub fn sent_code(&self) -> enums::auth::SentCode {
        types::auth::SentCode {
            r#type: types::auth::SentCodeTypeSms {
                length: self.options.code.len() as i32,
            }
            .into(),
            phone_code_hash: self.options.phone_code_hash.clone(),
            next_type: None,
            timeout: Some(60),
        }
        .into()
    }

    /// The signed-in user in layer 230's `user#b1b8cc83`, as `users.getUsers` returns it.
    pub fn me(&self) -> enums::User {
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
            id: self.options.user_id,
            access_hash: Some(self.options.access_hash),
            first_name: Some("Loopback".into()),
            last_name: Some("Tester".into()),
            username: Some("loopback_tester".into()),
            phone: Some(self.options.phone.clone()),
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

    /// `auth.authorization` around `user`.
    pub fn authorization_with(&self, user: enums::User) -> enums::auth::Authorization {
        types::auth::Authorization {
            setup_password_required: false,
            otherwise_relogin_days: None,
            tmp_sessions: None,
            future_auth_token: Some(b"future-token".to_vec()),
            user,
        }
        .into()
    }

    /// What the right code gets: `auth.authorization` with [`Options::signed_in_user`].
    pub fn authorization(&self) -> enums::auth::Authorization {
        self.authorization_with(match self.options.signed_in_user {
            SignedInUser::User => self.me(),
            SignedInUser::Empty => types::UserEmpty {
                id: self.options.user_id,
            }
            .into(),
        })
    }

    pub fn state(&self, date: i32) -> enums::updates::State {
        types::updates::State {
            pts: 17,
            qts: 0,
            date,
            seq: 3,
            unread_count: 0,
        }
        .into()
    }

    /// Answers one request body, logging what it saw.
    pub fn handle(&self, body: &[u8]) -> Reply {
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
        let o = &self.options;
        let authorized = self.authorized.load(Ordering::SeqCst);
        let invalid = || error(400, "INPUT_REQUEST_INVALID");
        match id {
            functions::help::GetConfig::CONSTRUCTOR_ID => {
                match typed::<functions::help::GetConfig>(&query, problems) {
                    Some(_) => Ok(self
                        .config(self.port.load(Ordering::SeqCst), self.date)
                        .to_bytes()),
                    None => invalid(),
                }
            }
            functions::help::GetNearestDc::CONSTRUCTOR_ID => {
                match typed::<functions::help::GetNearestDc>(&query, problems) {
                    Some(_) => Ok(self.nearest_dc().to_bytes()),
                    None => invalid(),
                }
            }
            functions::auth::SendCode::CONSTRUCTOR_ID => {
                let Some(call) = typed::<functions::auth::SendCode>(&query, problems) else {
                    return invalid();
                };
                if (call.api_id, call.api_hash.as_str()) != (o.api_id, o.api_hash.as_str()) {
                    error(400, "API_ID_INVALID")
                } else if call.phone_number != o.phone {
                    error(400, "PHONE_NUMBER_INVALID")
                } else if o
                    .code_settings
                    .as_ref()
                    .is_some_and(|settings| call.settings != *settings)
                {
                    error(400, "CODE_SETTINGS_INVALID")
                } else {
                    Ok(self.sent_code().to_bytes())
                }
            }
            functions::auth::SignIn::CONSTRUCTOR_ID => {
                let Some(call) = typed::<functions::auth::SignIn>(&query, problems) else {
                    return invalid();
                };
                if call.phone_number != o.phone {
                    error(400, "PHONE_NUMBER_INVALID")
                } else if call.phone_code_hash != o.phone_code_hash {
                    error(400, "PHONE_CODE_HASH_INVALID")
                } else if call.phone_code.as_deref() != Some(o.code.as_str()) {
                    error(400, "PHONE_CODE_INVALID")
                } else {
                    self.authorized.store(true, Ordering::SeqCst);
                    Ok(self.authorization().to_bytes())
                }
            }
            functions::users::GetUsers::CONSTRUCTOR_ID if o.user_calls => {
                let Some(call) = typed::<functions::users::GetUsers>(&query, problems) else {
                    return invalid();
                };
                if !authorized {
                    error(401, "AUTH_KEY_UNREGISTERED")
                } else if call.id != [enums::InputUser::Self_] {
                    error(400, "USER_ID_INVALID")
                } else {
                    Ok(vec![self.me()].to_bytes())
                }
            }
            functions::updates::GetState::CONSTRUCTOR_ID if o.user_calls => {
                match typed::<functions::updates::GetState>(&query, problems) {
                    Some(_) if authorized => Ok(self.state(self.date).to_bytes()),
                    Some(_) => error(401, "AUTH_KEY_UNREGISTERED"),
                    None => invalid(),
                }
            }
            _ => error(400, "METHOD_NOT_SUPPORTED_IN_TEST"),
        }
    }
}

/// Decodes `bytes` as `T` with our bindings and checks it re-serializes to the same bytes.
pub fn typed<T: Deserialize + Serialize>(bytes: &[u8], problems: &mut Vec<String>) -> Option<T> {
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

// ---------------------------------------------------------------------------------------
// Running an oracle script against the fake.

/// An oracle script's process; killed when dropped (a failed assertion or a timeout never
/// leaves it running).
pub struct Script(pub Child);

impl Drop for Script {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How [`run_script`] names the script in its failures.
pub struct ScriptNames<'a> {
    /// The script and its variant, e.g. `telethon_client.py (ConnectionTcpFull)`.
    pub script: &'a str,
    /// What runs it, e.g. `the oracle Python`.
    pub runner: &'a str,
    /// The oracle package, e.g. `Telethon`.
    pub oracle: &'a str,
    /// What installs it, e.g. `cargo xtask py-setup`.
    pub setup: &'a str,
}

/// Runs `command` (the script with its arguments), feeding it `input`, waiting (without
/// blocking the runtime the server runs on) at most 90 s. Returns its output lines as JSON;
/// fails when it does not finish in time or exits non-zero.
pub async fn run_script(mut command: Command, input: &[u8], names: ScriptNames<'_>) -> Vec<Value> {
    let ScriptNames {
        script,
        runner,
        oracle,
        setup,
    } = names;
    let mut child = Script(
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {runner}: {e}; run `{setup}`")),
    );
    {
        let mut stdin = child.0.stdin.take().expect("stdin is piped");
        stdin.write_all(input).expect("write the script's input");
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
            "{script} did not finish within 90 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    assert!(
        status.success(),
        "{script} failed ({status}); if {oracle} is missing, run `{setup}`.\nstdout:\n{stdout}\n\
         stderr:\n{stderr}"
    );
    if !stderr.trim().is_empty() {
        // Oracles log warnings there (none are expected); show them with the test output.
        eprintln!("{script} stderr:\n{stderr}");
    }
    stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("the script printed {line:?}, not JSON: {e}"))
        })
        .collect()
}

/// The script's output line whose `step` is `name`.
pub fn step<'a>(steps: &'a [Value], name: &str) -> &'a Value {
    steps
        .iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no {name:?} step in {steps:#?}"))
}

/// `value`'s bytes in hex, as the scripts print what they re-serialized.
pub fn hex_of(value: &impl Serialize) -> Value {
    Value::from(hex::encode(value.to_bytes()))
}

/// Asserts the `initConnection` both interop scripts send: the client's `layer`, our api_id,
/// and the device strings the scripts set.
pub fn assert_init_connection(first: &Seen, layer: i32) {
    assert_eq!(first.layer, Some(layer));
    let init = first.init.as_ref().expect("initConnection");
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
}

/// Asserts that a client run used one connection over `transport` (obfuscated or not), made
/// one key exchange, and got no -404 and no `bad_msg_notification`.
pub fn assert_one_clean_connection(
    stats: &test_dc::Stats,
    transport: mtproto_net::Transport,
    obfuscated: bool,
) {
    assert_eq!(stats.connections, 1, "{stats:?}");
    assert_eq!(stats.transports, vec![(transport, obfuscated)]);
    // Neither Telethon nor mtcute writes the DC id into its obfuscated2 header (the bytes are
    // random): only count them.
    assert_eq!(stats.obfuscated_dc_ids.len(), usize::from(obfuscated));
    assert!(stats.refused_transports.is_empty(), "{stats:?}");
    assert_eq!(stats.key_exchanges, 1);
    assert_eq!(stats.unknown_key_errors, 0);
    assert!(stats.bad_msg_notifications.is_empty(), "{stats:?}");
}
