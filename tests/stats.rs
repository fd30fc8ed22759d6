//! Statistics against ../shared/fixtures/stats/cases.json (scipy 1.17), within
//! 1e-9 relative for every value.

mod common;

use brain_resnet::analysis::stats::{binned_means, fisher_exact, rank_sum, spearman, SCORE_BINS};
use serde_json::Value;

fn cases() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::fixture("stats/cases.json")).unwrap())
        .unwrap()
}

fn vec(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn close(got: f64, want: f64, what: &str) {
    let rel = if want == 0.0 {
        got.abs()
    } else {
        ((got - want) / want).abs()
    };
    assert!(
        rel <= 1e-9,
        "{what}: got {got:e}, want {want:e} (relative error {rel:e})"
    );
}

#[test]
fn spearman_with_ties_matches_scipy() {
    let c = &cases()["spearman"];
    let s = spearman(&vec(&c["x"]), &vec(&c["y"])).unwrap();
    close(s.rho, c["rho"].as_f64().unwrap(), "rho");
    close(s.p_value, c["p_two_sided"].as_f64().unwrap(), "p");
    // Over the pairs where both values are non-zero (an observed 0 has no direction).
    close(
        s.sign_agreement,
        c["sign_agreement_nonzero"].as_f64().unwrap(),
        "sign agreement (both non-zero)",
    );
    close(
        s.sign_agreement_all_pairs,
        c["sign_agreement"].as_f64().unwrap(),
        "sign agreement (all pairs)",
    );
}

#[test]
fn rank_sum_matches_scipy() {
    let c = &cases()["rank_sum"];
    let r = rank_sum(&vec(&c["x"]), &vec(&c["y"])).unwrap();
    close(r.u, c["u_x"].as_f64().unwrap(), "U");
    close(r.p_value, c["p_two_sided"].as_f64().unwrap(), "p");
}

#[test]
fn fisher_matches_scipy_far_in_the_tail() {
    let c = &cases()["fisher"];
    let t: Vec<Vec<u64>> = c["table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect()
        })
        .collect();
    let f = fisher_exact([[t[0][0], t[0][1]], [t[1][0], t[1][1]]]);
    close(
        f.odds_ratio,
        c["sample_odds_ratio"].as_f64().unwrap(),
        "odds ratio",
    );
    close(
        f.p_two_sided,
        c["p_two_sided"].as_f64().unwrap(),
        "two-sided p",
    );
    close(f.p_greater, c["p_greater"].as_f64().unwrap(), "one-sided p");
    let fold = (t[0][0] as f64 / (t[0][0] + t[0][1]) as f64)
        / (t[1][0] as f64 / (t[1][0] + t[1][1]) as f64);
    close(fold, c["enrichment"].as_f64().unwrap(), "enrichment");
}

#[test]
fn maf_bins_match() {
    let c = &cases()["maf_bins"];
    let bins = binned_means(&vec(&c["score"]), &vec(&c["maf"]), &SCORE_BINS);
    let want = c["bins"].as_array().unwrap();
    assert_eq!(bins.len(), want.len());
    for (b, w) in bins.iter().zip(want) {
        close(b.lo, w["lo"].as_f64().unwrap(), "lo");
        close(b.hi, w["hi"].as_f64().unwrap(), "hi");
        assert_eq!(
            b.n as u64,
            w["n"].as_u64().unwrap(),
            "n of [{}, {})",
            b.lo,
            b.hi
        );
        close(b.mean, w["mean"].as_f64().unwrap(), "mean");
        close(b.sem, w["sem"].as_f64().unwrap(), "sem");
    }
}
