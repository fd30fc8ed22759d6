//! `brain-resnet convert`: a PyTorch checkpoint to our model directory.
//!
//! For int8, `--keep-f16` stores the named layers' weights as f16, and
//! `--check-windows` measures the quantization error on sequences (a FASTA of
//! test windows): per layer, the probability error when only that layer is
//! int8 (the rest f32), then, with `--max-error`, layers are kept at f16 in
//! that order (largest error first) until the whole model's error on the
//! windows is within the bound; the written model is read back and checked.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use brain_resnet::model::{Arithmetic, Config, Network};
use brain_resnet::weights::checkpoint::read_checkpoint_file;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::format::{read_model_dir, sha256_hex, write_model_dir_mixed, ModelInfo};
use brain_resnet::weights::quant::{dequantize_int8, quantize_int8, DType};
use brain_resnet::weights::shapes::config_from_checkpoint;
use brain_resnet::weights::Weights;
use brain_resnet::{window, Error};

use super::{read_labels, spinner};

/// How the int8 weights are chosen and checked.
#[derive(Debug, Clone, Default)]
pub struct QuantOptions {
    /// Layers whose weights stay f16 in an int8 model.
    pub keep_f16: Vec<String>,
    /// FASTA of windows to measure the error on.
    pub check_windows: Option<PathBuf>,
    /// With `check_windows`: keep layers at f16 until the max error is within this.
    pub max_error: Option<f64>,
    /// Windows used for the per-layer table (the first ones of the file; 0: all).
    pub check_limit: usize,
    /// Where to write the error table as JSON.
    pub check_report: Option<PathBuf>,
}

#[allow(clippy::too_many_arguments)]
pub fn run(
    checkpoint: &Path,
    labels: &Path,
    out: &Path,
    dtype: DType,
    genome_build: String,
    name: Option<String>,
    description: String,
    quant: QuantOptions,
) -> Result<ExitCode, Error> {
    let labels = read_labels(labels)?;
    let source = checkpoint.display().to_string();
    if dtype != DType::Int8 && (!quant.keep_f16.is_empty() || quant.max_error.is_some()) {
        return Err(Error::input(
            "--keep-f16/--max-error",
            "only apply to --dtype int8",
        ));
    }
    if quant.max_error.is_some() && quant.check_windows.is_none() {
        return Err(Error::input(
            "--max-error",
            "needs --check-windows (the windows the error is measured on)",
        ));
    }
    let bar = spinner(&format!("reading {source}"));
    let map = read_checkpoint_file(checkpoint)?;
    let cfg = config_from_checkpoint(&map, &source)?;
    if labels.len() != cfg.outputs {
        return Err(Error::input(
            labels.len().to_string() + " labels",
            format!(
                "the checkpoint predicts {} profiles; give one label per output",
                cfg.outputs
            ),
        ));
    }
    bar.set_message("folding batch norms");
    let weights = fold_checkpoint(&cfg, &map, &source)?;
    for l in &quant.keep_f16 {
        if weights.get(l).is_none() {
            return Err(Error::input(
                "--keep-f16",
                format!("no layer `{l}`; the layers are {}", layer_names(&weights)),
            ));
        }
    }
    let file_sha = std::fs::read(checkpoint)
        .map(|b| sha256_hex(&b))
        .map_err(|e| Error::input(&source, e))?;
    let name = name.unwrap_or_else(|| {
        checkpoint
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    bar.finish_and_clear();

    let mut keep = quant.keep_f16.clone();
    let mut check = None;
    if let Some(path) = &quant.check_windows {
        let windows = read_windows(path, cfg.window)?;
        let c = check_quantization(&cfg, &weights, &windows, dtype, &mut keep, &quant)?;
        check = Some(c);
    }

    let kept_note = if dtype == DType::Int8 && !keep.is_empty() {
        format!(" (f16 for {})", keep.join(", "))
    } else {
        String::new()
    };
    let info = ModelInfo {
        name,
        description,
        genome_build,
        labels,
        provenance: format!(
            "converted by brain-resnet {} from {} (SHA-256 {file_sha}); batch norms folded into the preceding convolutions; weights stored as {dtype}{kept_note}",
            env!("CARGO_PKG_VERSION"),
            checkpoint.file_name().map(|s| s.to_string_lossy()).unwrap_or_default(),
        ),
    };
    let bar = spinner(&format!("writing {dtype} weights"));
    let manifest = write_model_dir_mixed(out, &info, &cfg, &weights, dtype, &keep)?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} ({} parameters, {} weights{kept_note}, {} bytes)",
        out.display(),
        manifest.parameters,
        manifest.weights.dtype,
        manifest.weights.bytes
    );
    if let Some(mut c) = check {
        // The written files, read back as every user reads them.
        let (_, written) = read_model_dir(out)?;
        let (max, mean) = c.error_of(&cfg, written)?;
        eprintln!(
            "check: the written model against f32 on {} windows: max abs probability error {max:.4}, mean {mean:.2e}",
            c.windows_all
        );
        c.report["written"] = serde_json::json!({"max_abs_error": max, "mean_abs_error": mean,
            "windows": c.windows_all, "f16_layers": keep});
        if let Some(p) = &quant.check_report {
            let text = serde_json::to_string_pretty(&c.report).expect("report serializes");
            std::fs::write(p, text + "\n").map_err(|e| Error::input(p.display(), e))?;
        }
        if let Some(bound) = quant.max_error {
            if max > bound {
                eprintln!("check: the error {max:.4} is above --max-error {bound}");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn layer_names(w: &Weights) -> String {
    w.layers
        .iter()
        .map(|l| l.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One-hot windows of a FASTA file (each record at most `window` bp).
fn read_windows(path: &Path, window: usize) -> Result<Vec<f32>, Error> {
    let pname = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::input(&pname, e))?;
    let mut out = vec![];
    let mut name: Option<String> = None;
    let mut seq = vec![];
    let mut flush = |name: &Option<String>, seq: &mut Vec<u8>| -> Result<(), Error> {
        if let Some(n) = name {
            out.extend(window::encode(n, seq, window)?);
        }
        seq.clear();
        Ok(())
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|e| Error::input(&pname, e))?;
        let line = line.trim_end();
        if let Some(h) = line.strip_prefix('>') {
            flush(&name, &mut seq)?;
            name = Some(h.split_whitespace().next().unwrap_or("").to_string());
        } else if name.is_some() {
            seq.extend_from_slice(line.as_bytes());
        } else if !line.is_empty() {
            return Err(Error::input(&pname, "not FASTA (no '>name' line first)"));
        }
    }
    flush(&name, &mut seq)?;
    if out.is_empty() {
        return Err(Error::input(&pname, "no sequences"));
    }
    Ok(out)
}

struct Check {
    windows: Vec<f32>,
    reference: Vec<f32>,
    windows_all: usize,
    report: serde_json::Value,
    /// The arithmetic the converted model will run in (int16 activations
    /// for int8 models): the whole-model errors are measured in it.
    arithmetic: Arithmetic,
}

impl Check {
    /// Max and mean |p - p_f32| of `weights`, run as the converted model
    /// will run, on all the check windows.
    fn error_of(&mut self, cfg: &Config, weights: Weights) -> Result<(f64, f64), Error> {
        let p = predict(cfg, weights, &self.windows, self.arithmetic)?;
        Ok(errors(&p, &self.reference))
    }
}

fn predict(
    cfg: &Config,
    weights: Weights,
    windows: &[f32],
    arithmetic: Arithmetic,
) -> Result<Vec<f32>, Error> {
    let net = Network::from_weights_with(cfg, weights, arithmetic)?;
    let per = 4 * cfg.window;
    let mut out = Vec::with_capacity(windows.len() / per * cfg.outputs);
    for chunk in windows.chunks(64 * per) {
        out.extend(net.predict(chunk)?);
    }
    Ok(out)
}

fn errors(p: &[f32], reference: &[f32]) -> (f64, f64) {
    let mut max = 0f64;
    let mut sum = 0f64;
    for (a, b) in p.iter().zip(reference) {
        let d = (*a as f64 - *b as f64).abs();
        max = max.max(d);
        sum += d;
    }
    (max, sum / p.len().max(1) as f64)
}

/// `weights` with the layers in `int8` quantized and dequantized as an int8
/// file stores them, those in `f16` rounded to f16, the rest f32.
fn simulate(weights: &Weights, int8: &BTreeSet<&str>, f16: &BTreeSet<&str>) -> Weights {
    let mut w = weights.clone();
    for l in &mut w.layers {
        if f16.contains(l.name.as_str()) {
            for v in &mut l.weight.data {
                *v = half::f16::from_f32(*v).to_f32();
            }
        } else if int8.contains(l.name.as_str()) {
            let (q, s) = quantize_int8(&l.weight.data, l.weight.shape[0]);
            l.weight.data = dequantize_int8(&q, &s);
        }
    }
    w
}

/// Prints the error table; with `--max-error`, extends `keep` until the bound holds.
fn check_quantization(
    cfg: &Config,
    weights: &Weights,
    windows: &[f32],
    dtype: DType,
    keep: &mut Vec<String>,
    quant: &QuantOptions,
) -> Result<Check, Error> {
    let per = 4 * cfg.window;
    let n_all = windows.len() / per;
    let n_table = if quant.check_limit == 0 {
        n_all
    } else {
        quant.check_limit.min(n_all)
    };
    let bar = spinner(&format!("f32 predictions on {n_all} check windows"));
    let reference = predict(cfg, weights.clone(), windows, Arithmetic::F32)?;
    let sub = &windows[..n_table * per];
    let sub_ref = reference[..n_table * cfg.outputs].to_vec();
    let names: Vec<&str> = weights.layers.iter().map(|l| l.name.as_str()).collect();
    let all: BTreeSet<&str> = names.iter().copied().collect();
    let none = BTreeSet::new();
    let mut report = serde_json::json!({"windows": n_all, "table_windows": n_table});
    let mut check = Check {
        windows: windows.to_vec(),
        reference,
        windows_all: n_all,
        report: serde_json::Value::Null,
        arithmetic: Arithmetic::default_for(dtype),
    };
    if dtype != DType::Int8 {
        bar.finish_and_clear();
        let stored = match dtype {
            DType::F16 => simulate(weights, &none, &all),
            _ => weights.clone(),
        };
        let (max, mean) = check.error_of(cfg, stored)?;
        eprintln!("check: {dtype} against f32 on {n_all} windows: max {max:.4}, mean {mean:.2e}");
        report["all"] = serde_json::json!({"max_abs_error": max, "mean_abs_error": mean});
        check.report = report;
        return Ok(check);
    }
    // Per layer: only this layer int8, the rest f32.
    let mut rows = vec![];
    for (i, l) in weights.layers.iter().enumerate() {
        bar.set_message(format!(
            "layer {}/{}: {} alone as int8",
            i + 1,
            names.len(),
            l.name
        ));
        let only: BTreeSet<&str> = [l.name.as_str()].into_iter().collect();
        let p = predict(cfg, simulate(weights, &only, &none), sub, Arithmetic::F32)?;
        let (max, mean) = errors(&p, &sub_ref);
        rows.push((l.name.clone(), l.weight.data.len(), max, mean));
    }
    bar.finish_and_clear();
    eprintln!(
        "check: probability error against f32 with only this layer int8 (the rest f32), {n_table} windows:"
    );
    eprintln!(
        "  {:32} {:>10} {:>10} {:>10}",
        "layer", "weights", "max", "mean"
    );
    for (name, n, max, mean) in &rows {
        eprintln!("  {name:32} {n:>10} {max:>10.4} {mean:>10.2e}");
    }
    report["per_layer_int8_alone"] = serde_json::json!(rows
        .iter()
        .map(
            |(name, n, max, mean)| serde_json::json!({"layer": name, "weights": n,
            "max_abs_error": max, "mean_abs_error": mean})
        )
        .collect::<Vec<_>>());

    // The whole model: int8 except `keep` (f16); with --max-error, keep more
    // layers, largest single-layer error first, until the bound holds.
    let mut order: Vec<&(String, usize, f64, f64)> = rows.iter().collect();
    order.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut steps = vec![];
    loop {
        let f16: BTreeSet<&str> = keep.iter().map(String::as_str).collect();
        let int8: BTreeSet<&str> = all.difference(&f16).copied().collect();
        let bar = spinner(&format!("int8 with {} layers at f16", f16.len()));
        let (max, mean) = check.error_of(cfg, simulate(weights, &int8, &f16))?;
        bar.finish_and_clear();
        let f16_weights: usize = weights
            .layers
            .iter()
            .filter(|l| f16.contains(l.name.as_str()))
            .map(|l| l.weight.data.len())
            .sum();
        eprintln!(
            "check: int8, f16 for [{}] ({f16_weights} weights), run in {}: max {max:.4}, mean {mean:.2e} ({n_all} windows)",
            keep.join(", "),
            check.arithmetic.describe()
        );
        steps.push(
            serde_json::json!({"f16_layers": keep.clone(), "f16_weights": f16_weights,
            "max_abs_error": max, "mean_abs_error": mean}),
        );
        let Some(bound) = quant.max_error else { break };
        if max <= bound {
            break;
        }
        match order.iter().find(|r| !keep.contains(&r.0)) {
            Some(next) => keep.push(next.0.clone()),
            None => break,
        }
    }
    report["int8_with_f16_layers"] = serde_json::json!(steps);
    report["arithmetic"] = serde_json::json!(check.arithmetic.describe());
    check.report = report;
    Ok(check)
}
