//! A `.fai` index, checked against the fixture FASTA, then regions fetched.
#![no_main]
use brain_resnet::io::genome::Genome;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let genome = Genome::from_readers(
        Cursor::new(common::PLAIN),
        "genome.fa",
        Some(common::PLAIN.len() as u64),
        (data, "fuzz.fai"),
        None::<(&[u8], &str)>,
    );
    if let Ok(g) = genome {
        common::fetch_all(g);
    }
    // The same index against the bgzip FASTA.
    let genome = Genome::from_readers(
        Cursor::new(common::BGZIP),
        "genome.fa.gz",
        Some(common::BGZIP.len() as u64),
        (data, "fuzz.fai"),
        Some((common::BGZIP_GZI, "genome.fa.gz.gzi")),
    );
    if let Ok(g) = genome {
        common::fetch_all(g);
    }
});
