//! A weights file against the architecture and dtype of a model.json. The
//! input is `u32 LE length of the model.json`, the model.json, then the
//! safetensors bytes (scripts/fuzz-seeds.py writes seeds in this layout).
#![no_main]
use brain_resnet::weights::format::{decode_weights, parse_manifest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let n = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let Some(json) = data.get(4..4usize.saturating_add(n)) else {
        return;
    };
    let Ok(m) = parse_manifest(&String::from_utf8_lossy(json), "model.json") else {
        return;
    };
    let weights = &data[4 + n..];
    if let Ok(w) = decode_weights(
        &m.architecture,
        m.weights.dtype,
        weights,
        "weights.safetensors",
    ) {
        assert!(w.parameter_count() > 0);
    }
});
