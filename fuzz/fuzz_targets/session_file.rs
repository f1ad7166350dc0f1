//! `session_file`: see [`project_fuzz::foreign::session_file`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::foreign::session_file(data));
