//! Typed bindings for Telegram's MTProto login: the MTProto service schema, the `auth.*` API of
//! layer 230 with what login needs, and the legacy layer-23 `auth.*` calls, all generated from
//! the TL schemas by `cargo xtask codegen`.
//!
//! ```
//! use auth_api::{enums, functions, types, RemoteCall};
//! use auth_api::{Deserialize, Serialize};
//!
//! // Build a request: required fields in `new`, optional ones with setters.
//! let settings = types::CodeSettings { allow_flashcall: true, ..Default::default() };
//! let request = functions::auth::SendCode::new(
//!     "+999661234567".into(),
//!     12345,
//!     "0123456789abcdef".into(),
//!     settings.into(),
//! );
//!
//! // Serialize it: the constructor id comes first.
//! let bytes = request.to_bytes();
//! assert_eq!(&bytes[..4], &0xa677244fu32.to_le_bytes());
//!
//! // Read a response of the type the call returns.
//! let answer = types::auth::SentCode {
//!     r#type: types::auth::SentCodeTypeSms { length: 5 }.into(),
//!     phone_code_hash: "hash".into(),
//!     next_type: None,
//!     timeout: Some(60),
//! };
//! let wire = enums::auth::SentCode::from(answer.clone()).to_bytes();
//! let read = <functions::auth::SendCode as RemoteCall>::Return::from_bytes(&wire).unwrap();
//! assert_eq!(read, enums::auth::SentCode::SentCode(answer));
//! ```

#![forbid(unsafe_code)]

#[rustfmt::skip]
mod generated;

pub mod client;

pub use generated::api::{enums, functions, types, LAYER};
pub use tl_wire::{DecodeError, Deserialize, Identifiable, Reader, RemoteCall, Serialize};

/// The TL name of any constructor or function id these bindings know (layer 230, then the
/// service schema, then layer 23), for logs and error messages.
///
/// ```
/// assert_eq!(auth_api::constructor_name(0xa677244f), Some("auth.sendCode"));
/// assert_eq!(auth_api::constructor_name(0x768d5f4d), Some("auth.sendCode")); // layer 23
/// assert_eq!(auth_api::constructor_name(0x62d6b459), Some("msgs_ack"));
/// assert_eq!(auth_api::constructor_name(0), None);
/// ```
pub fn constructor_name(id: u32) -> Option<&'static str> {
    generated::api::name_of(id)
        .or_else(|| mtproto_proto::schema::name_of(id))
        .or_else(|| generated::legacy_layer23::name_of(id))
}

/// The MTProto service schema (`schema/mtproto.tl`): key exchange, service messages.
/// Generated for the runtime (`mtproto_proto::schema`) and re-exported here.
pub mod mtproto {
    pub use mtproto_proto::schema::{enums, functions, types};
}

/// Older layers kept for compatibility.
pub mod legacy {
    /// Layer 23 (`schema/legacy/layer23.tl`): the 12 `auth.*` calls of the legacy library.
    pub mod layer23 {
        pub use crate::generated::legacy_layer23::{enums, functions, types, LAYER};

        /// The legacy library's default `sms_type` of `auth.sendCode` (0: a code by SMS).
        pub const DEFAULT_SMS_TYPE: i32 = 0;
        /// The legacy library's default `lang_code` of `auth.sendCode`.
        pub const DEFAULT_LANG_CODE: &str = "en";

        /// `auth.sendCode` with the legacy library's defaults: `sms_type` 0 and `lang_code`
        /// `"en"` (set the fields to change them).
        ///
        /// ```
        /// use auth_api::legacy::layer23;
        /// use auth_api::{Identifiable, Serialize};
        ///
        /// let request = layer23::send_code("+999661234567", 12345, "0123456789abcdef");
        /// assert_eq!((request.sms_type, request.lang_code.as_str()), (0, "en"));
        /// let bytes = request.to_bytes();
        /// assert_eq!(&bytes[..4], &0x768d5f4du32.to_le_bytes());
        /// assert_eq!(layer23::functions::auth::SendCode::CONSTRUCTOR_ID, 0x768d5f4d);
        /// ```
        pub fn send_code(
            phone_number: impl Into<String>,
            api_id: i32,
            api_hash: impl Into<String>,
        ) -> functions::auth::SendCode {
            functions::auth::SendCode::new(
                phone_number.into(),
                DEFAULT_SMS_TYPE,
                api_id,
                api_hash.into(),
                DEFAULT_LANG_CODE.to_string(),
            )
        }
    }
}
