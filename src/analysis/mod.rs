//! The paper's four analyses of one profile's scores against annotations the
//! user supplies (never uploaded): enrichment of labelled variants among the top
//! N by `abs_diff`, direction (predicted `log_ratio` against observed allelic
//! imbalance), constraint (GERP of the top N against the rest) and selection
//! (MAF by score bin).

use serde::Serialize;

pub mod inputs;
pub mod motifs;
pub mod stats;

pub use inputs::{
    exclude_ref_mismatch, read_scores_tsv, scored_alleles, variants_from_records, ScoredVariant,
};

use crate::io::annotations::{Annotation, Annotations};
use stats::{binned_means, fisher_exact, rank_sum, spearman, Bin, SCORE_BINS};

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
    /// Share of variants whose predicted and observed directions agree, over
    /// those where both are non-zero (an observed ln(ref/alt) of 0 has none).
    pub sign_agreement: f64,
    /// The same share over all pairs (a zero counting as its own sign).
    pub sign_agreement_all_pairs: f64,
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
    /// Variants analysed, and how many of them were scored although their REF
    /// differs from the genome (`ref_mismatch`: included unless excluded).
    pub variants: usize,
    pub ref_mismatch: usize,
    /// `ref_mismatch` variants left out at the user's request (the caller sets it).
    pub ref_mismatch_excluded: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Enrichment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<Vec<Bin>>,
}

/// The variants with their annotations (by `id`, else `chrom:pos:ref:alt`),
/// ranked by `abs_diff` descending, ties in input order: indices into
/// `variants`. The analyses rank with it, and so does the page's figures.
pub fn rank<'a>(
    variants: &[ScoredVariant],
    ann: &'a Annotations,
) -> Vec<(usize, Option<&'a Annotation>)> {
    let mut ranked: Vec<(usize, Option<&Annotation>)> = variants
        .iter()
        .enumerate()
        .map(|(i, v)| (i, ann.get(&v.id).or_else(|| ann.get(&v.locus))))
        .collect();
    // Stable: ties keep input order.
    ranked.sort_by(|a, b| variants[b.0].abs_diff.total_cmp(&variants[a.0].abs_diff));
    ranked
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
    let ranked: Vec<(&ScoredVariant, Option<&Annotation>)> = rank(variants, ann)
        .into_iter()
        .map(|(i, a)| (&variants[i], a))
        .collect();
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
        if let (Some(observed), Some(lr)) = (a.and_then(Annotation::imbalance), v.log_ratio) {
            obs.push(observed);
            pred.push(lr);
        }
    }
    let direction = spearman(&obs, &pred).map(|s| Direction {
        n: s.n,
        spearman_rho: s.rho,
        p_value: s.p_value,
        sign_agreement: s.sign_agreement,
        sign_agreement_all_pairs: s.sign_agreement_all_pairs,
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
        variants: variants.len(),
        ref_mismatch: variants.iter().filter(|v| v.ref_mismatch).count(),
        ref_mismatch_excluded: 0,
        enrichment,
        direction,
        constraint,
        selection,
    }
}
