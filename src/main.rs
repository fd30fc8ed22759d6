//! `brain-resnet`: convert PyTorch checkpoints, inspect models, predict sequences.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use brain_resnet::weights::quant::DType;

mod cli;
use cli::{analyze, concat, convert, info, predict, random_model, score, track};

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
        /// int8 only: layers whose weights stay f16 (comma-separated layer names, e.g. classifier.0).
        #[arg(long, value_delimiter = ',')]
        keep_f16: Vec<String>,
        /// FASTA of test windows: print the probability error against f32, per layer
        /// (only that layer int8) and for the model written.
        #[arg(long)]
        check_windows: Option<PathBuf>,
        /// With --check-windows: keep layers at f16, largest error first, until the
        /// max abs probability error on the windows is within this; fails if it cannot.
        #[arg(long)]
        max_error: Option<f64>,
        /// Windows (the file's first) used for the per-layer table; 0: all.
        #[arg(long, default_value_t = 1000)]
        check_limit: usize,
        /// Write the error table as JSON here.
        #[arg(long)]
        check_report: Option<PathBuf>,
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
    /// The allelic-effect track of a region (at most one window): per-base effects as bedGraph
    /// (one file per profile) and the known motifs (JASPAR) in the window as BED.
    Track {
        /// Model directory written by `convert`.
        #[arg(long)]
        model: PathBuf,
        /// Genome: UCSC `.2bit`, plain `.fa` (+ `.fai`, or indexed in one pass), or bgzip `.fa.gz` + `.fai` + `.gzi`.
        #[arg(long)]
        genome: PathBuf,
        /// The region, 1-based and inclusive: chr:start-end (at most the window's length).
        #[arg(long)]
        region: String,
        /// Profiles to write (repeatable; default: every profile).
        #[arg(long)]
        profile: Vec<String>,
        /// Output prefix: PREFIX.<profile>.bedGraph and PREFIX.motifs.bed.
        #[arg(long)]
        out: PathBuf,
        /// Motif file in the layout of training/motifs.json (default: the built-in JASPAR 2024 subset).
        #[arg(long)]
        motifs: Option<PathBuf>,
        /// P-value threshold of a motif hit.
        #[arg(long, default_value_t = brain_resnet::analysis::motifs::DEFAULT_P_VALUE)]
        p_value: f64,
        /// Where inference runs: auto (a hardware GPU if found, else the CPU), cpu, or gpu.
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
    },
    /// Score variants: a VCF against a genome (.2bit or FASTA), or REF/ALT sequence pairs.
    Score {
        /// Model directory written by `convert`.
        #[arg(long)]
        model: PathBuf,
        /// Genome, with --vcf: UCSC `.2bit`, plain `.fa` (its `.fai` beside it, or indexed in one
        /// pass when there is none), or bgzip `.fa.gz` + `.fai` + `.gzi`.
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
        /// Output file (default: standard output). A name ending in .gz (x.tsv.gz, x.vcf.gz) is
        /// written bgzip-compressed with a tabix index beside it (x.vcf.gz.tbi).
        #[arg(long)]
        out: Option<PathBuf>,
        /// With --format vcf: also write the TSV here, in the same pass (x.tsv, or x.tsv.gz + index).
        #[arg(long, requires = "vcf")]
        tsv_out: Option<PathBuf>,
        /// Windows per inference batch.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Where inference runs: auto (a hardware GPU if found, else the CPU), cpu, or gpu.
        #[arg(long, value_enum, default_value = "auto")]
        backend: Backend,
        /// Score even when the VCF header's contig lengths are not the genome's
        /// (by default that stops the run before the first record).
        #[arg(long)]
        allow_build_mismatch: bool,
        /// Keep only variants inside these regions (BED: chrom, start, end), with --vcf. A bgzip
        /// VCF with a tabix (.tbi) or CSI (.csi) index beside it is read through the index.
        #[arg(long, requires = "vcf")]
        regions: Option<PathBuf>,
        /// Keep only variants inside this region, chr:start-end (1-based, inclusive; repeatable):
        /// read through the index of a bgzip VCF (VCF.tbi or VCF.csi), which it needs.
        #[arg(long, requires = "vcf")]
        region: Vec<String>,
        /// Score only the alleles this sample of the VCF carries (its GT); adds
        /// `sample` and `genotype` columns.
        #[arg(long, requires = "vcf")]
        sample: Option<String>,
    },
    /// Concatenate outputs of `score` (TSV or VCF, plain or bgzip; e.g. the shards of a run, in
    /// order) into one bgzip file with a tabix index; the header is written once, and must be the
    /// same in every input. With one input: compress and index a sorted VCF.
    Concat {
        /// Output: x.vcf.gz or x.tsv.gz (the index goes beside it, x.vcf.gz.tbi).
        #[arg(long)]
        out: PathBuf,
        /// Inputs, in the order their lines are written.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// The paper's analyses of one profile: enrichment, direction, constraint, selection (JSON).
    Analyze {
        /// A TSV written by `brain-resnet score` (with abs_diff, and log_ratio for direction; plain or bgzip).
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
        /// Leave out variants scored although their REF differs from the genome
        /// (status ref_mismatch). By default they are analysed and counted in the report.
        #[arg(long)]
        exclude_ref_mismatch: bool,
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
        /// Profile names, one a line (31, as the published network predicts).
        #[arg(long)]
        labels: PathBuf,
    },
}

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
            keep_f16,
            check_windows,
            max_error,
            check_limit,
            check_report,
        } => convert::run(
            &checkpoint,
            &labels,
            &out,
            dtype,
            genome_build,
            name,
            description,
            convert::QuantOptions {
                keep_f16,
                check_windows,
                max_error,
                check_limit,
                check_report,
            },
        ),
        Command::Predict {
            model,
            sequences,
            batch,
            backend,
        } => predict::run(&model, &sequences, batch, backend.into()),
        Command::Info { model } => info::run(&model),
        Command::Track {
            model,
            genome,
            region,
            profile,
            out,
            motifs,
            p_value,
            backend,
        } => track::run(track::Args {
            model: &model,
            genome: &genome,
            region: &region,
            profiles: &profile,
            out: &out,
            motifs: motifs.as_deref(),
            p_value,
            backend: backend.into(),
        }),
        Command::RandomModel {
            out,
            dtype,
            seed,
            name,
            labels,
        } => random_model::run(&out, dtype, seed, name, &labels),
        Command::Analyze {
            scores,
            annotations,
            profile,
            top,
            exclude_ref_mismatch,
        } => analyze::run(&scores, &annotations, &profile, top, exclude_ref_mismatch),
        Command::Score {
            model,
            genome,
            vcf,
            pairs,
            scores,
            format,
            rc,
            out,
            tsv_out,
            batch,
            backend,
            allow_build_mismatch,
            regions,
            region,
            sample,
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
            tsv_out,
            batch,
            allow_build_mismatch,
            regions,
            region,
            sample,
        }),
        Command::Concat { out, inputs } => concat::run(&out, &inputs),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
