//! The paper's four analyses of one profile's scores against annotations the
//! user supplies (never uploaded): enrichment of labelled variants among the top
//! N by `abs_diff`, direction (predicted `log_ratio` against observed allelic
//! imbalance), constraint (GERP of the top N against the rest) and selection
//! (MAF by score bin).

use std::collections::HashMap;
use std::io::BufRead;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::stats::{binned_means, fisher_exact, rank_sum, spearman, Bin, SCORE_BINS};

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

/// Annotations by key: the variant `id`, or `chrom:pos:ref:alt`.
pub type Annotations = HashMap<String, Annotation>;

/// Reads an annotations TSV: a header naming `id` (or `key`, or `chrom pos ref
/// alt` columns) and any of `label ref_reads alt_reads gerp maf p_value pip`.
/// Empty cells and `.`/`NA` are missing values; other non-numbers are errors
/// naming the line and column.
pub fn read_annotations<R: BufRead>(reader: R, source_name: &str) -> Result<Annotations> {
    let mut lines = reader.lines().enumerate();
    let header: Vec<String> = match lines.next() {
        Some((_, Ok(h))) => h
            .trim_end_matches('\r')
            .split('\t')
            .map(|s| s.trim().to_string())
            .collect(),
        Some((_, Err(e))) => return Err(Error::input(source_name, e)),
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
    for (i, line) in lines {
        let line = line.map_err(|e| Error::input(source_name, e))?;
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
                        format!("line {}: {name} `{v}` is not a number", i + 1),
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
                    format!("line {}: label `{v}` is not 0 or 1", i + 1),
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
                _ => return Err(Error::input(source_name, format!("line {}: no id", i + 1))),
            },
        };
        out.insert(key, a);
    }
    Ok(out)
}

/// One scored allele of the chosen profile, from a `score` TSV.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredVariant {
    pub id: String,
    pub locus: String,
    pub abs_diff: f64,
    pub log_ratio: Option<f64>,
}

/// Reads the scored rows (`ok`, `ref_mismatch`) of one profile from the TSV
/// that `brain-resnet score` writes; it needs `abs_diff:PROFILE`.
pub fn read_scores_tsv<R: BufRead>(
    reader: R,
    profile: &str,
    source_name: &str,
) -> Result<Vec<ScoredVariant>> {
    let mut lines = reader.lines();
    let header: Vec<String> = match lines.next() {
        Some(Ok(h)) => h.split('\t').map(String::from).collect(),
        Some(Err(e)) => return Err(Error::input(source_name, e)),
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
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| Error::input(source_name, e))?;
        if line.is_empty() {
            continue;
        }
        let c: Vec<&str> = line.split('\t').collect();
        if c.len() != header.len() {
            return Err(Error::input(
                source_name,
                format!(
                    "line {}: {} columns, the header has {}",
                    i + 2,
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
                    format!("line {}: `{}` is not a number", i + 2, c[k]),
                )
            })
        };
        out.push(ScoredVariant {
            id: c[id].to_string(),
            locus: format!("{}:{}:{}:{}", c[chrom], c[pos], c[r], c[alt]),
            abs_diff: parse(abs)?,
            log_ratio: lr.map(parse).transpose()?,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Enrichment {
    pub hits: usize,
    pub odds_ratio: f64,
    /// 95 % interval of the odds ratio (Woolf, log scale; 0.5 added to every
    /// cell when one is zero).
    pub odds_ratio_ci95: [f64; 2],
    pub p_value: f64,
    pub fold: f64,
    /// [[labelled top, unlabelled top], [labelled rest, unlabelled rest]]
    pub table: [[u64; 2]; 2],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Direction {
    pub n: usize,
    pub spearman_rho: f64,
    pub p_value: f64,
    pub sign_agreement: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Constraint {
    pub u: f64,
    pub p_value: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub profile: String,
    pub top: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Enrichment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<Vec<Bin>>,
}

/// Runs every analysis whose annotation columns are present. `top` defaults
/// to 10 % of the scored variants (at least 1). Variants are ranked by
/// `abs_diff` descending, ties kept in input order.
pub fn analyze(
    profile: &str,
    variants: &[ScoredVariant],
    ann: &Annotations,
    top: Option<usize>,
) -> Report {
    let find = |v: &ScoredVariant| ann.get(&v.id).or_else(|| ann.get(&v.locus));
    let mut ranked: Vec<(&ScoredVariant, Option<&Annotation>)> =
        variants.iter().map(|v| (v, find(v))).collect();
    ranked.sort_by(|a, b| b.0.abs_diff.total_cmp(&a.0.abs_diff)); // stable: ties keep input order
    let top = top.unwrap_or_else(|| variants.len().div_ceil(10)).max(1);

    let labelled: Vec<(usize, bool)> = ranked
        .iter()
        .enumerate()
        .filter_map(|(rank, (_, a))| a.and_then(|a| a.label).map(|l| (rank, l)))
        .collect();
    let enrichment = (!labelled.is_empty()).then(|| {
        let (mut t, mut r) = ([0u64; 2], [0u64; 2]);
        for &(rank, l) in &labelled {
            let row = if rank < top { &mut t } else { &mut r };
            row[usize::from(!l)] += 1;
        }
        let f = fisher_exact([t, r]);
        let fold = (t[0] as f64 / (t[0] + t[1]) as f64) / (r[0] as f64 / (r[0] + r[1]) as f64);
        let cells = [t[0], t[1], r[0], r[1]].map(|c| c as f64);
        let cells = if cells.contains(&0.0) {
            cells.map(|c| c + 0.5)
        } else {
            cells
        };
        let log_or = (cells[0] * cells[3] / (cells[1] * cells[2])).ln();
        let se = cells.iter().map(|c| 1.0 / c).sum::<f64>().sqrt();
        Enrichment {
            hits: t[0] as usize,
            odds_ratio: f.odds_ratio,
            odds_ratio_ci95: [(log_or - 1.96 * se).exp(), (log_or + 1.96 * se).exp()],
            p_value: f.p_two_sided,
            fold,
            table: [t, r],
        }
    });

    let (mut obs, mut pred) = (vec![], vec![]);
    for (v, a) in &ranked {
        if let (Some(a), Some(lr)) = (a, v.log_ratio) {
            if let (Some(r), Some(al)) = (a.ref_reads, a.alt_reads) {
                if r > 0.0 && al > 0.0 {
                    obs.push((r / al).ln());
                    pred.push(lr);
                }
            }
        }
    }
    let direction = spearman(&obs, &pred).map(|s| Direction {
        n: s.n,
        spearman_rho: s.rho,
        p_value: s.p_value,
        sign_agreement: s.sign_agreement,
    });

    let (mut g_top, mut g_rest) = (vec![], vec![]);
    for (rank, (_, a)) in ranked.iter().enumerate() {
        if let Some(g) = a.and_then(|a| a.gerp) {
            if rank < top {
                g_top.push(g)
            } else {
                g_rest.push(g)
            }
        }
    }
    let constraint = rank_sum(&g_top, &g_rest).map(|r| Constraint {
        u: r.u,
        p_value: r.p_value,
    });

    let (mut scores, mut mafs) = (vec![], vec![]);
    for (v, a) in &ranked {
        if let Some(m) = a.and_then(|a| a.maf) {
            scores.push(v.abs_diff);
            mafs.push(m);
        }
    }
    let selection = (!mafs.is_empty()).then(|| binned_means(&scores, &mafs, &SCORE_BINS));

    Report {
        profile: profile.to_string(),
        top,
        enrichment,
        direction,
        constraint,
        selection,
    }
}

/// The scored alleles of profile `index` from scoring results, with scores
/// rounded to f32 as the TSV writes them (so page and CLI rank identically).
pub fn variants_from_records(
    records: &[crate::scores::RecordResult],
    index: usize,
) -> Vec<ScoredVariant> {
    use crate::scores::Score;
    records
        .iter()
        .flat_map(|r| {
            r.alleles.iter().filter_map(move |a| {
                let (rp, ap) = a.probs.as_ref()?;
                let (x, y) = (*rp.get(index)?, *ap.get(index)?);
                Some(ScoredVariant {
                    id: r.id.clone(),
                    locus: format!("{}:{}:{}:{}", r.chrom, r.pos, r.reference, a.alt),
                    abs_diff: Score::AbsDiff.value(x, y) as f32 as f64,
                    log_ratio: Some(Score::LogRatio.value(x, y) as f32 as f64),
                })
            })
        })
        .collect()
}
