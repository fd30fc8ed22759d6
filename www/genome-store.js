// Genomes kept in this browser: a plain-gzip FASTA (UCSC's hg38.fa.gz, Ensembl's, GENCODE's),
// which cannot be read by region, is unpacked once, in a streaming pass
// (DecompressionStream), into the origin-private file system (OPFS) of this browser, with
// its .fai; later runs and visits read that copy by region. Nothing leaves the machine: OPFS
// is storage of this browser for this site, like the Cache API that keeps the weights.
//
//   OPFS genomes/<key>.fa       the FASTA, decompressed (the source's own lines)
//        genomes/<key>.fa.fai   its index (the Rust core's index_fasta, as samtools faidx)
//        genomes/<key>.json     {name, size, lastModified, bytes, created}: written last,
//                               so a copy without it (interrupted, failed) is never used
//
// <key> comes from the source File's name, size and lastModified: the same file chosen
// again finds its copy; a changed one gets a new copy.

const DIR = 'genomes';

/** Where this browser cannot keep a copy: why, in words; null when it can. */
export function storageMissing() {
  if (!globalThis.navigator?.storage?.getDirectory) return 'this browser offers no origin-private file system (navigator.storage.getDirectory is missing)';
  if (!globalThis.FileSystemFileHandle?.prototype?.createWritable) return 'this browser cannot write files into its origin-private file system (no createWritable)';
  if (!globalThis.DecompressionStream) return 'this browser cannot decompress gzip (no DecompressionStream)';
  return null;
}

/** Listeners of changes to the kept copies ('change' events: one was made or removed). */
export const keptChanges = new EventTarget();

/** The first bytes of a File: 'bgzf', 'gzip' (plain, not bgzip) or null (not gzip). */
export async function gzipKind(file) {
  const head = new Uint8Array(await file.slice(0, 18).arrayBuffer());
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return null;
  // BGZF: FLG.FEXTRA and a 'BC' subfield first in the extra field (as bgzip writes it).
  const bgzf = head.length >= 14 && (head[3] & 4) !== 0 && head[12] === 0x42 && head[13] === 0x43;
  return bgzf ? 'bgzf' : 'gzip';
}

function keyOf(file) {
  const safe = file.name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${safe}-${file.size}-${file.lastModified}`;
}

async function dir() {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create: true });
}

async function fileOrNull(d, name) {
  try { return await (await d.getFileHandle(name)).getFile(); } catch { return null; }
}

async function removeQuietly(d, name) {
  try { await d.removeEntry(name); } catch { /* absent */ }
}

/** The advice when a plain-gzip genome cannot be unpacked here (the CLI's words). */
export function plainGzipAdvice(name, why) {
  return `${name}: plain gzip (not bgzip), which cannot be read by region, and ${why}, so the page cannot unpack it: `
    + 'recompress it with `gunzip -c FILE | bgzip > genome.fa.gz && samtools faidx genome.fa.gz`, '
    + 'or use UCSC\'s .2bit of the same build (hg38.2bit, hg19.2bit), read as it is';
}

function fmtGB(n) { return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`; }

/**
 * The kept copy of the plain-gzip FASTA `file`, made now if there is none:
 * {fasta: File, fai: File, bytes, created, reused}. `buildIndex(fastaFile, {onProgress})`
 * makes the .fai text's File (BrainResNet.indexFasta). onProgress: {phase: 'unpack',
 * read, total} (compressed bytes), then {phase: 'index', read, total}. `signal` aborts
 * (the promise then rejects with Error('cancelled')) and nothing partial is kept.
 */
export async function keptCopy(file, options = {}) {
  const missing = storageMissing();
  if (missing) throw new Error(plainGzipAdvice(file.name, missing));
  // One unpacking of a file at a time, across this site's tabs: a second waits, then reuses it.
  const run = () => unpackOrReuse(file, options);
  return navigator.locks ? navigator.locks.request(`brain-resnet-genome:${keyOf(file)}`, run) : run();
}

async function unpackOrReuse(file, { buildIndex, onProgress, signal }) {
  const d = await dir();
  const key = keyOf(file);
  const name = file.name; // the core's messages name the file the user chose (it reads the content, not the name)
  const metaFile = await fileOrNull(d, `${key}.json`);
  let meta = null;
  try { meta = metaFile && JSON.parse(await metaFile.text()); } catch { /* damaged: unpacked again */ }
  if (meta) {
    const [fa, fai] = [await fileOrNull(d, `${key}.fa`), await fileOrNull(d, `${key}.fa.fai`)];
    if (fa && fai && fa.size === meta.bytes) {
      return { fasta: new File([fa], name), fai: new File([fai], `${name}.fai`), bytes: meta.bytes, created: meta.created, reused: true };
    }
  }
  // No complete copy: whatever a failed or interrupted attempt left goes first.
  await removeFiles(key);
  await checkRoom(file);
  try {
    const faHandle = await d.getFileHandle(`${key}.fa`, { create: true });
    const writable = await faHandle.createWritable();
    let read = 0;
    let shown = -Infinity;
    const count = new TransformStream({
      transform(chunk, controller) {
        read += chunk.byteLength;
        if (read - shown >= 4 << 20 || read === file.size) { shown = read; onProgress?.({ phase: 'unpack', name: file.name, read, total: file.size }); }
        controller.enqueue(chunk);
      },
    });
    // pipeTo closes the writable (its data lands in the file only then) or aborts it on error.
    await file.stream().pipeThrough(count).pipeThrough(new DecompressionStream('gzip')).pipeTo(writable, { signal });
    const fa = await faHandle.getFile();
    const fasta = new File([fa], name);
    const faiText = await (await buildIndex(fasta, { onProgress: (p) => onProgress?.({ phase: 'index', name: file.name, ...p }) })).text();
    if (signal?.aborted) throw signal.reason;
    const faiHandle = await d.getFileHandle(`${key}.fa.fai`, { create: true });
    const w = await faiHandle.createWritable();
    await w.write(faiText);
    await w.close();
    const created = Date.now();
    const meta = { name: file.name, size: file.size, lastModified: file.lastModified, bytes: fa.size, created };
    const m = await (await d.getFileHandle(`${key}.json`, { create: true })).createWritable();
    await m.write(JSON.stringify(meta));
    await m.close();
    keptChanges.dispatchEvent(new Event('change'));
    return { fasta, fai: new File([await faiHandle.getFile()], `${name}.fai`), bytes: fa.size, created, reused: false };
  } catch (e) {
    await removeFiles(key);
    if (signal?.aborted || e?.name === 'AbortError') throw new Error('cancelled');
    if (e?.name === 'QuotaExceededError') {
      throw new Error(`${file.name}: this browser's storage for this site is full, so the unpacked copy could not be kept `
        + '(remove kept genomes you no longer need, or use the .2bit of the same build, read as it is)');
    }
    if (e instanceof TypeError && /junk/i.test(e.message)) {
      // Chromium's DecompressionStream reads one gzip member; `cat a.gz b.gz` makes several.
      throw new Error(plainGzipAdvice(file.name, 'it holds several gzip members (concatenated files), of which this browser\'s decompressor reads only the first'));
    }
    if (e instanceof TypeError && /decompress|compress|gzip/i.test(e.message)) {
      throw new Error(`${file.name}: not a valid gzip file (${e.message})`);
    }
    throw e;
  }
}

/** Refuses early when the gzip trailer's size (ISIZE) says the copy cannot fit the site's quota. */
async function checkRoom(file) {
  if (!navigator.storage.estimate || file.size < 18) return;
  const tail = new DataView(await file.slice(file.size - 4).arrayBuffer());
  const isize = tail.getUint32(0, true); // the size mod 2^32: trusted only when plausible
  if (isize < file.size) return;
  const { quota, usage } = await navigator.storage.estimate();
  if (quota && isize > quota - usage) {
    throw new Error(`${file.name}: its unpacked copy needs about ${fmtGB(isize)}, and this browser allows this site only ${fmtGB(quota - usage)} more: `
      + 'free space on the disk, remove kept genomes you no longer need, or use the .2bit of the same build, read as it is');
  }
}

/**
 * The kept copies: [{key, name, size (the .gz), bytes (unpacked), created (ms)}], newest first;
 * then unpacked data without its record (an interrupted or running unpacking, never used):
 * {key, name, bytes, created, incomplete: true}, so that its space can be freed. [] without OPFS.
 */
export async function listKept() {
  if (storageMissing()) return [];
  const d = await dir();
  const out = [];
  const data = new Map();
  for await (const [entry, handle] of d.entries()) {
    if (handle.kind !== 'file') continue;
    if (entry.endsWith('.fa')) {
      const f = await handle.getFile();
      data.set(entry.slice(0, -'.fa'.length), f);
    }
    if (!entry.endsWith('.json')) continue;
    try {
      const meta = JSON.parse(await (await handle.getFile()).text());
      out.push({ key: entry.slice(0, -'.json'.length), ...meta });
    } catch { /* a damaged record: shown below as incomplete */ }
  }
  out.sort((a, b) => b.created - a.created);
  const whole = new Set(out.map((k) => k.key));
  for (const [key, f] of data) {
    if (!whole.has(key)) out.push({ key, name: key.replace(/-\d+-\d+$/, ''), bytes: f.size, created: f.lastModified, incomplete: true });
  }
  return out;
}

/** Removes the kept copy `key` (after an unpacking of it that runs now, in any tab). */
export async function remove(key) {
  const run = () => removeFiles(key);
  await (navigator.locks ? navigator.locks.request(`brain-resnet-genome:${key}`, run) : run());
  keptChanges.dispatchEvent(new Event('change'));
}

/** The files of copy `key`, its completion record first (so a half-removed copy is never used). */
async function removeFiles(key) {
  const d = await dir();
  for (const name of [`${key}.json`, `${key}.fa.fai`, `${key}.fa`]) await removeQuietly(d, name);
}

export { fmtGB };
