//! The Brain-ResNet / MetaChrom network: its configuration (widths read from
//! weights) and its forward pass.

pub mod config;
pub mod incremental;
pub mod network;

use std::path::Path;

pub use config::Config;
pub use network::Network;

use crate::error::Result;
use crate::weights::format::{self, Manifest};
use crate::window;

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// The GPU when an adapter is found, else the CPU.
    Auto,
    Cpu,
    /// The GPU, or an error saying why there is none.
    Gpu,
}

/// A model ready to predict: its manifest (labels, provenance), the CPU
/// network, and the GPU network when one was chosen.
pub struct Model {
    pub manifest: Manifest,
    pub network: Network,
    #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
    gpu: Option<crate::gpu::GpuNetwork>,
    /// Which backend runs, and why (changes when the GPU fails).
    backend: std::sync::Mutex<String>,
    #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
    gpu_failed: std::sync::atomic::AtomicBool,
}

impl Model {
    /// Loads a model directory (`model.json` + weights), checking the weights'
    /// SHA-256, for the CPU.
    pub fn load_dir(dir: &Path) -> Result<Model> {
        Self::load_dir_with(dir, BackendChoice::Cpu)
    }

    /// Loads a model directory for the chosen backend.
    pub fn load_dir_with(dir: &Path, choice: BackendChoice) -> Result<Model> {
        let (manifest, weights) = format::read_model_dir(dir)?;
        Self::build(manifest, weights, choice)
    }

    /// Loads a model from the two files' contents (the browser fetches them).
    pub fn from_bytes(manifest_json: &str, weights: &[u8]) -> Result<Model> {
        Self::from_bytes_with_digest(manifest_json, weights, None)
    }

    /// [`Model::from_bytes`] with the weights' SHA-256 computed by the caller
    /// (compared with the manifest's all the same).
    pub fn from_bytes_with_digest(
        manifest_json: &str,
        weights: &[u8],
        sha256: Option<&str>,
    ) -> Result<Model> {
        let manifest = format::parse_manifest(manifest_json, format::MANIFEST_FILE)?;
        let w =
            format::load_weights_with_digest(&manifest, weights, &manifest.weights.file, sha256)?;
        Self::build(manifest, w, BackendChoice::Cpu)
    }

    /// The GPU network first (it borrows the weights), then the CPU network,
    /// which takes them over without copying.
    fn build(
        manifest: Manifest,
        weights: crate::weights::Weights,
        choice: BackendChoice,
    ) -> Result<Model> {
        let cpu = "CPU (candle)".to_string();
        #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
        {
            let (gpu, backend) = match choice {
                BackendChoice::Cpu => (None, format!("{cpu}, as chosen")),
                BackendChoice::Gpu | BackendChoice::Auto => {
                    let made = if choice == BackendChoice::Auto {
                        crate::gpu::GpuNetwork::new_hardware(&manifest.architecture, &weights)
                    } else {
                        crate::gpu::GpuNetwork::new(&manifest.architecture, &weights)
                    };
                    match made {
                        Ok(g) => {
                            let d = format!("GPU: {} (WGSL through wgpu)", g.adapter());
                            (Some(g), d)
                        }
                        Err(e) if choice == BackendChoice::Auto => (None, format!("{cpu}: {e}")),
                        Err(e) => return Err(e),
                    }
                }
            };
            let network = Network::from_weights(&manifest.architecture, weights)?;
            Ok(Model {
                manifest,
                network,
                gpu,
                backend: std::sync::Mutex::new(backend),
                gpu_failed: Default::default(),
            })
        }
        #[cfg(not(all(feature = "gpu", not(target_arch = "wasm32"))))]
        {
            if choice == BackendChoice::Gpu {
                return Err(crate::Error::input("GPU", "this build has no GPU backend"));
            }
            let network = Network::from_weights(&manifest.architecture, weights)?;
            Ok(Model {
                manifest,
                network,
                backend: std::sync::Mutex::new(cpu),
            })
        }
    }

    /// Loses the GPU device on purpose (tests of the CPU fallback).
    #[doc(hidden)]
    pub fn lose_gpu_device(&self) {
        #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
        if let Some(g) = &self.gpu {
            g.destroy_device();
        }
    }

    /// Whether predictions run on the GPU now.
    pub fn on_gpu(&self) -> bool {
        #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
        if self.gpu.is_some() {
            return !self.gpu_failed.load(std::sync::atomic::Ordering::Relaxed);
        }
        false
    }

    /// Which backend runs now, and why.
    pub fn backend(&self) -> String {
        self.backend.lock().expect("backend note").clone()
    }

    /// Predicts `[n, 4, window]` one-hot windows (`n * outputs` probabilities)
    /// on the chosen backend. A GPU failure switches to the CPU for good, says
    /// so in [`Model::backend`], and this call's windows are predicted there.
    pub fn predict_windows(&self, windows: &[f32]) -> Result<Vec<f32>> {
        #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
        if let Some(gpu) = &self.gpu {
            use std::sync::atomic::Ordering;
            if !self.gpu_failed.load(Ordering::Relaxed) {
                match gpu.predict(windows, 16) {
                    Ok(p) => return Ok(p),
                    Err(e) => {
                        self.gpu_failed.store(true, Ordering::Relaxed);
                        *self.backend.lock().expect("backend note") =
                            format!("CPU (candle): the GPU failed ({e}); switched to the CPU, no result came from the failed run");
                    }
                }
            }
        }
        self.network.predict(windows)
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
        let window = self.window();
        let outputs = self.manifest.architecture.outputs;
        let mut results: Vec<Option<Result<Vec<f32>>>> = vec![];
        let mut pending: Vec<usize> = vec![];
        let mut buf: Vec<f32> = vec![];
        let flush = |pending: &mut Vec<usize>,
                     buf: &mut Vec<f32>,
                     results: &mut Vec<Option<Result<Vec<f32>>>>| {
            if pending.is_empty() {
                return;
            }
            match self.predict_windows(buf) {
                Ok(probs) => {
                    for (row, &i) in probs.chunks(outputs).zip(pending.iter()) {
                        results[i] = Some(Ok(row.to_vec()));
                    }
                }
                Err(e) => {
                    let msg = e.to_string();
                    for &i in pending.iter() {
                        results[i] = Some(Err(crate::Error::input("predict", &msg)));
                    }
                }
            }
            pending.clear();
            buf.clear();
        };
        for (name, seq) in seqs {
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
            if pending.len() >= batch.max(1) {
                flush(&mut pending, &mut buf, &mut results);
            }
        }
        flush(&mut pending, &mut buf, &mut results);
        results
            .into_iter()
            .map(|r| r.expect("every sequence answered"))
            .collect()
    }
}
