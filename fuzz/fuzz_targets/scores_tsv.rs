//! The scores TSV that `brain-resnet analyze` reads, for the fixture's first profile.
#![no_main]
use brain_resnet::analysis::read_scores_tsv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_scores_tsv(data, "Glut", "scores.tsv");
});
