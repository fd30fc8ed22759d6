//! What the page shows and downloads, by the CLI's own code: the score
//! definitions, the analyses' ranking and annotation join, annotations parsed
//! and results written as TSV or annotated VCF by the same writers, so the
//! page's numbers and downloads equal `brain-resnet score`'s and `analyze`'s.

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use super::{js_err, to_js};
use crate::analysis::{rank, scored_alleles};
use crate::io::annotations::{read_annotations, Annotation, Annotations};
use crate::output::{GenotypeColumns, TsvWriter, VcfWriter};
use crate::scoring::{Event, RecordResult, Score};
use crate::weights::format::{parse_manifest, MANIFEST_FILE};

/// Parses an annotations TSV: `{key: {label, ref_reads, alt_reads, gerp, maf, p_value, pip}}`.
#[wasm_bindgen]
pub fn parse_annotations(text: &str, name: &str) -> Result<JsValue, JsError> {
    let ann = read_annotations(text.as_bytes(), name).map_err(js_err)?;
    to_js(&ann).map_err(js_err)
}

/// Formats results as the CLI would: `format` is `tsv` or `vcf`; `events` are
/// the records (and, for VCF, header lines) in input order; `manifest_json`
/// is the model's `model.json` (profile labels, and the VCF's
/// `##brain_resnet_model` line with `rc_mean`).
///
/// Large runs are written in parts: `columns` (`sample`, `carriers` or
/// `none`: the run's genotype columns, as `Summary.genotype_columns` says;
/// by default guessed from `events`) keeps every part's TSV columns the same,
/// and `continuing` writes records only, after a first part that wrote the
/// header (the TSV's header row; the VCF's header lines come as events).
#[wasm_bindgen]
pub fn format_results(
    format: &str,
    events: JsValue,
    manifest_json: &str,
    scores: &str,
    rc_mean: bool,
    columns: Option<String>,
    continuing: Option<bool>,
) -> Result<String, JsError> {
    let events: Vec<Event> = serde_wasm_bindgen::from_value(events).map_err(js_err)?;
    let manifest = parse_manifest(manifest_json, MANIFEST_FILE).map_err(js_err)?;
    let labels = &manifest.labels;
    let scores = Score::parse_list(scores).map_err(js_err)?;
    let continuing = continuing.unwrap_or(false);
    let mut buf = Vec::new();
    match format {
        "tsv" => {
            let records = || {
                events.iter().filter_map(|e| match e {
                    Event::Record(r) => Some(r),
                    _ => None,
                })
            };
            let columns = match columns.as_deref() {
                Some("sample") => GenotypeColumns::Sample,
                Some("carriers") => GenotypeColumns::Carriers,
                Some("none") => GenotypeColumns::None,
                Some(other) => {
                    return Err(js_err(format!(
                        "unknown genotype columns `{other}`: sample, carriers or none"
                    )))
                }
                None if records().any(|r| r.call.is_some()) => GenotypeColumns::Sample,
                None if records().any(|r| r.alleles.iter().any(|a| a.carriers.is_some())) => {
                    GenotypeColumns::Carriers
                }
                None => GenotypeColumns::None,
            };
            let mut w = if continuing {
                TsvWriter::continuing(&mut buf, &scores, labels, columns)
            } else {
                TsvWriter::new(&mut buf, &scores, labels, columns).map_err(js_err)?
            };
            for e in &events {
                w.write(e).map_err(js_err)?;
            }
        }
        "vcf" => {
            let line = manifest.vcf_model_line(rc_mean);
            let mut w = if continuing {
                VcfWriter::continuing(&mut buf, &scores, labels, &line)
            } else {
                VcfWriter::new(&mut buf, &scores, labels, &line)
            };
            for e in &events {
                w.write(e).map_err(js_err)?;
            }
        }
        other => return Err(js_err(format!("unknown format `{other}`"))),
    }
    String::from_utf8(buf).map_err(js_err)
}

#[derive(Serialize)]
struct ScoreInfo {
    name: &'static str,
    description: &'static str,
}

/// The scores, in the CLI's order: `[{name, description}]`.
#[wasm_bindgen]
pub fn score_names() -> Result<JsValue, JsError> {
    let list: Vec<ScoreInfo> = Score::ALL
        .into_iter()
        .map(|s| ScoreInfo {
            name: s.name(),
            description: s.description(),
        })
        .collect();
    to_js(&list).map_err(js_err)
}

fn score_named(name: &str) -> Result<Score, JsError> {
    match Score::parse_list(name).map_err(js_err)?.as_slice() {
        [one] => Ok(*one),
        _ => Err(js_err(format!("one score expected, not `{name}`"))),
    }
}

/// One score (`abs_diff`, `log_ratio`, ...) of one REF/ALT probability pair.
#[wasm_bindgen]
pub fn score_value(name: &str, reference: f32, alternate: f32) -> Result<f64, JsError> {
    Ok(score_named(name)?.value(reference, alternate))
}

/// One score of many pairs: `reference[i]`, `alternate[i]` (Float32Array or
/// arrays of numbers) to a Float64Array.
#[wasm_bindgen]
pub fn score_values(name: &str, reference: &[f32], alternate: &[f32]) -> Result<Vec<f64>, JsError> {
    let score = score_named(name)?;
    if reference.len() != alternate.len() {
        return Err(js_err(format!(
            "{} REF and {} ALT probabilities",
            reference.len(),
            alternate.len()
        )));
    }
    Ok(reference
        .iter()
        .zip(alternate)
        .map(|(r, a)| score.value(*r, *a))
        .collect())
}

#[derive(Deserialize)]
struct RecordsIn {
    records: Vec<RecordResult>,
}

#[derive(Serialize)]
struct JoinedRow<'a> {
    /// 0-based rank by `abs_diff` (the row's position).
    rank: usize,
    /// Indices of the record in `records` and of the ALT in its `alleles`.
    record: usize,
    allele: usize,
    id: &'a str,
    chrom: &'a str,
    pos: Option<u64>,
    alt: &'a str,
    locus: &'a str,
    abs_diff: f64,
    log_ratio: Option<f64>,
    imbalance: Option<f64>,
    ann: Option<&'a Annotation>,
}

/// The scored alleles of profile `profile_index` as the analyses see them:
/// scores rounded as the TSV writes them, joined with the annotations TSV
/// (none when `annotations_tsv` is absent), in rank order (`abs_diff`
/// descending, ties in input order). `records` is `{records}` as for
/// `Engine.analyze_all`. Returns `[{rank, record, allele, id, chrom, pos, alt,
/// locus, abs_diff, log_ratio, imbalance, ann: {label, ref_reads, alt_reads,
/// gerp, maf, p_value, pip} | null}]`; without the `ref_mismatch` alleles
/// when `exclude_ref_mismatch`, as the analyses then leave them out.
#[wasm_bindgen]
pub fn joined_rows(
    records: JsValue,
    annotations_tsv: Option<String>,
    profile_index: usize,
    exclude_ref_mismatch: Option<bool>,
) -> Result<JsValue, JsError> {
    let input: RecordsIn = serde_wasm_bindgen::from_value(records).map_err(js_err)?;
    let ann = match annotations_tsv {
        Some(text) => read_annotations(text.as_bytes(), "annotations").map_err(js_err)?,
        None => Annotations::new(),
    };
    let (origins, variants): (Vec<(usize, usize)>, Vec<_>) =
        scored_alleles(&input.records, profile_index)
            .filter(|(_, _, v)| !(exclude_ref_mismatch.unwrap_or(false) && v.ref_mismatch))
            .map(|(ri, ai, v)| ((ri, ai), v))
            .unzip();
    let rows: Vec<JoinedRow> = rank(&variants, &ann)
        .into_iter()
        .enumerate()
        .map(|(rank, (i, a))| {
            let v = &variants[i];
            let (ri, ai) = origins[i];
            let r = &input.records[ri];
            JoinedRow {
                rank,
                record: ri,
                allele: ai,
                id: &v.id,
                chrom: &r.chrom,
                pos: r.pos.parse().ok(),
                alt: &r.alleles[ai].alt,
                locus: &v.locus,
                abs_diff: v.abs_diff,
                log_ratio: v.log_ratio,
                imbalance: a.and_then(Annotation::imbalance),
                ann: a,
            }
        })
        .collect();
    to_js(&rows).map_err(js_err)
}
