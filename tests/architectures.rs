//! Networks of unusual widths, from synthetic checkpoints: the architecture is
//! read from the tensor shapes, and the CPU, incremental and GPU paths, which
//! all walk the one graph of operations, agree with each other on it.

mod common;

use brain_resnet::architecture::{Config, MetaConfig, ResConfig, ResStage};
use brain_resnet::model::Network;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::shapes::config_from_checkpoint;
use brain_resnet::weights::{RawTensor, TensorMap};
use common::max_abs_diff_f32;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    }
}

/// A checkpoint holding every tensor `cfg` needs, random but well scaled
/// (batch-norm variances positive), and one unused block batch norm.
fn synthetic_checkpoint(cfg: &Config, seed: u64) -> TensorMap {
    let mut rng = Rng(seed | 1);
    let mut map = TensorMap::new();
    for (key, shape) in cfg.checkpoint_tensors() {
        let numel: usize = shape.iter().product();
        let fan_in = if shape.len() > 1 { numel / shape[0] } else { 1 };
        let data: Vec<f32> = (0..numel)
            .map(|_| {
                let u = rng.uniform();
                if key.ends_with("running_var") {
                    0.5 + u.abs()
                } else if key.ends_with(".weight") && shape.len() > 1 {
                    u * (3.0 / fan_in as f32).sqrt()
                } else if key.contains("bn") || key.contains("downsample.1") {
                    if key.ends_with(".weight") {
                        1.0 + 0.2 * u
                    } else {
                        0.1 * u
                    }
                } else {
                    0.1 * u
                }
            })
            .collect();
        map.insert(key, RawTensor::new(shape, data));
    }
    map
}

/// The 3/8-width preset, as the shipped demo model has it.
fn three_eighths() -> Config {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models/demo-motif-grammar/model.json"),
    )
    .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cfg: Config = serde_json::from_value(manifest["architecture"].clone()).unwrap();
    assert_eq!(cfg.meta.channels, [120, 180, 360]);
    cfg
}

/// Two meta convolutions of kernel 5, one residual stage of one block
/// (a downsample shortcut), odd widths everywhere.
fn one_stage() -> Config {
    Config {
        window: 1000,
        meta: MetaConfig {
            channels: vec![7, 13],
            kernel: 5,
            pool: 4,
            hidden: 9,
            outputs: 11,
        },
        resnet: ResConfig {
            stem: 6,
            kernel: 5,
            pool: 3,
            stages: vec![ResStage {
                channels: 10,
                blocks: 1,
            }],
            hidden: 17,
            outputs: 5,
        },
        head_hidden: 8,
        outputs: 5,
    }
}

fn windows(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed);
    (0..n * 1000)
        .map(|_| b"ACGT"[((rng.uniform() + 1.0) * 2.0).min(3.0) as usize])
        .collect()
}

fn one_hot(seq: &[u8]) -> Vec<f32> {
    seq.chunks(1000)
        .flat_map(|w| brain_resnet::window::encode("w", w, 1000).unwrap())
        .collect()
}

/// The CPU, incremental and (where an adapter exists) GPU paths on `cfg`.
fn paths_agree(cfg: &Config, seed: u64) {
    let map = synthetic_checkpoint(cfg, seed);
    let read = config_from_checkpoint(&map, "synthetic.pth").unwrap();
    assert_eq!(&read, cfg, "widths read back from the tensor shapes");
    let weights = fold_checkpoint(cfg, &map, "synthetic.pth").unwrap();
    let net = Network::new(cfg, &weights).unwrap();

    let seq = windows(3, seed);
    let x = one_hot(&seq);
    let whole = net.predict(&x).unwrap();
    assert_eq!(whole.len(), 3 * cfg.outputs);
    assert!(whole
        .iter()
        .all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
    // Not a constant network: the windows' predictions differ.
    assert!(max_abs_diff_f32(&whole[..cfg.outputs], &whole[cfg.outputs..2 * cfg.outputs]) > 0.0);

    // Incremental: mutants at the edges and inside, and a 3-base change,
    // against the first window as their reference.
    let reference = &seq[..1000];
    let mut mutants = vec![];
    for (pos, len) in [(0, 1), (500, 1), (999, 1), (137, 3), (996, 4)] {
        let mut m = reference.to_vec();
        for base in &mut m[pos..pos + len] {
            *base = if *base == b'A' { b'C' } else { b'A' };
        }
        mutants.push(m);
    }
    let mutant_windows: Vec<Vec<f32>> = mutants.iter().map(|m| one_hot(m)).collect();
    let items: Vec<(usize, &[f32])> = mutant_windows.iter().map(|w| (0, &w[..])).collect();
    let (ref_probs, incremental) = net.predict_incremental(&x[..4000], &items).unwrap();
    let plain = net.predict(&mutant_windows.concat()).unwrap();
    let d = max_abs_diff_f32(&incremental, &plain);
    eprintln!("incremental vs whole: {d:.2e}");
    assert!(
        d <= 1e-5,
        "incremental differs from whole recomputation by {d}"
    );
    assert!(max_abs_diff_f32(&ref_probs, &whole[..cfg.outputs]) <= 1e-6);

    #[cfg(feature = "gpu")]
    match brain_resnet::gpu::GpuNetwork::new(cfg, &weights) {
        Ok(gpu) => {
            for batch in [1, 2, 3] {
                let g = gpu.predict(&x, batch).unwrap();
                let d = max_abs_diff_f32(&g, &whole);
                eprintln!("GPU ({}) batch {batch} vs CPU: {d:.2e}", gpu.adapter());
                assert!(d <= 1e-4, "GPU differs from the CPU by {d}");
            }
        }
        Err(e) if std::env::var("BRAIN_RESNET_REQUIRE_GPU").as_deref() != Ok("1") => {
            eprintln!("SKIPPED the GPU: {e}");
        }
        Err(e) => panic!("BRAIN_RESNET_REQUIRE_GPU=1 but {e}"),
    }
}

#[test]
fn one_stage_residual_branch_and_odd_widths() {
    paths_agree(&one_stage(), 11);
}

#[test]
fn three_eighths_preset() {
    paths_agree(&three_eighths(), 12);
}
