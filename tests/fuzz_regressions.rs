//! Every input the fuzzer (or the property tests) found to crash the code,
//! committed under tests/data/fuzz/<target>/, replayed through the fuzz
//! target's own harness (fuzz/fuzz_targets/harness.rs) on stable: each must
//! now end in values or errors, never a panic.

#[path = "../fuzz/fuzz_targets/harness.rs"]
mod harness;

use std::path::Path;

#[test]
fn every_committed_crash_input_ends_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut replayed = vec![];
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_str().unwrap().to_string();
        for input in std::fs::read_dir(&target).unwrap() {
            let input = input.unwrap().path();
            let bytes = std::fs::read(&input).unwrap();
            harness::run(&name, &bytes);
            replayed.push(format!(
                "{name}/{}",
                input.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    replayed.sort();
    // The inputs found so far (docs/RELIABILITY.md): a region near i64::MIN in
    // Genome::fetch (fai, gzi, bgzip), a 2^64 - 1 kernel in model.json, a
    // non-letter byte indexed as a base (fasta_index).
    for want in ["fai/", "gzi/", "bgzip/", "model_json/", "fasta_index/"] {
        assert!(
            replayed.iter().any(|r| r.starts_with(want)),
            "{want}: {replayed:?}"
        );
    }
}
