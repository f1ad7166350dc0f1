//! The one error type of the client.

use std::time::Duration;

use mtproto_net::{InvokeError, NetError, RpcError};

use super::session::StoreError;

/// What went wrong in a client call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server answered with an RPC error (code, name and numeric value split out).
    #[error("RPC error {}: {}", .0.code, .0.message)]
    Rpc(RpcError),
    /// A flood wait longer than [`super::ClientConfig::flood_sleep_threshold`].
    #[error("flood wait of {0:?} (above the threshold)")]
    FloodWait(Duration),
    /// Connecting to a DC failed (transport, key exchange, a security check, timeout).
    #[error("connecting to DC {dc}: {source}")]
    Connect {
        /// The DC.
        dc: i32,
        /// Why.
        source: NetError,
    },
    /// A request failed below the RPC layer (timeout, connection closed, undecodable answer).
    #[error("request failed: {0}")]
    Invoke(InvokeError),
    /// The session store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A DC the client does not know how to reach.
    #[error("no address known for DC {0}")]
    UnknownDc(i32),
    /// The server sent something the login flow cannot continue from.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
    /// The password check could not be computed (bad SRP parameters from the server).
    #[error("password check: {0}")]
    Srp(#[from] mtproto_crypto::SrpError),
    /// Migrations or flood waits kept coming: the call gave up after this many attempts.
    #[error("gave up after {0} attempts (migrations or flood waits)")]
    TooManyRetries(u32),
}

impl ClientError {
    /// The RPC error's name (`PHONE_CODE_INVALID`, ...), if this is one.
    pub fn rpc_name(&self) -> Option<&str> {
        match self {
            ClientError::Rpc(e) => Some(&e.name),
            _ => None,
        }
    }
}

impl From<InvokeError> for ClientError {
    fn from(error: InvokeError) -> Self {
        match error {
            InvokeError::Rpc(e) => ClientError::Rpc(e),
            other => ClientError::Invoke(other),
        }
    }
}
