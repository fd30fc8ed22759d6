//! Full-size Brain-ResNet throughput on the CPU (candle), natively.
//!
//!     cargo bench --bench full_size                     # 1 and 2 threads
//!     cargo bench --bench full_size -- --threads 2 --batch 16 --seconds 20
//!     cargo bench --bench full_size -- --gpu              # the WGSL path alone
//!     cargo bench --bench full_size -- --threads 2 --arithmetic int16
//!         # one configuration: int8 weights, int16 activations (the default of
//!         # int8 models); a plain run measures f32 and int16 side by side
//!     TORCH_PYTHON=/work/venv-torch/bin/python cargo bench --bench full_size
//!         # also runs benches/pytorch_reference.py with the same threads and
//!         # batch, and prints ours / PyTorch from the same run
//!
//! Weights are random (seeded) in the published architecture's shapes: speed does
//! not depend on their values. Prints windows/s and achieved GMAC/s.

use std::process::Command;
use std::time::{Duration, Instant};

use brain_resnet::model::{Arithmetic, Config, Network};
use brain_resnet::weights::fold::random_weights;

struct Args {
    gpu: bool,
    threads: Option<usize>,
    batch: usize,
    seconds: f64,
    arithmetic: Arithmetic,
}

fn parse_args() -> Args {
    let mut args = Args {
        gpu: false,
        threads: None,
        batch: 8,
        seconds: 10.0,
        arithmetic: Arithmetic::F32,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = || argv.get(i + 1).and_then(|v| v.parse::<f64>().ok());
        match argv[i].as_str() {
            "--threads" => args.threads = value().map(|v| v as usize),
            "--batch" => args.batch = value().map_or(8, |v| v as usize),
            "--seconds" => args.seconds = value().unwrap_or(10.0),
            "--gpu" => args.gpu = true,
            "--arithmetic" => {
                args.arithmetic = match argv.get(i + 1).map(String::as_str) {
                    Some("int16") => Arithmetic::Int16,
                    _ => Arithmetic::F32,
                }
            }
            _ => {} // `cargo bench` passes --bench
        }
        i += 1;
    }
    args
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The GPU path (wgpu; any adapter, lavapipe included); prints one JSON line.
fn run_gpu(batch: usize, seconds: f64) {
    let cfg = Config::published();
    let weights = random_weights(&cfg, 7);
    let t0 = Instant::now();
    let gpu = match brain_resnet::gpu::GpuNetwork::new(&cfg, &weights) {
        Ok(g) => g,
        Err(e) => {
            println!(
                "{{\"engine\":\"brain-resnet (WGSL, wgpu)\",\"error\":{:?}}}",
                e.to_string()
            );
            return;
        }
    };
    let build_s = t0.elapsed().as_secs_f64();
    let windows = brain_resnet_bench_windows(&cfg, batch);
    let (done, secs) = timed(batch, seconds, || {
        gpu.predict(&windows, batch).expect("predict")
    });
    let wps = done as f64 / secs;
    let gmac = cfg.macs_per_window() as f64 / 1e9;
    println!(
        "{{\"engine\":\"brain-resnet (WGSL, wgpu)\",\"adapter\":{:?},\"batch\":{batch},\"windows\":{done},\"seconds\":{secs:.2},\"windows_per_s\":{wps:.2},\"gmac_per_s\":{:.1},\"build_s\":{build_s:.2},\"plan_mb_per_window\":{:.2}}}",
        gpu.adapter(),
        wps * gmac,
        gpu.plan_bytes(1) as f64 / 1e6
    );
}

/// Runs one configuration in this process; prints one JSON line.
fn run(threads: usize, batch: usize, seconds: f64, arithmetic: Arithmetic) {
    let cfg = Config::published();
    let t0 = Instant::now();
    let mut weights = random_weights(&cfg, 7);
    if arithmetic == Arithmetic::Int16 {
        // As a model stored as int8 loads: int8 codes times per-channel scales
        // (max / 127 here: speed does not depend on the values).
        for l in &mut weights.layers {
            let per = l.weight.data.len() / l.weight.shape[0];
            for row in l.weight.data.chunks_mut(per) {
                let s = row.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                if s > 0.0 {
                    row.iter_mut().for_each(|v| *v = (*v / s).round() * s);
                }
            }
        }
    }
    let net = Network::from_weights_with(&cfg, weights, arithmetic).expect("network");
    let build_s = t0.elapsed().as_secs_f64();
    let windows = brain_resnet_bench_windows(&cfg, batch);
    let (done, secs) = timed(batch, seconds, || net.predict(&windows).expect("predict"));
    let wps = done as f64 / secs;
    let gmac = cfg.macs_per_window() as f64 / 1e9;
    println!(
        "{{\"engine\":\"brain-resnet ({}, native)\",\"threads\":{threads},\"batch\":{batch},\"windows\":{done},\"seconds\":{secs:.2},\"windows_per_s\":{wps:.2},\"gmac_per_s\":{:.1},\"gmac_per_window\":{gmac:.4},\"build_s\":{build_s:.2},\"peak_rss_mib\":{:.0}}}",
        net.arithmetic().describe(),
        wps * gmac,
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

/// One warm-up call, then calls for `seconds`: (windows done, seconds taken).
fn timed(batch: usize, seconds: f64, mut predict: impl FnMut() -> Vec<f32>) -> (usize, f64) {
    let outputs = predict().len();
    assert_eq!(outputs % batch, 0);
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < Duration::from_secs_f64(seconds) {
        assert_eq!(predict().len(), outputs);
        done += batch;
    }
    (done, start.elapsed().as_secs_f64())
}

fn brain_resnet_bench_windows(cfg: &Config, batch: usize) -> Vec<f32> {
    let seq: Vec<u8> = (0..cfg.window)
        .map(|i| b"ACGT"[(i * 7 + i / 13) % 4])
        .collect();
    let one = brain_resnet::window::encode("bench", &seq, cfg.window).unwrap();
    one.repeat(batch)
}

fn field(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn main() {
    let args = parse_args();
    if args.gpu {
        run_gpu(args.batch, args.seconds);
        return;
    }
    if let Some(threads) = args.threads {
        // candle's CPU kernels size their pools from RAYON_NUM_THREADS.
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        run(threads, args.batch, args.seconds, args.arithmetic);
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let torch = std::env::var("TORCH_PYTHON").ok();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "full-size network: {} parameters, {:.3} GMAC/window; {cores} cores",
        Config::published().trained_parameter_count(),
        Config::published().macs_per_window() as f64 / 1e9
    );
    let mut threads = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    let gpu = Command::new(&exe)
        .args([
            "--gpu",
            "--batch",
            &args.batch.to_string(),
            "--seconds",
            &args.seconds.to_string(),
        ])
        .output()
        .expect("run child");
    let gpu = String::from_utf8_lossy(&gpu.stdout).trim().to_string();
    println!("{gpu}");
    for t in threads {
        let ours = Command::new(&exe)
            .args([
                "--threads",
                &t.to_string(),
                "--batch",
                &args.batch.to_string(),
            ])
            .args(["--seconds", &args.seconds.to_string()])
            .output()
            .expect("run child");
        let ours = String::from_utf8_lossy(&ours.stdout).trim().to_string();
        println!("{ours}");
        if let Some(py) = &torch {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/pytorch_reference.py");
            let theirs = Command::new(py)
                .args([
                    script,
                    "--threads",
                    &t.to_string(),
                    "--batch",
                    &args.batch.to_string(),
                ])
                .args(["--seconds", &args.seconds.to_string()])
                .output()
                .expect("run PyTorch reference");
            let theirs = String::from_utf8_lossy(&theirs.stdout).trim().to_string();
            println!("{theirs}");
            if let (Some(a), Some(b)) = (
                field(&ours, "windows_per_s"),
                field(&theirs, "windows_per_s"),
            ) {
                println!(
                    "{{\"ratio\":\"brain-resnet / pytorch\",\"threads\":{t},\"batch\":{},\"value\":{:.2}}}",
                    args.batch,
                    a / b
                );
            }
        }
    }
}
