//! `handshake_server`: see [`project_fuzz::handshake::server`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::handshake::server(data));
