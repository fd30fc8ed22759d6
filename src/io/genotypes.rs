//! Consumer genotype files (23andMe, AncestryDNA, MyHeritage raw data), read
//! as a one-sample VCF: each called position becomes a record with the
//! genome's base as REF, the other called bases as ALT and the call as GT,
//! so the scorer's sample machinery scores the ALTs the person carries and
//! counts homozygous-reference positions (`0/0`) and no-calls (`./.`). Indel
//! codes (`I`, `D`) are counted, not scored. All three layouts are on
//! GRCh37: they need an hg19 genome.
//!
//! Layouts, as their documentation and sample files give them:
//! - 23andMe: `#` comment lines, then `rsid chromosome position genotype`
//!   (tab-separated, genotype `AG`, `A` on haploid X/Y/MT, `--` no call).
//! - AncestryDNA: `#` comments, a header `rsid chromosome position allele1
//!   allele2`, chromosomes `23` (X), `24` (Y), `25` (X, pseudo-autosomal),
//!   `26` (MT); `0` is a no call.
//! - MyHeritage: `#` comments, then CSV with quotes: `"RSID","CHROMOSOME",
//!   "POSITION","RESULT"`, result `AG` or `--`.

use std::io::BufRead;

use super::genome::{ContigResolver, Genome, CHR1_LENGTHS};
use super::lines::TableLines;
use super::vcf::{parse_line, InvalidLine, VcfItem};
use crate::error::{Error, Result};

/// Which company's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    TwentyThreeAndMe,
    AncestryDna,
    MyHeritage,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::TwentyThreeAndMe => "23andMe",
            Layout::AncestryDna => "AncestryDNA",
            Layout::MyHeritage => "MyHeritage",
        }
    }
}

/// Recognizes a layout from the file's first bytes (a few kilobytes).
pub fn detect(head: &[u8]) -> Option<Layout> {
    let text = String::from_utf8_lossy(head);
    let lower = text.to_ascii_lowercase();
    if lower.contains("\"rsid\",\"chromosome\",\"position\",\"result\"")
        || lower.contains("myheritage")
    {
        return Some(Layout::MyHeritage);
    }
    if lower.contains("rsid\tchromosome\tposition\tallele1\tallele2")
        || lower.contains("ancestrydna")
    {
        return Some(Layout::AncestryDna);
    }
    if lower.contains("23andme") || lower.contains("# rsid\tchromosome\tposition\tgenotype") {
        return Some(Layout::TwentyThreeAndMe);
    }
    None
}

/// What was read and not turned into scorable records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls of indel codes (`I`, `D`): not scored.
    pub indel_codes: usize,
}

/// The calls of a consumer genotype file as VCF items (header first).
pub struct GenotypeCalls<R> {
    lines: TableLines<R>,
    layout: Layout,
    sample: String,
    genome: Genome,
    resolver: ContigResolver,
    header_sent: bool,
    pub counts: std::rc::Rc<std::cell::RefCell<Counts>>,
}

impl<R: BufRead> GenotypeCalls<R> {
    /// `sample` names the person's column (the file's name, say); `genome`
    /// supplies each position's REF.
    pub fn new(reader: R, layout: Layout, source_name: &str, sample: &str, genome: Genome) -> Self {
        let resolver = ContigResolver::new(genome.contigs().iter().map(|(n, _)| n.clone()));
        GenotypeCalls {
            lines: TableLines::new(reader, source_name),
            layout,
            sample: sample.to_string(),
            genome,
            resolver,
            header_sent: false,
            counts: Default::default(),
        }
    }

    /// One data line: `None` for comments and column headers.
    fn convert(&mut self, line_no: usize, line: &str) -> Option<VcfItem> {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            return None;
        }
        let cols: Vec<String> = match self.layout {
            Layout::MyHeritage => t
                .split(',')
                .map(|c| c.trim().trim_matches('"').to_string())
                .collect(),
            _ => t.split('\t').map(|c| c.trim().to_string()).collect(),
        };
        if cols.first().is_some_and(|c| c.eq_ignore_ascii_case("rsid")) {
            return None;
        }
        let invalid = |message: String| {
            let field = |i: usize| cols.get(i).cloned().unwrap_or_default();
            Some(VcfItem::Invalid(InvalidLine {
                line: line_no,
                raw: line.to_string(),
                fields: [field(1), field(2), field(0), String::new(), String::new()],
                message,
            }))
        };
        let (rsid, chrom, pos, calls) = match (self.layout, cols.as_slice()) {
            (Layout::AncestryDna, [r, c, p, a, b, ..]) => (r, c, p, format!("{a}{b}")),
            (Layout::AncestryDna, _) => {
                return invalid(format!("{} columns, an AncestryDNA line has 5", cols.len()))
            }
            (_, [r, c, p, g, ..]) => (r, c, p, g.clone()),
            _ => {
                return invalid(format!(
                    "{} columns, a {} line has 4",
                    cols.len(),
                    self.layout.name()
                ))
            }
        };
        let chrom = match (self.layout, chrom.as_str()) {
            (Layout::AncestryDna, "23" | "25") => "X".to_string(),
            (Layout::AncestryDna, "24") => "Y".to_string(),
            (Layout::AncestryDna, "26") => "MT".to_string(),
            (_, c) => c.to_string(),
        };
        let Ok(pos) = pos.parse::<u64>() else {
            return invalid(format!("position `{pos}` is not a number"));
        };
        let calls = calls.to_ascii_uppercase();
        if calls.contains('I') || calls.contains('D') {
            self.counts.borrow_mut().indel_codes += 1;
            return None;
        }
        let no_call = calls.is_empty() || calls.chars().all(|c| matches!(c, '-' | '0'));
        if !no_call && !calls.chars().all(|c| matches!(c, 'A' | 'C' | 'G' | 'T')) {
            return invalid(format!(
                "genotype `{calls}` is not made of A, C, G, T (or -- for no call)"
            ));
        }
        let Some(contig) = self.resolver.resolve(&chrom).map(String::from) else {
            return invalid(format!(
                "chromosome {chrom} is not in {}",
                self.genome.source_name()
            ));
        };
        let Some(start) = pos.checked_sub(1).and_then(|p| i64::try_from(p).ok()) else {
            return invalid(format!("position {pos} is not a 1-based position"));
        };
        let reference = match self.genome.fetch(&contig, start, start + 1) {
            Ok(b) => (b[0] as char).to_ascii_uppercase(),
            Err(e) => return invalid(format!("{e}")),
        };
        if !matches!(reference, 'A' | 'C' | 'G' | 'T') {
            return invalid(format!(
                "the genome has {reference} at {chrom}:{pos}, not a base to compare with"
            ));
        }
        let mut alts: Vec<char> = vec![];
        let gt: Vec<String> = if no_call {
            vec![".".into(); calls.len().clamp(1, 2)]
        } else {
            calls
                .chars()
                .map(|c| {
                    if c == reference {
                        "0".to_string()
                    } else {
                        let i = alts.iter().position(|&a| a == c).unwrap_or_else(|| {
                            alts.push(c);
                            alts.len() - 1
                        });
                        (i + 1).to_string()
                    }
                })
                .collect()
        };
        let alt = if alts.is_empty() {
            ".".to_string()
        } else {
            alts.iter()
                .map(char::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let raw = format!(
            "{chrom}\t{pos}\t{rsid}\t{reference}\t{alt}\t.\t.\t.\tGT\t{}",
            gt.join("/")
        );
        Some(match parse_line(&raw, line_no) {
            VcfItem::Record(mut r) => {
                r.raw = raw;
                VcfItem::Record(r)
            }
            other => other,
        })
    }
}

impl<R: BufRead> Iterator for GenotypeCalls<R> {
    type Item = Result<VcfItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.header_sent {
            self.header_sent = true;
            return Some(Ok(VcfItem::Header(format!(
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{}",
                self.sample
            ))));
        }
        loop {
            let (line_no, line) = match self.lines.next()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            if let Some(item) = self.convert(line_no, &line) {
                return Some(Ok(item));
            }
        }
    }
}

/// Refuses a genome that is not GRCh37 for these files (all three companies
/// report GRCh37 positions), from chr1's length; `Ok` when it cannot tell.
pub fn check_genome_build(genome: &Genome, layout: Layout, file: &str) -> Result<()> {
    let chr1 = ["chr1", "1"].iter().find_map(|n| genome.contig_length(n));
    match chr1 {
        Some(len) if len != CHR1_LENGTHS[0].0 && len > 200_000_000 => Err(Error::input(
            file,
            format!(
                "{} raw data gives GRCh37 (hg19) positions, but {} is another build (chr1 is {len} bp, GRCh37's is {}): choose an hg19 genome (hg19.2bit)",
                layout.name(),
                genome.source_name(),
                CHR1_LENGTHS[0].0
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_are_recognized() {
        assert_eq!(
            detect(
                b"# This data file generated by 23andMe\n# rsid\tchromosome\tposition\tgenotype\n"
            ),
            Some(Layout::TwentyThreeAndMe)
        );
        assert_eq!(
            detect(
                b"#AncestryDNA raw data download\nrsid\tchromosome\tposition\tallele1\tallele2\n"
            ),
            Some(Layout::AncestryDna)
        );
        assert_eq!(
            detect(b"# MyHeritage DNA raw data.\nRSID,CHROMOSOME,POSITION,RESULT\n"),
            Some(Layout::MyHeritage)
        );
        assert_eq!(
            detect(b"\"RSID\",\"CHROMOSOME\",\"POSITION\",\"RESULT\"\n"),
            Some(Layout::MyHeritage)
        );
        assert_eq!(detect(b"##fileformat=VCFv4.2\n"), None);
    }
}
