//! A `.gzi` index for the fixture bgzip FASTA, then regions fetched.
#![no_main]
use brain_resnet::io::genome::Genome;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let genome = Genome::from_readers(
        Cursor::new(common::BGZIP),
        "genome.fa.gz",
        Some(common::BGZIP.len() as u64),
        (common::BGZIP_FAI, "genome.fa.fai"),
        Some((data, "fuzz.gzi")),
    );
    if let Ok(g) = genome {
        common::fetch_all(g);
    }
});
