//! The test DC: a multi-DC loopback Telegram with a real login backend, for tests that
//! must not reach Telegram — ours, and our users'.
//!
//! - [`TestDc`] starts several DCs in one process on consecutive loopback ports, sharing one
//!   account store ([`auth::AuthBackend`]): codes, sign-up, 2FA with real SRP, DC migration,
//!   authorization export/import, QR login, temporary keys bound with
//!   `auth.bindTempAuthKey`, flood waits.
//! - [`server`] is one DC's tokio edge over the sans-IO `ServerEndpoint`: every transport,
//!   bounded connections and calls, [`Knobs`] that misbehave on purpose, [`Stats`].
//! - [`backend`] is the seam: any [`Backend`] can answer a DC's calls, each with its
//!   [`CallContext`] (DC, key, temp or permanent, session, msg_id, layer, initConnection).
//! - [`layers`] answers each client in the constructors of the layer it declared.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use test_dc::{Account, TestDc};
//! let dc = TestDc::builder()
//!     .dcs(3)
//!     .user(Account::new("+999 66 2 1234").password("hunter2").home_dc(2))
//!     .start()
//!     .await?;
//! println!("DC 1 at {}", dc.addr(1));
//! # Ok(()) }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::time::Duration;

use mtproto_crypto::RsaPrivateKey;

pub mod attack;
pub mod auth;
pub mod backend;
mod dc;
pub mod layers;
pub mod server;
pub mod unwrap;

pub use attack::SessionAttack;
pub use auth::{normalize_phone, Account, AuthBackend, AuthConfig, CodeDelivery};
pub use backend::{echo, Backend, Call, CallContext, DcLink, Handler, InitConnection, Reply};
pub use dc::{TestDc, TestDcBuilder};
pub use server::{Knobs, ServerLimits, Stats, TestServer, TestServerConfig, TestServerHandle};

/// The RSA key of the test server (2048 bits, made for these tests; never use it elsewhere):
/// clients of the test server trust its public half.
pub fn test_server_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs1_pem(TEST_SERVER_KEY_PEM).expect("the bundled test key parses")
}

/// [`test_server_key`] as PKCS#1 PEM (for clients in other languages).
pub const TEST_SERVER_KEY_PEM: &str = include_str!("test_server_key.pem");

/// The server's clock: time since the Unix epoch (also what backends date things with).
pub fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}
