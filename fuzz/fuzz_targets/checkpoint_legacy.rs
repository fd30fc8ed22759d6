//! A legacy (pre-1.6) `torch.save` file: the magic number is prepended so
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("checkpoint_legacy", data));
