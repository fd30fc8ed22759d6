//! `brain-resnet predict`: FASTA sequences to one TSV row of probabilities each,
//! streamed (a record longer than the window is counted, not kept, and refused).
//! Each record's problems go to stderr naming the file and the record: errors
//! (not predicted; exit status 1), warnings (IUPAC codes read as N) and notes
//! (padding, a headerless sequence), at most [`SHOWN`] warnings and notes each.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use brain_resnet::io::fasta::{FastaReader, SequenceRecord};
use brain_resnet::{Error, Model};

/// Warnings and notes shown per kind before the rest are only counted.
const SHOWN: usize = 10;

pub fn run(
    model_dir: &Path,
    sequences: &Path,
    batch: usize,
    backend: brain_resnet::BackendChoice,
) -> Result<ExitCode, Error> {
    let model = Model::load_dir_with(model_dir, backend)?;
    let started_on = model.backend();
    eprintln!("backend: {started_on}");
    let source = sequences.display().to_string();
    let file = std::fs::File::open(sequences).map_err(|e| Error::input(&source, e))?;
    let window = model.window();
    let mut records = FastaReader::new(BufReader::new(file), &source, window).peekable();
    // A file that is not FASTA (or empty) fails before any output is written.
    if let Some(Err(_)) = records.peek() {
        if let Some(Err(e)) = records.next() {
            return Err(e);
        }
    }

    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {pos} sequences, {per_sec}")
            .expect("valid template"),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write_err = |source| Error::Write {
        target: "standard output".into(),
        source,
    };
    writeln!(out, "name\t{}", model.labels().join("\t")).map_err(write_err)?;
    let (mut failed, mut total) = (0, 0);
    let (mut warnings, mut notes) = (0usize, 0usize);
    let mut chunk: Vec<SequenceRecord> = Vec::with_capacity(batch.max(1) * 4);
    while let Some(record) = records.next() {
        chunk.push(record?);
        if chunk.len() < batch.max(1) * 4 && records.peek().is_some() {
            continue;
        }
        let results = model.predict_records(&chunk, batch);
        for (rec, result) in chunk.iter().zip(results) {
            let check = rec.check(window);
            for (kind, texts, count) in [
                ("warning", &check.warnings, &mut warnings),
                ("note", &check.notes, &mut notes),
            ] {
                for text in texts {
                    *count += 1;
                    if *count <= SHOWN {
                        bar.suspend(|| {
                            eprintln!("{kind}: {source}: sequence `{}`: {text}", rec.name)
                        });
                    }
                }
            }
            match result {
                Ok(probs) => {
                    let cells: Vec<String> = probs.iter().map(|p| p.to_string()).collect();
                    writeln!(out, "{}\t{}", rec.name, cells.join("\t")).map_err(write_err)?;
                }
                Err(e) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("error: {source}: {e}"));
                }
            }
        }
        total += chunk.len();
        bar.inc(chunk.len() as u64);
        chunk.clear();
    }
    bar.finish_and_clear();
    out.flush().map_err(write_err)?;
    for (kind, count) in [("warning", warnings), ("note", notes)] {
        if count > SHOWN {
            eprintln!(
                "{kind}: {source}: {} more like the above not shown",
                count - SHOWN
            );
        }
    }
    if let Some(batch) = model.gpu_batch() {
        eprintln!("GPU: {batch}");
    }
    if model.backend() != started_on {
        eprintln!("backend: {}", model.backend());
    }
    if failed > 0 {
        eprintln!("error: {failed} of {total} sequences not predicted (see above)");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
