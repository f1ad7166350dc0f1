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
    /// The server failed a security check (key exchange or session; PROTOCOL.md §9): the
    /// connection was dropped and, where it helps, retried; this names the check.
    #[error("security check failed on DC {dc}: {check}")]
    Security {
        /// The DC.
        dc: i32,
        /// The check and what was wrong.
        check: String,
    },
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
    /// The number's login code costs a payment first (`auth.sentCodePaymentRequired`).
    #[error("the login code costs a payment first ({} {} for {})", .0.amount, .0.currency, .0.store_product)]
    PaymentRequired(Box<super::PaymentRequired>),
    /// A QR login URL (or bare token) that is not one; says what is wrong.
    #[error("not a login token URL: {0}")]
    InvalidLoginUrl(String),
    /// The [`super::Authenticator`] cannot supply what the login needs next (it names it).
    #[error("the authenticator cannot supply {0}")]
    NotProvided(&'static str),
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

/// The security check a connection failure comes from, if it is one.
pub(crate) fn security_check(error: &NetError) -> Option<String> {
    use mtproto_proto::endpoint::ConnectionError;
    match error {
        NetError::GaveUp { last, .. } => security_check(last),
        NetError::KeyExchange(kex) => Some(format!("key exchange: {kex}")),
        NetError::Decrypt => {
            Some("a server packet failed to decrypt (msg_key, length or padding)".into())
        }
        NetError::Connection(ConnectionError::KeyExchange(kex)) => {
            Some(format!("key exchange: {kex}"))
        }
        NetError::Connection(ConnectionError::Decrypt) => {
            Some("a server packet failed to decrypt (msg_key, length or padding)".into())
        }
        NetError::Connection(ConnectionError::Security(check)) => Some(check.to_string()),
        _ => None,
    }
}

impl ClientError {
    /// A connection failure on DC `dc`: [`ClientError::Security`] when a check failed.
    pub(crate) fn connect(dc: i32, source: NetError) -> Self {
        match security_check(&source) {
            Some(check) => ClientError::Security { dc, check },
            None => ClientError::Connect { dc, source },
        }
    }

    /// A request failure on DC `dc`: [`ClientError::Security`] when the connection gave up
    /// because a check kept failing.
    pub(crate) fn invoke(dc: i32, error: InvokeError) -> Self {
        match error {
            InvokeError::GaveUp(why) => match security_check(&why.0) {
                Some(check) => ClientError::Security { dc, check },
                None => ClientError::Invoke(InvokeError::GaveUp(why)),
            },
            other => other.into(),
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
