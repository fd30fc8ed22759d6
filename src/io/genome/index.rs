//! A `.fai` index built in one streaming pass over a plain FASTA that has
//! none (what `samtools faidx` writes), so that a user with only `genome.fa`
//! can score at once.
//!
//! Written here rather than with noodles' `fasta::io::Indexer`, which reads
//! each header line whole (a multi-gigabyte file without a newline would be
//! held in memory): every line here is read with a cap and the byte counts
//! are checked.

use std::io::BufRead;
use std::num::NonZero;

use noodles::fasta::fai;

/// The longest FASTA line indexed (header or sequence).
const MAX_LINE: u64 = 1 << 20;

/// One line: its bytes including the line ending, and how many of them are
/// content (no `\n`, no `\r`); the content is kept only for headers.
struct Line {
    width: u64,
    bases: u64,
    header: Option<Vec<u8>>,
    /// The first byte of a sequence line that is not a letter (nor a `\r`).
    not_base: Option<u8>,
}

fn next_line<R: BufRead>(r: &mut R, line_no: u64) -> Result<Option<Line>, String> {
    let mut width = 0u64;
    let mut header: Option<Vec<u8>> = None;
    // The last byte before the line ending (a `\r` there is not a base).
    let mut tail: Option<u8> = None;
    let mut not_base: Option<u8> = None;
    // `\r` bytes of a sequence line: only one, just before the `\n`, ends a line.
    let mut crs = 0u64;
    let mut ended = false;
    while !ended {
        let buf = r.fill_buf().map_err(|e| format!("line {line_no}: {e}"))?;
        if buf.is_empty() {
            break;
        }
        if width == 0 && buf[0] == b'>' {
            header = Some(vec![]);
        }
        let (n, content) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                ended = true;
                (i + 1, i)
            }
            None => (buf.len(), buf.len()),
        };
        if content > 0 {
            tail = Some(buf[content - 1]);
        }
        if header.is_none() {
            crs += buf[..content].iter().filter(|&&b| b == b'\r').count() as u64;
        }
        if header.is_none() && not_base.is_none() {
            not_base = buf[..content]
                .iter()
                .copied()
                .find(|b| !b.is_ascii_alphabetic() && *b != b'\r');
        }
        if let Some(h) = header.as_mut() {
            h.extend_from_slice(&buf[..content]);
        }
        width += n as u64;
        r.consume(n);
        if width > MAX_LINE + 2 {
            return Err(format!(
                "line {line_no}: longer than {} MiB; not a FASTA that can be indexed",
                MAX_LINE >> 20
            ));
        }
    }
    if width == 0 {
        return Ok(None);
    }
    let cr = u64::from(tail == Some(b'\r'));
    if crs > cr {
        not_base = not_base.or(Some(b'\r'));
    }
    let bases = width - u64::from(ended) - cr;
    if let Some(h) = header.as_mut() {
        h.truncate(bases as usize);
    }
    Ok(Some(Line {
        width,
        bases,
        header,
        not_base,
    }))
}

/// Builds the `.fai` of a plain FASTA read from `r` (`name` for errors);
/// `progress(bytes)` is called every few megabytes. A `\r\n` line ending is
/// counted as samtools does (in the line width, not the bases).
pub fn build_fai<R: BufRead>(
    mut r: R,
    name: &str,
    progress: &mut dyn FnMut(u64),
) -> Result<fai::Index, String> {
    let mut records: Vec<fai::Record> = vec![];
    let mut seen = std::collections::HashSet::new();
    let mut offset = 0u64;
    let mut line_no = 0u64;
    let mut reported = 0u64;
    // The record being indexed: name, offset of its first base, bases so
    // far, its line geometry, and whether its short (last) line was seen.
    struct Open {
        name: Vec<u8>,
        start: u64,
        length: u64,
        geometry: Option<(u64, u64)>,
        ended: bool,
    }
    let mut open: Option<Open> = None;
    let finish = |o: Open, records: &mut Vec<fai::Record>| -> Result<(), String> {
        if o.length == 0 {
            return Err(format!(
                "{name}: sequence {} has no bases (not indexable)",
                String::from_utf8_lossy(&o.name)
            ));
        }
        let (bases, width) = o.geometry.unwrap_or((o.length, o.length + 1));
        let record = fai::Record::new(
            o.name.clone(),
            o.length,
            o.start,
            NonZero::new(bases.max(1)).expect("at least 1"),
            NonZero::new(width.max(2)).expect("at least 2"),
        );
        records.push(record);
        Ok(())
    };
    loop {
        line_no += 1;
        let Some(line) = next_line(&mut r, line_no).map_err(|e| format!("{name}: {e}"))? else {
            break;
        };
        offset += line.width;
        if offset - reported >= 8 << 20 {
            reported = offset;
            progress(offset);
        }
        if let Some(h) = line.header {
            if let Some(o) = open.take() {
                finish(o, &mut records)?;
            }
            let text = &h[1..];
            let id: Vec<u8> = text
                .split(|b| b.is_ascii_whitespace())
                .next()
                .unwrap_or_default()
                .to_vec();
            if id.is_empty() {
                return Err(format!(
                    "{name}: line {line_no}: a `>` header without a name"
                ));
            }
            if std::str::from_utf8(&id).is_err() || id.iter().any(|b| b.is_ascii_control()) {
                return Err(format!(
                    "{name}: line {line_no}: the sequence name is not printable text"
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(format!(
                    "{name}: line {line_no}: sequence {} appears twice",
                    String::from_utf8_lossy(&id)
                ));
            }
            open = Some(Open {
                name: id,
                start: offset,
                length: 0,
                geometry: None,
                ended: false,
            });
            continue;
        }
        let Some(o) = open.as_mut() else {
            if line.bases == 0 {
                continue;
            }
            return Err(format!(
                "{name}: line {line_no}: sequence before the first `>` header"
            ));
        };
        if let Some(b) = line.not_base {
            return Err(format!(
                "{name}: line {line_no}: sequence {} holds {:?}, which is not a base (a genome FASTA holds letters only)",
                String::from_utf8_lossy(&o.name),
                b as char
            ));
        }
        if line.bases == 0 {
            // A blank line ends the record's sequence; only more blank lines
            // or the next header may follow.
            o.ended = true;
            continue;
        }
        if o.ended {
            return Err(format!(
                "{name}: line {line_no}: sequence {} has a line after a shorter or blank one (not indexable; re-wrap it, e.g. with `seqkit seq -w 60`)",
                String::from_utf8_lossy(&o.name)
            ));
        }
        match o.geometry {
            None => o.geometry = Some((line.bases, line.width)),
            Some((bases, width)) => {
                if line.bases > bases || (line.bases == bases && line.width != width) {
                    return Err(format!(
                        "{name}: line {line_no}: sequence {} has lines of different lengths (not indexable; re-wrap it)",
                        String::from_utf8_lossy(&o.name)
                    ));
                }
                if line.bases < bases {
                    o.ended = true;
                }
            }
        }
        o.length += line.bases;
    }
    if let Some(o) = open.take() {
        finish(o, &mut records)?;
    }
    progress(offset);
    if records.is_empty() {
        return Err(format!("{name}: no `>` header: not a FASTA"));
    }
    Ok(fai::Index::from(records))
}

/// The `.fai` text of an index (what `samtools faidx` writes), for the page
/// to offer as a download.
pub fn fai_text(index: &fai::Index) -> String {
    index
        .as_ref()
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}\t{}\n",
                String::from_utf8_lossy(r.name()),
                r.length(),
                r.position(),
                r.line_base_count(),
                r.line_width()
            )
        })
        .collect()
}
