//! A `.fai` index against the small FASTA (fuzz/data/), plain and bgzip, then regions fetched.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("fai", data));
