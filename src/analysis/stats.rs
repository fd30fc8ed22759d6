//! The statistics of the paper's analyses, in the core so the page and the CLI
//! agree: Fisher's exact test, Spearman's rho, the Wilcoxon rank-sum /
//! Mann-Whitney U test, and mean +- SEM per score bin. Distributions come
//! from statrs; every tail probability is computed as a survival function
//! (never `1 - cdf`), so p-values stay accurate far below 1e-30.

use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::erf::erfc;

/// Average ranks (1-based), ties sharing the mean of their positions; also
/// returns the tie groups' sizes (for tie corrections).
pub fn rank_average(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = vec![];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && values[order[j]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j + 1) as f64 / 2.0; // mean of positions i+1 ..= j
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        if j - i > 1 {
            ties.push(j - i);
        }
        i = j;
    }
    (ranks, ties)
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    sxy / (sxx * syy).sqrt()
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spearman {
    pub n: usize,
    pub rho: f64,
    /// Two-sided, from the t distribution with n - 2 degrees of freedom (as scipy).
    pub p_value: f64,
    /// Share of pairs whose signs agree, over the pairs where both values are
    /// non-zero (an observed ln(ref/alt) of 0 has no direction); NaN if none.
    pub sign_agreement: f64,
    /// Share of all pairs with `sign(x) == sign(y)` (zero counting as its own sign).
    pub sign_agreement_all_pairs: f64,
}

/// Spearman's rank correlation of `x` and `y` (equal lengths, at least 3).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<Spearman> {
    let n = x.len();
    if n != y.len() || n < 3 {
        return None;
    }
    let rho = pearson(&rank_average(x).0, &rank_average(y).0);
    let df = (n - 2) as f64;
    let p_value = if rho.abs() >= 1.0 {
        0.0
    } else {
        let t = rho * (df / ((1.0 - rho) * (1.0 + rho))).sqrt();
        let dist = StudentsT::new(0.0, 1.0, df).expect("df > 0");
        (2.0 * dist.sf(t.abs())).min(1.0)
    };
    let agree = x
        .iter()
        .zip(y)
        .filter(|(a, b)| sign(**a) == sign(**b))
        .count();
    let (directed, directed_agree) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| sign(**a) != 0 && sign(**b) != 0)
        .fold((0usize, 0usize), |(n, k), (a, b)| {
            (n + 1, k + usize::from(sign(*a) == sign(*b)))
        });
    Some(Spearman {
        n,
        rho,
        p_value,
        sign_agreement: directed_agree as f64 / directed as f64,
        sign_agreement_all_pairs: agree as f64 / n as f64,
    })
}

fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RankSum {
    /// U statistic of the first group.
    pub u: f64,
    /// Two-sided, normal approximation with tie and continuity correction.
    pub p_value: f64,
}

/// Wilcoxon rank-sum / Mann-Whitney U test of `x` against `y`.
pub fn rank_sum(x: &[f64], y: &[f64]) -> Option<RankSum> {
    let (n1, n2) = (x.len() as f64, y.len() as f64);
    if x.is_empty() || y.is_empty() {
        return None;
    }
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = rank_average(&all);
    let r1: f64 = ranks[..x.len()].iter().sum();
    let u1 = r1 - n1 * (n1 + 1.0) / 2.0;
    let u2 = n1 * n2 - u1;
    let n = n1 + n2;
    let tie_term: f64 = ties.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)))).sqrt();
    let mu = n1 * n2 / 2.0;
    let p_value = if sigma == 0.0 {
        1.0
    } else {
        let z = (u1.max(u2) - mu - 0.5) / sigma;
        (erfc(z / std::f64::consts::SQRT_2)).min(1.0) // 2 * normal sf(z)
    };
    Some(RankSum { u: u1, p_value })
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Fisher {
    /// (a d) / (b c); infinite when b c = 0 and a d > 0, NaN when both are 0.
    pub odds_ratio: f64,
    pub p_two_sided: f64,
    /// P(a or more), for enrichment of the top-left cell.
    pub p_greater: f64,
}

/// Fisher's exact test of the 2x2 table [[a, b], [c, d]].
///
/// Works with hypergeometric weights relative to the mode, built by the
/// ratio recurrence in log space, so no factorial of 100,000 is ever formed
/// and tiny p-values keep full relative precision. Two-sided: the sum over
/// tables no more probable than the observed one (relative slack 1e-7, as scipy).
pub fn fisher_exact(table: [[u64; 2]; 2]) -> Fisher {
    let [[a, b], [c, d]] = table;
    let (r1, c1, n) = (a + b, a + c, a + b + c + d);
    let lo = (r1 + c1).saturating_sub(n);
    let hi = r1.min(c1);
    // log weight of x relative to x = lo: ratio w(x+1)/w(x) = (r1-x)(c1-x) / ((x+1)(n-r1-c1+x+1)).
    let mut logw = Vec::with_capacity((hi - lo + 1) as usize);
    let mut acc = 0.0f64;
    logw.push(0.0);
    for x in lo..hi {
        let num = ((r1 - x) as f64).ln() + ((c1 - x) as f64).ln();
        let den = ((x + 1) as f64).ln() + ((n - r1 - c1 + x + 1) as f64).ln();
        acc += num - den;
        logw.push(acc);
    }
    let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logw.iter().map(|l| (l - max).exp()).collect();
    let total: f64 = w.iter().sum();
    let obs = (a - lo) as usize;
    let threshold = logw[obs] + (1.0 + 1e-7f64).ln();
    let two: f64 = w
        .iter()
        .zip(&logw)
        .filter(|(_, l)| **l <= threshold)
        .map(|(v, _)| v)
        .sum();
    let greater: f64 = w[obs..].iter().sum();
    let odds_ratio = if b * c == 0 {
        if a * d == 0 {
            f64::NAN
        } else {
            f64::INFINITY
        }
    } else {
        (a as f64 * d as f64) / (b as f64 * c as f64)
    };
    Fisher {
        odds_ratio,
        p_two_sided: (two / total).min(1.0),
        p_greater: (greater / total).min(1.0),
    }
}

/// Mean and standard error (n - 1) of the values in one score bin.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Bin {
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    pub mean: f64,
    pub sem: f64,
}

/// The paper's score bins: [0, .05) [.05, .1) [.1, .15) [.15, .2) [.2, 1].
pub const SCORE_BINS: [(f64, f64); 5] = [
    (0.0, 0.05),
    (0.05, 0.1),
    (0.1, 0.15),
    (0.15, 0.2),
    (0.2, 1.0),
];

/// Mean +- SEM of `values` grouped by `scores` into `bins` (each [lo, hi),
/// the last [lo, hi]). Empty bins get NaN mean and SEM; single-value bins NaN SEM.
pub fn binned_means(scores: &[f64], values: &[f64], bins: &[(f64, f64)]) -> Vec<Bin> {
    bins.iter()
        .enumerate()
        .map(|(i, &(lo, hi))| {
            let last = i + 1 == bins.len();
            let v: Vec<f64> = scores
                .iter()
                .zip(values)
                .filter(|(s, _)| **s >= lo && (**s < hi || (last && **s <= hi)))
                .map(|(_, v)| *v)
                .collect();
            let n = v.len();
            let mean = v.iter().sum::<f64>() / n as f64;
            let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            Bin {
                lo,
                hi,
                n,
                mean,
                sem: if n > 1 {
                    (var / n as f64).sqrt()
                } else {
                    f64::NAN
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_with_ties() {
        let (r, t) = rank_average(&[10.0, 20.0, 10.0, 30.0, 20.0, 20.0]);
        assert_eq!(r, vec![1.5, 4.0, 1.5, 6.0, 4.0, 4.0]);
        assert_eq!(t, vec![2, 3]);
    }

    #[test]
    fn fisher_small_table_by_hand() {
        // [[3, 1], [1, 3]]: hypergeometric over x = 0..4 with weights 1, 16, 36, 16, 1 (of 70).
        let f = fisher_exact([[3, 1], [1, 3]]);
        assert!((f.p_greater - 17.0 / 70.0).abs() < 1e-15);
        assert!((f.p_two_sided - 34.0 / 70.0).abs() < 1e-15);
        assert_eq!(f.odds_ratio, 9.0);
    }
}
