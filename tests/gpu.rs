//! The WGSL backend (wgpu) against the CPU path: fixtures and the full-size
//! architecture. Natively this runs on any Vulkan adapter; CI has Mesa's
//! lavapipe (a CPU Vulkan driver). Without an adapter the tests say so and
//! pass, unless BRAIN_RESNET_REQUIRE_GPU=1 (set by scripts/test.sh).
#![cfg(feature = "gpu")]

mod common;

use brain_resnet::gpu::storage::Storage;
use brain_resnet::gpu::GpuNetwork;
use brain_resnet::model::{Config, Network};
use brain_resnet::weights::fold::random_weights;
use brain_resnet::Model;
use common::*;

fn gpu_or_skip(cfg: &Config, weights: &brain_resnet::weights::Weights) -> Option<GpuNetwork> {
    match GpuNetwork::new(cfg, weights) {
        Ok(g) => {
            eprintln!("GPU adapter: {}", g.adapter());
            Some(g)
        }
        Err(e) if std::env::var("BRAIN_RESNET_REQUIRE_GPU").as_deref() != Ok("1") => {
            eprintln!("SKIPPED: {e} (install mesa-vulkan-drivers, or set BRAIN_RESNET_REQUIRE_GPU=1 to fail)");
            None
        }
        Err(e) => panic!("BRAIN_RESNET_REQUIRE_GPU=1 but {e}"),
    }
}

#[test]
fn gpu_matches_cpu_and_expected_on_the_fixture_model() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    let model = Model::load_dir(dir.path()).unwrap();
    let recs = brain_resnet::io::fasta::read_fasta(
        std::io::BufReader::new(std::fs::File::open(fixture("sequences.fa")).unwrap()),
        "sequences.fa",
    )
    .unwrap();
    let mut windows = vec![];
    for r in &recs {
        windows.extend(brain_resnet::window::encode(&r.name, &r.sequence, 1000).unwrap());
    }
    let cpu = model.network.predict(&windows).unwrap();
    for batch in [1, 3, 8] {
        let g = gpu.predict(&windows, batch).unwrap();
        let d = max_abs_diff_f32(&g, &cpu);
        eprintln!("batch {batch}: max |GPU - CPU| = {d:.2e}");
        assert!(d <= 1e-4, "batch {batch}: {d}");
    }
    let (_, expected) =
        read_tsv(&std::fs::read_to_string(fixture("expected/sequences-mini.tsv")).unwrap());
    let g = gpu.predict(&windows, 8).unwrap();
    let want: Vec<f32> = expected
        .iter()
        .flat_map(|(_, v)| v.iter().map(|x| *x as f32))
        .collect();
    assert!(max_abs_diff_f32(&g, &want) <= 1e-4);
}

#[test]
fn gpu_matches_cpu_on_the_full_size_architecture() {
    let cfg = Config::published();
    let weights = random_weights(&cfg, 11);
    let Some(gpu) = gpu_or_skip(&cfg, &weights) else {
        return;
    };
    let cpu = Network::new(&cfg, &weights).unwrap();
    let mut windows = vec![];
    for s in 0..2u64 {
        let seq: Vec<u8> = (0..1000u64)
            .map(|i| b"ACGTN"[((i * 2654435761 + s * 97) >> 7) as usize % 5])
            .collect();
        windows.extend(brain_resnet::window::encode("w", &seq, 1000).unwrap());
    }
    let c = cpu.predict(&windows).unwrap();
    let g = gpu.predict(&windows, 2).unwrap();
    let d = max_abs_diff_f32(&g, &c);
    eprintln!("full size: max |GPU - CPU| = {d:.2e}");
    assert!(d <= 1e-4, "{d}");
    // The outputs are not saturated (a trivial 0/1 answer would hide errors).
    assert!(c.iter().any(|v| *v > 0.05 && *v < 0.95), "{c:?}");
}

fn require_gpu() -> bool {
    std::env::var("BRAIN_RESNET_REQUIRE_GPU").as_deref() == Ok("1")
}

#[test]
fn cli_gpu_backend_predicts_the_expected_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let o = cli(&[
        "predict",
        "--backend",
        "gpu",
        "--model",
        path_str(dir.path()),
        path_str(&fixture("sequences.fa")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    if !o.status.success() && !require_gpu() {
        eprintln!("SKIPPED: {err}");
        return;
    }
    assert!(o.status.success(), "{err}");
    assert!(err.contains("backend: GPU: "), "{err}");
    let (_, rows) = read_tsv(&String::from_utf8(o.stdout).unwrap());
    let (_, expected) =
        read_tsv(&std::fs::read_to_string(fixture("expected/sequences-mini.tsv")).unwrap());
    assert!(max_abs_diff(&rows, &expected) <= 1e-4);
    // `auto` never picks a software adapter such as lavapipe.
    let o = cli(&[
        "predict",
        "--model",
        path_str(dir.path()),
        path_str(&fixture("sequences.fa")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    if err.contains("Cpu, Vulkan") || err.contains("llvmpipe") {
        assert!(
            err.contains("backend: CPU (candle): ") && err.contains("software adapter"),
            "{err}"
        );
    }
}

#[test]
fn a_lost_gpu_device_falls_back_to_the_cpu_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = match Model::load_dir_with(dir.path(), brain_resnet::BackendChoice::Gpu) {
        Ok(m) => m,
        Err(e) if !require_gpu() => return eprintln!("SKIPPED: {e}"),
        Err(e) => panic!("{e}"),
    };
    assert!(model.backend().starts_with("GPU: "), "{}", model.backend());
    let seq = "ACGT".repeat(250);
    let before = model
        .predict_sequences([("s", seq.as_bytes())], 1)
        .remove(0)
        .unwrap();
    model.lose_gpu_device();
    let after = model
        .predict_sequences([("s", seq.as_bytes())], 1)
        .remove(0)
        .unwrap();
    assert!(
        model.backend().contains("the GPU failed"),
        "{}",
        model.backend()
    );
    let cpu = Model::load_dir(dir.path())
        .unwrap()
        .predict_sequences([("s", seq.as_bytes())], 1)
        .remove(0)
        .unwrap();
    assert_eq!(after, cpu, "after the loss, results come from the CPU");
    assert!(max_abs_diff_f32(&before, &cpu) <= 1e-4);
}

#[test]
fn a_batch_over_the_binding_limit_is_split_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    let model = Model::load_dir(dir.path()).unwrap();
    let recs = brain_resnet::io::fasta::read_fasta(
        std::io::BufReader::new(std::fs::File::open(fixture("sequences.fa")).unwrap()),
        "sequences.fa",
    )
    .unwrap();
    let mut windows = vec![];
    for r in &recs {
        windows.extend(brain_resnet::window::encode(&r.name, &r.sequence, 1000).unwrap());
    }
    let n = windows.len() / 4000;
    assert!(n >= 4, "{n} windows: too few to show a split");
    let cpu = model.network.predict(&windows).unwrap();
    // A device whose largest binding holds 3 windows' activations (and one byte
    // more): a request for all windows at once runs as batches of 3.
    let per = gpu.largest_binding_per_window();
    assert!(
        gpu.batch_limit().unwrap() >= n,
        "the real limit already splits"
    );
    gpu.set_binding_limit(3 * per + 1);
    assert_eq!(gpu.batch_limit().unwrap(), 3);
    let g = gpu.predict(&windows, n).unwrap();
    let d = max_abs_diff_f32(&g, &cpu);
    eprintln!("{n} windows under a 3-window binding limit: max |GPU - CPU| = {d:.2e}");
    assert!(d <= 1e-4, "{d}");
    // The plans built (one per batch size run) hold at most 3 windows.
    let sizes = gpu.plan_batches();
    assert!(
        sizes.contains(&3) && sizes.iter().all(|&b| b <= 3),
        "{sizes:?}"
    );
    // A limit below one window's activations is an error, not a validation failure.
    gpu.set_binding_limit(per - 1);
    let e = gpu.predict(&windows, n).unwrap_err().to_string();
    assert!(e.contains("binding"), "{e}");
}

/// WebGPU's default `maxStorageBufferBindingSize` (128 MiB), what a page gets
/// unless it asks for more: the largest batch "the plan allows" below is
/// taken under it (the native adapter's own limit may be far larger: lavapipe
/// would allow thousands of windows, too slow to run here).
const WEBGPU_DEFAULT_BINDING: u64 = 128 << 20;

/// `n` windows cycling through the fixture sequences and their variants (a
/// base changed per copy, so no two windows of one batch are equal).
fn fixture_windows(n: usize) -> Vec<f32> {
    let recs = brain_resnet::io::fasta::read_fasta(
        std::io::BufReader::new(std::fs::File::open(fixture("sequences.fa")).unwrap()),
        "sequences.fa",
    )
    .unwrap();
    let mut windows = Vec::with_capacity(n * 4000);
    for i in 0..n {
        let r = &recs[i % recs.len()];
        let mut seq = r.sequence.clone();
        if !seq.is_empty() {
            let at = (i * 7919) % seq.len();
            seq[at] = b"ACGT"[i % 4];
        }
        windows.extend(brain_resnet::window::encode(&r.name, &seq, 1000).unwrap());
    }
    windows
}

/// GPU against the CPU at batch 1, an odd batch and the largest batch the
/// plan allows (all in one submission), within `tol`.
fn parity_at_three_batches(gpu: &GpuNetwork, cpu: &Network, tol: f32, what: &str) {
    gpu.set_binding_limit(WEBGPU_DEFAULT_BINDING);
    let largest = gpu.batch_limit().unwrap();
    eprintln!("{what}: the largest batch under 128 MiB bindings is {largest}");
    let windows = fixture_windows(largest);
    let c = cpu.predict(&windows).unwrap();
    assert!(
        c.iter().any(|v| *v > 0.05 && *v < 0.95),
        "saturated outputs"
    );
    for batch in [1, 5, largest] {
        // A few batches' worth (all of them at the largest).
        let n = if batch == largest { largest } else { 3 * batch };
        let g = gpu.predict(&windows[..n * 4000], batch).unwrap();
        let d = max_abs_diff_f32(&g, &c[..g.len()]);
        eprintln!("{what}, batch {batch}: max |GPU - CPU| = {d:.2e} over {n} windows");
        assert!(d <= tol, "{what}, batch {batch}: {d}");
    }
    assert!(
        gpu.plan_batches().contains(&largest),
        "{:?}",
        gpu.plan_batches()
    );
}

#[test]
fn f32_weights_match_the_cpu_at_batch_1_an_odd_batch_and_the_largest() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    // f32 weights stay f32 (nothing about them changes).
    assert!(gpu.weight_storage().iter().all(|s| *s == Storage::F32));
    let (packed, f32s) = gpu.weight_bytes();
    assert_eq!(packed, f32s);
    let cpu = Network::new(&manifest.architecture, &weights).unwrap();
    parity_at_three_batches(&gpu, &cpu, 1e-4, "f32 mini");
}

#[test]
fn int8_weights_are_dequantized_in_the_shader_like_the_cpu() {
    use brain_resnet::model::Arithmetic;
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "int8");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    // Every layer of the int8 file goes to the GPU as int8 codes: about a
    // quarter of the f32 bytes.
    assert!(
        gpu.weight_storage().iter().all(|s| *s == Storage::Int8),
        "{:?}",
        gpu.weight_storage()
    );
    let (packed, f32s) = gpu.weight_bytes();
    eprintln!("int8 mini: GPU weight bytes {packed} (f32: {f32s})");
    assert!(packed * 4 <= f32s + 4 * 64, "{packed} vs {f32s}");
    // The page's path (layers as the file stores them) packs the same.
    let bytes = std::fs::read(dir.path().join(&manifest.weights.file)).unwrap();
    let layers =
        brain_resnet::weights::format::load_layers_with_digest(&manifest, &bytes, "weights", None)
            .unwrap();
    let from_file = pollster::block_on(GpuNetwork::from_layers_async(
        &manifest.architecture,
        layers,
        true,
    ))
    .unwrap();
    assert_eq!(from_file.weight_storage(), gpu.weight_storage());
    assert_eq!(from_file.weight_bytes(), gpu.weight_bytes());
    let windows = fixture_windows(6);
    assert_eq!(
        from_file.predict(&windows, 6).unwrap(),
        gpu.predict(&windows, 6).unwrap()
    );
    // The same f32 arithmetic on the CPU: within 1e-4 (the dequantized
    // weights are the same bits); the CPU's default int16 arithmetic: 1e-3.
    let f32_cpu =
        Network::from_weights_with(&manifest.architecture, weights.clone(), Arithmetic::F32)
            .unwrap();
    parity_at_three_batches(&gpu, &f32_cpu, 1e-4, "int8 mini vs CPU f32");
    let int16_cpu =
        Network::from_weights_with(&manifest.architecture, weights, Arithmetic::Int16).unwrap();
    let c = int16_cpu.predict(&windows).unwrap();
    let d = max_abs_diff_f32(&gpu.predict(&windows, 6).unwrap(), &c);
    eprintln!("int8 mini vs CPU int16: max |GPU - CPU| = {d:.2e}");
    assert!(d <= 1e-3, "{d}");
}

#[test]
fn int8_and_f16_layers_at_full_size_match_the_cpu() {
    use brain_resnet::weights::quant::{dequantize_int8, quantize_int8};
    let cfg = Config::published();
    let mut weights = random_weights(&cfg, 13);
    // int8 codes for every layer but two kept at f16 (as a mixed model keeps
    // some: `convert --keep-f16`).
    let f16_layers = ["conv1", "classifier.2"];
    for l in &mut weights.layers {
        if f16_layers.iter().any(|n| l.name.ends_with(n)) {
            for v in &mut l.weight.data {
                *v = half::f16::from_f32(*v).to_f32();
            }
        } else {
            let (q, s) = quantize_int8(&l.weight.data, l.weight.shape[0]);
            l.weight.data = dequantize_int8(&q, &s);
        }
    }
    let Some(gpu) = gpu_or_skip(&cfg, &weights) else {
        return;
    };
    let storage = gpu.weight_storage();
    let names: Vec<String> = cfg.graph().layers.iter().map(|l| l.name.clone()).collect();
    for (name, s) in names.iter().zip(&storage) {
        let want = if f16_layers.iter().any(|n| name.ends_with(n)) {
            Storage::F16
        } else {
            Storage::Int8
        };
        assert_eq!(*s, want, "{name}");
    }
    let (packed, f32s) = gpu.weight_bytes();
    eprintln!("full size int8 + f16: GPU weight bytes {packed} (f32: {f32s})");
    assert!(packed * 3 < f32s, "{packed} vs {f32s}");
    let cpu = Network::new(&cfg, &weights).unwrap();
    // Batch 1, an odd batch, and the largest the plan allows under 128 MiB
    // bindings (lavapipe's own limit, and WebGPU's default): 105 windows in
    // one submission.
    gpu.set_binding_limit(WEBGPU_DEFAULT_BINDING);
    let largest = gpu.batch_limit().unwrap();
    assert_eq!(largest, 105);
    let mut windows = vec![];
    for s in 0..largest as u64 {
        let seq: Vec<u8> = (0..1000u64)
            .map(|i| b"ACGTN"[((i * 2654435761 + s * 89) >> 7) as usize % 5])
            .collect();
        windows.extend(brain_resnet::window::encode("w", &seq, 1000).unwrap());
    }
    let c = cpu.predict(&windows).unwrap();
    for (batch, n) in [(1, 1), (3, 3), (largest, largest)] {
        let g = gpu.predict(&windows[..n * 4000], batch).unwrap();
        let d = max_abs_diff_f32(&g, &c[..g.len()]);
        eprintln!("full size int8 + f16, batch {batch}: max |GPU - CPU f32| = {d:.2e}");
        assert!(d <= 1e-4, "batch {batch}: {d}");
    }
    assert!(gpu.plan_batches().contains(&largest));
    assert!(c.iter().any(|v| *v > 0.05 && *v < 0.95), "{c:?}");
}

#[test]
fn the_batch_size_grows_from_one_with_measured_speed() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    assert_eq!(gpu.batch_size(), 1);
    assert!(gpu.describe_batch().starts_with("batch 1 to start"));
    // 94 = 1 + 1 + 2 + 2 + 4 + 4 + 8 + 8 + 4 x 16: the last batch is a full 16.
    let windows = fixture_windows(94);
    let cpu = Network::new(&manifest.architecture, &weights).unwrap();
    let c = cpu.predict(&windows).unwrap();
    // A bound no submission can reach (the rule, not this machine's speed,
    // decides): 1, 1, 2, 2, 4, 4, 8, 8 (two in flight: each size is chosen
    // before the batch ahead of it is measured), then the caller's 16.
    gpu.set_submission_bound_ms(1e12);
    let g = gpu.predict_auto(&windows, 16).unwrap();
    assert!(max_abs_diff_f32(&g, &c) <= 1e-4);
    let sizes = gpu.plan_batches();
    for want in [8, 16] {
        assert!(sizes.contains(&want), "{sizes:?}");
    }
    assert!(sizes.iter().all(|&n| n <= 16), "{sizes:?}");
    assert!(gpu.batch_size() >= 16);
    eprintln!("{}", gpu.describe_batch());
    assert!(gpu
        .describe_batch()
        .starts_with("batch 16 (chosen from measured speed"));
    // A bound every submission exceeds: back to one window at a time.
    gpu.set_submission_bound_ms(1e-9);
    let g = gpu.predict_auto(&windows[..3 * 4000], 16).unwrap();
    assert!(max_abs_diff_f32(&g, &c[..g.len()]) <= 1e-4);
    assert_eq!(gpu.batch_size(), 1);
}

#[test]
fn windows_go_up_as_bytes_and_other_values_as_f32() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (manifest, weights) = brain_resnet::weights::format::read_model_dir(dir.path()).unwrap();
    let Some(gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
        return;
    };
    let cpu = Network::new(&manifest.architecture, &weights).unwrap();
    let one_hot = fixture_windows(3);
    assert!(brain_resnet::gpu::pack_bytes(&one_hot).is_some());
    // Not bytes: the first 10 positions of each window as a quarter in every
    // channel (as some encoders write N): uploaded as f32.
    let mut soft = one_hot.clone();
    for w in 0..3 {
        for c in 0..4 {
            soft[w * 4000 + c * 1000..][..10].fill(0.25);
        }
    }
    assert!(brain_resnet::gpu::pack_bytes(&soft).is_none());
    for w in [&one_hot, &soft] {
        let d = max_abs_diff_f32(&gpu.predict(w, 3).unwrap(), &cpu.predict(w).unwrap());
        assert!(d <= 1e-4, "{d}");
    }
}

#[test]
fn shipped_int8_models_stay_int8_on_the_gpu() {
    use brain_resnet::gpu::storage::PackedLayer;
    use brain_resnet::weights::format;
    // No adapter needed: the packing is host code (what the GPU would hold).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let Ok(json) = std::fs::read_to_string(dir.join("model.json")) else {
            continue;
        };
        let m = format::parse_manifest(&json, "model.json").unwrap();
        let bytes = std::fs::read(dir.join(&m.weights.file)).unwrap();
        let (mut packed, mut f32s) = (0usize, 0usize);
        let (mut int8, mut f16) = (0, 0);
        let (_, weights) = format::read_model_dir(&dir).unwrap();
        for (l, w) in format::load_layers_with_digest(&m, &bytes, "weights", None)
            .unwrap()
            .zip(&weights.layers)
        {
            let p = PackedLayer::from_stored(&l.unwrap());
            // The native path recovers the same storage from f32 weights.
            let q = PackedLayer::from_f32(w);
            assert_eq!((p.storage, p.weight_bytes()), (q.storage, q.weight_bytes()));
            int8 += usize::from(p.storage == Storage::Int8);
            f16 += usize::from(p.storage == Storage::F16);
            packed += p.weight_bytes();
            f32s += 4 * w.weight.data.len();
        }
        eprintln!(
            "{}: {} layers int8, {f16} f16; GPU weight bytes {packed} (as f32 before: {f32s}, {:.2}x)",
            dir.display(),
            int8,
            packed as f64 / f32s as f64
        );
        if m.weights.dtype == brain_resnet::weights::quant::DType::Int8 {
            assert!(int8 > 0 && packed * 3 < f32s, "{}", dir.display());
        }
        seen += 1;
    }
    assert!(seen > 0);
}
