//! REF/ALT sequence pairs given directly (`--pairs`), no genome needed.

use std::io::BufRead;

use serde::Serialize;

use super::predict::{predict_windows, ScoreOptions};
use super::status::Status;
use crate::error::{Error, Result};
use crate::io::lines::{read_line_capped, Capped, MAX_LINE_BYTES};
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
    let mut reader = reader;
    let mut buf = vec![];
    let mut line_no = 0;
    loop {
        let read = read_line_capped(&mut reader, &mut buf, MAX_LINE_BYTES)
            .map_err(|e| Error::input(source_name, format!("after line {line_no}: {e}")))?;
        line_no += 1;
        let too_long = match read {
            None => break,
            Some(Capped::Line) => None,
            Some(Capped::TooLong(bytes)) => Some(bytes),
        };
        if let Some(bytes) = too_long {
            count += 1;
            pending.push(PairResult {
                line: line_no,
                name: String::new(),
                status: Status::InvalidRecord,
                message: Some(format!(
                    "line {line_no}: {bytes} bytes, longer than the {} MiB a line may have: skipped",
                    MAX_LINE_BYTES >> 20
                )),
                probs: None,
            });
            continue;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.as_ref();
        if line.trim().is_empty()
            || line.starts_with('#')
            || (line_no == 1 && line.starts_with("name\t"))
        {
            continue;
        }
        count += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        let mut result = PairResult {
            line: line_no,
            name: cols[0].to_string(),
            status: Status::Ok,
            message: None,
            probs: None,
        };
        if cols.len() < 3 {
            result.status = Status::InvalidRecord;
            result.message = Some(format!(
                "line {line_no}: {} columns, need 3 (name, ref_sequence, alt_sequence)",
                cols.len()
            ));
        } else {
            let start = windows.len();
            windows.resize(start + 2 * per, 0.0);
            let enc = encode_into(
                cols[0],
                cols[1].as_bytes(),
                model.window(),
                &mut windows[start..start + per],
            )
            .and_then(|_| {
                encode_into(
                    cols[0],
                    cols[2].as_bytes(),
                    model.window(),
                    &mut windows[start + per..],
                )
            });
            if let Err(e) = enc {
                windows.truncate(start);
                result.status = Status::InvalidSequence;
                result.message = Some(format!("line {line_no}: {e}"));
            }
        }
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
