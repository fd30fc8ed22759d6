//! Known transcription-factor motifs in a window: log-odds scan of JASPAR
//! count matrices on both strands, with exact p-values (the score's
//! distribution under a uniform background, by dynamic programming over
//! scores rounded to 0.01 nats, as FIMO computes them). The allelic-effect
//! track draws the hits under the per-base effects, so a variant that breaks a
//! known site can be named.
//!
//! Written here rather than taken from a crate: the scan is forty lines and
//! the crates that read JASPAR (e.g. for Python, pyjaspar) do not scan in
//! Rust or build for wasm32.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The motif set shipped with the crate: JASPAR 2024 CORE vertebrate matrices
/// of brain and development factors (training/motifs.json, from pyjaspar).
pub const JASPAR_SUBSET: &str = include_str!("../../training/motifs.json");

/// The default p-value threshold of a hit (FIMO's).
pub const DEFAULT_P_VALUE: f64 = 1e-4;

/// Added to each count, spread equally over the four bases (pseudocounts).
const PSEUDOCOUNT: f64 = 1.0;
/// Scores are rounded to 1/SCALE nats for the exact p-values.
const SCALE: f64 = 100.0;

/// A position weight matrix: `scores[i][b]`, log-odds in nats of base
/// `b` (A, C, G, T) at position `i` against a uniform background, rounded to
/// 1/SCALE nats.
#[derive(Debug, Clone)]
pub struct Motif {
    pub name: String,
    pub matrix_id: String,
    scores: Vec<[i64; 4]>,
    /// `tail[s - min]`: probability of a score >= s under the background.
    tail: Vec<f64>,
    min: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub motif: String,
    pub matrix_id: String,
    /// 0-based start in the scanned sequence; the site is `start..start + len`.
    pub start: usize,
    pub len: usize,
    /// `+` or `-`.
    pub strand: char,
    /// Log-odds score, nats.
    pub score: f64,
    pub p_value: f64,
}

#[derive(Deserialize)]
struct MotifFile {
    motifs: std::collections::BTreeMap<String, MotifEntry>,
}

#[derive(Deserialize)]
struct MotifEntry {
    matrix_id: String,
    name: String,
    counts: std::collections::BTreeMap<String, Vec<f64>>,
}

/// Reads a motif file in the layout of training/motifs.json:
/// `{motifs: {KEY: {matrix_id, name, counts: {A: [..], C: [..], G: [..], T: [..]}}}}`.
pub fn read_motifs(json: &str, source: &str) -> Result<Vec<Motif>> {
    let file: MotifFile = serde_json::from_str(json)
        .map_err(|e| Error::input(source, format!("not a motif file: {e}")))?;
    file.motifs
        .into_values()
        .map(|m| {
            let rows: Vec<&Vec<f64>> = ["A", "C", "G", "T"]
                .iter()
                .map(|b| {
                    m.counts.get(*b).ok_or_else(|| {
                        Error::input(source, format!("motif {}: no counts for {b}", m.name))
                    })
                })
                .collect::<Result<_>>()?;
            let len = rows[0].len();
            if len == 0 || len > 64 || rows.iter().any(|r| r.len() != len) {
                return Err(Error::input(
                    source,
                    format!(
                        "motif {}: count rows must have one equal length from 1 to 64",
                        m.name
                    ),
                ));
            }
            let columns: Vec<[f64; 4]> = (0..len)
                .map(|i| [rows[0][i], rows[1][i], rows[2][i], rows[3][i]])
                .collect();
            Motif::from_counts(&m.name, &m.matrix_id, &columns)
                .map_err(|e| Error::input(source, format!("motif {}: {e}", m.name)))
        })
        .collect()
}

impl Motif {
    /// A motif from its count columns (A, C, G, T per position).
    pub fn from_counts(
        name: &str,
        matrix_id: &str,
        columns: &[[f64; 4]],
    ) -> std::result::Result<Motif, String> {
        let mut scores = Vec::with_capacity(columns.len());
        for c in columns {
            if c.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err("counts must be finite and not negative".into());
            }
            let n: f64 = c.iter().sum::<f64>() + PSEUDOCOUNT;
            let mut col = [0i64; 4];
            for b in 0..4 {
                let p = (c[b] + PSEUDOCOUNT / 4.0) / n;
                col[b] = ((p / 0.25).ln() * SCALE).round() as i64;
            }
            scores.push(col);
        }
        // The exact distribution of the score of a uniform random site.
        let min: i64 = scores.iter().map(|c| *c.iter().min().unwrap_or(&0)).sum();
        let max: i64 = scores.iter().map(|c| *c.iter().max().unwrap_or(&0)).sum();
        let span = (max - min) as usize + 1;
        let mut dist = vec![0f64; span];
        dist[0] = 1.0;
        let mut low = 0i64; // minimum of the columns so far
        let mut reach = 0usize; // highest index that can be non-zero
        for col in &scores {
            let cmin = *col.iter().min().unwrap_or(&0);
            let cmax = *col.iter().max().unwrap_or(&0);
            let mut next = vec![0f64; span];
            for (k, &p) in dist.iter().enumerate().take(reach + 1) {
                if p == 0.0 {
                    continue;
                }
                for &s in col {
                    next[k + (s - cmin) as usize] += p * 0.25;
                }
            }
            low += cmin;
            reach += (cmax - cmin) as usize;
            dist = next;
        }
        debug_assert_eq!(low, min);
        let mut tail = vec![0f64; span];
        let mut acc = 0.0;
        for k in (0..span).rev() {
            acc += dist[k];
            tail[k] = acc.min(1.0);
        }
        Ok(Motif {
            name: name.to_string(),
            matrix_id: matrix_id.to_string(),
            scores,
            tail,
            min,
        })
    }

    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    /// P(score >= `s`) of a uniform random site.
    fn p_value(&self, s: i64) -> f64 {
        if s <= self.min {
            return 1.0;
        }
        self.tail
            .get((s - self.min) as usize)
            .copied()
            .unwrap_or(0.0)
    }

    /// Integer score of the site at `seq[at..at + len]` on `strand`; None
    /// where the site holds a base that is not A, C, G or T.
    fn site_score(&self, seq: &[u8], at: usize, reverse: bool) -> Option<i64> {
        let n = self.scores.len();
        let mut s = 0;
        for i in 0..n {
            let b = base_index(seq[at + i])?;
            s += if reverse {
                self.scores[n - 1 - i][3 - b]
            } else {
                self.scores[i][b]
            };
        }
        Some(s)
    }

    /// The sites of `seq` (either strand) with a p-value at most `p`.
    pub fn scan(&self, seq: &[u8], p: f64) -> Vec<Hit> {
        let n = self.scores.len();
        let mut hits = vec![];
        if seq.len() < n {
            return hits;
        }
        for at in 0..=seq.len() - n {
            for (reverse, strand) in [(false, '+'), (true, '-')] {
                if let Some(s) = self.site_score(seq, at, reverse) {
                    let pv = self.p_value(s);
                    if pv <= p {
                        hits.push(Hit {
                            motif: self.name.clone(),
                            matrix_id: self.matrix_id.clone(),
                            start: at,
                            len: n,
                            strand,
                            score: s as f64 / SCALE,
                            p_value: pv,
                        });
                    }
                }
            }
        }
        hits
    }
}

fn base_index(b: u8) -> Option<usize> {
    match b.to_ascii_uppercase() {
        b'A' => Some(0),
        b'C' => Some(1),
        b'G' => Some(2),
        b'T' => Some(3),
        _ => None,
    }
}

/// Every motif's hits in `seq` at p-value at most `p`, by start, then p-value.
pub fn scan_all(motifs: &[Motif], seq: &[u8], p: f64) -> Vec<Hit> {
    let mut hits: Vec<Hit> = motifs.iter().flat_map(|m| m.scan(seq, p)).collect();
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(a.p_value.total_cmp(&b.p_value)));
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<Motif> {
        read_motifs(JASPAR_SUBSET, "training/motifs.json").unwrap()
    }

    /// The best-scoring site of a motif: its consensus.
    fn consensus(m: &Motif) -> Vec<u8> {
        m.scores
            .iter()
            .map(|c| b"ACGT"[(0..4).max_by_key(|&b| c[b]).unwrap()])
            .collect()
    }

    fn revcomp(s: &[u8]) -> Vec<u8> {
        s.iter()
            .rev()
            .map(|&b| match b {
                b'A' => b'T',
                b'C' => b'G',
                b'G' => b'C',
                _ => b'A',
            })
            .collect()
    }

    #[test]
    fn the_shipped_set_reads_and_its_p_values_are_a_distribution() {
        let motifs = shipped();
        assert_eq!(motifs.len(), 22);
        for m in &motifs {
            assert_eq!(m.p_value(m.min), 1.0);
            let best: i64 = m.scores.iter().map(|c| *c.iter().max().unwrap()).sum();
            // The consensus is among the best sites: found at the default threshold.
            let p = m.p_value(best);
            assert!(p > 0.0, "{}: {p}", m.name);
            if m.len() >= 8 {
                assert!(
                    p <= DEFAULT_P_VALUE,
                    "{} ({} bp): consensus p = {p}",
                    m.name,
                    m.len()
                );
            }
            assert!(
                m.tail.windows(2).all(|w| w[0] >= w[1]),
                "{}: tail not decreasing",
                m.name
            );
        }
    }

    #[test]
    fn a_planted_site_is_found_on_its_strand_and_nothing_in_its_absence() {
        let motifs = shipped();
        let ctcf = motifs.iter().find(|m| m.name == "CTCF").unwrap();
        let site = consensus(ctcf);
        // A background with no site: a repeat of one base hits nothing.
        let mut seq = vec![b'A'; 200];
        assert!(ctcf.scan(&seq, DEFAULT_P_VALUE).is_empty());
        seq[50..50 + site.len()].copy_from_slice(&site);
        let rc = revcomp(&site);
        seq[120..120 + site.len()].copy_from_slice(&rc);
        let hits = ctcf.scan(&seq, DEFAULT_P_VALUE);
        let at = |start, strand| hits.iter().any(|h| h.start == start && h.strand == strand);
        assert!(at(50, '+'), "{hits:?}");
        assert!(at(120, '-'), "{hits:?}");
        assert!(hits
            .iter()
            .all(|h| h.p_value <= DEFAULT_P_VALUE && h.len == site.len()));
        // The same site on either strand scores the same.
        let plus = hits
            .iter()
            .find(|h| h.start == 50 && h.strand == '+')
            .unwrap();
        let minus = hits
            .iter()
            .find(|h| h.start == 120 && h.strand == '-')
            .unwrap();
        assert_eq!(plus.score, minus.score);
        // N inside a site: no hit there.
        seq[52] = b'N';
        assert!(!ctcf
            .scan(&seq, DEFAULT_P_VALUE)
            .iter()
            .any(|h| h.start == 50 && h.strand == '+'));
    }

    #[test]
    fn p_values_match_a_brute_force_count_for_a_short_motif() {
        let columns = [
            [10.0, 0.0, 0.0, 0.0],
            [0.0, 5.0, 5.0, 0.0],
            [1.0, 1.0, 1.0, 7.0],
        ];
        let m = Motif::from_counts("toy", "X", &columns).unwrap();
        let mut scores = vec![];
        for a in 0..4 {
            for b in 0..4 {
                for c in 0..4 {
                    scores.push(m.scores[0][a] + m.scores[1][b] + m.scores[2][c]);
                }
            }
        }
        for &s in &scores {
            let want = scores.iter().filter(|&&x| x >= s).count() as f64 / 64.0;
            assert!(
                (m.p_value(s) - want).abs() < 1e-12,
                "score {s}: {} vs {want}",
                m.p_value(s)
            );
        }
    }

    #[test]
    fn bad_motif_files_are_errors_naming_the_file() {
        let e = read_motifs("{}", "m.json").unwrap_err().to_string();
        assert!(
            e.contains("m.json") && e.contains("not a motif file"),
            "{e}"
        );
        let ragged = r#"{"motifs": {"X": {"matrix_id": "1", "name": "X", "counts": {"A": [1, 2], "C": [1], "G": [1, 2], "T": [1, 2]}}}}"#;
        let e = read_motifs(ragged, "m.json").unwrap_err().to_string();
        assert!(e.contains("motif X") && e.contains("equal length"), "{e}");
        let missing = r#"{"motifs": {"X": {"matrix_id": "1", "name": "X", "counts": {"A": [1], "C": [1], "G": [1]}}}}"#;
        assert!(read_motifs(missing, "m.json")
            .unwrap_err()
            .to_string()
            .contains("no counts for T"));
    }
}
