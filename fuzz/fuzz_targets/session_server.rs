//! `session_server`: see [`project_fuzz::session::server`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::session::server(data));
