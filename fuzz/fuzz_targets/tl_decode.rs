//! `tl_decode`: see [`project_fuzz::tl::decode`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::tl::decode(data));
