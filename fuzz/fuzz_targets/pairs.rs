//! The pairs TSV (`--pairs`), each pair encoded as the scorer does.
#![no_main]
use brain_resnet::io::pairs::{PairLine, PairsReader};
use brain_resnet::window::encode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for item in PairsReader::new(data, "pairs.tsv") {
        match item {
            Ok(PairLine::Pair {
                name,
                reference,
                alternate,
                ..
            }) => {
                let _ = encode(&name, &reference, 1000);
                let _ = encode(&name, &alternate, 1000);
            }
            Ok(PairLine::Invalid { message, .. }) => assert!(message.starts_with("line ")),
            Err(_) => break,
        }
    }
});
