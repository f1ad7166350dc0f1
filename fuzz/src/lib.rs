//! The fuzz harnesses: one entry point per cargo-fuzz target, each a plain function of the
//! fuzzer's bytes that must never panic (and, where it is cheap, checks a round trip).
//!
//! | target             | entry point                   | what it feeds                                              |
//! |--------------------|-------------------------------|------------------------------------------------------------|
//! | `tl_decode`        | [`tl::decode`]                | every generated TL item (api, service schema, layer 23), chosen by the constructor id |
//! | `transport_client` | [`transport::client`]         | a client codec (each transport, plain or obfuscated2, with or without an MTProxy secret) |
//! | `transport_server` | [`transport::server`]         | a server codec (detection, then the framing it detected)   |
//! | `session_client`   | [`session::client`]           | `Session` with a fixed key: raw packets and messages sealed with that key |
//! | `session_server`   | [`session::server`]           | `ServerSession`, the same way                              |
//! | `handshake_client` | [`handshake::client`]         | the key-exchange client, fuzzed server answers at each step |
//! | `handshake_server` | [`handshake::server`]         | the key-exchange server, fuzzed client messages at each step |
//! | `schema_parse`     | [`schema::parse`]             | the TL schema parser and validator (`tl_codegen::check`)   |
//! | `session_string`   | [`foreign::session_string`]   | Telethon and Pyrogram session strings                      |
//! | `session_file`     | [`foreign::session_file`]     | `FileStore` files and Telethon `.session` databases         |
//!
//! Each harness is deterministic: keys, randomness (seeded ChaCha) and the clock are fixed, so
//! a crashing input reproduces. Nothing here depends on libFuzzer: `fuzz_targets/*.rs` are
//! one-line wrappers, and `tests/tests/fuzz_regressions.rs` compiles these same files into the
//! normal test suite (through `#[path]`), where it feeds the seed corpora and every crash ever
//! found through the same entry points. Paths inside the harnesses are therefore relative
//! (`super::`), never `crate::`.
//!
//! The seed corpora (`fuzz/corpus/<target>/seed-*`) are written by [`seeds::all`] from real
//! messages: Telethon's encodings of the API (`tests/vectors/`), and the packets of real
//! exchanges between our client and server roles. Inputs that crashed a target are kept in
//! `fuzz/regressions/<target>/`, each with its test.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod foreign;
pub mod handshake;
pub mod input;
pub mod schema;
pub mod seeds;
pub mod session;
pub mod sha256;
pub mod tl;
pub mod transport;
