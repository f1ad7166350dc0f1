//! What answers requests: the [`Backend`] trait, the context each call carries, and the
//! simplest backends (a closure, [`echo`]).
//!
//! The server edge ([`crate::server`]) peels the wrappers of every request
//! (`invokeWithLayer`, `initConnection`, `invokeWithoutUpdates`, in any order, see
//! [`crate::unwrap`]), remembers per key the layer and `initConnection` the client declared,
//! re-encodes the call into the native layer when the client speaks an older modern one
//! ([`crate::layers`]), and hands the backend a [`Call`]. The answer goes back through the
//! same re-encoding.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use mtproto_crypto::AuthKey;
use mtproto_proto::session::RpcError;

use crate::server::Shared;

/// A boxed future of a [`Reply`] (what [`Backend::call`] returns).
pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// Answers the requests of one or more DCs. Calls run concurrently, each on its own task,
/// with no server lock held.
pub trait Backend: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, call: Call) -> ReplyFuture;
}

/// What the [`Backend`] wants sent back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Answer with this result object (in the native layer unless the call came from a
    /// legacy client, see [`CallContext::is_legacy`]).
    Ok(Vec<u8>),
    /// Answer with an RPC error.
    Error(RpcError),
    /// Answer after a delay (on whichever connection of the key is up then).
    Delayed(Duration, Result<Vec<u8>, RpcError>),
    /// Never answer.
    Never,
}

impl Reply {
    /// An RPC error reply with `code` and `message` (`PHONE_MIGRATE_2`, ...).
    pub fn error(code: i32, message: impl Into<String>) -> Self {
        Reply::Error(RpcError::new(code, message.into()))
    }
}

/// One request.
#[derive(Clone, Debug)]
pub struct Call {
    /// Where it came from and what the client declared.
    pub ctx: CallContext,
    /// The call without its wrappers, in the native layer (or the client's layer for a
    /// legacy client).
    pub query: Vec<u8>,
    /// The request body as the client sent it, wrappers included.
    pub raw: Vec<u8>,
}

/// The context of a call.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The DC that received it.
    pub dc: i32,
    /// The auth key it came under.
    pub key_id: i64,
    /// `Some(expires_at)` (Unix time) when that key is a temporary one.
    pub temp_expires_at: Option<i64>,
    /// The client session.
    pub session_id: i64,
    /// The request's message id.
    pub msg_id: i64,
    /// The layer the client declared with `invokeWithLayer` on this key (this request or
    /// an earlier one).
    pub layer: Option<i32>,
    /// The client's `initConnection` on this key (this request or an earlier one).
    pub init: Option<InitConnection>,
    /// The wrappers this request came in, outermost first (`invokeWithLayer`, ...).
    pub wrappers: Vec<&'static str>,
    /// The DC's server, to push updates and look keys up.
    pub server: DcLink,
}

/// Layers at or below this are served by the legacy frontend (layer-23 types), never
/// re-encoded.
pub const LEGACY_LAYER_MAX: i32 = 23;

impl CallContext {
    /// Whether the client declared a legacy layer (at most [`LEGACY_LAYER_MAX`]).
    pub fn is_legacy(&self) -> bool {
        self.layer.is_some_and(|l| l <= LEGACY_LAYER_MAX)
    }
}

/// What a client declared in `initConnection` (either layer's form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InitConnection {
    /// The application's `api_id`.
    pub api_id: i32,
    /// Device model.
    pub device_model: String,
    /// OS version.
    pub system_version: String,
    /// Application version.
    pub app_version: String,
    /// System language (empty in layer 23).
    pub system_lang_code: String,
    /// Language pack (empty in layer 23).
    pub lang_pack: String,
    /// Application language.
    pub lang_code: String,
}

/// A weak link to a DC's server, given to backends in [`CallContext::server`].
#[derive(Clone)]
pub struct DcLink {
    pub(crate) shared: Weak<Shared>,
}

impl std::fmt::Debug for DcLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DcLink")
    }
}

impl DcLink {
    /// Sends an update (a boxed `Updates` object) to the session of a key; `false` if the
    /// server or the key is gone.
    pub fn push_update(&self, key_id: i64, body: Vec<u8>) -> bool {
        self.shared
            .upgrade()
            .is_some_and(|shared| shared.push_update(key_id, body))
    }

    /// The key with this id, if this DC knows it (to verify a bind message).
    pub fn auth_key(&self, key_id: i64) -> Option<AuthKey> {
        self.shared
            .upgrade()
            .and_then(|shared| shared.auth_key(key_id))
    }

    /// When a temporary key expires (Unix time), if this DC knows it as temporary.
    pub fn temp_expiry(&self, key_id: i64) -> Option<i64> {
        self.shared
            .upgrade()
            .and_then(|shared| shared.temp_expiry(key_id))
    }
}

/// Answers a request body: called once per request received (resent copies included).
pub type Handler = Arc<dyn Fn(&[u8]) -> Reply + Send + Sync>;

/// A handler that answers every request with its own body.
pub fn echo() -> Handler {
    Arc::new(|body: &[u8]| Reply::Ok(body.to_vec()))
}

/// A [`Backend`] that hands the raw request body (wrappers included) to a closure.
pub struct FnBackend(pub Handler);

impl Backend for FnBackend {
    fn call(&self, call: Call) -> ReplyFuture {
        let reply = (self.0)(&call.raw);
        Box::pin(std::future::ready(reply))
    }
}
