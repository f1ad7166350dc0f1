//! What a client keeps between runs: the home DC, each DC's key (with salt and clock
//! offset), the DC table, the signed-in user, and the future auth tokens the server gave. [`SessionStore`] persists it;
//! [`MemoryStore`] keeps it for the life of the process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use mtproto_net::StoredAuth;
use zeroize::Zeroizing;

/// The state of a client that survives restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionData {
    /// The DC the account lives on (where login happened), once known.
    pub home_dc: Option<i32>,
    /// Each DC's authorization key, salt and clock offset.
    pub keys: BTreeMap<i32, StoredAuth>,
    /// The DCs as the client knows them (from its configuration, then `help.getConfig`).
    pub dcs: BTreeMap<i32, SocketAddr>,
    /// The signed-in user, once logged in.
    pub user_id: Option<i64>,
    /// Future auth tokens from `auth.authorization` and `auth.loggedOut`, newest first (at
    /// most [`MAX_FUTURE_AUTH_TOKENS`]): sent back as `codeSettings.logout_tokens` so the
    /// server may sign this device in again without a code.
    pub future_auth_tokens: Vec<FutureAuthToken>,
}

/// Future auth tokens a session keeps (the oldest are dropped).
pub const MAX_FUTURE_AUTH_TOKENS: usize = 20;

impl SessionData {
    /// Keeps `token` as the newest future auth token (once; the oldest beyond
    /// [`MAX_FUTURE_AUTH_TOKENS`] are dropped).
    pub fn remember_future_auth_token(&mut self, token: FutureAuthToken) {
        self.future_auth_tokens.retain(|t| t != &token);
        self.future_auth_tokens.insert(0, token);
        self.future_auth_tokens.truncate(MAX_FUTURE_AUTH_TOKENS);
    }
}

/// A future auth token: a secret that signs the device in without a code, so it is
/// zeroized on drop and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct FutureAuthToken(Zeroizing<Vec<u8>>);

impl FutureAuthToken {
    /// Wraps the token's bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The token's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for FutureAuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FutureAuthToken({} bytes, redacted)", self.0.len())
    }
}

/// Why a session could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("session store I/O on {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The stored session is not one this version can read (corrupt, truncated, foreign or
    /// newer); it is left as it is.
    #[error("session file {path} is unusable: {why}")]
    Unusable {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

/// Persists a [`SessionData`]. Implementations must be safe to call from several tasks.
pub trait SessionStore: Send + Sync + 'static {
    /// The stored session; `Ok(None)` when there is none yet.
    fn load(&self) -> Result<Option<SessionData>, StoreError>;
    /// Replaces the stored session with `data`.
    fn save(&self, data: &SessionData) -> Result<(), StoreError>;
}

/// A session kept in memory (lost when the process ends).
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: Mutex<Option<SessionData>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl SessionStore for MemoryStore {
    fn load(&self) -> Result<Option<SessionData>, StoreError> {
        Ok(self.data.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    fn save(&self, data: &SessionData) -> Result<(), StoreError> {
        *self.data.lock().unwrap_or_else(|e| e.into_inner()) = Some(data.clone());
        Ok(())
    }
}
