//! model.json: parsed and validated (architecture included).
#![no_main]
use brain_resnet::weights::format::parse_manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = parse_manifest(&text, "model.json") {
        // A manifest that validates has a graph we can derive and count.
        let _ = m.architecture.graph();
        let _ = m.architecture.macs_per_window();
        let _ = m.vcf_model_line(true);
    }
});
