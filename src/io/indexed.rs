//! Region access to a bgzip VCF through its tabix (`.tbi`) or CSI (`.csi`)
//! index: only the BGZF blocks the index names for the regions are read.
//!
//! The index gives candidate chunks; each candidate line is parsed by the
//! same hand-written reader as a streamed VCF ([`super::vcf::parse_line`])
//! and kept when its REF overlaps a region (the rule of a streamed
//! `--regions`), so an indexed run keeps exactly the records a streamed one
//! would. Chunks of one contig are merged before reading, and contigs are
//! read in the index's order (the file's), so every record comes once, in
//! input order. Line numbers are not known without reading the file from
//! its start: records read this way carry line 0 (messages then name the
//! record by its position).

use std::cell::Cell;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use noodles::bgzf;
use noodles::core::region::Interval;
use noodles::core::Position;
use noodles::csi::binning_index::index::reference_sequence::bin::Chunk;
use noodles::csi::binning_index::{merge_chunks, BinningIndex};

use super::bed::Regions;
use super::lines::{read_line_capped, Capped, MAX_LINE_BYTES};
use super::vcf::{parse_line, VcfItem};
use crate::error::{Error, Result};

/// The index files looked for beside `vcf`, in order: `.tbi`, then `.csi`.
pub fn index_candidates(vcf: &Path) -> [PathBuf; 2] {
    let with = |ext: &str| {
        let mut s = vcf.as_os_str().to_owned();
        s.push(ext);
        PathBuf::from(s)
    };
    [with(".tbi"), with(".csi")]
}

/// Is the file bgzip (or gzip) compressed? (Its first two bytes.)
pub fn is_gzip(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut head = [0u8; 2];
    let mut f = File::open(path).map_err(|e| Error::input(path.display(), e))?;
    let mut n = 0;
    while n < 2 {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(Error::input(path.display(), e)),
        }
    }
    Ok(n == 2 && head == [0x1f, 0x8b])
}

/// The index of `vcf`, if one is beside it: its path and contents.
pub fn find_index(vcf: &Path) -> Result<Option<(PathBuf, Box<dyn BinningIndex>)>> {
    for path in index_candidates(vcf) {
        if !path.exists() {
            continue;
        }
        let name = path.display().to_string();
        let tbi = path.extension().is_some_and(|e| e == "tbi");
        let index: Box<dyn BinningIndex> = if tbi {
            Box::new(
                noodles::tabix::fs::read(&path).map_err(|e| {
                    Error::input(&name, format!("cannot read this tabix index: {e}"))
                })?,
            )
        } else {
            Box::new(
                noodles::csi::fs::read(&path)
                    .map_err(|e| Error::input(&name, format!("cannot read this CSI index: {e}")))?,
            )
        };
        return Ok(Some((path, index)));
    }
    Ok(None)
}

/// The error for a VCF that region access cannot read by index.
pub fn no_index(vcf: &Path) -> Error {
    let [tbi, csi] = index_candidates(vcf);
    Error::input(
        vcf.display(),
        format!(
            "no index found (looked for {} and {}); index it with `tabix -p vcf {}` or `brain-resnet concat --out OUT.vcf.gz {}` (bgzip + .tbi)",
            tbi.display(),
            csi.display(),
            vcf.display(),
            vcf.display()
        ),
    )
}

/// The error for a plain-text VCF given with `--region`.
pub fn not_bgzip(vcf: &Path) -> Error {
    Error::input(
        vcf.display(),
        format!(
            "region access needs a bgzip-compressed VCF with a tabix (.tbi) or CSI (.csi) index, and this file is not compressed; make one with `brain-resnet concat --out OUT.vcf.gz {}`",
            vcf.display()
        ),
    )
}

/// What an indexed read found besides the records.
#[derive(Debug, Default, Clone)]
pub struct IndexedReport {
    /// Region contigs the index does not list (no records there).
    pub absent_contigs: Vec<String>,
    /// The index is older than the VCF (it may not describe it).
    pub stale: bool,
    /// Lines in the chunks read that are not VCF records, left out (they
    /// have no position to place them in a region); counted as they are read.
    pub invalid_lines: Rc<Cell<usize>>,
}

/// The header lines and the records of a bgzip VCF overlapping regions,
/// read through its index, streamed in input order.
pub struct IndexedVcf {
    name: String,
    index_name: String,
    reader: bgzf::io::Reader<File>,
    /// Header lines, then nothing: the header is read up front.
    header: std::collections::VecDeque<String>,
    /// Per contig (in the file's order): its name and merged chunks.
    plan: std::collections::VecDeque<(String, Vec<Chunk>)>,
    /// The contig and chunk being read.
    current: Option<(String, std::vec::IntoIter<Chunk>)>,
    /// The end of the chunk being read (None: seek to the next chunk).
    chunk_end: Option<bgzf::VirtualPosition>,
    regions: Regions,
    buf: Vec<u8>,
    invalid_lines: Rc<Cell<usize>>,
    failed: bool,
}

impl IndexedVcf {
    /// Opens `vcf` for the records overlapping `regions`, through `index`
    /// (read from `index_path`). `same_contig(a, b)` says whether two contig
    /// names are one (`1` and `chr1`, through the genome's names); a region
    /// contig is matched to an index contig of the same name first.
    pub fn open(
        vcf: &Path,
        index_path: &Path,
        index: &dyn BinningIndex,
        regions: Regions,
        mut same_contig: impl FnMut(&str, &str) -> bool,
    ) -> Result<(IndexedVcf, IndexedReport)> {
        let name = vcf.display().to_string();
        let index_name = index_path.display().to_string();
        let header = index.header().ok_or_else(|| {
            Error::input(
                &index_name,
                "this index has no tabix header (contig names): is it the index of a VCF?",
            )
        })?;
        let names: Vec<String> = header
            .reference_sequence_names()
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        let (regions, absent_contigs) = regions.rekeyed(|r| {
            if names.iter().any(|n| n == r) {
                return Some(r.to_string());
            }
            names.iter().find(|n| same_contig(r, n)).cloned()
        });
        let max_position = 1u64
            .checked_shl(u32::from(index.min_shift()) + 3 * u32::from(index.depth()))
            .unwrap_or(u64::MAX);
        let mut plan = std::collections::VecDeque::new();
        for (id, contig) in names.iter().enumerate() {
            let mut chunks: Vec<Chunk> = vec![];
            for &(start, end) in regions.spans(contig) {
                // BED [start, end) is 1-based [start + 1, end]; beyond the
                // index's reach there is nothing to find.
                let Some(first) = start.checked_add(1).filter(|&s| s <= max_position) else {
                    continue;
                };
                let last = end.min(max_position);
                let to_pos = |p: u64| usize::try_from(p).ok().and_then(Position::new);
                let (Some(a), Some(b)) = (to_pos(first), to_pos(last)) else {
                    continue;
                };
                if b < a {
                    continue;
                }
                let found = index.query(id, Interval::from(a..=b)).map_err(|e| {
                    Error::input(
                        &index_name,
                        format!("cannot query {contig}:{first}-{last}: {e}"),
                    )
                })?;
                chunks.extend(found);
            }
            if !chunks.is_empty() {
                plan.push_back((contig.clone(), merge_chunks(&chunks)));
            }
        }
        let file = File::open(vcf).map_err(|e| Error::input(&name, e))?;
        let invalid_lines = Rc::new(Cell::new(0));
        let mut me = IndexedVcf {
            name,
            index_name,
            reader: bgzf::io::Reader::new(file),
            header: Default::default(),
            plan,
            current: None,
            chunk_end: None,
            regions,
            buf: vec![],
            invalid_lines: invalid_lines.clone(),
            failed: false,
        };
        // The header: the `#` lines at the start.
        loop {
            let read = read_line_capped(&mut me.reader, &mut me.buf, MAX_LINE_BYTES)
                .map_err(|e| me.read_error(e))?;
            match read {
                Some(Capped::Line) if me.buf.starts_with(b"#") => me
                    .header
                    .push_back(String::from_utf8_lossy(&me.buf).into_owned()),
                Some(Capped::TooLong(n)) => {
                    return Err(Error::input(
                        &me.name,
                        format!(
                            "a line of {n} bytes in the header, longer than the {} MiB a VCF line may have",
                            MAX_LINE_BYTES >> 20
                        ),
                    ))
                }
                _ => break,
            }
        }
        let report = IndexedReport {
            absent_contigs,
            stale: is_older(index_path, vcf),
            invalid_lines,
        };
        Ok((me, report))
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        Error::input(
            &self.name,
            format!(
                "cannot read: {e}; the file is truncated or corrupt, or not the file {} indexes",
                self.index_name
            ),
        )
    }

    /// The next record in a region, or None at the end.
    fn next_record(&mut self) -> Result<Option<VcfItem>> {
        loop {
            let Some((contig, chunks)) = &mut self.current else {
                match self.plan.pop_front() {
                    Some((contig, chunks)) => self.current = Some((contig, chunks.into_iter())),
                    None => return Ok(None),
                }
                continue;
            };
            let Some(end) = self.chunk_end else {
                match chunks.next() {
                    Some(chunk) => {
                        let start = chunk.start();
                        self.chunk_end = Some(chunk.end());
                        self.reader.seek(start).map_err(|e| self.read_error(e))?;
                    }
                    None => self.current = None,
                }
                continue;
            };
            let contig = contig.clone();
            if self.reader.virtual_position() >= end {
                self.chunk_end = None;
                continue;
            }
            let read = read_line_capped(&mut self.reader, &mut self.buf, MAX_LINE_BYTES)
                .map_err(|e| self.read_error(e))?;
            match read {
                None => self.chunk_end = None,
                Some(Capped::TooLong(_)) => self.invalid_lines.set(self.invalid_lines.get() + 1),
                Some(Capped::Line) => {
                    let text = String::from_utf8_lossy(&self.buf);
                    if text.starts_with('#') || text.trim().is_empty() {
                        continue;
                    }
                    match parse_line(&text, 0) {
                        VcfItem::Record(r) => {
                            let start = r.pos - 1;
                            let end = start.saturating_add(r.reference.len() as u64);
                            if r.chrom == contig && self.regions.overlaps(&contig, start, end) {
                                return Ok(Some(VcfItem::Record(r)));
                            }
                        }
                        _ => self.invalid_lines.set(self.invalid_lines.get() + 1),
                    }
                }
            }
        }
    }
}

impl Iterator for IndexedVcf {
    type Item = Result<VcfItem>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Some(h) = self.header.pop_front() {
            return Some(Ok(VcfItem::Header(h)));
        }
        match self.next_record() {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Was `a` last modified before `b`? (False when either time is unknown.)
fn is_older(a: &Path, b: &Path) -> bool {
    let time = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((time(a), time(b)), (Some(ta), Some(tb)) if ta < tb)
}
