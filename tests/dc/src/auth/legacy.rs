//! The layer-23 frontend: the legacy library's twelve `auth.*` calls, decoded and answered
//! with `auth_api::legacy::layer23` (the old `user` is `userSelf`, user ids are `int`,
//! `signUp` carries the code, an unknown number is PHONE_NUMBER_UNOCCUPIED).

use auth_api::legacy::layer23::{enums, functions, types};
use auth_api::{Deserialize, Identifiable, Serialize};
use mtproto_proto::session::RpcError;

use super::store::{normalize_phone, rpc, unauthorized, AccountRecord, Code, SendOutcome, SignIn};
use super::{modern, AuthBackend, Ctx};
use crate::backend::CallContext;

/// Answers a layer-23 call.
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
    let (dc, key, now) = (call.dc, call.key_id, cx.now);
    match id {
        functions::auth::CheckPhone::CONSTRUCTOR_ID => {
            let req: functions::auth::CheckPhone = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            if phone.is_empty() {
                return Err(rpc(400, "PHONE_NUMBER_INVALID"));
            }
            let out: enums::auth::CheckedPhone = types::auth::CheckedPhone {
                phone_registered: cx.store().is_registered(&phone),
                phone_invited: false,
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::SendCode::CONSTRUCTOR_ID => {
            let req: functions::auth::SendCode = decode(query)?;
            if req.api_id <= 0 || req.api_hash.is_empty() {
                return Err(rpc(400, "API_ID_INVALID"));
            }
            let phone = normalize_phone(&req.phone_number);
            // Layer 23 knows only phone codes: an account's e-mail or payment settings do
            // not apply, and no future auth token is offered.
            let SendOutcome::Code(info) = cx.store().send_code(dc, key, &phone, &[], true, now)?
            else {
                return Err(rpc(500, "LEGACY_SEND_CODE_UNEXPECTED"));
            };
            let (hash, registered) = (info.hash, info.registered);
            let out: enums::auth::SentCode = types::auth::SentCode {
                phone_registered: registered,
                phone_code_hash: hash,
                send_call_timeout: 120,
                is_password: false,
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::SendCall::CONSTRUCTOR_ID => {
            let req: functions::auth::SendCall = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            cx.store()
                .resend_code(&phone, &req.phone_code_hash, true, now)?;
            Ok(true.to_bytes())
        }
        functions::auth::SendSms::CONSTRUCTOR_ID => {
            let req: functions::auth::SendSms = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            cx.store()
                .resend_code(&phone, &req.phone_code_hash, true, now)?;
            Ok(true.to_bytes())
        }
        functions::auth::SendInvites::CONSTRUCTOR_ID => {
            let req: functions::auth::SendInvites = decode(query)?;
            cx.store().user_of(dc, key, now)?;
            if req
                .phone_numbers
                .iter()
                .any(|p| normalize_phone(p).is_empty())
            {
                return Err(rpc(400, "PHONE_NUMBER_INVALID"));
            }
            Ok(true.to_bytes())
        }
        functions::auth::SignIn::CONSTRUCTOR_ID => {
            let req: functions::auth::SignIn = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            let outcome = cx.store().sign_in(
                dc,
                key,
                &phone,
                &req.phone_code_hash,
                &Code::Phone(&req.phone_code),
                now,
            )?;
            match outcome {
                SignIn::Authorized(account) => authorization(&account),
                SignIn::SignUpRequired => Err(rpc(400, "PHONE_NUMBER_UNOCCUPIED")),
            }
        }
        functions::auth::SignUp::CONSTRUCTOR_ID => {
            let req: functions::auth::SignUp = decode(query)?;
            let phone = normalize_phone(&req.phone_number);
            let account = cx.store().sign_up(
                dc,
                key,
                &phone,
                &req.phone_code_hash,
                Some(&req.phone_code),
                &req.first_name,
                &req.last_name,
                now,
            )?;
            authorization(&account)
        }
        functions::auth::LogOut::CONSTRUCTOR_ID => {
            cx.store().log_out(dc, key, now)?;
            Ok(true.to_bytes())
        }
        functions::auth::ResetAuthorizations::CONSTRUCTOR_ID => {
            cx.store().reset_authorizations(dc, key, now)?;
            Ok(true.to_bytes())
        }
        functions::auth::ExportAuthorization::CONSTRUCTOR_ID => {
            let req: functions::auth::ExportAuthorization = decode(query)?;
            let dcs: Vec<i32> = backend.dc_addrs().iter().map(|(id, _)| *id).collect();
            let (user_id, bytes) = cx
                .store()
                .export_authorization(dc, key, req.dc_id, &dcs, now)?;
            let out: enums::auth::ExportedAuthorization = types::auth::ExportedAuthorization {
                id: legacy_id(user_id)?,
                bytes: bytes.into(),
            }
            .into();
            Ok(out.to_bytes())
        }
        functions::auth::ImportAuthorization::CONSTRUCTOR_ID => {
            let req: functions::auth::ImportAuthorization = decode(query)?;
            let account =
                cx.store()
                    .import_authorization(dc, key, i64::from(req.id), &req.bytes, now)?;
            authorization(&account)
        }
        functions::auth::BindTempAuthKey::CONSTRUCTOR_ID => {
            let req: functions::auth::BindTempAuthKey = decode(query)?;
            modern::bind_temp_auth_key(
                &cx,
                req.perm_auth_key_id,
                req.nonce,
                req.expires_at,
                &req.encrypted_message,
            )?;
            Ok(true.to_bytes())
        }
        _ => Err(rpc(400, "METHOD_NOT_SUPPORTED_IN_TEST")),
    }
}

fn decode<T: Deserialize>(query: &[u8]) -> Result<T, RpcError> {
    T::from_bytes(query).map_err(|error| {
        tracing::debug!(%error, "test dc: a layer-23 call does not decode");
        rpc(400, "INPUT_REQUEST_INVALID")
    })
}

/// Layer 23's user ids are `int`.
fn legacy_id(user_id: i64) -> Result<i32, RpcError> {
    i32::try_from(user_id).map_err(|_| unauthorized())
}

/// Layer 23's `auth.authorization` with `userSelf`.
fn authorization(account: &AccountRecord) -> Result<Vec<u8>, RpcError> {
    let user: enums::User = types::UserSelf {
        id: legacy_id(account.user_id)?,
        first_name: account.first_name.clone(),
        last_name: account.last_name.clone(),
        username: account.username.clone().unwrap_or_default(),
        phone: account.phone.clone(),
        photo: enums::UserProfilePhoto::Empty,
        status: enums::UserStatus::Empty,
        inactive: false,
    }
    .into();
    let out: enums::auth::Authorization = types::auth::Authorization {
        expires: i32::MAX,
        user,
    }
    .into();
    Ok(out.to_bytes())
}
