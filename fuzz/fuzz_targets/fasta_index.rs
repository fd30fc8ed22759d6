//! A plain FASTA indexed in one pass (no .fai given); the index must open the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("fasta_index", data));
