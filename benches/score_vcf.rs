//! Streaming variant scoring at scale: a generated VCF of N records (default
//! 1,000,000 SNVs on the fixture genome) through `VariantScorer` with the
//! fixture model, output to a TSV writer into the void. Prints variants/s and
//! peak resident memory (bounded memory is the point: it must not grow with N).
//!
//!     cargo bench --bench score_vcf                       # 1,000,000 records
//!     cargo bench --bench score_vcf -- --records 100000

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use brain_resnet::io::genome::Genome;
use brain_resnet::io::vcf::vcf_reader;
use brain_resnet::model::Model;
use brain_resnet::output::TsvWriter;
use brain_resnet::scoring::{Score, ScoreOptions, VariantScorer};
use brain_resnet::weights::checkpoint::read_checkpoint_file;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::format::{write_model_dir, ModelInfo};
use brain_resnet::weights::quant::DType;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let records: usize = argv
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let fixtures = std::env::var("BRAIN_RESNET_FIXTURES")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures").into());
    let fixtures = Path::new(&fixtures);
    let dir = tempfile::tempdir().unwrap();

    // The fixture model, converted as a user would.
    let ckpt = fixtures.join("model/metachrom-mini-legacy.pth");
    let map = read_checkpoint_file(&ckpt).unwrap();
    let cfg = brain_resnet::weights::shapes::config_from_checkpoint(&map, "fixture").unwrap();
    let weights = fold_checkpoint(&cfg, &map, "fixture").unwrap();
    let labels: Vec<String> = std::fs::read_to_string(fixtures.join("model/labels.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let info = ModelInfo {
        name: "mini".into(),
        labels,
        ..Default::default()
    };
    write_model_dir(&dir.path().join("model"), &info, &cfg, &weights, DType::F32).unwrap();
    let model = Model::load_dir(&dir.path().join("model")).unwrap();

    // A VCF of SNVs spread over chr1 and chr2, REF taken from the genome.
    let t0 = Instant::now();
    let vcf_path = dir.path().join("big.vcf");
    let mut genome = Genome::open(&fixtures.join("genome/genome.fa")).unwrap();
    let chr1 = genome.fetch("chr1", 0, 30_000).unwrap();
    let chr2 = genome.fetch("chr2", 0, 4_000).unwrap();
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&vcf_path).unwrap());
        writeln!(
            w,
            "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"
        )
        .unwrap();
        let mut state = 12345u64;
        for i in 0..records {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (name, seq) = if i % 8 == 7 {
                ("chr2", &chr2)
            } else {
                ("chr1", &chr1)
            };
            let pos = (state >> 33) as usize % seq.len();
            let r = seq[pos].to_ascii_uppercase();
            let alt = b"ACGT".iter().find(|&&b| b != r).copied().unwrap();
            writeln!(
                w,
                "{name}\t{}\tv{i}\t{}\t{}\t.\t.\t.",
                pos + 1,
                r as char,
                alt as char
            )
            .unwrap();
        }
    }
    let gen_s = t0.elapsed().as_secs_f64();
    let size_mb = std::fs::metadata(&vcf_path).unwrap().len() as f64 / 1e6;
    eprintln!("generated {records} records ({size_mb:.0} MB) in {gen_s:.1} s; scoring...");

    let rss_before = peak_rss_mib();
    let start = Instant::now();
    let file = std::fs::File::open(&vcf_path).unwrap();
    let items = vcf_reader(file, "big.vcf").unwrap();
    let mut tsv = TsvWriter::new(
        std::io::sink(),
        &[Score::AbsDiff, Score::LogRatio],
        model.labels(),
        brain_resnet::output::GenotypeColumns::None,
    )
    .unwrap();
    let mut scorer = VariantScorer::new(
        &model,
        genome,
        ScoreOptions {
            batch: 64,
            ..Default::default()
        },
    );
    let summary = scorer
        .run(items, &mut |e| {
            tsv.write(&e)
                .map_err(|e| brain_resnet::Error::input("sink", e))
        })
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(summary.records, records);
    println!(
        "{{\"records\":{records},\"scored\":{},\"seconds\":{secs:.1},\"variants_per_s\":{:.0},\"windows_per_s\":{:.0},\"model\":\"fixture mini ({:.4} GMAC/window)\",\"peak_rss_mib_before_scoring\":{rss_before:.0},\"peak_rss_mib\":{:.0},\"vcf_mb\":{size_mb:.0}}}",
        summary.scored(),
        records as f64 / secs,
        2.0 * records as f64 / secs,
        cfg.macs_per_window() as f64 / 1e9,
        peak_rss_mib()
    );
}
