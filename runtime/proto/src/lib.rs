//! Sans-IO MTProto 2.0 for the login SDK: transport framing (and, as they land, the key
//! exchange and the encrypted session), in both the client and the server role.
//!
//! Nothing in this crate opens sockets, reads the clock or draws from the operating system's
//! randomness: bytes go in through `handle_*` methods, results come out of `poll_*` methods,
//! and randomness is passed in by the caller.
//!
//! Modules:
//! - [`handshake`]: the authorization key exchange, client and server, as consuming steps.
//! - [`session`]: the encrypted MTProto 2.0 session, client ([`session::Session`]) and server.
//! - [`plain`]: unencrypted messages (used by the key exchange); [`msg_id`]: message ids.
//! - [`transport`]: abridged, intermediate, padded intermediate and full framing, obfuscated2
//!   (with MTProxy secrets), server-side transport detection and transport error codes.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod handshake;
pub mod msg_id;
pub mod plain;
pub mod session;
pub mod transport;
