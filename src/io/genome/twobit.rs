//! UCSC's `.2bit` genomes (hg38.2bit, hg19.2bit as downloaded), read by
//! region over any `Read + Seek` (a file natively, a `File` by slices in the
//! page); no index file is needed.
//!
//! Written here rather than taken from the `twobit` crate (used by the tests
//! to check this reader): that crate reads every contig's N and mask block
//! lists at open (millions of 4-byte reads for hg38, some 90 MB kept, too
//! much for a page's worker reading a `File` by slices), adds block starts
//! and sizes unchecked and reads version 0 only. Here the header and index
//! are read at open, a contig's blocks on its first use, the mask blocks
//! only as far as a region needs them (they are sorted); every count, offset
//! and size is checked against the file's length first.
//!
//! The format (UCSC, "2bit"): a header (signature 0x1A412743 in the file's
//! byte order, version 0, or 1 for 64-bit offsets, sequence count, reserved),
//! an index (name length, name, offset of the record), and per sequence:
//! DNA size, N block count, starts and sizes, mask block count, starts and
//! sizes, reserved, then the bases four to a byte (T C A G = 0 1 2 3, first
//! base in the high bits).

use std::io::{Read, Seek, SeekFrom};

const SIGNATURE: u32 = 0x1A41_2743;

/// A sequence's record, read on first use.
#[derive(Debug, Clone)]
struct Record {
    /// Byte offset of the packed bases.
    packed: u64,
    /// N blocks: (start, end), sorted.
    n_blocks: Vec<(u64, u64)>,
    /// Offset of the mask blocks' starts, then of their sizes, and the count.
    mask_starts: u64,
    mask_sizes: u64,
    mask_count: u64,
}

/// A `.2bit` file open for reading by region.
pub struct TwoBit<R> {
    inner: R,
    len: u64,
    swap: bool,
    /// Contigs in file order: name, index offset of the record, length (read at open).
    contigs: Vec<(String, u64, u64)>,
    records: std::collections::HashMap<usize, Record>,
}

/// Is this the start of a `.2bit` file (either byte order)?
pub fn is_twobit(head: &[u8]) -> bool {
    head.len() >= 4
        && (u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == SIGNATURE
            || u32::from_be_bytes([head[0], head[1], head[2], head[3]]) == SIGNATURE)
}

impl<R: Read + Seek> TwoBit<R> {
    /// Reads the header and index of a `.2bit` file of `len` bytes, and each
    /// sequence's length.
    pub fn new(mut inner: R, len: u64) -> Result<Self, String> {
        inner.seek(SeekFrom::Start(0)).map_err(io)?;
        let mut head = [0u8; 16];
        inner
            .read_exact(&mut head)
            .map_err(|_| "shorter than a .2bit header".to_string())?;
        let swap = if u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == SIGNATURE {
            false
        } else if u32::from_be_bytes([head[0], head[1], head[2], head[3]]) == SIGNATURE {
            true
        } else {
            return Err("not a .2bit file (no 2bit signature)".into());
        };
        let field = |b: &[u8]| {
            let a = [b[0], b[1], b[2], b[3]];
            if swap {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        };
        let version = field(&head[4..8]);
        if version > 1 {
            return Err(format!("2bit version {version} (versions 0 and 1 exist)"));
        }
        let count = field(&head[8..12]) as u64;
        // Each index entry takes at least 1 + 1 + 4 bytes.
        if count.checked_mul(6).is_none_or(|n| n > len) {
            return Err(format!("{count} sequences cannot fit in {len} bytes"));
        }
        let mut me = TwoBit {
            inner,
            len,
            swap,
            contigs: Vec::with_capacity(count as usize),
            records: Default::default(),
        };
        let mut index = std::io::BufReader::new(&mut me.inner);
        let mut entries = Vec::with_capacity(count as usize);
        for i in 0..count {
            let mut n = [0u8; 1];
            index.read_exact(&mut n).map_err(|_| truncated(i))?;
            let mut name = vec![0u8; n[0] as usize];
            index.read_exact(&mut name).map_err(|_| truncated(i))?;
            let offset = if version == 1 {
                let mut b = [0u8; 8];
                index.read_exact(&mut b).map_err(|_| truncated(i))?;
                if swap {
                    u64::from_be_bytes(b)
                } else {
                    u64::from_le_bytes(b)
                }
            } else {
                let mut b = [0u8; 4];
                index.read_exact(&mut b).map_err(|_| truncated(i))?;
                field(&b) as u64
            };
            let name = String::from_utf8(name)
                .map_err(|_| format!("sequence {} has a name that is not UTF-8", i + 1))?;
            entries.push((name, offset));
        }
        drop(index);
        for (name, offset) in entries {
            let size = me
                .u32_at(offset)
                .map_err(|e| format!("sequence {name}: {e}"))? as u64;
            me.contigs.push((name, offset, size));
        }
        Ok(me)
    }

    /// Sequence names and lengths, in file order.
    pub fn contigs(&self) -> impl Iterator<Item = (&str, u64)> {
        self.contigs.iter().map(|(n, _, l)| (n.as_str(), *l))
    }

    fn u32_at(&mut self, offset: u64) -> Result<u32, String> {
        if offset.checked_add(4).is_none_or(|e| e > self.len) {
            return Err(format!(
                "offset {offset} is past the end of the file ({} bytes)",
                self.len
            ));
        }
        self.inner.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut b = [0u8; 4];
        self.inner.read_exact(&mut b).map_err(io)?;
        Ok(if self.swap {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    /// `count` u32 fields from `offset` (checked against the file first).
    fn u32s_at(&mut self, offset: u64, count: u64) -> Result<Vec<u32>, String> {
        let bytes = count
            .checked_mul(4)
            .filter(|&b| offset.checked_add(b).is_some_and(|e| e <= self.len))
            .ok_or_else(|| {
                format!("{count} block entries at offset {offset} run past the end of the file")
            })?;
        self.inner.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut raw = vec![0u8; bytes as usize];
        self.inner.read_exact(&mut raw).map_err(io)?;
        Ok(raw
            .chunks_exact(4)
            .map(|b| {
                let a = [b[0], b[1], b[2], b[3]];
                if self.swap {
                    u32::from_be_bytes(a)
                } else {
                    u32::from_le_bytes(a)
                }
            })
            .collect())
    }

    /// Reads (once) the record of sequence `i`: its N blocks, where its mask
    /// blocks and bases are, all checked against its length and the file.
    fn record(&mut self, i: usize) -> Result<Record, String> {
        if let Some(r) = self.records.get(&i) {
            return Ok(r.clone());
        }
        let (_, offset, size) = self.contigs[i].clone();
        let overflow = || "block tables run past the end of the file".to_string();
        let n_count = self.u32_at(offset.saturating_add(4))? as u64;
        let n_starts = self.u32s_at(offset.saturating_add(8), n_count)?;
        let n_sizes = self.u32s_at(offset.saturating_add(8 + 4 * n_count), n_count)?;
        let mask_at = offset.checked_add(8 + 8 * n_count).ok_or_else(overflow)?;
        let mask_count = self.u32_at(mask_at)? as u64;
        let mask_starts = mask_at.checked_add(4).ok_or_else(overflow)?;
        let mask_sizes = mask_starts
            .checked_add(4 * mask_count)
            .ok_or_else(overflow)?;
        let packed = mask_sizes
            .checked_add(4 * mask_count)
            .and_then(|p| p.checked_add(4))
            .ok_or_else(overflow)?;
        if packed
            .checked_add(size.div_ceil(4))
            .is_none_or(|e| e > self.len)
        {
            return Err(format!(
                "its {size} bases would end past the end of the file ({} bytes)",
                self.len
            ));
        }
        let mut n_blocks = Vec::with_capacity(n_starts.len());
        for (&s, &l) in n_starts.iter().zip(&n_sizes) {
            let (s, e) = (s as u64, s as u64 + l as u64);
            if e > size {
                return Err(format!(
                    "an N block {s}-{e} ends past the sequence's {size} bases"
                ));
            }
            n_blocks.push((s, e));
        }
        n_blocks.sort_unstable();
        let record = Record {
            packed,
            n_blocks,
            mask_starts,
            mask_sizes,
            mask_count,
        };
        self.records.insert(i, record.clone());
        Ok(record)
    }

    /// Bases `[lo, hi)` of sequence `i` (within its length): ACGT, N in N
    /// blocks, lowercase in masked blocks.
    pub fn fetch(&mut self, i: usize, lo: u64, hi: u64) -> Result<Vec<u8>, String> {
        let name = self.contigs[i].0.clone();
        let size = self.contigs[i].2;
        let context = |e: String| format!("sequence {name}: {e}");
        if lo > hi || hi > size {
            return Err(context(format!(
                "region {lo}-{hi} is outside its {size} bases"
            )));
        }
        let r = self.record(i).map_err(context)?;
        let first = lo / 4;
        let bytes = hi.div_ceil(4) - first;
        self.inner
            .seek(SeekFrom::Start(r.packed + first))
            .map_err(|e| context(io(e)))?;
        let mut packed = vec![0u8; bytes as usize];
        self.inner
            .read_exact(&mut packed)
            .map_err(|e| context(io(e)))?;
        let mut out = Vec::with_capacity((hi - lo) as usize);
        for p in lo..hi {
            let byte = packed[(p / 4 - first) as usize];
            let code = (byte >> (6 - 2 * (p % 4))) & 3;
            out.push(b"TCAG"[code as usize]);
        }
        for &(s, e) in &r.n_blocks {
            if s < hi && e > lo {
                out[(s.max(lo) - lo) as usize..(e.min(hi) - lo) as usize].fill(b'N');
            }
        }
        self.apply_masks(&r, lo, hi, &mut out).map_err(context)?;
        Ok(out)
    }

    /// Lowercases masked bases of `[lo, hi)`. Mask blocks are sorted by
    /// start: a binary search finds the first block that may overlap, reading
    /// single starts; blocks are then read in small runs until past `hi`.
    fn apply_masks(&mut self, r: &Record, lo: u64, hi: u64, out: &mut [u8]) -> Result<(), String> {
        if r.mask_count == 0 {
            return Ok(());
        }
        // The last block starting before `lo` may still cover it.
        let (mut a, mut b) = (0u64, r.mask_count);
        while a < b {
            let mid = a + (b - a) / 2;
            if (self.u32_at(r.mask_starts + 4 * mid)? as u64) < lo {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        let mut k = a.saturating_sub(1);
        const RUN: u64 = 64;
        while k < r.mask_count {
            let n = RUN.min(r.mask_count - k);
            let starts = self.u32s_at(r.mask_starts + 4 * k, n)?;
            let sizes = self.u32s_at(r.mask_sizes + 4 * k, n)?;
            for (&s, &l) in starts.iter().zip(&sizes) {
                let (s, e) = (s as u64, s as u64 + l as u64);
                if s >= hi {
                    return Ok(());
                }
                if e > lo {
                    for base in &mut out[(s.max(lo) - lo) as usize..(e.min(hi) - lo) as usize] {
                        base.make_ascii_lowercase();
                    }
                }
            }
            k += n;
        }
        Ok(())
    }
}

fn io(e: std::io::Error) -> String {
    format!("cannot read ({e})")
}

fn truncated(i: u64) -> String {
    format!(
        "the index ends early, at sequence {} (truncated file)",
        i + 1
    )
}
