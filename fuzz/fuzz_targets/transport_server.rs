//! `transport_server`: see [`project_fuzz::transport::server`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::transport::server(data));
