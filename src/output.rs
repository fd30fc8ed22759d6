//! Writers for scored variants: TSV (one row per record and ALT) and VCF (the
//! input lines with INFO fields added, for bcftools pipelines).

use std::io::{self, Write};

use crate::scoring::{AlleleResult, Event, PairResult, RecordResult, Score, Status};

fn score_cells(
    allele_probs: &Option<(Vec<f32>, Vec<f32>)>,
    scores: &[Score],
    n: usize,
    out: &mut Vec<String>,
) {
    for s in scores {
        match allele_probs {
            Some((r, a)) => out.extend(
                r.iter()
                    .zip(a)
                    .map(|(r, a)| (s.value(*r, *a) as f32).to_string()),
            ),
            None => out.extend(std::iter::repeat_n(String::new(), n)),
        }
    }
}

fn score_header(scores: &[Score], labels: &[String]) -> Vec<String> {
    scores
        .iter()
        .flat_map(|s| labels.iter().map(move |l| format!("{}:{l}", s.name())))
        .collect()
}

/// TSV: `chrom pos id ref alt status` then `SCORE:LABEL` columns.
/// Genotype columns of a VCF with samples, after `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenotypeColumns {
    /// A VCF without samples.
    None,
    /// One sample chosen (`--sample`): `sample`, `genotype`.
    Sample,
    /// Samples, none chosen: `carriers` (how many carry each ALT).
    Carriers,
}

pub struct TsvWriter<W: Write> {
    out: W,
    scores: Vec<Score>,
    n_labels: usize,
    columns: GenotypeColumns,
}

impl<W: Write> TsvWriter<W> {
    /// `columns`: what the rows say of genotypes, after `status`.
    pub fn new(
        mut out: W,
        scores: &[Score],
        labels: &[String],
        columns: GenotypeColumns,
    ) -> io::Result<Self> {
        let mut header: Vec<String> = ["chrom", "pos", "id", "ref", "alt", "status"]
            .map(String::from)
            .to_vec();
        match columns {
            GenotypeColumns::None => {}
            GenotypeColumns::Sample => {
                header.extend(["sample".to_string(), "genotype".to_string()])
            }
            GenotypeColumns::Carriers => header.push("carriers".to_string()),
        }
        header.extend(score_header(scores, labels));
        writeln!(out, "{}", header.join("\t"))?;
        Ok(Self::continuing(out, scores, labels, columns))
    }

    /// A writer of rows only, continuing a table whose header another writer
    /// wrote (results written in parts: the page's downloads of large runs).
    pub fn continuing(
        out: W,
        scores: &[Score],
        labels: &[String],
        columns: GenotypeColumns,
    ) -> Self {
        TsvWriter {
            out,
            scores: scores.to_vec(),
            n_labels: labels.len(),
            columns,
        }
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        let Event::Record(rec) = event else {
            return Ok(());
        };
        for allele in &rec.alleles {
            self.write_allele(rec, allele)?;
        }
        Ok(())
    }

    fn write_allele(&mut self, rec: &RecordResult, allele: &AlleleResult) -> io::Result<()> {
        let mut cells = vec![
            rec.chrom.clone(),
            rec.pos.clone(),
            rec.id.clone(),
            rec.reference.clone(),
            allele.alt.clone(),
            allele.status.as_str().to_string(),
        ];
        match self.columns {
            GenotypeColumns::None => {}
            GenotypeColumns::Sample => {
                let (sample, gt) = rec
                    .call
                    .as_ref()
                    .map_or((".", "."), |c| (c.sample.as_str(), c.genotype.as_str()));
                cells.extend([sample.to_string(), gt.to_string()]);
            }
            GenotypeColumns::Carriers => {
                cells.push(allele.carriers.map_or(".".to_string(), |n| n.to_string()))
            }
        }
        score_cells(&allele.probs, &self.scores, self.n_labels, &mut cells);
        writeln!(self.out, "{}", cells.join("\t"))
    }
}

/// TSV for `--pairs`: `name status` then `SCORE:LABEL` columns.
pub struct PairsWriter<W: Write> {
    out: W,
    scores: Vec<Score>,
    n_labels: usize,
}

impl<W: Write> PairsWriter<W> {
    pub fn new(mut out: W, scores: &[Score], labels: &[String]) -> io::Result<Self> {
        let mut header = vec!["name".to_string(), "status".to_string()];
        header.extend(score_header(scores, labels));
        writeln!(out, "{}", header.join("\t"))?;
        Ok(PairsWriter {
            out,
            scores: scores.to_vec(),
            n_labels: labels.len(),
        })
    }

    pub fn write(&mut self, p: &PairResult) -> io::Result<()> {
        let mut cells = vec![p.name.clone(), p.status.as_str().to_string()];
        score_cells(&p.probs, &self.scores, self.n_labels, &mut cells);
        writeln!(self.out, "{}", cells.join("\t"))
    }
}

/// VCF: header lines pass through (a `##fileformat` line first, added when the
/// input lacks one), our INFO declarations go in before `#CHROM`; each record
/// gets `BR_status` (per ALT) and `BR_<score>` (the profiles' values per ALT,
/// ALT-major; `.` where not scored). Every data line comes back: one that is
/// not a valid record is written as it was (padded to 8 columns) with
/// `BR_status=invalid_record`, so nothing is lost silently.
pub struct VcfWriter<W: Write> {
    out: W,
    scores: Vec<Score>,
    labels: Vec<String>,
    model_line: String,
    /// A line was written (the first must be `##fileformat`).
    started: bool,
    header_done: bool,
}

impl<W: Write> VcfWriter<W> {
    /// `model_line` describes the model in a `##brain_resnet_model=` header line.
    pub fn new(out: W, scores: &[Score], labels: &[String], model_line: &str) -> Self {
        VcfWriter {
            out,
            scores: scores.to_vec(),
            labels: labels.to_vec(),
            model_line: model_line.to_string(),
            started: false,
            header_done: false,
        }
    }

    /// A writer of records only, continuing a VCF whose header another
    /// writer wrote (results written in parts).
    pub fn continuing(out: W, scores: &[Score], labels: &[String], model_line: &str) -> Self {
        VcfWriter {
            started: true,
            header_done: true,
            ..Self::new(out, scores, labels, model_line)
        }
    }

    fn our_header(&mut self) -> io::Result<()> {
        writeln!(self.out, "##brain_resnet_model={}", self.model_line)?;
        let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        writeln!(
            self.out,
            "##INFO=<ID=BR_status,Number=A,Type=String,Description=\"Brain-ResNet: per ALT, whether it was scored (ok, ref_mismatch) or why not ({})\">",
            statuses.join("|")
        )?;
        for s in &self.scores {
            writeln!(
                self.out,
                "##INFO=<ID=BR_{},Number=.,Type=Float,Description=\"Brain-ResNet {}: {} values per ALT (ALT-major), profiles in order {}\">",
                s.name(),
                s.description(),
                self.labels.len(),
                self.labels.join("|")
            )?;
        }
        Ok(())
    }

    pub fn write(&mut self, event: &Event) -> io::Result<()> {
        match event {
            Event::Header(h) if h.starts_with("#CHROM") => {
                if !self.started {
                    writeln!(self.out, "##fileformat=VCFv4.2")?;
                    self.started = true;
                }
                if !self.header_done {
                    self.our_header()?;
                    self.header_done = true;
                }
                writeln!(self.out, "{h}")
            }
            Event::Header(h) if h.starts_with("##") && !self.header_done => {
                if !self.started && !h.starts_with("##fileformat=") {
                    writeln!(self.out, "##fileformat=VCFv4.2")?;
                }
                self.started = true;
                writeln!(self.out, "{h}")
            }
            Event::Header(_) => Ok(()), // comments are not VCF
            Event::Record(rec) => {
                if !self.header_done {
                    if !self.started {
                        writeln!(self.out, "##fileformat=VCFv4.2")?;
                        self.started = true;
                    }
                    self.our_header()?;
                    writeln!(self.out, "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")?;
                    self.header_done = true;
                }
                self.write_record(rec)
            }
        }
    }

    fn write_record(&mut self, rec: &RecordResult) -> io::Result<()> {
        // A line too long to keep (see io::lines) comes back as a placeholder.
        let mut cols: Vec<String> = if rec.raw.is_empty() {
            vec![]
        } else {
            rec.raw.split('\t').map(String::from).collect()
        };
        while cols.len() < 8 {
            cols.push(".".into());
        }
        let mut info = vec![format!(
            "BR_status={}",
            rec.alleles
                .iter()
                .map(|a| a.status.as_str())
                .collect::<Vec<_>>()
                .join(",")
        )];
        for s in &self.scores {
            let values: Vec<String> = rec
                .alleles
                .iter()
                .flat_map(|a| match &a.probs {
                    Some((r, al)) => r
                        .iter()
                        .zip(al)
                        .map(|(r, al)| (s.value(*r, *al) as f32).to_string())
                        .collect::<Vec<_>>(),
                    None => vec![".".to_string(); self.labels.len()],
                })
                .collect();
            info.push(format!("BR_{}={}", s.name(), values.join(",")));
        }
        let ours = info.join(";");
        cols[7] = if cols[7] == "." || cols[7].is_empty() {
            ours
        } else {
            format!("{};{ours}", cols[7])
        };
        writeln!(self.out, "{}", cols.join("\t"))
    }
}
