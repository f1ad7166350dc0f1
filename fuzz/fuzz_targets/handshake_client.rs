//! `handshake_client`: see [`project_fuzz::handshake::client`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::handshake::client(data));
