//! `brain-resnet`: convert PyTorch checkpoints, inspect models, predict sequences.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use brain_resnet::model::Config;
use brain_resnet::sequences::read_fasta;
use brain_resnet::weights::checkpoint::read_checkpoint_file;
use brain_resnet::weights::fold::{fold_checkpoint, random_weights};
use brain_resnet::weights::format::{sha256_hex, write_model_dir, ModelInfo};
use brain_resnet::weights::quant::DType;
use brain_resnet::{Error, Model};

mod cli;
use cli::score;

#[derive(Parser)]
#[command(
    name = "brain-resnet",
    version,
    about = "Brain-ResNet / MetaChrom chromatin-profile predictions, on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert a PyTorch checkpoint (.pth) into a model directory (model.json + weights.safetensors).
    Convert {
        /// The checkpoint: torch.save zip or legacy file; `state_dict` inside, `module.` prefixes allowed.
        checkpoint: PathBuf,
        /// Profile names in the checkpoint's output order, one a line.
        #[arg(long)]
        labels: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Weight storage: f32, f16 or int8 (symmetric, one scale per output channel).
        #[arg(long, default_value = "f32")]
        dtype: DType,
        /// Genome build the model's windows come from.
        #[arg(long, default_value = "hg38")]
        genome_build: String,
        /// Model name (default: the checkpoint's file stem).
        #[arg(long)]
        name: Option<String>,
        /// Free text stored in model.json.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Predict the profiles of FASTA sequences (<= window length each); TSV on stdout.
    Predict {
        /// Model directory written by `convert`.
        #[arg(long)]
        model: PathBuf,
        /// Sequences, FASTA.
        sequences: PathBuf,
        /// Windows per inference batch.
        #[arg(long, default_value_t = 16)]
        batch: usize,
        /// Where inference runs: auto (a hardware GPU if found, else the CPU), cpu, or gpu.
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
    },
    /// Score variants: a VCF against an indexed genome FASTA, or REF/ALT sequence pairs.
    Score {
        /// Model directory written by `convert`.
        #[arg(long)]
        model: PathBuf,
        /// Genome FASTA (`.fa` + `.fai`, or bgzip `.fa.gz` + `.fai` + `.gzi`), with --vcf.
        #[arg(long, requires = "vcf")]
        genome: Option<PathBuf>,
        /// Variants, VCF (plain or bgzip; header optional), with --genome.
        #[arg(long, requires = "genome", conflicts_with = "pairs")]
        vcf: Option<PathBuf>,
        /// Instead of a VCF: TSV of `name<TAB>ref_sequence<TAB>alt_sequence`.
        #[arg(long, required_unless_present = "vcf")]
        pairs: Option<PathBuf>,
        /// Scores to write: ref, alt, diff, abs_diff, log_ratio, logit_diff.
        #[arg(long, default_value = "abs_diff,log_ratio")]
        scores: String,
        /// Output format (vcf: the input VCF with INFO fields added).
        #[arg(long, value_enum, default_value = "tsv")]
        format: OutputFormat,
        /// Reverse-complement averaging of every window's prediction.
        #[arg(long, value_enum, default_value = "none")]
        rc: RcMode,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Windows per inference batch.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Where inference runs: auto (a hardware GPU if found, else the CPU), cpu, or gpu.
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
    },
    /// The paper's analyses of one profile: enrichment, direction, constraint, selection (JSON).
    Analyze {
        /// A TSV written by `brain-resnet score` (with abs_diff, and log_ratio for direction).
        #[arg(long)]
        scores: PathBuf,
        /// TSV keyed by `id` (or chrom pos ref alt) with any of label, ref_reads, alt_reads, gerp, maf, p_value, pip.
        #[arg(long)]
        annotations: PathBuf,
        /// Profile label, e.g. Glut.
        #[arg(long)]
        profile: String,
        /// Size of the top group by abs_diff (default: 10 % of the scored variants).
        #[arg(long)]
        top: Option<usize>,
    },
    /// Describe a model directory.
    Info {
        #[arg(long)]
        model: PathBuf,
    },
    /// Write a full-size model with seeded RANDOM weights (benchmarks only; meaningless scores).
    #[command(hide = true)]
    RandomModel {
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Weight storage: f32, f16 or int8.
        #[arg(long, default_value = "int8")]
        dtype: DType,
        /// Seed of the random weights (the same seed gives the same weights).
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Model name (default: full-size-random-<dtype>).
        #[arg(long)]
        name: Option<String>,
    },
}

/// The 31 profile names of ../shared/spec/architecture.md, in the published order.
const SPEC_LABELS: [&str; 31] = [
    "Glut",
    "CP",
    "DN",
    "FB_OCR",
    "GA",
    "GZ",
    "FB_H3K27ac",
    "iPS",
    "NPC",
    "ACC_neuron",
    "AMY_neuron",
    "DLPFC_neuron",
    "HIPP_neuron",
    "INS_neuron",
    "ITC_neuron",
    "MDT_neuron",
    "NAC_neuron",
    "OFC_neuron",
    "PMC_neuron",
    "PUT_neuron",
    "PVC_neuron",
    "STC_neuron",
    "VLPFC_neuron",
    "PEC_Enhancers",
    "PEC_OCR",
    "Organoid_0",
    "Organoid_11",
    "Organoid_30",
    "PFC_H3K27ac",
    "TC_H3K27ac",
    "CBC_H3K27ac",
];

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Tsv,
    Vcf,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Auto,
    Cpu,
    Gpu,
}

impl From<Backend> for brain_resnet::BackendChoice {
    fn from(b: Backend) -> Self {
        match b {
            Backend::Auto => brain_resnet::BackendChoice::Auto,
            Backend::Cpu => brain_resnet::BackendChoice::Cpu,
            Backend::Gpu => brain_resnet::BackendChoice::Gpu,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RcMode {
    None,
    Mean,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Convert {
            checkpoint,
            labels,
            out,
            dtype,
            genome_build,
            name,
            description,
        } => convert(
            &checkpoint,
            &labels,
            &out,
            dtype,
            genome_build,
            name,
            description,
        ),
        Command::Predict {
            model,
            sequences,
            batch,
            backend,
        } => predict(&model, &sequences, batch, backend.into()),
        Command::Info { model } => info(&model),
        Command::RandomModel {
            out,
            dtype,
            seed,
            name,
        } => random_model(&out, dtype, seed, name),
        Command::Analyze {
            scores,
            annotations,
            profile,
            top,
        } => analyze(&scores, &annotations, &profile, top),
        Command::Score {
            model,
            genome,
            vcf,
            pairs,
            scores,
            format,
            rc,
            out,
            batch,
            backend,
        } => score::run(score::Args {
            backend: backend.into(),
            model,
            genome,
            vcf,
            pairs,
            scores,
            vcf_output: format == OutputFormat::Vcf,
            rc_mean: rc == RcMode::Mean,
            out,
            batch,
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn read_labels(path: &Path) -> Result<Vec<String>, Error> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(&name, e))?;
    let labels: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if labels.is_empty() {
        return Err(Error::input(
            &name,
            "no labels (expected one profile name a line)",
        ));
    }
    Ok(labels)
}

fn spinner(msg: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(msg.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn convert(
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
    let cfg = Config::from_checkpoint(&map, &source)?;
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

/// The published architecture with seeded random weights (see `random_weights`).
fn random_model(
    out: &Path,
    dtype: DType,
    seed: u64,
    name: Option<String>,
) -> Result<ExitCode, Error> {
    let cfg = Config::published();
    let weights = random_weights(&cfg, seed);
    let info = ModelInfo {
        name: name.unwrap_or_else(|| format!("full-size-random-{dtype}")),
        description: "Full-size architecture with RANDOM weights: for benchmarks only; its scores mean nothing biologically.".into(),
        genome_build: "hg38".into(),
        labels: SPEC_LABELS.iter().map(|s| s.to_string()).collect(),
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

fn predict(
    model_dir: &Path,
    sequences: &Path,
    batch: usize,
    backend: brain_resnet::BackendChoice,
) -> Result<ExitCode, Error> {
    let model = Model::load_dir_with(model_dir, backend)?;
    let started_on = model.backend();
    eprintln!("backend: {started_on}");
    let source = sequences.display().to_string();
    let file = std::fs::File::open(sequences).map_err(|e| Error::input(&source, e))?;
    let records = read_fasta(BufReader::new(file), &source)?;

    let bar = ProgressBar::new(records.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} sequences, {per_sec}, ETA {eta}")
            .expect("valid template"),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write_err = |e: std::io::Error| Error::input("stdout", e);
    writeln!(out, "name\t{}", model.labels().join("\t")).map_err(write_err)?;
    let mut failed = 0;
    for chunk in records.chunks(batch.max(1) * 4) {
        let results = model.predict_sequences(
            chunk
                .iter()
                .map(|r| (r.name.as_str(), r.sequence.as_slice())),
            batch,
        );
        for (rec, result) in chunk.iter().zip(results) {
            match result {
                Ok(probs) => {
                    let cells: Vec<String> = probs.iter().map(|p| p.to_string()).collect();
                    writeln!(out, "{}\t{}", rec.name, cells.join("\t")).map_err(write_err)?;
                }
                Err(e) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("error: {source}: {e}"));
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    out.flush().map_err(write_err)?;
    if model.backend() != started_on {
        eprintln!("backend: {}", model.backend());
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} sequences not predicted (see above)",
            records.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn analyze(
    scores: &Path,
    annotations: &Path,
    profile: &str,
    top: Option<usize>,
) -> Result<ExitCode, Error> {
    use brain_resnet::analysis;
    let open = |p: &Path| {
        std::fs::File::open(p)
            .map(BufReader::new)
            .map_err(|e| Error::input(p.display(), e))
    };
    let variants =
        analysis::read_scores_tsv(open(scores)?, profile, &scores.display().to_string())?;
    let ann = analysis::read_annotations(open(annotations)?, &annotations.display().to_string())?;
    let matched = variants
        .iter()
        .filter(|v| ann.contains_key(&v.id) || ann.contains_key(&v.locus))
        .count();
    eprintln!(
        "{} scored variants, {matched} with annotations",
        variants.len()
    );
    if matched == 0 {
        return Err(Error::input(
            annotations.display(),
            "no scored variant matches an annotation row by id or chrom:pos:ref:alt",
        ));
    }
    let report = analysis::analyze(profile, &variants, &ann, top);
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serializes")
    );
    Ok(ExitCode::SUCCESS)
}

fn info(model_dir: &Path) -> Result<ExitCode, Error> {
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
