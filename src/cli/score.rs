//! `brain-resnet score`: variants (VCF + genome) or sequence pairs to scores.
//! (Over 400 lines: the user-facing report of a run, messages capped per
//! status, progress, and the choice of input kind and output columns.)

use std::collections::HashMap;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use brain_resnet::io::bed::{parse_region, Regions};
use brain_resnet::io::bgzip_out::{IndexedOutput, Layout};
use brain_resnet::io::genome::{ContigResolver, Genome};
use brain_resnet::io::genotypes;
use brain_resnet::io::indexed::{find_index, is_gzip, no_index, not_bgzip, IndexedVcf};
use brain_resnet::io::vcf::{vcf_reader, VcfItem};
use brain_resnet::output::{GenotypeColumns, PairsWriter, TsvWriter, VcfWriter};
use brain_resnet::scoring::{score_pairs, Event, Score, ScoreOptions, Summary, VariantScorer};
use brain_resnet::{Error, Model};

enum Writer<W: Write> {
    Tsv(TsvWriter<W>),
    Vcf(VcfWriter<W>),
}

pub struct Args {
    pub backend: brain_resnet::BackendChoice,
    pub model: PathBuf,
    pub genome: Option<PathBuf>,
    pub vcf: Option<PathBuf>,
    pub pairs: Option<PathBuf>,
    pub scores: String,
    pub vcf_output: bool,
    pub rc_mean: bool,
    pub out: Option<PathBuf>,
    pub tsv_out: Option<PathBuf>,
    pub batch: usize,
    pub allow_build_mismatch: bool,
    pub regions: Option<PathBuf>,
    pub region: Vec<String>,
    pub sample: Option<String>,
}

/// Messages shown per status before the rest are only counted.
const MESSAGES_PER_STATUS: usize = 10;

/// Counts bytes read, for a progress bar over the input file.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open_counting(path: &Path) -> Result<(Counting<std::fs::File>, Arc<AtomicU64>, u64), Error> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::input(&name, e))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let read = Arc::new(AtomicU64::new(0));
    Ok((
        Counting {
            inner: file,
            read: read.clone(),
        },
        read,
        len,
    ))
}

fn bar(len: u64, what: &str) -> ProgressBar {
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&format!(
            "{{bar:40}} {{percent}}% of the {what}, {{msg}}, ETA {{eta}}"
        ))
        .expect("valid template"),
    )
}

/// The error of a failed write to `out` (a file, or standard output).
fn write_error(out: &Option<PathBuf>) -> impl Fn(std::io::Error) -> Error {
    let target = out.as_ref().map_or_else(
        || "standard output".to_string(),
        |p| p.display().to_string(),
    );
    move |source| Error::Write {
        target: target.clone(),
        source,
    }
}

fn output(out: &Option<PathBuf>) -> Result<Box<dyn Write>, Error> {
    Ok(match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::input(p.display(), e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    })
}

/// The output of a VCF run: plain, or bgzip with a tabix index (`--out x.vcf.gz`).
enum Output {
    Plain(Box<dyn Write>),
    Indexed(Box<IndexedOutput>),
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Plain(w) => w.write(buf),
            Output::Indexed(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Output::Plain(w) => w.flush(),
            Output::Indexed(w) => w.flush(),
        }
    }
}

/// `--out`: a name ending in `.gz`/`.bgz` is bgzip + tabix, of the layout `--format` asks for.
fn vcf_run_output(out: &Option<PathBuf>, vcf_output: bool) -> Result<Output, Error> {
    let Some(path) = out else {
        return output(out).map(Output::Plain);
    };
    let name = path.to_string_lossy().to_ascii_lowercase();
    if !(name.ends_with(".gz") || name.ends_with(".bgz")) {
        return output(out).map(Output::Plain);
    }
    let layout = if vcf_output { Layout::Vcf } else { Layout::Tsv };
    match Layout::of_gz_name(path) {
        Some(named) if named != layout => Err(Error::input(
            path.display(),
            format!(
                "the name says {} but --format is {}: name it x.{}.gz",
                if named == Layout::Vcf { "VCF" } else { "TSV" },
                if vcf_output { "vcf" } else { "tsv" },
                if vcf_output { "vcf" } else { "tsv" }
            ),
        )),
        _ => IndexedOutput::create(path, layout).map(|w| Output::Indexed(Box::new(w))),
    }
}

/// The regions of `--regions` (a BED) and `--region` (repeatable), together.
fn read_regions(args: &Args) -> Result<Option<Regions>, Error> {
    let mut all: Option<Regions> = None;
    if let Some(path) = &args.regions {
        let file = std::fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
        let bed = brain_resnet::io::bed::read_bed(
            std::io::BufReader::new(file),
            &path.display().to_string(),
        )?;
        eprintln!("regions: {} from {}", bed.len(), path.display());
        all = Some(bed);
    }
    if !args.region.is_empty() {
        let spans = args
            .region
            .iter()
            .map(|r| parse_region(r).map_err(|e| Error::input("--region", e)))
            .collect::<Result<Vec<_>, Error>>()?;
        eprintln!("regions: {} from --region", spans.len());
        let given = Regions::from_spans(spans);
        all = Some(match all {
            Some(bed) => bed.union(given),
            None => given,
        });
    }
    Ok(all)
}

/// Prints a user-facing message, at most `MESSAGES_PER_STATUS` per kind.
struct Messages {
    source: String,
    shown: HashMap<&'static str, usize>,
}

impl Messages {
    fn show(&mut self, bar: &ProgressBar, kind: &'static str, message: &str) {
        let n = self.shown.entry(kind).or_default();
        *n += 1;
        if *n <= MESSAGES_PER_STATUS {
            bar.suspend(|| eprintln!("{kind}: {}: {message}", self.source));
        }
    }

    fn report_hidden(&self) {
        for (kind, n) in &self.shown {
            if *n > MESSAGES_PER_STATUS {
                eprintln!(
                    "{kind}: {}: {} more like the above not shown",
                    self.source,
                    n - MESSAGES_PER_STATUS
                );
            }
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let scores = Score::parse_list(&args.scores).map_err(|e| Error::input("--scores", e))?;
    let model = Model::load_dir_with(&args.model, args.backend)?;
    let started_on = model.backend();
    eprintln!("backend: {started_on}");
    let opts = ScoreOptions {
        rc_mean: args.rc_mean,
        batch: args.batch,
        shard: None,
    };
    let result = match (&args.vcf, &args.genome, &args.pairs) {
        (Some(vcf), Some(genome), None) => score_vcf(&model, vcf, genome, &scores, opts, &args),
        (None, None, Some(pairs)) => {
            if args.vcf_output {
                return Err(Error::input(
                    "--format vcf",
                    "needs --vcf input, not --pairs",
                ));
            }
            score_pair_file(&model, pairs, &scores, opts, &args.out)
        }
        _ => Err(Error::input(
            "score",
            "give --vcf VCF --genome FASTA, or --pairs PAIRS.tsv",
        )),
    };
    if let Some(batch) = model.gpu_batch() {
        eprintln!("GPU: {batch}");
    }
    if model.backend() != started_on {
        eprintln!("backend: {}", model.backend());
    }
    result
}

fn score_vcf(
    model: &Model,
    vcf: &Path,
    genome: &Path,
    scores: &[Score],
    opts: ScoreOptions,
    args: &Args,
) -> Result<ExitCode, Error> {
    let started = std::time::Instant::now();
    let genome_path = genome;
    let genome = Genome::open(genome)?;
    if genome.built_index() {
        eprintln!(
            "note: {} has no .fai beside it: indexed it in one pass ({:.1} s, {} contigs); `samtools faidx {0}` saves later runs this pass",
            genome.source_name(),
            started.elapsed().as_secs_f64(),
            genome.contigs().len()
        );
    }
    let genome_contigs: Vec<String> = genome.contigs().iter().map(|(n, _)| n.clone()).collect();
    let vcf_name = vcf.display().to_string();
    let (reader, read, len) = open_counting(vcf)?;
    // A consumer genotype file (23andMe, AncestryDNA, MyHeritage) given as
    // the VCF: read as a one-sample VCF against the genome's bases.
    let mut head = vec![];
    std::fs::File::open(vcf)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| Error::input(&vcf_name, e))?;
    let consumer = genotypes::detect(&head);
    let mut sample = args.sample.clone();
    let mut indel_codes = None;
    let mut regions = read_regions(args)?;
    let mut indexed_report = None;
    let items: Box<dyn Iterator<Item = brain_resnet::Result<VcfItem>>> = match consumer {
        None if regions.is_some() => {
            let gz = is_gzip(vcf)?;
            match if gz { find_index(vcf)? } else { None } {
                Some((index_path, index)) => {
                    let mut resolver = ContigResolver::new(genome_contigs.iter().cloned());
                    let mut same = |a: &str, b: &str| {
                        let ra = resolver.resolve(a).map(String::from);
                        ra.is_some() && ra.as_deref() == resolver.resolve(b)
                    };
                    let (reader, report) = IndexedVcf::open(
                        vcf,
                        &index_path,
                        index.as_ref(),
                        regions.take().expect("regions"),
                        &mut same,
                    )?;
                    eprintln!(
                        "{vcf_name}: read by region through {}",
                        index_path.display()
                    );
                    indexed_report = Some(report);
                    Box::new(reader)
                }
                None if !args.region.is_empty() => {
                    return Err(if gz { no_index(vcf) } else { not_bgzip(vcf) })
                }
                None => {
                    eprintln!(
                        "note: {vcf_name} has no index beside it: the whole file is read to find the regions' records"
                    );
                    Box::new(vcf_reader(reader, &vcf_name)?)
                }
            }
        }
        None => Box::new(vcf_reader(reader, &vcf_name)?),
        Some(layout) => {
            if !args.allow_build_mismatch {
                genotypes::check_genome_build(&genome, layout, &vcf_name)?;
            }
            let name = vcf
                .file_stem()
                .map_or("sample".to_string(), |s| s.to_string_lossy().into_owned());
            eprintln!(
                "{vcf_name}: {} raw data (GRCh37 positions): each called position is compared with the genome's base; sample `{name}`",
                layout.name()
            );
            let calls = genotypes::GenotypeCalls::new(
                std::io::BufReader::new(reader),
                layout,
                &vcf_name,
                &name,
                Genome::open(genome_path)?,
            );
            indel_codes = Some(calls.counts.clone());
            sample = Some(name);
            Box::new(calls)
        }
    };
    // A VCF with samples and none chosen: each ALT's carriers are counted.
    let columns = if sample.is_some() {
        GenotypeColumns::Sample
    } else if consumer.is_none() && vcf_has_samples(vcf, &vcf_name)? {
        GenotypeColumns::Carriers
    } else {
        GenotypeColumns::None
    };
    if args.tsv_out.is_some() && !args.vcf_output {
        return Err(Error::input(
            "--tsv-out",
            "is for --format vcf runs (the TSV is then written beside the VCF)",
        ));
    }
    let mut out = vcf_run_output(&args.out, args.vcf_output)?;
    let write_err = write_error(&args.out);
    let labels = model.labels().to_vec();
    let model_line = model.manifest.vcf_model_line(opts.rc_mean);
    let mut writer = if args.vcf_output {
        Writer::Vcf(VcfWriter::new(&mut out, scores, &labels, &model_line))
    } else {
        Writer::Tsv(TsvWriter::new(&mut out, scores, &labels, columns).map_err(&write_err)?)
    };
    // `--tsv-out`: the TSV too, in the same pass (a workflow's shard writes both).
    let tsv_write_err = write_error(&args.tsv_out);
    let mut tsv_out = match &args.tsv_out {
        Some(_) => Some(vcf_run_output(&args.tsv_out, false)?),
        None => None,
    };
    let mut tsv_writer = match &mut tsv_out {
        Some(o) => Some(TsvWriter::new(o, scores, &labels, columns).map_err(&tsv_write_err)?),
        None => None,
    };
    // Read through an index, the bytes read say nothing of the way to go: a spinner.
    let bar = if indexed_report.is_some() {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} regions of the VCF, {msg}")
                .expect("valid template"),
        )
    } else {
        bar(len, "VCF")
    };
    let mut messages = Messages {
        source: vcf_name.clone(),
        shown: HashMap::new(),
    };
    let start = Instant::now();
    let mut alleles = 0usize;
    let mut sink = |event: Event| -> Result<(), Error> {
        if let Event::Record(rec) = &event {
            for a in &rec.alleles {
                alleles += 1;
                if let Some(m) = &a.message {
                    messages.show(&bar, a.status.as_str(), m);
                }
            }
            if !rec.valid && args.vcf_output {
                messages.show(
                    &bar,
                    "not_written",
                    &format!(
                        "line {} is not a VCF record and is left out of the VCF output",
                        rec.line
                    ),
                );
            }
            bar.set_position(read.load(Ordering::Relaxed));
            bar.set_message(format!(
                "{alleles} variants, {:.0}/s",
                alleles as f64 / start.elapsed().as_secs_f64().max(1e-9)
            ));
        }
        if let Some(w) = &mut tsv_writer {
            w.write(&event).map_err(&tsv_write_err)?;
        }
        match &mut writer {
            Writer::Tsv(w) => w.write(&event),
            Writer::Vcf(w) => w.write(&event),
        }
        .map_err(&write_err)
    };
    let mut scorer =
        VariantScorer::new(model, genome, opts).allow_build_mismatch(args.allow_build_mismatch);
    if let Some(sample) = &sample {
        scorer = scorer.sample(sample);
    }
    if let Some(regions) = regions {
        scorer = scorer.regions(regions);
    }
    let result = scorer.run(items, &mut sink);
    bar.finish_and_clear();
    drop(writer);
    drop(tsv_writer);
    out.flush().map_err(&write_err)?;
    if let Some(o) = &mut tsv_out {
        o.flush().map_err(&tsv_write_err)?;
    }
    messages.report_hidden();
    let summary = result?;
    for out in std::iter::once(out).chain(tsv_out) {
        if let Output::Indexed(w) = out {
            let done = w.finish()?;
            if done.unplaced > 0 {
                eprintln!(
                    "note: {} lines of {} have no position (not VCF records) and are not in its index",
                    done.unplaced,
                    done.file.display()
                );
            }
        }
    }
    if let Some(r) = indexed_report {
        if !r.absent_contigs.is_empty() {
            eprintln!(
                "note: regions on contigs the index of {vcf_name} does not list (no records there): {}",
                r.absent_contigs.join(", ")
            );
        }
        if r.stale {
            eprintln!("warning: the index of {vcf_name} is older than the file: re-index it if the file changed");
        }
        let invalid = r.invalid_lines.get();
        if invalid > 0 {
            eprintln!("left out {invalid} lines in the regions' part of {vcf_name} that are not VCF records");
        }
    }
    report(&summary, &genome_contigs, start.elapsed().as_secs_f64());
    if let Some(counts) = indel_codes {
        let n = counts.borrow().indel_codes;
        if n > 0 {
            eprintln!(
                "left out {n} calls of indel codes (I, D): only SNVs are read from genotype files"
            );
        }
    }
    if summary.scored() == 0 && summary.alleles() > 0 {
        eprintln!("error: no variant could be scored (see the statuses above)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn report(summary: &Summary, genome_contigs: &[String], seconds: f64) {
    let counts: Vec<String> = summary
        .by_status
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    eprintln!(
        "scored {} of {} alleles from {} records in {seconds:.1} s ({})",
        summary.scored(),
        summary.alleles(),
        summary.records,
        counts.join(", ")
    );
    if summary.missing_calls + summary.not_carried > 0 {
        eprintln!(
            "left out {} records where the sample carries no ALT (0/0) and {} with a missing call (./.)",
            summary.not_carried, summary.missing_calls
        );
    }
    if summary.outside_regions > 0 {
        eprintln!(
            "left out {} records outside the regions",
            summary.outside_regions
        );
    }
    for note in &summary.notes {
        eprintln!("warning: {note}");
    }
    let mismatches = summary.by_status.get("ref_mismatch").copied().unwrap_or(0);
    if summary.notes.is_empty() && mismatches >= 5 && mismatches * 10 > summary.scored() {
        eprintln!(
            "warning: REF differs from the genome for {mismatches} of {} scored alleles: is this the genome build the VCF was called on?",
            summary.scored()
        );
    }
    for (vcf, genome) in &summary.aliases {
        eprintln!("note: VCF contig `{vcf}` read as genome contig `{genome}`");
    }
    if !summary.unknown_contigs.is_empty() {
        eprintln!(
            "warning: VCF contigs not in the genome: {} (genome has {}{})",
            summary.unknown_contigs.join(", "),
            genome_contigs
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if genome_contigs.len() > 10 {
                ", ..."
            } else {
                ""
            }
        );
    }
}

fn score_pair_file(
    model: &Model,
    pairs: &Path,
    scores: &[Score],
    opts: ScoreOptions,
    out: &Option<PathBuf>,
) -> Result<ExitCode, Error> {
    let name = pairs.display().to_string();
    if let Some(p) = out.as_ref().filter(|p| Layout::of_gz_name(p).is_some()) {
        return Err(Error::input(
            p.display(),
            "bgzip + tabix output is for --vcf runs (it is indexed by position); write the pairs' scores to a .tsv",
        ));
    }
    let (reader, read, len) = open_counting(pairs)?;
    let write_err = write_error(out);
    let mut out = output(out)?;
    let mut writer = PairsWriter::new(&mut out, scores, model.labels()).map_err(&write_err)?;
    let bar = bar(len, "pairs file");
    let mut messages = Messages {
        source: name.clone(),
        shown: HashMap::new(),
    };
    let mut failed = 0;
    let n = score_pairs(model, BufReader::new(reader), &name, opts, &mut |p| {
        if let Some(m) = &p.message {
            failed += 1;
            messages.show(&bar, p.status.as_str(), m);
        }
        bar.set_position(read.load(Ordering::Relaxed));
        writer.write(&p).map_err(&write_err)
    })?;
    bar.finish_and_clear();
    drop(writer);
    out.flush().map_err(&write_err)?;
    messages.report_hidden();
    eprintln!("scored {} of {n} pairs", n - failed);
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Does the VCF's `#CHROM` line name samples? (Read ahead, before scoring.)
fn vcf_has_samples(vcf: &Path, name: &str) -> Result<bool, Error> {
    let file = std::fs::File::open(vcf).map_err(|e| Error::input(name, e))?;
    for item in vcf_reader(file, name)? {
        match item? {
            VcfItem::Header(h) => {
                if let Some(names) = brain_resnet::io::vcf::sample_names(&h) {
                    return Ok(!names.is_empty());
                }
            }
            _ => break,
        }
    }
    Ok(false)
}
