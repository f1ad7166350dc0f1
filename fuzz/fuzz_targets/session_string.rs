//! `session_string`: see [`project_fuzz::foreign::session_string`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::foreign::session_string(data));
