//! `session_client`: see [`project_fuzz::session::client`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::session::client(data));
