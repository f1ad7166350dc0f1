//! `schema_parse`: see [`project_fuzz::schema::parse`].

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| project_fuzz::schema::parse(data));
