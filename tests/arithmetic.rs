//! The int16-activation arithmetic of int8 models (src/model/qconv.rs)
//! against f32 on the same weights: the full-size network and the shipped
//! models, whole windows and incremental ones, and results that do not
//! depend on how windows are batched.

mod common;

use brain_resnet::model::{Arithmetic, Config, Network};
use brain_resnet::weights::fold::random_weights;
use brain_resnet::weights::format::read_model_dir;
use brain_resnet::weights::quant::{dequantize_int8, quantize_int8};
use brain_resnet::weights::Weights;
use brain_resnet::window;
use common::max_abs_diff_f32;

/// Seeded random DNA windows, one-hot, `[n, 4, len]`.
fn windows(n: usize, len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .flat_map(|i| {
            let seq: Vec<u8> = (0..len)
                .map(|_| {
                    s = s
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"ACGT"[(s >> 62) as usize]
                })
                .collect();
            window::encode(&format!("w{i}"), &seq, len).unwrap()
        })
        .collect()
}

/// Weights as an int8 file stores them (codes times per-channel scales).
fn as_int8(mut w: Weights) -> Weights {
    for l in &mut w.layers {
        let (q, s) = quantize_int8(&l.weight.data, l.weight.shape[0]);
        l.weight.data = dequantize_int8(&q, &s);
    }
    w
}

/// The same weights in both arithmetics: max |int16 - f32| on `x`.
fn error(cfg: &Config, w: &Weights, x: &[f32]) -> f32 {
    let f = Network::from_weights_with(cfg, w.clone(), Arithmetic::F32).unwrap();
    let i = Network::from_weights_with(cfg, w.clone(), Arithmetic::Int16).unwrap();
    max_abs_diff_f32(&i.predict(x).unwrap(), &f.predict(x).unwrap())
}

#[test]
fn full_size_int16_is_within_the_budget_of_f32() {
    let cfg = Config::published();
    let w = as_int8(random_weights(&cfg, 11));
    // One window: a debug build runs the integer kernels slowly (about a
    // minute); `cargo bench --bench full_size` measures many more (int16 vs f32).
    let x = windows(1, cfg.window, 5);
    let e = error(&cfg, &w, &x);
    eprintln!("full size, int8 weights: max |int16 - f32| {e:.2e}");
    // The budget for any faster arithmetic is 0.02 (issue 17); a 14-bit
    // activation step stays far below it (measured 2e-5): 1e-3 catches a
    // kernel that is merely close.
    assert!(e <= 1e-3, "{e}");
}

#[test]
fn shipped_models_int16_is_within_the_budget_of_f32() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut seen = 0;
    for dir in std::fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.join("model.json").exists() {
            continue;
        }
        let (m, w) = read_model_dir(&dir).unwrap();
        let x = windows(32, m.architecture.window, 9);
        let e = error(&m.architecture, &w, &x);
        eprintln!("{}: max |int16 - f32| {e:.2e}", dir.display());
        // Measured 1.5e-4 and 2.1e-4; the budget is 0.02.
        assert!(e <= 1e-3, "{}: {e}", dir.display());
        seen += 1;
    }
    assert!(seen >= 2, "the shipped models were not found");
}

#[test]
fn int16_results_do_not_depend_on_the_batch() {
    let (m, w) = read_model_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo-motif-grammar"),
    )
    .unwrap();
    let net = Network::from_weights_with(&m.architecture, w, Arithmetic::Int16).unwrap();
    let per = 4 * m.architecture.window;
    let x = windows(5, m.architecture.window, 3);
    let batch = net.predict(&x).unwrap();
    let one_by_one: Vec<f32> = x
        .chunks(per)
        .flat_map(|w| net.predict(w).unwrap())
        .collect();
    assert_eq!(batch, one_by_one);
}

#[test]
fn int16_incremental_alts_match_alts_predicted_whole() {
    let (m, w) = read_model_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo-motif-grammar"),
    )
    .unwrap();
    let net = Network::from_weights_with(&m.architecture, w, Arithmetic::Int16).unwrap();
    let len = m.architecture.window;
    let reference = windows(1, len, 21);
    // Every base of the middle 40 positions changed to the next letter.
    let mut alts = vec![];
    for pos in len / 2 - 20..len / 2 + 20 {
        let mut a = reference.clone();
        let ch = (0..4).find(|&c| a[c * len + pos] == 1.0).unwrap();
        a[ch * len + pos] = 0.0;
        a[((ch + 1) % 4) * len + pos] = 1.0;
        alts.push(a);
    }
    let items: Vec<(usize, &[f32])> = alts.iter().map(|a| (0, a.as_slice())).collect();
    let (_, inc) = net.predict_incremental(&reference, &items).unwrap();
    let whole = net.predict(&alts.concat()).unwrap();
    let d = max_abs_diff_f32(&inc, &whole);
    eprintln!("int16: max |incremental - whole| over 40 SNVs {d:.2e}");
    // An incremental ALT is quantized with its reference's scales, an ALT
    // predicted whole with its own: they differ by activation rounding only.
    // Measured 5e-5.
    assert!(d <= 5e-4, "{d}");
}

#[test]
fn int16_incremental_alts_that_leave_the_references_range_match_alts_predicted_whole() {
    // An ALT quantized with its reference's scales is clamped where it makes
    // a stronger site than any in the reference (the demo's "gain" variants
    // did: up to 0.27 from f32 on the 3,000 demo variants). Such ALTs are
    // predicted whole. Reference: a low-complexity window; ALTs: GC-rich
    // motif consensus sequences (EGR1, SP1, CTCF-like) planted in it, whole
    // and one base at a time.
    let (m, w) = read_model_dir(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo-motif-grammar"),
    )
    .unwrap();
    let net = Network::from_weights_with(&m.architecture, w, Arithmetic::Int16).unwrap();
    let len = m.architecture.window;
    let base: Vec<u8> = (0..len).map(|i| b"AAAT"[i % 4]).collect();
    let encode = |s: &[u8]| window::encode("w", s, len).unwrap();
    let reference = encode(&base);
    let mut alts = vec![];
    for (k, site) in [
        &b"GCGTGGGCG"[..],
        b"GGGGCGGGGC",
        b"CCGCGNGGNGGCAG",
        b"CCACGCGTGG",
    ]
    .iter()
    .enumerate()
    {
        let at = len / 2 - 40 + 20 * k;
        let mut s = base.clone();
        s[at..at + site.len()].copy_from_slice(site);
        alts.push(encode(&s));
        let mut one = base.clone();
        one[at + site.len() / 2] = b'G';
        alts.push(encode(&one));
    }
    let items: Vec<(usize, &[f32])> = alts.iter().map(|a| (0, a.as_slice())).collect();
    let (ref_probs, inc) = net.predict_incremental(&reference, &items).unwrap();
    let whole = net.predict(&alts.concat()).unwrap();
    let effect = whole
        .chunks(ref_probs.len())
        .map(|a| max_abs_diff_f32(a, &ref_probs))
        .fold(0f32, f32::max);
    let d = max_abs_diff_f32(&inc, &whole);
    eprintln!(
        "int16, planted sites: largest effect {effect:.3}, max |incremental - whole| {d:.2e}"
    );
    assert!(
        effect > 0.05,
        "the planted sites change little ({effect}): not a test of range"
    );
    assert!(d <= 5e-4, "{d}");
}

#[test]
fn int8_codes_packed_from_the_file_equal_codes_recovered_from_f32() {
    // The page builds from the file's codes (Model::from_bytes_with_digest);
    // the CLI and convert recover them from dequantized f32: same network.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/brain-chrx-nott2019");
    let manifest = std::fs::read_to_string(dir.join("model.json")).unwrap();
    let bytes = std::fs::read(dir.join("weights.safetensors")).unwrap();
    let from_codes = brain_resnet::Model::from_bytes_with_digest(&manifest, &bytes, None).unwrap();
    assert_eq!(from_codes.network.arithmetic(), Arithmetic::Int16);
    let (m, w) = read_model_dir(&dir).unwrap();
    let recovered = Network::from_weights_with(&m.architecture, w, Arithmetic::Int16).unwrap();
    let x = windows(6, m.architecture.window, 17);
    assert_eq!(
        from_codes.network.predict(&x).unwrap(),
        recovered.predict(&x).unwrap()
    );
}
