//! A weights file against the architecture and dtype of a model.json. The
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "harness.rs"]
mod harness;

fuzz_target!(|data: &[u8]| harness::run("safetensors", data));
