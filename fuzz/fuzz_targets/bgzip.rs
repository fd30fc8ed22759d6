//! bgzip blocks: as a compressed FASTA behind the fixture's indexes (regions
//! fetched) and as a compressed VCF (every line read).
#![no_main]
use brain_resnet::io::genome::Genome;
use brain_resnet::io::vcf::vcf_reader;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let genome = Genome::from_readers(
        Cursor::new(data.to_vec()),
        "fuzz.fa.gz",
        Some(data.len() as u64),
        (common::BGZIP_FAI, "genome.fa.fai"),
        Some((common::BGZIP_GZI, "genome.fa.gz.gzi")),
    );
    if let Ok(g) = genome {
        common::fetch_all(g);
    }
    if let Ok(reader) = vcf_reader(Cursor::new(data.to_vec()), "fuzz.vcf.gz") {
        for item in reader {
            if item.is_err() {
                break;
            }
        }
    }
});
