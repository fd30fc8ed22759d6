//! Saturation mutagenesis equals plain predictions of the mutated windows.

mod common;

use brain_resnet::scoring::mutagenesis::{saturation, BASES};
use brain_resnet::scoring::ScoreOptions;
use brain_resnet::Model;
use common::*;

#[test]
fn saturation_deltas_equal_differences_of_plain_predictions() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = Model::load_dir(dir.path()).unwrap();
    let seq: Vec<u8> = (0..1000)
        .map(|i| b"ACGTTGCAGT"[(i * 7 + i / 11) % 10])
        .collect();
    let sat = saturation(&model, "w", &seq, ScoreOptions::default()).unwrap();
    assert_eq!(sat.delta.len(), 1000 * 4 * 31);
    let base = model
        .predict_sequences([("w", &seq[..])], 1)
        .remove(0)
        .unwrap();
    for (i, r) in sat.reference.iter().enumerate() {
        assert!((r - base[i]).abs() < 1e-6);
    }
    for &(pos, b) in &[(0usize, 0usize), (499, 1), (500, 2), (777, 3), (999, 1)] {
        let mut m = seq.clone();
        let own = m[pos] == BASES[b];
        m[pos] = BASES[b];
        let p = model
            .predict_sequences([("m", &m[..])], 1)
            .remove(0)
            .unwrap();
        for o in 0..31 {
            let d = sat.delta[(pos * 4 + b) * 31 + o];
            if own {
                assert_eq!(d, 0.0);
            } else {
                assert!(
                    (d - (p[o] - base[o])).abs() < 1e-6,
                    "pos {pos} base {} profile {o}: {d} vs {}",
                    BASES[b] as char,
                    p[o] - base[o]
                );
            }
        }
    }
}
