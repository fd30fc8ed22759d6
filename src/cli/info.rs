//! `brain-resnet info`: describe a model directory.

use std::path::Path;
use std::process::ExitCode;

use brain_resnet::{Error, Model};

pub fn run(model_dir: &Path) -> Result<ExitCode, Error> {
    let model = Model::load_dir(model_dir)?;
    let m = &model.manifest;
    let a = &m.architecture;
    println!("name:          {}", m.name);
    if !m.description.is_empty() {
        println!("description:   {}", m.description);
    }
    println!("genome build:  {}", m.genome_build);
    println!(
        "window:        {} bp, one-hot {}",
        a.window, m.input.channel_order
    );
    println!(
        "weights:       {} ({}), {} bytes, SHA-256 {}",
        m.weights.dtype, m.weights.quantization, m.weights.bytes, m.weights.sha256
    );
    println!("parameters:    {} (batch norms folded)", m.parameters);
    println!(
        "arithmetic:    {} (CPU)",
        model.network.arithmetic().describe()
    );
    println!(
        "meta branch:   convs {:?} (kernel {}), hidden {}, {} meta-features",
        a.meta.channels, a.meta.kernel, a.meta.hidden, a.meta.outputs
    );
    println!(
        "resnet branch: stem {}, stages {:?} (kernel {}), hidden {}",
        a.resnet.stem,
        a.resnet
            .stages
            .iter()
            .map(|s| format!("{}x{}", s.blocks, s.channels))
            .collect::<Vec<_>>(),
        a.resnet.kernel,
        a.resnet.hidden
    );
    println!(
        "compute:       {:.3} GMAC per window",
        a.macs_per_window() as f64 / 1e9
    );
    println!(
        "profiles:      {} ({})",
        m.labels.len(),
        m.labels.join(", ")
    );
    println!("provenance:    {}", m.provenance);
    Ok(ExitCode::SUCCESS)
}
