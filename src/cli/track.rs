//! `brain-resnet track`: the allelic-effect track of a region from the CLI, as
//! the page draws it. The 1000 bp window centred on the region is mutated at
//! every position to each other base (saturation mutagenesis); for each
//! profile a bedGraph gives, per base of the region, the change of largest
//! magnitude among its three substitutions (the page's "Download bedGraph");
//! a BED gives the known motifs (JASPAR) found in the window, for igv or the
//! UCSC browser.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use brain_resnet::analysis::motifs::{read_motifs, scan_all, JASPAR_SUBSET};
use brain_resnet::io::genome::{ContigResolver, Genome};
use brain_resnet::scoring::mutagenesis::saturation_with_progress;
use brain_resnet::scoring::ScoreOptions;
use brain_resnet::window::variant_offset;
use brain_resnet::{Error, Model};

pub struct Args<'a> {
    pub model: &'a Path,
    pub genome: &'a Path,
    pub region: &'a str,
    pub profiles: &'a [String],
    pub out: &'a Path,
    pub motifs: Option<&'a Path>,
    pub p_value: f64,
    pub backend: brain_resnet::BackendChoice,
}

/// `chr:start-end`, 1-based and inclusive (as samtools writes regions).
fn parse_region(region: &str) -> Result<(String, u64, u64), Error> {
    let bad = |why: &str| {
        Error::input(
            "--region",
            format!("`{region}`: {why} (expected chr:start-end, 1-based, e.g. chr1:10001-10200)"),
        )
    };
    let (chrom, range) = region.rsplit_once(':').ok_or_else(|| bad("no `:`"))?;
    let (a, b) = range
        .split_once('-')
        .ok_or_else(|| bad("no `-` in the range"))?;
    let num = |s: &str| {
        s.replace(',', "")
            .parse::<u64>()
            .map_err(|_| bad("start and end must be whole numbers"))
    };
    let (start, end) = (num(a)?, num(b)?);
    if chrom.is_empty() || start == 0 || end < start {
        return Err(bad(
            "an empty contig name, a start of 0, or an end before the start",
        ));
    }
    Ok((chrom.to_string(), start, end))
}

pub fn run(args: Args) -> Result<ExitCode, Error> {
    let (chrom, start, end) = parse_region(args.region)?;
    let model = Model::load_dir_with(args.model, args.backend)?;
    let window = model.window() as u64;
    let width = end - start + 1;
    if width > window {
        return Err(Error::input(
            "--region",
            format!(
                "{} is {width} bp: a track covers at most one window ({window} bp)",
                args.region
            ),
        ));
    }
    let labels = model.labels().to_vec();
    let chosen: Vec<usize> = if args.profiles.is_empty() {
        (0..labels.len()).collect()
    } else {
        args.profiles
            .iter()
            .map(|p| {
                labels.iter().position(|l| l == p).ok_or_else(|| {
                    Error::input(
                        "--profile",
                        format!(
                            "`{p}` is not a profile of this model ({})",
                            labels.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?
    };
    let motifs = match args.motifs {
        Some(path) => {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| Error::input(&name, e))?;
            read_motifs(&text, &name)?
        }
        None => read_motifs(JASPAR_SUBSET, "the built-in JASPAR motifs")?,
    };
    let mut genome = Genome::open(args.genome)?;
    let mut resolver = ContigResolver::new(genome.contigs().iter().map(|(n, _)| n.clone()));
    let contig = resolver.resolve(&chrom).map(String::from).ok_or_else(|| {
        Error::input(
            args.genome.display().to_string(),
            format!("contig `{chrom}` is not in this genome"),
        )
    })?;
    let length = genome.contig_length(&contig).unwrap_or(0);
    if end > length {
        return Err(Error::input(
            "--region",
            format!("{} ends past {contig}'s end ({length} bp)", args.region),
        ));
    }
    // The window centred on the region, as the page centres it on a variant.
    let middle = start + (width - 1) / 2; // 1-based
    let w0 = middle as i64 - 1 - variant_offset(window as usize) as i64; // 0-based, may be < 0
    let seq = genome.fetch(&contig, w0, w0 + window as i64)?;
    let bar = super::spinner("mutating every base of the window");
    let sat = saturation_with_progress(
        &model,
        args.region,
        &seq,
        ScoreOptions::default(),
        &mut |done, total| {
            bar.set_message(format!("{done} of {total} mutants"));
        },
    )?;
    bar.finish_and_clear();

    let write_err = |path: &PathBuf| {
        let target = path.display().to_string();
        move |source| Error::Write {
            target: target.clone(),
            source,
        }
    };
    let outputs = sat.outputs;
    for &o in &chosen {
        let path = with_suffix(args.out, &format!(".{}.bedGraph", labels[o]));
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(&path).map_err(write_err(&path))?);
        writeln!(
            f,
            "track type=bedGraph name=\"brain-resnet {}\" description=\"largest predicted change per position (saturation mutagenesis, {})\"",
            labels[o], model.manifest.name
        )
        .map_err(write_err(&path))?;
        for pos in start..=end {
            let p = (pos as i64 - 1 - w0) as usize;
            let best = (0..4)
                .map(|b| sat.delta[(p * 4 + b) * outputs + o])
                .fold(0f32, |m, v| if v.abs() > m.abs() { v } else { m });
            writeln!(f, "{contig}\t{}\t{pos}\t{best}", pos - 1).map_err(write_err(&path))?;
        }
        f.flush().map_err(write_err(&path))?;
        eprintln!("wrote {}", path.display());
    }
    // Motif hits in the window's real sequence (not the padding past the contig's ends).
    let path = with_suffix(args.out, ".motifs.bed");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).map_err(write_err(&path))?);
    writeln!(
        f,
        "track name=\"JASPAR motifs\" description=\"p <= {} (log-odds, both strands)\"",
        args.p_value
    )
    .map_err(write_err(&path))?;
    let hits = scan_all(&motifs, &seq, args.p_value);
    for h in &hits {
        let gs = w0 + h.start as i64; // 0-based
        if gs < 0 || gs as u64 + h.len as u64 > length {
            continue;
        }
        let score = (-h.p_value.log10() * 100.0).round().clamp(0.0, 1000.0) as u32;
        writeln!(
            f,
            "{contig}\t{gs}\t{}\t{}\t{score}\t{}",
            gs as u64 + h.len as u64,
            h.motif,
            h.strand
        )
        .map_err(write_err(&path))?;
    }
    f.flush().map_err(write_err(&path))?;
    eprintln!(
        "wrote {} ({} motif hits in the window)",
        path.display(),
        hits.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `out` with `suffix` appended to its file name.
fn with_suffix(out: &Path, suffix: &str) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    out.with_file_name(name)
}
