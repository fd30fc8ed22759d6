//! `brain-resnet concat`: outputs of `score` (the shards of a run, in order)
//! into one bgzip file with a tabix index; with one input, a sorted VCF
//! compressed and indexed for region access.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use brain_resnet::io::bgzip_out::{IndexedOutput, Layout};
use brain_resnet::io::indexed::is_gzip;
use brain_resnet::io::lines::{read_line_capped, Capped};
use brain_resnet::Error;

/// The longest line copied: a VCF line (1 MiB at most on input) with
/// scores added for many profiles.
const MAX_LINE: usize = 64 << 20;

fn open(path: &Path) -> Result<Box<dyn BufRead>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::input(path.display(), e))?;
    Ok(if is_gzip(path)? {
        Box::new(noodles::bgzf::io::Reader::new(file))
    } else {
        Box::new(BufReader::new(file))
    })
}

pub fn run(out: &Path, inputs: &[PathBuf]) -> Result<ExitCode, Error> {
    let layout = Layout::of_gz_name(out).ok_or_else(|| {
        Error::input(
            out.display(),
            "--out must name a bgzip VCF or TSV: x.vcf.gz or x.tsv.gz",
        )
    })?;
    if let Some(same) = inputs.iter().find(|i| i.as_path() == out) {
        return Err(Error::input(
            same.display(),
            "is both an input and --out: write elsewhere",
        ));
    }
    let out_name = out.display().to_string();
    let mut writer = IndexedOutput::create(out, layout)?;
    let write_err = |e: std::io::Error| Error::Write {
        target: out_name.clone(),
        source: e,
    };
    // The first input's header, which every other input must repeat.
    let mut first_header: Option<(String, Vec<String>)> = None;
    let mut data_lines = 0usize;
    let mut buf = vec![];
    for input in inputs {
        let name = input.display().to_string();
        let mut reader = open(input)?;
        let mut header = vec![];
        let mut line_no = 0usize;
        let mut in_header = true;
        loop {
            let read = read_line_capped(&mut reader, &mut buf, MAX_LINE).map_err(|e| {
                Error::input(
                    &name,
                    format!(
                        "cannot read past line {line_no}: {e}; the file is truncated or corrupt"
                    ),
                )
            })?;
            line_no += 1;
            match read {
                None => break,
                Some(Capped::TooLong(n)) => {
                    return Err(Error::input(
                        &name,
                        format!(
                            "line {line_no}: {n} bytes, longer than the {} MiB a line may have",
                            MAX_LINE >> 20
                        ),
                    ))
                }
                Some(Capped::Line) => {}
            }
            let text = String::from_utf8_lossy(&buf).into_owned();
            let is_header = match layout {
                Layout::Vcf => in_header && text.starts_with('#'),
                Layout::Tsv => line_no == 1,
            };
            if is_header {
                header.push(text);
                continue;
            }
            if in_header {
                in_header = false;
                check_header(&mut first_header, &name, &header, &mut writer, write_err)?;
            }
            if text.is_empty() {
                continue;
            }
            writeln!(writer, "{text}").map_err(write_err)?;
            data_lines += 1;
        }
        if in_header {
            check_header(&mut first_header, &name, &header, &mut writer, write_err)?;
        }
    }
    let done = writer.finish()?;
    eprintln!(
        "wrote {data_lines} lines from {} files to {out_name}, index {} ({} lines indexed{})",
        inputs.len(),
        done.index.display(),
        done.lines,
        if done.unplaced > 0 {
            format!(", {} without a position left out of it", done.unplaced)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Writes the first input's header; checks a later input's is the same.
fn check_header(
    first: &mut Option<(String, Vec<String>)>,
    name: &str,
    header: &[String],
    writer: &mut IndexedOutput,
    write_err: impl Fn(std::io::Error) -> Error,
) -> Result<(), Error> {
    match first {
        None => {
            for h in header {
                writeln!(writer, "{h}").map_err(&write_err)?;
            }
            *first = Some((name.to_string(), header.to_vec()));
        }
        Some((first_name, first_header)) => {
            if first_header.as_slice() != header {
                let at = first_header
                    .iter()
                    .zip(header)
                    .position(|(a, b)| a != b)
                    .unwrap_or(first_header.len().min(header.len()));
                return Err(Error::input(
                    name,
                    format!(
                        "its header differs from {first_name}'s at header line {} ({} header lines here, {} there): outputs of different runs cannot be concatenated",
                        at + 1,
                        header.len(),
                        first_header.len()
                    ),
                ));
            }
        }
    }
    Ok(())
}
