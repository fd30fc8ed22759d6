//! Plain sequence input: FASTA records to be predicted as windows.

use std::io::BufRead;

use noodles::fasta;

use crate::error::{Error, Result};

/// A named sequence, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRecord {
    pub name: String,
    pub sequence: Vec<u8>,
}

/// Reads every record of a FASTA stream (`source_name` names it in errors).
/// An input without records is an error: it is almost always the wrong file.
pub fn read_fasta<R: BufRead>(reader: R, source_name: &str) -> Result<Vec<SequenceRecord>> {
    let mut reader = fasta::io::Reader::new(reader);
    let mut out = vec![];
    for (i, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| Error::input(source_name, format!("FASTA record {}: {e}", i + 1)))?;
        out.push(SequenceRecord {
            name: String::from_utf8_lossy(record.name()).into_owned(),
            sequence: record.sequence().as_ref().to_vec(),
        });
    }
    if out.is_empty() {
        return Err(Error::input(
            source_name,
            "no FASTA records (expected lines like `>name` followed by sequence)",
        ));
    }
    Ok(out)
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
}
