//! Incremental inference (only the positions a change can reach are
//! recomputed) against full recomputation: every single-base mutant of a
//! fixture window on the fixture network, and mutants at the edges, in the
//! middle, multi-base changes and indel-like shifts on the full-size
//! architecture. Within 1e-5 everywhere.

mod common;

use brain_resnet::model::{Config, Network};
use brain_resnet::weights::fold::random_weights;
use brain_resnet::window::encode_into;
use brain_resnet::Model;
use common::*;

fn encode(seq: &[u8], window: usize) -> Vec<f32> {
    let mut w = vec![0f32; 4 * window];
    encode_into("test", seq, window, &mut w).unwrap();
    w
}

fn fixture_sequence(window: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(fixture("sequences.fa")).unwrap();
    let seq: String = text
        .lines()
        .skip_while(|l| !l.starts_with('>'))
        .skip(1)
        .take_while(|l| !l.starts_with('>'))
        .collect();
    let mut seq = seq.into_bytes();
    seq.resize(window, b'N');
    seq
}

/// Checks `predict_incremental` against `predict` for the given mutants of `seq`.
fn check(net: &Network, seq: &[u8], mutants: &[Vec<u8>], what: &str) -> f32 {
    let window = net.config().window;
    let reference = encode(seq, window);
    let windows: Vec<Vec<f32>> = mutants.iter().map(|m| encode(m, window)).collect();
    let items: Vec<(usize, &[f32])> = windows.iter().map(|w| (0, w.as_slice())).collect();
    let (ref_probs, inc) = net.predict_incremental(&reference, &items).unwrap();
    let whole: Vec<f32> = windows.iter().flatten().copied().collect();
    let full = net.predict(&whole).unwrap();
    assert!(max_abs_diff_f32(&ref_probs, &net.predict(&reference).unwrap()) <= 1e-6);
    let d = max_abs_diff_f32(&inc, &full);
    eprintln!(
        "{what}: {} windows, max |incremental - full| {d:.2e}",
        mutants.len()
    );
    assert!(
        d <= 1e-5,
        "{what}: incremental differs from full recomputation by {d}"
    );
    d
}

fn substitute(seq: &[u8], pos: usize, base: u8) -> Vec<u8> {
    let mut m = seq.to_vec();
    m[pos] = base;
    m
}

#[test]
fn every_single_base_mutant_of_a_fixture_window_equals_full_recomputation() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = Model::load_dir(dir.path()).unwrap();
    let net = &model.network;
    let seq = fixture_sequence(model.window());
    let mut mutants = vec![];
    for pos in 0..seq.len() {
        for &b in b"ACGT" {
            if seq[pos].to_ascii_uppercase() != b {
                mutants.push(substitute(&seq, pos, b));
            }
        }
    }
    assert!(mutants.len() >= 2900, "{} mutants", mutants.len());
    check(net, &seq, &mutants, "fixture, saturation");
    // Unchanged, multi-base (within and beyond the incremental span), N, indel-like shift.
    let mut others = vec![seq.clone()];
    let mut mnv = seq.clone();
    mnv[500..520].copy_from_slice(b"ACGTACGTACGTACGTACGT");
    others.push(mnv);
    let mut far = substitute(&seq, 10, b'A');
    far[900] = b'C';
    others.push(far);
    others.push(substitute(&seq, 499, b'N'));
    let mut shifted = seq.clone();
    shifted.insert(499, b'G');
    shifted.truncate(seq.len());
    others.push(shifted);
    check(net, &seq, &others, "fixture, other changes");
}

#[test]
fn full_size_mutants_equal_full_recomputation() {
    let cfg = Config::published();
    let weights = random_weights(&cfg, 5);
    let net = Network::new(&cfg, &weights).unwrap();
    let seq: Vec<u8> = (0..cfg.window)
        .map(|i| b"ACGT"[(i * 7 + i / 13 + i * i / 31) % 4])
        .collect();
    let mut mutants = vec![];
    for pos in [
        0, 1, 2, 7, 8, 250, 498, 499, 500, 501, 750, 990, 996, 997, 998, 999,
    ] {
        let b = if seq[pos] == b'A' { b'T' } else { b'A' };
        mutants.push(substitute(&seq, pos, b));
    }
    let mut mnv = seq.clone();
    mnv[495..505].copy_from_slice(b"GGGGGCCCCC");
    mutants.push(mnv);
    check(&net, &seq, &mutants, "full size");
}

#[test]
fn predictions_against_references_equal_plain_predictions_with_and_without_rc_mean() {
    use brain_resnet::scoring::{predict_windows, predict_with_references, ScoreOptions};
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = Model::load_dir(dir.path()).unwrap();
    let window = model.window();
    let seq = fixture_sequence(window);
    let other: Vec<u8> = seq.iter().rev().copied().collect();
    // Two references, each followed by variants of it; one window of neither.
    let mut seqs = vec![
        seq.clone(),
        substitute(&seq, 499, b'A'),
        substitute(&seq, 3, b'C'),
    ];
    seqs.push(other.clone());
    seqs.push(substitute(&other, 998, b'G'));
    seqs.push(substitute(&other, 0, b'T'));
    let reference_of = [None, Some(0), Some(0), None, Some(3), None];
    let windows: Vec<f32> = seqs.iter().flat_map(|s| encode(s, window)).collect();
    for rc_mean in [false, true] {
        let opts = ScoreOptions {
            rc_mean,
            ..ScoreOptions::default()
        };
        let want = predict_windows(&model, &windows, opts).unwrap();
        let got = predict_with_references(&model, &windows, &reference_of, opts).unwrap();
        let d = max_abs_diff_f32(&got, &want);
        assert!(d <= 1e-5, "rc_mean {rc_mean}: {d}");
    }
}
