//! bgzip blocks: as a compressed FASTA behind the small genome's indexes, and as a compressed VCF.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("bgzip", data));
