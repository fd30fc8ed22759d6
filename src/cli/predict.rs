//! `brain-resnet predict`: FASTA sequences to one TSV row of probabilities each.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use brain_resnet::io::fasta::read_fasta;
use brain_resnet::{Error, Model};

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
    let records = read_fasta(BufReader::new(file), &source)?;

    let bar = ProgressBar::new(records.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} sequences, {per_sec}, ETA {eta}")
            .expect("valid template"),
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let write_err = |source| Error::Write {
        target: "standard output".into(),
        source,
    };
    writeln!(out, "name\t{}", model.labels().join("\t")).map_err(write_err)?;
    let mut failed = 0;
    for chunk in records.chunks(batch.max(1) * 4) {
        let results = model.predict_sequences(
            chunk
                .iter()
                .map(|r| (r.name.as_str(), r.sequence.as_slice())),
            batch,
        );
        for (rec, result) in chunk.iter().zip(results) {
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
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    out.flush().map_err(write_err)?;
    if model.backend() != started_on {
        eprintln!("backend: {}", model.backend());
    }
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} sequences not predicted (see above)",
            records.len()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
