//! The annotations TSV of the analyses.
#![no_main]
use brain_resnet::io::annotations::read_annotations;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ann) = read_annotations(data, "annotations.tsv") {
        for a in ann.values() {
            let _ = a.imbalance();
        }
    }
});
