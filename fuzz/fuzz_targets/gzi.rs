//! A `.gzi` index for the small bgzip FASTA (fuzz/data/), then regions fetched.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("gzi", data));
