//! Full-size Brain-ResNet throughput on the CPU (candle), natively.
//!
//!     cargo bench --bench full_size                     # 1 and 2 threads
//!     cargo bench --bench full_size -- --threads 2 --batch 16 --seconds 20
//!     cargo bench --bench full_size -- --gpu              # the WGSL path alone
//!     cargo bench --bench full_size -- --gpu --arithmetic int16
//!         # the WGSL path with int8 weights (kept int8 on the GPU, decoded in the
//!         # shader; the GPU's arithmetic is f32 all the same)
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
    /// Variants (REF whole + ALT incremental) instead of windows.
    variants: bool,
}

fn parse_args() -> Args {
    let mut args = Args {
        gpu: false,
        threads: None,
        batch: 8,
        seconds: 10.0,
        arithmetic: Arithmetic::F32,
        variants: false,
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
            "--variants" => args.variants = true,
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
fn run_gpu(batch: usize, seconds: f64, arithmetic: Arithmetic) {
    let cfg = Config::published();
    // f32: random weights; int16: the same weights as an int8 model has them.
    let weights = match arithmetic {
        Arithmetic::F32 => random_weights(&cfg, 7),
        Arithmetic::Int16 => bench_weights(&cfg, arithmetic),
    };
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
    let (packed, f32_bytes) = gpu.weight_bytes();
    println!(
        "{{\"engine\":\"brain-resnet (WGSL, wgpu)\",\"adapter\":{:?},\"batch\":{batch},\"windows\":{done},\"seconds\":{secs:.2},\"windows_per_s\":{wps:.2},\"gmac_per_s\":{:.1},\"build_s\":{build_s:.2},\"plan_mb_per_window\":{:.2},\"weight_mb\":{:.2},\"weight_mb_as_f32\":{:.2},\"batch_limit\":{}}}",
        gpu.adapter(),
        wps * gmac,
        gpu.plan_bytes(1) as f64 / 1e6,
        packed as f64 / 1e6,
        f32_bytes as f64 / 1e6,
        gpu.batch_limit().unwrap_or(0)
    );
}

/// Runs one configuration in this process; prints one JSON line.
fn run(threads: usize, batch: usize, seconds: f64, arithmetic: Arithmetic, variants: bool) {
    let cfg = Config::published();
    let t0 = Instant::now();
    let weights = bench_weights(&cfg, arithmetic);
    let net = Network::from_weights_with(&cfg, weights, arithmetic).expect("network");
    if variants {
        return run_variants(&net, threads, batch, seconds, t0.elapsed().as_secs_f64());
    }
    let build_s = t0.elapsed().as_secs_f64();
    let windows = brain_resnet_bench_windows(&cfg, batch);
    let (done, secs) = timed(batch, seconds, || net.predict(&windows).expect("predict"));
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    // The same weights in f32 (built after the peak memory is read), for the
    // error of a faster arithmetic on the benchmark's windows.
    let error = if arithmetic == Arithmetic::F32 {
        0.0
    } else {
        let f = Network::from_weights_with(&cfg, bench_weights(&cfg, arithmetic), Arithmetic::F32)
            .expect("network");
        let (a, b) = (
            net.predict(&windows).expect("predict"),
            f.predict(&windows).expect("predict"),
        );
        a.iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()))
    };
    let wps = done as f64 / secs;
    let gmac = cfg.macs_per_window() as f64 / 1e9;
    println!(
        "{{\"engine\":\"brain-resnet ({}, native)\",\"threads\":{threads},\"batch\":{batch},\"windows\":{done},\"seconds\":{secs:.2},\"windows_per_s\":{wps:.2},\"gmac_per_s\":{:.1},\"gmac_per_window\":{gmac:.4},\"build_s\":{build_s:.2},\"max_abs_error_vs_f32\":{error:.2e},\"peak_rss_mib\":{:.0}}}",
        net.arithmetic().describe(),
        wps * gmac,
        peak
    );
}

/// Seeded random weights; for the int16 arithmetic, as a model stored as
/// int8 loads them.
fn bench_weights(cfg: &Config, arithmetic: Arithmetic) -> brain_resnet::weights::Weights {
    let mut weights = random_weights(cfg, 7);
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
    weights
}

/// SNVs as the scorer predicts them: `batch` REF windows whole and one ALT
/// each (a base changed mid-window) incrementally. Prints one JSON line.
fn run_variants(net: &Network, threads: usize, batch: usize, seconds: f64, build_s: f64) {
    let cfg = net.config();
    let refs = brain_resnet_bench_windows(cfg, batch);
    let per = 4 * cfg.window;
    let len = cfg.window;
    let alts: Vec<Vec<f32>> = (0..batch)
        .map(|i| {
            let mut w = refs[i * per..(i + 1) * per].to_vec();
            let pos = len / 2 + i % 7;
            let ch = (0..4).find(|&c| w[c * len + pos] == 1.0).unwrap_or(0);
            w[ch * len + pos] = 0.0;
            w[((ch + 1) % 4) * len + pos] = 1.0;
            w
        })
        .collect();
    let items: Vec<(usize, &[f32])> = alts
        .iter()
        .enumerate()
        .map(|(i, a)| (i, a.as_slice()))
        .collect();
    let (done, secs) = timed(batch, seconds, || {
        let (r, a) = net.predict_incremental(&refs, &items).expect("predict");
        assert_eq!(r.len(), a.len());
        a
    });
    let vps = done as f64 / secs;
    println!(
        "{{\"engine\":\"brain-resnet ({}, native)\",\"threads\":{threads},\"batch\":{batch},\"variants\":{done},\"seconds\":{secs:.2},\"variants_per_s\":{vps:.2},\"build_s\":{build_s:.2},\"peak_rss_mib\":{:.0}}}",
        net.arithmetic().describe(),
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
        run_gpu(args.batch, args.seconds, args.arithmetic);
        return;
    }
    if let Some(threads) = args.threads {
        // candle's CPU kernels size their pools from RAYON_NUM_THREADS.
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        run(
            threads,
            args.batch,
            args.seconds,
            args.arithmetic,
            args.variants,
        );
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
    let child = |t: usize, extra: &[&str]| -> String {
        let out = Command::new(&exe)
            .args([
                "--threads",
                &t.to_string(),
                "--batch",
                &args.batch.to_string(),
            ])
            .args(["--seconds", &args.seconds.to_string()])
            .args(extra)
            .output()
            .expect("run child");
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        println!("{line}");
        line
    };
    for t in threads {
        // f32 (f32 models), int16 activations x int8 weights (int8 models: every
        // shipped model and the page's default), and SNVs in int16.
        let ours_f32 = child(t, &[]);
        let ours_int16 = child(t, &["--arithmetic", "int16"]);
        let ours_variants = child(t, &["--arithmetic", "int16", "--variants"]);
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
            let Some(b) = field(&theirs, "windows_per_s") else {
                continue;
            };
            for (what, ours, key, per_window) in [
                ("windows, f32", &ours_f32, "windows_per_s", 1.0),
                ("windows, int16 x int8", &ours_int16, "windows_per_s", 1.0),
                // PyTorch scores an SNV as two whole windows (REF + ALT).
                (
                    "variants, int16 x int8, REF whole + ALT incremental vs PyTorch REF + ALT",
                    &ours_variants,
                    "variants_per_s",
                    0.5,
                ),
            ] {
                if let Some(a) = field(ours, key) {
                    println!(
                        "{{\"ratio\":\"brain-resnet / pytorch: {what}\",\"threads\":{t},\"batch\":{},\"value\":{:.2}}}",
                        args.batch,
                        a / (b * per_window)
                    );
                }
            }
        }
    }
}
