//! A `torch.save` zip checkpoint (data.pkl + storages).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "checkpoint.rs"]
mod checkpoint;

fuzz_target!(|data: &[u8]| checkpoint::load(data));
