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
//! let token = client.send_code("+999 66 2 1234").await?.into_code()?;
//! match client.sign_in(&token, "12345").await? {
//!     SignIn::SignedIn(user) => println!("signed in: user_id={}", user.id),
//!     SignIn::SignUpRequired { .. } => { client.sign_up(&token, "First", "Last").await?; }
//!     SignIn::PasswordRequired(password) => { client.check_password(&password, "secret").await?; }
//! }
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mtproto_crypto::srp::{compute_check, SrpParams};
use mtproto_crypto::{PrimeCache, RsaPublicKey};
use mtproto_net::{Backoff, ConnectConfig, Connection, MtProxySecret, Transport};
use tl_wire::RemoteCall;
use tokio::sync::Mutex;

use crate::{enums, functions, types};

mod code;
mod error;
mod file_store;
mod flow;
pub mod foreign;
mod layer23;
mod qr;
pub mod session;
#[cfg(feature = "sqlite")]
pub mod sqlite_store;

pub use code::{CodeKind, CodeToken, EmailCodeSent, NextCodeKind, PaymentRequired, SentCode};
pub use error::ClientError;
pub use file_store::FileStore;
pub use flow::{AuthFuture, Authenticator, MAX_ATTEMPTS as MAX_LOGIN_ATTEMPTS};
pub use layer23::Layer23;
pub use qr::{QrLogin, QrToken, LOGIN_URL_PREFIX};
pub use session::{FutureAuthToken, MemoryStore, SessionData, SessionStore, StoreError};
#[cfg(feature = "sqlite")]
pub use sqlite_store::{SqliteSession, SqliteStore};

/// Migrations and flood waits one call follows before giving up.
const MAX_ATTEMPTS: u32 = 5;
/// Updates kept for a slow [`Client::updates`] receiver before it lags.
const UPDATE_BUFFER: usize = 256;

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
    /// How long opening a connection may take (TCP, and the key exchanges when needed).
    pub connect_timeout: Duration,
    /// Reconnection after a lost connection (a failed security check included): a
    /// connection that keeps failing gives up after `max_attempts`, and the waiting requests
    /// fail with the error that names why.
    pub reconnect: Backoff,
    /// Where the session lives.
    pub store: Arc<dyn SessionStore>,
    /// Perfect forward secrecy: each connection runs over a temporary key living this
    /// long, bound to the permanent key (which never goes on the wire after its
    /// exchange) and replaced before it expires. `None` turns PFS off.
    pub pfs: Option<Duration>,
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
            .field("pfs", &self.pfs)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// A configuration with these defaults: abridged transport, layer [`crate::LAYER`],
    /// device strings naming this crate, a 60 s flood-sleep threshold, 30 s requests, 10 s
    /// to connect,
    /// reconnection giving up after 4 attempts (100 ms doubling), a [`MemoryStore`], and
    /// perfect forward secrecy with 24-hour temporary keys.
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
            connect_timeout: Duration::from_secs(10),
            reconnect: Backoff {
                initial: Duration::from_millis(100),
                max: Duration::from_secs(2),
                max_attempts: Some(4),
            },
            store: Arc::new(MemoryStore::new()),
            pfs: Some(DEFAULT_TEMP_KEY_LIFETIME),
        }
    }

    /// Turns perfect forward secrecy on (the default, with temporary keys living 24 h) or
    /// off.
    pub fn pfs(mut self, on: bool) -> Self {
        self.pfs = on.then_some(DEFAULT_TEMP_KEY_LIFETIME);
        self
    }
}

/// How long a temporary key lives by default (PFS).
pub const DEFAULT_TEMP_KEY_LIFETIME: Duration = Duration::from_secs(24 * 3600);

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

/// A pending 2FA check: what `check_password` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordToken {
    /// The password hint, if the account has one.
    pub hint: Option<String>,
    /// Whether a recovery e-mail is set, so a forgotten password can be recovered
    /// ([`Client::request_password_recovery`]).
    pub has_recovery: bool,
}

/// A server message that answers no request (an update), as its TL bytes, with the DC it
/// came from.
#[derive(Clone, Debug)]
pub struct RawUpdate {
    /// The DC whose connection carried it.
    pub dc: i32,
    /// The TL body (`updates`, `updateShort`, ...).
    pub body: Vec<u8>,
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
    updates: tokio::sync::broadcast::Sender<RawUpdate>,
}

struct State {
    session: SessionData,
    conns: HashMap<i32, Arc<DcConnection>>,
}

struct DcConnection {
    conn: Connection,
}

/// A request body already serialized (what the prologue wraps).
struct Raw<'a>(&'a [u8]);

impl tl_wire::Serialize for Raw<'_> {
    fn serialize(&self, buf: &mut impl tl_wire::bytes::BufMut) {
        buf.put_slice(self.0);
    }
}

/// The wrapping of each key's first request: `invokeWithLayer(layer, initConnection(...))`
/// with the configured app strings (layer 23's own `initConnection` for layers up to 23).
fn prologue(config: &ClientConfig) -> mtproto_net::Prologue {
    let config = config.clone();
    mtproto_net::Prologue::new(move |body| {
        use tl_wire::Serialize;
        if config.layer <= crate::legacy::layer23::LAYER {
            let init = crate::legacy::layer23::functions::InitConnection::new(
                config.api_id,
                config.device_model.clone(),
                config.system_version.clone(),
                config.app_version.clone(),
                config.lang_code.clone(),
                Raw(body),
            );
            functions::InvokeWithLayer::new(config.layer, init).to_bytes()
        } else {
            let init = functions::InitConnection::new(
                config.api_id,
                config.device_model.clone(),
                config.system_version.clone(),
                config.app_version.clone(),
                config.system_lang_code.clone(),
                config.lang_pack.clone(),
                config.lang_code.clone(),
                Raw(body),
            );
            functions::InvokeWithLayer::new(config.layer, init).to_bytes()
        }
    })
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
                updates: tokio::sync::broadcast::channel(UPDATE_BUFFER).0,
            }),
        })
    }

    /// The updates every connection of this client receives from now on (a receiver that
    /// falls more than 256 behind skips the oldest).
    pub fn updates(&self) -> tokio::sync::broadcast::Receiver<RawUpdate> {
        self.inner.updates.subscribe()
    }

    /// The connection to `dc`'s counters and state (key exchanges, resends, the key on the
    /// wire: with PFS, the bound temporary key), if the client has one open.
    pub async fn connection_status(&self, dc: i32) -> Option<mtproto_net::Status> {
        let state = self.inner.state.lock().await;
        state.conns.get(&dc).map(|c| c.conn.status())
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
        net.connect_timeout = config.connect_timeout;
        net.reconnect = config.reconnect.clone();
        net.pfs = config.pfs.map(mtproto_net::PfsConfig::new);
        net.prologue = Some(prologue(config));
        let (conn, mut events) = Connection::connect(net)
            .await
            .map_err(|source| ClientError::connect(dc, source))?;
        state.session.keys.insert(dc, conn.auth());
        config.store.save(&state.session)?;
        let conn = Arc::new(DcConnection { conn });
        state.conns.insert(dc, conn.clone());
        // Updates go to `Client::updates`; a permanent key the server lost is replaced
        // (the login it carried is gone: the waiting requests get their 401 over the new key
        // instead of timing out); other events are logged (answers reach their `invoke`
        // without them). The task holds the connection weakly: dropping the client closes
        // it.
        let updates = self.inner.updates.clone();
        let handle = Arc::downgrade(&conn);
        let inner = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    mtproto_net::NetEvent::Update { body } => {
                        tracing::debug!(dc, len = body.len(), "client: update");
                        // No receiver is fine: nobody is waiting for updates.
                        let _ = updates.send(RawUpdate { dc, body });
                    }
                    mtproto_net::NetEvent::AuthKeyUnknown => {
                        let Some(handle) = handle.upgrade() else {
                            break;
                        };
                        tracing::warn!(dc, "client: the DC lost our key; making a new one");
                        handle.conn.create_new_key();
                    }
                    mtproto_net::NetEvent::NewAuthKey => {
                        let (Some(inner), Some(handle)) = (inner.upgrade(), handle.upgrade())
                        else {
                            break;
                        };
                        let mut state = inner.state.lock().await;
                        state.session.keys.insert(dc, handle.conn.auth());
                        if state.session.home_dc == Some(dc) {
                            state.session.user_id = None;
                        }
                        if let Err(error) = inner.config.store.save(&state.session) {
                            tracing::warn!(dc, %error, "client: cannot save the new key");
                        }
                    }
                    event => tracing::debug!(dc, ?event, "client: connection event"),
                }
            }
        });
        Ok(conn)
    }

    /// Sends `request` on DC `dc`'s connection (the connection's prologue declares the
    /// layer and app on each new key); no migration or flood handling.
    async fn invoke_on<R>(&self, dc: i32, request: &R) -> Result<R::Return, ClientError>
    where
        R: RemoteCall + Clone,
    {
        let conn = self.connection(dc).await?;
        conn.conn
            .invoke(request)
            .await
            .map_err(|e| ClientError::invoke(dc, e))
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

    /// Records a login from its `auth.authorization` (user, home DC, future auth token).
    async fn authorized(
        &self,
        authorization: types::auth::Authorization,
    ) -> Result<Box<types::User>, ClientError> {
        if let Some(token) = authorization.future_auth_token {
            self.inner
                .state
                .lock()
                .await
                .session
                .remember_future_auth_token(FutureAuthToken::new(token.into_inner()));
        }
        self.signed_in(user_of(authorization.user)?).await
    }

    /// What an `auth.Authorization` answer means: signed in, or sign-up required.
    async fn sign_in_outcome(
        &self,
        answer: enums::auth::Authorization,
    ) -> Result<SignIn, ClientError> {
        match answer {
            enums::auth::Authorization::Authorization(a) => {
                Ok(SignIn::SignedIn(self.authorized(a).await?))
            }
            enums::auth::Authorization::SignUpRequired(s) => Ok(SignIn::SignUpRequired {
                terms: s.terms_of_service.map(|t| match t {
                    enums::help::TermsOfService::TermsOfService(t) => t.text,
                }),
            }),
        }
    }

    /// The user an `auth.Authorization` signs in (anything else is unexpected after `call`).
    async fn expect_authorized(
        &self,
        call: &str,
        answer: enums::auth::Authorization,
    ) -> Result<Box<types::User>, ClientError> {
        match answer {
            enums::auth::Authorization::Authorization(a) => self.authorized(a).await,
            other => Err(ClientError::Unexpected(format!(
                "{call} answered {other:?}"
            ))),
        }
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

    /// Asks for a login code (`auth.sendCode`), offering the session's future auth tokens
    /// (`codeSettings.logout_tokens`): the answer is a code, a login at once
    /// (`auth.sentCodeSuccess`), or a payment required.
    pub async fn send_code(&self, phone: &str) -> Result<SentCode, ClientError> {
        let config = &self.inner.config;
        let tokens: Vec<Vec<u8>> = self
            .session()
            .await
            .future_auth_tokens
            .iter()
            .map(|t| t.as_bytes().to_vec())
            .collect();
        let settings = types::CodeSettings {
            logout_tokens: (!tokens.is_empty()).then_some(tokens.into()),
            ..Default::default()
        };
        let request = functions::auth::SendCode::new(
            phone.into(),
            config.api_id,
            config.api_hash.clone(),
            settings.into(),
        );
        let answer = self.invoke(&request).await?;
        self.sent_code(phone, answer).await
    }

    /// Asks for the code again (`auth.resendCode`); it comes the way
    /// [`CodeToken::next`] said.
    pub async fn resend_code(&self, token: &CodeToken) -> Result<SentCode, ClientError> {
        let request =
            functions::auth::ResendCode::new(token.phone.clone(), token.phone_code_hash.clone());
        let answer = self.invoke(&request).await?;
        self.sent_code(&token.phone, answer).await
    }

    /// Sends a verification code to `email`, the login e-mail an account must set up
    /// ([`CodeKind::SetUpEmailRequired`]; `account.sendVerifyEmailCode` with
    /// `emailVerifyPurposeLoginSetup`).
    pub async fn send_login_email_code(
        &self,
        token: &CodeToken,
        email: &str,
    ) -> Result<EmailCodeSent, ClientError> {
        let request =
            functions::account::SendVerifyEmailCode::new(login_setup(token), email.into());
        let enums::account::SentEmailCode::SentEmailCode(sent) = self.invoke(&request).await?;
        Ok(EmailCodeSent {
            pattern: sent.email_pattern,
            length: sent.length,
        })
    }

    /// Verifies the login e-mail with the code sent to it (`account.verifyEmail`): the
    /// answer is the login code the server then sends (to that e-mail, typically).
    pub async fn verify_login_email(
        &self,
        token: &CodeToken,
        email_code: &str,
    ) -> Result<SentCode, ClientError> {
        let request = functions::account::VerifyEmail::new(
            login_setup(token),
            types::EmailVerificationCode {
                code: email_code.into(),
            }
            .into(),
        );
        match self.invoke(&request).await? {
            enums::account::EmailVerified::Login(login) => {
                self.sent_code(&token.phone, login.sent_code).await
            }
            other => Err(ClientError::Unexpected(format!(
                "verifyEmail for a login answered {other:?}"
            ))),
        }
    }

    /// Types an `auth.SentCode` answer (a login at once is recorded).
    async fn sent_code(
        &self,
        phone: &str,
        sent: enums::auth::SentCode,
    ) -> Result<SentCode, ClientError> {
        Ok(match sent {
            enums::auth::SentCode::SentCode(sent) => SentCode::Code(CodeToken {
                phone: phone.into(),
                phone_code_hash: sent.phone_code_hash,
                kind: sent.r#type.into(),
                next: sent.next_type.map(Into::into),
                timeout: sent
                    .timeout
                    .map(|s| Duration::from_secs(u64::try_from(s).unwrap_or(0))),
            }),
            enums::auth::SentCode::Success(success) => {
                let user = self
                    .expect_authorized("sendCode (success)", success.authorization)
                    .await?;
                SentCode::SignedIn(user)
            }
            enums::auth::SentCode::PaymentRequired(p) => {
                SentCode::PaymentRequired(PaymentRequired {
                    phone: phone.into(),
                    phone_code_hash: p.phone_code_hash,
                    store_product: p.store_product,
                    support_email_address: p.support_email_address,
                    support_email_subject: p.support_email_subject,
                    premium_days: p.premium_days,
                    currency: p.currency,
                    amount: p.amount,
                })
            }
        })
    }

    /// Cancels the code (`auth.cancelCode`).
    pub async fn cancel_code(&self, token: &CodeToken) -> Result<(), ClientError> {
        let request =
            functions::auth::CancelCode::new(token.phone.clone(), token.phone_code_hash.clone());
        self.invoke(&request).await.map(|_| ())
    }

    /// Signs in with the code (`auth.signIn`; an e-mailed code goes as an
    /// `emailVerificationCode`).
    pub async fn sign_in(&self, token: &CodeToken, code: &str) -> Result<SignIn, ClientError> {
        let request =
            functions::auth::SignIn::new(token.phone.clone(), token.phone_code_hash.clone());
        let request = if token.kind.is_email() {
            request.email_verification(types::EmailVerificationCode { code: code.into() }.into())
        } else {
            request.phone_code(code)
        };
        match self.invoke(&request).await {
            Ok(answer) => self.sign_in_outcome(answer).await,
            Err(e) if e.rpc_name() == Some("SESSION_PASSWORD_NEEDED") => {
                Ok(SignIn::PasswordRequired(self.password_token().await?))
            }
            Err(e) => Err(e),
        }
    }

    /// What the pending 2FA check needs to show (`account.getPassword`).
    async fn password_token(&self) -> Result<PasswordToken, ClientError> {
        let enums::account::Password::Password(info) =
            self.invoke(&functions::account::GetPassword {}).await?;
        Ok(PasswordToken {
            hint: info.hint,
            has_recovery: info.has_recovery,
        })
    }

    /// Sends a recovery code to the account's recovery e-mail for a forgotten 2FA
    /// password (`auth.requestPasswordRecovery`); returns the address, partly hidden.
    pub async fn request_password_recovery(&self) -> Result<String, ClientError> {
        let enums::auth::PasswordRecovery::PasswordRecovery(recovery) = self
            .invoke(&functions::auth::RequestPasswordRecovery {})
            .await?;
        Ok(recovery.email_pattern)
    }

    /// Whether `code` is the recovery code (`auth.checkRecoveryPassword`): a wrong one is
    /// `Ok(false)`.
    pub async fn check_recovery_code(&self, code: &str) -> Result<bool, ClientError> {
        match self
            .invoke(&functions::auth::CheckRecoveryPassword::new(code))
            .await
        {
            Ok(ok) => Ok(ok),
            Err(e) if e.rpc_name() == Some("PASSWORD_RECOVERY_EXPIRED") => Err(e),
            Err(e) if e.rpc_name() == Some("CODE_INVALID") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Signs in with the recovery code (`auth.recoverPassword`): the password is removed,
    /// or replaced by `new_password` (its SRP verifier computed here, with the server's
    /// `new_algo` and fresh salt).
    pub async fn recover_password(
        &self,
        code: &str,
        new_password: Option<&str>,
    ) -> Result<Box<types::User>, ClientError> {
        let mut request = functions::auth::RecoverPassword::new(code);
        if let Some(password) = new_password {
            request = request.new_settings(self.new_password_settings(password).await?.into());
        }
        let answer = self.invoke(&request).await?;
        self.expect_authorized("recoverPassword", answer).await
    }

    /// `account.passwordInputSettings` for a new password: the server's `new_algo` with 32
    /// random bytes appended to `salt1`, and the SRP verifier.
    async fn new_password_settings(
        &self,
        password: &str,
    ) -> Result<types::account::PasswordInputSettings, ClientError> {
        let enums::account::Password::Password(info) =
            self.invoke(&functions::account::GetPassword {}).await?;
        let enums::PasswordKdfAlgo::Sha256sha256pbkdf2hmacsha512iter100000Sha256ModPow(mut algo) =
            info.new_algo
        else {
            return Err(ClientError::Unexpected(
                "account.password offers no known algorithm for a new password".into(),
            ));
        };
        let mut extra = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut extra);
        algo.salt1.extend_from_slice(&extra);
        let params = SrpParams::new(
            &algo.salt1,
            &algo.salt2,
            algo.g,
            &algo.p,
            &mut PrimeCache::new(),
        )?;
        let verifier = mtproto_crypto::srp::compute_verifier(&params, password.as_bytes());
        Ok(types::account::PasswordInputSettings {
            new_algo: Some(algo.into()),
            new_password_hash: Some(verifier.to_vec().into()),
            hint: Some(String::new()),
            email: None,
            new_secure_settings: None,
        })
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
        let answer = self.invoke(&request).await?;
        self.expect_authorized("signUp", answer).await
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
            a: answer.a.to_vec().into(),
            m1: answer.m1.to_vec().into(),
        };
        let answer = self
            .invoke(&functions::auth::CheckPassword::new(check.into()))
            .await?;
        self.expect_authorized("checkPassword", answer).await
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
            token,
        );
        let answer = self.invoke(&request).await?;
        self.expect_authorized("importBotAuthorization", answer)
            .await
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
        Ok((exported.id, exported.bytes.into_inner()))
    }

    /// Imports a login exported by another client of the user (`auth.importAuthorization`)
    /// on this client's home DC.
    pub async fn import_authorization(
        &self,
        user_id: i64,
        bytes: Vec<u8>,
    ) -> Result<Box<types::User>, ClientError> {
        let answer = self
            .invoke(&functions::auth::ImportAuthorization::new(user_id, bytes))
            .await?;
        self.expect_authorized("importAuthorization", answer).await
    }

    /// The legacy library's twelve calls at layer 23 (configure [`ClientConfig::layer`] as
    /// 23 so the connection declares it).
    pub fn layer23(&self) -> Layer23<'_> {
        Layer23 { client: self }
    }

    /// Logs out (`auth.logOut`) and forgets the signed-in user, keeping the future auth
    /// token the server may give (the next `send_code` offers it).
    pub async fn log_out(&self) -> Result<(), ClientError> {
        let enums::auth::LoggedOut::LoggedOut(out) =
            self.invoke(&functions::auth::LogOut {}).await?;
        let mut state = self.inner.state.lock().await;
        if let Some(token) = out.future_auth_token {
            state
                .session
                .remember_future_auth_token(FutureAuthToken::new(token.into_inner()));
        }
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

fn login_setup(token: &CodeToken) -> enums::EmailVerifyPurpose {
    types::EmailVerifyPurposeLoginSetup {
        phone_number: token.phone.clone(),
        phone_code_hash: token.phone_code_hash.clone(),
    }
    .into()
}
