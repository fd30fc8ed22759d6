//! `brain-resnet random-model` (hidden): the published architecture with
//! seeded random weights, for benchmarks only.

use std::path::Path;
use std::process::ExitCode;

use brain_resnet::model::Config;
use brain_resnet::weights::fold::random_weights;
use brain_resnet::weights::format::{write_model_dir, ModelInfo};
use brain_resnet::weights::quant::DType;
use brain_resnet::Error;

use super::read_labels;

/// The published architecture with seeded random weights (see `random_weights`).
pub fn run(
    out: &Path,
    dtype: DType,
    seed: u64,
    name: Option<String>,
    labels: &Path,
) -> Result<ExitCode, Error> {
    let cfg = Config::published();
    let labels = read_labels(labels)?;
    if labels.len() != cfg.outputs {
        return Err(Error::input(
            labels.len().to_string() + " labels",
            format!(
                "the published architecture predicts {} profiles",
                cfg.outputs
            ),
        ));
    }
    let weights = random_weights(&cfg, seed);
    let info = ModelInfo {
        name: name.unwrap_or_else(|| format!("full-size-random-{dtype}")),
        description: "Full-size architecture with RANDOM weights: for benchmarks only; its scores mean nothing biologically.".into(),
        genome_build: "hg38".into(),
        labels,
        provenance: format!(
            "random weights (seed {seed}) written by brain-resnet {} random-model; weights stored as {dtype}",
            env!("CARGO_PKG_VERSION")
        ),
    };
    let manifest = write_model_dir(out, &info, &cfg, &weights, dtype)?;
    eprintln!(
        "wrote {} ({} parameters, {} weights, {} bytes; RANDOM weights, seed {seed})",
        out.display(),
        manifest.parameters,
        manifest.weights.dtype,
        manifest.weights.bytes
    );
    Ok(ExitCode::SUCCESS)
}
