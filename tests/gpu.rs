//! The WGSL backend (wgpu) against the CPU path: fixtures and the full-size
//! architecture. Natively this runs on any Vulkan adapter; CI has Mesa's
//! lavapipe (a CPU Vulkan driver). Without an adapter the tests say so and
//! pass, unless BRAIN_RESNET_REQUIRE_GPU=1 (set by scripts/test.sh).
#![cfg(feature = "gpu")]

mod common;

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
    let Some(mut gpu) = gpu_or_skip(&manifest.architecture, &weights) else {
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
