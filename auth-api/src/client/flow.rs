//! The whole login as one call: [`Client::login`] asks an [`Authenticator`] for what it
//! needs (phone, code, password, names for sign-up, a login e-mail to set up, a recovery
//! code for a forgotten password) and runs the steps, so the same flow serves a terminal
//! prompt and a test.

use std::future::Future;
use std::pin::Pin;

use super::{
    Client, ClientError, CodeKind, CodeToken, EmailCodeSent, PasswordToken, SentCode, SignIn,
};
use crate::types;

/// A boxed future (what [`Authenticator`]'s methods return).
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// Supplies what a login needs. Each method may prompt, read a file, or answer from a test.
///
/// The first four are needed by every login; the others only by accounts that meet those
/// paths, and by default say they cannot supply it ([`ClientError::NotProvided`]).
pub trait Authenticator: Send {
    /// The phone number to log in with.
    fn phone(&mut self) -> AuthFuture<'_, String>;
    /// The code sent to the number; [`CodeToken::kind`] says how it was sent and what to
    /// show (`attempt` counts from 1; called again after a wrong code).
    fn code<'a>(&'a mut self, token: &'a CodeToken, attempt: u32) -> AuthFuture<'a, String>;
    /// The 2FA password (called again after a wrong one).
    fn password<'a>(&'a mut self, token: &'a PasswordToken, attempt: u32)
        -> AuthFuture<'a, String>;
    /// First and last name for a new account (the terms of service to accept, if any).
    fn sign_up<'a>(&'a mut self, terms: Option<&'a str>) -> AuthFuture<'a, (String, String)>;

    /// The e-mail address to set up as the login e-mail, when the account must have one
    /// ([`CodeKind::SetUpEmailRequired`]).
    fn login_email(&mut self) -> AuthFuture<'_, String> {
        Box::pin(async { Err(ClientError::NotProvided("a login e-mail to set up")) })
    }
    /// The code sent to that address (called again after a wrong one).
    fn login_email_code<'a>(
        &'a mut self,
        _sent: &'a EmailCodeSent,
        _attempt: u32,
    ) -> AuthFuture<'a, String> {
        Box::pin(async { Err(ClientError::NotProvided("the login e-mail's code")) })
    }
    /// Whether the password is forgotten and should be recovered by e-mail instead; asked
    /// before each password when the account has a recovery e-mail. Default: no.
    fn forgot_password<'a>(&'a mut self, _token: &'a PasswordToken) -> AuthFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }
    /// The recovery code sent to the recovery e-mail shown as `email_pattern` (called again
    /// after a wrong one).
    fn recovery_code<'a>(
        &'a mut self,
        _email_pattern: &'a str,
        _attempt: u32,
    ) -> AuthFuture<'a, String> {
        Box::pin(async { Err(ClientError::NotProvided("the password recovery code")) })
    }
    /// A new password to set when recovering (`None`: the account is left without one).
    fn new_password(&mut self) -> AuthFuture<'_, Option<String>> {
        Box::pin(async { Ok(None) })
    }
}

/// Wrong codes or passwords accepted before the flow gives up.
pub const MAX_ATTEMPTS: u32 = 3;

/// Whether `error` is a wrong code the user may type again.
fn is_wrong_code(error: &ClientError) -> bool {
    matches!(
        error.rpc_name(),
        Some("PHONE_CODE_INVALID" | "EMAIL_CODE_INVALID" | "CODE_INVALID")
    )
}

impl Client {
    /// Logs in: returns at once when the session is already signed in; otherwise sends a
    /// code (offering the session's future auth tokens, so the server may sign in at once)
    /// and signs in, setting up a login e-mail, signing up, checking or recovering the
    /// password as the server asks. Wrong codes and passwords are asked again up to
    /// [`MAX_ATTEMPTS`] times. A code that costs a payment ends in
    /// [`ClientError::PaymentRequired`].
    pub async fn login(
        &self,
        auth: &mut dyn Authenticator,
    ) -> Result<Box<types::User>, ClientError> {
        if self.session().await.user_id.is_some() {
            match self.get_me().await {
                Ok(user) => return Ok(user),
                Err(ClientError::Rpc(e)) if e.code == 401 => {}
                Err(e) => return Err(e),
            }
        }
        let phone = auth.phone().await?;
        let mut sent = self.send_code(&phone).await?;
        let token = loop {
            match sent {
                SentCode::Code(token)
                    if matches!(token.kind, CodeKind::SetUpEmailRequired { .. }) =>
                {
                    sent = self.set_up_login_email(auth, &token).await?;
                }
                SentCode::Code(token) => break token,
                SentCode::SignedIn(user) => return Ok(user),
                SentCode::PaymentRequired(payment) => {
                    return Err(ClientError::PaymentRequired(Box::new(payment)))
                }
            }
        };
        let mut attempt = 1;
        let outcome = loop {
            let code = auth.code(&token, attempt).await?;
            match self.sign_in(&token, &code).await {
                Err(e) if is_wrong_code(&e) && attempt < MAX_ATTEMPTS => attempt += 1,
                other => break other?,
            }
        };
        match outcome {
            SignIn::SignedIn(user) => Ok(user),
            SignIn::SignUpRequired { terms } => {
                let (first, last) = auth.sign_up(terms.as_deref()).await?;
                self.sign_up(&token, &first, &last).await
            }
            SignIn::PasswordRequired(password) => self.password_step(auth, &password).await,
        }
    }

    /// Sets up the login e-mail the server requires, then returns the code it sends.
    async fn set_up_login_email(
        &self,
        auth: &mut dyn Authenticator,
        token: &CodeToken,
    ) -> Result<SentCode, ClientError> {
        let email = auth.login_email().await?;
        let sent = self.send_login_email_code(token, &email).await?;
        let mut attempt = 1;
        loop {
            let code = auth.login_email_code(&sent, attempt).await?;
            match self.verify_login_email(token, &code).await {
                Err(e) if is_wrong_code(&e) && attempt < MAX_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// Checks the 2FA password, or recovers it when the authenticator says it is forgotten.
    pub(super) async fn password_step(
        &self,
        auth: &mut dyn Authenticator,
        password: &PasswordToken,
    ) -> Result<Box<types::User>, ClientError> {
        let mut attempt = 1;
        loop {
            if password.has_recovery && auth.forgot_password(password).await? {
                return self.recovery_step(auth).await;
            }
            let secret = auth.password(password, attempt).await?;
            match self.check_password(password, &secret).await {
                Err(e)
                    if e.rpc_name() == Some("PASSWORD_HASH_INVALID") && attempt < MAX_ATTEMPTS =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// "Forgot password": a code to the recovery e-mail, checked, then signed in with it.
    async fn recovery_step(
        &self,
        auth: &mut dyn Authenticator,
    ) -> Result<Box<types::User>, ClientError> {
        let pattern = self.request_password_recovery().await?;
        let mut attempt = 1;
        let code = loop {
            let code = auth.recovery_code(&pattern, attempt).await?;
            if self.check_recovery_code(&code).await? {
                break code;
            }
            if attempt >= MAX_ATTEMPTS {
                return Err(ClientError::Rpc(mtproto_net::RpcError::new(
                    400,
                    "CODE_INVALID".into(),
                )));
            }
            attempt += 1;
        };
        let new_password = auth.new_password().await?;
        self.recover_password(&code, new_password.as_deref()).await
    }
}
