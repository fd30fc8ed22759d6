//! Incremental inference against naive full recomputation, full-size network
//! (random seeded weights; speed does not depend on their values), CPU:
//!
//!     cargo bench --bench incremental                    # threads: rayon's default
//!     RAYON_NUM_THREADS=1 cargo bench --bench incremental -- --mutants 600 --variants 64
//!
//! Saturation mutagenesis: `--mutants` single-base mutants of one window
//! (spread over all positions; 3,000 is the whole window) predicted whole vs
//! incrementally against the window. Variants: `--variants` SNVs, each with its
//! own REF window, REF + ALT predicted whole vs REF whole + ALT incremental.
//! Prints windows/s, the ratio, the work saved, and the max difference.

use std::time::Instant;

use brain_resnet::model::{Config, Network};
use brain_resnet::weights::fold::random_weights;
use brain_resnet::window::encode_into;

fn arg(name: &str, default: usize) -> usize {
    let argv: Vec<String> = std::env::args().collect();
    argv.iter()
        .position(|a| a == name)
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn encode(seq: &[u8], window: usize) -> Vec<f32> {
    let mut w = vec![0f32; 4 * window];
    encode_into("bench", seq, window, &mut w).unwrap();
    w
}

fn random_seq(window: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    (0..window)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            b"ACGT"[(s >> 33) as usize % 4]
        })
        .collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn main() {
    let mutants = arg("--mutants", 600);
    let variants = arg("--variants", 64);
    let batch = arg("--batch", 16);
    let cfg = Config::published();
    let net = Network::new(&cfg, &random_weights(&cfg, 3)).unwrap();
    let window = cfg.window;
    let gmac = cfg.macs_per_window() as f64 / 1e9;
    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    println!(
        "full-size network, {gmac:.3} GMAC/window, RAYON_NUM_THREADS={threads}, batch {batch}"
    );

    // Saturation mutagenesis of one window.
    let seq = random_seq(window, 1);
    let reference = encode(&seq, window);
    let step = (3 * window / mutants.max(1)).max(1);
    let windows: Vec<Vec<f32>> = (0..3 * window)
        .step_by(step)
        .take(mutants)
        .map(|k| {
            let (pos, shift) = (k / 3, k % 3 + 1);
            let mut m = seq.clone();
            let b = b"ACGT".iter().position(|&c| c == m[pos]).unwrap();
            m[pos] = b"ACGT"[(b + shift) % 4];
            encode(&m, window)
        })
        .collect();
    let n = windows.len();
    let t = Instant::now();
    let mut naive = vec![];
    for chunk in windows.chunks(batch) {
        let data: Vec<f32> = chunk.iter().flatten().copied().collect();
        naive.extend(net.predict(&data).unwrap());
    }
    let naive_s = t.elapsed().as_secs_f64();
    let items: Vec<(usize, &[f32])> = windows.iter().map(|w| (0, w.as_slice())).collect();
    let t = Instant::now();
    let (_, inc) = net.predict_incremental(&reference, &items).unwrap();
    let inc_s = t.elapsed().as_secs_f64();
    println!(
        "mutagenesis, {n} mutants of one window: naive {:.1} windows/s ({:.1} GMAC/s), incremental {:.1} windows/s, {:.2}x; max |difference| {:.1e}; a whole window (3,000 mutants) naive {:.0} s, incremental {:.0} s",
        n as f64 / naive_s,
        n as f64 * gmac / naive_s,
        n as f64 / inc_s,
        naive_s / inc_s,
        max_diff(&naive, &inc),
        naive_s * 3000.0 / n as f64,
        inc_s * 3000.0 / n as f64,
    );

    // Variants: REF + ALT per SNV, each with its own REF window.
    let refs: Vec<Vec<u8>> = (0..variants)
        .map(|i| random_seq(window, 100 + i as u64))
        .collect();
    let alts: Vec<Vec<u8>> = refs
        .iter()
        .map(|r| {
            let mut a = r.clone();
            a[499] = if a[499] == b'A' { b'G' } else { b'A' };
            a
        })
        .collect();
    let ref_w: Vec<Vec<f32>> = refs.iter().map(|s| encode(s, window)).collect();
    let alt_w: Vec<Vec<f32>> = alts.iter().map(|s| encode(s, window)).collect();
    let t = Instant::now();
    let mut naive = vec![];
    for (r, a) in ref_w.chunks(batch / 2).zip(alt_w.chunks(batch / 2)) {
        let data: Vec<f32> = r.iter().chain(a).flatten().copied().collect();
        naive.extend(net.predict(&data).unwrap());
    }
    let naive_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut inc = vec![];
    for (r, a) in ref_w.chunks(batch).zip(alt_w.chunks(batch)) {
        let data: Vec<f32> = r.iter().flatten().copied().collect();
        let items: Vec<(usize, &[f32])> = a
            .iter()
            .enumerate()
            .map(|(k, w)| (k, w.as_slice()))
            .collect();
        let (rp, ap) = net.predict_incremental(&data, &items).unwrap();
        inc.push((rp, ap));
    }
    let inc_s = t.elapsed().as_secs_f64();
    let _ = (naive, inc);
    println!(
        "variants, {variants} SNVs (REF + ALT): naive {:.1} variants/s, REF whole + ALT incremental {:.1} variants/s, {:.2}x",
        variants as f64 / naive_s,
        variants as f64 / inc_s,
        naive_s / inc_s
    );
}
