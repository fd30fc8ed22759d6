//! The scores the analyses rank: from a `brain-resnet score` TSV (CLI) or
//! from scoring results in memory (page), rounded alike so both rank the same.

use std::io::BufRead;

use crate::error::{Error, Result};
use crate::io::lines::TableLines;
use crate::scoring::{RecordResult, Score, Status};

/// One scored allele of the chosen profile, from a `score` TSV.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredVariant {
    pub id: String,
    pub locus: String,
    pub abs_diff: f64,
    pub log_ratio: Option<f64>,
    /// Scored although REF differs from the genome (status `ref_mismatch`).
    pub ref_mismatch: bool,
}

/// Drops the `ref_mismatch` variants; returns the rest and how many were dropped.
pub fn exclude_ref_mismatch(variants: Vec<ScoredVariant>) -> (Vec<ScoredVariant>, usize) {
    let n = variants.len();
    let kept: Vec<ScoredVariant> = variants.into_iter().filter(|v| !v.ref_mismatch).collect();
    let dropped = n - kept.len();
    (kept, dropped)
}

/// Reads the scored rows (`ok`, `ref_mismatch`) of one profile from the TSV
/// that `brain-resnet score` writes; it needs `abs_diff:PROFILE`.
pub fn read_scores_tsv<R: BufRead>(
    reader: R,
    profile: &str,
    source_name: &str,
) -> Result<Vec<ScoredVariant>> {
    let mut lines = TableLines::new(reader, source_name);
    let header: Vec<String> = match lines.next().transpose()? {
        Some((_, h)) => h.split('\t').map(String::from).collect(),
        None => return Err(Error::input(source_name, "empty file")),
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let need = |name: &str| {
        col(name).ok_or_else(|| {
            Error::input(
                source_name,
                format!("no `{name}` column (is this a `brain-resnet score` TSV?)"),
            )
        })
    };
    let (chrom, pos, id, r, alt, status) = (
        need("chrom")?,
        need("pos")?,
        need("id")?,
        need("ref")?,
        need("alt")?,
        need("status")?,
    );
    let abs = col(&format!("abs_diff:{profile}")).ok_or_else(|| {
        let profiles: Vec<&str> = header
            .iter()
            .filter_map(|h| h.strip_prefix("abs_diff:"))
            .collect();
        Error::input(
            source_name,
            if profiles.is_empty() {
                "no abs_diff columns: score with --scores including abs_diff".to_string()
            } else {
                format!("no profile `{profile}` (profiles: {})", profiles.join(", "))
            },
        )
    })?;
    let lr = col(&format!("log_ratio:{profile}"));
    let mut out = vec![];
    for item in lines {
        let (line_no, line) = item?;
        if line.is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() != header.len() {
            return Err(Error::input(
                source_name,
                format!(
                    "line {}: {} columns, the header has {}",
                    line_no,
                    c.len(),
                    header.len()
                ),
            ));
        }
        if !matches!(c[status], "ok" | "ref_mismatch") {
            continue;
        }
        let parse = |k: usize| {
            c[k].parse::<f64>().map_err(|_| {
                Error::input(
                    source_name,
                    format!("line {}: `{}` is not a number", line_no, c[k]),
                )
            })
        };
        out.push(ScoredVariant {
            id: c[id].to_string(),
            locus: format!("{}:{}:{}:{}", c[chrom], c[pos], c[r], c[alt]),
            abs_diff: parse(abs)?,
            log_ratio: lr.map(parse).transpose()?,
            ref_mismatch: c[status] == "ref_mismatch",
        });
    }
    Ok(out)
}

/// The scored alleles of profile `index` from scoring results, with scores
/// rounded to f32 as the TSV writes them (so page and CLI rank identically).
pub fn variants_from_records(records: &[RecordResult], index: usize) -> Vec<ScoredVariant> {
    scored_alleles(records, index).map(|(_, _, v)| v).collect()
}

/// [`variants_from_records`] with where each came from: (record index,
/// allele index, variant), in input order.
pub fn scored_alleles(
    records: &[RecordResult],
    index: usize,
) -> impl Iterator<Item = (usize, usize, ScoredVariant)> + '_ {
    records.iter().enumerate().flat_map(move |(ri, r)| {
        r.alleles.iter().enumerate().filter_map(move |(ai, a)| {
            let (rp, ap) = a.probs.as_ref()?;
            let (x, y) = (*rp.get(index)?, *ap.get(index)?);
            Some((
                ri,
                ai,
                ScoredVariant {
                    id: r.id.clone(),
                    locus: format!("{}:{}:{}:{}", r.chrom, r.pos, r.reference, a.alt),
                    abs_diff: Score::AbsDiff.value(x, y) as f32 as f64,
                    log_ratio: Some(Score::LogRatio.value(x, y) as f32 as f64),
                    ref_mismatch: a.status == Status::RefMismatch,
                },
            ))
        })
    })
}
