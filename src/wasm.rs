//! WebAssembly bindings (wasm-bindgen) for the page's Web Workers.
//!
//! Each worker holds one [`Engine`] (a loaded model). Files chosen by the user
//! are read in place, by slices, through `FileReaderSync` (synchronous reads
//! exist in workers only), so a 3 GB genome is never loaded whole and no byte
//! of it leaves the machine. Results cross to JavaScript with
//! serde-wasm-bindgen; downloads are formatted here, by the same writers as the
//! CLI's, so the page's TSV equals `brain-resnet score`'s.

use std::io::{BufReader, Read, Seek, SeekFrom};

use js_sys::{Function, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::{Blob, File, FileReaderSync};

use crate::genome::Genome;
use crate::model::Model;
use crate::output::{TsvWriter, VcfWriter};
use crate::scores::{Event, Score, ScoreOptions, VariantScorer};
use crate::variants::vcf_reader;

#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("brain-resnet: {info}").into());
    }));
}

/// Plain JS objects and arrays (maps as objects), as the page expects.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// `Read + Seek` over a `Blob`, by `FileReaderSync` slices (workers only).
struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    pos: u64,
    len: u64,
    /// Bytes handed out so far (progress).
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl BlobReader {
    fn new(blob: &Blob) -> Result<Self, JsError> {
        Ok(BlobReader {
            blob: blob.clone(),
            reader: FileReaderSync::new()
                .map_err(|_| js_err("FileReaderSync is only available in Web Workers"))?,
            pos: 0,
            len: blob.size() as u64,
            read: Default::default(),
        })
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = (self.pos + buf.len() as u64).min(self.len);
        if end <= self.pos {
            return Ok(0);
        }
        let io = |e: JsValue| std::io::Error::other(format!("{e:?}"));
        let slice = self
            .blob
            .slice_with_f64_and_f64(self.pos as f64, end as f64)
            .map_err(io)?;
        let bytes = self.reader.read_as_array_buffer(&slice).map_err(io)?;
        let array = Uint8Array::new(&bytes);
        let n = array.length() as usize;
        array.copy_to(&mut buf[..n]);
        self.pos += n as u64;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => p as i64,
            SeekFrom::Current(d) => self.pos as i64 + d,
            SeekFrom::End(d) => self.len as i64 + d,
        };
        if new < 0 {
            return Err(std::io::Error::other("seek before the start of the file"));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

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
}

fn one() -> usize {
    1
}

fn batch() -> usize {
    16
}

/// A batch of results as the page receives it.
#[derive(Serialize)]
struct BatchOut<'a> {
    events: &'a [Event],
    bytes_read: u64,
    bytes_total: u64,
}

#[derive(Serialize)]
struct PredictRow {
    name: String,
    probs: Option<Vec<f32>>,
    error: Option<String>,
}

/// A loaded model.
#[wasm_bindgen]
pub struct Engine {
    model: Model,
}

#[wasm_bindgen]
impl Engine {
    /// Loads a model from `model.json`'s text and the weights file's bytes;
    /// refuses weights whose size or SHA-256 differs from the manifest.
    #[wasm_bindgen(constructor)]
    pub fn new(manifest_json: &str, weights: &[u8]) -> Result<Engine, JsError> {
        Ok(Engine {
            model: Model::from_bytes(manifest_json, weights).map_err(js_err)?,
        })
    }

    pub fn labels(&self) -> Vec<String> {
        self.model.labels().to_vec()
    }

    #[wasm_bindgen(getter)]
    pub fn window(&self) -> usize {
        self.model.window()
    }

    /// Predicts the records of a FASTA text: `[{name, probs} | {name, error}]`.
    pub fn predict_fasta(&self, text: &str) -> Result<JsValue, JsError> {
        let records =
            crate::sequences::read_fasta(text.as_bytes(), "pasted sequences").map_err(js_err)?;
        let results = self.model.predict_sequences(
            records
                .iter()
                .map(|r| (r.name.as_str(), r.sequence.as_slice())),
            16,
        );
        let rows: Vec<PredictRow> = records
            .iter()
            .zip(results)
            .map(|(r, res)| match res {
                Ok(p) => PredictRow {
                    name: r.name.clone(),
                    probs: Some(p),
                    error: None,
                },
                Err(e) => PredictRow {
                    name: r.name.clone(),
                    probs: None,
                    error: Some(e.to_string()),
                },
            })
            .collect();
        to_js(&rows).map_err(js_err)
    }

    /// Scores a VCF `File` against a genome given as `File`s (FASTA or bgzip
    /// FASTA, its `.fai`, and `.gzi` for bgzip). Calls `on_batch` with
    /// `{events, bytes_read, bytes_total}` as results come; returns the summary.
    pub fn score_vcf(
        &self,
        vcf: &File,
        fasta: &File,
        fai: &File,
        gzi: Option<File>,
        options: JsValue,
        on_batch: &Function,
    ) -> Result<JsValue, JsError> {
        let args: ScoreArgs = serde_wasm_bindgen::from_value(options).map_err(js_err)?;
        let fasta_reader = BlobReader::new(fasta)?;
        let fai_reader = BlobReader::new(fai)?;
        let gzi_name = gzi.as_ref().map(|f| f.name());
        let gzi_reader = match &gzi {
            Some(f) => Some(BlobReader::new(f)?),
            None => None,
        };
        let genome = Genome::from_readers(
            fasta_reader,
            &fasta.name(),
            Some(fasta.size() as u64),
            (fai_reader, &fai.name()),
            gzi_reader.zip(gzi_name.as_deref()),
        )
        .map_err(js_err)?;
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
        let mut scorer = VariantScorer::new(&self.model, genome, opts);
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
        let summary = scorer
            .run(items, &mut |event| {
                batch.push(event);
                if batch.len() >= 64 {
                    send(&mut batch)?;
                }
                Ok(())
            })
            .map_err(js_err);
        send(&mut batch).map_err(js_err)?;
        to_js(&summary?).map_err(js_err)
    }
}

#[derive(Deserialize)]
struct RecordsIn {
    records: Vec<crate::scores::RecordResult>,
}

#[derive(Serialize)]
struct SaturationOut {
    contig: String,
    /// 0-based genome coordinate of the window's first base (may be negative near a contig start).
    start: i64,
    sequence: String,
    #[serde(flatten)]
    saturation: crate::mutagenesis::Saturation,
}

#[wasm_bindgen]
impl Engine {
    /// Runs every analysis for every profile: `{profiles: [report...]}` in label
    /// order, from `{records}` (scoring results) and an annotations TSV text.
    pub fn analyze_all(
        &self,
        records: JsValue,
        annotations_tsv: &str,
        top: Option<usize>,
    ) -> Result<JsValue, JsError> {
        let input: RecordsIn = serde_wasm_bindgen::from_value(records).map_err(js_err)?;
        let ann = crate::analysis::read_annotations(annotations_tsv.as_bytes(), "annotations")
            .map_err(js_err)?;
        let reports: Vec<_> = self
            .model
            .labels()
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let variants = crate::analysis::variants_from_records(&input.records, i);
                crate::analysis::analyze(label, &variants, &ann, top)
            })
            .collect();
        #[derive(Serialize)]
        struct Out<T> {
            profiles: Vec<T>,
        }
        to_js(&Out { profiles: reports }).map_err(js_err)
    }

    /// Saturation mutagenesis of the 1000 bp window around 1-based `pos` of
    /// `chrom` (the variant window), read from the genome files.
    pub fn saturation(
        &self,
        fasta: &File,
        fai: &File,
        gzi: Option<File>,
        chrom: &str,
        pos: u32,
    ) -> Result<JsValue, JsError> {
        let gzi_name = gzi.as_ref().map(|f| f.name());
        let gzi_reader = match &gzi {
            Some(f) => Some(BlobReader::new(f)?),
            None => None,
        };
        let mut genome = Genome::from_readers(
            BlobReader::new(fasta)?,
            &fasta.name(),
            Some(fasta.size() as u64),
            (BlobReader::new(fai)?, &fai.name()),
            gzi_reader.zip(gzi_name.as_deref()),
        )
        .map_err(js_err)?;
        let mut resolver =
            crate::variants::ContigResolver::new(genome.contigs().iter().map(|(n, _)| n.clone()));
        let contig = resolver
            .resolve(chrom)
            .map(String::from)
            .ok_or_else(|| js_err(format!("contig `{chrom}` is not in {}", fasta.name())))?;
        let window = self.model.window();
        let start = pos as i64 - 1 - crate::window::variant_offset(window) as i64;
        let seq = genome
            .fetch(&contig, start, start + window as i64)
            .map_err(js_err)?;
        let saturation =
            crate::mutagenesis::saturation(&self.model, chrom, &seq, ScoreOptions::default())
                .map_err(js_err)?;
        to_js(&SaturationOut {
            contig,
            start,
            sequence: String::from_utf8_lossy(&seq).into_owned(),
            saturation,
        })
        .map_err(js_err)
    }
}

/// Parses an annotations TSV: `{key: {label, ref_reads, alt_reads, gerp, maf, p_value, pip}}`.
#[wasm_bindgen]
pub fn parse_annotations(text: &str, name: &str) -> Result<JsValue, JsError> {
    let ann = crate::analysis::read_annotations(text.as_bytes(), name).map_err(js_err)?;
    to_js(&ann).map_err(js_err)
}

/// Formats results as the CLI would: `format` is `tsv` or `vcf`; `events` are
/// the records (and, for VCF, header lines) in input order.
#[wasm_bindgen]
pub fn format_results(
    format: &str,
    events: JsValue,
    labels: Vec<String>,
    scores: &str,
    model_line: &str,
) -> Result<String, JsError> {
    let events: Vec<Event> = serde_wasm_bindgen::from_value(events).map_err(js_err)?;
    let scores = Score::parse_list(scores).map_err(js_err)?;
    let mut buf = Vec::new();
    match format {
        "tsv" => {
            let mut w = TsvWriter::new(&mut buf, &scores, &labels).map_err(js_err)?;
            for e in &events {
                w.write(e).map_err(js_err)?;
            }
        }
        "vcf" => {
            let mut w = VcfWriter::new(&mut buf, &scores, &labels, model_line);
            for e in &events {
                w.write(e).map_err(js_err)?;
            }
        }
        other => return Err(js_err(format!("unknown format `{other}`"))),
    }
    String::from_utf8(buf).map_err(js_err)
}
