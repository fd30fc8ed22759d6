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
