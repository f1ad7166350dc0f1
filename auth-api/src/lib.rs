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

pub use generated::api::{enums, functions, types, LAYER};
pub use tl_wire::{DecodeError, Deserialize, Identifiable, Reader, RemoteCall, Serialize};

/// The MTProto service schema (`schema/mtproto.tl`): key exchange, service messages.
pub mod mtproto {
    pub use crate::generated::mtproto::{enums, functions, types};
}

/// Older layers kept for compatibility.
pub mod legacy {
    /// Layer 23 (`schema/legacy/layer23.tl`): the 12 `auth.*` calls of the legacy library.
    pub mod layer23 {
        pub use crate::generated::legacy_layer23::{enums, functions, types, LAYER};
    }
}
