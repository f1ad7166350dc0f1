//! Peels the wrappers a client puts around its calls: `invokeWithLayer`, `initConnection`
//! (layer 230's and layer 23's forms), `invokeWithoutUpdates`, `invokeAfterMsg`, in any
//! nesting order, and says what they declared.

use auth_api::legacy::layer23::functions as legacy;
use auth_api::{functions, Deserialize, Identifiable, Reader};
use tl_wire::{DecodeError, RawObject};

use crate::backend::InitConnection;

/// `invokeAfterMsg#cb9f372d {X:Type} msg_id:long query:!X = X;` (not in the bindings).
const INVOKE_AFTER_MSG_ID: u32 = 0xcb9f_372d;

/// More nested wrappers than this is an invalid request.
const MAX_WRAPPERS: usize = 8;

/// A request without its wrappers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unwrapped {
    /// The wrappers, outermost first.
    pub wrappers: Vec<&'static str>,
    /// `invokeWithLayer`'s layer, if present.
    pub layer: Option<i32>,
    /// `initConnection`'s fields, if present.
    pub init: Option<InitConnection>,
    /// The inner call.
    pub query: Vec<u8>,
}

/// Why a request could not be unwrapped.
#[derive(Debug, thiserror::Error)]
pub enum UnwrapError {
    /// A wrapper did not decode.
    #[error("{wrapper} does not decode: {source}")]
    Decode {
        /// Which wrapper.
        wrapper: &'static str,
        /// Why.
        source: DecodeError,
    },
    /// Wrappers nested deeper than the server accepts.
    #[error("more than {MAX_WRAPPERS} nested wrappers")]
    TooDeep,
    /// No constructor id where a call should start.
    #[error("a request of {len} bytes has no constructor id")]
    Empty {
        /// The request's length.
        len: usize,
    },
}

/// Peels every wrapper of `body`.
pub fn unwrap(body: &[u8]) -> Result<Unwrapped, UnwrapError> {
    let mut out = Unwrapped::default();
    let mut query = body.to_vec();
    loop {
        let id = Reader::new(&query)
            .peek_u32()
            .map_err(|_| UnwrapError::Empty { len: query.len() })?;
        let (wrapper, inner) = match id {
            functions::InvokeWithLayer::<RawObject>::CONSTRUCTOR_ID => {
                let w = decode::<functions::InvokeWithLayer<RawObject>>("invokeWithLayer", &query)?;
                out.layer = Some(w.layer);
                ("invokeWithLayer", w.query)
            }
            functions::InvokeWithoutUpdates::<RawObject>::CONSTRUCTOR_ID => {
                let w = decode::<functions::InvokeWithoutUpdates<RawObject>>(
                    "invokeWithoutUpdates",
                    &query,
                )?;
                ("invokeWithoutUpdates", w.query)
            }
            functions::InitConnection::<RawObject>::CONSTRUCTOR_ID => {
                let w = decode::<functions::InitConnection<RawObject>>("initConnection", &query)?;
                out.init = Some(InitConnection {
                    api_id: w.api_id,
                    device_model: w.device_model,
                    system_version: w.system_version,
                    app_version: w.app_version,
                    system_lang_code: w.system_lang_code,
                    lang_pack: w.lang_pack,
                    lang_code: w.lang_code,
                });
                ("initConnection", w.query)
            }
            legacy::InitConnection::<RawObject>::CONSTRUCTOR_ID => {
                let w = decode::<legacy::InitConnection<RawObject>>(
                    "initConnection (layer 23)",
                    &query,
                )?;
                out.init = Some(InitConnection {
                    api_id: w.api_id,
                    device_model: w.device_model,
                    system_version: w.system_version,
                    app_version: w.app_version,
                    lang_code: w.lang_code,
                    ..InitConnection::default()
                });
                ("initConnection (layer 23)", w.query)
            }
            INVOKE_AFTER_MSG_ID => {
                // id, msg_id:long, then the query.
                let inner = query.get(12..).ok_or(UnwrapError::Decode {
                    wrapper: "invokeAfterMsg",
                    source: DecodeError::Truncated {
                        at: 0,
                        needed: 12,
                        remaining: query.len(),
                    },
                })?;
                ("invokeAfterMsg", RawObject(inner.to_vec()))
            }
            _ => break,
        };
        if out.wrappers.len() == MAX_WRAPPERS {
            return Err(UnwrapError::TooDeep);
        }
        out.wrappers.push(wrapper);
        query = inner.0;
    }
    out.query = query;
    Ok(out)
}

fn decode<T: Deserialize>(wrapper: &'static str, bytes: &[u8]) -> Result<T, UnwrapError> {
    T::from_bytes(bytes).map_err(|source| UnwrapError::Decode { wrapper, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_api::Serialize;

    fn get_config() -> Vec<u8> {
        functions::help::GetConfig {}.to_bytes()
    }

    fn init(query: RawObject) -> functions::InitConnection<RawObject> {
        functions::InitConnection::new(
            611_335,
            "dev".into(),
            "os".into(),
            "1.0".into(),
            "en".into(),
            "".into(),
            "en".into(),
            query,
        )
    }

    #[test]
    fn either_nesting_order_gives_the_same_call() {
        let telethon = functions::InvokeWithLayer::new(
            229,
            RawObject(
                functions::InvokeWithoutUpdates::new(RawObject(
                    init(RawObject(get_config())).to_bytes(),
                ))
                .to_bytes(),
            ),
        )
        .to_bytes();
        let mtcute = functions::InvokeWithLayer::new(
            227,
            RawObject(
                init(RawObject(
                    functions::InvokeWithoutUpdates::new(RawObject(get_config())).to_bytes(),
                ))
                .to_bytes(),
            ),
        )
        .to_bytes();
        let a = unwrap(&telethon).unwrap();
        let b = unwrap(&mtcute).unwrap();
        assert_eq!(a.query, get_config());
        assert_eq!(b.query, get_config());
        assert_eq!(a.layer, Some(229));
        assert_eq!(b.layer, Some(227));
        assert_eq!(a.init.as_ref().unwrap().api_id, 611_335);
        assert_eq!(a.init, b.init);
        assert_eq!(
            a.wrappers,
            ["invokeWithLayer", "invokeWithoutUpdates", "initConnection"]
        );
        assert_eq!(
            b.wrappers,
            ["invokeWithLayer", "initConnection", "invokeWithoutUpdates"]
        );
    }

    #[test]
    fn too_many_wrappers_and_truncation_are_errors() {
        let mut body = get_config();
        for _ in 0..=MAX_WRAPPERS {
            body = functions::InvokeWithoutUpdates::new(RawObject(body)).to_bytes();
        }
        assert!(matches!(unwrap(&body), Err(UnwrapError::TooDeep)));
        let wrapped = functions::InvokeWithLayer::new(23, RawObject(get_config())).to_bytes();
        assert!(matches!(
            unwrap(&wrapped[..6]),
            Err(UnwrapError::Decode {
                wrapper: "invokeWithLayer",
                ..
            })
        ));
        assert!(matches!(unwrap(&[]), Err(UnwrapError::Empty { len: 0 })));
    }
}
