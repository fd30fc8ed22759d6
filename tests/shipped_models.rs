//! Every model shipped in models/ loads (size, SHA-256, every tensor's dtype and
//! shape, including int8 files with f16 layers) and predicts probabilities.

use brain_resnet::Model;

#[test]
fn every_shipped_model_loads_and_predicts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut seen = vec![];
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("model.json").exists() {
            continue;
        }
        let model = Model::load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let n = model.labels().len();
        assert_eq!(n, model.manifest.architecture.outputs);
        let seq: Vec<u8> = (0..model.window()).map(|i| b"ACGTTGCA"[i % 8]).collect();
        let p = model.predict_sequences([("s", seq.as_slice())], 1);
        let p = p[0].as_ref().unwrap();
        assert_eq!(p.len(), n);
        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)), "{p:?}");
        seen.push(model.manifest.name.clone());
    }
    assert!(seen.contains(&"demo-motif-grammar".to_string()), "{seen:?}");
    assert!(
        seen.contains(&"brain-chrx-nott2019".to_string()),
        "{seen:?}"
    );
}

#[test]
fn the_chrx_model_keeps_its_error_carrying_layers_at_f16() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/brain-chrx-nott2019");
    let m = Model::load_dir(&dir).unwrap().manifest;
    assert_eq!(m.labels.len(), 12);
    assert_eq!(m.weights.dtype.to_string(), "int8");
    // The layer that carries most of the int8 error (the stem, 0.04 alone)
    // is among those kept at f16, in whatever order convert lists them.
    let f16: Vec<&str> = m
        .weights
        .quantization
        .split_once("f16 weights: ")
        .map(|(_, list)| list.split(", ").collect())
        .unwrap_or_default();
    assert!(
        f16.contains(&"seq_model.conv1"),
        "{}",
        m.weights.quantization
    );
    assert!(m.weights.bytes < 2_500_000, "{} bytes", m.weights.bytes);
}
