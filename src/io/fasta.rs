//! Plain sequence input: FASTA records to be predicted as windows, streamed.
//!
//! Read by hand rather than with noodles' FASTA reader, which buffers each
//! record whole: a genome chosen here by mistake would be loaded contig by
//! contig (hundreds of MB). [`FastaReader`] keeps at most `max_bases` bases of
//! a record (one more than fits a window is enough to refuse it) and counts
//! the rest, with lines capped as in [`super::lines`].
//!
//! The reader also notes what a user should hear about each record
//! ([`SequenceRecord::check`]): a letter that is not a base, a header without
//! sequence, IUPAC ambiguity codes (read as N), padding to the window. Text
//! with no `>name` line at all that reads as sequence is taken as one record
//! named [`HEADERLESS_NAME`].

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
    /// The first letter that is not a base (A C G T N or an IUPAC code, any
    /// case), with its 1-based position in the record.
    pub invalid: Option<(u64, u8)>,
    /// IUPAC ambiguity codes read (kept as N), and the first one with its
    /// 1-based position.
    pub ambiguous: u64,
    pub first_ambiguous: Option<(u64, u8)>,
    /// Read from text without any `>name` line (named [`HEADERLESS_NAME`]).
    pub headerless: bool,
}

/// The name given to a sequence pasted or read without any `>name` line.
pub const HEADERLESS_NAME: &str = "sequence";

/// What a user is told about one record before it is predicted: an error
/// (it is not predicted), warnings and notes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordCheck {
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

/// A letter as shown in a message: `X`, or its byte value where it is not printable.
fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02X}")
    }
}

impl SequenceRecord {
    fn named(name: String) -> Self {
        SequenceRecord {
            name,
            sequence: vec![],
            length: 0,
            invalid: None,
            ambiguous: 0,
            first_ambiguous: None,
            headerless: false,
        }
    }

    /// Were bases left out (the record is longer than the reader keeps)?
    pub fn truncated(&self) -> bool {
        self.length > self.sequence.len() as u64
    }

    /// Adds one base (not whitespace), keeping at most `max` bases.
    fn push(&mut self, b: u8, max: usize) {
        self.length += 1;
        let kept = match b.to_ascii_uppercase() {
            b'A' | b'C' | b'G' | b'T' | b'N' => b,
            b'R' | b'Y' | b'S' | b'W' | b'K' | b'M' | b'B' | b'D' | b'H' | b'V' => {
                self.ambiguous += 1;
                self.first_ambiguous.get_or_insert((self.length, b));
                b'N'
            }
            _ => {
                self.invalid.get_or_insert((self.length, b));
                b
            }
        };
        if self.sequence.len() < max {
            self.sequence.push(kept);
        }
    }

    /// What to say about this record for a model with a `window`-bp input:
    /// no sequence, a letter that is not a base, or more than `window` bp are
    /// errors (the record is not predicted); IUPAC codes a warning (read as
    /// N); a headerless text and padding to the window are notes.
    pub fn check(&self, window: usize) -> RecordCheck {
        let mut c = RecordCheck::default();
        if self.headerless {
            c.notes.push(format!(
                "no `>name` line: the text was read as one sequence named `{}`",
                self.name
            ));
        }
        if self.length == 0 {
            c.error = Some("no sequence after the `>name` line".into());
            return c;
        }
        if let Some((at, b)) = self.invalid {
            c.error = Some(format!(
                "{} at position {at} is not a base (A, C, G, T, N or an IUPAC code)",
                shown(b)
            ));
            return c;
        }
        if self.length > window as u64 {
            c.error = Some(format!(
                "{} bp is longer than the model's {window} bp window (cut it to at most {window} bp)",
                self.length
            ));
            return c;
        }
        if let Some((at, b)) = self.first_ambiguous {
            let n = self.ambiguous;
            c.warnings.push(format!(
                "{n} IUPAC ambiguity code{} (R Y S W K M B D H V; the first, {}, at position {at}) read as N",
                if n == 1 { "" } else { "s" },
                shown(b)
            ));
        }
        if self.length < window as u64 {
            let pad = window as u64 - self.length;
            c.notes.push(format!(
                "{} bp, padded with {pad} N to the model's {window} bp window",
                self.length
            ));
        }
        c
    }
}

/// Could this line be raw sequence (bases and IUPAC codes, any case)?
fn looks_like_sequence(line: &[u8]) -> bool {
    let mut any = false;
    for &b in line {
        if b.is_ascii_whitespace() {
            continue;
        }
        if !b"ACGTNRYSWKMBDHVacgtnryswkmbdhv".contains(&b) {
            return false;
        }
        any = true;
    }
    any
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
        let mut record: Option<SequenceRecord> = self.next_name.take().map(SequenceRecord::named);
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
                            "line {line}: {bytes} bytes before the first `>` header: FASTA must start with a '>name' line"
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
                        if record.as_ref().is_some_and(|r| r.headerless) {
                            return self.error(format!(
                                "line {line}: a `>name` line after sequence without one: FASTA must start with a '>name' line"
                            ));
                        }
                        if record.is_some() {
                            self.next_name = Some(name);
                            self.records += 1;
                            return record.map(Ok);
                        }
                        record = Some(SequenceRecord::named(name));
                        continue;
                    }
                    let blank = self.buf.iter().all(|b| b.is_ascii_whitespace());
                    if record.is_none() && !blank {
                        // Text before any `>name` line: one raw sequence if
                        // it reads as one and is the first thing in the input.
                        if self.records > 0 || !looks_like_sequence(&self.buf) {
                            return self.error(format!(
                                "line {line}: FASTA must start with a '>name' line"
                            ));
                        }
                        let mut r = SequenceRecord::named(HEADERLESS_NAME.to_string());
                        r.headerless = true;
                        record = Some(r);
                    }
                    if let Some(r) = record.as_mut() {
                        for &b in self.buf.iter().filter(|b| !b.is_ascii_whitespace()) {
                            r.push(b, self.max_bases);
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
        let err = read_fasta(&b"Dear colleague,\nACGT\n"[..], "letter.fa")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "letter.fa: line 1: FASTA must start with a '>name' line"
        );
        let err = read_fasta(&b"ACGT\n>b\nAC\n"[..], "mixed.fa")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mixed.fa: line 2:")
                && err.contains("FASTA must start with a '>name' line"),
            "{err}"
        );
    }

    #[test]
    fn a_raw_sequence_without_header_is_one_record() {
        let recs = read_fasta(&b"\nACGT\nnnAC\n"[..], "raw.fa").unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].name, HEADERLESS_NAME);
        assert_eq!(recs[0].sequence, b"ACGTnnAC");
        let check = recs[0].check(10);
        assert_eq!(check.error, None);
        assert_eq!(
            check.notes,
            [
                "no `>name` line: the text was read as one sequence named `sequence`",
                "8 bp, padded with 2 N to the model's 10 bp window"
            ]
        );
    }

    #[test]
    fn records_are_checked_letter_by_letter() {
        let text = b">bad desc\nACGT\nAXYZ\n>empty\n>one\nA\n>iupac\nACRYgs\n>full\nACGTACGTAC\n>odd\nAC\xc3\xa9\n";
        let recs = read_fasta(&text[..], "c.fa").unwrap();
        let checks: Vec<_> = recs.iter().map(|r| r.check(10)).collect();
        assert_eq!(
            checks[0].error.as_deref(),
            Some("`X` at position 6 is not a base (A, C, G, T, N or an IUPAC code)")
        );
        assert_eq!(
            checks[1].error.as_deref(),
            Some("no sequence after the `>name` line")
        );
        assert_eq!(checks[2].error, None);
        assert_eq!(
            checks[2].notes,
            ["1 bp, padded with 9 N to the model's 10 bp window"]
        );
        assert_eq!(recs[3].sequence, b"ACNNgN");
        assert_eq!(
            checks[3].warnings,
            ["3 IUPAC ambiguity codes (R Y S W K M B D H V; the first, `R`, at position 3) read as N"]
        );
        assert_eq!(checks[4], RecordCheck::default());
        assert_eq!(
            checks[5].error.as_deref(),
            Some("byte 0xC3 at position 3 is not a base (A, C, G, T, N or an IUPAC code)")
        );
        let long = read_fasta(&b">long\nACGTACGTACG\n"[..], "l.fa").unwrap();
        assert!(long[0]
            .check(10)
            .error
            .unwrap()
            .starts_with("11 bp is longer"));
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
