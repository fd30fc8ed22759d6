//! Consumer raw data (23andMe, AncestryDNA, MyHeritage) read as a one-sample VCF.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("genotypes", data));
