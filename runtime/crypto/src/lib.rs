//! MTProto 2.0 cryptography for the login SDK.
//!
//! Every primitive comes from the RustCrypto crates (`aes`, `ctr`, `sha1`, `sha2`, `hmac`,
//! `pbkdf2`), key encodings from `pkcs1` and `spki` (DER and PEM) and primality tests from
//! `crypto-primes`; this crate only composes them the way MTProto requires. It is sans-IO: nothing
//! here reads the clock or the operating system's randomness, and there is no global state.
//! Functions that need randomness take a caller-supplied `&mut impl rand_core::CryptoRngCore`
//! (or the random bytes themselves, for reproducible tests).
//!
//! Modules, one job each:
//! - [`ige`]: AES-256-IGE in place (the generic core also runs AES-128 for OpenSSL's vectors).
//! - [`ctr`]: AES-256-CTR keystream for obfuscated transports.
//! - [`keys`]: [`keys::AuthKey`], key ids, MTProto 2.0 / 1.0 message-key derivation and the
//!   key-exchange derivations (tmp AES key, `new_nonce_hash`, first salt).
//! - [`message`]: MTProto 2.0 encrypted messages (and 1.0 for the PFS bind message).
//! - [`rsa`]: PEM parsing, Telegram key fingerprints, RSA_PAD and its server-side inverse.
//! - [`factor`]: pq factorization (Pollard-Brent).
//! - [`dh`]: Diffie-Hellman parameter checks from Telegram's security guidelines and the
//!   `auth_key` computation; `answer_with_hash` wrapping.
//! - [`srp`]: 2FA password check (client `inputCheckPasswordSRP`, and a server side for tests).
//! - [`pfs`]: the `bind_auth_key_inner` message of `auth.bindTempAuthKey`.
//!
//! Known limits: big-number arithmetic uses `num-bigint`, whose intermediates are neither
//! zeroized nor constant-time. Secrets held in this crate's own types are zeroized on drop.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ctr;
pub mod dh;
pub mod factor;
pub mod ige;
pub mod keys;
pub mod message;
pub mod pfs;
pub mod rsa;
pub mod srp;

mod fixed_base;
mod hash;
mod prime;

pub use dh::{DhError, DhParams, DhSecret, DhValue, PrimeCache};
pub use factor::{factorize, FactorError};
pub use ige::{decrypt_ige, encrypt_ige, IgeError};
pub use keys::{AesKeyIv, AuthKey, Direction};
pub use message::{DecryptError, MessageError};
pub use rsa::{RsaError, RsaPrivateKey, RsaPublicKey};
pub use srp::SrpError;
