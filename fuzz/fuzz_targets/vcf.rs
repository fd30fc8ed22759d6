//! A VCF (plain or bgzip, detected from the first bytes), every item read.
#![no_main]
use brain_resnet::io::vcf::{vcf_reader, VcfItem};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = vcf_reader(std::io::Cursor::new(data.to_vec()), "fuzz.vcf") else {
        return;
    };
    for item in reader {
        match item {
            Ok(VcfItem::Record(r)) => {
                assert!(r.line > 0 && !r.alts.is_empty());
            }
            Ok(_) => {}
            Err(e) => {
                assert!(e.to_string().contains("fuzz.vcf"));
                break;
            }
        }
    }
});
