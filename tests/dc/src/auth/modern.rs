//! The layer-230 frontend: decodes each call with the generated bindings, runs it on the
//! [`Store`](super::store::Store), encodes the outcome. Clients of older modern layers
//! reach it re-encoded by the server ([`crate::layers`]).

use auth_api::{enums, functions, types, Deserialize, Identifiable, Serialize};
use mtproto_crypto::pfs::{decrypt_bind_message, BindOuter};
use mtproto_proto::session::RpcError;

use super::objects::{self, GET_DIFFERENCE_ID};
use super::store::{normalize_phone, rpc, SignIn, TokenOutcome};
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
            Ok(objects::authorization(&account).to_bytes())
        }
        functions::account::GetPassword::CONSTRUCTOR_ID => get_password(&cx),
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
            Ok(objects::authorization(&account).to_bytes())
        }
        functions::auth::LogOut::CONSTRUCTOR_ID => {
            cx.store().log_out(call.dc, call.key_id, cx.now)?;
            let out: enums::auth::LoggedOut = types::auth::LoggedOut {
                future_auth_token: None,
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
            let out: enums::auth::ExportedAuthorization =
                types::auth::ExportedAuthorization { id, bytes }.into();
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
            Ok(objects::authorization(&account).to_bytes())
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

fn sent_code(hash: String, len: usize, by_sms: bool) -> Vec<u8> {
    let length = len as i32;
    let code: enums::auth::SentCode = types::auth::SentCode {
        r#type: if by_sms {
            types::auth::SentCodeTypeSms { length }.into()
        } else {
            types::auth::SentCodeTypeApp { length }.into()
        },
        phone_code_hash: hash,
        next_type: Some(enums::auth::CodeType::Sms),
        timeout: Some(60),
    }
    .into();
    code.to_bytes()
}

fn send_code(cx: &Ctx<'_>, req: functions::auth::SendCode) -> Result<Vec<u8>, RpcError> {
    check_app(req.api_id, &req.api_hash)?;
    let phone = normalize_phone(&req.phone_number);
    let (hash, _, len) = cx.store().send_code(cx.call.dc, &phone, cx.now)?;
    Ok(sent_code(hash, len, false))
}

fn resend_code(cx: &Ctx<'_>, req: functions::auth::ResendCode) -> Result<Vec<u8>, RpcError> {
    let phone = normalize_phone(&req.phone_number);
    let len = cx
        .store()
        .resend_code(&phone, &req.phone_code_hash, cx.now)?;
    Ok(sent_code(req.phone_code_hash, len, true))
}

fn sign_in(cx: &Ctx<'_>, req: functions::auth::SignIn) -> Result<Vec<u8>, RpcError> {
    let phone = normalize_phone(&req.phone_number);
    let code = req.phone_code.unwrap_or_default();
    let outcome = cx.store().sign_in(
        cx.call.dc,
        cx.call.key_id,
        &phone,
        &req.phone_code_hash,
        &code,
        cx.now,
    )?;
    Ok(match outcome {
        SignIn::Authorized(account) => objects::authorization(&account).to_bytes(),
        SignIn::SignUpRequired => {
            let out: enums::auth::Authorization = types::auth::AuthorizationSignUpRequired {
                terms_of_service: None,
            }
            .into();
            out.to_bytes()
        }
    })
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
            salt1: vec![0x5a; 8],
            salt2: vec![0xa5; 16],
            g: 3,
            p: mtproto_crypto::DhParams::telegram().p_bytes().to_vec(),
        },
    );
    let out: enums::account::Password = types::account::Password {
        has_recovery: false,
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
            token,
        }
        .into(),
        TokenOutcome::Authorized(account) => types::auth::LoginTokenSuccess {
            authorization: objects::authorization(&account),
        }
        .into(),
        TokenOutcome::MigrateTo { dc, token } => {
            types::auth::LoginTokenMigrateTo { dc_id: dc, token }.into()
        }
    };
    out.to_bytes()
}
