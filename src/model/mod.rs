//! The Brain-ResNet / MetaChrom network: its configuration (widths read from
//! weights) and its forward pass.

pub mod config;
pub mod network;

use std::path::Path;

pub use config::Config;
pub use network::Network;

use crate::error::Result;
use crate::weights::format::{self, Manifest};
use crate::window;

/// A model ready to predict: its manifest (labels, provenance) and network.
pub struct Model {
    pub manifest: Manifest,
    pub network: Network,
}

impl Model {
    /// Loads a model directory (`model.json` + weights), checking the weights' SHA-256.
    pub fn load_dir(dir: &Path) -> Result<Model> {
        let (manifest, weights) = format::read_model_dir(dir)?;
        let network = Network::new(&manifest.architecture, &weights)?;
        Ok(Model { manifest, network })
    }

    /// Loads a model from the two files' contents (the browser fetches them).
    pub fn from_bytes(manifest_json: &str, weights: &[u8]) -> Result<Model> {
        let manifest = format::parse_manifest(manifest_json, format::MANIFEST_FILE)?;
        let w = format::load_weights(&manifest, weights, &manifest.weights.file)?;
        let network = Network::new(&manifest.architecture, &w)?;
        Ok(Model { manifest, network })
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
            match self.network.predict(buf) {
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
