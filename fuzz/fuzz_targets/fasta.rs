//! A FASTA streamed record by record with the CLI's and page's cap (1000 bp).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("fasta", data));
