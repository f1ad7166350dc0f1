//! The whole login as one call: [`Client::login`] asks an [`Authenticator`] for what it
//! needs (phone, code, password, names for sign-up) and runs the steps, so the same flow
//! serves a terminal prompt and a test.

use std::future::Future;
use std::pin::Pin;

use super::{Client, ClientError, CodeToken, PasswordToken, SignIn};
use crate::types;

/// A boxed future (what [`Authenticator`]'s methods return).
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// Supplies what a login needs. Each method may prompt, read a file, or answer from a test.
pub trait Authenticator: Send {
    /// The phone number to log in with.
    fn phone(&mut self) -> AuthFuture<'_, String>;
    /// The code sent to the number (`attempt` counts from 1; called again after a wrong
    /// code).
    fn code<'a>(&'a mut self, token: &'a CodeToken, attempt: u32) -> AuthFuture<'a, String>;
    /// The 2FA password (called again after a wrong one).
    fn password<'a>(&'a mut self, token: &'a PasswordToken, attempt: u32)
        -> AuthFuture<'a, String>;
    /// First and last name for a new account (the terms of service to accept, if any).
    fn sign_up<'a>(&'a mut self, terms: Option<&'a str>) -> AuthFuture<'a, (String, String)>;
}

/// Wrong codes or passwords accepted before the flow gives up.
pub const MAX_ATTEMPTS: u32 = 3;

impl Client {
    /// Logs in: returns at once when the session is already signed in; otherwise sends a
    /// code and signs in, signing up or checking the password as the server asks. Wrong
    /// codes and passwords are asked again up to [`MAX_ATTEMPTS`] times.
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
        let token = self.send_code(&phone).await?;
        let mut attempt = 1;
        let outcome = loop {
            let code = auth.code(&token, attempt).await?;
            match self.sign_in(&token, &code).await {
                Err(e) if e.rpc_name() == Some("PHONE_CODE_INVALID") && attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                }
                other => break other?,
            }
        };
        match outcome {
            SignIn::SignedIn(user) => Ok(user),
            SignIn::SignUpRequired { terms } => {
                let (first, last) = auth.sign_up(terms.as_deref()).await?;
                self.sign_up(&token, &first, &last).await
            }
            SignIn::PasswordRequired(password) => {
                let mut attempt = 1;
                loop {
                    let secret = auth.password(&password, attempt).await?;
                    match self.check_password(&password, &secret).await {
                        Err(e)
                            if e.rpc_name() == Some("PASSWORD_HASH_INVALID")
                                && attempt < MAX_ATTEMPTS =>
                        {
                            attempt += 1;
                        }
                        other => return other,
                    }
                }
            }
        }
    }
}
