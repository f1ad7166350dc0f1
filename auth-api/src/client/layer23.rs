//! The legacy library's surface: its twelve `auth.*` calls at layer 23, typed, over the
//! same client (a [`super::ClientConfig`] with `layer = 23` declares layer 23 with its own
//! `initConnection`). Each call returns the layer-23 type.

use super::{Client, ClientError};
use crate::legacy::layer23::{self, enums, functions};

/// The twelve layer-23 calls (from [`Client::layer23`]).
#[derive(Clone, Copy, Debug)]
pub struct Layer23<'a> {
    pub(super) client: &'a Client,
}

impl Layer23<'_> {
    /// `auth.checkPhone`: whether the number is registered (and invited).
    pub async fn check_phone(&self, phone: &str) -> Result<enums::auth::CheckedPhone, ClientError> {
        self.client
            .invoke(&functions::auth::CheckPhone::new(phone.into()))
            .await
    }

    /// `auth.sendCode` with the legacy defaults: `sms_type` 0 and `lang_code` "en".
    pub async fn send_code(&self, phone: &str) -> Result<enums::auth::SentCode, ClientError> {
        self.send_code_with(phone, layer23::DEFAULT_SMS_TYPE, layer23::DEFAULT_LANG_CODE)
            .await
    }

    /// `auth.sendCode` with an explicit `sms_type` and `lang_code`.
    pub async fn send_code_with(
        &self,
        phone: &str,
        sms_type: i32,
        lang_code: &str,
    ) -> Result<enums::auth::SentCode, ClientError> {
        let config = &self.client.inner.config;
        let request = functions::auth::SendCode::new(
            phone.into(),
            sms_type,
            config.api_id,
            config.api_hash.clone(),
            lang_code.into(),
        );
        self.client.invoke(&request).await
    }

    /// `auth.sendCall`: the code by a phone call.
    pub async fn send_call(&self, phone: &str, phone_code_hash: &str) -> Result<bool, ClientError> {
        self.client
            .invoke(&functions::auth::SendCall::new(
                phone.into(),
                phone_code_hash.into(),
            ))
            .await
    }

    /// `auth.sendSms`: the code by SMS again.
    pub async fn send_sms(&self, phone: &str, phone_code_hash: &str) -> Result<bool, ClientError> {
        self.client
            .invoke(&functions::auth::SendSms::new(
                phone.into(),
                phone_code_hash.into(),
            ))
            .await
    }

    /// `auth.sendInvites`: invitations to these numbers.
    pub async fn send_invites(
        &self,
        phones: Vec<String>,
        message: &str,
    ) -> Result<bool, ClientError> {
        self.client
            .invoke(&functions::auth::SendInvites::new(phones, message.into()))
            .await
    }

    /// `auth.signIn` with the code.
    pub async fn sign_in(
        &self,
        phone: &str,
        phone_code_hash: &str,
        code: &str,
    ) -> Result<enums::auth::Authorization, ClientError> {
        self.client
            .invoke(&functions::auth::SignIn::new(
                phone.into(),
                phone_code_hash.into(),
                code,
            ))
            .await
    }

    /// `auth.signUp` (layer 23 carries the code itself).
    pub async fn sign_up(
        &self,
        phone: &str,
        phone_code_hash: &str,
        code: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<enums::auth::Authorization, ClientError> {
        self.client
            .invoke(&functions::auth::SignUp::new(
                phone.into(),
                phone_code_hash.into(),
                code,
                first_name.into(),
                last_name.into(),
            ))
            .await
    }

    /// `auth.logOut`.
    pub async fn log_out(&self) -> Result<bool, ClientError> {
        self.client.invoke(&functions::auth::LogOut {}).await
    }

    /// `auth.resetAuthorizations`.
    pub async fn reset_authorizations(&self) -> Result<bool, ClientError> {
        self.client
            .invoke(&functions::auth::ResetAuthorizations {})
            .await
    }

    /// `auth.exportAuthorization` for DC `dc_id`.
    pub async fn export_authorization(
        &self,
        dc_id: i32,
    ) -> Result<enums::auth::ExportedAuthorization, ClientError> {
        self.client
            .invoke(&functions::auth::ExportAuthorization::new(dc_id))
            .await
    }

    /// `auth.importAuthorization` (layer 23's user ids are `int`).
    pub async fn import_authorization(
        &self,
        user_id: i32,
        bytes: Vec<u8>,
    ) -> Result<enums::auth::Authorization, ClientError> {
        self.client
            .invoke(&functions::auth::ImportAuthorization::new(user_id, bytes))
            .await
    }

    /// `auth.bindTempAuthKey` (the caller builds the MTProto 1.0 bind message).
    pub async fn bind_temp_auth_key(
        &self,
        perm_auth_key_id: i64,
        nonce: i64,
        expires_at: i32,
        encrypted_message: Vec<u8>,
    ) -> Result<bool, ClientError> {
        self.client
            .invoke(&functions::auth::BindTempAuthKey::new(
                perm_auth_key_id,
                nonce,
                expires_at,
                encrypted_message,
            ))
            .await
    }
}
