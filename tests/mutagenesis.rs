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

/// The consensus (best base per column) of a motif of the shipped JASPAR set.
fn consensus(name: &str) -> Vec<u8> {
    let v: serde_json::Value =
        serde_json::from_str(brain_resnet::analysis::motifs::JASPAR_SUBSET).unwrap();
    let counts = &v["motifs"][name]["counts"];
    let len = counts["A"].as_array().unwrap().len();
    (0..len)
        .map(|i| {
            *b"ACGT"
                .iter()
                .max_by(|a, b| {
                    let c = |x: &u8| counts[(*x as char).to_string()][i].as_f64().unwrap();
                    c(a).total_cmp(&c(b))
                })
                .unwrap()
        })
        .collect()
}

#[test]
fn track_cli_writes_the_saturation_bedgraph_and_finds_a_planted_motif() {
    let model_dir = mini_model();
    let dir = tempfile::tempdir().unwrap();
    // A contig of one repeated dinucleotide (no motif hits) with a CTCF site planted at
    // 1-based 1,201 on the + strand and its reverse complement at 1,401.
    let mut seq: Vec<u8> = (0..3000).map(|i| b"AC"[i % 2]).collect();
    let site = consensus("CTCF");
    seq[1200..1200 + site.len()].copy_from_slice(&site);
    let rc: Vec<u8> = site
        .iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        })
        .collect();
    seq[1400..1400 + rc.len()].copy_from_slice(&rc);
    let fasta = dir.path().join("g.fa");
    std::fs::write(
        &fasta,
        format!(">chrT\n{}\n", String::from_utf8(seq.clone()).unwrap()),
    )
    .unwrap();
    let out = dir.path().join("trk");
    let o = cli(&[
        "track",
        "--model",
        path_str(model_dir.path()),
        "--genome",
        path_str(&fasta),
        "--region",
        "chrT:1191-1230",
        "--profile",
        "Glut",
        "--profile",
        "NPC",
        "--out",
        path_str(&out),
        "--backend",
        "cpu",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The motifs: both planted sites, on their strands, at their genome coordinates.
    let bed = std::fs::read_to_string(dir.path().join("trk.motifs.bed")).unwrap();
    let ctcf: Vec<Vec<&str>> = bed
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[3] == "CTCF")
        .collect();
    let end = |s: usize| (s + site.len()).to_string();
    assert!(
        ctcf.iter()
            .any(|c| c[..3] == ["chrT", "1200", end(1200).as_str()] && c[5] == "+"),
        "{bed}"
    );
    assert!(
        ctcf.iter()
            .any(|c| c[..3] == ["chrT", "1400", end(1400).as_str()] && c[5] == "-"),
        "{bed}"
    );
    // The bedGraph: one line per base of the region, the largest change per position of
    // the saturation of the window centred on the region (as the page computes it).
    let model = Model::load_dir(model_dir.path()).unwrap();
    let labels = model.labels().to_vec();
    let npc = labels.iter().position(|l| l == "NPC").unwrap();
    let middle = 1191 + (1230 - 1191) / 2; // 1-based
    let w0 = middle - 1 - brain_resnet::window::variant_offset(1000);
    let sat = saturation(&model, "w", &seq[w0..w0 + 1000], ScoreOptions::default()).unwrap();
    let graph = std::fs::read_to_string(dir.path().join("trk.NPC.bedGraph")).unwrap();
    let rows: Vec<&str> = graph.lines().skip(1).collect();
    assert_eq!(rows.len(), 40);
    for (k, row) in rows.iter().enumerate() {
        let pos = 1191 + k; // 1-based
        let c: Vec<&str> = row.split('\t').collect();
        assert_eq!(
            c[..3],
            [
                "chrT",
                (pos - 1).to_string().as_str(),
                pos.to_string().as_str()
            ]
        );
        let p = pos - 1 - w0;
        let want = (0..4)
            .map(|b| sat.delta[(p * 4 + b) * sat.outputs + npc])
            .fold(0f32, |m, v| if v.abs() > m.abs() { v } else { m });
        assert!(
            (c[3].parse::<f32>().unwrap() - want).abs() < 1e-6,
            "{row} vs {want}"
        );
    }
    assert!(dir.path().join("trk.Glut.bedGraph").exists());
    assert!(
        !dir.path().join("trk.CP.bedGraph").exists(),
        "only the chosen profiles"
    );
    // Bad regions are errors naming what is wrong.
    for (region, why) in [
        ("chrT:0-5", "a start of 0"),
        ("chrT:1-1001", "at most one window"),
        ("chrT:2990-3005", "ends past chrT's end"),
        ("chrZ:1-10", "contig `chrZ` is not in"),
    ] {
        let o = cli(&[
            "track",
            "--model",
            path_str(model_dir.path()),
            "--genome",
            path_str(&fasta),
            "--region",
            region,
            "--out",
            path_str(&out),
            "--backend",
            "cpu",
        ]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(why), "{region}: {err}");
    }
}
