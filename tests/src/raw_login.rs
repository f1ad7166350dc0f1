//! A login over a bare runtime connection (`mtproto_net::Connection`, no `auth_api::client`):
//! what the test DC's hostile-client test and load example measure the server with.

use auth_api::{enums, functions, types};
use mtproto_net::Connection;

/// The api_id the raw logins declare.
pub const API_ID: i32 = 611_335;
/// The api_hash the raw logins declare.
pub const API_HASH: &str = "d524b414d21f4d37f08684c1df41ac9c";

/// `auth.sendCode` inside `invokeWithLayer(initConnection(...))` (as a connection's first
/// call is), then `auth.signIn` with `code`: the user id the server logged the key in as.
/// `device` names the caller in `initConnection`.
pub async fn log_in(
    conn: &Connection,
    phone: &str,
    code: &str,
    device: &str,
) -> Result<i64, String> {
    let send_code = functions::auth::SendCode::new(
        phone.into(),
        API_ID,
        API_HASH.into(),
        types::CodeSettings::default().into(),
    );
    let init = functions::InitConnection::new(
        API_ID,
        device.into(),
        "Linux".into(),
        "1.0".into(),
        "en".into(),
        String::new(),
        "en".into(),
        send_code,
    );
    let sent = conn
        .invoke(&functions::InvokeWithLayer::new(auth_api::LAYER, init))
        .await
        .map_err(|e| format!("auth.sendCode: {e}"))?;
    let enums::auth::SentCode::SentCode(sent) = sent else {
        return Err(format!("auth.sendCode answered {sent:?}"));
    };
    let sign_in = functions::auth::SignIn::new(phone.into(), sent.phone_code_hash).phone_code(code);
    match conn.invoke(&sign_in).await {
        Ok(enums::auth::Authorization::Authorization(auth)) => match auth.user {
            enums::User::User(user) => Ok(user.id),
            other => Err(format!("auth.signIn gave {other:?}")),
        },
        Ok(other) => Err(format!("auth.signIn answered {other:?}")),
        Err(e) => Err(format!("auth.signIn: {e}")),
    }
}
