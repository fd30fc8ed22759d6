#![allow(dead_code)]
// Shared by the genome targets: fetch a spread of regions from every contig,
// including ones that overlap or lie past either end.
use brain_resnet::io::genome::Genome;

// The small genome fuzz/seeds.py writes into fuzz/data/ (scripts/fuzz.sh
// runs it before building): small, so that every execution is quick.
pub const PLAIN: &[u8] = include_bytes!("../data/genome.fa");
pub const BGZIP: &[u8] = include_bytes!("../data/genome.fa.gz");
pub const BGZIP_FAI: &[u8] = include_bytes!("../data/genome.fa.fai");
pub const BGZIP_GZI: &[u8] = include_bytes!("../data/genome.fa.gz.gzi");

pub fn fetch_all(mut genome: Genome) {
    let contigs = genome.contigs().to_vec();
    for (name, len) in contigs {
        let len = len.min(i64::MAX as u64) as i64;
        for (start, end) in [
            (0, 1000),
            (-500, 500),
            (len.saturating_sub(500), len.saturating_add(500)),
            (len / 2, len / 2 + 1000),
            (i64::MAX - 10, i64::MAX),
            (i64::MIN, i64::MIN + 1000),
        ] {
            if let Ok(seq) = genome.fetch(&name, start, end) {
                assert_eq!(seq.len() as i64, end - start);
            }
        }
    }
}
