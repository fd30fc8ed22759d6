//! REF/ALT sequence pairs given directly (`--pairs`), no genome needed.

use std::io::BufRead;

use serde::Serialize;

use super::predict::{predict_windows, ScoreOptions};
use super::status::Status;
use crate::error::{Error, Result};
use crate::io::pairs::{PairLine, PairsReader};
use crate::model::Model;
use crate::window::encode_into;

/// A REF/ALT sequence pair given directly (`--pairs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairResult {
    pub line: usize,
    pub name: String,
    pub status: Status,
    pub message: Option<String>,
    pub probs: Option<(Vec<f32>, Vec<f32>)>,
}

/// Scores a TSV of `name<TAB>ref_sequence<TAB>alt_sequence` lines (a header
/// line starting with `name` is skipped; `#` lines are comments).
pub fn score_pairs<R: BufRead>(
    model: &Model,
    reader: R,
    source_name: &str,
    opts: ScoreOptions,
    sink: &mut dyn FnMut(PairResult) -> Result<()>,
) -> Result<usize> {
    let per = 4 * model.window();
    let n_out = model.labels().len();
    let mut pending: Vec<PairResult> = vec![];
    let mut windows: Vec<f32> = vec![];
    let mut count = 0;
    let flush = |pending: &mut Vec<PairResult>,
                 windows: &mut Vec<f32>,
                 sink: &mut dyn FnMut(PairResult) -> Result<()>|
     -> Result<()> {
        let probs = if windows.is_empty() {
            vec![]
        } else {
            predict_windows(model, windows, opts)?
        };
        let mut w = 0;
        for mut p in pending.drain(..) {
            if p.status.scored() {
                let row = |i: usize| probs[i * n_out..(i + 1) * n_out].to_vec();
                p.probs = Some((row(w), row(w + 1)));
                w += 2;
            }
            sink(p)?;
        }
        windows.clear();
        Ok(())
    };
    for item in PairsReader::new(reader, source_name) {
        count += 1;
        let result = match item? {
            PairLine::Invalid {
                line,
                name,
                message,
            } => PairResult {
                line,
                name,
                status: Status::InvalidRecord,
                message: Some(message),
                probs: None,
            },
            PairLine::Pair {
                line,
                name,
                reference,
                alternate,
            } => {
                let start = windows.len();
                windows.resize(start + 2 * per, 0.0);
                let enc = encode_into(
                    &name,
                    &reference,
                    model.window(),
                    &mut windows[start..start + per],
                )
                .and_then(|_| {
                    encode_into(
                        &name,
                        &alternate,
                        model.window(),
                        &mut windows[start + per..],
                    )
                });
                let (status, message) = match enc {
                    Ok(()) => (Status::Ok, None),
                    Err(e) => {
                        windows.truncate(start);
                        (Status::InvalidSequence, Some(format!("line {line}: {e}")))
                    }
                };
                PairResult {
                    line,
                    name,
                    status,
                    message,
                    probs: None,
                }
            }
        };
        pending.push(result);
        if windows.len() / per >= opts.batch.max(1) * 4 {
            flush(&mut pending, &mut windows, sink)?;
        }
    }
    flush(&mut pending, &mut windows, sink)?;
    if count == 0 {
        return Err(Error::input(
            source_name,
            "no sequence pairs (expected name<TAB>ref<TAB>alt lines)",
        ));
    }
    Ok(count)
}
