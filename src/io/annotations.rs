//! What the user knows about their variants (labels, allelic reads, GERP,
//! MAF, GWAS p-values and PIPs): a TSV read in place, never uploaded.

use std::collections::HashMap;
use std::io::BufRead;

use serde::Serialize;

use super::lines::TableLines;
use crate::error::{Error, Result};

/// What the user knows about a variant; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Annotation {
    pub label: Option<bool>,
    pub ref_reads: Option<f64>,
    pub alt_reads: Option<f64>,
    pub gerp: Option<f64>,
    pub maf: Option<f64>,
    pub p_value: Option<f64>,
    pub pip: Option<f64>,
}

impl Annotation {
    /// Observed allelic imbalance `ln(ref_reads / alt_reads)`, when both are
    /// positive: what the direction analysis compares with `log_ratio`.
    pub fn imbalance(&self) -> Option<f64> {
        match (self.ref_reads, self.alt_reads) {
            (Some(r), Some(a)) if r > 0.0 && a > 0.0 => Some((r / a).ln()),
            _ => None,
        }
    }
}

/// Annotations by key: the variant `id`, or `chrom:pos:ref:alt`.
pub type Annotations = HashMap<String, Annotation>;

/// Reads an annotations TSV: a header naming `id` (or `key`, or `chrom pos ref
/// alt` columns) and any of `label ref_reads alt_reads gerp maf p_value pip`.
/// Empty cells and `.`/`NA` are missing values; other non-numbers are errors
/// naming the line and column.
pub fn read_annotations<R: BufRead>(reader: R, source_name: &str) -> Result<Annotations> {
    let mut lines = TableLines::new(reader, source_name);
    let header: Vec<String> = match lines.next().transpose()? {
        Some((_, h)) => h
            .trim_end_matches('\r')
            .split('\t')
            .map(|s| s.trim().to_string())
            .collect(),
        None => {
            return Err(Error::input(
                source_name,
                "empty file (expected a header line)",
            ))
        }
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let id_col = col("id").or_else(|| col("key"));
    let locus = (col("chrom"), col("pos"), col("ref"), col("alt"));
    if id_col.is_none() && !matches!(locus, (Some(_), Some(_), Some(_), Some(_))) {
        return Err(Error::input(
            source_name,
            "the header names no `id` column (nor `chrom pos ref alt`) to match variants by",
        ));
    }
    let fields = [
        "label",
        "ref_reads",
        "alt_reads",
        "gerp",
        "maf",
        "p_value",
        "pip",
    ];
    if !fields.iter().any(|f| col(f).is_some()) {
        return Err(Error::input(
            source_name,
            format!(
                "no annotation columns (expected any of {})",
                fields.join(", ")
            ),
        ));
    }
    let mut out = Annotations::new();
    for item in lines {
        let (line_no, line) = item?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |c: Option<usize>| {
            c.and_then(|c| cells.get(c))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty() && *s != "." && *s != "NA")
        };
        let num = |name: &str| -> Result<Option<f64>> {
            match cell(col(name)) {
                None => Ok(None),
                Some(v) => v.parse::<f64>().map(Some).map_err(|_| {
                    Error::input(
                        source_name,
                        format!("line {}: {name} `{v}` is not a number", line_no),
                    )
                }),
            }
        };
        let label = match num("label")? {
            None => None,
            Some(v) if v == 0.0 || v == 1.0 => Some(v == 1.0),
            Some(v) => {
                return Err(Error::input(
                    source_name,
                    format!("line {}: label `{v}` is not 0 or 1", line_no),
                ))
            }
        };
        let a = Annotation {
            label,
            ref_reads: num("ref_reads")?,
            alt_reads: num("alt_reads")?,
            gerp: num("gerp")?,
            maf: num("maf")?,
            p_value: num("p_value")?,
            pip: num("pip")?,
        };
        let key = match id_col.and_then(|c| cell(Some(c))) {
            Some(id) => id.to_string(),
            None => match locus {
                (Some(c), Some(p), Some(r), Some(al)) => {
                    let get = |k: usize| cells.get(k).copied().unwrap_or("");
                    format!("{}:{}:{}:{}", get(c), get(p), get(r), get(al))
                }
                _ => {
                    return Err(Error::input(
                        source_name,
                        format!("line {}: no id", line_no),
                    ))
                }
            },
        };
        out.insert(key, a);
    }
    Ok(out)
}
