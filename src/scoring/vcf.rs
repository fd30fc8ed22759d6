//! Variants of a VCF scored against a genome.
//!
//! [`VariantScorer`] streams VCF items in input order: records are gathered
//! into batches of windows, predicted, and handed to a sink one by one, so
//! memory stays bounded whatever the VCF's size. Every record and ALT comes
//! out, with a [`Status`] saying whether and why not it was scored.
//!
//! (Over 400 lines: the record types the sink and the page receive, and the
//! one scoring loop that assembles them; which records are selected lives in
//! `select.rs`, the build check in `build.rs`.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::build;
use super::predict::{predict_with_references_async, ScoreOptions};
pub use super::select::SampleCall;
use super::select::{Call, Selection};
use super::status::{classify_alt, Status};
use crate::error::{Error, Result};
use crate::io::bed::Regions;
use crate::io::genome::{ContigResolver, Genome};
use crate::io::vcf::VcfItem;
use crate::model::Model;
use crate::window::{allele_windows, encode_into, variant_fetch_len, variant_offset};

/// One ALT of a record and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlleleResult {
    pub alt: String,
    pub status: Status,
    /// Details for users (why a record was not scored), if any.
    pub message: Option<String>,
    /// REF and ALT probabilities per profile, for scored alleles.
    pub probs: Option<(Vec<f32>, Vec<f32>)>,
    /// Samples of the VCF carrying this ALT (a VCF with samples, none chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carriers: Option<usize>,
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
    /// The chosen sample's call at this record (`--sample`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Box<SampleCall>>,
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
    /// Warnings about the run as a whole (a likely build mismatch).
    pub notes: Vec<String>,
    /// Records left out because they lie outside the `--regions` BED.
    pub outside_regions: usize,
    /// With `--sample`: records left out where the sample's call is missing
    /// (`./.`), and where it carries no ALT (`0/0`).
    pub missing_calls: usize,
    pub not_carried: usize,
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
    /// `##contig` lengths of the VCF header, checked against the genome
    /// before the first data line.
    header_contigs: Vec<(String, u64)>,
    build_checked: bool,
    allow_build_mismatch: bool,
    /// `ref_mismatch` and scored alleles among the first [`build::WATCHED`].
    watched: (usize, usize),
    /// Regions, a chosen sample, carriers (see [`Selection`]).
    select: Selection,
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
            header_contigs: vec![],
            build_checked: false,
            allow_build_mismatch: false,
            watched: (0, 0),
            select: Selection::default(),
        }
    }

    /// Scores only the alleles `sample` carries (its GT): records where it
    /// carries none, or whose call is missing, are counted and left out;
    /// other ALTs of a kept record are `not_carried`.
    pub fn sample(mut self, sample: &str) -> Self {
        self.select.sample = Some((sample.to_string(), None));
        self
    }

    /// Keeps only records whose REF overlaps one of `regions` (BED contig
    /// names are matched to the genome's as the VCF's are: `1` is `chr1`).
    pub fn regions(mut self, regions: Regions) -> Self {
        let contigs = self.genome.contigs().iter().map(|(n, _)| n.clone());
        let note = self.select.set_regions(regions, contigs);
        self.summary.notes.extend(note);
        self
    }

    /// Scores even when the VCF header's contig lengths say another build
    /// (the mismatch becomes a note instead of an error).
    pub fn allow_build_mismatch(mut self, allow: bool) -> Self {
        self.allow_build_mismatch = allow;
        self
    }

    /// Before the first data line: the header's contig lengths against the genome's.
    fn check_build(&mut self) -> Result<()> {
        self.build_checked = true;
        let genome = self.genome.contigs().to_vec();
        let name = self.genome.source_name().to_string();
        if let Some(m) =
            build::header_mismatch(&self.header_contigs, &genome, &mut self.resolver, &name)
        {
            if !self.allow_build_mismatch {
                return Err(Error::input(&name, m));
            }
            self.summary.notes.push(m);
        }
        Ok(())
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
                    carriers: None,
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
                    call: None,
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
                                "{}: contig `{}` is not in {}",
                                r.place(),
                                r.chrom,
                                self.genome.source_name()
                            ),
                        ))
                    }
                    Some(c) => {
                        let len = self.genome.contig_length(c).unwrap_or(0);
                        // Checked: POS comes from the user's file (up to 2^64 - 1).
                        let end = (r.pos - 1).checked_add(r.reference.len() as u64);
                        if end.is_none_or(|end| end > len) {
                            record_status = Some((
                                Status::PosBeyondContigEnd,
                                format!(
                                    "{}: {}:{} REF ends past {c}'s {len} bp",
                                    r.place(),
                                    r.chrom,
                                    r.pos
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
                                        Some((Status::GenomeError, format!("{}: {e}", r.place())))
                                }
                            }
                        }
                    }
                }
                let mut alleles = vec![];
                let mut alt_windows = vec![];
                let mut ref_window = None;
                for alt in &r.alts {
                    let (status, message) = match (&record_status, classify_alt(&r.reference, alt))
                    {
                        (Some((s, m)), _) => (*s, Some(m.clone())),
                        (None, Some(s)) => (s, None),
                        (None, None) if ref_matches => (Status::Ok, None),
                        (None, None) => (
                            Status::RefMismatch,
                            Some(format!(
                                "{}: REF {} differs from the genome's {} at {}:{} (scored anyway)",
                                r.place(),
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
                        carriers: None,
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
                    call: None,
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
    /// shards. Returns `true` when a batch of windows is ready to predict.
    fn queue(&mut self, item: VcfItem) -> Result<bool> {
        if let VcfItem::Header(h) = &item {
            if let Some(c) = build::header_contig(h) {
                self.header_contigs.push(c);
            }
            self.select.header(h)?;
        } else if !self.build_checked {
            self.check_build()?;
        }
        if !matches!(item, VcfItem::Header(_)) {
            self.data_lines += 1;
            if let Some((k, n)) = self.opts.shard {
                if (self.data_lines - 1) % n.max(1) != k {
                    return Ok(false);
                }
            }
        }
        let mut call = None;
        let mut item = item;
        if let VcfItem::Record(r) = &item {
            if self.select.outside_regions(r, &mut self.resolver) {
                self.summary.outside_regions += 1;
                return Ok(false);
            }
            match self.select.sample_call(r, &mut self.summary)? {
                None => {}
                Some(Call::Skip) => return Ok(false),
                Some(Call::Keep(c, carried)) => call = Some((c, carried)),
                Some(Call::Invalid(message)) => {
                    let fields = [
                        r.chrom.clone(),
                        r.pos.to_string(),
                        r.id.clone(),
                        r.reference.clone(),
                        r.alts.join(","),
                    ];
                    item = VcfItem::Invalid(crate::io::vcf::InvalidLine {
                        line: r.line,
                        raw: r.raw.clone(),
                        fields,
                        message,
                    });
                }
            }
        }
        let carriers = match &item {
            VcfItem::Record(r) => self.select.carriers(r),
            _ => None,
        };
        self.add(item)?;
        if let Some(counts) = carriers {
            let p = self.pending.last_mut().expect("a record was just queued");
            if let Event::Record(rec) = &mut p.event {
                for (allele, n) in rec.alleles.iter_mut().zip(counts) {
                    allele.carriers = Some(n);
                }
            }
        }
        if let Some((sample_call, carried)) = call {
            let p = self.pending.last_mut().expect("a record was just queued");
            if let Event::Record(rec) = &mut p.event {
                for (i, allele) in rec.alleles.iter_mut().enumerate() {
                    if !carried.contains(&(i + 1)) {
                        allele.status = Status::NotCarried;
                        allele.message = None;
                        p.alt_windows[i] = None;
                    }
                }
                rec.call = Some(Box::new(sample_call));
            }
        }
        let per = 4 * self.model.window();
        Ok(self.windows.len() / per >= self.opts.batch.max(1) * 4)
    }

    /// Takes the predictions of the queued windows (already averaged with
    /// reverse complements when asked), in window order, and hands the queued
    /// records to `sink`.
    fn deliver(&mut self, probs: &[f32], sink: &mut dyn FnMut(Event) -> Result<()>) -> Result<()> {
        let n_out = self.model.labels().len();
        let per = 4 * self.model.window();
        if probs.len() != self.windows.len() / per * n_out {
            return Err(crate::Error::Prediction(format!(
                "{} values for {} windows of {n_out} profiles",
                probs.len(),
                self.windows.len() / per
            )));
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
                    if allele.status.scored() && self.watched.1 < build::WATCHED {
                        self.watched.0 += usize::from(allele.status == Status::RefMismatch);
                        self.watched.1 += 1;
                        if self.watched.1 == build::WATCHED {
                            let build = &self.model.manifest.genome_build;
                            let (m, n) = self.watched;
                            let name = self.genome.source_name().to_string();
                            self.summary
                                .notes
                                .extend(build::mismatch_note(m, n, &name, build));
                        }
                    }
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

    /// Predicts the queued windows (on the CPU, each ALT window
    /// incrementally against its record's REF window) and hands the queued
    /// records to `sink`.
    async fn flush(&mut self, sink: &mut dyn FnMut(Event) -> Result<()>) -> Result<()> {
        let probs = if self.windows.is_empty() {
            vec![]
        } else {
            predict_with_references_async(self.model, &self.windows, &self.reference_of, self.opts)
                .await?
        };
        self.deliver(&probs, sink)
    }

    /// Scores every item, in order, calling `sink` for each (blocking; see
    /// [`VariantScorer::run_async`]).
    pub fn run<I>(&mut self, items: I, sink: &mut dyn FnMut(Event) -> Result<()>) -> Result<Summary>
    where
        I: IntoIterator<Item = Result<VcfItem>>,
    {
        crate::model::block_on(self.run_async(items, sink))
    }

    /// Scores every item, in order, calling `sink` for each, awaiting the
    /// backend batch by batch (the page's GPU path). A reader error or a
    /// record that cannot be queued ends the run with that error after the
    /// records before it are delivered; a sink error ends it at once.
    pub async fn run_async<I>(
        &mut self,
        items: I,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<Summary>
    where
        I: IntoIterator<Item = Result<VcfItem>>,
    {
        let mut failure = None;
        for item in items {
            match item.and_then(|item| self.queue(item)) {
                Ok(true) => self.flush(sink).await?,
                Ok(false) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.flush(sink).await?;
        match failure {
            Some(e) => Err(e),
            None => Ok(self.summary()),
        }
    }
}
