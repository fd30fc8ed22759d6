//! `brain-resnet analyze`: the paper's analyses of one profile, as JSON.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::ExitCode;

use brain_resnet::Error;

pub fn run(
    scores: &Path,
    annotations: &Path,
    profile: &str,
    top: Option<usize>,
    exclude_ref_mismatch: bool,
) -> Result<ExitCode, Error> {
    use brain_resnet::analysis;
    use brain_resnet::io::annotations::read_annotations;
    // Plain or bgzip (`score --out x.tsv.gz`).
    let open = |p: &Path| -> Result<Box<dyn BufRead>, Error> {
        let file = std::fs::File::open(p).map_err(|e| Error::input(p.display(), e))?;
        Ok(if brain_resnet::io::indexed::is_gzip(p)? {
            Box::new(noodles::bgzf::io::Reader::new(file))
        } else {
            Box::new(BufReader::new(file))
        })
    };
    let variants =
        analysis::read_scores_tsv(open(scores)?, profile, &scores.display().to_string())?;
    let (variants, excluded) = if exclude_ref_mismatch {
        analysis::exclude_ref_mismatch(variants)
    } else {
        (variants, 0)
    };
    let ann = read_annotations(open(annotations)?, &annotations.display().to_string())?;
    let matched = variants
        .iter()
        .filter(|v| ann.contains_key(&v.id) || ann.contains_key(&v.locus))
        .count();
    let mismatched = variants.iter().filter(|v| v.ref_mismatch).count();
    eprintln!(
        "{} scored variants ({}), {matched} with annotations",
        variants.len(),
        if exclude_ref_mismatch {
            format!("{excluded} with status ref_mismatch left out")
        } else {
            format!("{mismatched} of them with status ref_mismatch, included")
        }
    );
    if matched == 0 {
        return Err(Error::input(
            annotations.display(),
            "no scored variant matches an annotation row by id or chrom:pos:ref:alt",
        ));
    }
    let mut report = analysis::analyze(profile, &variants, &ann, top);
    report.ref_mismatch_excluded = excluded;
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("report serializes")
    );
    Ok(ExitCode::SUCCESS)
}
