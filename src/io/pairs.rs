//! REF/ALT sequence pairs given directly (`--pairs`): a TSV of
//! `name<TAB>ref_sequence<TAB>alt_sequence` lines. A header line starting with
//! `name` is skipped, `#` lines and blank lines are comments. Records are
//! kept apart from the reader: a bad line is an [`PairLine::Invalid`] item
//! with its number and reason, and reading goes on.

use std::io::BufRead;

use super::lines::{read_line_capped, Capped, MAX_LINE_BYTES};
use crate::error::{Error, Result};

/// One data line of a pairs TSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairLine {
    Pair {
        line: usize,
        name: String,
        reference: Vec<u8>,
        alternate: Vec<u8>,
    },
    /// A line that cannot be a pair; `name` is its first column when there is one.
    Invalid {
        line: usize,
        name: String,
        message: String,
    },
}

/// Streams the data lines of a pairs TSV; an I/O error ends the stream with
/// an error naming the file and the line after which it happened.
pub struct PairsReader<R> {
    inner: R,
    source_name: String,
    line: usize,
    buf: Vec<u8>,
    failed: bool,
}

impl<R: BufRead> PairsReader<R> {
    pub fn new(inner: R, source_name: &str) -> Self {
        PairsReader {
            inner,
            source_name: source_name.to_string(),
            line: 0,
            buf: vec![],
            failed: false,
        }
    }
}

/// Parses one line of a pairs TSV (`line` is its number); `None` for a
/// header, comment or blank line.
pub fn parse_pair_line(text: &str, line: usize) -> Option<PairLine> {
    if text.trim().is_empty() || text.starts_with('#') || (line == 1 && text.starts_with("name\t"))
    {
        return None;
    }
    let cols: Vec<&str> = text.split('\t').collect();
    let name = cols[0].to_string();
    Some(if cols.len() < 3 {
        PairLine::Invalid {
            line,
            name,
            message: format!(
                "line {line}: {} columns, need 3 (name, ref_sequence, alt_sequence)",
                cols.len()
            ),
        }
    } else {
        PairLine::Pair {
            line,
            name,
            reference: cols[1].as_bytes().to_vec(),
            alternate: cols[2].as_bytes().to_vec(),
        }
    })
}

impl<R: BufRead> Iterator for PairsReader<R> {
    type Item = Result<PairLine>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            let read = match read_line_capped(&mut self.inner, &mut self.buf, MAX_LINE_BYTES) {
                Ok(r) => r,
                Err(e) => {
                    self.failed = true;
                    return Some(Err(Error::input(
                        &self.source_name,
                        format!("after line {}: {e}", self.line),
                    )));
                }
            };
            self.line += 1;
            let line = self.line;
            match read? {
                Capped::TooLong(bytes) => {
                    return Some(Ok(PairLine::Invalid {
                        line,
                        name: String::new(),
                        message: format!(
                            "line {line}: {bytes} bytes, longer than the {} MiB a line may have: skipped",
                            MAX_LINE_BYTES >> 20
                        ),
                    }))
                }
                Capped::Line => {
                    if let Some(item) = parse_pair_line(&String::from_utf8_lossy(&self.buf), line)
                    {
                        return Some(Ok(item));
                    }
                }
            }
        }
        None
    }
}
