//! `transport_client`: see [`project_fuzz::transport::client`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::transport::client(data));
