//! Regions to keep (`--regions file.bed`, a BED input in the page): a GWAS
//! locus, a set of brain enhancers. BED columns 1-3 (chrom, 0-based start,
//! end, half-open) are read; `track`, `browser` and `#` lines are skipped.
//!
//! Written by hand (three columns; noodles' BED reader wants typed records
//! of a fixed layout): every line is capped; a bad line is an error naming
//! it rather than a skipped region, since a region silently dropped would
//! silently drop the variants in it.

use std::collections::HashMap;
use std::io::BufRead;

use crate::error::{Error, Result};
use crate::io::lines::TableLines;

/// Regions by contig name, sorted and merged.
#[derive(Debug, Clone, Default)]
pub struct Regions {
    by_contig: HashMap<String, Vec<(u64, u64)>>,
    count: usize,
}

impl Regions {
    /// Lines read as regions.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Contig names as the BED gives them.
    pub fn contigs(&self) -> impl Iterator<Item = &str> {
        self.by_contig.keys().map(String::as_str)
    }

    /// Does `[start, end)` on `contig` (a BED name) overlap a region? An
    /// empty span (`start == end`) counts where it touches one.
    pub fn overlaps(&self, contig: &str, start: u64, end: u64) -> bool {
        let Some(v) = self.by_contig.get(contig) else {
            return false;
        };
        let end = end.max(start + 1);
        // The first region ending after `start`.
        let i = v.partition_point(|&(_, e)| e <= start);
        v.get(i).is_some_and(|&(s, _)| s < end)
    }
}

impl Regions {
    /// Regions from `(contig, start, end)` spans (BED coordinates), merged.
    pub fn from_spans<I: IntoIterator<Item = (String, u64, u64)>>(spans: I) -> Regions {
        let mut by_contig: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
        let mut count = 0;
        for (contig, start, end) in spans {
            by_contig.entry(contig).or_default().push((start, end));
            count += 1;
        }
        for v in by_contig.values_mut() {
            merge(v);
        }
        Regions { by_contig, count }
    }

    /// These regions and `other`'s, merged.
    pub fn union(mut self, other: Regions) -> Regions {
        for (contig, v) in other.by_contig {
            let mine = self.by_contig.entry(contig).or_default();
            mine.extend(v);
            merge(mine);
        }
        self.count += other.count;
        self
    }

    /// The merged, sorted spans on `contig` (BED coordinates; empty when none).
    pub fn spans(&self, contig: &str) -> &[(u64, u64)] {
        self.by_contig.get(contig).map_or(&[], Vec::as_slice)
    }
}

/// Reads a region as `samtools`/`tabix` write one: `chr1:1-5000000`
/// (1-based, inclusive; commas in numbers allowed), `chr1:1000` (one base)
/// or `chr1` (the whole contig). Returns BED coordinates (0-based start,
/// end exclusive). The contig is what comes before the last `:`.
pub fn parse_region(text: &str) -> std::result::Result<(String, u64, u64), String> {
    let bad = |m: String| {
        format!("region `{text}`: {m} (expected chrom:start-end, 1-based inclusive, e.g. chr1:1-5000000)")
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("empty".into()));
    }
    let Some((contig, span)) = t.rsplit_once(':') else {
        return Ok((t.to_string(), 0, u64::MAX));
    };
    if contig.is_empty() {
        return Err(bad("no contig name before `:`".into()));
    }
    let num = |s: &str, what: &str| -> std::result::Result<u64, String> {
        let digits: String = s.chars().filter(|&c| c != ',').collect();
        digits
            .parse::<u64>()
            .map_err(|_| bad(format!("{what} `{s}` is not a whole number")))
    };
    let (start, end) = match span.split_once('-') {
        Some((s, e)) => (num(s, "start")?, num(e, "end")?),
        None => {
            let p = num(span, "position")?;
            (p, p)
        }
    };
    if start == 0 {
        return Err(bad("start must be 1 or more (positions are 1-based)".into()));
    }
    if end < start {
        return Err(bad(format!("end {end} is before start {start}")));
    }
    Ok((contig.to_string(), start - 1, end))
}

impl Regions {
    /// The same regions keyed by `rename(bed_name)` (e.g. the genome's
    /// contig names; `1` and `chr1` may become one), merged; names that
    /// `rename` maps to nothing are returned apart.
    pub fn rekeyed(self, mut rename: impl FnMut(&str) -> Option<String>) -> (Regions, Vec<String>) {
        let mut by_contig: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
        let mut missing = vec![];
        for (name, v) in self.by_contig {
            match rename(&name) {
                Some(new) => by_contig.entry(new).or_default().extend(v),
                None => missing.push(name),
            }
        }
        for v in by_contig.values_mut() {
            merge(v);
        }
        missing.sort();
        (
            Regions {
                by_contig,
                count: self.count,
            },
            missing,
        )
    }
}

fn merge(v: &mut Vec<(u64, u64)>) {
    v.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for &(s, e) in v.iter() {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    *v = merged;
}

/// Reads a BED file (`source_name` for errors).
pub fn read_bed<R: BufRead>(reader: R, source_name: &str) -> Result<Regions> {
    let mut by_contig: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    let mut count = 0;
    for item in TableLines::new(reader, source_name) {
        let (line_no, line) = item?;
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with("track") || t.starts_with("browser")
        {
            continue;
        }
        let cols: Vec<&str> = t.split(['\t', ' ']).filter(|c| !c.is_empty()).collect();
        let bad = |m: String| Error::input(source_name, format!("line {line_no}: {m}"));
        if cols.len() < 3 {
            return Err(bad(format!(
                "{} columns, a BED line needs chrom, start, end",
                cols.len()
            )));
        }
        let num = |c: &str, what: &str| {
            c.parse::<u64>()
                .map_err(|_| bad(format!("{what} `{c}` is not a whole number")))
        };
        let (start, end) = (num(cols[1], "start")?, num(cols[2], "end")?);
        if end < start {
            return Err(bad(format!("end {end} is before start {start}")));
        }
        by_contig
            .entry(cols[0].to_string())
            .or_default()
            .push((start, end));
        count += 1;
    }
    for v in by_contig.values_mut() {
        merge(v);
    }
    if count == 0 {
        return Err(Error::input(
            source_name,
            "no regions (expected chrom<TAB>start<TAB>end lines)",
        ));
    }
    Ok(Regions { by_contig, count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_merge_and_overlap_half_open() {
        let bed = b"track name=x\n# comment\nchr1\t100\t200\tpeak1\nchr1 150 300\nchr1\t500\t500\nchr2\t0\t10\n";
        let r = read_bed(&bed[..], "r.bed").unwrap();
        assert_eq!(r.len(), 4);
        assert!(r.overlaps("chr1", 99, 101));
        assert!(!r.overlaps("chr1", 99, 100));
        assert!(r.overlaps("chr1", 299, 300));
        assert!(!r.overlaps("chr1", 300, 301));
        assert!(
            !r.overlaps("chr1", 500, 501),
            "an empty region holds nothing"
        );
        assert!(r.overlaps("chr2", 5, 5), "an empty span touching a region");
        assert!(!r.overlaps("chr3", 0, 100));
    }

    #[test]
    fn regions_as_text() {
        assert_eq!(
            parse_region("chr1:1-5,000,000"),
            Ok(("chr1".into(), 0, 5_000_000))
        );
        assert_eq!(parse_region("chr2:7"), Ok(("chr2".into(), 6, 7)));
        assert_eq!(parse_region("chrX"), Ok(("chrX".into(), 0, u64::MAX)));
        assert_eq!(
            parse_region("HLA-A*01:01:5-6"),
            Ok(("HLA-A*01:01".into(), 4, 6))
        );
        for (text, want) in [
            ("chr1:0-5", "start must be 1 or more"),
            ("chr1:9-5", "end 5 is before start 9"),
            ("chr1:a-5", "start `a` is not a whole number"),
            ("chr1:1-", "end `` is not a whole number"),
            (":1-5", "no contig name"),
            ("", "empty"),
        ] {
            let e = parse_region(text).unwrap_err();
            assert!(
                e.contains(want) && e.contains("chrom:start-end"),
                "{text}: {e}"
            );
        }
        let r = Regions::from_spans([("chr1".into(), 10, 20), ("chr1".into(), 15, 30)]);
        assert_eq!(r.spans("chr1"), [(10, 30)]);
        let r = r.union(Regions::from_spans([
            ("chr1".into(), 30, 40),
            ("chr2".into(), 0, 1),
        ]));
        assert_eq!(
            (r.spans("chr1"), r.spans("chr2"), r.len()),
            (&[(10, 40)][..], &[(0, 1)][..], 4)
        );
        assert!(r.spans("chr3").is_empty());
    }

    #[test]
    fn bad_lines_are_errors_naming_them() {
        for (bed, want) in [
            (&b"chr1\t100\n"[..], "r.bed: line 1: 2 columns"),
            (
                b"chr1\t1\t2\nchr1\tten\t20\n",
                "r.bed: line 2: start `ten` is not a whole number",
            ),
            (b"chr1\t20\t10\n", "line 1: end 10 is before start 20"),
            (b"# nothing\n", "r.bed: no regions"),
        ] {
            let e = read_bed(bed, "r.bed").unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }
}
