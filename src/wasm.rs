//! WebAssembly bindings (wasm-bindgen) for the page's Web Workers.
//!
//! Each worker holds one [`Engine`] (a loaded model). Files chosen by the user
//! are read in place, by slices, through `FileReaderSync` (synchronous reads
//! exist in workers only), so a 3 GB genome is never loaded whole and no byte
//! of it leaves the machine. Results cross to JavaScript with
//! serde-wasm-bindgen; downloads are formatted here, by the same writers as the
//! CLI's, so the page's TSV equals `brain-resnet score`'s.

use std::cell::RefCell;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::rc::Rc;

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

/// A loaded model, on the CPU (candle, SIMD128) and, once
/// [`Engine::init_gpu`] succeeded, also on the GPU (WebGPU).
#[wasm_bindgen]
pub struct Engine {
    inner: Rc<Inner>,
}

struct Inner {
    model: Model,
    #[cfg(feature = "gpu")]
    gpu: RefCell<Option<Rc<crate::gpu::GpuNetwork>>>,
    /// Which backend runs now, and why.
    backend: RefCell<String>,
}

impl Inner {
    fn on_gpu(&self) -> bool {
        #[cfg(feature = "gpu")]
        return self.gpu.borrow().is_some();
        #[cfg(not(feature = "gpu"))]
        false
    }

    /// Predicts a batch of windows (with reverse-complement averaging when
    /// asked) on the GPU when there is one, else on the CPU. A GPU failure
    /// switches to the CPU for good and says so in `backend`; the failed
    /// batch is predicted again on the CPU, so no result comes from it.
    async fn predict(&self, windows: &[f32], opts: ScoreOptions) -> crate::Result<Vec<f32>> {
        #[cfg(feature = "gpu")]
        {
            let gpu = self.gpu.borrow().clone();
            if let Some(gpu) = gpu {
                match gpu_predict(&gpu, windows, self.model.window(), opts).await {
                    Ok(p) => return Ok(p),
                    Err(e) => {
                        *self.gpu.borrow_mut() = None;
                        *self.backend.borrow_mut() = format!(
                            "CPU (WebAssembly SIMD128): the GPU failed ({e}); switched to the CPU, \
                             no result came from the failed run"
                        );
                    }
                }
            }
        }
        crate::scores::predict_windows(&self.model, windows, opts)
    }
}

#[cfg(feature = "gpu")]
async fn gpu_predict(
    gpu: &crate::gpu::GpuNetwork,
    windows: &[f32],
    window: usize,
    opts: ScoreOptions,
) -> crate::Result<Vec<f32>> {
    let batch = opts.batch.max(1);
    let fwd = gpu.predict_async(windows, batch).await?;
    if !opts.rc_mean {
        return Ok(fwd);
    }
    let rc = crate::window::reverse_complements(windows, window);
    let back = gpu.predict_async(&rc, batch).await?;
    Ok(fwd.iter().zip(&back).map(|(a, b)| (a + b) / 2.0).collect())
}

#[wasm_bindgen]
impl Engine {
    /// Loads a model from `model.json`'s text and the weights file's bytes;
    /// refuses weights whose size or SHA-256 differs from the manifest.
    /// `sha256`: the weights' digest (hex) when the page computed it with
    /// WebCrypto (else it is computed here, in WebAssembly: slower).
    #[wasm_bindgen(constructor)]
    pub fn new(
        manifest_json: &str,
        weights: &[u8],
        sha256: Option<String>,
    ) -> Result<Engine, JsError> {
        let model = Model::from_bytes_with_digest(manifest_json, weights, sha256.as_deref())
            .map_err(js_err)?;
        Ok(Engine {
            inner: Rc::new(Inner {
                model,
                #[cfg(feature = "gpu")]
                gpu: RefCell::new(None),
                backend: RefCell::new("CPU (WebAssembly SIMD128)".into()),
            }),
        })
    }

    /// Loses the GPU device on purpose, as a driver reset would (browser
    /// tests of the CPU fallback use it).
    #[doc(hidden)]
    pub fn lose_gpu_device(&self) {
        #[cfg(feature = "gpu")]
        if let Some(g) = self.inner.gpu.borrow().as_ref() {
            g.destroy_device();
        }
    }

    /// Opens the GPU through WebGPU and uploads the weights (the same file's
    /// bytes as for the constructor); resolves to the backend note, rejects
    /// with the reason when there is no usable GPU (the CPU stays in use).
    /// `adapter` is the adapter in words, as the page read it from
    /// `GPUAdapter.info` (wgpu cannot name it on the web).
    pub fn init_gpu(
        &self,
        weights: Vec<u8>,
        sha256: Option<String>,
        adapter: String,
    ) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            #[cfg(feature = "gpu")]
            {
                let m = &inner.model.manifest;
                let w = crate::weights::format::load_weights_with_digest(
                    m,
                    &weights,
                    &m.weights.file,
                    sha256.as_deref(),
                )
                .map_err(|e| JsValue::from(js_err(e)))?;
                let gpu = crate::gpu::GpuNetwork::new_async(&m.architecture, &w, true)
                    .await
                    .map_err(|e| JsValue::from(js_err(e)))?;
                *inner.gpu.borrow_mut() = Some(Rc::new(gpu));
                let note = format!("GPU: {adapter} (WGSL through WebGPU)");
                *inner.backend.borrow_mut() = note.clone();
                Ok(JsValue::from_str(&note))
            }
            #[cfg(not(feature = "gpu"))]
            {
                let _ = (weights, sha256, adapter, inner);
                Err(JsValue::from(js_err("this build has no GPU backend")))
            }
        })
    }

    pub fn labels(&self) -> Vec<String> {
        self.inner.model.labels().to_vec()
    }

    #[wasm_bindgen(getter)]
    pub fn window(&self) -> usize {
        self.inner.model.window()
    }

    /// Predicts the records of a FASTA text: `[{name, probs} | {name, error}]`.
    pub fn predict_fasta(&self, text: &str) -> Result<JsValue, JsError> {
        let records =
            crate::sequences::read_fasta(text.as_bytes(), "pasted sequences").map_err(js_err)?;
        let results = self.inner.model.predict_sequences(
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
    /// `{events, bytes_read, bytes_total}` as results come; resolves to the
    /// summary (with `backend`: where the windows were predicted).
    pub fn score_vcf(
        &self,
        vcf: &File,
        fasta: &File,
        fai: &File,
        gzi: Option<File>,
        options: JsValue,
        on_batch: &Function,
    ) -> Result<js_sys::Promise, JsError> {
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
        let inner = self.inner.clone();
        let on_batch = on_batch.clone();
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let mut scorer = VariantScorer::new(&inner.model, genome, opts);
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
            let mut failure = None;
            let mut items = items.into_iter();
            loop {
                let (ready, end) = match items.next() {
                    Some(Ok(item)) => match scorer.queue(item) {
                        Ok(ready) => (ready, false),
                        Err(e) => {
                            failure = Some(e);
                            (true, true)
                        }
                    },
                    Some(Err(e)) => {
                        failure = Some(e);
                        (true, true)
                    }
                    None => (true, true),
                };
                if !ready {
                    continue;
                }
                // On the GPU, awaited batch by batch; on the CPU, ALT windows
                // incrementally against their REF windows.
                let probs = if inner.on_gpu() && !scorer.pending_windows().is_empty() {
                    let windows = scorer.pending_windows().to_vec();
                    inner.predict(&windows, opts).await
                } else {
                    scorer.predict_pending()
                };
                let delivered = probs.and_then(|p| {
                    scorer.deliver(&p, &mut |event| {
                        batch.push(event);
                        Ok(())
                    })
                });
                if let Err(e) = delivered {
                    failure.get_or_insert(e);
                }
                if batch.len() >= 64 {
                    send(&mut batch).map_err(|e| JsValue::from(js_err(e)))?;
                }
                if end || failure.is_some() {
                    break;
                }
            }
            send(&mut batch).map_err(|e| JsValue::from(js_err(e)))?;
            if let Some(e) = failure {
                return Err(JsValue::from(js_err(e)));
            }
            #[derive(Serialize)]
            struct Out {
                #[serde(flatten)]
                summary: crate::scores::Summary,
                backend: String,
            }
            to_js(&Out {
                summary: scorer.summary(),
                backend: inner.backend.borrow().clone(),
            })
            .map_err(|e| JsValue::from(js_err(e)))
        }))
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
            .inner
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
        on_progress: Option<Function>,
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
        let window = self.inner.model.window();
        let start = pos as i64 - 1 - crate::window::variant_offset(window) as i64;
        let seq = genome
            .fetch(&contig, start, start + window as i64)
            .map_err(js_err)?;
        let saturation = crate::mutagenesis::saturation_with_progress(
            &self.inner.model,
            chrom,
            &seq,
            ScoreOptions::default(),
            &mut |done, total| {
                if let Some(f) = &on_progress {
                    let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
                }
            },
        )
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
