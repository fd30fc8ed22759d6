//! Windows to probabilities for scoring: batches, reverse-complement
//! averaging, and ALT windows predicted incrementally against their REF.

use crate::error::{Error, Result};
use crate::model::{block_on, Model};
use crate::window::reverse_complements;

/// How windows are predicted.
#[derive(Debug, Clone, Copy)]
pub struct ScoreOptions {
    /// Average each window's prediction with its reverse complement's.
    pub rc_mean: bool,
    /// Windows per network call.
    pub batch: usize,
    /// `(k, n)`: score only data lines whose index (0-based, in input order)
    /// is `k` modulo `n`, for `n` parallel workers reading the same input.
    pub shard: Option<(usize, usize)>,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            rc_mean: false,
            batch: 32,
            shard: None,
        }
    }
}

/// Predicts `n` windows (`[n, 4, window]`), in batches, optionally averaged
/// with their reverse complements (blocking; see [`predict_windows_async`]).
pub fn predict_windows(model: &Model, windows: &[f32], opts: ScoreOptions) -> Result<Vec<f32>> {
    block_on(predict_windows_async(model, windows, opts))
}

/// [`predict_windows`], awaiting the backend (the GPU's readback in the browser).
pub async fn predict_windows_async(
    model: &Model,
    windows: &[f32],
    opts: ScoreOptions,
) -> Result<Vec<f32>> {
    let per = 4 * model.window();
    let batch = opts.batch.max(1) * per;
    let mut out = Vec::with_capacity(windows.len() / per * model.labels().len());
    for chunk in windows.chunks(batch) {
        let fwd = model.predict_windows_async(chunk).await?;
        if opts.rc_mean {
            let back = model
                .predict_windows_async(&reverse_complements(chunk, model.window()))
                .await?;
            out.extend(fwd.iter().zip(&back).map(|(a, b)| (a + b) / 2.0));
        } else {
            out.extend(fwd);
        }
    }
    Ok(out)
}

/// Predicts `windows` (`[n, 4, window]`) where `reference_of[i]` names the
/// window that window `i` is a variant of (or `None`). On the CPU, such
/// variant windows are predicted incrementally against their reference
/// (only the positions the change reaches are recomputed; equal to full
/// recomputation within float rounding); on the GPU all are predicted whole.
pub fn predict_with_references(
    model: &Model,
    windows: &[f32],
    reference_of: &[Option<usize>],
    opts: ScoreOptions,
) -> Result<Vec<f32>> {
    block_on(predict_with_references_async(
        model,
        windows,
        reference_of,
        opts,
    ))
}

/// [`predict_with_references`], awaiting the backend.
pub async fn predict_with_references_async(
    model: &Model,
    windows: &[f32],
    reference_of: &[Option<usize>],
    opts: ScoreOptions,
) -> Result<Vec<f32>> {
    let per = 4 * model.window();
    let n = windows.len() / per;
    if reference_of.len() != n {
        return Err(Error::Prediction(format!(
            "{} reference links for {n} windows",
            reference_of.len()
        )));
    }
    if model.on_gpu() {
        return predict_windows_async(model, windows, opts).await;
    }
    let outputs = model.labels().len();
    let mut out = vec![0f32; n * outputs];
    let mut dependants: Vec<Vec<usize>> = vec![vec![]; n];
    let mut roots = vec![];
    for (i, r) in reference_of.iter().enumerate() {
        match r {
            Some(r) if *r < n && reference_of[*r].is_none() => dependants[*r].push(i),
            _ => roots.push(i),
        }
    }
    let rc_windows = if opts.rc_mean {
        reverse_complements(windows, model.window())
    } else {
        vec![]
    };
    // A few references at a time (their activations are kept while their variants run).
    for group in roots.chunks(opts.batch.clamp(1, 16)) {
        let mut passes = vec![windows];
        if opts.rc_mean {
            passes.push(&rc_windows);
        }
        for (pass, data) in passes.into_iter().enumerate() {
            let refs: Vec<f32> = group
                .iter()
                .flat_map(|&i| data[i * per..(i + 1) * per].iter().copied())
                .collect();
            let mut items: Vec<(usize, &[f32])> = vec![];
            let mut targets = vec![];
            for (k, &r) in group.iter().enumerate() {
                for &i in &dependants[r] {
                    items.push((k, &data[i * per..(i + 1) * per]));
                    targets.push(i);
                }
            }
            let (ref_probs, probs) = model.network.predict_incremental(&refs, &items)?;
            let scale = if opts.rc_mean { 0.5 } else { 1.0 };
            let rows = group.iter().zip(ref_probs.chunks(outputs));
            let rows = rows.chain(targets.iter().zip(probs.chunks(outputs)));
            for (&i, row) in rows {
                let dst = &mut out[i * outputs..(i + 1) * outputs];
                for (d, v) in dst.iter_mut().zip(row) {
                    if pass == 0 {
                        *d = v * scale;
                    } else {
                        *d += v * scale;
                    }
                }
            }
        }
    }
    Ok(out)
}
