//! A `torch.save` zip checkpoint (data.pkl + storages).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("checkpoint_zip", data));
