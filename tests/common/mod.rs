#![allow(dead_code)]
//! Shared helpers: fixtures are read in place from ../shared/fixtures
//! (override with BRAIN_RESNET_FIXTURES).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures() -> PathBuf {
    let dir = std::env::var_os("BRAIN_RESNET_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"));
    assert!(
        dir.join("README.md").exists(),
        "fixtures not found at {} (clone the project beside ../shared or set BRAIN_RESNET_FIXTURES)",
        dir.display()
    );
    dir
}

pub fn fixture(rel: &str) -> PathBuf {
    fixtures().join(rel)
}

/// A TSV with a header row and a name column: (header, rows of (name, values)).
pub fn read_tsv(text: &str) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let mut lines = text.lines();
    let header = lines
        .next()
        .expect("header")
        .split('\t')
        .map(String::from)
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut cells = l.split('\t');
            let name = cells.next().unwrap().to_string();
            let vals = cells.map(|c| c.parse::<f64>().expect("number")).collect();
            (name, vals)
        })
        .collect();
    (header, rows)
}

pub fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brain-resnet"))
        .args(args)
        .output()
        .expect("run brain-resnet")
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `brain-resnet convert` of a fixture checkpoint into `out`.
pub fn convert(checkpoint: &str, out: &Path, dtype: &str) {
    let o = cli(&[
        "convert",
        path_str(&fixture(checkpoint)),
        "--labels",
        path_str(&fixture("model/labels.txt")),
        "--out",
        path_str(out),
        "--dtype",
        dtype,
    ]);
    assert!(
        o.status.success(),
        "convert {checkpoint} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `brain-resnet predict` of a FASTA; returns stdout, asserting success.
pub fn predict(model: &Path, fasta: &Path) -> String {
    let o = cli(&["predict", "--model", path_str(model), path_str(fasta)]);
    assert!(
        o.status.success(),
        "predict failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Largest absolute difference between two prediction tables with the same rows.
pub fn max_abs_diff(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)]) -> f64 {
    assert_eq!(a.len(), b.len(), "row counts differ");
    let mut worst = 0f64;
    for ((na, va), (nb, vb)) in a.iter().zip(b) {
        assert_eq!(na, nb, "row names differ");
        assert_eq!(va.len(), vb.len(), "column counts differ in {na}");
        for (x, y) in va.iter().zip(vb) {
            worst = worst.max((x - y).abs());
        }
    }
    worst
}

/// Largest |a - b| over two equally long slices.
pub fn max_abs_diff_f32(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The fixture checkpoint converted to f32 in a temporary directory.
pub fn mini_model() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    dir
}

/// `brain-resnet score` of a VCF against a genome with `extra` arguments.
pub fn score(model: &Path, genome: &Path, vcf: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "score",
        "--model",
        path_str(model),
        "--genome",
        path_str(genome),
        "--vcf",
        path_str(vcf),
    ];
    args.extend_from_slice(extra);
    cli(&args)
}

/// `brain-resnet score` of the VCF `text` (written as `name`) against the fixture genome.
pub fn score_vcf_text(model: &Path, name: &str, text: &str, extra: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let vcf = dir.path().join(name);
    std::fs::write(&vcf, text).expect("write the VCF");
    score(model, &fixture("genome/genome.fa"), &vcf, extra)
}
