//! The user's files, read in place by slices: `Read + Seek` over a `Blob`
//! through `FileReaderSync` (synchronous reads exist in workers only), so a
//! 3 GB genome is never loaded whole and no byte of it leaves the machine.

use std::io::{Read, Seek, SeekFrom};

use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, File, FileReaderSync};

use super::js_err;
use crate::io::genome::{index, refuse_plain_gzip, twobit, Genome};

/// Bytes read from the `Blob` at a time, at least.
///
/// Every `FileReaderSync` read makes a `Blob` slice and an `ArrayBuffer`:
/// read a few bytes at a time (a BGZF block header, a window of the genome
/// per variant), they cost more than the bytes, and the browser frees them
/// only when the worker's collector runs, which small objects seldom make it
/// do: a whole-genome run grew the page by about 12 KB per scored allele.
/// Reading ahead in chunks of 1 MiB and serving nearby reads from the last
/// chunk (variants come sorted, so their windows lie close) makes them few.
const CHUNK: u64 = 1 << 20;

/// `Read + Seek` over a `Blob`, by `FileReaderSync` slices (workers only),
/// read ahead in chunks of [`CHUNK`] bytes.
pub(super) struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    pos: u64,
    pub(super) len: u64,
    /// Bytes handed out so far (progress).
    pub(super) read: std::rc::Rc<std::cell::Cell<u64>>,
    /// The last chunk read and where it starts in the `Blob`.
    chunk: Vec<u8>,
    chunk_start: u64,
}

impl BlobReader {
    pub(super) fn new(blob: &Blob) -> Result<Self, JsError> {
        Ok(BlobReader {
            blob: blob.clone(),
            reader: FileReaderSync::new()
                .map_err(|_| js_err("FileReaderSync is only available in Web Workers"))?,
            pos: 0,
            len: blob.size() as u64,
            read: Default::default(),
            chunk: Vec::new(),
            chunk_start: 0,
        })
    }

    /// Reads the chunk of the `Blob` that starts at `self.pos`.
    fn fill(&mut self, at_least: u64) -> std::io::Result<()> {
        let end = self.pos.saturating_add(at_least.max(CHUNK)).min(self.len);
        let io = |e: JsValue| std::io::Error::other(format!("{e:?}"));
        let slice = self
            .blob
            .slice_with_f64_and_f64(self.pos as f64, end as f64)
            .map_err(io)?;
        let bytes = self.reader.read_as_array_buffer(&slice).map_err(io)?;
        self.chunk = Uint8Array::new(&bytes).to_vec();
        self.chunk_start = self.pos;
        Ok(())
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let chunk_end = self.chunk_start + self.chunk.len() as u64;
        if self.pos < self.chunk_start || self.pos >= chunk_end {
            self.fill(buf.len() as u64)?;
        }
        // `pos` lies in the chunk now (the chunk starts at `pos` after a fill).
        let from = (self.pos - self.chunk_start) as usize;
        let available = &self.chunk[from..];
        if available.is_empty() {
            return Ok(0);
        }
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl Seek for BlobReader {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        let new = match pos {
            SeekFrom::Start(p) => p as i64,
            SeekFrom::Current(d) => self.pos as i64 + d,
            SeekFrom::End(d) => self.len as i64 + d,
        };
        if new < 0 {
            return Err(std::io::Error::other("seek before the start of the file"));
        }
        self.pos = new as u64;
        Ok(self.pos)
    }
}

/// The genome given as `File`s: a UCSC `.2bit` (no index), or a FASTA or
/// bgzip FASTA with its `.fai` (and the `.gzi` for bgzip).
pub(super) fn open_genome(
    fasta: &File,
    fai: Option<&File>,
    gzi: Option<&File>,
) -> Result<Genome, JsError> {
    let mut reader = BlobReader::new(fasta)?;
    let mut head = [0u8; 16];
    let mut n = 0;
    while n < head.len() {
        match reader.read(&mut head[n..]).map_err(js_err)? {
            0 => break,
            k => n += k,
        }
    }
    let head = &head[..n];
    reader.seek(SeekFrom::Start(0)).map_err(js_err)?;
    if twobit::is_twobit(head) {
        return Genome::from_twobit(reader, &fasta.name(), fasta.size() as u64).map_err(js_err);
    }
    refuse_plain_gzip(head, &fasta.name()).map_err(js_err)?;
    let fai = fai.ok_or_else(|| {
        js_err(if head.starts_with(&[0x1f, 0x8b]) {
            format!(
                "{}: a bgzip FASTA: choose its {0}.fai and {0}.gzi with it",
                fasta.name()
            )
        } else {
            format!("{}: choose its index {0}.fai too", fasta.name())
        })
    })?;
    let gzi_name = gzi.map(|f| f.name());
    let gzi_reader = match gzi {
        Some(f) => Some(BlobReader::new(f)?),
        None => None,
    };
    Genome::from_readers(
        reader,
        &fasta.name(),
        Some(fasta.size() as u64),
        (BlobReader::new(fai)?, &fai.name()),
        gzi_reader.zip(gzi_name.as_deref()),
    )
    .map_err(js_err)
}

/// Builds the `.fai` of a plain FASTA `File` in one pass over its slices
/// (what `samtools faidx` writes); `on_progress(bytes_read, bytes_total)`
/// every few megabytes. Returns the index's text, which the page offers as a
/// download so that a later visit needs no pass.
#[wasm_bindgen]
pub fn index_fasta(file: &File, on_progress: Option<js_sys::Function>) -> Result<String, JsError> {
    let total = file.size();
    let reader = std::io::BufReader::with_capacity(4 << 20, BlobReader::new(file)?);
    let mut progress = |bytes: u64| {
        if let Some(f) = &on_progress {
            let _ = f.call2(
                &JsValue::NULL,
                &JsValue::from_f64(bytes as f64),
                &JsValue::from_f64(total),
            );
        }
    };
    let index = index::build_fai(reader, &file.name(), &mut progress).map_err(js_err)?;
    Ok(index::fai_text(&index))
}

/// The `File` at `obj[name]` (`None` when absent, null or undefined).
pub(super) fn file_field(obj: &JsValue, name: &str) -> Result<Option<File>, JsError> {
    let v = js_sys::Reflect::get(obj, &JsValue::from_str(name))
        .map_err(|_| js_err(format!("cannot read `{name}` of the files")))?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<File>()
        .map(Some)
        .map_err(|_| js_err(format!("`{name}` is not a File")))
}
