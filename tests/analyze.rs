//! `brain-resnet analyze` on a small hand-made case whose answers were
//! worked out by hand.

mod common;

use common::*;

/// Ten scored variants of profile Glut; abs_diff descending is v3 v1 v7 v2 ...
const SCORES: &str =
    "chrom\tpos\tid\tref\talt\tstatus\tabs_diff:Glut\tlog_ratio:Glut\tabs_diff:NPC\n\
chr1\t10\tv1\tA\tG\tok\t0.30\t0.5\t0\n\
chr1\t20\tv2\tA\tG\tok\t0.12\t-0.2\t0\n\
chr1\t30\tv3\tA\tG\tok\t0.40\t0.9\t0\n\
chr1\t40\tv4\tA\tG\tok\t0.01\t0.1\t0\n\
chr1\t50\tv5\tA\tG\tref_mismatch\t0.02\t-0.1\t0\n\
chr1\t60\tv6\tA\tG\tok\t0.06\t0.3\t0\n\
chr1\t70\tv7\tA\tG\tok\t0.25\t-0.6\t0\n\
chr1\t80\tv8\tA\tG\tok\t0.03\t0.05\t0\n\
chr1\t90\tv9\tA\tG\tok\t0.04\t-0.05\t0\n\
chr1\t99\tv10\tA\tG\tok\t0.00\t0.0\t0\n\
chr9\t5\tskipped\tA\tG\tunknown_contig\t\t\t\n";

/// v3, v1 (the top 2) and v2 labelled; read counts for four; GERP and MAF for all.
const ANNOTATIONS: &str = "id\tlabel\tref_reads\talt_reads\tgerp\tmaf\n\
v1\t1\t30\t10\t5\t0.01\n\
v2\t1\t\t\t4\t0.02\n\
v3\t1\t40\t10\t6\t0.03\n\
v4\t0\t10\t20\t1\t0.3\n\
v5\t0\t.\t.\t2\t0.2\n\
v6\t0\t\t\t0\t0.25\n\
v7\t0\t5\t15\t3\t0.12\n\
v8\t0\t\t\t-1\t0.4\n\
v9\t0\t\t\t-2\t0.35\n\
v10\t0\t\t\t0.5\t0.45\n";

/// `brain-resnet analyze` of the two files for `profile`, with `extra` arguments.
fn analyze(
    scores: &std::path::Path,
    annotations: &std::path::Path,
    profile: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec![
        "analyze",
        "--scores",
        path_str(scores),
        "--annotations",
        path_str(annotations),
        "--profile",
        profile,
    ];
    args.extend_from_slice(extra);
    cli(&args)
}

#[test]
fn analyze_matches_the_hand_worked_case() {
    let dir = tempfile::tempdir().unwrap();
    let (s, a) = (dir.path().join("s.tsv"), dir.path().join("a.tsv"));
    std::fs::write(&s, SCORES).unwrap();
    std::fs::write(&a, ANNOTATIONS).unwrap();
    let o = analyze(&s, &a, "Glut", &["--top", "2"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = |path: &str| {
        r.pointer(path)
            .and_then(|v| v.as_f64())
            .unwrap_or_else(|| panic!("{path} in {r}"))
    };
    assert_eq!(r["profile"], "Glut");
    assert_eq!(r["top"], 2);
    // Top 2 = v3, v1: both labelled; rest: 1 labelled (v2) of 8.
    // Table [[2, 0], [1, 7]]: P(X = 2) = C(3,2) C(7,0) / C(10,2) = 3/45; the only table
    // as improbable, so both p-values are 1/15. Odds ratio 2*7 / (0*1) = inf -> null in JSON.
    assert_eq!(f("/enrichment/hits"), 2.0);
    assert!((f("/enrichment/p_value") - 1.0 / 15.0).abs() < 1e-12);
    assert!(
        r["enrichment"]["odds_ratio"].is_null(),
        "infinite odds ratio: {}",
        r["enrichment"]
    );
    assert!((f("/enrichment/fold") - (2.0 / 2.0) / (1.0 / 8.0)).abs() < 1e-12);
    // Direction over v1, v3, v4, v7 (both counts > 0), in rank order v3 v1 v7 v4:
    // observed ln(ref/alt) = ln4, ln3, ln(1/3), ln(1/2); predicted 0.9, 0.5, -0.6, 0.1.
    // Ranks: observed 4 3 1 2, predicted 4 3 1 2 -> rho = 1; signs agree for v3 v1 v7, not v4 -> 3/4.
    assert_eq!(f("/direction/n"), 4.0);
    assert!((f("/direction/spearman_rho") - 1.0).abs() < 1e-12);
    assert_eq!(f("/direction/p_value"), 0.0);
    assert!((f("/direction/sign_agreement") - 0.75).abs() < 1e-12);
    // Constraint: GERP top {6, 5} vs rest {4, 1, 2, 0, 3, -1, -2, 0.5}: top ranks 10 and 9,
    // U = 19 - 3 = 16 = n1 n2 (complete separation).
    assert_eq!(f("/constraint/u"), 16.0);
    // Selection: bin [0, .05) holds v4 v5 v8 v9 v10 (MAF .3 .2 .4 .35 .45): mean .34.
    assert_eq!(f("/selection/0/n"), 5.0);
    assert!((f("/selection/0/mean") - 0.34).abs() < 1e-12);
    // [.2, 1]: v3 .40, v1 .30, v7 .25 -> MAF .03 .01 .12, mean .05333..
    assert_eq!(f("/selection/4/n"), 3.0);
    assert!((f("/selection/4/mean") - 0.16 / 3.0).abs() < 1e-12);
}

#[test]
fn analyze_leaves_out_sections_without_columns_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let (s, a) = (dir.path().join("s.tsv"), dir.path().join("a.tsv"));
    std::fs::write(&s, SCORES).unwrap();
    std::fs::write(&a, "id\tgerp\nv1\t3\nv2\t1\nv3\t2\n").unwrap();
    let o = analyze(&s, &a, "Glut", &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        r.get("enrichment").is_none()
            && r.get("direction").is_none()
            && r.get("selection").is_none()
    );
    assert!(r.get("constraint").is_some());
    assert_eq!(r["top"], 1, "default top: 10 % of 10 scored variants");

    std::fs::write(&a, "id\tmaf\nv1\tlow\n").unwrap();
    let o = analyze(&s, &a, "Glut", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("a.tsv") && err.contains("line 2: maf `low` is not a number"),
        "{err}"
    );

    let o = analyze(&s, &a, "Nope", &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no profile `Nope` (profiles: Glut, NPC)"),
        "{err}"
    );
}

/// The analyses used to include `ref_mismatch` rows without saying so: the
/// report counts them, and `--exclude-ref-mismatch` leaves them out.
#[test]
fn ref_mismatch_variants_are_counted_and_can_be_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let (s, a) = (dir.path().join("s.tsv"), dir.path().join("a.tsv"));
    std::fs::write(&s, SCORES).unwrap();
    std::fs::write(&a, ANNOTATIONS).unwrap();
    let json = |o: &std::process::Output| -> serde_json::Value {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let with = analyze(&s, &a, "Glut", &[]);
    assert!(String::from_utf8_lossy(&with.stderr)
        .contains("1 of them with status ref_mismatch, included"));
    let r = json(&with);
    assert_eq!(
        (
            r["variants"].as_u64(),
            r["ref_mismatch"].as_u64(),
            r["ref_mismatch_excluded"].as_u64()
        ),
        (Some(10), Some(1), Some(0))
    );
    let without = analyze(&s, &a, "Glut", &["--exclude-ref-mismatch"]);
    assert!(
        String::from_utf8_lossy(&without.stderr).contains("1 with status ref_mismatch left out")
    );
    let r = json(&without);
    assert_eq!(
        (
            r["variants"].as_u64(),
            r["ref_mismatch"].as_u64(),
            r["ref_mismatch_excluded"].as_u64()
        ),
        (Some(9), Some(0), Some(1))
    );
    // v5 (MAF 0.2) is no longer in the selection analysis's bins: 9 variants, not 10.
    let binned = |r: &serde_json::Value| -> u64 {
        r["selection"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["n"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(binned(&r), 9, "{}", r["selection"]);
    assert_eq!(binned(&json(&with)), 10);
}
