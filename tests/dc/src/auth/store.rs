//! The state of the fake Telegram, shared by every DC: accounts, login codes, which key is
//! authorized as whom, bound temporary keys, exported authorizations and QR login tokens.
//!
//! Everything here is synchronous and runs under one short lock (no await inside); the
//! frontends ([`super::modern`], [`super::legacy`]) turn TL into these operations and the
//! outcomes back into TL.

use std::collections::HashMap;

use mtproto_crypto::srp::{compute_verifier, SrpParams, SrpServer};
use mtproto_crypto::{DhParams, PrimeCache};
use mtproto_proto::session::RpcError;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use zeroize::Zeroizing;

use super::{Account, AuthConfig, CodeDelivery};

/// An RPC error.
pub(crate) fn rpc(code: i32, message: impl Into<String>) -> RpcError {
    RpcError::new(code, message.into())
}

/// 401 for calls that need an authorized key.
pub(crate) fn unauthorized() -> RpcError {
    rpc(401, "AUTH_KEY_UNREGISTERED")
}

/// A phone number as Telegram keeps it: digits only (a leading `+`, spaces, dashes and
/// parentheses are presentation).
pub fn normalize_phone(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// A registered account.
#[derive(Clone)]
pub(crate) struct AccountRecord {
    pub user_id: i64,
    pub access_hash: i64,
    pub phone: String,
    pub first_name: String,
    pub last_name: String,
    pub username: Option<String>,
    pub home_dc: i32,
    pub password: Option<Box<PasswordRecord>>,
    /// For a bot: the secret half of its token (`ID:SECRET`).
    pub bot_secret: Option<Zeroizing<String>>,
    /// How its first login code is sent (when it has no login e-mail).
    pub delivery: CodeDelivery,
    /// The login e-mail: codes go there.
    pub login_email: Option<String>,
    /// It must set up a login e-mail before a code is sent.
    pub email_setup_required: bool,
    /// Its login code costs a payment.
    pub payment_required: bool,
    /// Where a forgotten 2FA password's recovery code goes.
    pub recovery_email: Option<String>,
}

/// A 2FA password as the server keeps it: the SRP verifier, never the password.
#[derive(Clone)]
pub(crate) struct PasswordRecord {
    pub params: SrpParams,
    pub verifier: Zeroizing<Vec<u8>>,
    pub hint: Option<String>,
}

/// A login code waiting for its `auth.signIn`.
struct PendingCode {
    phone: String,
    code: Zeroizing<String>,
    expires_at: i64,
    /// Set by a `signIn` with the right code for an unregistered number: `signUp` may
    /// then use the hash.
    verified: bool,
    /// How the code went out.
    sent: Sent,
    /// For [`Sent::SetUpEmail`]: the address being verified and the code sent to it.
    setup: Option<(String, Zeroizing<String>)>,
}

/// How a login code went out (what `auth.sentCode` says).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// By phone (app, SMS, call, ...).
    Phone(CodeDelivery),
    /// By e-mail to this address.
    Email(String),
    /// Not yet: a login e-mail must be set up first.
    SetUpEmail,
}

impl Sent {
    /// How a resend goes (`next_type`): app → SMS → call → none; other phone ways → SMS.
    pub fn next(&self) -> Option<CodeDelivery> {
        match self {
            Sent::Phone(CodeDelivery::App) => Some(CodeDelivery::Sms),
            Sent::Phone(CodeDelivery::Sms) => Some(CodeDelivery::Call),
            Sent::Phone(CodeDelivery::Call) => None,
            Sent::Phone(_) => Some(CodeDelivery::Sms),
            Sent::Email(_) | Sent::SetUpEmail => None,
        }
    }
}

/// What `auth.sendCode` led to.
pub(crate) enum SendOutcome {
    /// A code went out (or must be earned by setting up an e-mail).
    Code(SentInfo),
    /// A future auth token was honoured: the key is logged in.
    Authorized(AccountRecord),
    /// The code costs a payment; the hash names the attempt.
    PaymentRequired { hash: String },
}

/// A sent code as the frontends describe it.
pub(crate) struct SentInfo {
    pub hash: String,
    pub registered: bool,
    pub sent: Sent,
    /// The code itself (for the pattern of a flash call or the beginning of a word).
    pub code: Zeroizing<String>,
}

/// A password recovery in progress for a key waiting for its password.
struct Recovery {
    code: Zeroizing<String>,
    expires_at: i64,
}

/// What a key is, as far as login goes.
#[derive(Clone)]
enum KeyState {
    /// Logged in as this user.
    Authorized { user_id: i64 },
    /// The code was right, the account has a password: `checkPassword` next.
    PasswordPending {
        user_id: i64,
        check: Option<(i64, Box<SrpServer>)>,
    },
}

/// A QR login token.
struct LoginToken {
    dc: i32,
    key_id: i64,
    expires_at: i64,
    accepted_by: Option<i64>,
}

/// An authorization exported for another DC.
struct Exported {
    user_id: i64,
    dc: i32,
    expires_at: i64,
}

/// A fresh SRP check: its `srp_id` and `srp_B`.
pub(crate) type SrpCheck = (i64, [u8; 256]);

/// How a sign-in ended.
pub(crate) enum SignIn {
    /// Logged in.
    Authorized(AccountRecord),
    /// The number has no account: `signUp` next.
    SignUpRequired,
}

/// How an accepted (or not yet accepted) QR token looks to the key that exported it.
pub(crate) enum TokenOutcome {
    /// Not accepted yet: the same token, with its expiry.
    Waiting { token: Vec<u8>, expires_at: i64 },
    /// Accepted; the key is now logged in.
    Authorized(AccountRecord),
    /// Accepted by a user homed on another DC: import it there.
    MigrateTo { dc: i32, token: Vec<u8> },
}

/// The fake Telegram's state.
pub(crate) struct Store {
    config: AuthConfig,
    accounts: Vec<AccountRecord>,
    by_phone: HashMap<String, usize>,
    next_user_id: i64,
    codes: HashMap<String, PendingCode>,
    last_codes: HashMap<String, Zeroizing<String>>,
    wrong_codes: HashMap<String, (u32, i64)>,
    flood_until: HashMap<String, i64>,
    keys: HashMap<(i32, i64), KeyState>,
    binds: HashMap<(i32, i64), (i64, i64)>,
    exported: HashMap<Vec<u8>, Exported>,
    tokens: HashMap<Vec<u8>, LoginToken>,
    /// Future auth tokens issued: token → (user id, expiry).
    future_tokens: HashMap<Vec<u8>, (i64, i64)>,
    /// Password recoveries, per principal key.
    recoveries: HashMap<(i32, i64), Recovery>,
    /// The last code sent to each e-mail address.
    email_codes: HashMap<String, Zeroizing<String>>,
    primes: PrimeCache,
    rng: StdRng,
    /// The DCs that exist (a test number naming another DC belongs to the one asked).
    dc_ids: Vec<i32>,
}

impl Store {
    pub fn new(config: AuthConfig) -> Self {
        Self {
            config,
            accounts: Vec::new(),
            by_phone: HashMap::new(),
            next_user_id: 1_000_001,
            codes: HashMap::new(),
            last_codes: HashMap::new(),
            wrong_codes: HashMap::new(),
            flood_until: HashMap::new(),
            keys: HashMap::new(),
            binds: HashMap::new(),
            exported: HashMap::new(),
            tokens: HashMap::new(),
            future_tokens: HashMap::new(),
            recoveries: HashMap::new(),
            email_codes: HashMap::new(),
            primes: PrimeCache::new(),
            rng: StdRng::from_entropy(),
            dc_ids: Vec::new(),
        }
    }

    /// Sets the DCs that exist.
    pub fn set_dc_ids(&mut self, dc_ids: Vec<i32>) {
        self.dc_ids = dc_ids;
    }

    /// The DC a new number belongs to: the one its test-number form names if it exists,
    /// else `asked_dc`.
    fn home_of_new(&self, phone: &str, asked_dc: i32) -> i32 {
        let named = home_dc_of(phone, asked_dc);
        if self.dc_ids.contains(&named) {
            named
        } else {
            asked_dc
        }
    }

    // --- Accounts ------------------------------------------------------------------------

    /// Registers an account; its phone is normalized. Returns its user id.
    pub fn add_account(&mut self, account: &Account, default_dc: i32) -> Result<i64, String> {
        let phone = normalize_phone(&account.phone);
        if phone.is_empty() {
            return Err(format!("{:?} has no digits", account.phone));
        }
        if self.by_phone.contains_key(&phone) {
            return Err(format!("{phone} is registered twice"));
        }
        let password = match &account.password {
            Some(password) => Some(Box::new(
                self.password_record(password, account.hint.clone())?,
            )),
            None => None,
        };
        let user_id = self.next_user_id;
        self.next_user_id += 1;
        let record = AccountRecord {
            user_id,
            access_hash: self.rng.gen(),
            phone: phone.clone(),
            first_name: account.first_name.clone(),
            last_name: account.last_name.clone(),
            username: account.username.clone(),
            home_dc: account
                .home_dc
                .unwrap_or_else(|| self.home_of_new(&phone, default_dc)),
            password,
            bot_secret: None,
            delivery: account.delivery,
            login_email: account.login_email.clone(),
            email_setup_required: account.email_setup_required,
            payment_required: account.payment_required,
            recovery_email: account.recovery_email.clone(),
        };
        self.by_phone.insert(phone, self.accounts.len());
        self.accounts.push(record);
        Ok(user_id)
    }

    fn password_record(
        &mut self,
        password: &str,
        hint: Option<String>,
    ) -> Result<PasswordRecord, String> {
        let mut salt1 = vec![0u8; 40];
        let mut salt2 = vec![0u8; 16];
        self.rng.fill_bytes(&mut salt1);
        self.rng.fill_bytes(&mut salt2);
        let group = DhParams::telegram();
        let params = SrpParams::new(
            &salt1,
            &salt2,
            group.g() as i32,
            group.p_bytes(),
            &mut self.primes,
        )
        .map_err(|e| format!("SRP parameters: {e}"))?;
        let verifier = Zeroizing::new(compute_verifier(&params, password.as_bytes()).to_vec());
        Ok(PasswordRecord {
            params,
            verifier,
            hint,
        })
    }

    /// A password set by `auth.recoverPassword`: parameters from the client's
    /// `new_algo`, the verifier it computed (256 bytes).
    pub fn new_password_record(
        &mut self,
        salt1: &[u8],
        salt2: &[u8],
        g: i32,
        p: &[u8],
        verifier: Vec<u8>,
        hint: Option<String>,
    ) -> Result<PasswordRecord, RpcError> {
        if verifier.len() != 256 {
            return Err(rpc(400, "NEW_SETTINGS_INVALID"));
        }
        let params = SrpParams::new(salt1, salt2, g, p, &mut self.primes)
            .map_err(|_| rpc(400, "NEW_SETTINGS_INVALID"))?;
        Ok(PasswordRecord {
            params,
            verifier: Zeroizing::new(verifier),
            hint: hint.filter(|h| !h.is_empty()),
        })
    }

    /// Registers a bot from its token `ID:SECRET` (its user id is ID).
    pub fn add_bot(&mut self, token: &str, name: &str, home_dc: i32) -> Result<i64, String> {
        let (id, secret) = parse_bot_token(token)
            .ok_or_else(|| format!("{token:?} is not a bot token (ID:SECRET)"))?;
        if self.account(id).is_some() {
            return Err(format!("user id {id} is taken"));
        }
        self.accounts.push(AccountRecord {
            user_id: id,
            access_hash: self.rng.gen(),
            phone: String::new(),
            first_name: name.to_string(),
            last_name: String::new(),
            username: Some(format!("{}_bot", name.to_lowercase().replace(' ', "_"))),
            home_dc,
            password: None,
            bot_secret: Some(Zeroizing::new(secret.to_string())),
            delivery: CodeDelivery::App,
            login_email: None,
            email_setup_required: false,
            payment_required: false,
            recovery_email: None,
        });
        Ok(id)
    }

    /// `auth.importBotAuthorization`: logs the key in as the bot the token names.
    pub fn bot_sign_in(
        &mut self,
        dc: i32,
        key_id: i64,
        token: &str,
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        let invalid = || rpc(400, "ACCESS_TOKEN_INVALID");
        let (id, secret) = parse_bot_token(token).ok_or_else(invalid)?;
        let bot = self.account(id).ok_or_else(invalid)?;
        match &bot.bot_secret {
            Some(expected) if expected.as_bytes() == secret.as_bytes() => {}
            _ => return Err(invalid()),
        }
        if bot.home_dc != dc {
            return Err(rpc(303, format!("USER_MIGRATE_{}", bot.home_dc)));
        }
        Ok(self.authorize(dc, key_id, id, now))
    }

    pub fn account(&self, user_id: i64) -> Option<&AccountRecord> {
        self.accounts.iter().find(|a| a.user_id == user_id)
    }

    pub fn account_by_phone(&self, phone: &str) -> Option<&AccountRecord> {
        self.by_phone.get(phone).and_then(|i| self.accounts.get(*i))
    }

    /// The DC a number belongs to: its account's home, or for a new number the DC its
    /// test-number form names.
    pub fn home_of_phone(&self, phone: &str, asked_dc: i32) -> i32 {
        match self.account_by_phone(phone) {
            Some(account) => account.home_dc,
            None => self.home_of_new(phone, asked_dc),
        }
    }

    /// The last code sent to a (normalized) number.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        self.last_codes.get(phone).map(|c| c.to_string())
    }

    // --- Keys ----------------------------------------------------------------------------

    /// The key that speaks for `key_id` on `dc`: the permanent key a live temporary key is
    /// bound to, else the key itself.
    fn principal(&self, dc: i32, key_id: i64, now: i64) -> (i32, i64) {
        match self.binds.get(&(dc, key_id)) {
            Some((perm, expires_at)) if *expires_at > now => (dc, *perm),
            _ => (dc, key_id),
        }
    }

    /// The user a key is logged in as; 401 otherwise (SESSION_PASSWORD_NEEDED while a
    /// password is pending).
    pub fn user_of(&self, dc: i32, key_id: i64, now: i64) -> Result<&AccountRecord, RpcError> {
        match self.keys.get(&self.principal(dc, key_id, now)) {
            Some(KeyState::Authorized { user_id }) => {
                self.account(*user_id).ok_or_else(unauthorized)
            }
            Some(KeyState::PasswordPending { .. }) => Err(rpc(401, "SESSION_PASSWORD_NEEDED")),
            None => Err(unauthorized()),
        }
    }

    fn authorize(&mut self, dc: i32, key_id: i64, user_id: i64, now: i64) -> AccountRecord {
        let principal = self.principal(dc, key_id, now);
        self.keys
            .insert(principal, KeyState::Authorized { user_id });
        self.account(user_id)
            .cloned()
            .expect("authorized users exist")
    }

    /// Logs a key out; returns a future auth token for the user (none for a bot).
    pub fn log_out(&mut self, dc: i32, key_id: i64, now: i64) -> Result<Option<Vec<u8>>, RpcError> {
        let user = self.user_of(dc, key_id, now)?.clone();
        let principal = self.principal(dc, key_id, now);
        self.keys.remove(&principal);
        Ok(self.future_auth_token(&user, now))
    }

    /// A new future auth token for a user (not for bots), honoured by `send_code` once
    /// before `future_token_ttl` ends.
    pub fn future_auth_token(&mut self, user: &AccountRecord, now: i64) -> Option<Vec<u8>> {
        if user.bot_secret.is_some() {
            return None;
        }
        let ttl = self.config.future_token_ttl.as_secs() as i64;
        self.future_tokens
            .retain(|_, (_, expires_at)| *expires_at > now);
        let mut token = vec![0u8; 32];
        self.rng.fill_bytes(&mut token);
        self.future_tokens
            .insert(token.clone(), (user.user_id, now + ttl));
        Some(token)
    }

    /// Logs out every other key of the key's user, on every DC.
    pub fn reset_authorizations(
        &mut self,
        dc: i32,
        key_id: i64,
        now: i64,
    ) -> Result<usize, RpcError> {
        let user_id = self.user_of(dc, key_id, now)?.user_id;
        let me = self.principal(dc, key_id, now);
        let before = self.keys.len();
        self.keys.retain(|k, state| {
            *k == me || !matches!(state, KeyState::Authorized { user_id: u } if *u == user_id)
        });
        Ok(before - self.keys.len())
    }

    /// Binds a temporary key to a permanent one (the bind message already verified).
    pub fn bind(&mut self, dc: i32, temp_key_id: i64, perm_key_id: i64, expires_at: i64) {
        self.binds
            .insert((dc, temp_key_id), (perm_key_id, expires_at));
    }

    // --- Codes ---------------------------------------------------------------------------

    fn check_flood(&self, phone: &str, now: i64) -> Result<(), RpcError> {
        match self.flood_until.get(phone) {
            Some(until) if *until > now => Err(rpc(420, format!("FLOOD_WAIT_{}", until - now))),
            _ => Ok(()),
        }
    }

    /// Sends a code to a number homed on `dc` (PHONE_MIGRATE_X otherwise), the way its
    /// account asks for (a legacy client always gets a plain code). A live future auth
    /// token of the number's account in `logout_tokens` logs the key in at once instead.
    pub fn send_code(
        &mut self,
        dc: i32,
        key_id: i64,
        phone: &str,
        logout_tokens: &[Vec<u8>],
        legacy: bool,
        now: i64,
    ) -> Result<SendOutcome, RpcError> {
        if phone.is_empty() {
            return Err(rpc(400, "PHONE_NUMBER_INVALID"));
        }
        self.check_flood(phone, now)?;
        let home = self.home_of_phone(phone, dc);
        if home != dc {
            return Err(rpc(303, format!("PHONE_MIGRATE_{home}")));
        }
        let account = self.account_by_phone(phone).cloned();
        if let Some(account) = &account {
            if self.config.honour_future_auth_tokens && !legacy {
                let honoured = logout_tokens.iter().find(|token| {
                    matches!(self.future_tokens.get(*token),
                        Some((user, expires_at)) if *user == account.user_id && *expires_at > now)
                });
                if let Some(token) = honoured.cloned() {
                    self.future_tokens.remove(&token);
                    return Ok(SendOutcome::Authorized(self.authorize(
                        dc,
                        key_id,
                        account.user_id,
                        now,
                    )));
                }
            }
        }
        let sent = match &account {
            _ if legacy => Sent::Phone(CodeDelivery::Sms),
            Some(a) if a.payment_required => Sent::Phone(a.delivery),
            Some(a) => match &a.login_email {
                Some(email) => Sent::Email(email.clone()),
                None if a.email_setup_required => Sent::SetUpEmail,
                None => Sent::Phone(a.delivery),
            },
            None => Sent::Phone(CodeDelivery::App),
        };
        let mut hash = [0u8; 8];
        self.rng.fill_bytes(&mut hash);
        let hash = hex(&hash);
        if account.as_ref().is_some_and(|a| a.payment_required) && !legacy {
            // Nothing is sent until the payment; the hash names the attempt.
            return Ok(SendOutcome::PaymentRequired { hash });
        }
        let code = match &sent {
            Sent::SetUpEmail => Zeroizing::new(String::new()),
            Sent::Email(email) => self.new_email_code(email),
            Sent::Phone(delivery) => self.new_code(phone, *delivery),
        };
        self.codes.insert(
            hash.clone(),
            PendingCode {
                phone: phone.to_string(),
                code: code.clone(),
                expires_at: now + self.config.code_ttl.as_secs() as i64,
                verified: false,
                sent: sent.clone(),
                setup: None,
            },
        );
        Ok(SendOutcome::Code(SentInfo {
            hash,
            registered: account.is_some(),
            sent,
            code,
        }))
    }

    /// A new login code for a phone, shaped by how it is sent: digits (a flash call's is
    /// the whole calling number), a word, or a phrase.
    fn new_code(&mut self, phone: &str, delivery: CodeDelivery) -> Zeroizing<String> {
        let digits = match &self.config.code {
            Some(code) => code.clone(),
            None => format!("{:05}", self.rng.gen_range(0..100_000)),
        };
        let code = Zeroizing::new(match delivery {
            CodeDelivery::FlashCall => format!("{FLASH_CALL_PREFIX}{digits}"),
            CodeDelivery::SmsWord => WORDS[self.rng.gen_range(0..WORDS.len())].to_string(),
            CodeDelivery::SmsPhrase => (0..3)
                .map(|_| WORDS[self.rng.gen_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join(" "),
            _ => digits,
        });
        // Printed so that a person can log in by hand; the tests read it from the store.
        tracing::info!(target: "test_dc::codes", phone, code = code.as_str(), "login code");
        if self.config.print_codes {
            eprintln!("code for +{phone}: {}", code.as_str());
        }
        self.last_codes.insert(phone.to_string(), code.clone());
        code
    }

    /// A new 6-digit code "e-mailed" to `email` (readable with `last_email_code`).
    fn new_email_code(&mut self, email: &str) -> Zeroizing<String> {
        let code = Zeroizing::new(match &self.config.email_code {
            Some(code) => code.clone(),
            None => format!("{:06}", self.rng.gen_range(0..1_000_000)),
        });
        tracing::info!(target: "test_dc::codes", email, code = code.as_str(), "e-mail code");
        if self.config.print_codes {
            eprintln!("code for {email}: {}", code.as_str());
        }
        self.email_codes.insert(email.to_string(), code.clone());
        code
    }

    /// The last code sent to an e-mail address.
    pub fn last_email_code(&self, email: &str) -> Option<String> {
        self.email_codes.get(email).map(|c| c.to_string())
    }

    fn pending(&self, phone: &str, hash: &str, now: i64) -> Result<&PendingCode, RpcError> {
        if hash.is_empty() {
            return Err(rpc(400, "PHONE_CODE_HASH_EMPTY"));
        }
        match self.codes.get(hash) {
            Some(pending) if pending.phone != phone => Err(rpc(400, "PHONE_NUMBER_INVALID")),
            Some(pending) if pending.expires_at > now => Ok(pending),
            _ => Err(rpc(400, "PHONE_CODE_EXPIRED")),
        }
    }

    /// A new code for the same hash, sent the next way (`next_type`); SEND_CODE_UNAVAILABLE
    /// when there is none left (a legacy client may always resend).
    pub fn resend_code(
        &mut self,
        phone: &str,
        hash: &str,
        legacy: bool,
        now: i64,
    ) -> Result<SentInfo, RpcError> {
        self.check_flood(phone, now)?;
        let pending = self.pending(phone, hash, now)?;
        let sent = match pending.sent.next() {
            Some(next) => Sent::Phone(next),
            None if legacy => pending.sent.clone(),
            None => return Err(rpc(406, "SEND_CODE_UNAVAILABLE")),
        };
        let code = match &sent {
            Sent::Phone(delivery) => self.new_code(phone, *delivery),
            Sent::Email(email) => self.new_email_code(email),
            Sent::SetUpEmail => Zeroizing::new(String::new()),
        };
        let ttl = self.config.code_ttl.as_secs() as i64;
        if let Some(pending) = self.codes.get_mut(hash) {
            pending.code = code.clone();
            pending.expires_at = now + ttl;
            pending.sent = sent.clone();
        }
        Ok(SentInfo {
            hash: hash.to_string(),
            registered: self.is_registered(phone),
            sent,
            code,
        })
    }

    // --- Login e-mail ----------------------------------------------------------------------

    /// `account.sendVerifyEmailCode` for a login that must set up an e-mail: sends a code
    /// to `email`; returns its length.
    pub fn send_setup_email_code(
        &mut self,
        phone: &str,
        hash: &str,
        email: &str,
        now: i64,
    ) -> Result<usize, RpcError> {
        if !is_email(email) {
            return Err(rpc(400, "EMAIL_INVALID"));
        }
        if self.pending(phone, hash, now)?.sent != Sent::SetUpEmail {
            return Err(rpc(400, "EMAIL_NOT_SETUP_REQUIRED"));
        }
        let code = self.new_email_code(email);
        let len = code.len();
        if let Some(pending) = self.codes.get_mut(hash) {
            pending.setup = Some((email.to_string(), code));
        }
        Ok(len)
    }

    /// `account.verifyEmail` for a login: the e-mail becomes the account's login e-mail
    /// and the login code goes there (same hash).
    pub fn verify_setup_email(
        &mut self,
        phone: &str,
        hash: &str,
        code: &str,
        now: i64,
    ) -> Result<(String, SentInfo), RpcError> {
        let pending = self.pending(phone, hash, now)?;
        let Some((email, expected)) = pending.setup.clone() else {
            return Err(rpc(400, "EMAIL_VERIFY_EXPIRED"));
        };
        if expected.as_str() != code || code.is_empty() {
            return Err(rpc(400, "CODE_INVALID"));
        }
        if let Some(index) = self.by_phone.get(phone).copied() {
            if let Some(account) = self.accounts.get_mut(index) {
                account.login_email = Some(email.clone());
            }
        }
        let login_code = self.new_email_code(&email);
        let sent = Sent::Email(email.clone());
        if let Some(pending) = self.codes.get_mut(hash) {
            pending.code = login_code.clone();
            pending.sent = sent.clone();
            pending.setup = None;
        }
        Ok((
            email,
            SentInfo {
                hash: hash.to_string(),
                registered: self.is_registered(phone),
                sent,
                code: login_code,
            },
        ))
    }

    /// Cancels a code: its hash is dead.
    pub fn cancel_code(&mut self, phone: &str, hash: &str, now: i64) -> Result<(), RpcError> {
        self.pending(phone, hash, now)?;
        self.codes.remove(hash);
        Ok(())
    }

    /// Whether the number is registered.
    pub fn is_registered(&self, phone: &str) -> bool {
        self.by_phone.contains_key(phone)
    }

    /// Checks a code (FLOOD_WAIT after too many wrong ones).
    fn check_code(
        &mut self,
        phone: &str,
        hash: &str,
        code: &Code<'_>,
        now: i64,
    ) -> Result<(), RpcError> {
        self.check_flood(phone, now)?;
        let (text, by_email) = match code {
            Code::Phone(text) => (*text, false),
            Code::Email(text) => (*text, true),
        };
        if text.is_empty() {
            return Err(rpc(400, "PHONE_CODE_EMPTY"));
        }
        let pending = self.pending(phone, hash, now)?;
        if pending.sent == Sent::SetUpEmail {
            return Err(rpc(400, "EMAIL_SETUP_REQUIRED"));
        }
        // An e-mailed code counts only as an e-mail verification, a phone code only as one.
        let right_channel = by_email == matches!(pending.sent, Sent::Email(_));
        if right_channel && pending.code.as_str() == text {
            self.wrong_codes.remove(phone);
            return Ok(());
        }
        let window = self.config.flood_wait.as_secs() as i64;
        let entry = self
            .wrong_codes
            .entry(phone.to_string())
            .or_insert((0, now));
        if now - entry.1 > window {
            *entry = (0, now);
        }
        entry.0 += 1;
        if entry.0 >= self.config.max_wrong_codes {
            self.wrong_codes.remove(phone);
            self.flood_until.insert(phone.to_string(), now + window);
            return Err(rpc(420, format!("FLOOD_WAIT_{window}")));
        }
        Err(rpc(400, "PHONE_CODE_INVALID"))
    }

    /// `auth.signIn`: checks the code; logs the key in, or asks for sign-up or the
    /// password.
    pub fn sign_in(
        &mut self,
        dc: i32,
        key_id: i64,
        phone: &str,
        hash: &str,
        code: &Code<'_>,
        now: i64,
    ) -> Result<SignIn, RpcError> {
        let home = self.home_of_phone(phone, dc);
        if home != dc {
            return Err(rpc(303, format!("USER_MIGRATE_{home}")));
        }
        self.check_code(phone, hash, code, now)?;
        let Some(account) = self.account_by_phone(phone).cloned() else {
            if let Some(pending) = self.codes.get_mut(hash) {
                pending.verified = true;
            }
            return Ok(SignIn::SignUpRequired);
        };
        self.codes.remove(hash);
        self.finish_login(dc, key_id, account, now)
            .map(SignIn::Authorized)
    }

    /// Logs the key in, or leaves it waiting for the password.
    fn finish_login(
        &mut self,
        dc: i32,
        key_id: i64,
        account: AccountRecord,
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        if account.password.is_some() {
            let principal = self.principal(dc, key_id, now);
            self.keys.insert(
                principal,
                KeyState::PasswordPending {
                    user_id: account.user_id,
                    check: None,
                },
            );
            return Err(rpc(401, "SESSION_PASSWORD_NEEDED"));
        }
        Ok(self.authorize(dc, key_id, account.user_id, now))
    }

    /// `auth.signUp` after a `signIn` that said sign-up was required (`code` is `Some`
    /// for layer 23, whose `signUp` carries the code itself).
    #[allow(clippy::too_many_arguments)]
    pub fn sign_up(
        &mut self,
        dc: i32,
        key_id: i64,
        phone: &str,
        hash: &str,
        code: Option<&str>,
        first_name: &str,
        last_name: &str,
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        if self.is_registered(phone) {
            return Err(rpc(400, "PHONE_NUMBER_OCCUPIED"));
        }
        match code {
            Some(code) => self.check_code(phone, hash, &Code::Phone(code), now)?,
            None => {
                if !self.pending(phone, hash, now)?.verified {
                    return Err(rpc(400, "PHONE_CODE_INVALID"));
                }
            }
        }
        if first_name.trim().is_empty() {
            return Err(rpc(400, "FIRST_NAME_INVALID"));
        }
        self.codes.remove(hash);
        let account = Account::new(phone).name(first_name, last_name).home_dc(dc);
        let user_id = self
            .add_account(&account, dc)
            .map_err(|_| rpc(400, "PHONE_NUMBER_OCCUPIED"))?;
        Ok(self.authorize(dc, key_id, user_id, now))
    }

    // --- 2FA -----------------------------------------------------------------------------

    /// The password parameters for the key's pending (or logged-in) user, with a fresh
    /// SRP check. `None` when the account has no password.
    pub fn password_check(
        &mut self,
        dc: i32,
        key_id: i64,
        now: i64,
    ) -> Result<(AccountRecord, Option<SrpCheck>), RpcError> {
        let principal = self.principal(dc, key_id, now);
        let user_id = match self.keys.get(&principal) {
            Some(KeyState::Authorized { user_id } | KeyState::PasswordPending { user_id, .. }) => {
                *user_id
            }
            None => return Err(unauthorized()),
        };
        let account = self.account(user_id).cloned().ok_or_else(unauthorized)?;
        let Some(password) = &account.password else {
            return Ok((account, None));
        };
        let server = SrpServer::new(password.params.clone(), &password.verifier, &mut self.rng)
            .map_err(|_| rpc(500, "SRP_INTERNAL"))?;
        let srp_id: i64 = self.rng.gen();
        let srp_b = *server.srp_b();
        if let Some(KeyState::PasswordPending { check, .. }) = self.keys.get_mut(&principal) {
            *check = Some((srp_id, Box::new(server)));
        }
        Ok((account, Some((srp_id, srp_b))))
    }

    /// `auth.checkPassword`: verifies the SRP proof of the last `password_check`.
    pub fn check_password(
        &mut self,
        dc: i32,
        key_id: i64,
        srp_id: i64,
        a: &[u8],
        m1: &[u8],
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        let principal = self.principal(dc, key_id, now);
        let Some(KeyState::PasswordPending { user_id, check }) = self.keys.get_mut(&principal)
        else {
            return Err(rpc(400, "PASSWORD_HASH_INVALID"));
        };
        let user_id = *user_id;
        // One proof per check: a retry needs a new account.getPassword.
        let Some((expected_id, server)) = check.take() else {
            return Err(rpc(400, "SRP_ID_INVALID"));
        };
        if expected_id != srp_id {
            return Err(rpc(400, "SRP_ID_INVALID"));
        }
        server
            .verify(a, m1)
            .map_err(|_| rpc(400, "PASSWORD_HASH_INVALID"))?;
        Ok(self.authorize(dc, key_id, user_id, now))
    }

    // --- Password recovery -------------------------------------------------------------

    /// `auth.requestPasswordRecovery` by a key waiting for its password: e-mails a code to
    /// the account's recovery address and returns that address.
    pub fn request_password_recovery(
        &mut self,
        dc: i32,
        key_id: i64,
        now: i64,
    ) -> Result<String, RpcError> {
        let principal = self.principal(dc, key_id, now);
        let Some(KeyState::PasswordPending { user_id, .. }) = self.keys.get(&principal) else {
            return Err(rpc(400, "PASSWORD_EMPTY"));
        };
        let account = self.account(*user_id).cloned().ok_or_else(unauthorized)?;
        let Some(email) = account.recovery_email else {
            return Err(rpc(400, "PASSWORD_RECOVERY_NA"));
        };
        let code = self.new_email_code(&email);
        self.recoveries.insert(
            principal,
            Recovery {
                code,
                expires_at: now + self.config.code_ttl.as_secs() as i64,
            },
        );
        Ok(email)
    }

    /// Checks a recovery code (CODE_INVALID, PASSWORD_RECOVERY_EXPIRED).
    pub fn check_recovery_code(
        &self,
        dc: i32,
        key_id: i64,
        code: &str,
        now: i64,
    ) -> Result<(), RpcError> {
        let principal = self.principal(dc, key_id, now);
        match self.recoveries.get(&principal) {
            None => Err(rpc(400, "PASSWORD_RECOVERY_NA")),
            Some(r) if r.expires_at <= now => Err(rpc(400, "PASSWORD_RECOVERY_EXPIRED")),
            Some(r) if r.code.as_str() == code && !code.is_empty() => Ok(()),
            Some(_) => Err(rpc(400, "CODE_INVALID")),
        }
    }

    /// `auth.recoverPassword`: with the right code the password is removed (or replaced by
    /// `new_password`: its SRP parameters and verifier) and the key logged in.
    pub fn recover_password(
        &mut self,
        dc: i32,
        key_id: i64,
        code: &str,
        new_password: Option<PasswordRecord>,
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        self.check_recovery_code(dc, key_id, code, now)?;
        let principal = self.principal(dc, key_id, now);
        let Some(KeyState::PasswordPending { user_id, .. }) = self.keys.get(&principal) else {
            return Err(rpc(400, "PASSWORD_EMPTY"));
        };
        let user_id = *user_id;
        self.recoveries.remove(&principal);
        if let Some(account) = self.accounts.iter_mut().find(|a| a.user_id == user_id) {
            account.password = new_password.map(Box::new);
        }
        Ok(self.authorize(dc, key_id, user_id, now))
    }

    // --- Across DCs ----------------------------------------------------------------------

    /// `auth.exportAuthorization` to `target` (one of `dcs`).
    pub fn export_authorization(
        &mut self,
        dc: i32,
        key_id: i64,
        target: i32,
        dcs: &[i32],
        now: i64,
    ) -> Result<(i64, Vec<u8>), RpcError> {
        let user_id = self.user_of(dc, key_id, now)?.user_id;
        if !dcs.contains(&target) || target == dc {
            return Err(rpc(400, "DC_ID_INVALID"));
        }
        let mut bytes = vec![0u8; 32];
        self.rng.fill_bytes(&mut bytes);
        self.exported.insert(
            bytes.clone(),
            Exported {
                user_id,
                dc: target,
                expires_at: now + 60,
            },
        );
        Ok((user_id, bytes))
    }

    /// `auth.importAuthorization`: the bytes are good once, on their DC, for their user.
    pub fn import_authorization(
        &mut self,
        dc: i32,
        key_id: i64,
        user_id: i64,
        bytes: &[u8],
        now: i64,
    ) -> Result<AccountRecord, RpcError> {
        match self.exported.remove(bytes) {
            Some(e) if e.user_id == user_id && e.dc == dc && e.expires_at > now => {
                Ok(self.authorize(dc, key_id, user_id, now))
            }
            _ => Err(rpc(400, "AUTH_BYTES_INVALID")),
        }
    }

    // --- QR login ------------------------------------------------------------------------

    /// `auth.exportLoginToken`: a new token, or what became of this key's last one.
    pub fn export_login_token(
        &mut self,
        dc: i32,
        key_id: i64,
        now: i64,
    ) -> Result<TokenOutcome, RpcError> {
        self.tokens
            .retain(|_, t| t.expires_at > now || t.accepted_by.is_some());
        let existing = self
            .tokens
            .iter()
            .find(|(_, t)| t.dc == dc && t.key_id == key_id && t.accepted_by.is_some())
            .map(|(token, _)| token.clone());
        if let Some(token) = existing {
            return self.import_login_token(dc, key_id, &token, now);
        }
        let mut token = vec![0u8; 32];
        self.rng.fill_bytes(&mut token);
        let expires_at = now + self.config.login_token_ttl.as_secs() as i64;
        self.tokens.insert(
            token.clone(),
            LoginToken {
                dc,
                key_id,
                expires_at,
                accepted_by: None,
            },
        );
        Ok(TokenOutcome::Waiting { token, expires_at })
    }

    /// `auth.acceptLoginToken` by a logged-in key: returns where the waiting key is (to
    /// push `updateLoginToken` to it).
    pub fn accept_login_token(
        &mut self,
        dc: i32,
        key_id: i64,
        token: &[u8],
        now: i64,
    ) -> Result<(i32, i64), RpcError> {
        let user_id = self.user_of(dc, key_id, now)?.user_id;
        let Some(entry) = self.tokens.get_mut(token) else {
            return Err(rpc(400, "AUTH_TOKEN_INVALID"));
        };
        if entry.expires_at <= now {
            return Err(rpc(400, "AUTH_TOKEN_EXPIRED"));
        }
        if entry.accepted_by.is_some() {
            return Err(rpc(400, "AUTH_TOKEN_ALREADY_ACCEPTED"));
        }
        entry.accepted_by = Some(user_id);
        Ok((entry.dc, entry.key_id))
    }

    /// `auth.importLoginToken` (and a repeated export): logs the key in once the token is
    /// accepted, on the user's home DC.
    pub fn import_login_token(
        &mut self,
        dc: i32,
        key_id: i64,
        token: &[u8],
        now: i64,
    ) -> Result<TokenOutcome, RpcError> {
        let Some(entry) = self.tokens.get(token) else {
            return Err(rpc(400, "AUTH_TOKEN_INVALID"));
        };
        let Some(user_id) = entry.accepted_by else {
            if entry.expires_at <= now {
                return Err(rpc(400, "AUTH_TOKEN_EXPIRED"));
            }
            return Ok(TokenOutcome::Waiting {
                token: token.to_vec(),
                expires_at: entry.expires_at,
            });
        };
        let account = self
            .account(user_id)
            .cloned()
            .ok_or_else(|| rpc(400, "AUTH_TOKEN_INVALID"))?;
        if account.home_dc != dc {
            return Ok(TokenOutcome::MigrateTo {
                dc: account.home_dc,
                token: token.to_vec(),
            });
        }
        self.tokens.remove(token);
        self.finish_login(dc, key_id, account, now)
            .map(TokenOutcome::Authorized)
    }
}

/// The DC a test number names: `99966 X YYYY` belongs to DC X (Telegram's test-number
/// rule); any other number to `default_dc`.
fn home_dc_of(phone: &str, default_dc: i32) -> i32 {
    match phone.strip_prefix("99966") {
        Some(rest) if rest.len() == 5 => rest[..1].parse().unwrap_or(default_dc),
        _ => default_dc,
    }
}

/// `ID:SECRET` → (ID, SECRET); ID a positive integer, SECRET non-empty.
fn parse_bot_token(token: &str) -> Option<(i64, &str)> {
    let (id, secret) = token.split_once(':')?;
    let id: i64 = id.parse().ok().filter(|id| *id > 0)?;
    (!secret.is_empty()).then_some((id, secret))
}

/// A login code as `auth.signIn` carries it.
pub(crate) enum Code<'a> {
    /// `phone_code`.
    Phone(&'a str),
    /// `email_verification: emailVerificationCode`.
    Email(&'a str),
}

/// The beginning of the number a flash call comes from (the code is the whole number).
pub(crate) const FLASH_CALL_PREFIX: &str = "99966";

/// Words an "SMS word" or "SMS phrase" code is made of.
const WORDS: &[&str] = &[
    "amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "island", "juniper",
    "kestrel", "lagoon", "meadow", "nectar", "orchid", "prairie",
];

/// Roughly an e-mail address: something, `@`, a domain with a dot.
fn is_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// An address as Telegram shows it to someone who may not know it: `a***@example.com`.
pub(crate) fn email_pattern(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalized_as_telegram_does() {
        assert_eq!(normalize_phone("+999 66-2 (12) 34"), "9996621234");
        assert_eq!(home_dc_of("9996631234", 2), 3);
        assert_eq!(home_dc_of("4915112345678", 2), 2);
    }
}
