//! One loaded model per worker: the CPU network (candle, SIMD128) and, once
//! [`Engine::init_gpu`] succeeded, the GPU (WebGPU), with the CPU fallback of
//! [`Model`] itself.

use std::rc::Rc;

use js_sys::Function;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use web_sys::File;

use super::files::{open_genome, BlobReader};
use super::{js_err, to_js};
use crate::io::genome::ContigResolver;
use crate::model::Model;
use crate::scoring::ScoreOptions;

#[wasm_bindgen]
pub struct Engine {
    pub(super) model: Rc<Model>,
}

/// One record's prediction or error, with what the user is told about it
/// (each message names the record).
#[derive(Serialize)]
struct PredictRow {
    name: String,
    probs: Option<Vec<f32>>,
    error: Option<String>,
    warnings: Vec<String>,
    notes: Vec<String>,
}

impl PredictRow {
    fn new(
        record: &crate::io::fasta::SequenceRecord,
        window: usize,
        result: crate::Result<Vec<f32>>,
    ) -> Self {
        let check = record.check(window);
        let named = |t: &String| format!("sequence `{}`: {t}", record.name);
        PredictRow {
            name: record.name.clone(),
            error: result.as_ref().err().map(|e| e.to_string()),
            probs: result.ok(),
            warnings: check.warnings.iter().map(named).collect(),
            notes: check.notes.iter().map(named).collect(),
        }
    }
}

#[derive(Deserialize)]
struct RecordsIn {
    records: Vec<crate::scoring::RecordResult>,
}

#[derive(Serialize)]
struct SaturationOut {
    contig: String,
    /// 0-based genome coordinate of the window's first base (may be negative near a contig start).
    start: i64,
    /// The contig's length: window positions past it are padding, not sequence.
    contig_length: u64,
    sequence: String,
    /// Known motifs (the built-in JASPAR subset, p <= 1e-4) in the window's
    /// real sequence; `start` is the 0-based offset in the window, as
    /// `brain-resnet track` writes them to its BED.
    motifs: Vec<crate::analysis::motifs::Hit>,
    #[serde(flatten)]
    saturation: crate::scoring::mutagenesis::Saturation,
}

fn promise_err(e: impl std::fmt::Display) -> JsValue {
    JsValue::from(js_err(e))
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
            model: Rc::new(model),
        })
    }

    /// Loses the GPU device on purpose, as a driver reset would (browser
    /// tests of the CPU fallback use it).
    #[doc(hidden)]
    pub fn lose_gpu_device(&self) {
        self.model.lose_gpu_device();
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
        let model = self.model.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            #[cfg(feature = "gpu")]
            {
                let m = &model.manifest;
                // The layers as the file stores them: int8 codes go to the
                // GPU as they are (no f32 copy of the model in wasm memory).
                let layers = crate::weights::format::load_layers_with_digest(
                    m,
                    &weights,
                    &m.weights.file,
                    sha256.as_deref(),
                )
                .map_err(promise_err)?;
                let gpu = crate::gpu::GpuNetwork::from_layers_async(&m.architecture, layers, true)
                    .await
                    .map_err(promise_err)?;
                let note = format!("GPU: {adapter} (WGSL through WebGPU)");
                model.use_gpu(gpu, note.clone());
                Ok(JsValue::from_str(&note))
            }
            #[cfg(not(feature = "gpu"))]
            {
                let _ = (weights, sha256, adapter, model);
                Err(promise_err("this build has no GPU backend"))
            }
        })
    }

    /// Browser tests: the GPU in use against the CPU in f32 arithmetic (the
    /// network rebuilt from `weights`, the model file's bytes) on windows of
    /// the FASTA `text` (cycled, a base changed per copy), at each of
    /// `batches` windows per submission; 0 stands for the largest batch the
    /// plan allows under WebGPU's default 128 MiB bindings (the device's own
    /// limit when lower). Resolves to `[{batch, windows, max_diff}]`.
    #[doc(hidden)]
    pub fn gpu_parity(
        &self,
        weights: Vec<u8>,
        text: String,
        batches: Vec<usize>,
    ) -> js_sys::Promise {
        let model = self.model.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            #[cfg(feature = "gpu")]
            {
                #[derive(Serialize)]
                struct Parity {
                    batch: usize,
                    windows: usize,
                    max_diff: f32,
                }
                let gpu = model
                    .gpu()
                    .ok_or_else(|| promise_err("the GPU is not in use"))?;
                let m = &model.manifest;
                let layers = crate::weights::format::load_layers_with_digest(
                    m,
                    &weights,
                    &m.weights.file,
                    None,
                )
                .map_err(promise_err)?;
                let cpu = crate::model::Network::from_layers(
                    &m.architecture,
                    layers,
                    crate::model::Arithmetic::F32,
                )
                .map_err(promise_err)?;
                gpu.set_binding_limit(128 << 20);
                let largest = gpu.batch_limit().map_err(promise_err)?;
                let records =
                    crate::io::fasta::read_fasta(text.as_bytes(), "parity").map_err(promise_err)?;
                let window = model.window();
                let per = 4 * window;
                let most = batches
                    .iter()
                    .map(|&b| if b == 0 { largest } else { 3 * b })
                    .max()
                    .unwrap_or(1);
                let mut windows = Vec::with_capacity(most * per);
                for i in 0..most {
                    let r = &records[i % records.len().max(1)];
                    let mut seq = r.sequence.clone();
                    if !seq.is_empty() {
                        let at = (i * 7919) % seq.len();
                        seq[at] = b"ACGT"[i % 4];
                    }
                    windows
                        .extend(crate::window::encode(&r.name, &seq, window).map_err(promise_err)?);
                }
                let want = cpu.predict(&windows).map_err(promise_err)?;
                let mut out = vec![];
                for &b in &batches {
                    let (batch, n) = if b == 0 {
                        (largest, largest)
                    } else {
                        (b, 3 * b)
                    };
                    let got = gpu
                        .predict_async(&windows[..n * per], batch)
                        .await
                        .map_err(promise_err)?;
                    let max_diff = got
                        .iter()
                        .zip(&want)
                        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
                    out.push(Parity {
                        batch,
                        windows: n,
                        max_diff,
                    });
                }
                to_js(&out).map_err(promise_err)
            }
            #[cfg(not(feature = "gpu"))]
            {
                let _ = (weights, text, batches, model);
                Err(promise_err("this build has no GPU backend"))
            }
        })
    }

    pub fn labels(&self) -> Vec<String> {
        self.model.labels().to_vec()
    }

    /// On the GPU, the batch size it runs at, in words (for the page's
    /// backend line); `undefined` on the CPU.
    pub fn gpu_batch(&self) -> Option<String> {
        self.model.gpu_batch()
    }

    /// The CPU network's arithmetic, in words (for the page's backend line).
    pub fn arithmetic(&self) -> String {
        self.model.network.arithmetic().describe()
    }

    #[wasm_bindgen(getter)]
    pub fn window(&self) -> usize {
        self.model.window()
    }

    /// Predicts the records of a FASTA text (or one raw sequence without a
    /// `>name` line); resolves to `[{name, probs | error, warnings, notes}]`
    /// (see [`SequenceRecord::check`](crate::io::fasta::SequenceRecord::check)).
    pub fn predict_fasta(&self, text: String) -> js_sys::Promise {
        let model = self.model.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let records = crate::io::fasta::read_fasta(text.as_bytes(), "pasted sequences")
                .map_err(promise_err)?;
            let window = model.window();
            let results = model.predict_records_async(&records, 16).await;
            let rows: Vec<PredictRow> = records
                .iter()
                .zip(results)
                .map(|(r, res)| PredictRow::new(r, window, res))
                .collect();
            to_js(&rows).map_err(promise_err)
        })
    }

    /// Predicts the records of a FASTA `File`, streamed by slices: a record
    /// longer than the window is counted, not kept, and answered with an error
    /// giving its length (a genome chosen here by mistake is never loaded
    /// whole). Resolves to `[{name, probs | error, warnings, notes}]`.
    pub fn predict_fasta_file(&self, file: &File) -> Result<js_sys::Promise, JsError> {
        let model = self.model.clone();
        let window = model.window();
        let reader = std::io::BufReader::with_capacity(1 << 16, BlobReader::new(file)?);
        let records = crate::io::fasta::FastaReader::new(reader, &file.name(), window);
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let mut rows: Vec<PredictRow> = vec![];
            let mut chunk: Vec<crate::io::fasta::SequenceRecord> = vec![];
            let mut records = records.peekable();
            while let Some(record) = records.next() {
                chunk.push(record.map_err(promise_err)?);
                if chunk.len() < 64 && records.peek().is_some() {
                    continue;
                }
                let results = model.predict_records_async(&chunk, 16).await;
                for (r, result) in chunk.drain(..).zip(results) {
                    rows.push(PredictRow::new(&r, window, result));
                }
            }
            to_js(&rows).map_err(promise_err)
        }))
    }

    /// Runs every analysis for every profile: `{profiles: [report...]}` in label
    /// order, from `{records}` (scoring results) and an annotations TSV text.
    /// `ref_mismatch` variants are analysed and counted unless
    /// `exclude_ref_mismatch` (as `brain-resnet analyze --exclude-ref-mismatch`).
    pub fn analyze_all(
        &self,
        records: JsValue,
        annotations_tsv: &str,
        top: Option<usize>,
        exclude_ref_mismatch: Option<bool>,
    ) -> Result<JsValue, JsError> {
        let input: RecordsIn = serde_wasm_bindgen::from_value(records).map_err(js_err)?;
        let ann =
            crate::io::annotations::read_annotations(annotations_tsv.as_bytes(), "annotations")
                .map_err(js_err)?;
        let reports: Vec<_> = self
            .model
            .labels()
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let variants = crate::analysis::variants_from_records(&input.records, i);
                let (variants, excluded) = if exclude_ref_mismatch.unwrap_or(false) {
                    crate::analysis::exclude_ref_mismatch(variants)
                } else {
                    (variants, 0)
                };
                let mut report = crate::analysis::analyze(label, &variants, &ann, top);
                report.ref_mismatch_excluded = excluded;
                report
            })
            .collect();
        #[derive(Serialize)]
        struct Out<T> {
            profiles: Vec<T>,
        }
        to_js(&Out { profiles: reports }).map_err(js_err)
    }

    /// Saturation mutagenesis of the window around 1-based `pos` of `chrom`
    /// (the variant window), read from the genome files; `on_progress(done,
    /// total)` after each chunk of mutants. `from`/`to` (0-based window
    /// positions, `to` exclusive) limit the mutants to a part of the window,
    /// for the workers to share a track.
    #[allow(clippy::too_many_arguments)]
    pub fn saturation(
        &self,
        fasta: &File,
        fai: Option<File>,
        gzi: Option<File>,
        chrom: String,
        pos: u32,
        on_progress: Option<Function>,
        from: Option<u32>,
        to: Option<u32>,
    ) -> Result<js_sys::Promise, JsError> {
        let positions = from.map_or(0, |f| f as usize)..to.map_or(usize::MAX, |t| t as usize);
        let mut genome = open_genome(fasta, fai.as_ref(), gzi.as_ref())?;
        let mut resolver = ContigResolver::new(genome.contigs().iter().map(|(n, _)| n.clone()));
        let contig = resolver
            .resolve(&chrom)
            .map(String::from)
            .ok_or_else(|| js_err(format!("contig `{chrom}` is not in {}", fasta.name())))?;
        let contig_length = genome.contig_length(&contig).unwrap_or(0);
        let window = self.model.window();
        let start = pos as i64 - 1 - crate::window::variant_offset(window) as i64;
        let seq = genome
            .fetch(&contig, start, start + window as i64)
            .map_err(js_err)?;
        let model = self.model.clone();
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let saturation = crate::scoring::mutagenesis::saturation_range_async(
                &model,
                &chrom,
                &seq,
                ScoreOptions::default(),
                positions,
                &mut |done, total| {
                    if let Some(f) = &on_progress {
                        let _ = f.call2(&JsValue::NULL, &done.into(), &total.into());
                    }
                },
            )
            .await
            .map_err(promise_err)?;
            use crate::analysis::motifs::{read_motifs, scan_all, DEFAULT_P_VALUE, JASPAR_SUBSET};
            let motifs =
                read_motifs(JASPAR_SUBSET, "the built-in JASPAR motifs").map_err(promise_err)?;
            let motifs = scan_all(&motifs, &seq, DEFAULT_P_VALUE)
                .into_iter()
                .filter(|h| {
                    let at = start + h.start as i64;
                    at >= 0 && at as u64 + h.len as u64 <= contig_length
                })
                .collect();
            to_js(&SaturationOut {
                contig,
                start,
                contig_length,
                motifs,
                sequence: String::from_utf8_lossy(&seq).into_owned(),
                saturation,
            })
            .map_err(promise_err)
        }))
    }
}
