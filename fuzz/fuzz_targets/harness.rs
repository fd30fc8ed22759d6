// What each fuzz target does with its input, in one place: the targets
// (fuzz/fuzz_targets/<name>.rs) call these, and tests/fuzz_regressions.rs
// replays the committed crash inputs (tests/data/fuzz/<name>/) through them
// on stable. Any input must end in values or errors; a panic is a finding.
#![allow(dead_code)]

use std::io::Cursor;

use brain_resnet::analysis::read_scores_tsv;
use brain_resnet::io::annotations::read_annotations;
use brain_resnet::io::fasta::FastaReader;
use brain_resnet::io::genome::index::{build_fai, fai_text};
use brain_resnet::io::genome::Genome;
use brain_resnet::io::pairs::{PairLine, PairsReader};
use brain_resnet::io::vcf::{vcf_reader, VcfItem};
use brain_resnet::weights::checkpoint::read_checkpoint;
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::format::{decode_weights, parse_manifest};
use brain_resnet::weights::shapes::config_from_checkpoint;
use brain_resnet::window::encode;

// A small genome (fuzz/data/, written by fuzz/seeds.py, committed: 3 kB of
// synthetic sequence) that the genome targets open on every execution.
const PLAIN: &[u8] = include_bytes!("../data/genome.fa");
const BGZIP: &[u8] = include_bytes!("../data/genome.fa.gz");
const FAI: &[u8] = include_bytes!("../data/genome.fa.fai");
const GZI: &[u8] = include_bytes!("../data/genome.fa.gz.gzi");

/// The legacy torch.save magic number (the legacy target prepends it).
const LEGACY_MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "vcf" => vcf(data),
        "fasta" => fasta(data),
        "fai" => fai(data),
        "gzi" => gzi(data),
        "bgzip" => bgzip(data),
        "model_json" => model_json(data),
        "safetensors" => safetensors(data),
        "checkpoint_zip" => checkpoint(data),
        "checkpoint_legacy" => checkpoint_legacy(data),
        "annotations" => annotations(data),
        "pairs" => pairs(data),
        "scores_tsv" => scores_tsv(data),
        "twobit" => twobit(data),
        "fasta_index" => fasta_index(data),
        "genotypes" => genotypes(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// A VCF (plain or bgzip, detected from the first bytes), every item read.
pub fn vcf(data: &[u8]) {
    let Ok(reader) = vcf_reader(Cursor::new(data.to_vec()), "fuzz.vcf") else {
        return;
    };
    for item in reader {
        match item {
            Ok(VcfItem::Record(r)) => assert!(r.line > 0 && !r.alts.is_empty()),
            Ok(_) => {}
            Err(e) => {
                assert!(e.to_string().contains("fuzz.vcf"));
                break;
            }
        }
    }
}

/// A FASTA streamed record by record with the CLI's and page's cap (1000 bp).
pub fn fasta(data: &[u8]) {
    for record in FastaReader::new(data, "fuzz.fa", 1000) {
        match record {
            Ok(r) => assert!(r.sequence.len() <= 1000),
            Err(e) => assert!(e.to_string().contains("fuzz.fa")),
        }
    }
}

/// Fetches a spread of regions from every contig, including ones that
/// overlap or lie past either end, and the extremes of i64.
fn fetch_all(mut genome: Genome) {
    let contigs = genome.contigs().to_vec();
    for (name, len) in contigs {
        let len = len.min(i64::MAX as u64) as i64;
        for (start, end) in [
            (0, 1000),
            (-500, 500),
            (len.saturating_sub(500), len.saturating_add(500)),
            (len / 2, len / 2 + 1000),
            (i64::MAX - 10, i64::MAX),
            (i64::MIN, i64::MIN + 1000),
        ] {
            if let Ok(seq) = genome.fetch(&name, start, end) {
                assert_eq!(seq.len() as i64, end - start);
            }
        }
    }
}

/// A `.fai` index against the small FASTA, plain and bgzip, then regions fetched.
pub fn fai(data: &[u8]) {
    let plain = Genome::from_readers(
        Cursor::new(PLAIN),
        "genome.fa",
        Some(PLAIN.len() as u64),
        (data, "fuzz.fai"),
        None::<(&[u8], &str)>,
    );
    if let Ok(g) = plain {
        fetch_all(g);
    }
    let bgzip = Genome::from_readers(
        Cursor::new(BGZIP),
        "genome.fa.gz",
        Some(BGZIP.len() as u64),
        (data, "fuzz.fai"),
        Some((GZI, "genome.fa.gz.gzi")),
    );
    if let Ok(g) = bgzip {
        fetch_all(g);
    }
}

/// A `.gzi` index for the small bgzip FASTA, then regions fetched.
pub fn gzi(data: &[u8]) {
    let genome = Genome::from_readers(
        Cursor::new(BGZIP),
        "genome.fa.gz",
        Some(BGZIP.len() as u64),
        (FAI, "genome.fa.fai"),
        Some((data, "fuzz.gzi")),
    );
    if let Ok(g) = genome {
        fetch_all(g);
    }
}

/// bgzip blocks: as a compressed FASTA behind the small genome's indexes
/// (regions fetched) and as a compressed VCF (every line read).
pub fn bgzip(data: &[u8]) {
    let genome = Genome::from_readers(
        Cursor::new(data.to_vec()),
        "fuzz.fa.gz",
        Some(data.len() as u64),
        (FAI, "genome.fa.fai"),
        Some((GZI, "genome.fa.gz.gzi")),
    );
    if let Ok(g) = genome {
        fetch_all(g);
    }
    if let Ok(reader) = vcf_reader(Cursor::new(data.to_vec()), "fuzz.vcf.gz") {
        for item in reader {
            if item.is_err() {
                break;
            }
        }
    }
}

/// model.json: parsed and validated (architecture included).
pub fn model_json(data: &[u8]) {
    if let Ok(m) = parse_manifest(&String::from_utf8_lossy(data), "model.json") {
        let _ = m.architecture.graph();
        let _ = m.architecture.macs_per_window();
        let _ = m.vcf_model_line(true);
    }
}

/// A weights file against the architecture and dtype of a model.json. The
/// input is `u32 LE length of the model.json`, the model.json, then the
/// safetensors bytes (fuzz/seeds.py writes seeds in this layout).
pub fn safetensors(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let n = u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let Some(json) = data.get(4..4usize.saturating_add(n)) else {
        return;
    };
    let Ok(m) = parse_manifest(&String::from_utf8_lossy(json), "model.json") else {
        return;
    };
    let weights = &data[4 + n..];
    if let Ok(w) = decode_weights(
        &m.architecture,
        m.weights.dtype,
        weights,
        "weights.safetensors",
    ) {
        assert!(w.parameter_count() > 0);
    }
}

/// A checkpoint read, its widths taken from the shapes and the state dict
/// folded, as `brain-resnet convert` does.
pub fn checkpoint(data: &[u8]) {
    let Ok(map) = read_checkpoint(Cursor::new(data), "fuzz.pth") else {
        return;
    };
    let Ok(cfg) = config_from_checkpoint(&map, "fuzz.pth") else {
        return;
    };
    let _ = fold_checkpoint(&cfg, &map, "fuzz.pth");
}

/// A legacy (pre-1.6) checkpoint: the magic number is prepended so that every
/// input takes the legacy path (pickles, then raw storages).
pub fn checkpoint_legacy(data: &[u8]) {
    let mut file = LEGACY_MAGIC.to_vec();
    file.extend_from_slice(data);
    checkpoint(&file);
}

/// The annotations TSV of the analyses.
pub fn annotations(data: &[u8]) {
    if let Ok(ann) = read_annotations(data, "annotations.tsv") {
        for a in ann.values() {
            let _ = a.imbalance();
        }
    }
}

/// The pairs TSV (`--pairs`), each pair encoded as the scorer does.
pub fn pairs(data: &[u8]) {
    for item in PairsReader::new(data, "pairs.tsv") {
        match item {
            Ok(PairLine::Pair {
                name,
                reference,
                alternate,
                ..
            }) => {
                let _ = encode(&name, &reference, 1000);
                let _ = encode(&name, &alternate, 1000);
            }
            Ok(PairLine::Invalid { message, .. }) => assert!(message.starts_with("line ")),
            Err(_) => break,
        }
    }
}

/// The scores TSV that `brain-resnet analyze` reads, for the first profile.
pub fn scores_tsv(data: &[u8]) {
    let _ = read_scores_tsv(data, "Glut", "scores.tsv");
}

/// A UCSC `.2bit` genome, then regions fetched.
pub fn twobit(data: &[u8]) {
    if let Ok(g) = Genome::from_twobit(Cursor::new(data.to_vec()), "fuzz.2bit", data.len() as u64) {
        fetch_all(g);
    }
}

/// A plain FASTA indexed in one pass; an index that results opens the same
/// bytes as a genome and its regions are fetched.
pub fn fasta_index(data: &[u8]) {
    let Ok(index) = build_fai(data, "fuzz.fa", &mut |_| {}) else {
        return;
    };
    let text = fai_text(&index);
    let genome = Genome::from_readers(
        Cursor::new(data.to_vec()),
        "fuzz.fa",
        Some(data.len() as u64),
        (text.as_bytes(), "fuzz.fa.fai"),
        None::<(&[u8], &str)>,
    );
    // An index built from the bytes must describe them.
    let mut genome =
        genome.unwrap_or_else(|e| panic!("the built index does not open: {e}\n{text}"));
    let contigs = genome.contigs().to_vec();
    for (name, len) in contigs {
        let seq = genome.fetch(&name, 0, len as i64);
        assert!(seq.is_ok(), "{name}: {seq:?}\n{text}");
    }
}

/// Consumer raw data (23andMe, AncestryDNA, MyHeritage layouts), read as a
/// one-sample VCF against the small genome; the layout is detected, or
/// 23andMe's is assumed.
pub fn genotypes(data: &[u8]) {
    use brain_resnet::io::genotypes::{detect, GenotypeCalls, Layout};
    let Ok(genome) = Genome::from_readers(
        Cursor::new(PLAIN),
        "genome.fa",
        Some(PLAIN.len() as u64),
        (FAI, "genome.fa.fai"),
        None::<(&[u8], &str)>,
    ) else {
        panic!("the small genome opens");
    };
    let layout = detect(&data[..data.len().min(8192)]).unwrap_or(Layout::TwentyThreeAndMe);
    for item in GenotypeCalls::new(data, layout, "fuzz.txt", "me", genome) {
        match item {
            Ok(VcfItem::Record(r)) => {
                assert!(r.raw.ends_with(|c: char| c.is_ascii_digit() || c == '.'))
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
}
