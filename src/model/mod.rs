//! A model ready to predict: its manifest (labels, provenance), the CPU
//! network, and the backend in use. The forward pass itself walks the
//! architecture's graph ([`crate::architecture::Graph`]) on the CPU
//! ([`network`], [`incremental`]) or on the GPU (`crate::gpu`).

mod backend;
pub mod incremental;
pub mod network;
pub mod qconv;
pub mod simd;

use std::path::Path;

pub use crate::architecture::Config;
pub(crate) use backend::block_on;
pub use backend::BackendChoice;
pub use network::{Arithmetic, Network};

use crate::error::Result;
use crate::weights::format::{self, Manifest};
use crate::window;
use backend::{Backend, CPU_NAME};

pub struct Model {
    pub manifest: Manifest,
    pub network: Network,
    backend: Backend,
}

impl Model {
    /// Loads a model directory (`model.json` + weights), checking the weights'
    /// SHA-256, for the CPU.
    pub fn load_dir(dir: &Path) -> Result<Model> {
        Self::load_dir_with(dir, BackendChoice::Cpu)
    }

    /// Loads a model directory for the chosen backend (natively; the page
    /// attaches its WebGPU network later with [`Model::use_gpu`]).
    pub fn load_dir_with(dir: &Path, choice: BackendChoice) -> Result<Model> {
        let (manifest, weights) = format::read_model_dir(dir)?;
        #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
        let gpu = match choice {
            BackendChoice::Cpu => Err(format!("{CPU_NAME}, as chosen")),
            BackendChoice::Auto | BackendChoice::Gpu => {
                let made = if choice == BackendChoice::Auto {
                    crate::gpu::GpuNetwork::new_hardware(&manifest.architecture, &weights)
                } else {
                    crate::gpu::GpuNetwork::new(&manifest.architecture, &weights)
                };
                match made {
                    Ok(g) => Ok(g),
                    Err(e) if choice == BackendChoice::Auto => Err(format!("{CPU_NAME}: {e}")),
                    Err(e) => return Err(e),
                }
            }
        };
        #[cfg(not(all(feature = "gpu", not(target_arch = "wasm32"))))]
        let gpu: std::result::Result<(), String> = match choice {
            BackendChoice::Gpu => {
                return Err(crate::Error::Gpu {
                    message: "this build has no GPU backend".into(),
                })
            }
            _ => Err(CPU_NAME.to_string()),
        };
        // The CPU network takes the weights over without copying, after the
        // GPU network has uploaded them.
        let model = Self::cpu(manifest, weights)?;
        match gpu {
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Ok(g) => {
                let note = format!("GPU: {} (WGSL through wgpu)", g.adapter());
                model.use_gpu(g, note);
            }
            #[cfg(not(all(feature = "gpu", not(target_arch = "wasm32"))))]
            Ok(()) => {}
            Err(note) => model.backend.set_note(note),
        }
        Ok(model)
    }

    /// Loads a model from the two files' contents (the browser fetches them),
    /// for the CPU. `sha256`: the weights' digest when the caller computed it
    /// (compared with the manifest's all the same), else computed here.
    pub fn from_bytes_with_digest(
        manifest_json: &str,
        weights: &[u8],
        sha256: Option<&str>,
    ) -> Result<Model> {
        let manifest = format::parse_manifest(manifest_json, format::MANIFEST_FILE)?;
        let arithmetic = Arithmetic::default_for(manifest.weights.dtype);
        let file = manifest.weights.file.clone();
        let layers = format::load_layers_with_digest(&manifest, weights, &file, sha256)?;
        let network = Network::from_layers(&manifest.architecture, layers, arithmetic)?;
        Ok(Self::with_network(manifest, network))
    }

    fn cpu(manifest: Manifest, weights: crate::weights::Weights) -> Result<Model> {
        let arithmetic = Arithmetic::default_for(manifest.weights.dtype);
        let network = Network::from_weights_with(&manifest.architecture, weights, arithmetic)?;
        Ok(Self::with_network(manifest, network))
    }

    fn with_network(manifest: Manifest, network: Network) -> Model {
        let note = format!("{CPU_NAME}, {}", network.arithmetic().describe());
        Model {
            manifest,
            network,
            backend: Backend::cpu(note),
        }
    }

    /// Predicts on `gpu` from now on; `note` says so in [`Model::backend`].
    #[cfg(feature = "gpu")]
    pub fn use_gpu(&self, gpu: crate::gpu::GpuNetwork, note: String) {
        self.backend.set_gpu(gpu, note);
    }

    /// Loses the GPU device on purpose, as a driver reset would (tests of the
    /// CPU fallback).
    #[doc(hidden)]
    pub fn lose_gpu_device(&self) {
        #[cfg(feature = "gpu")]
        if let Some(g) = self.gpu() {
            g.destroy_device();
        }
    }

    /// Whether predictions run on the GPU now.
    pub fn on_gpu(&self) -> bool {
        self.backend.on_gpu()
    }

    /// Which backend runs now, and why.
    pub fn backend(&self) -> String {
        self.backend.note()
    }

    /// The GPU network while it is in use.
    #[cfg(feature = "gpu")]
    pub(crate) fn gpu(&self) -> Option<backend::GpuHandle> {
        self.backend.gpu()
    }

    /// On the GPU, the batch size it runs at, in words (chosen from measured
    /// speed: [`crate::gpu::tune`]); `None` on the CPU.
    pub fn gpu_batch(&self) -> Option<String> {
        #[cfg(feature = "gpu")]
        return self.gpu().map(|g| g.describe_batch());
        #[cfg(not(feature = "gpu"))]
        None
    }

    /// Predicts `[n, 4, window]` one-hot windows (`n * outputs` probabilities)
    /// on the backend in use, as one batch. A GPU failure switches to the CPU
    /// for good, says so in [`Model::backend`], and this call's windows are
    /// predicted there.
    pub async fn predict_windows_async(&self, windows: &[f32]) -> Result<Vec<f32>> {
        #[cfg(feature = "gpu")]
        if let Some(gpu) = self.backend.gpu() {
            let n = windows.len() / (4 * self.window()).max(1);
            // The batch size from measured speed, at most the caller's.
            match gpu.predict_auto_async(windows, n.max(1)).await {
                Ok(p) => return Ok(p),
                Err(e) => self.backend.gpu_failed(&e),
            }
        }
        self.network.predict(windows)
    }

    /// [`Model::predict_windows_async`], blocking (natively; in the browser
    /// only while the CPU is in use).
    pub fn predict_windows(&self, windows: &[f32]) -> Result<Vec<f32>> {
        block_on(self.predict_windows_async(windows))
    }

    pub fn labels(&self) -> &[String] {
        &self.manifest.labels
    }

    pub fn window(&self) -> usize {
        self.manifest.architecture.window
    }

    /// Predicts named sequences; returns one probability row per sequence.
    /// Encoding errors (too long) are returned per sequence, so one bad input
    /// never stops the others.
    pub fn predict_sequences<'a, I>(&self, seqs: I, batch: usize) -> Vec<Result<Vec<f32>>>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let seqs: Vec<_> = seqs.into_iter().collect();
        let n = seqs.len();
        block_on_each(n, self.predict_sequences_async(seqs, batch))
    }

    /// Predicts records of a streamed FASTA ([`crate::io::fasta::FastaReader`]),
    /// one result per record; a record that
    /// [`SequenceRecord::check`](crate::io::fasta::SequenceRecord::check)
    /// refuses (no sequence, a letter that is not a base, longer than the
    /// window) is an error saying why, and the others are still predicted.
    pub async fn predict_records_async(
        &self,
        records: &[crate::io::fasta::SequenceRecord],
        batch: usize,
    ) -> Vec<Result<Vec<f32>>> {
        let window = self.window();
        let refused: Vec<Option<String>> = records.iter().map(|r| r.check(window).error).collect();
        let fits = records
            .iter()
            .zip(&refused)
            .filter(|(_, e)| e.is_none())
            .map(|(r, _)| (r.name.as_str(), r.sequence.as_slice()));
        let mut predicted = self.predict_sequences_async(fits, batch).await.into_iter();
        records
            .iter()
            .zip(refused)
            .map(|(r, refused)| {
                if let Some(message) = refused {
                    return Err(crate::Error::Sequence {
                        name: r.name.clone(),
                        message,
                    });
                }
                predicted.next().unwrap_or_else(|| {
                    Err(crate::Error::Prediction(format!(
                        "no result for `{}`",
                        r.name
                    )))
                })
            })
            .collect()
    }

    /// [`Model::predict_records_async`], blocking.
    pub fn predict_records(
        &self,
        records: &[crate::io::fasta::SequenceRecord],
        batch: usize,
    ) -> Vec<Result<Vec<f32>>> {
        let n = records.len();
        block_on_each(n, self.predict_records_async(records, batch))
    }

    /// [`Model::predict_sequences`], awaiting the backend.
    pub async fn predict_sequences_async<'a, I>(
        &self,
        seqs: I,
        batch: usize,
    ) -> Vec<Result<Vec<f32>>>
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        let window = self.window();
        let outputs = self.manifest.architecture.outputs;
        let mut results: Vec<Option<Result<Vec<f32>>>> = vec![];
        let mut pending: Vec<usize> = vec![];
        let mut buf: Vec<f32> = vec![];
        let mut seqs = seqs.into_iter().peekable();
        loop {
            let next = seqs.next();
            if let Some((name, seq)) = next {
                let i = results.len();
                results.push(None);
                let start = buf.len();
                buf.resize(start + 4 * window, 0.0);
                match window::encode_into(name, seq, window, &mut buf[start..]) {
                    Ok(()) => pending.push(i),
                    Err(e) => {
                        buf.truncate(start);
                        results[i] = Some(Err(e));
                    }
                }
            }
            let last = seqs.peek().is_none();
            if !pending.is_empty() && (pending.len() >= batch.max(1) || last) {
                match self.predict_windows_async(&buf).await {
                    Ok(probs) => {
                        for (row, &i) in probs.chunks(outputs).zip(&pending) {
                            results[i] = Some(Ok(row.to_vec()));
                        }
                    }
                    Err(e) => {
                        for &i in &pending {
                            results[i] = Some(Err(crate::Error::input("predict", &e)));
                        }
                    }
                }
                pending.clear();
                buf.clear();
            }
            if last {
                break;
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(crate::Error::input("predict", "not predicted"))))
            .collect()
    }
}

/// Blocks on a future of `n` per-item results; if it cannot complete here
/// (a WebGPU readback on a synchronous path), each item carries that error.
fn block_on_each(
    n: usize,
    f: impl std::future::Future<Output = Vec<Result<Vec<f32>>>>,
) -> Vec<Result<Vec<f32>>> {
    block_on(async { Ok(f.await) }).unwrap_or_else(|e| {
        (0..n)
            .map(|_| Err(crate::Error::input("predict", &e)))
            .collect()
    })
}
