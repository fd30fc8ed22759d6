//! `brain-resnet convert`: a PyTorch checkpoint to our model directory.

use std::path::Path;
use std::process::ExitCode;

use brain_resnet::weights::checkpoint::read_checkpoint_file;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::format::{sha256_hex, write_model_dir, ModelInfo};
use brain_resnet::weights::quant::DType;
use brain_resnet::weights::shapes::config_from_checkpoint;
use brain_resnet::Error;

use super::{read_labels, spinner};

pub fn run(
    checkpoint: &Path,
    labels: &Path,
    out: &Path,
    dtype: DType,
    genome_build: String,
    name: Option<String>,
    description: String,
) -> Result<ExitCode, Error> {
    let labels = read_labels(labels)?;
    let source = checkpoint.display().to_string();
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
    let file_sha = std::fs::read(checkpoint)
        .map(|b| sha256_hex(&b))
        .map_err(|e| Error::input(&source, e))?;
    let name = name.unwrap_or_else(|| {
        checkpoint
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into())
    });
    let info = ModelInfo {
        name,
        description,
        genome_build,
        labels,
        provenance: format!(
            "converted by brain-resnet {} from {} (SHA-256 {file_sha}); batch norms folded into the preceding convolutions; weights stored as {dtype}",
            env!("CARGO_PKG_VERSION"),
            checkpoint.file_name().map(|s| s.to_string_lossy()).unwrap_or_default(),
        ),
    };
    bar.set_message(format!("writing {dtype} weights"));
    let manifest = write_model_dir(out, &info, &cfg, &weights, dtype)?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} ({} parameters, {} weights, {} bytes)",
        out.display(),
        manifest.parameters,
        manifest.weights.dtype,
        manifest.weights.bytes
    );
    Ok(ExitCode::SUCCESS)
}
