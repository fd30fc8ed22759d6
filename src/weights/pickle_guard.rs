//! A size-only pass over a pickle's opcodes before candle's decoder sees it.
//!
//! candle's `pickle::Stack` trusts the file: `BINUNICODE` allocates the
//! length it reads (4 GiB from five bytes), `LONG1` shifts by an unchecked
//! byte count (a panic, an abort in wasm), every `BINGET` clones the memoized
//! object (a few dozen bytes that double an object each time build gigabytes)
//! and nesting has no limit (its recursive `Drop` overflows the stack). This
//! pass reads one pickle up to its `STOP` into memory, following the same
//! stack discipline but keeping only an estimate of each object's size and
//! depth, and refuses the pickle before anything is built when a bound is
//! crossed. Opcodes candle does not know are left for candle to refuse.

use std::collections::HashMap;
use std::io::BufRead;

/// The most bytes one pickle of a checkpoint may have (a state dict's pickle
/// is a few kilobytes per tensor).
pub const MAX_PICKLE_BYTES: u64 = 64 << 20;
/// The most bytes of objects decoding may build (estimated).
const MAX_OBJECT_BYTES: u64 = 256 << 20;
/// The deepest nesting of objects (a state dict is about six deep).
const MAX_DEPTH: u32 = 200;
/// Estimated size of one decoded object before its payload.
const OBJECT_BYTES: u64 = 48;

#[derive(Clone, Copy)]
struct Item {
    bytes: u64,
    depth: u32,
    mark: bool,
}

impl Item {
    fn leaf(payload: u64) -> Item {
        Item {
            bytes: OBJECT_BYTES + payload,
            depth: 1,
            mark: false,
        }
    }
}

struct Guard<'a, R> {
    r: &'a mut R,
    out: Vec<u8>,
    stack: Vec<Item>,
    memo: HashMap<u32, Item>,
    built: u64,
}

impl<R: BufRead> Guard<'_, R> {
    fn bytes(&mut self, n: u64) -> Result<&[u8], String> {
        if self.out.len() as u64 + n > MAX_PICKLE_BYTES {
            return Err(format!(
                "is longer than the {} MiB a checkpoint pickle may have",
                MAX_PICKLE_BYTES >> 20
            ));
        }
        let start = self.out.len();
        // Straight from the reader's buffer: most reads are of one to four bytes.
        let mut need = n as usize;
        while need > 0 {
            let buf = self
                .r
                .fill_buf()
                .map_err(|e| format!("cannot be read ({e})"))?;
            if buf.is_empty() {
                return Err("ends early (truncated)".into());
            }
            let k = need.min(buf.len());
            self.out.extend_from_slice(&buf[..k]);
            self.r.consume(k);
            need -= k;
        }
        Ok(&self.out[start..])
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.bytes(1)?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn line(&mut self) -> Result<u64, String> {
        let mut n = 0u64;
        loop {
            if self.u8()? == b'\n' {
                return Ok(n);
            }
            n += 1;
        }
    }

    fn push(&mut self, item: Item) -> Result<(), String> {
        self.built = self.built.saturating_add(item.bytes);
        if self.built > MAX_OBJECT_BYTES {
            return Err(format!(
                "builds more than {} MiB of objects (a state dict needs kilobytes)",
                MAX_OBJECT_BYTES >> 20
            ));
        }
        if item.depth > MAX_DEPTH {
            return Err(format!("nests objects deeper than {MAX_DEPTH} levels"));
        }
        self.stack.push(item);
        Ok(())
    }

    fn pop(&mut self) -> Result<Item, String> {
        self.stack.pop().ok_or_else(|| "pops an empty stack".into())
    }

    /// A new object holding `parts` (its size is theirs plus its own).
    fn node(parts: &[Item]) -> Item {
        Item {
            bytes: parts
                .iter()
                .fold(OBJECT_BYTES, |s, p| s.saturating_add(p.bytes)),
            depth: parts.iter().map(|p| p.depth).max().unwrap_or(0) + 1,
            mark: false,
        }
    }

    fn pop_n(&mut self, n: usize) -> Result<Item, String> {
        let mut parts = Vec::with_capacity(n);
        for _ in 0..n {
            parts.push(self.pop()?);
        }
        Ok(Self::node(&parts))
    }

    fn pop_to_mark(&mut self) -> Result<Item, String> {
        let at = self
            .stack
            .iter()
            .rposition(|i| i.mark)
            .ok_or("has no mark to pop to")?;
        let node = Self::node(&self.stack[at + 1..]);
        self.stack.truncate(at);
        Ok(node)
    }

    /// Adds `item` into the container on top of the stack (in place).
    fn extend_top(&mut self, item: Item) -> Result<(), String> {
        let top = self.stack.last_mut().ok_or("adds to an empty stack")?;
        top.bytes = top.bytes.saturating_add(item.bytes);
        top.depth = top.depth.max(item.depth + 1);
        // Counted once: `item` was counted when it was built.
        if top.depth > MAX_DEPTH {
            return Err(format!("nests objects deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    fn memo_put(&mut self, id: u32) -> Result<(), String> {
        let top = *self.stack.last().ok_or("memoizes from an empty stack")?;
        // candle stores a clone.
        self.built = self.built.saturating_add(top.bytes);
        self.memo.insert(id, top);
        Ok(())
    }

    fn memo_get(&mut self, id: u32) -> Result<(), String> {
        let item = *self
            .memo
            .get(&id)
            .ok_or_else(|| format!("gets memo entry {id}, never put"))?;
        self.push(item)
    }

    /// Returns true at STOP.
    fn step(&mut self) -> Result<bool, String> {
        let op = self.u8()?;
        match op {
            0x80 => {
                self.u8()?;
            }
            b'c' => {
                let n = self.line()? + self.line()?;
                self.push(Item::leaf(n))?
            }
            b'q' => {
                let id = self.u8()? as u32;
                self.memo_put(id)?
            }
            b'r' => {
                let id = self.u32()?;
                self.memo_put(id)?
            }
            b'h' => {
                let id = self.u8()? as u32;
                self.memo_get(id)?
            }
            b'j' => {
                let id = self.u32()?;
                self.memo_get(id)?
            }
            b')' | b'}' | b']' | b'N' | 0x88 | 0x89 => self.push(Item::leaf(0))?,
            b'(' => self.push(Item {
                mark: true,
                ..Item::leaf(0)
            })?,
            b'X' => {
                let n = self.u32()? as u64;
                self.bytes(n)?;
                self.push(Item::leaf(n))?
            }
            b'J' => {
                self.bytes(4)?;
                self.push(Item::leaf(0))?
            }
            b'K' => {
                self.u8()?;
                self.push(Item::leaf(0))?
            }
            b'M' => {
                self.bytes(2)?;
                self.push(Item::leaf(0))?
            }
            b'G' => {
                self.bytes(8)?;
                self.push(Item::leaf(0))?
            }
            0x8a => {
                let n = self.u8()?;
                if n > 8 {
                    return Err(format!("holds a {n}-byte integer (at most 8 are read)"));
                }
                self.bytes(n as u64)?;
                self.push(Item::leaf(0))?
            }
            b'Q' => {
                let n = self.pop_n(1)?;
                self.push(n)?
            }
            0x85..=0x87 => {
                let n = self.pop_n((op - 0x84) as usize)?;
                self.push(n)?
            }
            b'R' | b'b' | 0x81 => {
                let n = self.pop_n(2)?;
                self.push(n)?
            }
            // candle reads DICT as EMPTY_DICT; follow it.
            b'd' => self.push(Item::leaf(0))?,
            b't' => {
                let n = self.pop_to_mark()?;
                self.push(n)?
            }
            b'a' => {
                let v = self.pop()?;
                self.extend_top(v)?
            }
            b's' => {
                let v = self.pop_n(2)?;
                self.extend_top(v)?
            }
            b'e' | b'u' => {
                let v = self.pop_to_mark()?;
                self.extend_top(v)?
            }
            b'.' => return Ok(true),
            other => {
                return Err(format!(
                    "uses opcode 0x{other:02x}, which a state dict never does"
                ))
            }
        }
        Ok(false)
    }
}

/// Reads one pickle from `r`, up to and including its STOP opcode, and
/// returns its bytes once a size-only pass shows that decoding it stays
/// within bounds. `r` is left just after the STOP (legacy checkpoints hold
/// several pickles in a row).
pub fn read_bounded_pickle<R: BufRead>(r: &mut R) -> Result<Vec<u8>, String> {
    let mut guard = Guard {
        r,
        out: vec![],
        stack: vec![],
        memo: HashMap::new(),
        built: 0,
    };
    while !guard.step()? {}
    Ok(guard.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bytes: &[u8]) -> Result<Vec<u8>, String> {
        read_bounded_pickle(&mut &bytes[..])
    }

    #[test]
    fn a_state_dict_like_pickle_passes_and_stops_at_its_stop() {
        // {"w": ("a", 1)} then trailing bytes that belong to the next section.
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'X', 1, 0, 0, 0, b'w'];
        p.extend([b'X', 1, 0, 0, 0, b'a', b'K', 1, 0x86, b's', b'.']);
        let mut all = p.clone();
        all.extend(b"next");
        let mut r = &all[..];
        assert_eq!(read_bounded_pickle(&mut r).unwrap(), p);
        assert_eq!(r, b"next");
    }

    #[test]
    fn a_string_longer_than_the_file_is_refused_before_allocation() {
        let e = check(&[b'X', 0xff, 0xff, 0xff, 0xff, b'a']).unwrap_err();
        assert!(e.contains("is longer than the 64 MiB"), "{e}");
        let e = check(&[b'X', 10, 0, 0, 0, b'a', b'b']).unwrap_err();
        assert!(e.contains("ends early"), "{e}");
    }

    #[test]
    fn an_integer_of_more_than_eight_bytes_is_refused() {
        let mut p = vec![0x8a, 200];
        p.extend([0u8; 200]);
        p.push(b'.');
        let e = check(&p).unwrap_err();
        assert!(e.contains("200-byte integer"), "{e}");
    }

    #[test]
    fn a_memo_doubling_bomb_is_refused_by_its_estimated_size() {
        // x = "0123456789"; then 40 times: x = (x, x) via PUT/GET: 2^40 copies.
        let mut p = vec![b'X', 10, 0, 0, 0];
        p.extend(b"0123456789");
        p.extend([b'q', 0]);
        for _ in 0..40 {
            p.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
        }
        p.push(b'.');
        let e = check(&p).unwrap_err();
        assert!(e.contains("builds more than 256 MiB"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut p = vec![b'N'];
        p.extend(std::iter::repeat_n(0x85, 10_000));
        p.push(b'.');
        let e = check(&p).unwrap_err();
        assert!(e.contains("deeper than 200"), "{e}");
    }

    #[test]
    fn stack_misuse_and_unknown_opcodes_are_errors() {
        assert!(check(b"t.").unwrap_err().contains("no mark"));
        assert!(check(b"R.").unwrap_err().contains("empty stack"));
        assert!(check(b"h\x05.").unwrap_err().contains("memo entry 5"));
        assert!(check(b"\xff").unwrap_err().contains("opcode 0xff"));
        assert!(check(b"").unwrap_err().contains("ends early"));
    }
}
