//! The scores TSV that `brain-resnet analyze` reads, for the fixture's first profile.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("scores_tsv", data));
