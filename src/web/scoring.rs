//! A VCF scored in the worker: the crate's one scoring loop
//! ([`VariantScorer::run_async`]), its results posted to the page in batches.

use std::io::BufReader;

use js_sys::Function;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::engine::Engine;
use super::files::{file_field, open_genome, BlobReader};
use super::{js_err, to_js};
use crate::io::bed::read_bed;
use crate::io::vcf::vcf_reader;
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
        let items =
            vcf_reader(BufReader::with_capacity(1 << 18, vcf_blob), &vcf.name()).map_err(js_err)?;
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
            if let Some(sample) = &args.sample {
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
            let summary = outcome.map_err(fail)?;
            to_js(&SummaryOut {
                summary,
                backend: model.backend(),
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
