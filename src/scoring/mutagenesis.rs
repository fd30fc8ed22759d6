//! In-silico saturation mutagenesis of one window: every position x every
//! other base, predicted, as the change from the window's own prediction.
//! The allelic-effect tracks of the page are drawn from it.

use super::predict::{predict_windows_async, predict_with_references_async, ScoreOptions};
use crate::error::Result;
use crate::model::{block_on, Model};
use crate::window::encode_into;

/// Base order of [`Saturation::delta`].
pub const BASES: [u8; 4] = *b"ACGT";

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Saturation {
    pub window: usize,
    pub outputs: usize,
    /// The window's own prediction, per profile.
    pub reference: Vec<f32>,
    /// `delta[(pos * 4 + b) * outputs + o]`: prediction with base `BASES[b]` at
    /// `pos` minus `reference[o]`; 0 where `BASES[b]` is the window's own base.
    pub delta: Vec<f32>,
}

/// Mutates every position of `seq` (at most the window length; shorter is
/// padded with N) to each base it does not already have.
pub fn saturation(model: &Model, name: &str, seq: &[u8], opts: ScoreOptions) -> Result<Saturation> {
    saturation_with_progress(model, name, seq, opts, &mut |_, _| {})
}

/// [`saturation`], calling `progress(done, total)` after each chunk of mutants.
pub fn saturation_with_progress(
    model: &Model,
    name: &str,
    seq: &[u8],
    opts: ScoreOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Saturation> {
    block_on(saturation_async(model, name, seq, opts, progress))
}

/// [`saturation_with_progress`], awaiting the backend.
pub async fn saturation_async(
    model: &Model,
    name: &str,
    seq: &[u8],
    opts: ScoreOptions,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Saturation> {
    saturation_range_async(model, name, seq, opts, 0..usize::MAX, progress).await
}

/// [`saturation_async`] for the mutants at window positions `positions` only
/// (the page splits a track between its workers); `delta` is 0 elsewhere.
pub async fn saturation_range_async(
    model: &Model,
    name: &str,
    seq: &[u8],
    opts: ScoreOptions,
    positions: std::ops::Range<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Saturation> {
    let window = model.window();
    let outputs = model.labels().len();
    let per = 4 * window;
    let mut padded = seq.to_ascii_uppercase();
    padded.resize(window, b'N');
    let mut reference_window = vec![0f32; per];
    encode_into(name, &padded, window, &mut reference_window)?;
    let mut mutants: Vec<(usize, usize)> = vec![];
    for (pos, &own) in padded.iter().enumerate() {
        if !positions.contains(&pos) {
            continue;
        }
        for (b, &base) in BASES.iter().enumerate() {
            if own != base {
                mutants.push((pos, b));
            }
        }
    }
    let reference = predict_windows_async(model, &reference_window, opts).await?;
    let mut delta = vec![0f32; window * 4 * outputs];
    // Predict in chunks so memory stays small whatever the window; each chunk
    // starts with the reference window, the mutants' reference: on the CPU
    // they are predicted incrementally (only what a base change reaches).
    let reference_of: Vec<Option<usize>> = std::iter::once(None)
        .chain(std::iter::repeat(Some(0)))
        .take(257)
        .collect();
    let mut done = 0;
    for chunk in mutants.chunks(256) {
        let mut windows = Vec::with_capacity((chunk.len() + 1) * per);
        windows.extend_from_slice(&reference_window);
        for &(pos, b) in chunk {
            let mut m = padded.clone();
            m[pos] = BASES[b];
            let start = windows.len();
            windows.resize(start + per, 0.0);
            encode_into(name, &m, window, &mut windows[start..])?;
        }
        let probs =
            predict_with_references_async(model, &windows, &reference_of[..=chunk.len()], opts)
                .await?;
        let probs = &probs[outputs..];
        for (k, &(pos, b)) in chunk.iter().enumerate() {
            for o in 0..outputs {
                delta[(pos * 4 + b) * outputs + o] = probs[k * outputs + o] - reference[o];
            }
        }
        done += chunk.len();
        progress(done, mutants.len());
    }
    Ok(Saturation {
        window,
        outputs,
        reference,
        delta,
    })
}
