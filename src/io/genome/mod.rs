//! Reference genome access by region, never loading a genome whole: FASTA +
//! `.fai`, or bgzip FASTA + `.fai` + `.gzi` (noodles), or UCSC `.2bit`
//! ([`twobit`], no index needed). The reader is any `BufRead + Seek`, so the
//! browser can give a `File` read by slices and the CLI a file on disk.
//!
//! (Over 400 lines: opening by kind, and the FASTA index checks that keep a
//! corrupt `.fai` from ever reaching an offset computation; `.2bit` and the
//! one-pass index are in their own modules.)

use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use noodles::bgzf;
use noodles::core::{Position, Region};
use noodles::fasta::{self, fai};

use crate::error::{Error, Result};

mod contigs;
pub mod index;
pub mod twobit;
pub use contigs::ContigResolver;
use twobit::TwoBit;

/// A seekable buffered byte source.
pub trait BufReadSeek: BufRead + Seek {}
impl<T: BufRead + Seek> BufReadSeek for T {}

/// chr1's length in the common human builds: it names a genome's build.
pub const CHR1_LENGTHS: [(u64, &str); 3] = [
    (249_250_621, "GRCh37/hg19"),
    (248_956_422, "GRCh38/hg38"),
    (248_387_328, "T2T-CHM13"),
];

/// The longest region [`Genome::fetch`] returns: a window (1000 bp) around
/// the longest REF a capped VCF line can hold (1 MiB), with room to spare.
pub const MAX_FETCH: usize = 1 << 22;

/// A seekable byte source.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// An indexed reference genome.
pub struct Genome {
    source: Source,
    contigs: Vec<(String, u64)>,
    source_name: String,
    built_index: bool,
}

enum Source {
    Fasta {
        reader: fasta::io::IndexedReader<Box<dyn BufReadSeek>>,
        /// Contigs whose index entry was checked against the file's bytes,
        /// and the error message where the check failed.
        checked: std::collections::HashMap<String, std::result::Result<(), String>>,
    },
    TwoBit(TwoBit<Box<dyn ReadSeek>>),
}

impl std::fmt::Debug for Genome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Genome")
            .field("source", &self.source_name)
            .field("contigs", &self.contigs)
            .finish()
    }
}

fn read_fai<R: Read>(reader: R, name: &str) -> Result<fai::Index> {
    fai::io::Reader::new(BufReader::new(reader))
        .read_index()
        .map_err(|e| Error::input(name, format!("not a valid FASTA index (.fai): {e}")))
}

fn read_gzi<R: Read>(reader: R, name: &str) -> Result<bgzf::gzi::Index> {
    bgzf::gzi::io::Reader::new(reader)
        .read_index()
        .map_err(|e| Error::input(name, format!("not a valid bgzip index (.gzi): {e}")))
}

impl Genome {
    /// Opens `path`: a UCSC `.2bit`, a plain FASTA (with `path.fai` beside
    /// it, or indexed here in one pass when there is none: see
    /// [`Genome::built_index`]), or a bgzip FASTA with `path.fai` and
    /// `path.gzi`. A plain-gzip FASTA is refused with what to do instead.
    pub fn open(path: &Path) -> Result<Genome> {
        let name = path.display().to_string();
        let open = |p: &Path| {
            std::fs::File::open(p).map_err(|e| {
                Error::input(
                    p.display(),
                    format!("{e} (needed beside the genome {name})"),
                )
            })
        };
        let with_ext = |ext: &str| PathBuf::from(format!("{}.{ext}", path.display()));
        let mut file = std::fs::File::open(path).map_err(|e| Error::input(&name, e))?;
        let len = file.metadata().map(|m| m.len()).ok();
        let head = read_head(&mut file).map_err(|e| Error::input(&name, e))?;
        if twobit::is_twobit(&head) {
            return Genome::from_twobit(file, &name, len.unwrap_or(u64::MAX));
        }
        let compressed = head.starts_with(&[0x1f, 0x8b]);
        if compressed && !is_bgzf(&head) {
            return Err(plain_gzip_error(&name));
        }
        let fai_path = with_ext("fai");
        if !compressed && !fai_path.exists() {
            let reader = BufReader::with_capacity(1 << 20, open(path)?);
            // build_fai's messages name the file already.
            let index = index::build_fai(reader, &name, &mut |_| {}).map_err(|e| {
                let prefix = format!("{name}: ");
                Error::input(&name, e.strip_prefix(prefix.as_str()).unwrap_or(&e))
            })?;
            let mut g = Genome::from_index(file, &name, len, index, None)?;
            g.built_index = true;
            return Ok(g);
        }
        let fai = open(&fai_path)?;
        let gzi = if compressed {
            let gzi_path = with_ext("gzi");
            Some((open(&gzi_path)?, gzi_path.display().to_string()))
        } else {
            None
        };
        Genome::from_readers(
            file,
            &name,
            len,
            (fai, &fai_path.display().to_string()),
            gzi.as_ref().map(|(f, n)| (f, n.as_str())),
        )
    }

    /// Was the `.fai` built here, in one pass over the FASTA, for lack of one?
    pub fn built_index(&self) -> bool {
        self.built_index
    }

    /// The `.fai` text of a FASTA genome (what `samtools faidx` writes);
    /// `None` for a `.2bit`.
    pub fn fai_text(&self) -> Option<String> {
        match &self.source {
            Source::Fasta { reader, .. } => Some(index::fai_text(reader.index())),
            Source::TwoBit(_) => None,
        }
    }

    /// Builds a genome from readers: the FASTA (plain or bgzip, detected), its
    /// `.fai` and, for bgzip, its `.gzi`. `len` (the FASTA's size in bytes, if
    /// known) lets a plain FASTA be checked against its index.
    pub fn from_readers<R: Read + Seek + 'static, F: Read, G: Read>(
        fasta: R,
        name: &str,
        len: Option<u64>,
        fai: (F, &str),
        gzi: Option<(G, &str)>,
    ) -> Result<Genome> {
        let index = read_fai(fai.0, fai.1)?;
        check_fai_geometry(&index, fai.1)?;
        let gzi = gzi.map(|(g, gname)| read_gzi(g, gname)).transpose()?;
        Genome::from_checked_index(fasta, name, len, index, gzi)
    }

    /// Builds a genome from a FASTA reader and its parsed indexes (the
    /// `.gzi` for bgzip).
    pub fn from_index<R: Read + Seek + 'static>(
        fasta: R,
        name: &str,
        len: Option<u64>,
        index: fai::Index,
        gzi: Option<bgzf::gzi::Index>,
    ) -> Result<Genome> {
        check_fai_geometry(&index, name)?;
        Genome::from_checked_index(fasta, name, len, index, gzi)
    }

    /// [`Genome::from_index`] once the index's geometry is checked.
    fn from_checked_index<R: Read + Seek + 'static>(
        mut fasta: R,
        name: &str,
        len: Option<u64>,
        index: fai::Index,
        gzi: Option<bgzf::gzi::Index>,
    ) -> Result<Genome> {
        let head = read_head(&mut fasta).map_err(|e| Error::input(name, e))?;
        let compressed = head.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufReadSeek> = match (compressed, gzi) {
            (true, _) if !is_bgzf(&head) => return Err(plain_gzip_error(name)),
            (true, Some(gzi)) => Box::new(bgzf::io::IndexedReader::new(fasta, gzi)),
            (true, None) => {
                return Err(Error::input(
                    name,
                    "compressed FASTA without its .gzi index (compress with `bgzip` and index with `samtools faidx`)",
                ))
            }
            (false, _) => {
                if let Some(len) = len {
                    for rec in index.as_ref() {
                        let end = contig_end(rec).unwrap_or(u64::MAX);
                        if end > len {
                            return Err(Error::input(
                                name,
                                format!(
                                    "does not match its .fai: contig {} would end at byte {end}, the file has {len} (re-index with `samtools faidx`)",
                                    String::from_utf8_lossy(rec.name())
                                ),
                            ));
                        }
                    }
                }
                Box::new(BufReader::new(fasta))
            }
        };
        let contigs = index
            .as_ref()
            .iter()
            .map(|r| (String::from_utf8_lossy(r.name()).into_owned(), r.length()))
            .collect();
        Ok(Genome {
            source: Source::Fasta {
                reader: fasta::io::IndexedReader::new(reader, index),
                checked: Default::default(),
            },
            contigs,
            source_name: name.to_string(),
            built_index: false,
        })
    }

    /// Opens a UCSC `.2bit` genome of `len` bytes (no index needed).
    pub fn from_twobit<R: Read + Seek + 'static>(
        reader: R,
        name: &str,
        len: u64,
    ) -> Result<Genome> {
        let twobit = TwoBit::new(Box::new(reader) as Box<dyn ReadSeek>, len)
            .map_err(|e| Error::input(name, e))?;
        let contigs = twobit.contigs().map(|(n, l)| (n.to_string(), l)).collect();
        Ok(Genome {
            source: Source::TwoBit(twobit),
            contigs,
            source_name: name.to_string(),
            built_index: false,
        })
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Contig names and lengths, in index order.
    pub fn contigs(&self) -> &[(String, u64)] {
        &self.contigs
    }

    pub fn contig_length(&self, contig: &str) -> Option<u64> {
        self.contigs
            .iter()
            .find(|(n, _)| n == contig)
            .map(|(_, l)| *l)
    }

    /// Bases of the 0-based half-open interval [start, end) of `contig`, as in
    /// the file (case kept). Positions outside the contig read as `N`. A
    /// region longer than [`MAX_FETCH`] (or with `end < start`) is an error.
    pub fn fetch(&mut self, contig: &str, start: i64, end: i64) -> Result<Vec<u8>> {
        let len = self
            .contig_length(contig)
            .ok_or_else(|| Error::input(&self.source_name, format!("no contig `{contig}`")))?
            as i64;
        if let Source::Fasta { reader, checked } = &mut self.source {
            if !checked.contains_key(contig) {
                let result = check_contig(reader, contig);
                checked.insert(contig.to_string(), result);
            }
            if let Some(Err(message)) = checked.get(contig) {
                return Err(Error::input(&self.source_name, message));
            }
        }
        // Any i64 pair is a request: widened before subtracting, and no more
        // than MAX_FETCH bases are ever allocated for one.
        let span = end as i128 - start as i128;
        if !(0..=MAX_FETCH as i128).contains(&span) {
            return Err(Error::input(
                &self.source_name,
                format!("{contig}:{start}-{end} is not a region of 0 to {MAX_FETCH} bases"),
            ));
        }
        let want = span as usize;
        let mut out = Vec::with_capacity(want);
        let (lo, hi) = (start.clamp(0, len), end.clamp(0, len));
        // Ns before the contig's first base (a region starting left of it).
        let lead = (lo as i128 - start as i128).clamp(0, span) as usize;
        out.resize(lead, b'N');
        if hi > lo {
            let bases = match &mut self.source {
                Source::Fasta { reader, .. } => fetch_fasta(reader, contig, lo, hi)
                    .map_err(|e| Error::input(&self.source_name, e))?,
                Source::TwoBit(t) => {
                    let i = self
                        .contigs
                        .iter()
                        .position(|(n, _)| n == contig)
                        .expect("a listed contig");
                    t.fetch(i, lo as u64, hi as u64)
                        .map_err(|e| Error::input(&self.source_name, e))?
                }
            };
            out.extend_from_slice(&bases);
        }
        out.resize(want, b'N');
        Ok(out)
    }
}

/// Bases `[lo, hi)` (within the contig) of an indexed FASTA.
fn fetch_fasta(
    reader: &mut fasta::io::IndexedReader<Box<dyn BufReadSeek>>,
    contig: &str,
    lo: i64,
    hi: i64,
) -> std::result::Result<Vec<u8>, String> {
    let region = Region::new(
        contig,
        Position::try_from(lo as usize + 1).expect("1-based")
            ..=Position::try_from(hi as usize).expect("1-based"),
    );
    let record = reader.query(&region).map_err(|e| {
        format!(
            "cannot read {contig}:{}-{hi} ({e}); the file may be truncated or not match its index",
            lo + 1
        )
    })?;
    let bases = record.sequence().as_ref();
    if bases.len() as i64 != hi - lo || !bases.iter().all(u8::is_ascii_alphabetic) {
        return Err(format!(
            "{contig}:{}-{hi} reads as {} bytes that are not all bases: the FASTA does not match its .fai (re-index with `samtools faidx`)",
            lo + 1,
            bases.len()
        ));
    }
    Ok(bases.to_vec())
}

/// Checks a contig's `.fai` entry against the bytes it points at: a line
/// break just before the first base, at the end of the first line, and
/// after the last base. A FASTA edited after indexing, or an index of
/// another file, fails here rather than giving shifted bases.
fn check_contig(
    reader: &mut fasta::io::IndexedReader<Box<dyn BufReadSeek>>,
    contig: &str,
) -> std::result::Result<(), String> {
    let rec = reader
        .index()
        .as_ref()
        .iter()
        .find(|r| r.name() == contig.as_bytes())
        .cloned()
        .ok_or_else(|| format!("no contig `{contig}`"))?;
    let (pos, len) = (rec.position(), rec.length());
    let (bases, width) = (rec.line_base_count().get(), rec.line_width().get());
    let inner = reader.get_mut();
    let mut at = |offset: u64, n: usize| -> std::io::Result<Vec<u8>> {
        inner.seek(std::io::SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match inner.read(&mut buf[got..])? {
                0 => break,
                k => got += k,
            }
        }
        buf.truncate(got);
        Ok(buf)
    };
    let last = len.saturating_sub(1);
    let last_at = pos + last / bases * width + last % bases;
    let ok = (|| -> std::io::Result<bool> {
        if pos == 0 || at(pos - 1, 1)? != b"\n" {
            return Ok(false);
        }
        if len > bases {
            let brk = at(pos + bases, (width - bases) as usize)?;
            if brk.last() != Some(&b'\n') || brk.iter().any(|b| !matches!(b, b'\r' | b'\n')) {
                return Ok(false);
            }
        }
        if len > 0 {
            let tail = at(last_at, 2)?;
            if !tail.first().is_some_and(u8::is_ascii_alphabetic)
                || tail.get(1).is_some_and(|b| !matches!(b, b'\r' | b'\n'))
            {
                return Ok(false);
            }
        }
        Ok(true)
    })()
    .map_err(|e| format!("cannot read contig {contig}: {e}"))?;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "contig {contig}: the FASTA does not match its .fai (line breaks are not where the index puts them; re-index with `samtools faidx`)"
        ))
    }
}

/// The byte just past a contig's last base, from its `.fai` entry (`None`
/// on overflow): its offset, full lines of `line_width` bytes, and the bases
/// of its last line.
fn contig_end(rec: &fai::Record) -> Option<u64> {
    let bases = rec.line_base_count().get();
    let len = rec.length();
    if len == 0 {
        return Some(rec.position());
    }
    let last = len - 1;
    (last / bases)
        .checked_mul(rec.line_width().get())?
        .checked_add(last % bases + 1)?
        .checked_add(rec.position())
}

/// Checks every `.fai` entry's geometry once, at open, so that no later
/// offset computation can overflow or allocate from a corrupt index: a
/// contig longer than one line needs lines of `line_bases` bases followed by
/// one or two line-break bytes (LF or CRLF), and its last byte must be
/// addressable.
fn check_fai_geometry(index: &fai::Index, fai_name: &str) -> Result<()> {
    for (i, rec) in index.as_ref().iter().enumerate() {
        let name = String::from_utf8_lossy(rec.name());
        let (bases, width) = (rec.line_base_count().get(), rec.line_width().get());
        let bad = |what: String| {
            Err(Error::input(
                fai_name,
                format!("line {}: contig {name}: {what}", i + 1),
            ))
        };
        if rec.length() > bases && !(bases + 1..=bases + 2).contains(&width) {
            return bad(format!(
                "line width {width} for {bases} bases per line: a line holds its bases and one or two line-break bytes (re-index with `samtools faidx`)"
            ));
        }
        if rec.length() > i64::MAX as u64 || contig_end(rec).is_none_or(|e| e > i64::MAX as u64) {
            return bad(format!(
                "length {} at offset {} does not fit in a file",
                rec.length(),
                rec.position()
            ));
        }
    }
    Ok(())
}

/// The first 16 bytes (fewer for a shorter file); the reader is rewound.
fn read_head<R: Read + Seek>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; 16];
    let mut n = 0;
    while n < head.len() {
        match r.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    head.truncate(n);
    r.seek(std::io::SeekFrom::Start(0))?;
    Ok(head)
}

/// Refuses a plain-gzip file from its first 16 bytes, saying what to do
/// instead (a bgzip file or anything else passes).
pub fn refuse_plain_gzip(head: &[u8], name: &str) -> Result<()> {
    if head.starts_with(&[0x1f, 0x8b]) && !is_bgzf(head) {
        return Err(plain_gzip_error(name));
    }
    Ok(())
}

/// A gzip member with the BGZF `BC` extra field (bgzip), not plain gzip.
fn is_bgzf(head: &[u8]) -> bool {
    head.len() >= 14 && head[..2] == [0x1f, 0x8b] && head[3] & 4 != 0 && head[12..14] == *b"BC"
}

fn plain_gzip_error(name: &str) -> Error {
    Error::input(
        name,
        "plain gzip, which cannot be read by region: recompress it with `gunzip -c FILE | bgzip > genome.fa.gz && samtools faidx genome.fa.gz`, or use UCSC's .2bit of the same build (hg38.2bit, hg19.2bit), read as it is",
    )
}
