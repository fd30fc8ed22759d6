//! Variant scores: REF and ALT windows through the network, then per profile
//! `ref`, `alt`, `diff = alt - ref`, `abs_diff`, `log_ratio = ln(ref / alt)`,
//! `logit_diff = logit(alt) - logit(ref)`, all on the probability scale.
//!
//! [`VariantScorer`] streams VCF items in input order: records are gathered
//! into batches of windows, predicted, and handed to a sink one by one, so
//! memory stays bounded whatever the VCF's size. Every record and ALT comes
//! out, with a [`Status`] saying whether and why not it was scored.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::genome::Genome;
use crate::model::Model;
use crate::variants::{classify_alt, ContigResolver, Status, VcfItem};
use crate::window::{
    allele_windows, encode_into, reverse_complements, variant_fetch_len, variant_offset,
};

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

/// One ALT of a record and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlleleResult {
    pub alt: String,
    pub status: Status,
    /// Details for users (why a record was not scored), if any.
    pub message: Option<String>,
    /// REF and ALT probabilities per profile, for scored alleles.
    pub probs: Option<(Vec<f32>, Vec<f32>)>,
}

/// One input data line and its alleles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordResult {
    pub line: usize,
    pub raw: String,
    /// CHROM, POS, ID, REF as in the input.
    pub chrom: String,
    pub pos: String,
    pub id: String,
    pub reference: String,
    /// The genome contig CHROM was read as, when found.
    pub contig: Option<String>,
    /// False for lines that are not valid records (written to TSV, not to VCF).
    pub valid: bool,
    pub alleles: Vec<AlleleResult>,
}

/// Items in input order, as the sink receives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    Header(String),
    Record(RecordResult),
}

/// What a run did, for the closing report.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub records: usize,
    pub by_status: BTreeMap<&'static str, usize>,
    /// VCF contig names read as another genome name.
    pub aliases: Vec<(String, String)>,
    /// VCF contig names the genome lacks.
    pub unknown_contigs: Vec<String>,
}

impl Summary {
    pub fn scored(&self) -> usize {
        self.by_status.get("ok").copied().unwrap_or(0)
            + self.by_status.get("ref_mismatch").copied().unwrap_or(0)
    }

    pub fn alleles(&self) -> usize {
        self.by_status.values().sum()
    }
}

/// Predicts `n` windows (`[n, 4, window]`), in batches, optionally averaged
/// with their reverse complements.
pub fn predict_windows(model: &Model, windows: &[f32], opts: ScoreOptions) -> Result<Vec<f32>> {
    let per = 4 * model.window();
    let batch = opts.batch.max(1) * per;
    let mut out = Vec::with_capacity(windows.len() / per * model.labels().len());
    for chunk in windows.chunks(batch) {
        let fwd = model.predict_windows(chunk)?;
        if opts.rc_mean {
            let back = model.predict_windows(&reverse_complements(chunk, model.window()))?;
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
    let per = 4 * model.window();
    let n = windows.len() / per;
    if reference_of.len() != n {
        return Err(crate::Error::input(
            "predict",
            format!("{} reference links for {n} windows", reference_of.len()),
        ));
    }
    if model.on_gpu() {
        return predict_windows(model, windows, opts);
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

/// A record waiting for its windows' predictions.
struct Pending {
    event: Event,
    /// Window index of the REF window, and of each allele's ALT window.
    ref_window: Option<usize>,
    alt_windows: Vec<Option<usize>>,
}

/// Scores VCF records against a genome.
pub struct VariantScorer<'m> {
    model: &'m Model,
    genome: Genome,
    resolver: ContigResolver,
    opts: ScoreOptions,
    pending: Vec<Pending>,
    windows: Vec<f32>,
    /// For each queued window, the queued window it is a variant of.
    reference_of: Vec<Option<usize>>,
    summary: Summary,
    /// Data lines seen so far (for sharding).
    data_lines: usize,
}

impl<'m> VariantScorer<'m> {
    pub fn new(model: &'m Model, genome: Genome, opts: ScoreOptions) -> Self {
        let resolver = ContigResolver::new(genome.contigs().iter().map(|(n, _)| n.clone()));
        VariantScorer {
            model,
            genome,
            resolver,
            opts,
            pending: vec![],
            windows: vec![],
            reference_of: vec![],
            summary: Summary::default(),
            data_lines: 0,
        }
    }

    /// Queues a window; `reference` is the queued window it is a variant of
    /// (the record's REF window for an ALT window).
    fn push_window(&mut self, name: &str, seq: &[u8], reference: Option<usize>) -> Result<usize> {
        let per = 4 * self.model.window();
        let start = self.windows.len();
        self.windows.resize(start + per, 0.0);
        if let Err(e) = encode_into(name, seq, self.model.window(), &mut self.windows[start..]) {
            self.windows.truncate(start);
            return Err(e);
        }
        self.reference_of.push(reference);
        Ok(start / per)
    }

    /// Builds the record's result and queues its windows.
    fn add(&mut self, item: VcfItem) -> Result<()> {
        let (event, ref_window, alt_windows) = match item {
            VcfItem::Header(h) => (Event::Header(h), None, vec![]),
            VcfItem::Invalid(inv) => {
                let [chrom, pos, id, reference, alt] = inv.fields;
                let alleles = vec![AlleleResult {
                    alt,
                    status: Status::InvalidRecord,
                    message: Some(format!("line {}: {}", inv.line, inv.message)),
                    probs: None,
                }];
                let rec = RecordResult {
                    line: inv.line,
                    raw: inv.raw,
                    chrom,
                    pos,
                    id,
                    reference,
                    contig: None,
                    valid: false,
                    alleles,
                };
                (Event::Record(rec), None, vec![])
            }
            VcfItem::Record(r) => {
                let window = self.model.window();
                let offset = variant_offset(window);
                let contig = self.resolver.resolve(&r.chrom).map(String::from);
                let mut record_status: Option<(Status, String)> = None;
                let mut flank = vec![];
                let mut ref_matches = true;
                match &contig {
                    None => {
                        record_status = Some((
                            Status::UnknownContig,
                            format!(
                                "line {}: contig `{}` is not in {}",
                                r.line,
                                r.chrom,
                                self.genome.source_name()
                            ),
                        ))
                    }
                    Some(c) => {
                        let len = self.genome.contig_length(c).unwrap_or(0);
                        let end = r.pos - 1 + r.reference.len() as u64;
                        if end > len {
                            record_status = Some((
                                Status::PosBeyondContigEnd,
                                format!(
                                    "line {}: {}:{} REF ends past {c}'s {len} bp",
                                    r.line, r.chrom, r.pos
                                ),
                            ));
                        } else {
                            let start = r.pos as i64 - 1 - offset as i64;
                            let fetch = variant_fetch_len(window, r.reference.len()) as i64;
                            match self.genome.fetch(c, start, start + fetch) {
                                Ok(f) => {
                                    let genome_ref = &f[offset..offset + r.reference.len()];
                                    ref_matches =
                                        genome_ref.eq_ignore_ascii_case(r.reference.as_bytes());
                                    flank = f;
                                }
                                Err(e) => {
                                    record_status =
                                        Some((Status::GenomeError, format!("line {}: {e}", r.line)))
                                }
                            }
                        }
                    }
                }
                let mut alleles = vec![];
                let mut alt_windows = vec![];
                let mut ref_window = None;
                for alt in &r.alts {
                    let (status, message) = match (&record_status, classify_alt(&r.reference, alt)) {
                        (Some((s, m)), _) => (*s, Some(m.clone())),
                        (None, Some(s)) => (s, None),
                        (None, None) if ref_matches => (Status::Ok, None),
                        (None, None) => (
                            Status::RefMismatch,
                            Some(format!(
                                "line {}: REF {} differs from the genome's {} at {}:{} (scored anyway)",
                                r.line,
                                r.reference,
                                String::from_utf8_lossy(&flank[offset..offset + r.reference.len()]),
                                r.chrom,
                                r.pos
                            )),
                        ),
                    };
                    let mut alt_window = None;
                    if status.scored() {
                        let (ref_seq, alt_seq) = allele_windows(
                            &flank,
                            offset,
                            r.reference.len(),
                            alt.as_bytes(),
                            window,
                        );
                        if ref_window.is_none() {
                            ref_window = Some(self.push_window(&r.id, &ref_seq, None)?);
                        }
                        alt_window = Some(self.push_window(&r.id, &alt_seq, ref_window)?);
                    }
                    alt_windows.push(alt_window);
                    alleles.push(AlleleResult {
                        alt: alt.clone(),
                        status,
                        message,
                        probs: None,
                    });
                }
                let rec = RecordResult {
                    line: r.line,
                    raw: r.raw,
                    chrom: r.chrom,
                    pos: r.pos.to_string(),
                    id: r.id,
                    reference: r.reference,
                    contig,
                    valid: true,
                    alleles,
                };
                (Event::Record(rec), ref_window, alt_windows)
            }
        };
        self.pending.push(Pending {
            event,
            ref_window,
            alt_windows,
        });
        Ok(())
    }

    /// Queues one item (header or data line), skipping data lines of other
    /// shards. Returns `true` when a batch of windows is ready: predict
    /// [`VariantScorer::pending_windows`] and hand the result to
    /// [`VariantScorer::deliver`]. [`VariantScorer::run`] does this with the
    /// model's own backend; callers that predict asynchronously (WebGPU) drive
    /// these steps themselves.
    pub fn queue(&mut self, item: VcfItem) -> Result<bool> {
        if !matches!(item, VcfItem::Header(_)) {
            self.data_lines += 1;
            if let Some((k, n)) = self.opts.shard {
                if (self.data_lines - 1) % n.max(1) != k {
                    return Ok(false);
                }
            }
        }
        self.add(item)?;
        let per = 4 * self.model.window();
        Ok(self.windows.len() / per >= self.opts.batch.max(1) * 4)
    }

    /// The queued windows, `[n, 4, window]` (may be empty).
    pub fn pending_windows(&self) -> &[f32] {
        &self.windows
    }

    /// Predicts the queued windows on the model's backend: on the CPU, each
    /// ALT window incrementally against its record's REF window.
    pub fn predict_pending(&self) -> Result<Vec<f32>> {
        if self.windows.is_empty() {
            return Ok(vec![]);
        }
        predict_with_references(self.model, &self.windows, &self.reference_of, self.opts)
    }

    /// The scoring options (batch size, reverse-complement averaging).
    pub fn options(&self) -> ScoreOptions {
        self.opts
    }

    /// Takes the predictions of [`VariantScorer::pending_windows`] (already
    /// averaged with reverse complements when asked), in window order, and
    /// hands the queued records to `sink`.
    pub fn deliver(
        &mut self,
        probs: &[f32],
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<()> {
        let n_out = self.model.labels().len();
        let per = 4 * self.model.window();
        if probs.len() != self.windows.len() / per * n_out {
            return Err(crate::Error::input(
                "predictions",
                format!(
                    "{} values for {} windows of {n_out} profiles",
                    probs.len(),
                    self.windows.len() / per
                ),
            ));
        }
        let row = |i: usize| probs[i * n_out..(i + 1) * n_out].to_vec();
        for mut p in self.pending.drain(..) {
            if let Event::Record(rec) = &mut p.event {
                self.summary.records += 1;
                for (i, allele) in rec.alleles.iter_mut().enumerate() {
                    if let (Some(r), Some(Some(a))) = (p.ref_window, p.alt_windows.get(i)) {
                        allele.probs = Some((row(r), row(*a)));
                    }
                    *self
                        .summary
                        .by_status
                        .entry(allele.status.as_str())
                        .or_default() += 1;
                }
            }
            sink(p.event)?;
        }
        self.windows.clear();
        self.reference_of.clear();
        Ok(())
    }

    /// The counts so far, with the contig aliases used and contigs not found.
    pub fn summary(&self) -> Summary {
        let mut s = self.summary.clone();
        s.aliases = self.resolver.aliases();
        s.unknown_contigs = self.resolver.unknown();
        s
    }

    /// Predicts the queued windows and hands the queued records to `sink`.
    fn flush(&mut self, sink: &mut dyn FnMut(Event) -> Result<()>) -> Result<()> {
        let probs = self.predict_pending()?;
        self.deliver(&probs, sink)
    }

    /// Scores every item, in order, calling `sink` for each; stops at the
    /// first reader or sink error (records before it are delivered).
    pub fn run<I>(&mut self, items: I, sink: &mut dyn FnMut(Event) -> Result<()>) -> Result<Summary>
    where
        I: IntoIterator<Item = Result<VcfItem>>,
    {
        let mut failure = None;
        for item in items {
            match item {
                Ok(item) => {
                    if self.queue(item)? {
                        self.flush(sink)?;
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.flush(sink)?;
        match failure {
            Some(e) => Err(e),
            None => Ok(self.summary()),
        }
    }
}

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
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let line = line
            .map_err(|e| Error::input(source_name, format!("after line {}: {e}", line_no - 1)))?;
        let line = line.trim_end_matches('\r');
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
