//! A legacy (pre-1.6) `torch.save` file: the magic number is prepended so
//! that every input takes the legacy path (pickles, then raw storages).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "checkpoint.rs"]
mod checkpoint;

const MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

fuzz_target!(|data: &[u8]| {
    let mut file = MAGIC.to_vec();
    file.extend_from_slice(data);
    checkpoint::load(&file);
});
