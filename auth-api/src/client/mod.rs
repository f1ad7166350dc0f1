//! The login client (hand-written; the bindings beside it are generated): one [`Client`]
//! per user, cheap to clone, that connects lazily, declares the layer with
//! `invokeWithLayer(initConnection(...))` on each connection's first request, follows
//! PHONE/USER/NETWORK_MIGRATE, sleeps through short flood waits, and keeps its keys and
//! home DC in a [`SessionStore`].
//!
//! ```no_run
//! # async fn demo(addr: std::net::SocketAddr, key: mtproto_crypto::RsaPublicKey) -> Result<(), auth_api::client::ClientError> {
//! use auth_api::client::{Client, ClientConfig, SignIn};
//! let client = Client::new(ClientConfig::new(611335, "api-hash", [(2, addr)], 2, vec![key]))?;
//! let token = client.send_code("+999 66 2 1234").await?;
//! match client.sign_in(&token, "12345").await? {
//!     SignIn::SignedIn(user) => println!("signed in: user_id={}", user.id),
//!     SignIn::SignUpRequired { .. } => { client.sign_up(&token, "First", "Last").await?; }
//!     SignIn::PasswordRequired(password) => { client.check_password(&password, "secret").await?; }
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mtproto_crypto::srp::{compute_check, SrpParams};
use mtproto_crypto::{PrimeCache, RsaPublicKey};
use mtproto_net::{Backoff, ConnectConfig, Connection, MtProxySecret, Transport};
use tl_wire::RemoteCall;
use tokio::sync::Mutex;

use crate::{enums, functions, types};

mod error;
mod file_store;
mod flow;
mod layer23;
pub mod session;

pub use error::ClientError;
pub use file_store::FileStore;
pub use flow::{AuthFuture, Authenticator, MAX_ATTEMPTS as MAX_LOGIN_ATTEMPTS};
pub use layer23::Layer23;
pub use session::{MemoryStore, SessionData, SessionStore, StoreError};

/// Migrations and flood waits one call follows before giving up.
const MAX_ATTEMPTS: u32 = 5;

/// How a [`Client`] connects and introduces itself.
#[derive(Clone)]
pub struct ClientConfig {
    /// The application's `api_id`.
    pub api_id: i32,
    /// The application's `api_hash`.
    pub api_hash: String,
    /// The DCs to start from (the session's table, once it has one, wins).
    pub dcs: BTreeMap<i32, SocketAddr>,
    /// The DC to start on before the session knows the home DC.
    pub initial_dc: i32,
    /// The servers' RSA public keys.
    pub public_keys: Vec<RsaPublicKey>,
    /// `initConnection`'s device model.
    pub device_model: String,
    /// `initConnection`'s system version.
    pub system_version: String,
    /// `initConnection`'s app version.
    pub app_version: String,
    /// `initConnection`'s system language.
    pub system_lang_code: String,
    /// `initConnection`'s language pack.
    pub lang_pack: String,
    /// `initConnection`'s language.
    pub lang_code: String,
    /// The layer declared with `invokeWithLayer` (the bindings' layer by default).
    pub layer: i32,
    /// The transport framing.
    pub transport: Transport,
    /// Wrap the transport in obfuscated2.
    pub obfuscated: bool,
    /// Go through an MTProxy at this address with this secret.
    pub mtproxy: Option<(SocketAddr, MtProxySecret)>,
    /// Flood waits up to this long are slept through; longer ones are returned.
    pub flood_sleep_threshold: Duration,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Reconnection after a lost connection (a failed security check included): a
    /// connection that keeps failing gives up after `max_attempts`, and the waiting requests
    /// fail with the error that names why.
    pub reconnect: Backoff,
    /// Where the session lives.
    pub store: Arc<dyn SessionStore>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_id", &self.api_id)
            .field("dcs", &self.dcs)
            .field("initial_dc", &self.initial_dc)
            .field("layer", &self.layer)
            .field("transport", &self.transport)
            .field("obfuscated", &self.obfuscated)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with these defaults: abridged transport, layer [`crate::LAYER`],
    /// device strings naming this crate, a 60 s flood-sleep threshold, 30 s requests,
    /// reconnection giving up after 4 attempts (100 ms doubling), and a [`MemoryStore`].
    pub fn new(
        api_id: i32,
        api_hash: impl Into<String>,
        dcs: impl IntoIterator<Item = (i32, SocketAddr)>,
        initial_dc: i32,
        public_keys: Vec<RsaPublicKey>,
    ) -> Self {
        Self {
            api_id,
            api_hash: api_hash.into(),
            dcs: dcs.into_iter().collect(),
            initial_dc,
            public_keys,
            device_model: "auth-api".into(),
            system_version: std::env::consts::OS.into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            layer: crate::LAYER,
            transport: Transport::Abridged,
            obfuscated: false,
            mtproxy: None,
            flood_sleep_threshold: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            reconnect: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
                max_attempts: Some(4),
            },
            store: Arc::new(MemoryStore::new()),
        }
    }
}

impl ClientConfig {
    /// Telegram's production servers: DC 2 at 149.154.167.51:443 to start from (the
    /// address Telethon 1.45 bootstraps with; the other DCs come from `help.getConfig` on
    /// the first migration), trusting Telegram's production RSA key.
    pub fn telegram(api_id: i32, api_hash: impl Into<String>) -> Self {
        Self::new(
            api_id,
            api_hash,
            [(2, SocketAddr::from(([149, 154, 167, 51], 443)))],
            2,
            vec![mtproto_crypto::rsa::telegram_production_key()],
        )
    }

    /// Telegram's test servers: DC 2 at 149.154.167.40:443 (as mtcute 0.30.3's default
    /// test DC), trusting Telegram's test RSA key.
    pub fn telegram_test(api_id: i32, api_hash: impl Into<String>) -> Self {
        Self::new(
            api_id,
            api_hash,
            [(2, SocketAddr::from(([149, 154, 167, 40], 443)))],
            2,
            vec![mtproto_crypto::rsa::telegram_test_key()],
        )
    }
}

/// A sent login code: what `sign_in`, `resend_code` and `cancel_code` need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeToken {
    /// The number, as given.
    pub phone: String,
    /// The server's `phone_code_hash`.
    pub phone_code_hash: String,
    /// How the code was sent (`app`, `sms`, `call`, ...).
    pub code_type: String,
}

/// A pending 2FA check: what `check_password` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordToken {
    /// The password hint, if the account has one.
    pub hint: Option<String>,
}

/// How `sign_in` ended.
#[derive(Clone, Debug, PartialEq)]
pub enum SignIn {
    /// Signed in as this user.
    SignedIn(Box<types::User>),
    /// The number has no account: call `sign_up` (after showing the terms, if any).
    SignUpRequired {
        /// The terms of service to accept, if the server sent them.
        terms: Option<String>,
    },
    /// The account has a password: call `check_password`.
    PasswordRequired(PasswordToken),
}

/// The login client (see the [module docs](self)).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    state: Mutex<State>,
}

struct State {
    session: SessionData,
    conns: HashMap<i32, Arc<DcConnection>>,
}

struct DcConnection {
    conn: Connection,
    /// Whether the connection's layer and `initConnection` were declared.
    introduced: AtomicBool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client over `config`; loads the session (no network yet).
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let mut session = config.store.load()?.unwrap_or_default();
        for (id, addr) in &config.dcs {
            session.dcs.entry(*id).or_insert(*addr);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State {
                    session,
                    conns: HashMap::new(),
                }),
            }),
        })
    }

    /// A copy of the session as it is now.
    pub async fn session(&self) -> SessionData {
        self.inner.state.lock().await.session.clone()
    }

    /// The DC requests go to: the home DC once known, else the configured one.
    pub async fn home_dc(&self) -> i32 {
        let state = self.inner.state.lock().await;
        state
            .session
            .home_dc
            .unwrap_or(self.inner.config.initial_dc)
    }

    /// The connection to `dc`, opened (and its key persisted) on first use.
    async fn connection(&self, dc: i32) -> Result<Arc<DcConnection>, ClientError> {
        let mut state = self.inner.state.lock().await;
        if let Some(conn) = state.conns.get(&dc) {
            if !conn.conn.status().closed {
                return Ok(conn.clone());
            }
            // It gave up (its requests got the reason): start over with a new one.
            state.conns.remove(&dc);
        }
        let config = &self.inner.config;
        let addr = *state
            .session
            .dcs
            .get(&dc)
            .ok_or(ClientError::UnknownDc(dc))?;
        let mut net = ConnectConfig::new(addr, dc, config.public_keys.clone());
        net.transport = config.transport;
        net.obfuscated = config.obfuscated;
        if let Some((proxy, secret)) = &config.mtproxy {
            net = net.via_mtproxy(*proxy, secret.clone());
        }
        net.auth = state.session.keys.get(&dc).cloned();
        net.request_timeout = config.request_timeout;
        net.reconnect = config.reconnect.clone();
        let (conn, mut events) = Connection::connect(net)
            .await
            .map_err(|source| ClientError::connect(dc, source))?;
        // Events are logged; answers reach their `invoke` without them.
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                tracing::debug!(dc, ?event, "client: connection event");
            }
        });
        state.session.keys.insert(dc, conn.auth());
        config.store.save(&state.session)?;
        let conn = Arc::new(DcConnection {
            conn,
            introduced: AtomicBool::new(false),
        });
        state.conns.insert(dc, conn.clone());
        Ok(conn)
    }

    /// Sends `request` on DC `dc`'s connection, inside `invokeWithLayer(initConnection(...))`
    /// when it is the connection's first; no migration or flood handling.
    async fn invoke_on<R>(&self, dc: i32, request: &R) -> Result<R::Return, ClientError>
    where
        R: RemoteCall + Clone,
    {
        let conn = self.connection(dc).await?;
        if conn.introduced.load(Ordering::Acquire) {
            return conn
                .conn
                .invoke(request)
                .await
                .map_err(|e| ClientError::invoke(dc, e));
        }
        let config = &self.inner.config;
        let answer = if config.layer <= crate::legacy::layer23::LAYER {
            // Layer 23's own `initConnection` (no system language, no language pack).
            let init = crate::legacy::layer23::functions::InitConnection::new(
                config.api_id,
                config.device_model.clone(),
                config.system_version.clone(),
                config.app_version.clone(),
                config.lang_code.clone(),
                request.clone(),
            );
            conn.conn
                .invoke(&functions::InvokeWithLayer::new(config.layer, init))
                .await
        } else {
            let init = functions::InitConnection::new(
                config.api_id,
                config.device_model.clone(),
                config.system_version.clone(),
                config.app_version.clone(),
                config.system_lang_code.clone(),
                config.lang_pack.clone(),
                config.lang_code.clone(),
                request.clone(),
            );
            conn.conn
                .invoke(&functions::InvokeWithLayer::new(config.layer, init))
                .await
        };
        if !matches!(
            answer,
            Err(mtproto_net::InvokeError::Timeout | mtproto_net::InvokeError::Closed)
        ) {
            conn.introduced.store(true, Ordering::Release);
        }
        answer.map_err(|e| ClientError::invoke(dc, e))
    }

    /// Sends any generated call to the home DC and returns its typed answer: the first
    /// request of each connection goes inside `invokeWithLayer(initConnection(...))`;
    /// PHONE/USER/NETWORK_MIGRATE move the home DC (carrying a login over with
    /// `auth.exportAuthorization`/`importAuthorization`) and retry; flood waits up to the
    /// threshold are slept through.
    pub async fn invoke<R>(&self, request: &R) -> Result<R::Return, ClientError>
    where
        R: RemoteCall + Clone,
    {
        for _ in 0..MAX_ATTEMPTS {
            let dc = self.home_dc().await;
            match self.invoke_on(dc, request).await {
                Ok(answer) => return Ok(answer),
                Err(ClientError::Rpc(error)) => {
                    match (error.code, error.name.as_str(), error.value) {
                        (303, "PHONE_MIGRATE" | "USER_MIGRATE" | "NETWORK_MIGRATE", Some(to)) => {
                            let to = to as i32;
                            tracing::info!(from = dc, to, "client: migrating");
                            if !self.inner.state.lock().await.session.dcs.contains_key(&to) {
                                self.refresh_dcs(dc).await?;
                            }
                            if !self.inner.state.lock().await.session.dcs.contains_key(&to) {
                                return Err(ClientError::UnknownDc(to));
                            }
                            if self.session().await.user_id.is_some() {
                                self.transfer_authorization(dc, to).await?;
                            }
                            self.set_home_dc(to).await?;
                        }
                        (420, "FLOOD_WAIT", Some(seconds)) => {
                            let wait = Duration::from_secs(u64::from(seconds));
                            if wait > self.inner.config.flood_sleep_threshold {
                                return Err(ClientError::FloodWait(wait));
                            }
                            tracing::info!(?wait, "client: sleeping through a flood wait");
                            tokio::time::sleep(wait).await;
                        }
                        _ => return Err(ClientError::Rpc(error)),
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Err(ClientError::TooManyRetries(MAX_ATTEMPTS))
    }

    /// Learns the DC table from `help.getConfig` on DC `dc` (IPv4, not media-only, not CDN
    /// options; the first address of each DC) and keeps it in the session.
    pub async fn refresh_dcs(&self, dc: i32) -> Result<(), ClientError> {
        let enums::Config::Config(config) =
            self.invoke_on(dc, &functions::help::GetConfig {}).await?;
        let mut learned = BTreeMap::new();
        for option in config.dc_options {
            let enums::DcOption::DcOption(o) = option;
            if o.ipv6 || o.media_only || o.cdn || o.tcpo_only {
                continue;
            }
            let (Ok(ip), Ok(port)) = (o.ip_address.parse(), u16::try_from(o.port)) else {
                continue;
            };
            learned.entry(o.id).or_insert(SocketAddr::new(ip, port));
        }
        let mut state = self.inner.state.lock().await;
        for (id, addr) in learned {
            state.session.dcs.insert(id, addr);
        }
        self.inner.config.store.save(&state.session)?;
        Ok(())
    }

    /// Carries the login from DC `from` to DC `to`.
    async fn transfer_authorization(&self, from: i32, to: i32) -> Result<(), ClientError> {
        let enums::auth::ExportedAuthorization::ExportedAuthorization(exported) = self
            .invoke_on(from, &functions::auth::ExportAuthorization::new(to))
            .await?;
        self.invoke_on(
            to,
            &functions::auth::ImportAuthorization::new(exported.id, exported.bytes),
        )
        .await?;
        Ok(())
    }

    async fn set_home_dc(&self, dc: i32) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        if !state.session.dcs.contains_key(&dc) {
            return Err(ClientError::UnknownDc(dc));
        }
        state.session.home_dc = Some(dc);
        self.inner.config.store.save(&state.session)?;
        Ok(())
    }

    async fn signed_in(&self, user: types::User) -> Result<Box<types::User>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let dc = state
            .session
            .home_dc
            .unwrap_or(self.inner.config.initial_dc);
        state.session.home_dc = Some(dc);
        state.session.user_id = Some(user.id);
        self.inner.config.store.save(&state.session)?;
        Ok(Box::new(user))
    }

    /// Asks for a login code (`auth.sendCode`).
    pub async fn send_code(&self, phone: &str) -> Result<CodeToken, ClientError> {
        let config = &self.inner.config;
        let request = functions::auth::SendCode::new(
            phone.into(),
            config.api_id,
            config.api_hash.clone(),
            types::CodeSettings::default().into(),
        );
        code_token(phone, self.invoke(&request).await?)
    }

    /// Asks for the code again (`auth.resendCode`).
    pub async fn resend_code(&self, token: &CodeToken) -> Result<CodeToken, ClientError> {
        let request =
            functions::auth::ResendCode::new(token.phone.clone(), token.phone_code_hash.clone());
        code_token(&token.phone, self.invoke(&request).await?)
    }

    /// Cancels the code (`auth.cancelCode`).
    pub async fn cancel_code(&self, token: &CodeToken) -> Result<(), ClientError> {
        let request =
            functions::auth::CancelCode::new(token.phone.clone(), token.phone_code_hash.clone());
        self.invoke(&request).await.map(|_| ())
    }

    /// Signs in with the code (`auth.signIn`).
    pub async fn sign_in(&self, token: &CodeToken, code: &str) -> Result<SignIn, ClientError> {
        let request =
            functions::auth::SignIn::new(token.phone.clone(), token.phone_code_hash.clone())
                .phone_code(code.into());
        match self.invoke(&request).await {
            Ok(enums::auth::Authorization::Authorization(a)) => {
                Ok(SignIn::SignedIn(self.signed_in(user_of(a.user)?).await?))
            }
            Ok(enums::auth::Authorization::SignUpRequired(s)) => Ok(SignIn::SignUpRequired {
                terms: s.terms_of_service.map(|t| match t {
                    enums::help::TermsOfService::TermsOfService(t) => t.text,
                }),
            }),
            Err(e) if e.rpc_name() == Some("SESSION_PASSWORD_NEEDED") => {
                let enums::account::Password::Password(info) =
                    self.invoke(&functions::account::GetPassword {}).await?;
                Ok(SignIn::PasswordRequired(PasswordToken { hint: info.hint }))
            }
            Err(e) => Err(e),
        }
    }

    /// Registers the number (`auth.signUp`) after `sign_in` said sign-up is required.
    pub async fn sign_up(
        &self,
        token: &CodeToken,
        first_name: &str,
        last_name: &str,
    ) -> Result<Box<types::User>, ClientError> {
        let request = functions::auth::SignUp::new(
            token.phone.clone(),
            token.phone_code_hash.clone(),
            first_name.into(),
            last_name.into(),
        );
        match self.invoke(&request).await? {
            enums::auth::Authorization::Authorization(a) => self.signed_in(user_of(a.user)?).await,
            other => Err(ClientError::Unexpected(format!(
                "signUp answered {other:?}"
            ))),
        }
    }

    /// Checks the 2FA password with SRP (`account.getPassword`, `auth.checkPassword`).
    pub async fn check_password(
        &self,
        _token: &PasswordToken,
        password: &str,
    ) -> Result<Box<types::User>, ClientError> {
        // A fresh SRP round each time: the server's check is single-use.
        let enums::account::Password::Password(info) =
            self.invoke(&functions::account::GetPassword {}).await?;
        let Some(enums::PasswordKdfAlgo::Sha256sha256pbkdf2hmacsha512iter100000Sha256ModPow(algo)) =
            info.current_algo
        else {
            return Err(ClientError::Unexpected(
                "the account has no password or an unknown algorithm".into(),
            ));
        };
        let (Some(srp_b), Some(srp_id)) = (info.srp_b, info.srp_id) else {
            return Err(ClientError::Unexpected(
                "account.password without srp_B".into(),
            ));
        };
        let params = SrpParams::new(
            &algo.salt1,
            &algo.salt2,
            algo.g,
            &algo.p,
            &mut PrimeCache::new(),
        )?;
        let answer = compute_check(&params, password.as_bytes(), &srp_b, &mut rand::rngs::OsRng)?;
        let check = types::InputCheckPasswordSrp {
            srp_id,
            a: answer.a.to_vec(),
            m1: answer.m1.to_vec(),
        };
        match self
            .invoke(&functions::auth::CheckPassword::new(check.into()))
            .await?
        {
            enums::auth::Authorization::Authorization(a) => self.signed_in(user_of(a.user)?).await,
            other => Err(ClientError::Unexpected(format!(
                "checkPassword answered {other:?}"
            ))),
        }
    }

    /// The signed-in user (`users.getUsers([inputUserSelf])`).
    pub async fn get_me(&self) -> Result<Box<types::User>, ClientError> {
        let users = self
            .invoke(&functions::users::GetUsers::new(vec![
                enums::InputUser::Self_,
            ]))
            .await?;
        match users.into_iter().next() {
            Some(user) => user_of(user).map(Box::new),
            None => Err(ClientError::Unexpected(
                "users.getUsers gave no user".into(),
            )),
        }
    }

    /// Whether the session is signed in (asks the server).
    pub async fn is_authorized(&self) -> Result<bool, ClientError> {
        match self.get_me().await {
            Ok(_) => Ok(true),
            Err(ClientError::Rpc(e)) if e.code == 401 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Signs in as a bot with its token (`auth.importBotAuthorization`; a bot homed on
    /// another DC is followed there).
    pub async fn bot_sign_in(&self, token: &str) -> Result<Box<types::User>, ClientError> {
        let config = &self.inner.config;
        let request = functions::auth::ImportBotAuthorization::new(
            0,
            config.api_id,
            config.api_hash.clone(),
            token.into(),
        );
        match self.invoke(&request).await? {
            enums::auth::Authorization::Authorization(a) => self.signed_in(user_of(a.user)?).await,
            other => Err(ClientError::Unexpected(format!(
                "importBotAuthorization answered {other:?}"
            ))),
        }
    }

    /// Logs every other session of the user out (`auth.resetAuthorizations`).
    pub async fn reset_authorizations(&self) -> Result<(), ClientError> {
        self.invoke(&functions::auth::ResetAuthorizations {})
            .await
            .map(|_| ())
    }

    /// Exports the login for DC `dc_id` (`auth.exportAuthorization`): the user id and the
    /// one-time bytes to import there.
    pub async fn export_authorization(&self, dc_id: i32) -> Result<(i64, Vec<u8>), ClientError> {
        let enums::auth::ExportedAuthorization::ExportedAuthorization(exported) = self
            .invoke(&functions::auth::ExportAuthorization::new(dc_id))
            .await?;
        Ok((exported.id, exported.bytes))
    }

    /// Imports a login exported by another client of the user (`auth.importAuthorization`)
    /// on this client's home DC.
    pub async fn import_authorization(
        &self,
        user_id: i64,
        bytes: Vec<u8>,
    ) -> Result<Box<types::User>, ClientError> {
        match self
            .invoke(&functions::auth::ImportAuthorization::new(user_id, bytes))
            .await?
        {
            enums::auth::Authorization::Authorization(a) => self.signed_in(user_of(a.user)?).await,
            other => Err(ClientError::Unexpected(format!(
                "importAuthorization answered {other:?}"
            ))),
        }
    }

    /// The legacy library's twelve calls at layer 23 (configure [`ClientConfig::layer`] as
    /// 23 so the connection declares it).
    pub fn layer23(&self) -> Layer23<'_> {
        Layer23 { client: self }
    }

    /// Logs out (`auth.logOut`) and forgets the signed-in user.
    pub async fn log_out(&self) -> Result<(), ClientError> {
        self.invoke(&functions::auth::LogOut {}).await?;
        let mut state = self.inner.state.lock().await;
        state.session.user_id = None;
        self.inner.config.store.save(&state.session)?;
        Ok(())
    }
}

fn user_of(user: enums::User) -> Result<types::User, ClientError> {
    match user {
        enums::User::User(user) => Ok(user),
        other => Err(ClientError::Unexpected(format!(
            "expected a user, got {other:?}"
        ))),
    }
}

fn code_token(phone: &str, sent: enums::auth::SentCode) -> Result<CodeToken, ClientError> {
    match sent {
        enums::auth::SentCode::SentCode(sent) => Ok(CodeToken {
            phone: phone.into(),
            phone_code_hash: sent.phone_code_hash,
            code_type: code_type_name(&sent.r#type).into(),
        }),
        other => Err(ClientError::Unexpected(format!(
            "sendCode answered {other:?}"
        ))),
    }
}

fn code_type_name(kind: &enums::auth::SentCodeType) -> &'static str {
    match kind {
        enums::auth::SentCodeType::App(_) => "app",
        enums::auth::SentCodeType::Sms(_) => "sms",
        enums::auth::SentCodeType::Call(_) => "call",
        enums::auth::SentCodeType::FlashCall(_) => "flash_call",
        enums::auth::SentCodeType::MissedCall(_) => "missed_call",
        enums::auth::SentCodeType::EmailCode(_) => "email",
        _ => "other",
    }
}
