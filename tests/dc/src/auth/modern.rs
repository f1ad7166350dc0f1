//! The layer-230 frontend: decodes each call with the generated bindings, runs it on the
//! [`Store`](super::store::Store), encodes the outcome. Clients of older modern layers
//! reach it re-encoded by the server ([`crate::layers`]).

use auth_api::{enums, functions, types, Deserialize, Identifiable, Serialize};
use mtproto_crypto::pfs::{decrypt_bind_message, BindOuter};
use mtproto_proto::session::RpcError;

use super::objects::{self, GET_DIFFERENCE_ID};
use super::store::{
    email_pattern, normalize_phone, rpc, AccountRecord, Code, SendOutcome, Sent, SentInfo, SignIn,
    TokenOutcome, FLASH_CALL_PREFIX,
};
use super::CodeDelivery;
use super::{AuthBackend, Ctx};
use crate::backend::CallContext;

/// Answers a layer-230 call.
pub(super) fn answer(
    backend: &AuthBackend,
    call: &CallContext,
    query: &[u8],
) -> Result<Vec<u8>, RpcError> {
    let cx = Ctx::new(backend, call);
    let id = query
        .get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| rpc(400, "INPUT_REQUEST_INVALID"))?;
    match id {
        functions::help::GetConfig::CONSTRUCTOR_ID => {
            Ok(objects::config(call.dc, &backend.dc_addrs(), cx.now as i32).to_bytes())
        }
        functions::help::GetNearestDc::CONSTRUCTOR_ID => {
            Ok(objects::nearest_dc(call.dc).to_bytes())
        }
        functions::auth::SendCode::CONSTRUCTOR_ID => send_code(&cx, decode(query)?),
        functions::auth::ResendCode::CONSTRUCTOR_ID => resend_code(&cx, decode(query)?),
        functions::auth::CancelCode::CONSTRUCTOR_ID => {
            let req: functions::auth::CancelCode = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            cx.store()
                .cancel_code(&phone, &req.phone_code_hash, cx.now)?;
            Ok(true.to_bytes())
        }
        functions::auth::SignIn::CONSTRUCTOR_ID => sign_in(&cx, decode(query)?),
        functions::auth::SignUp::CONSTRUCTOR_ID => {
            let req: functions::auth::SignUp = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            let account = cx.store().sign_up(
                call.dc,
                call.key_id,
                &phone,
                &req.phone_code_hash,
                None,
                &req.first_name,
                &req.last_name,
                cx.now,
            )?;
            Ok(authorization(&cx, &account).to_bytes())
        }
        functions::account::GetPassword::CONSTRUCTOR_ID => get_password(&cx),
        functions::account::SendVerifyEmailCode::CONSTRUCTOR_ID => {
            let req: functions::account::SendVerifyEmailCode = decode(query)?;
            let (phone, hash) = login_setup(req.purpose)?;
            let length = cx
                .store()
                .send_setup_email_code(&phone, &hash, &req.email, cx.now)?;
            let out: enums::account::SentEmailCode = types::account::SentEmailCode {
                email_pattern: email_pattern(&req.email),
                length: length as i32,
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::account::VerifyEmail::CONSTRUCTOR_ID => {
            let req: functions::account::VerifyEmail = decode(query)?;
            let (phone, hash) = login_setup(req.purpose)?;
            let enums::EmailVerification::Code(code) = req.verification else {
                return Err(rpc(400, "EMAIL_VERIFICATION_UNSUPPORTED_IN_TEST"));
            };
            let (email, info) = cx
                .store()
                .verify_setup_email(&phone, &hash, &code.code, cx.now)?;
            let out: enums::account::EmailVerified = types::account::EmailVerifiedLogin {
                email,
                sent_code: sent_code(&info),
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::RequestPasswordRecovery::CONSTRUCTOR_ID => {
            let email = cx
                .store()
                .request_password_recovery(call.dc, call.key_id, cx.now)?;
            let out: enums::auth::PasswordRecovery = types::auth::PasswordRecovery {
                email_pattern: email_pattern(&email),
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::CheckRecoveryPassword::CONSTRUCTOR_ID => {
            let req: functions::auth::CheckRecoveryPassword = decode(query)?;
            cx.store()
                .check_recovery_code(call.dc, call.key_id, &req.code, cx.now)?;
            Ok(true.to_bytes())
        }
        functions::auth::RecoverPassword::CONSTRUCTOR_ID => {
            let req: functions::auth::RecoverPassword = decode(query)?;
            let new_password = match req.new_settings {
                Some(settings) => new_password(&cx, settings)?,
                None => None,
            };
            let account = cx.store().recover_password(
                call.dc,
                call.key_id,
                &req.code,
                new_password,
                cx.now,
            )?;
            Ok(authorization(&cx, &account).to_bytes())
        }
        functions::auth::CheckPassword::CONSTRUCTOR_ID => {
            let req: functions::auth::CheckPassword = decode(query)?;
            let enums::InputCheckPasswordSrp::InputCheckPasswordSrp(srp) = req.password else {
                return Err(rpc(400, "PASSWORD_HASH_INVALID"));
            };
            let account = cx.store().check_password(
                call.dc,
                call.key_id,
                srp.srp_id,
                &srp.a,
                &srp.m1,
                cx.now,
            )?;
            Ok(authorization(&cx, &account).to_bytes())
        }
        functions::auth::LogOut::CONSTRUCTOR_ID => {
            let future_auth_token = cx.store().log_out(call.dc, call.key_id, cx.now)?;
            let out: enums::auth::LoggedOut = types::auth::LoggedOut {
                future_auth_token: future_auth_token.map(Into::into),
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::ResetAuthorizations::CONSTRUCTOR_ID => {
            cx.store()
                .reset_authorizations(call.dc, call.key_id, cx.now)?;
            Ok(true.to_bytes())
        }
        functions::auth::ExportAuthorization::CONSTRUCTOR_ID => {
            let req: functions::auth::ExportAuthorization = decode(query)?;
            let dcs: Vec<i32> = backend.dc_addrs().iter().map(|(id, _)| *id).collect();
            let (id, bytes) =
                cx.store()
                    .export_authorization(call.dc, call.key_id, req.dc_id, &dcs, cx.now)?;
            let out: enums::auth::ExportedAuthorization = types::auth::ExportedAuthorization {
                id,
                bytes: bytes.into(),
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::ImportAuthorization::CONSTRUCTOR_ID => {
            let req: functions::auth::ImportAuthorization = decode(query)?;
            let account = cx.store().import_authorization(
                call.dc,
                call.key_id,
                req.id,
                &req.bytes,
                cx.now,
            )?;
            Ok(authorization(&cx, &account).to_bytes())
        }
        functions::auth::BindTempAuthKey::CONSTRUCTOR_ID => {
            let req: functions::auth::BindTempAuthKey = decode(query)?;
            bind_temp_auth_key(
                &cx,
                req.perm_auth_key_id,
                req.nonce,
                req.expires_at,
                &req.encrypted_message,
            )?;
            Ok(true.to_bytes())
        }
        functions::auth::ImportBotAuthorization::CONSTRUCTOR_ID => {
            let req: functions::auth::ImportBotAuthorization = decode(query)?;
            check_app(req.api_id, &req.api_hash)?;
            let bot = cx
                .store()
                .bot_sign_in(call.dc, call.key_id, &req.bot_auth_token, cx.now)?;
            Ok(objects::authorization(&bot).to_bytes())
        }
        functions::auth::ExportLoginToken::CONSTRUCTOR_ID => {
            let _: functions::auth::ExportLoginToken = decode(query)?;
            let outcome = cx
                .store()
                .export_login_token(call.dc, call.key_id, cx.now)?;
            Ok(login_token(outcome))
        }
        functions::auth::ImportLoginToken::CONSTRUCTOR_ID => {
            let req: functions::auth::ImportLoginToken = decode(query)?;
            let outcome =
                cx.store()
                    .import_login_token(call.dc, call.key_id, &req.token, cx.now)?;
            Ok(login_token(outcome))
        }
        functions::auth::AcceptLoginToken::CONSTRUCTOR_ID => {
            let req: functions::auth::AcceptLoginToken = decode(query)?;
            let (dc, key_id) =
                cx.store()
                    .accept_login_token(call.dc, call.key_id, &req.token, cx.now)?;
            backend.push_update(dc, key_id, objects::update_login_token(cx.now as i32));
            Ok(objects::session_info(key_id, call.init.as_ref(), cx.now as i32).to_bytes())
        }
        functions::users::GetUsers::CONSTRUCTOR_ID => {
            let req: functions::users::GetUsers = decode(query)?;
            let store = cx.store();
            let me = store.user_of(call.dc, call.key_id, cx.now)?;
            let users: Vec<enums::User> = req
                .id
                .iter()
                .filter_map(|input| match input {
                    enums::InputUser::Self_ => Some(objects::user(me, true)),
                    enums::InputUser::InputUser(u) => store
                        .account(u.user_id)
                        .map(|a| objects::user(a, a.user_id == me.user_id)),
                    _ => None,
                })
                .collect();
            Ok(users.to_bytes())
        }
        functions::updates::GetState::CONSTRUCTOR_ID => {
            cx.store().user_of(call.dc, call.key_id, cx.now)?;
            Ok(objects::state(backend.inner.started).to_bytes())
        }
        GET_DIFFERENCE_ID => {
            cx.store().user_of(call.dc, call.key_id, cx.now)?;
            Ok(objects::difference_empty(cx.now as i32, 1))
        }
        _ => Err(rpc(400, "METHOD_NOT_SUPPORTED_IN_TEST")),
    }
}

fn decode<T: Deserialize>(query: &[u8]) -> Result<T, RpcError> {
    T::from_bytes(query).map_err(|error| {
        tracing::debug!(%error, "test dc: a call does not decode");
        rpc(400, "INPUT_REQUEST_INVALID")
    })
}

fn check_app(api_id: i32, api_hash: &str) -> Result<(), RpcError> {
    if api_id <= 0 || api_hash.is_empty() {
        return Err(rpc(400, "API_ID_INVALID"));
    }
    Ok(())
}

/// `auth.authorization` for a login, with a new future auth token (none for bots).
fn authorization(cx: &Ctx<'_>, account: &AccountRecord) -> enums::auth::Authorization {
    let token = cx.store().future_auth_token(account, cx.now);
    objects::authorization_with_token(account, token)
}

/// The `(phone, phone_code_hash)` of an `emailVerifyPurposeLoginSetup` (other purposes are
/// not served).
fn login_setup(purpose: enums::EmailVerifyPurpose) -> Result<(String, String), RpcError> {
    match purpose {
        enums::EmailVerifyPurpose::LoginSetup(p) => {
            Ok((normalize_phone(&p.phone_number), p.phone_code_hash))
        }
        _ => Err(rpc(400, "EMAIL_VERIFY_PURPOSE_UNSUPPORTED_IN_TEST")),
    }
}

/// The `auth.sentCode` describing a sent code.
fn sent_code(info: &SentInfo) -> enums::auth::SentCode {
    let length = info.code.chars().count() as i32;
    let kind: enums::auth::SentCodeType = match &info.sent {
        Sent::SetUpEmail => types::auth::SentCodeTypeSetUpEmailRequired {
            apple_signin_allowed: false,
            google_signin_allowed: false,
        }
        .into(),
        Sent::Email(email) => types::auth::SentCodeTypeEmailCode {
            apple_signin_allowed: false,
            google_signin_allowed: false,
            email_pattern: email_pattern(email),
            length,
            reset_available_period: None,
            reset_pending_date: None,
        }
        .into(),
        Sent::Phone(delivery) => match delivery {
            CodeDelivery::App => types::auth::SentCodeTypeApp { length }.into(),
            CodeDelivery::Sms => types::auth::SentCodeTypeSms { length }.into(),
            CodeDelivery::Call => types::auth::SentCodeTypeCall { length }.into(),
            CodeDelivery::FlashCall => types::auth::SentCodeTypeFlashCall {
                pattern: format!("+{FLASH_CALL_PREFIX}*"),
            }
            .into(),
            CodeDelivery::MissedCall => types::auth::SentCodeTypeMissedCall {
                prefix: format!("+{FLASH_CALL_PREFIX}"),
                length,
            }
            .into(),
            CodeDelivery::FragmentSms => types::auth::SentCodeTypeFragmentSms {
                url: format!("https://fragment.com/number/{}/code", info.hash),
                length,
            }
            .into(),
            CodeDelivery::FirebaseSms => types::auth::SentCodeTypeFirebaseSms {
                nonce: None,
                play_integrity_project_id: None,
                play_integrity_nonce: None,
                receipt: None,
                push_timeout: None,
                length,
            }
            .into(),
            CodeDelivery::SmsWord => types::auth::SentCodeTypeSmsWord {
                beginning: info.code.chars().next().map(String::from),
            }
            .into(),
            CodeDelivery::SmsPhrase => types::auth::SentCodeTypeSmsPhrase {
                beginning: info.code.split(' ').next().map(String::from),
            }
            .into(),
        },
    };
    let next_type = info.sent.next().map(|next| match next {
        CodeDelivery::Call => enums::auth::CodeType::Call,
        CodeDelivery::FlashCall => enums::auth::CodeType::FlashCall,
        CodeDelivery::MissedCall => enums::auth::CodeType::MissedCall,
        CodeDelivery::FragmentSms => enums::auth::CodeType::FragmentSms,
        _ => enums::auth::CodeType::Sms,
    });
    types::auth::SentCode {
        r#type: kind,
        phone_code_hash: info.hash.clone(),
        timeout: next_type.as_ref().map(|_| 60),
        next_type,
    }
    .into()
}

fn send_code(cx: &Ctx<'_>, req: functions::auth::SendCode) -> Result<Vec<u8>, RpcError> {
    check_app(req.api_id, &req.api_hash)?;
    let phone = normalize_phone(&req.phone_number);
    let enums::CodeSettings::CodeSettings(settings) = req.settings;
    let tokens = settings.logout_tokens.unwrap_or_default();
    let outcome =
        cx.store()
            .send_code(cx.call.dc, cx.call.key_id, &phone, &tokens, false, cx.now)?;
    let out: enums::auth::SentCode = match outcome {
        SendOutcome::Code(info) => sent_code(&info),
        SendOutcome::Authorized(account) => types::auth::SentCodeSuccess {
            authorization: authorization(cx, &account),
        }
        .into(),
        SendOutcome::PaymentRequired { hash } => types::auth::SentCodePaymentRequired {
            store_product: "org.telegram.test.login_code".into(),
            phone_code_hash: hash,
            support_email_address: "login-support@test-dc.invalid".into(),
            support_email_subject: format!("Login code for +{phone}"),
            premium_days: 7,
            currency: "USD".into(),
            amount: 199,
        }
        .into(),
    };
    Ok(out.to_bytes())
}

fn resend_code(cx: &Ctx<'_>, req: functions::auth::ResendCode) -> Result<Vec<u8>, RpcError> {
    let phone = normalize_phone(&req.phone_number);
    let info = cx
        .store()
        .resend_code(&phone, &req.phone_code_hash, false, cx.now)?;
    Ok(sent_code(&info).to_bytes())
}

fn sign_in(cx: &Ctx<'_>, req: functions::auth::SignIn) -> Result<Vec<u8>, RpcError> {
    let phone = normalize_phone(&req.phone_number);
    let code = match (&req.phone_code, &req.email_verification) {
        (_, Some(enums::EmailVerification::Code(c))) => Code::Email(&c.code),
        (_, Some(_)) => return Err(rpc(400, "EMAIL_VERIFICATION_UNSUPPORTED_IN_TEST")),
        (Some(code), None) => Code::Phone(code),
        (None, None) => Code::Phone(""),
    };
    let outcome = cx.store().sign_in(
        cx.call.dc,
        cx.call.key_id,
        &phone,
        &req.phone_code_hash,
        &code,
        cx.now,
    )?;
    Ok(match outcome {
        SignIn::Authorized(account) => authorization(cx, &account).to_bytes(),
        SignIn::SignUpRequired => {
            let out: enums::auth::Authorization = types::auth::AuthorizationSignUpRequired {
                terms_of_service: None,
            }
            .into();
            out.to_bytes()
        }
    })
}

/// The salt a new password's `salt1` must start with (`account.password.new_algo`).
const NEW_SALT1: [u8; 8] = [0x5a; 8];

/// The password `account.passwordInputSettings` sets: its SRP parameters and verifier;
/// `None` when it sets none.
fn new_password(
    cx: &Ctx<'_>,
    settings: enums::account::PasswordInputSettings,
) -> Result<Option<super::store::PasswordRecord>, RpcError> {
    let enums::account::PasswordInputSettings::PasswordInputSettings(settings) = settings;
    let (Some(algo), Some(verifier)) = (settings.new_algo, settings.new_password_hash) else {
        return Ok(None);
    };
    let enums::PasswordKdfAlgo::Sha256sha256pbkdf2hmacsha512iter100000Sha256ModPow(algo) = algo
    else {
        return Err(rpc(400, "NEW_SETTINGS_INVALID"));
    };
    if !algo.salt1.starts_with(&NEW_SALT1) || algo.salt1.len() <= NEW_SALT1.len() {
        return Err(rpc(400, "NEW_SALT_INVALID"));
    }
    cx.store()
        .new_password_record(
            &algo.salt1,
            &algo.salt2,
            algo.g,
            &algo.p,
            verifier.into_inner(),
            settings.hint,
        )
        .map(Some)
}

fn get_password(cx: &Ctx<'_>) -> Result<Vec<u8>, RpcError> {
    let (account, check) = cx
        .store()
        .password_check(cx.call.dc, cx.call.key_id, cx.now)?;
    let mut secure_random = vec![0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secure_random);
    let current_algo = account.password.as_ref().map(|p| {
        let group = p.params.group();
        enums::PasswordKdfAlgo::from(
            types::PasswordKdfAlgoSha256sha256pbkdf2hmacsha512iter100000Sha256ModPow {
                salt1: p.params.salt1().to_vec(),
                salt2: p.params.salt2().to_vec(),
                g: group.g() as i32,
                p: group.p_bytes().to_vec(),
            },
        )
    });
    let new_algo = enums::PasswordKdfAlgo::from(
        types::PasswordKdfAlgoSha256sha256pbkdf2hmacsha512iter100000Sha256ModPow {
            salt1: NEW_SALT1.to_vec(),
            salt2: vec![0xa5; 16],
            g: 3,
            p: mtproto_crypto::DhParams::telegram().p_bytes().to_vec(),
        },
    );
    let out: enums::account::Password = types::account::Password {
        has_recovery: account.recovery_email.is_some(),
        has_secure_values: false,
        has_password: current_algo.is_some(),
        current_algo,
        srp_b: check.map(|(_, b)| b.to_vec()),
        srp_id: check.map(|(id, _)| id),
        hint: account.password.as_ref().and_then(|p| p.hint.clone()),
        email_unconfirmed_pattern: None,
        new_algo,
        new_secure_algo: types::SecurePasswordKdfAlgoPbkdf2hmacsha512iter100000 {
            salt: vec![0x3c; 8],
        }
        .into(),
        secure_random,
        pending_reset_date: None,
        login_email_pattern: None,
    }
    .into();
    Ok(out.to_bytes())
}

/// Verifies `auth.bindTempAuthKey`'s MTProto 1.0 bind message (shared with layer 23).
pub(super) fn bind_temp_auth_key(
    cx: &Ctx<'_>,
    perm_auth_key_id: i64,
    nonce: i64,
    expires_at: i32,
    encrypted_message: &[u8],
) -> Result<(), RpcError> {
    let call = cx.call;
    if call.temp_expires_at.is_none() {
        return Err(rpc(400, "TEMP_AUTH_KEY_EMPTY"));
    }
    let Some(perm_key) = call.server.auth_key(perm_auth_key_id) else {
        return Err(rpc(400, "PERM_AUTH_KEY_INVALID"));
    };
    if call.server.temp_expiry(perm_auth_key_id).is_some() {
        return Err(rpc(400, "PERM_AUTH_KEY_INVALID"));
    }
    let inner =
        decrypt_bind_message(&perm_key, encrypted_message, call.msg_id).map_err(|error| {
            tracing::debug!(%error, "test dc: bind message refused");
            rpc(400, "ENCRYPTED_MESSAGE_INVALID")
        })?;
    inner
        .check_outer(&BindOuter {
            nonce,
            perm_auth_key_id,
            expires_at,
            temp_auth_key_id: call.key_id,
            temp_session_id: call.session_id,
        })
        .map_err(|error| {
            tracing::debug!(%error, "test dc: bind message refused");
            rpc(400, "ENCRYPTED_MESSAGE_INVALID")
        })?;
    let expires_at = i64::from(expires_at).min(call.temp_expires_at.unwrap_or(i64::MAX));
    cx.store()
        .bind(call.dc, call.key_id, perm_auth_key_id, expires_at);
    Ok(())
}

fn login_token(outcome: TokenOutcome) -> Vec<u8> {
    let out: enums::auth::LoginToken = match outcome {
        TokenOutcome::Waiting { token, expires_at } => types::auth::LoginToken {
            expires: expires_at as i32,
            token: token.into(),
        }
        .into(),
        TokenOutcome::Authorized(account) => types::auth::LoginTokenSuccess {
            authorization: objects::authorization(&account),
        }
        .into(),
        TokenOutcome::MigrateTo { dc, token } => types::auth::LoginTokenMigrateTo {
            dc_id: dc,
            token: token.into(),
        }
        .into(),
    };
    out.to_bytes()
}
