//! A UCSC `.2bit` genome (no index), then regions fetched.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("twobit", data));
