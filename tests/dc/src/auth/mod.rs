//! The login backend of the test DC: a fake Telegram with real state, shared by every DC of
//! a [`crate::TestDc`].
//!
//! Accounts (phone, names, home DC, optional 2FA password kept as an SRP verifier), login
//! codes (fixed or random, readable with [`AuthBackend::last_code`], logged), a
//! `phone_code_hash` bound to its number and expiring, per-key authorization (a bound
//! temporary key acts for its permanent key), migration errors, authorization
//! export/import, QR login tokens, flood waits after wrong codes. Layer-230 clients (and
//! older modern layers, re-encoded by the server) are served by `modern.rs`; layer-23
//! clients by `legacy.rs`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mtproto_proto::session::RpcError;

use crate::backend::{Backend, Call, CallContext, DcLink, Reply, ReplyFuture};

mod legacy;
mod modern;
mod objects;
mod store;

pub use store::normalize_phone;
use store::Store;

/// How the backend behaves.
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Every login code is this one; `None` draws a random 5-digit code per request.
    pub code: Option<String>,
    /// Every e-mailed code (login, e-mail verification, password recovery) is this one;
    /// `None` draws a random 6-digit code each time.
    pub email_code: Option<String>,
    /// How long a `phone_code_hash` (and its code) lives.
    pub code_ttl: Duration,
    /// Wrong codes for one number before FLOOD_WAIT.
    pub max_wrong_codes: u32,
    /// How long that flood wait lasts (also the window wrong codes are counted in).
    pub flood_wait: Duration,
    /// How long a QR login token lives.
    pub login_token_ttl: Duration,
    /// Also print each login code to stderr (for a person logging in by hand).
    pub print_codes: bool,
    /// Honour future auth tokens offered in `codeSettings.logout_tokens` (the login then
    /// succeeds at once with `auth.sentCodeSuccess`).
    pub honour_future_auth_tokens: bool,
    /// How long an issued future auth token stays good.
    pub future_token_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            code: None,
            email_code: None,
            code_ttl: Duration::from_secs(300),
            max_wrong_codes: 5,
            flood_wait: Duration::from_secs(60),
            login_token_ttl: Duration::from_secs(30),
            print_codes: false,
            honour_future_auth_tokens: true,
            future_token_ttl: Duration::from_secs(24 * 3600),
        }
    }
}

/// How an account's login code is sent by phone (the first `auth.sentCode` type); a resend
/// follows `next_type`: app → SMS → call, any other way → SMS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeDelivery {
    /// `auth.sentCodeTypeApp`.
    #[default]
    App,
    /// `auth.sentCodeTypeSms`.
    Sms,
    /// `auth.sentCodeTypeCall`.
    Call,
    /// `auth.sentCodeTypeFlashCall`: the code is the whole calling number (`99966` and the
    /// digits), its pattern `+99966*`.
    FlashCall,
    /// `auth.sentCodeTypeMissedCall`: prefix `+99966`, the code the last digits.
    MissedCall,
    /// `auth.sentCodeTypeFragmentSms`, read at a `fragment.com` URL.
    FragmentSms,
    /// `auth.sentCodeTypeFirebaseSms`.
    FirebaseSms,
    /// `auth.sentCodeTypeSmsWord`: the code is one word.
    SmsWord,
    /// `auth.sentCodeTypeSmsPhrase`: the code is three words.
    SmsPhrase,
}

/// An account to register before clients come.
#[derive(Clone)]
pub struct Account {
    /// The phone number (normalized: `+`, spaces and dashes dropped).
    pub phone: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Username, if any.
    pub username: Option<String>,
    /// The 2FA password, if any (kept only as an SRP verifier).
    pub password: Option<String>,
    /// The password hint.
    pub hint: Option<String>,
    /// The home DC; `None`: the one a test number names (`99966 X YYYY` → DC X), else
    /// DC 2... or the first DC when there is no DC 2.
    pub home_dc: Option<i32>,
    /// How its login code is sent by phone.
    pub delivery: CodeDelivery,
    /// Its login e-mail: login codes go there (`auth.sentCodeTypeEmailCode`).
    pub login_email: Option<String>,
    /// It must set up a login e-mail before any code (`auth.sentCodeTypeSetUpEmailRequired`).
    pub email_setup_required: bool,
    /// Its login code costs a payment (`auth.sentCodePaymentRequired`).
    pub payment_required: bool,
    /// The 2FA recovery e-mail (`auth.requestPasswordRecovery` sends the code there).
    pub recovery_email: Option<String>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("phone", &self.phone)
            .field("first_name", &self.first_name)
            .field("has_password", &self.password.is_some())
            .field("home_dc", &self.home_dc)
            .finish_non_exhaustive()
    }
}

impl Account {
    /// An account for `phone`, named "Test User", no password.
    pub fn new(phone: impl Into<String>) -> Self {
        Self {
            phone: phone.into(),
            first_name: "Test".into(),
            last_name: "User".into(),
            username: None,
            password: None,
            hint: None,
            home_dc: None,
            delivery: CodeDelivery::App,
            login_email: None,
            email_setup_required: false,
            payment_required: false,
            recovery_email: None,
        }
    }

    /// Sends its codes this way.
    pub fn delivery(mut self, delivery: CodeDelivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// Sets its login e-mail (codes go there).
    pub fn login_email(mut self, email: impl Into<String>) -> Self {
        self.login_email = Some(email.into());
        self
    }

    /// Requires a login e-mail to be set up before a code is sent.
    pub fn email_setup_required(mut self) -> Self {
        self.email_setup_required = true;
        self
    }

    /// Makes its login code cost a payment.
    pub fn payment_required(mut self) -> Self {
        self.payment_required = true;
        self
    }

    /// Sets the 2FA recovery e-mail.
    pub fn recovery_email(mut self, email: impl Into<String>) -> Self {
        self.recovery_email = Some(email.into());
        self
    }

    /// Sets the names.
    pub fn name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = first.into();
        self.last_name = last.into();
        self
    }

    /// Sets the username.
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets a 2FA password.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// Sets the password hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the home DC.
    pub fn home_dc(mut self, dc: i32) -> Self {
        self.home_dc = Some(dc);
        self
    }

    /// Parses the CLI form `PHONE[:PASSWORD][@DC]`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (rest, dc) = match spec.rsplit_once('@') {
            Some((rest, dc)) => {
                let dc = dc
                    .parse::<i32>()
                    .map_err(|_| format!("{spec:?}: the DC after '@' is not a number"))?;
                (rest, Some(dc))
            }
            None => (spec, None),
        };
        let (phone, password) = match rest.split_once(':') {
            Some((phone, password)) if !password.is_empty() => (phone, Some(password)),
            Some(_) => return Err(format!("{spec:?}: empty password after ':'")),
            None => (rest, None),
        };
        if normalize_phone(phone).is_empty() {
            return Err(format!("{spec:?}: the phone number has no digits"));
        }
        let mut account = Account::new(phone);
        account.password = password.map(str::to_string);
        account.home_dc = dc;
        Ok(account)
    }
}

/// A DC the backend serves.
#[derive(Clone, Debug)]
struct DcEntry {
    addr: SocketAddr,
    link: Option<DcLink>,
}

/// The fake Telegram (see the [module docs](self)); cheap to clone, one per [`crate::TestDc`].
#[derive(Clone)]
pub struct AuthBackend {
    inner: Arc<Inner>,
}

struct Inner {
    store: Mutex<Store>,
    dcs: Mutex<BTreeMap<i32, DcEntry>>,
    /// When the backend started (dates in `config`, `updates.state`).
    started: i32,
}

impl std::fmt::Debug for AuthBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthBackend").finish_non_exhaustive()
    }
}

impl AuthBackend {
    /// A backend with no accounts and no DCs.
    pub fn new(config: AuthConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store: Mutex::new(Store::new(config)),
                dcs: Mutex::new(BTreeMap::new()),
                started: now_secs() as i32,
            }),
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn dcs(&self) -> MutexGuard<'_, BTreeMap<i32, DcEntry>> {
        self.inner.dcs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Announces a DC (in `help.getConfig`); `link` lets the backend push updates to it.
    pub fn add_dc(&self, dc: i32, addr: SocketAddr, link: Option<DcLink>) {
        let mut dcs = self.dcs();
        dcs.insert(dc, DcEntry { addr, link });
        let ids = dcs.keys().copied().collect();
        self.store().set_dc_ids(ids);
    }

    /// Registers an account (DC 2, or the first DC, is the default home); returns its user
    /// id, or why it cannot be registered.
    pub fn add_account(&self, account: &Account) -> Result<i64, String> {
        let default_dc = {
            let dcs = self.dcs();
            if dcs.contains_key(&2) || dcs.is_empty() {
                2
            } else {
                dcs.keys().next().copied().unwrap_or(2)
            }
        };
        self.store().add_account(account, default_dc)
    }

    /// Registers a bot from its token `ID:SECRET` (user id ID) homed on `home_dc`; returns
    /// its user id.
    pub fn add_bot(&self, token: &str, name: &str, home_dc: i32) -> Result<i64, String> {
        self.store().add_bot(token, name, home_dc)
    }

    /// The last login code sent to `phone` (any form: it is normalized).
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.store().last_code(&normalize_phone(phone))
    }

    /// The last code e-mailed to `email` (a login code, a login e-mail's verification code,
    /// or a password recovery code).
    pub fn last_email_code(&self, email: &str) -> Option<String> {
        self.store().last_email_code(email)
    }

    /// The user id of the account with this phone.
    pub fn user_id(&self, phone: &str) -> Option<i64> {
        self.store()
            .account_by_phone(&normalize_phone(phone))
            .map(|a| a.user_id)
    }

    /// The user a key of `dc` is logged in as (a bound temporary key answers for its
    /// permanent key).
    pub fn authorized_user(&self, dc: i32, key_id: i64) -> Option<i64> {
        self.store()
            .user_of(dc, key_id, now_secs())
            .ok()
            .map(|a| a.user_id)
    }

    fn dc_addrs(&self) -> Vec<(i32, SocketAddr)> {
        self.dcs().iter().map(|(id, e)| (*id, e.addr)).collect()
    }

    fn push_update(&self, dc: i32, key_id: i64, body: Vec<u8>) -> bool {
        let link = self.dcs().get(&dc).and_then(|e| e.link.clone());
        link.is_some_and(|link| link.push_update(key_id, body))
    }

    /// Answers one call (synchronously: everything is in memory).
    fn answer(&self, call: &Call) -> Result<Vec<u8>, RpcError> {
        if call.ctx.is_legacy() {
            legacy::answer(self, &call.ctx, &call.query)
        } else {
            modern::answer(self, &call.ctx, &call.query)
        }
    }
}

impl Backend for AuthBackend {
    fn call(&self, call: Call) -> ReplyFuture {
        let reply = match self.answer(&call) {
            Ok(bytes) => Reply::Ok(bytes),
            Err(error) => Reply::Error(error),
        };
        tracing::debug!(
            dc = call.ctx.dc,
            key_id = format_args!("{:#x}", call.ctx.key_id),
            id = format_args!(
                "{:#010x}",
                call.query
                    .get(..4)
                    .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            ),
            ok = matches!(reply, Reply::Ok(_)),
            "test dc: call"
        );
        Box::pin(std::future::ready(reply))
    }
}

/// Unix time in seconds.
fn now_secs() -> i64 {
    crate::unix_now().as_secs() as i64
}

/// The shared pieces a frontend needs for one call.
struct Ctx<'a> {
    backend: &'a AuthBackend,
    call: &'a CallContext,
    now: i64,
}

impl<'a> Ctx<'a> {
    fn new(backend: &'a AuthBackend, call: &'a CallContext) -> Self {
        Self {
            backend,
            call,
            now: now_secs(),
        }
    }

    fn store(&self) -> MutexGuard<'a, Store> {
        self.backend.store()
    }
}
