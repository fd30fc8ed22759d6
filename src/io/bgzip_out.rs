//! Output written bgzip-compressed with a tabix index beside it
//! (`--out x.vcf.gz` / `x.tsv.gz` and `x.vcf.gz.tbi`), so that shards of a
//! run can be queried by region and merged without re-sorting.
//!
//! [`IndexedOutput`] is a `Write` that any writer of lines (the VCF and TSV
//! writers of `crate::output`) writes through: it compresses with BGZF and
//! notes each line's virtual offsets, chromosome and position for the index.
//! VCF lines are indexed over their REF (POS to POS + len(REF) - 1, as
//! `tabix -p vcf`); TSV rows (one per ALT, the first row the column names)
//! by their `pos` column alone. Lines that cannot be placed (a `pos` that is
//! not a number: rows of lines that were not VCF records) stay in the file
//! and out of the index; an output out of order (an unsorted input) is
//! written whole, and [`IndexedOutput::finish`] refuses to write an index,
//! naming the first line out of order.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use noodles::bgzf;
use noodles::core::Position;
use noodles::csi::binning_index::index::header::format::CoordinateSystem;
use noodles::csi::binning_index::index::header::{Builder, Format};
use noodles::csi::binning_index::index::reference_sequence::bin::Chunk;

use crate::error::{Error, Result};

/// What the lines are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `#` header lines, then VCF records.
    Vcf,
    /// A first line of column names, then rows: chrom, pos, id, ref, ...
    Tsv,
}

impl Layout {
    /// The layout a file name asks for with bgzip output: `*.vcf.gz`,
    /// `*.vcf.bgz`, `*.tsv.gz`, `*.tsv.bgz`; None for other names.
    pub fn of_gz_name(path: &Path) -> Option<Layout> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        let stem = name
            .strip_suffix(".gz")
            .or_else(|| name.strip_suffix(".bgz"))?;
        if stem.ends_with(".vcf") {
            Some(Layout::Vcf)
        } else if stem.ends_with(".tsv") || stem.ends_with(".txt") {
            Some(Layout::Tsv)
        } else {
            None
        }
    }
}

/// The path of the tabix index of `path`: `path` + `.tbi`.
pub fn tbi_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tbi");
    PathBuf::from(s)
}

/// What was indexed, for the run's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indexed {
    /// The bgzip file, and its index.
    pub file: PathBuf,
    pub index: PathBuf,
    /// Data lines in the index.
    pub lines: usize,
    /// Data lines left out of the index (no position).
    pub unplaced: usize,
}

/// A BGZF writer that indexes the lines written through it.
pub struct IndexedOutput {
    path: PathBuf,
    layout: Layout,
    writer: bgzf::io::Writer<File>,
    /// The line being written, and where it began.
    line: Vec<u8>,
    line_start: bgzf::VirtualPosition,
    line_no: usize,
    indexer: noodles::tabix::index::Indexer,
    indexed: usize,
    unplaced: usize,
    /// The first reason the output cannot be indexed (then nothing more is indexed).
    problem: Option<String>,
}

impl IndexedOutput {
    /// Creates `path` (and removes a `.tbi` beside it, which would describe
    /// an older file until [`finish`](Self::finish) writes the new one).
    pub fn create(path: &Path, layout: Layout) -> Result<IndexedOutput> {
        let file = File::create(path).map_err(|e| Error::input(path.display(), e))?;
        let tbi = tbi_path(path);
        if tbi.exists() {
            std::fs::remove_file(&tbi).map_err(|e| {
                Error::input(tbi.display(), format!("cannot remove the old index: {e}"))
            })?;
        }
        let mut indexer = noodles::tabix::index::Indexer::default();
        indexer.set_header(match layout {
            Layout::Vcf => Builder::vcf().build(),
            Layout::Tsv => Builder::vcf()
                .set_format(Format::Generic(CoordinateSystem::Gff))
                .set_end_position_index(Some(1))
                .set_line_skip_count(1)
                .build(),
        });
        let writer = bgzf::io::Writer::new(file);
        Ok(IndexedOutput {
            path: path.to_path_buf(),
            layout,
            line_start: writer.virtual_position(),
            writer,
            line: vec![],
            line_no: 0,
            indexer,
            indexed: 0,
            unplaced: 0,
            problem: None,
        })
    }

    /// A line was written whole: index it.
    fn end_line(&mut self) {
        self.line_no += 1;
        let end_vp = self.writer.virtual_position();
        let start_vp = std::mem::replace(&mut self.line_start, end_vp);
        let text = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if self.problem.is_some() {
            return;
        }
        let text = text.trim_end_matches(['\n', '\r']);
        if text.starts_with('#') || (self.layout == Layout::Tsv && self.line_no == 1) {
            return;
        }
        let cols: Vec<&str> = text.splitn(5, '\t').collect();
        let pos = cols
            .get(1)
            .and_then(|p| p.parse::<usize>().ok())
            .and_then(Position::new);
        let (Some(chrom), Some(start)) = (cols.first().filter(|c| !c.is_empty()), pos) else {
            self.unplaced += 1;
            return;
        };
        let end = match self.layout {
            Layout::Tsv => Some(start),
            Layout::Vcf => {
                let ref_len = cols.get(3).map_or(1, |r| r.len().max(1));
                usize::from(start)
                    .checked_add(ref_len - 1)
                    .and_then(Position::new)
            }
        };
        let Some(end) = end else {
            self.unplaced += 1;
            return;
        };
        if let Err(e) = self
            .indexer
            .add_record(chrom, start, end, Chunk::new(start_vp, end_vp))
        {
            let why = match e.to_string() {
                s if s.contains("out of order") || s.contains("OutOfOrder") => {
                    "it comes before the line above it (records must be sorted by contig and position)".to_string()
                }
                s => s,
            };
            self.problem = Some(format!(
                "line {} ({chrom}:{start}) cannot be indexed: {why}",
                self.line_no
            ));
            return;
        }
        self.indexed += 1;
    }

    /// Ends the BGZF stream and writes the index beside the file. An output
    /// that cannot be indexed is kept, without an index, and is an error.
    pub fn finish(mut self) -> Result<Indexed> {
        let name = self.path.display().to_string();
        if !self.line.is_empty() {
            // A last line without a line ending.
            self.end_line();
        }
        let mut file = self
            .writer
            .finish()
            .map_err(|e| Error::input(&name, format!("cannot write: {e}")))?;
        file.flush()
            .map_err(|e| Error::input(&name, format!("cannot write: {e}")))?;
        if let Some(problem) = self.problem {
            return Err(Error::input(
                &name,
                format!("written, but not indexed: {problem}; sort the input (e.g. `bcftools sort`) for an index"),
            ));
        }
        let index = self.indexer.build();
        let tbi = tbi_path(&self.path);
        noodles::tabix::fs::write(&tbi, &index)
            .map_err(|e| Error::input(tbi.display(), format!("cannot write the index: {e}")))?;
        Ok(Indexed {
            file: self.path,
            index: tbi,
            lines: self.indexed,
            unplaced: self.unplaced,
        })
    }
}

impl Write for IndexedOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let (piece, done) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..=i], true),
                None => (rest, false),
            };
            self.writer.write_all(piece)?;
            self.line.extend_from_slice(piece);
            if done {
                self.end_line();
            }
            rest = &rest[piece.len()..];
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_of_names() {
        let l = |s: &str| Layout::of_gz_name(Path::new(s));
        assert_eq!(l("a/x.vcf.gz"), Some(Layout::Vcf));
        assert_eq!(l("x.VCF.bgz"), Some(Layout::Vcf));
        assert_eq!(l("x.tsv.gz"), Some(Layout::Tsv));
        assert_eq!(l("x.tsv"), None);
        assert_eq!(l("x.gz"), None);
    }

    #[test]
    fn unsorted_lines_are_written_and_refused_an_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vcf.gz");
        let mut out = IndexedOutput::create(&path, Layout::Vcf).unwrap();
        out.write_all(b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr1\t20\t.\tA\tG\n")
            .unwrap();
        // A line written in pieces is one line.
        out.write_all(b"chr1\t10").unwrap();
        out.write_all(b"\t.\tA\tG\n").unwrap();
        let e = out.finish().unwrap_err().to_string();
        assert!(
            e.contains("x.vcf.gz: written, but not indexed: line 4 (chr1:10)"),
            "{e}"
        );
        assert!(path.exists() && !tbi_path(&path).exists());
        // Sorted, with a line that has no position: indexed, that line apart.
        let mut out = IndexedOutput::create(&path, Layout::Tsv).unwrap();
        out.write_all(
            b"chrom\tpos\tid\tref\talt\nchr1\t5\t.\tA\tG\nchr1\tx\t.\tA\tG\nchr2\t1\t.\tAC\tG",
        )
        .unwrap();
        let done = out.finish().unwrap();
        assert_eq!((done.lines, done.unplaced), (2, 1));
        assert!(done.index.exists());
    }
}
