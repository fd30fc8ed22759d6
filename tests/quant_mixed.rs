//! int8 models with some layers kept at f16 (`convert --keep-f16`), and the
//! quantization error table of `convert --check-windows` / `--max-error`.

mod common;

use common::{cli, fixture, max_abs_diff, path_str, predict, read_tsv};
use safetensors::{Dtype, SafeTensors};

fn convert_args<'a>(out: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec![
        "convert".to_string(),
        path_str(&fixture("model/metachrom-mini.pth")).to_string(),
        "--labels".into(),
        path_str(&fixture("model/labels.txt")).to_string(),
        "--out".into(),
        out.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run(args: &[String]) -> std::process::Output {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    cli(&refs)
}

fn manifest(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("model.json")).unwrap()).unwrap()
}

#[test]
fn kept_layers_are_stored_as_f16_and_the_model_loads_and_predicts() {
    let tmp = tempfile::tempdir().unwrap();
    let mixed = tmp.path().join("mixed");
    let int8 = tmp.path().join("int8");
    let f32 = tmp.path().join("f32");
    let o = run(&convert_args(
        path_str(&mixed),
        &[
            "--dtype",
            "int8",
            "--keep-f16",
            "classifier.2,seq_model.conv1",
        ],
    ));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (dir, dtype) in [(&int8, "int8"), (&f32, "f32")] {
        let o = run(&convert_args(path_str(dir), &["--dtype", dtype]));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    let m = manifest(&mixed);
    assert_eq!(m["weights"]["dtype"], "int8");
    // named in the network's order, whatever the order given
    assert_eq!(
        m["weights"]["quantization"],
        "int8-symmetric-per-output-channel; f16 weights: seq_model.conv1, classifier.2"
    );
    let bytes = std::fs::read(mixed.join("weights.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    for kept in ["classifier.2", "seq_model.conv1"] {
        assert_eq!(
            st.tensor(&format!("{kept}.weight")).unwrap().dtype(),
            Dtype::F16
        );
        assert!(st.tensor(&format!("{kept}.weight_scale")).is_err());
    }
    assert_eq!(st.tensor("classifier.0.weight").unwrap().dtype(), Dtype::I8);
    assert!(st.tensor("classifier.0.weight_scale").is_ok());

    let fasta = fixture("sequences.fa");
    let (_, p_mixed) = read_tsv(&predict(&mixed, &fasta));
    let (_, p_int8) = read_tsv(&predict(&int8, &fasta));
    let (_, p_f32) = read_tsv(&predict(&f32, &fasta));
    let e_mixed = max_abs_diff(&p_mixed, &p_f32);
    let e_int8 = max_abs_diff(&p_int8, &p_f32);
    eprintln!("vs f32: int8 {e_int8:.2e}, int8 with two f16 layers {e_mixed:.2e}");
    assert!(e_mixed < 0.05, "{e_mixed}");
    assert!(p_mixed != p_int8, "the f16 layers changed nothing");

    // `info` reads it like any model.
    let o = cli(&["info", "--model", path_str(&mixed)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("f16 weights: seq_model.conv1"));
}

#[test]
fn check_windows_prints_the_per_layer_table_and_max_error_keeps_layers_until_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    let report = tmp.path().join("report.json");
    let o = run(&convert_args(
        path_str(&out),
        &[
            "--dtype",
            "int8",
            "--check-windows",
            path_str(&fixture("sequences.fa")),
            "--max-error",
            "0.001",
            "--check-report",
            path_str(&report),
        ],
    ));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("only this layer int8"), "{err}");
    assert!(err.contains("base_model.conv_net.0"), "{err}");
    assert!(
        err.contains("the written model against f32 on 8 windows"),
        "{err}"
    );

    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["windows"], 8);
    let layers = r["per_layer_int8_alone"].as_array().unwrap();
    assert_eq!(layers.len(), 31, "one row per inference layer");
    let steps = r["int8_with_f16_layers"].as_array().unwrap();
    assert!(steps[0]["f16_layers"].as_array().unwrap().is_empty());
    let last = steps.last().unwrap();
    assert!(last["max_abs_error"].as_f64().unwrap() <= 0.001, "{last}");
    // Layers were added largest single-layer error first.
    let kept: Vec<&str> = last["f16_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut by_err: Vec<(&str, f64)> = layers
        .iter()
        .map(|l| {
            (
                l["layer"].as_str().unwrap(),
                l["max_abs_error"].as_f64().unwrap(),
            )
        })
        .collect();
    by_err.sort_by(|a, b| b.1.total_cmp(&a.1));
    let expect: Vec<&str> = by_err.iter().take(kept.len()).map(|x| x.0).collect();
    assert_eq!(kept, expect);
    let written = &r["written"];
    assert!(
        written["max_abs_error"].as_f64().unwrap() <= 0.001,
        "{written}"
    );
    assert_eq!(written["f16_layers"].as_array().unwrap().len(), kept.len());
    // The same layers are f16 in the file.
    let m = manifest(&out);
    let q = m["weights"]["quantization"].as_str().unwrap();
    for k in &kept {
        assert!(q.contains(k), "{q} lacks {k}");
    }
}

#[test]
fn an_unknown_layer_to_keep_is_refused_with_the_layer_names() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(&convert_args(
        path_str(&tmp.path().join("m")),
        &["--dtype", "int8", "--keep-f16", "classifier.9"],
    ));
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no layer `classifier.9`"), "{err}");
    assert!(err.contains("seq_model.layer1.0.conv1"), "{err}");
    // and --keep-f16 means nothing for f32
    let o = run(&convert_args(
        path_str(&tmp.path().join("m2")),
        &["--dtype", "f32", "--keep-f16", "classifier.0"],
    ));
    assert!(!o.status.success());
}
