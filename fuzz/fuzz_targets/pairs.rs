//! The pairs TSV (`--pairs`), each pair encoded as the scorer does.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("pairs", data));
