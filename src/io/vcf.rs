//! VCF input, streaming, plain or bgzip; header optional (the original
//! pipeline took headerless 5-column files).
//!
//! Written by hand rather than with noodles-vcf: we need only the first five
//! columns, must accept files without a header (noodles parses records
//! against one), must keep going past a malformed line with a per-line
//! message, and must write each input line back verbatim with INFO added.

use std::io::BufRead;

use super::lines::{read_line_capped, Capped, MAX_LINE_BYTES};
use crate::error::{Error, Result};

/// One VCF data line, split into what scoring needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcfRecord {
    /// 1-based line number in the input (0: not known, read through an index).
    pub line: usize,
    /// The line as read, without its line ending.
    pub raw: String,
    pub chrom: String,
    pub pos: u64,
    pub id: String,
    pub reference: String,
    pub alts: Vec<String>,
}

impl VcfRecord {
    /// Where the record is, for messages: `line N`, or `CHROM:POS` for a
    /// record read through an index (line 0: its line number is not known).
    pub fn place(&self) -> String {
        if self.line == 0 {
            format!("record {}:{}", self.chrom, self.pos)
        } else {
            format!("line {}", self.line)
        }
    }
}

/// A data line that cannot be read as a record, with what we could read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLine {
    pub line: usize,
    pub raw: String,
    /// Up to the first five columns, as text (missing ones empty).
    pub fields: [String; 5],
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VcfItem {
    /// A `#` line (meta-information or the column header), kept for VCF output.
    Header(String),
    Record(VcfRecord),
    Invalid(InvalidLine),
}

/// Data lines read before a file without a `#CHROM` line is judged: if none
/// of them has the shape of a VCF line, the file is refused.
pub const SNIFF_LINES: usize = 3;

/// The error for a file that is not a VCF at all (a letter renamed `.vcf`).
pub fn not_a_vcf(source_name: &str) -> Error {
    Error::input(
        source_name,
        "this does not look like a VCF (no #CHROM header, no tab-separated columns)",
    )
}

/// Has this data line the shape of a VCF line: at least five tab-separated
/// columns, the second a number?
fn vcf_shaped(text: &str) -> bool {
    let mut cols = text.split('\t');
    let pos = cols.nth(1).unwrap_or("");
    !pos.is_empty() && pos.bytes().all(|b| b.is_ascii_digit()) && cols.count() >= 3
}

/// Streams the items of a VCF. I/O errors (a truncated bgzip file) end the
/// stream with an error naming the file and line. A file without a `#CHROM`
/// line whose first data lines (up to [`SNIFF_LINES`]) have none the shape of
/// a VCF line is refused up front with [`not_a_vcf`], before any item.
pub struct VcfReader<R> {
    inner: R,
    line: usize,
    source_name: String,
    buf: Vec<u8>,
    failed: bool,
    /// Known to be a VCF (a `#CHROM` line or a VCF-shaped data line seen).
    judged: bool,
    /// Items read while the file is not yet judged, and data lines among them.
    pending: std::collections::VecDeque<Result<VcfItem>>,
    unjudged_lines: usize,
}

impl<R: BufRead> VcfReader<R> {
    pub fn new(inner: R, source_name: &str) -> Self {
        VcfReader {
            inner,
            line: 0,
            source_name: source_name.to_string(),
            buf: vec![],
            failed: false,
            judged: false,
            pending: Default::default(),
            unjudged_lines: 0,
        }
    }

    /// The next item as read, before the file is judged.
    fn read_item(&mut self) -> Option<Result<VcfItem>> {
        if self.failed {
            return None;
        }
        loop {
            let read = read_line_capped(&mut self.inner, &mut self.buf, MAX_LINE_BYTES);
            let too_long = match read {
                Ok(None) => return None,
                Ok(Some(Capped::Line)) => None,
                Ok(Some(Capped::TooLong(bytes))) => Some(bytes),
                Err(e) => {
                    self.failed = true;
                    return Some(Err(Error::input(
                        &self.source_name,
                        format!(
                            "cannot read past line {}: {e}; the file is truncated or corrupt (records up to there were read)",
                            self.line
                        ),
                    )));
                }
            };
            self.line += 1;
            if let Some(bytes) = too_long {
                return Some(Ok(VcfItem::Invalid(InvalidLine {
                    line: self.line,
                    raw: String::new(),
                    fields: Default::default(),
                    message: format!(
                        "{bytes} bytes, longer than the {} MiB a VCF line may have: skipped",
                        MAX_LINE_BYTES >> 20
                    ),
                })));
            }
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            if text.trim().is_empty() {
                continue;
            }
            if text.starts_with('#') {
                if text.starts_with("#CHROM") {
                    self.judged = true;
                }
                return Some(Ok(VcfItem::Header(text)));
            }
            if vcf_shaped(&text) {
                self.judged = true;
            }
            return Some(Ok(parse_line(&text, self.line)));
        }
    }
}

/// Parses one data line (`line` is its number, for messages).
pub fn parse_line(text: &str, line: usize) -> VcfItem {
    let cols: Vec<&str> = text.split('\t').collect();
    let mut fields: [String; 5] = Default::default();
    for (f, c) in fields.iter_mut().zip(&cols) {
        *f = c.to_string();
    }
    let invalid = |message: String| {
        VcfItem::Invalid(InvalidLine {
            line,
            raw: text.to_string(),
            fields: fields.clone(),
            message,
        })
    };
    if cols.len() < 5 {
        return invalid(format!(
            "{} tab-separated columns, need at least 5 (CHROM POS ID REF ALT)",
            cols.len()
        ));
    }
    let pos = match cols[1].parse::<u64>() {
        Ok(p) if p >= 1 => p,
        Ok(_) => return invalid("POS must be 1 or more".into()),
        Err(_) => return invalid(format!("POS `{}` is not a number", cols[1])),
    };
    if cols[0].is_empty() {
        return invalid("CHROM is empty".into());
    }
    if cols[3].is_empty() || cols[3] == "." {
        return invalid("REF is empty".into());
    }
    VcfItem::Record(VcfRecord {
        line,
        raw: text.to_string(),
        chrom: cols[0].to_string(),
        pos,
        id: cols[2].to_string(),
        reference: cols[3].to_string(),
        alts: cols[4].split(',').map(String::from).collect(),
    })
}

impl<R: BufRead> Iterator for VcfReader<R> {
    type Item = Result<VcfItem>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.judged {
            match self.read_item() {
                None => break,
                Some(item) => {
                    let data = matches!(item, Ok(VcfItem::Record(_) | VcfItem::Invalid(_)));
                    let read_error = item.is_err();
                    self.pending.push_back(item);
                    if data {
                        self.unjudged_lines += 1;
                    }
                    if read_error {
                        break;
                    }
                    if !self.judged && self.unjudged_lines >= SNIFF_LINES {
                        break;
                    }
                }
            }
        }
        if !self.judged {
            self.judged = true;
            if self.unjudged_lines > 0 {
                // Data lines, none of them VCF-shaped, and no `#CHROM` line.
                self.failed = true;
                self.pending.clear();
                return Some(Err(not_a_vcf(&self.source_name)));
            }
        }
        if let Some(item) = self.pending.pop_front() {
            return Some(item);
        }
        self.read_item()
    }
}

/// A VCF reader over any byte source, plain or bgzip (sniffed from the first
/// bytes). Plain gzip files that are not bgzip fail at the first block with a
/// message saying so.
pub fn vcf_reader<R: std::io::Read + 'static>(
    reader: R,
    source_name: &str,
) -> Result<VcfReader<Box<dyn BufRead>>> {
    let mut buffered = std::io::BufReader::new(reader);
    let head = buffered
        .fill_buf()
        .map_err(|e| Error::input(source_name, e))?;
    let inner: Box<dyn BufRead> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(noodles::bgzf::io::Reader::new(buffered))
    } else {
        Box::new(buffered)
    };
    Ok(VcfReader::new(inner, source_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headerless_five_columns_and_bad_lines() {
        let text =
            "chr1\t10\trs1\tA\tG,T\n#comment\n\nchr1\tx\tbad\tA\tG\nchr2\t5\n1\t7\t.\tAC\tA\r\n";
        let items: Vec<_> = VcfReader::new(text.as_bytes(), "v.vcf")
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 5);
        match &items[0] {
            VcfItem::Record(r) => {
                assert_eq!((r.chrom.as_str(), r.pos, r.line), ("chr1", 10, 1));
                assert_eq!(r.alts, ["G", "T"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[1], VcfItem::Header(h) if h == "#comment"));
        match &items[2] {
            VcfItem::Invalid(i) => {
                assert_eq!(i.line, 4);
                assert!(
                    i.message.contains("POS `x` is not a number"),
                    "{}",
                    i.message
                );
            }
            other => panic!("{other:?}"),
        }
        match &items[3] {
            VcfItem::Invalid(i) => assert!(
                i.message.contains("2 tab-separated columns"),
                "{}",
                i.message
            ),
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&items[4], VcfItem::Record(r) if r.raw == "1\t7\t.\tAC\tA" && r.line == 6)
        );
    }

    #[test]
    fn a_letter_is_not_a_vcf_but_a_headerless_file_with_one_good_line_is() {
        let letter = "Dear colleague,\n\nplease find attached the variants.\nBest,\nA.\n";
        let items: Vec<_> = VcfReader::new(letter.as_bytes(), "letter.vcf").collect();
        assert_eq!(items.len(), 1, "{items:?}");
        assert_eq!(
            items[0].as_ref().unwrap_err().to_string(),
            "letter.vcf: this does not look like a VCF (no #CHROM header, no tab-separated columns)"
        );
        // Two lines only, still judged at the end of the file.
        let short: Vec<_> = VcfReader::new(&b"##note\nhello\n"[..], "s.vcf").collect();
        assert_eq!(short.len(), 1);
        assert!(short[0].is_err());
        // A VCF-shaped line among the first ones, or a #CHROM line: read as before.
        let text = "bad line\nchr1\t10\t.\tA\tG\n";
        let items: Vec<_> = VcfReader::new(text.as_bytes(), "v.vcf")
            .map(Result::unwrap)
            .collect();
        assert!(matches!(&items[0], VcfItem::Invalid(i) if i.line == 1));
        assert!(matches!(&items[1], VcfItem::Record(r) if r.line == 2));
        let text = "#CHROM\tPOS\tID\tREF\tALT\nx\ny\nz\n";
        let items: Vec<_> = VcfReader::new(text.as_bytes(), "h.vcf")
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 4);
        // Headers only, or nothing: no data to judge, not refused.
        assert_eq!(VcfReader::new(&b"##a\n"[..], "e.vcf").count(), 1);
        assert_eq!(VcfReader::new(&b""[..], "e.vcf").count(), 0);
    }
}

/// The sample names of a `#CHROM` header line: the columns after FORMAT.
pub fn sample_names(header: &str) -> Option<Vec<String>> {
    if !header.starts_with("#CHROM") {
        return None;
    }
    Some(header.split('\t').skip(9).map(String::from).collect())
}

/// One sample's call at a record: its GT as written (`0/1`, `1|0`, `./.`)
/// and the allele index of each copy (`None` for a missing `.`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genotype {
    pub text: String,
    pub alleles: Vec<Option<usize>>,
}

impl Genotype {
    /// No allele called (`.`, `./.`).
    pub fn is_missing(&self) -> bool {
        self.alleles.iter().all(Option::is_none)
    }

    /// The ALT indices (1-based, as in GT) the sample carries, sorted, once each.
    pub fn carried(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .alleles
            .iter()
            .flatten()
            .copied()
            .filter(|&a| a > 0)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// The GT of sample `k` (0-based among the samples) on data line `raw`.
pub fn genotype(raw: &str, k: usize) -> std::result::Result<Genotype, String> {
    let cols: Vec<&str> = raw.split('\t').collect();
    let format = cols.get(8).ok_or("no FORMAT column")?;
    let gt = format
        .split(':')
        .position(|f| f == "GT")
        .ok_or("FORMAT has no GT")?;
    let sample = cols
        .get(9 + k)
        .ok_or_else(|| format!("{} columns, no column for sample {}", cols.len(), k + 1))?;
    // Trailing fields may be dropped (VCF 4.3, 1.6.2): a missing GT is `.`.
    let text = sample.split(':').nth(gt).unwrap_or(".").to_string();
    let alleles = text
        .split(['/', '|'])
        .map(|a| match a {
            "." => Ok(None),
            n => n
                .parse::<usize>()
                .map(Some)
                .map_err(|_| format!("GT `{text}` is not a genotype")),
        })
        .collect::<std::result::Result<Vec<_>, String>>()?;
    Ok(Genotype { text, alleles })
}

/// How many samples carry each ALT (1-based GT index `i` at position
/// `i - 1`) on data line `raw`; `None` without FORMAT/GT or samples.
pub fn carriers(raw: &str, n_alts: usize) -> Option<Vec<usize>> {
    let cols: Vec<&str> = raw.split('\t').collect();
    let gt = cols.get(8)?.split(':').position(|f| f == "GT")?;
    if cols.len() <= 9 {
        return None;
    }
    let mut counts = vec![0usize; n_alts];
    let mut seen = vec![false; n_alts];
    for sample in &cols[9..] {
        seen.iter_mut().for_each(|s| *s = false);
        let Some(text) = sample.split(':').nth(gt) else {
            continue;
        };
        for a in text.split(['/', '|']) {
            if let Ok(i) = a.parse::<usize>() {
                if (1..=n_alts).contains(&i) && !seen[i - 1] {
                    seen[i - 1] = true;
                    counts[i - 1] += 1;
                }
            }
        }
    }
    Some(counts)
}

#[cfg(test)]
mod genotype_tests {
    use super::*;

    #[test]
    fn genotypes_of_a_sample() {
        let line = "chr1\t10\t.\tA\tC,G\t.\t.\t.\tGT:DP\t0/1:9\t1|2:3\t./.:0\t0/0\t.";
        let g = |k| genotype(line, k).unwrap();
        assert_eq!(g(0).carried(), [1]);
        assert_eq!(g(1).carried(), [1, 2]);
        assert_eq!(g(1).text, "1|2");
        assert!(g(2).is_missing());
        assert!(g(3).carried().is_empty() && !g(3).is_missing());
        assert!(g(4).is_missing());
        assert!(genotype(line, 5)
            .unwrap_err()
            .contains("no column for sample 6"));
        assert!(genotype("chr1\t10\t.\tA\tC\t.\t.\t.\tDP\t3", 0)
            .unwrap_err()
            .contains("no GT"));
        assert!(genotype("chr1\t10\t.\tA\tC\t.\t.\t.\tGT\tx/1", 0)
            .unwrap_err()
            .contains("not a genotype"));
        assert_eq!(carriers(line, 2), Some(vec![2, 1]));
        assert_eq!(carriers("chr1\t10\t.\tA\tC", 1), None);
        assert_eq!(
            sample_names("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA1\tNA2"),
            Some(vec!["NA1".to_string(), "NA2".to_string()])
        );
    }
}
