//! A FASTA streamed record by record with the CLI's and page's cap (1000 bp).
#![no_main]
use brain_resnet::io::fasta::FastaReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in FastaReader::new(data, "fuzz.fa", 1000) {
        match record {
            Ok(r) => assert!(r.sequence.len() <= 1000),
            Err(e) => assert!(e.to_string().contains("fuzz.fa")),
        }
    }
});
