//! A VCF scored in the worker: the crate's one scoring loop
//! ([`VariantScorer::run_async`]), its results posted to the page in batches.

use std::io::{BufReader, Read};

use js_sys::Function;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::engine::Engine;
use super::files::{file_field, open_genome, BlobReader};
use super::{js_err, to_js};
use crate::io::bed::read_bed;
use crate::io::genotypes;
use crate::io::vcf::{vcf_reader, VcfItem};
use crate::scoring::{Event, ScoreOptions, Summary, VariantScorer};

/// Options of a scoring run, from JavaScript.
#[derive(Deserialize)]
struct ScoreArgs {
    #[serde(default)]
    rc_mean: bool,
    #[serde(default)]
    shard: usize,
    #[serde(default = "one")]
    shards: usize,
    #[serde(default = "batch")]
    batch: usize,
    /// A test hook: panic when the record at this line is produced, before
    /// its batch is posted, as a bug in the core would (the browser tests of
    /// the page's recovery use it; the page never sets it otherwise).
    #[serde(default)]
    test_panic_at_line: Option<usize>,
    /// Score even when the VCF header's contig lengths say another build.
    #[serde(default)]
    allow_build_mismatch: bool,
    /// Score only the alleles this sample carries (its GT).
    #[serde(default)]
    sample: Option<String>,
}

fn one() -> usize {
    1
}

fn batch() -> usize {
    16
}

/// Events posted to the page at a time.
const EVENTS_PER_MESSAGE: usize = 64;

/// A batch of results as the page receives it.
#[derive(Serialize)]
struct BatchOut<'a> {
    events: &'a [Event],
    bytes_read: u64,
    bytes_total: u64,
}

/// The run's summary and where the windows were predicted.
#[derive(Serialize)]
struct SummaryOut {
    #[serde(flatten)]
    summary: Summary,
    backend: String,
    /// The TSV's genotype columns, as `brain-resnet score` chooses them:
    /// `sample` (a sample chosen, or a consumer genotype file), `carriers` (a
    /// VCF with samples, none chosen) or `none`.
    genotype_columns: &'static str,
    /// The genome's contig names (the page lists them when VCF contigs are
    /// not among them).
    genome_contigs: Vec<String>,
}

#[wasm_bindgen]
impl Engine {
    /// Scores the VCF of `files` (`{vcf, fasta, fai?, gzi?, regions?}`, `File`s)
    /// against its genome (a `.2bit`, or a FASTA or bgzip FASTA with its
    /// `.fai`, and `.gzi` for bgzip), keeping only records inside the
    /// `regions` BED when one is given. Calls `on_batch` with
    /// `{events, bytes_read, bytes_total}` as results come; resolves to the
    /// summary (with `backend`: where the windows were predicted).
    pub fn score_vcf(
        &self,
        files: &JsValue,
        options: JsValue,
        on_batch: &Function,
    ) -> Result<js_sys::Promise, JsError> {
        let args: ScoreArgs = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
        let vcf = file_field(files, "vcf")?.ok_or_else(|| js_err("no VCF file"))?;
        let fasta = file_field(files, "fasta")?.ok_or_else(|| js_err("no genome file"))?;
        let (fai, gzi) = (file_field(files, "fai")?, file_field(files, "gzi")?);
        let regions = file_field(files, "regions")?;
        let (vcf, fasta) = (&vcf, &fasta);
        let regions = match regions {
            Some(f) => {
                Some(read_bed(BufReader::new(BlobReader::new(&f)?), &f.name()).map_err(js_err)?)
            }
            None => None,
        };
        let genome = open_genome(fasta, fai.as_ref(), gzi.as_ref())?;
        let vcf_blob = BlobReader::new(vcf)?;
        let read = vcf_blob.read.clone();
        let total = vcf_blob.len;
        // A consumer genotype file (23andMe, AncestryDNA, MyHeritage) in the
        // VCF's place: read as a one-sample VCF against the genome's bases.
        let mut sample = args.sample.clone();
        let mut notes = vec![];
        let mut indel_codes = None;
        let items: Box<dyn Iterator<Item = crate::Result<VcfItem>>> = match genotype_layout_of(vcf)?
        {
            None => Box::new(
                vcf_reader(BufReader::with_capacity(1 << 18, vcf_blob), &vcf.name())
                    .map_err(js_err)?,
            ),
            Some(layout) => {
                if !args.allow_build_mismatch {
                    genotypes::check_genome_build(&genome, layout, &vcf.name()).map_err(js_err)?;
                }
                let name = person(&vcf.name());
                notes.push(format!(
                        "{}: {} raw data, GRCh37 positions (an hg19 genome is needed): each called position was compared with the genome's base, as sample `{name}`",
                        vcf.name(),
                        layout.name()
                    ));
                let calls = genotypes::GenotypeCalls::new(
                    BufReader::with_capacity(1 << 18, vcf_blob),
                    layout,
                    &vcf.name(),
                    &name,
                    open_genome(fasta, fai.as_ref(), gzi.as_ref())?,
                );
                indel_codes = Some(calls.counts.clone());
                sample = Some(name);
                Box::new(calls)
            }
        };
        let genome_contigs: Vec<String> = genome.contigs().iter().map(|(n, _)| n.clone()).collect();
        let genotype_columns = if sample.is_some() {
            "sample"
        } else if !vcf_samples(vcf)?.is_empty() {
            "carriers"
        } else {
            "none"
        };
        let opts = ScoreOptions {
            rc_mean: args.rc_mean,
            batch: args.batch,
            shard: Some((args.shard, args.shards)),
        };
        let model = self.model.clone();
        let on_batch = on_batch.clone();
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let fail = |e: crate::Error| JsValue::from(js_err(e));
            let mut batch: Vec<Event> = vec![];
            let send = |batch: &mut Vec<Event>| -> crate::Result<()> {
                let out = BatchOut {
                    events: batch,
                    bytes_read: read.get(),
                    bytes_total: total,
                };
                let value = to_js(&out).map_err(|e| crate::Error::input("results", e))?;
                on_batch
                    .call1(&JsValue::NULL, &value)
                    .map_err(|e| crate::Error::input("results", format!("{e:?}")))?;
                batch.clear();
                Ok(())
            };
            let mut scorer = VariantScorer::new(&model, genome, opts)
                .allow_build_mismatch(args.allow_build_mismatch);
            if let Some(regions) = regions {
                scorer = scorer.regions(regions);
            }
            if let Some(sample) = &sample {
                scorer = scorer.sample(sample);
            }
            let outcome = scorer
                .run_async(items, &mut |event| {
                    if let (Event::Record(r), Some(line)) = (&event, args.test_panic_at_line) {
                        if r.line == line {
                            panic!("test hook: a panic while scoring line {line}");
                        }
                    }
                    batch.push(event);
                    if batch.len() >= EVENTS_PER_MESSAGE {
                        send(&mut batch)?;
                    }
                    Ok(())
                })
                .await;
            send(&mut batch).map_err(fail)?;
            let mut summary = outcome.map_err(fail)?;
            summary.notes.splice(0..0, notes);
            if let Some(n) = indel_codes
                .map(|c| c.borrow().indel_codes)
                .filter(|&n| n > 0)
            {
                summary.notes.push(format!(
                    "left out {n} calls of indel codes (I, D): only SNVs are read from genotype files"
                ));
            }
            to_js(&SummaryOut {
                summary,
                backend: model.backend(),
                genotype_columns,
                genome_contigs,
            })
            .map_err(|e| JsValue::from(js_err(e)))
        }))
    }
}

/// The sample names of a VCF `File` (its `#CHROM` line; none without one):
/// the page offers them to choose whose alleles to score.
#[wasm_bindgen]
pub fn vcf_samples(file: &web_sys::File) -> Result<Vec<String>, JsError> {
    let reader = BufReader::with_capacity(1 << 16, BlobReader::new(file)?);
    for item in vcf_reader(reader, &file.name()).map_err(js_err)? {
        match item.map_err(js_err)? {
            crate::io::vcf::VcfItem::Header(h) => {
                if let Some(names) = crate::io::vcf::sample_names(&h) {
                    return Ok(names);
                }
            }
            _ => break,
        }
    }
    Ok(vec![])
}

/// The layout of a consumer genotype file (23andMe, AncestryDNA,
/// MyHeritage), from its first bytes; `None` for anything else.
fn genotype_layout_of(file: &web_sys::File) -> Result<Option<genotypes::Layout>, JsError> {
    let mut head = vec![];
    BlobReader::new(file)?
        .take(8192)
        .read_to_end(&mut head)
        .map_err(js_err)?;
    Ok(genotypes::detect(&head))
}

/// The person's name for a genotype file: its name without the extension.
fn person(file_name: &str) -> String {
    std::path::Path::new(file_name)
        .file_stem()
        .map_or("sample".to_string(), |s| s.to_string_lossy().into_owned())
}

/// The company whose raw-data layout a file has (`23andMe`, `AncestryDNA`,
/// `MyHeritage`), or `undefined` for a VCF: the page says such files are
/// GRCh37 and need an hg19 genome.
#[wasm_bindgen]
pub fn genotype_layout(file: &web_sys::File) -> Result<Option<String>, JsError> {
    Ok(genotype_layout_of(file)?.map(|l| l.name().to_string()))
}
