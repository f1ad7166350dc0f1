//! What `auth.sendCode` (and `auth.resendCode`, `account.verifyEmail`) can answer, typed:
//! every `auth.SentCodeType` of layer 230 with what a user must be shown, the next way the
//! code can be sent, and the answers that are not a code at all (signed in at once, a
//! payment required).

use std::fmt;
use std::time::Duration;

use crate::{enums, types};

/// How the code was sent, with what to show the user.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeKind {
    /// In a Telegram app logged in on another device.
    App {
        /// Digits in the code.
        length: i32,
    },
    /// By SMS.
    Sms {
        /// Digits in the code.
        length: i32,
    },
    /// Read out in a phone call.
    Call {
        /// Digits in the code.
        length: i32,
    },
    /// A flash call: the calling number, matching `pattern`, is the code.
    FlashCall {
        /// The pattern the calling number matches (e.g. `+4912*`).
        pattern: String,
    },
    /// A missed call: the last `length` digits of the calling number are the code.
    MissedCall {
        /// The calling number's known beginning.
        prefix: String,
        /// Digits in the code.
        length: i32,
    },
    /// By e-mail to the account's login address: sign in with the code as an e-mail
    /// verification ([`super::Client::sign_in`] does it).
    Email {
        /// The address, partly hidden (`a***@example.com`).
        pattern: String,
        /// Digits in the code.
        length: i32,
        /// Signing in with Apple instead is allowed.
        apple_signin_allowed: bool,
        /// Signing in with Google instead is allowed.
        google_signin_allowed: bool,
        /// Seconds until the login e-mail may be reset, if a reset is available.
        reset_available_period: Option<i32>,
        /// When a pending reset completes (unix time), if one is pending.
        reset_pending_date: Option<i32>,
    },
    /// The account must first set up a login e-mail: [`super::Client::send_login_email_code`]
    /// then [`super::Client::verify_login_email`] lead to the code.
    SetUpEmailRequired {
        /// Signing in with Apple instead is allowed.
        apple_signin_allowed: bool,
        /// Signing in with Google instead is allowed.
        google_signin_allowed: bool,
    },
    /// By SMS through Fragment: the code is read at `url`.
    FragmentSms {
        /// Where to read the code.
        url: String,
        /// Digits in the code.
        length: i32,
    },
    /// By SMS after a Firebase device check (official apps only; others resend).
    FirebaseSms {
        /// Digits in the code.
        length: i32,
    },
    /// By SMS: the code is a word.
    SmsWord {
        /// The word's beginning, if given.
        beginning: Option<String>,
    },
    /// By SMS: the code is a phrase.
    SmsPhrase {
        /// The phrase's beginning, if given.
        beginning: Option<String>,
    },
}

impl CodeKind {
    /// Whether the code is signed in as an e-mail verification rather than a phone code.
    pub fn is_email(&self) -> bool {
        matches!(self, CodeKind::Email { .. })
    }
}

impl fmt::Display for CodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeKind::App { length } => write!(f, "in a Telegram app, {length} digits"),
            CodeKind::Sms { length } => write!(f, "by SMS, {length} digits"),
            CodeKind::Call { length } => write!(f, "by a phone call, {length} digits"),
            CodeKind::FlashCall { pattern } => {
                write!(f, "by a flash call from a number matching {pattern}")
            }
            CodeKind::MissedCall { prefix, length } => write!(
                f,
                "by a missed call: the last {length} digits of a number starting {prefix}"
            ),
            CodeKind::Email {
                pattern, length, ..
            } => write!(f, "by e-mail to {pattern}, {length} digits"),
            CodeKind::SetUpEmailRequired { .. } => {
                write!(f, "not yet: a login e-mail must be set up first")
            }
            CodeKind::FragmentSms { url, length } => {
                write!(f, "by Fragment SMS, {length} digits, read at {url}")
            }
            CodeKind::FirebaseSms { length } => write!(f, "by SMS (Firebase), {length} digits"),
            CodeKind::SmsWord { beginning } => match beginning {
                Some(b) => write!(f, "by SMS, a word starting {b:?}"),
                None => write!(f, "by SMS, a word"),
            },
            CodeKind::SmsPhrase { beginning } => match beginning {
                Some(b) => write!(f, "by SMS, a phrase starting {b:?}"),
                None => write!(f, "by SMS, a phrase"),
            },
        }
    }
}

impl From<enums::auth::SentCodeType> for CodeKind {
    fn from(kind: enums::auth::SentCodeType) -> Self {
        use enums::auth::SentCodeType as T;
        match kind {
            T::App(t) => CodeKind::App { length: t.length },
            T::Sms(t) => CodeKind::Sms { length: t.length },
            T::Call(t) => CodeKind::Call { length: t.length },
            T::FlashCall(t) => CodeKind::FlashCall { pattern: t.pattern },
            T::MissedCall(t) => CodeKind::MissedCall {
                prefix: t.prefix,
                length: t.length,
            },
            T::EmailCode(t) => CodeKind::Email {
                pattern: t.email_pattern,
                length: t.length,
                apple_signin_allowed: t.apple_signin_allowed,
                google_signin_allowed: t.google_signin_allowed,
                reset_available_period: t.reset_available_period,
                reset_pending_date: t.reset_pending_date,
            },
            T::SetUpEmailRequired(t) => CodeKind::SetUpEmailRequired {
                apple_signin_allowed: t.apple_signin_allowed,
                google_signin_allowed: t.google_signin_allowed,
            },
            T::FragmentSms(t) => CodeKind::FragmentSms {
                url: t.url,
                length: t.length,
            },
            T::FirebaseSms(t) => CodeKind::FirebaseSms { length: t.length },
            T::SmsWord(t) => CodeKind::SmsWord {
                beginning: t.beginning,
            },
            T::SmsPhrase(t) => CodeKind::SmsPhrase {
                beginning: t.beginning,
            },
        }
    }
}

/// How [`super::Client::resend_code`] will send the code next (`auth.CodeType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextCodeKind {
    /// By SMS.
    Sms,
    /// By a phone call.
    Call,
    /// By a flash call.
    FlashCall,
    /// By a missed call.
    MissedCall,
    /// By Fragment SMS.
    FragmentSms,
}

impl From<enums::auth::CodeType> for NextCodeKind {
    fn from(kind: enums::auth::CodeType) -> Self {
        use enums::auth::CodeType as T;
        match kind {
            T::Sms => NextCodeKind::Sms,
            T::Call => NextCodeKind::Call,
            T::FlashCall => NextCodeKind::FlashCall,
            T::MissedCall => NextCodeKind::MissedCall,
            T::FragmentSms => NextCodeKind::FragmentSms,
        }
    }
}

/// A sent login code: what `sign_in`, `resend_code` and `cancel_code` need. `Debug` leaves
/// out the `phone_code_hash` (with the code, it signs the number in).
#[derive(Clone, PartialEq, Eq)]
pub struct CodeToken {
    /// The number, as given.
    pub phone: String,
    /// The server's `phone_code_hash`.
    pub phone_code_hash: String,
    /// How the code was sent.
    pub kind: CodeKind,
    /// How `resend_code` would send it, if it can.
    pub next: Option<NextCodeKind>,
    /// How long to wait before `resend_code`, if the server said.
    pub timeout: Option<Duration>,
}

/// `auth.sentCodePaymentRequired`: this number's login code costs a payment (an in-app
/// store product) before it is sent. `Debug` leaves out the `phone_code_hash`.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentRequired {
    /// The number, as given.
    pub phone: String,
    /// The server's `phone_code_hash`.
    pub phone_code_hash: String,
    /// The app store product to buy.
    pub store_product: String,
    /// Where to write for help.
    pub support_email_address: String,
    /// The subject to use.
    pub support_email_subject: String,
    /// Days of Premium the payment includes.
    pub premium_days: i32,
    /// ISO 4217 currency.
    pub currency: String,
    /// The price in the currency's smallest unit.
    pub amount: i64,
}

impl std::fmt::Debug for CodeToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeToken")
            .field("phone", &self.phone)
            .field("phone_code_hash", &format_args!("<redacted>"))
            .field("kind", &self.kind)
            .field("next", &self.next)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl std::fmt::Debug for PaymentRequired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentRequired")
            .field("phone", &self.phone)
            .field("phone_code_hash", &format_args!("<redacted>"))
            .field("store_product", &self.store_product)
            .field("support_email_address", &self.support_email_address)
            .field("support_email_subject", &self.support_email_subject)
            .field("premium_days", &self.premium_days)
            .field("currency", &self.currency)
            .field("amount", &self.amount)
            .finish()
    }
}

/// What asking for a login code led to.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SentCode {
    /// A code was sent (or, for [`CodeKind::SetUpEmailRequired`], must be earned by
    /// setting up a login e-mail first).
    Code(CodeToken),
    /// `auth.sentCodeSuccess`: signed in at once (a future auth token was honoured).
    SignedIn(Box<types::User>),
    /// The code costs a payment first.
    PaymentRequired(PaymentRequired),
}

impl SentCode {
    /// The code token, or [`super::ClientError::Unexpected`] naming the other outcome (for
    /// callers that only handle codes).
    pub fn into_code(self) -> Result<CodeToken, super::ClientError> {
        match self {
            SentCode::Code(token) => Ok(token),
            other => Err(super::ClientError::Unexpected(format!(
                "expected a sent code, got {other:?}"
            ))),
        }
    }
}

/// `account.sentEmailCode`: a verification code went to the e-mail address being set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailCodeSent {
    /// The address, partly hidden.
    pub pattern: String,
    /// Digits in the code.
    pub length: i32,
}
