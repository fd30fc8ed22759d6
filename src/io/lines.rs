//! Lines of the user's text files, read with a cap: a line longer than the
//! cap is consumed to its end in bounded memory and reported by number, never
//! buffered whole (a 2 GB file without a newline costs one buffer, not 2 GB).

use std::io::{self, BufRead};

/// The longest line kept (VCF data lines, pairs TSV lines): 1 MiB.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// What [`read_line_capped`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capped {
    /// A line, in the buffer, without its line ending.
    Line,
    /// A line of this many bytes (line ending included), more than the cap:
    /// skipped, the buffer is empty.
    TooLong(u64),
}

/// Reads the next line into `buf` (cleared first), keeping at most `cap`
/// bytes; `Ok(None)` at the end of the input.
pub fn read_line_capped<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<Capped>> {
    buf.clear();
    let mut total: u64 = 0;
    let mut over = false;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        let (n, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        total = total.saturating_add(n as u64);
        if !over {
            // The line ending (`\n` or `\r\n`) does not count against the cap.
            if buf.len() + n > cap.saturating_add(2) {
                over = true;
                buf.clear();
                buf.shrink_to(cap.min(1 << 16));
            } else {
                buf.extend_from_slice(&available[..n]);
            }
        }
        reader.consume(n);
        if done {
            break;
        }
    }
    if total == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    if over || buf.len() > cap {
        buf.clear();
        return Ok(Some(Capped::TooLong(total)));
    }
    Ok(Some(Capped::Line))
}

/// The lines of a small table the user gives (annotations, a scores TSV),
/// numbered from 1, each read with [`MAX_LINE_BYTES`]: a longer line, or an
/// I/O error, is an error naming the file and the line (such a file is not
/// the table asked for), in bounded memory.
pub struct TableLines<R> {
    inner: R,
    source_name: String,
    line: usize,
    buf: Vec<u8>,
    failed: bool,
}

impl<R: BufRead> TableLines<R> {
    pub fn new(inner: R, source_name: &str) -> Self {
        TableLines {
            inner,
            source_name: source_name.to_string(),
            line: 0,
            buf: vec![],
            failed: false,
        }
    }
}

impl<R: BufRead> Iterator for TableLines<R> {
    type Item = crate::Result<(usize, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        self.line += 1;
        let line = self.line;
        let error = |message: String| crate::Error::input(&self.source_name, message);
        let item = match read_line_capped(&mut self.inner, &mut self.buf, MAX_LINE_BYTES) {
            Ok(None) => return None,
            Ok(Some(Capped::Line)) => Ok((line, String::from_utf8_lossy(&self.buf).into_owned())),
            Ok(Some(Capped::TooLong(bytes))) => Err(error(format!(
                "line {line}: {bytes} bytes, longer than the {} MiB a line may have",
                MAX_LINE_BYTES >> 20
            ))),
            Err(e) => Err(error(format!("line {line}: {e}"))),
        };
        self.failed = item.is_err();
        Some(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_endings_and_the_cap() {
        let text = b"ab\r\ncdef\n\n0123456789\nxy";
        let mut r = io::BufReader::with_capacity(3, &text[..]);
        let mut buf = vec![];
        let mut got = vec![];
        while let Some(c) = read_line_capped(&mut r, &mut buf, 4).unwrap() {
            got.push((c, String::from_utf8(buf.clone()).unwrap()));
        }
        assert_eq!(
            got,
            [
                (Capped::Line, "ab".into()),
                (Capped::Line, "cdef".into()),
                (Capped::Line, "".into()),
                (Capped::TooLong(11), "".into()),
                (Capped::Line, "xy".into()),
            ]
        );
    }

    /// A long input without any newline is consumed in bounded memory.
    #[test]
    fn no_newline_at_all_stays_bounded() {
        struct Endless(u64);
        impl io::Read for Endless {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                let n = (b.len() as u64).min(self.0) as usize;
                b[..n].fill(b'A');
                self.0 -= n as u64;
                Ok(n)
            }
        }
        let mut r = io::BufReader::new(Endless(64 << 20));
        let mut buf = vec![];
        let c = read_line_capped(&mut r, &mut buf, MAX_LINE_BYTES).unwrap();
        assert_eq!(c, Some(Capped::TooLong(64 << 20)));
        assert!(
            buf.capacity() <= 2 * MAX_LINE_BYTES + 16,
            "{}",
            buf.capacity()
        );
        assert_eq!(read_line_capped(&mut r, &mut buf, 8).unwrap(), None);
    }
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn table_lines_are_numbered_and_an_overlong_one_ends_the_table_with_its_number() {
        let mut text = b"h\r\na\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        text.extend(b"\nnever read\n");
        let items: Vec<_> = TableLines::new(&text[..], "t.tsv").collect();
        assert_eq!(items.len(), 3, "stops after the error");
        assert_eq!(items[0].as_ref().unwrap(), &(1, "h".to_string()));
        assert_eq!(items[1].as_ref().unwrap(), &(2, "a".to_string()));
        let e = items[2].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("t.tsv") && e.contains("line 3: 1048587 bytes, longer than the 1 MiB"),
            "{e}"
        );
    }
}
