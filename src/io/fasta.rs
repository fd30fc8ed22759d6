//! Plain sequence input: FASTA records to be predicted as windows, streamed.
//!
//! Read by hand rather than with noodles' FASTA reader, which buffers each
//! record whole: a genome chosen here by mistake would be loaded contig by
//! contig (hundreds of MB). [`FastaReader`] keeps at most `max_bases` bases of
//! a record (one more than fits a window is enough to refuse it) and counts
//! the rest, with lines capped as in [`super::lines`].

use std::io::BufRead;

use super::lines::{read_line_capped, Capped, MAX_LINE_BYTES};
use crate::error::{Error, Result};

/// A named sequence, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRecord {
    pub name: String,
    /// The bases kept (at most the reader's `max_bases`).
    pub sequence: Vec<u8>,
    /// The record's full length in bases, counted even where not kept.
    pub length: u64,
}

impl SequenceRecord {
    /// Were bases left out (the record is longer than the reader keeps)?
    pub fn truncated(&self) -> bool {
        self.length > self.sequence.len() as u64
    }
}

/// Streams the records of a FASTA, keeping at most `max_bases` bases each.
pub struct FastaReader<R> {
    inner: R,
    source_name: String,
    max_bases: usize,
    buf: Vec<u8>,
    line: usize,
    /// The header of the next record, already read.
    next_name: Option<String>,
    records: usize,
    done: bool,
}

impl<R: BufRead> FastaReader<R> {
    pub fn new(inner: R, source_name: &str, max_bases: usize) -> Self {
        FastaReader {
            inner,
            source_name: source_name.to_string(),
            max_bases,
            buf: vec![],
            line: 0,
            next_name: None,
            records: 0,
            done: false,
        }
    }

    fn error(&mut self, message: String) -> Option<Result<SequenceRecord>> {
        self.done = true;
        Some(Err(Error::input(&self.source_name, message)))
    }
}

impl<R: BufRead> Iterator for FastaReader<R> {
    type Item = Result<SequenceRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut record: Option<SequenceRecord> = self.next_name.take().map(|name| SequenceRecord {
            name,
            sequence: vec![],
            length: 0,
        });
        loop {
            let read = match read_line_capped(&mut self.inner, &mut self.buf, MAX_LINE_BYTES) {
                Ok(r) => r,
                Err(e) => {
                    let line = self.line;
                    return self.error(format!("cannot read past line {line}: {e}"));
                }
            };
            self.line += 1;
            let line = self.line;
            match read {
                None => {
                    self.done = true;
                    if record.is_none() && self.records == 0 {
                        return Some(Err(Error::input(
                            &self.source_name,
                            "no FASTA records (expected lines like `>name` followed by sequence)",
                        )));
                    }
                    if record.is_some() {
                        self.records += 1;
                    }
                    return record.map(Ok);
                }
                Some(Capped::TooLong(bytes)) => match record.as_mut() {
                    Some(r) => r.length = r.length.saturating_add(bytes),
                    None => {
                        return self.error(format!(
                            "line {line}: {bytes} bytes before the first `>` header: not FASTA"
                        ))
                    }
                },
                Some(Capped::Line) => {
                    if let Some(header) = self.buf.strip_prefix(b">") {
                        let name = String::from_utf8_lossy(header)
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_string();
                        if record.is_some() {
                            self.next_name = Some(name);
                            self.records += 1;
                            return record.map(Ok);
                        }
                        record = Some(SequenceRecord {
                            name,
                            sequence: vec![],
                            length: 0,
                        });
                        continue;
                    }
                    let bases = self.buf.iter().filter(|b| !b.is_ascii_whitespace());
                    match record.as_mut() {
                        Some(r) => {
                            for &b in bases {
                                if r.sequence.len() < self.max_bases {
                                    r.sequence.push(b);
                                }
                                r.length += 1;
                            }
                        }
                        None if bases.count() == 0 => {}
                        None => {
                            return self.error(format!(
                                "line {line}: sequence before the first `>` header: not FASTA"
                            ))
                        }
                    }
                }
            }
        }
    }
}

/// Reads every record of a FASTA stream whole (`source_name` names it in
/// errors); for text already in memory (pasted sequences). An input without
/// records is an error: it is almost always the wrong file.
pub fn read_fasta<R: BufRead>(reader: R, source_name: &str) -> Result<Vec<SequenceRecord>> {
    FastaReader::new(reader, source_name, usize::MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_line_records() {
        let recs = read_fasta(&b">a desc\nACGT\nac\n>b\nNN\n"[..], "x.fa").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].name, "a");
        assert_eq!(recs[0].sequence, b"ACGTac");
        assert_eq!(recs[1].sequence, b"NN");
    }

    #[test]
    fn empty_input_is_an_error_naming_the_file() {
        let err = read_fasta(&b""[..], "empty.fa").unwrap_err().to_string();
        assert!(
            err.starts_with("empty.fa:") && err.contains("no FASTA records"),
            "{err}"
        );
        let err = read_fasta(&b"ACGT\n"[..], "nohdr.fa")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("nohdr.fa:"), "{err}");
    }

    #[test]
    fn long_records_are_counted_not_kept() {
        let text = format!(
            ">big\n{}\n{}\n>small\nAC\n",
            "A".repeat(700),
            "C".repeat(700)
        );
        let recs: Vec<_> = FastaReader::new(text.as_bytes(), "g.fa", 1001)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!((recs[0].length, recs[0].sequence.len()), (1400, 1001));
        assert!(recs[0].truncated() && !recs[1].truncated());
        assert_eq!(recs[1].sequence, b"AC");
    }
}
