//! QR login. The device logging in shows `tg://login?token=...` URLs as QR codes
//! ([`Client::qr_login`]); an app already signed in scans one and accepts it
//! ([`Client::accept_login_token`]), which signs the first device in as its user.
//!
//! The flow, as Telegram documents it: `auth.exportLoginToken` gives a token and its
//! expiry; when a logged-in app accepts it, the server pushes `updateLoginToken` to the
//! exporting key, which calls `auth.exportLoginToken` again and now gets
//! `auth.loginTokenSuccess`, or `auth.loginTokenMigrateTo` (the user lives on another DC:
//! `auth.importLoginToken` there). A token that expires unaccepted is replaced by a new one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast::{error::RecvError, Receiver};

use super::{Authenticator, Client, ClientError, PasswordToken, RawUpdate, MAX_ATTEMPTS};
use crate::{enums, functions, types};

/// What a QR code encodes: this prefix, then the token in unpadded base64url.
pub const LOGIN_URL_PREFIX: &str = "tg://login?token=";

/// The shortest time a token is shown before it is asked anew (when this machine's clock
/// says it has already expired).
const MIN_TOKEN_WAIT: Duration = Duration::from_secs(1);
/// The longest: a token is asked anew at least this often, whatever expiry it claims.
const MAX_TOKEN_WAIT: Duration = Duration::from_secs(600);

/// A login URL to show as a QR code, and when it stops working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QrToken {
    /// `tg://login?token=<base64url, no padding>`: what the QR code encodes.
    pub url: String,
    /// When the server stops accepting the token: its `expires`, moved to this machine's
    /// clock with the offset the session learned from the server. A new token is shown
    /// then.
    pub expires: SystemTime,
}

/// How [`Client::qr_login`] ended.
#[derive(Clone, Debug, PartialEq)]
pub enum QrLogin {
    /// Signed in as this user (the one whose app accepted the token).
    SignedIn(Box<types::User>),
    /// The user's account has a 2FA password: call [`Client::check_password`] (the session
    /// waits for it on the user's home DC).
    PasswordRequired(PasswordToken),
}

/// What one `auth.LoginToken` answer leads to.
enum Step {
    /// A token to show, and its expiry (server time, Unix seconds).
    Show { token: Vec<u8>, expires: i32 },
    /// The login ended.
    Done(QrLogin),
}

impl Client {
    /// Logs in by QR code: exports a login token (`auth.exportLoginToken`; `except_ids` are
    /// the user ids already signed in on this device, whose apps should not accept it)
    /// and calls `show` with its URL, to be shown as a QR code; then waits for
    /// `updateLoginToken` (an app accepted it) or for the expiry, and exports again: an
    /// accepted token answers with the login (following `auth.loginTokenMigrateTo` to the
    /// user's home DC, which becomes the session's home DC, with `auth.importLoginToken`),
    /// an expired one with a new token, shown with `show` again.
    ///
    /// Each request ends in an answer or an error within
    /// [`ClientConfig::request_timeout`](super::ClientConfig::request_timeout), but the
    /// wait for someone to scan a code has no end of its own: tokens are renewed until one
    /// is accepted. Bound it with `tokio::time::timeout`; dropping the future stops the
    /// login (a token shown stays valid on the server until it expires).
    ///
    /// The updates are watched from before the first export, so an acceptance is never
    /// missed; updates that may have been lost (the receiver lagged, `updatesTooLong`)
    /// count as one, and the next export tells.
    pub async fn qr_login(
        &self,
        except_ids: &[i64],
        mut show: impl FnMut(&QrToken) + Send,
    ) -> Result<QrLogin, ClientError> {
        // Before the first export: the update may come as soon as the token exists.
        let mut updates = self.updates();
        let config = &self.inner.config;
        let request = functions::auth::ExportLoginToken::new(
            config.api_id,
            config.api_hash.clone(),
            except_ids.to_vec(),
        );
        loop {
            let answer = match self.invoke(&request).await {
                Ok(answer) => answer,
                Err(e) if e.rpc_name() == Some("SESSION_PASSWORD_NEEDED") => {
                    return Ok(QrLogin::PasswordRequired(self.password_token().await?));
                }
                Err(e) => return Err(e),
            };
            let (token, expires) = match self.login_token_step(answer).await? {
                Step::Show { token, expires } => (token, expires),
                Step::Done(outcome) => return Ok(outcome),
            };
            let shown = QrToken {
                url: login_url(&token),
                expires: self.local_time(expires).await,
            };
            tracing::debug!(
                expires_in = ?shown.expires.duration_since(SystemTime::now()).ok(),
                "client: showing a QR login token"
            );
            show(&shown);
            wait_for_acceptance(&mut updates, shown.expires).await;
        }
    }

    /// [`Client::qr_login`] that also finishes a 2FA account: the password comes from
    /// `auth` (asked again after a wrong one, or recovered by e-mail, as in
    /// [`Client::login`]). No user ids are excepted.
    pub async fn qr_login_with(
        &self,
        auth: &mut dyn Authenticator,
        show: impl FnMut(&QrToken) + Send,
    ) -> Result<Box<types::User>, ClientError> {
        match self.qr_login(&[], show).await? {
            QrLogin::SignedIn(user) => Ok(user),
            QrLogin::PasswordRequired(password) => self.password_step(auth, &password).await,
        }
    }

    /// Accepts a QR login token shown by another device (`auth.acceptLoginToken`),
    /// signing that device in as this client's user. `url` is the scanned
    /// `tg://login?token=...` URL, or the bare base64url token. Returns the session the
    /// server let in (as `account.getAuthorizations` lists it).
    ///
    /// A malformed URL is [`ClientError::InvalidLoginUrl`] naming what is wrong, before any
    /// request; the server answers `AUTH_TOKEN_INVALID`, `AUTH_TOKEN_EXPIRED` or
    /// `AUTH_TOKEN_ALREADY_ACCEPTED` for a token it will not take.
    pub async fn accept_login_token(&self, url: &str) -> Result<types::Authorization, ClientError> {
        let token = parse_login_url(url).map_err(ClientError::InvalidLoginUrl)?;
        let enums::Authorization::Authorization(session) = self
            .invoke(&functions::auth::AcceptLoginToken::new(token))
            .await?;
        Ok(session)
    }

    /// What an `auth.LoginToken` answer leads to: a token to show, or (after at most
    /// [`MAX_ATTEMPTS`] DC migrations) the end of the login.
    async fn login_token_step(&self, answer: enums::auth::LoginToken) -> Result<Step, ClientError> {
        let mut answer = answer;
        for _ in 0..MAX_ATTEMPTS {
            match answer {
                enums::auth::LoginToken::LoginToken(t) => {
                    return Ok(Step::Show {
                        token: t.token.into_inner(),
                        expires: t.expires,
                    })
                }
                enums::auth::LoginToken::Success(success) => {
                    let user = self
                        .expect_authorized("auth.loginTokenSuccess", success.authorization)
                        .await?;
                    return Ok(Step::Done(QrLogin::SignedIn(user)));
                }
                enums::auth::LoginToken::MigrateTo(to) => {
                    answer = match self
                        .import_login_token(to.dc_id, to.token.into_inner())
                        .await
                    {
                        // A token just imported cannot need showing again.
                        Ok(enums::auth::LoginToken::LoginToken(_)) => {
                            return Err(ClientError::Unexpected(format!(
                                "auth.importLoginToken on DC {} answered a new token",
                                to.dc_id
                            )))
                        }
                        Ok(next) => next,
                        Err(e) if e.rpc_name() == Some("SESSION_PASSWORD_NEEDED") => {
                            let password = self.password_token().await?;
                            return Ok(Step::Done(QrLogin::PasswordRequired(password)));
                        }
                        Err(e) => return Err(e),
                    };
                }
            }
        }
        Err(ClientError::TooManyRetries(MAX_ATTEMPTS))
    }

    /// Makes DC `dc` (learned from `help.getConfig` when unknown) the home DC and imports
    /// the accepted token there (`auth.importLoginToken`).
    async fn import_login_token(
        &self,
        dc: i32,
        token: Vec<u8>,
    ) -> Result<enums::auth::LoginToken, ClientError> {
        tracing::info!(to = dc, "client: the QR login continues on the user's DC");
        if !self.session().await.dcs.contains_key(&dc) {
            self.refresh_dcs(self.home_dc().await).await?;
        }
        self.set_home_dc(dc).await?;
        self.invoke_on(dc, &functions::auth::ImportLoginToken::new(token))
            .await
    }

    /// Server time `expires` (Unix seconds) on this machine's clock, with the home DC's
    /// clock offset as the session keeps it.
    async fn local_time(&self, expires: i32) -> SystemTime {
        let dc = self.home_dc().await;
        let offset = self
            .session()
            .await
            .keys
            .get(&dc)
            .map_or(0, |auth| auth.time_offset);
        let local = i64::from(expires).saturating_sub(offset);
        UNIX_EPOCH + Duration::from_secs(u64::try_from(local).unwrap_or(0))
    }
}

/// Waits until an update says a login token was accepted, or may have been (the receiver
/// lagged, `updatesTooLong`), or until `expires` (at least [`MIN_TOKEN_WAIT`], at most
/// [`MAX_TOKEN_WAIT`] from now).
async fn wait_for_acceptance(updates: &mut Receiver<RawUpdate>, expires: SystemTime) {
    let wait = expires
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
        .clamp(MIN_TOKEN_WAIT, MAX_TOKEN_WAIT);
    let deadline = tokio::time::sleep(wait);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = &mut deadline => {
                tracing::debug!("client: the QR login token expired");
                return;
            }
            update = updates.recv() => match update {
                Ok(update) if is_login_token_update(&update.body) => {
                    tracing::debug!(dc = update.dc, "client: updateLoginToken");
                    return;
                }
                Ok(_) => {}
                Err(RecvError::Lagged(skipped)) => {
                    tracing::debug!(skipped, "client: updates skipped while waiting for a QR login");
                    return;
                }
                Err(RecvError::Closed) => {
                    // No more updates can come: the expiry alone decides.
                    (&mut deadline).await;
                    return;
                }
            },
        }
    }
}

/// `updateShort#78d4dec1`.
const UPDATE_SHORT: u32 = 0x78d4_dec1;
/// `updates#74ae4240`.
const UPDATES: u32 = 0x74ae_4240;
/// `updatesCombined#725b04c3`.
const UPDATES_COMBINED: u32 = 0x725b_04c3;
/// `updatesTooLong#e317af7e`: updates were lost.
const UPDATES_TOO_LONG: u32 = 0xe317_af7e;
/// `updateLoginToken#564fe691`.
const UPDATE_LOGIN_TOKEN: u32 = 0x564f_e691;
/// `vector#1cb5c415`.
const VECTOR: u32 = 0x1cb5_c415;

/// Whether an update body may announce an accepted login token: `updateShort` carrying
/// `updateLoginToken`; `updates`/`updatesCombined` whose data holds its constructor id at a
/// 4-byte boundary (the bindings cannot walk every `Update`; over-matching costs one more
/// `auth.exportLoginToken`, whose answer is what counts); `updatesTooLong`.
fn is_login_token_update(body: &[u8]) -> bool {
    let mut words = body
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    match words.next() {
        Some(UPDATE_SHORT) => words.next() == Some(UPDATE_LOGIN_TOKEN),
        Some(UPDATES | UPDATES_COMBINED) => {
            // updates: vector, count, then the first update's constructor.
            words.next() == Some(VECTOR) && words.skip(1).any(|w| w == UPDATE_LOGIN_TOKEN)
        }
        Some(UPDATES_TOO_LONG) => true,
        _ => false,
    }
}

/// `tg://login?token=` and the token in unpadded base64url.
fn login_url(token: &[u8]) -> String {
    format!("{LOGIN_URL_PREFIX}{}", base64url(token))
}

/// The token of a `tg://login?token=...` URL (other query parameters are ignored), or of
/// a bare base64url token; `Err` says what is wrong.
fn parse_login_url(url: &str) -> Result<Vec<u8>, String> {
    const HEAD: &str = "tg://login?";
    let url = url.trim();
    let encoded = if url.contains(':') {
        let query = url
            .get(..HEAD.len())
            .filter(|head| head.eq_ignore_ascii_case(HEAD))
            .and_then(|_| url.get(HEAD.len()..))
            .ok_or_else(|| format!("{url:?} does not start with {HEAD}"))?;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("token="))
            .ok_or_else(|| format!("{url:?} has no token parameter"))?
    } else {
        url
    };
    if encoded.is_empty() {
        return Err("the token is empty".into());
    }
    from_base64url(encoded)
}

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let at = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = at(0) << 16 | at(1) << 8 | at(2);
        // 1, 2 or 3 bytes make 2, 3 or 4 characters.
        for i in 0..=chunk.len() {
            out.push(char::from(BASE64URL[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// Decodes base64url, padded or not; `Err` names the first character that is not in its
/// alphabet, or a length no encoding has.
fn from_base64url(text: &str) -> Result<Vec<u8>, String> {
    let text = text
        .strip_suffix("==")
        .or_else(|| text.strip_suffix('='))
        .unwrap_or(text);
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in text.chars().enumerate() {
        let value = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '-' => 62,
            '_' => 63,
            _ => return Err(format!("{c:?} (character {}) is not base64url", i + 1)),
        };
        acc = (acc << 6 | value) & 0xfff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits == 6 {
        return Err(format!(
            "{} characters cannot be base64url (one too many or too few)",
            text.chars().count()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648_and_round_trips() {
        // RFC 4648 §10's vectors (unpadded), and the two characters base64url changes.
        for (bytes, text) in [
            (&b""[..], ""),
            (b"f", "Zg"),
            (b"fo", "Zm8"),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg"),
            (b"fooba", "Zm9vYmE"),
            (b"foobar", "Zm9vYmFy"),
            (&[0xfb, 0xff], "-_8"),
        ] {
            assert_eq!(base64url(bytes), text);
            assert_eq!(from_base64url(text).unwrap(), bytes);
        }
        assert_eq!(from_base64url("Zm8=").unwrap(), b"fo");
        assert_eq!(from_base64url("Zg==").unwrap(), b"f");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(from_base64url(&base64url(&all)).unwrap(), all);
    }

    #[test]
    fn malformed_tokens_say_what_is_wrong() {
        let err = from_base64url("ab+c").unwrap_err();
        assert!(err.contains("'+' (character 3)"), "{err}");
        let err = from_base64url("abcde").unwrap_err();
        assert!(err.contains("5 characters"), "{err}");
        let err = parse_login_url("https://example.org/login?token=Zm9v").unwrap_err();
        assert!(err.contains("does not start with tg://login?"), "{err}");
        let err = parse_login_url("tg://login?foo=bar").unwrap_err();
        assert!(err.contains("no token parameter"), "{err}");
        assert_eq!(
            parse_login_url("tg://login?token=").unwrap_err(),
            "the token is empty"
        );
        assert_eq!(parse_login_url("").unwrap_err(), "the token is empty");
        assert_eq!(
            parse_login_url("tg:").unwrap_err(),
            "\"tg:\" does not start with tg://login?"
        );
    }

    #[test]
    fn login_urls_round_trip() {
        let token: Vec<u8> = (0u8..32)
            .map(|i| i.wrapping_mul(7).wrapping_add(250))
            .collect();
        let url = login_url(&token);
        assert!(url.starts_with("tg://login?token="));
        // Unpadded: 32 bytes are 43 characters.
        assert_eq!(url.len() - LOGIN_URL_PREFIX.len(), 43);
        assert_eq!(parse_login_url(&url).unwrap(), token);
        assert_eq!(
            parse_login_url(&url[LOGIN_URL_PREFIX.len()..]).unwrap(),
            token
        );
        assert_eq!(
            parse_login_url(&format!("TG://LOGIN?x=1&{}", &url[11..])).unwrap(),
            token
        );
    }

    fn words(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn only_login_token_updates_match() {
        assert!(is_login_token_update(&words(&[
            UPDATE_SHORT,
            UPDATE_LOGIN_TOKEN,
            1_700_000_000
        ])));
        assert!(!is_login_token_update(&words(&[
            UPDATE_SHORT,
            0x1234_5678,
            1
        ])));
        assert!(is_login_token_update(&words(&[
            UPDATES,
            VECTOR,
            2,
            0x1234_5678,
            UPDATE_LOGIN_TOKEN,
            VECTOR,
            0,
            VECTOR,
            0,
            1,
            2
        ])));
        assert!(!is_login_token_update(&words(&[
            UPDATES, VECTOR, 0, VECTOR, 0, VECTOR, 0, 1, 2
        ])));
        // The count is not a constructor.
        assert!(!is_login_token_update(&words(&[
            UPDATES,
            VECTOR,
            UPDATE_LOGIN_TOKEN
        ])));
        assert!(is_login_token_update(&words(&[UPDATES_TOO_LONG])));
        // Short, empty and unaligned bodies never panic and never match.
        assert!(!is_login_token_update(&[]));
        assert!(!is_login_token_update(&[0xc1, 0xde, 0xd4]));
        let mut shifted = vec![0];
        shifted.extend(words(&[UPDATE_SHORT, UPDATE_LOGIN_TOKEN]));
        assert!(!is_login_token_update(&shifted));
    }
}
