//! The scores of a variant, per profile, from its REF and ALT probabilities:
//! `ref`, `alt`, `diff = alt - ref`, `abs_diff`, `log_ratio = ln(ref / alt)`,
//! `logit_diff = logit(alt) - logit(ref)`. Defined here once; the page takes
//! them from this module through WebAssembly.

/// Probabilities are clamped to [EPS, 1 - EPS] before logs, so a saturated
/// f32 sigmoid (exactly 0 or 1) gives a finite score.
pub const PROB_EPS: f64 = 1e-7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Score {
    Ref,
    Alt,
    Diff,
    AbsDiff,
    LogRatio,
    LogitDiff,
}

impl Score {
    pub const ALL: [Score; 6] = [
        Score::Ref,
        Score::Alt,
        Score::Diff,
        Score::AbsDiff,
        Score::LogRatio,
        Score::LogitDiff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Score::Ref => "ref",
            Score::Alt => "alt",
            Score::Diff => "diff",
            Score::AbsDiff => "abs_diff",
            Score::LogRatio => "log_ratio",
            Score::LogitDiff => "logit_diff",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Score::Ref => "probability for the REF window",
            Score::Alt => "probability for the ALT window",
            Score::Diff => "alt - ref",
            Score::AbsDiff => "|alt - ref| (ranking score)",
            Score::LogRatio => "ln(ref / alt) (direction score)",
            Score::LogitDiff => "logit(alt) - logit(ref)",
        }
    }

    /// Parses a comma-separated list such as `abs_diff,log_ratio`.
    pub fn parse_list(list: &str) -> std::result::Result<Vec<Score>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                Score::ALL
                    .into_iter()
                    .find(|k| k.name() == s)
                    .ok_or_else(|| {
                        format!(
                            "unknown score `{s}` (choose from {})",
                            Score::ALL.map(Score::name).join(", ")
                        )
                    })
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .and_then(|v| {
                if v.is_empty() {
                    Err("no score given".into())
                } else {
                    Ok(v)
                }
            })
    }

    pub fn value(self, reference: f32, alternate: f32) -> f64 {
        let (r, a) = (reference as f64, alternate as f64);
        let clamp = |p: f64| p.clamp(PROB_EPS, 1.0 - PROB_EPS);
        let logit = |p: f64| (clamp(p) / (1.0 - clamp(p))).ln();
        match self {
            Score::Ref => r,
            Score::Alt => a,
            Score::Diff => a - r,
            Score::AbsDiff => (a - r).abs(),
            Score::LogRatio => (clamp(r) / clamp(a)).ln(),
            Score::LogitDiff => logit(a) - logit(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_definitions() {
        let (r, a) = (0.8f32, 0.2f32);
        let close = |x: f64, y: f64| (x - y).abs() < 1e-6;
        assert!(close(Score::Diff.value(r, a), -0.6));
        assert!(close(Score::AbsDiff.value(r, a), 0.6));
        assert!(close(Score::LogRatio.value(r, a), (4.0f64).ln()));
        assert!(close(
            Score::LogitDiff.value(r, a),
            (0.25f64).ln() - (4.0f64).ln()
        ));
        assert!(Score::LogRatio.value(1.0, 0.0).is_finite());
        assert!(Score::LogitDiff.value(0.0, 1.0).is_finite());
    }

    #[test]
    fn score_lists() {
        assert_eq!(
            Score::parse_list("abs_diff,log_ratio").unwrap(),
            vec![Score::AbsDiff, Score::LogRatio]
        );
        assert!(Score::parse_list("abs_diff,bogus")
            .unwrap_err()
            .contains("bogus"));
    }
}
