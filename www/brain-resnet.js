// Brain-ResNet in the browser: the JavaScript API (an ES module; other pages can use it).
//
//   import { listModels, BrainResNet, sortGenomeFiles, scoreNames, scoreValues } from './brain-resnet.js';
//   const models = await listModels();                  // from models/index.json
//   const br = await BrainResNet.load(models[0].url, { backend: 'auto', onProgress });
//   br.backend                                           // {kind: 'gpu' | 'cpu', text: which and why}
//   const rows = await br.predictFasta('>s\nACGT...');     // or br.predictFastaFile(file)
//   const run = await br.scoreVcf({ vcf, fasta, fai, gzi }, { rcMean: false, onProgress });
//   const tsv = await br.formatRun(run, 'tsv');            // a Blob, as `brain-resnet score` writes it
//   await loadCore(); scoreNames()                       // [{name, description}]
//   scoreValues('abs_diff', refs, alts)                  // Float64Array, the Rust core's formulas
//   br.cancel();                                         // stops a run at once
//
// Everything runs in Web Workers on this machine, except the score formulas, which the
// page calls on its own thread from the same WebAssembly module. The only requests are
// GETs of this site's own files: the worker and WebAssembly module, model.json,
// weights.safetensors (kept in the Cache API, so a second visit needs no download).

import { gzipKind, keptCopy } from './genome-store.js';
import { ResultStore, ShardMerge } from './results.js';

const CACHE = 'brain-resnet-weights-v1';

/** Models listed in `models/index.json`: [{id, name, description, dtype, bytes, url, card (the model card's URL, or null)}]. */
export async function listModels(base = new URL('./models/', import.meta.url)) {
  const res = await fetch(new URL('index.json', base));
  if (!res.ok) throw new Error(`cannot read the model list (${res.status} ${res.statusText})`);
  const index = await res.json();
  return index.models.map((m) => ({ ...m, url: new URL(m.path, base).href, card: m.card ? new URL(m.card, base).href : null }));
}

async function fetchWithProgress(url, expectedBytes, onProgress) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot download ${url} (${res.status} ${res.statusText})`);
  const total = Number(res.headers.get('content-length')) || expectedBytes || 0;
  const reader = res.body.getReader();
  const parts = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress?.({ phase: 'download', loaded: received, total });
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out.buffer;
}

/** Weights from the Cache API when present (keyed by URL and SHA-256), else downloaded and cached. */
async function loadWeights(url, manifest, onProgress) {
  const key = `${url}?sha256=${manifest.weights.sha256}`;
  let cache = null;
  try { cache = await caches.open(CACHE); } catch { /* no Cache API (e.g. file://): download */ }
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const buf = await hit.arrayBuffer();
      onProgress?.({ phase: 'cache', loaded: buf.byteLength, total: buf.byteLength });
      return { buffer: buf, fromCache: true };
    }
  }
  const buffer = await fetchWithProgress(url, manifest.weights.bytes, onProgress);
  if (cache) {
    try { await cache.put(key, new Response(buffer.slice(0))); } catch { /* quota: run uncached */ }
  }
  return { buffer, fromCache: false };
}

/**
 * SHA-256 (hex) of the weights with WebCrypto, once for all workers (the Rust core compares it
 * with model.json's); null where WebCrypto is missing (plain http off localhost): the workers
 * then hash in WebAssembly.
 */
async function sha256Hex(buffer) {
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** One Web Worker holding one Engine, with request/answer bookkeeping. */
class EngineWorker {
  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.pending = new Map();
    this.next = 1;
    this.worker.onmessage = (e) => {
      const { id, type } = e.data;
      if (type === 'crash') { this.#crashed(e.data.message); return; }
      const p = this.pending.get(id);
      if (!p) return;
      if (type === 'batch') { p.onBatch?.(e.data.batch); return; }
      this.pending.delete(id);
      if (type === 'error') p.reject(new Error(e.data.message));
      else p.resolve(e.data);
    };
    this.worker.onerror = (e) => this.#crashed(e.message ?? 'the worker failed');
  }
  /** The instance aborted: every call fails with an error marked `crashed`; the pool replaces the worker. */
  #crashed(message) {
    this.dead = true;
    const error = Object.assign(new Error(`the WebAssembly core stopped: ${message}`), { crashed: true });
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    this.worker.terminate();
  }
  /** `transfer`: ArrayBuffers moved to the worker, not copied (the weights: one copy fewer per worker). */
  call(type, payload = {}, onBatch = null, transfer = []) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onBatch });
      this.worker.postMessage({ id, type, ...payload }, transfer);
    });
  }
  terminate(reason) {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new Error(reason));
    this.pending.clear();
  }
}

/**
 * The WebGPU adapter in words, or why there is none:
 * {adapter: 'vendor architecture description', fallback: bool} | {error}.
 */
export async function probeWebGpu() {
  if (!globalThis.navigator?.gpu) return { error: 'this browser offers no WebGPU (navigator.gpu is missing)' };
  let adapter = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { error: `the WebGPU adapter request failed (${e.message})` };
  }
  if (!adapter) return { error: 'WebGPU is present but found no adapter' };
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return { adapter: fallback ? `${name}, a software fallback adapter` : name, fallback };
}

/** Sorts dropped or chosen files into {vcf, fasta, fai, gzi}; throws on what it cannot place. */
export function sortGenomeFiles(files) {
  const out = {};
  for (const f of files) {
    const n = f.name.toLowerCase();
    if (n.endsWith('.fai')) out.fai = f;
    else if (n.endsWith('.gzi')) out.gzi = f;
    else if (/\.(vcf|vcf\.gz|vcf\.bgz|txt|csv)$/.test(n)) out.vcf = f; // .txt, .csv: consumer raw data
    else if (/\.(fa|fasta|fna|fa\.gz|fasta\.gz|fna\.gz|fa\.bgz|2bit)$/.test(n)) out.fasta = f;
    else throw new Error(`${f.name}: not a VCF (.vcf, .vcf.gz), genome (.2bit, .fa, .fa.gz) or index (.fai, .gzi)`);
  }
  return out;
}

/** Is this genome file a UCSC .2bit (read by region, no index needed)? */
export function isTwoBit(file) { return /\.2bit$/i.test(file?.name ?? ''); }

export class BrainResNet {
  /**
   * Loads the model at `url` (a directory with model.json) into a pool of workers.
   * `workers` defaults to navigator.hardwareConcurrency, at most 4.
   * `backend`: 'auto' (a hardware WebGPU adapter when there is one, else the CPU),
   * 'gpu' (WebGPU, any adapter, or an error saying why not) or 'cpu'.
   * On the GPU one worker drives it; `br.backend.text` says which backend runs and why.
   */
  static async load(url, { workers, backend = 'auto', onProgress } = {}) {
    const base = url.endsWith('/') ? url : `${url}/`;
    const res = await fetch(new URL('model.json', base));
    if (!res.ok) throw new Error(`cannot read ${base}model.json (${res.status} ${res.statusText})`);
    const manifestText = await res.text();
    const manifest = JSON.parse(manifestText);
    const { buffer, fromCache } = await loadWeights(new URL(manifest.weights.file, base).href, manifest, onProgress);
    if (!['auto', 'gpu', 'cpu'].includes(backend)) throw new Error(`unknown backend ${backend}: auto, gpu or cpu`);
    const n = Math.max(1, Math.min(workers ?? navigator.hardwareConcurrency ?? 2, 4));
    let gpu = null;
    let reason = backend === 'cpu' ? 'as chosen' : null;
    if (backend !== 'cpu') {
      const probe = await probeWebGpu();
      if (probe.error) reason = probe.error;
      else if (probe.fallback && backend === 'auto') reason = `the only WebGPU adapter is ${probe.adapter}: the CPU path is faster`;
      else gpu = probe;
      if (!gpu && backend === 'gpu') throw new Error(`the GPU backend was chosen, but ${reason}`);
    }
    const br = new BrainResNet(manifest, manifestText, buffer, n);
    br.fromCache = fromCache;
    br.sha256 = await sha256Hex(buffer);
    br.choice = backend;
    br.gpu = gpu;
    br.cpuReason = reason;
    onProgress?.({ phase: 'start', loaded: 0, total: gpu ? 1 : n });
    await br.#startPool();
    // The score formulas' module on this thread, compiled after the workers' (not beside
    // them: on few cores that would delay the first score); callers await loadCore().
    loadCore().catch(() => {});
    return br;
  }

  constructor(manifest, manifestText, weights, n) {
    this.manifest = manifest;
    this.manifestText = manifestText;
    this.weights = weights;
    this.cpuWorkers = n;
    this.pool = [];
    this.gpu = null;
    this.backend = null;
    this.indexes = new WeakMap(); // FASTA File -> the .fai File built for it
  }

  get labels() { return this.manifest.labels; }

  /** Workers in the pool now. */
  get size() { return this.pool.length || (this.gpu ? 1 : this.cpuWorkers); }

  #cpuBackend() {
    const text = `CPU (WebAssembly SIMD128), ${this.cpuWorkers} worker${this.cpuWorkers > 1 ? 's' : ''}`;
    // Each worker holds its own copy of the network (no shared-memory threads yet).
    const arithmetic = this.arithmetic ? `; ${this.arithmetic}, one model copy per worker` : '';
    return { kind: 'cpu', text: (this.cpuReason ? `${text}: ${this.cpuReason}` : text) + arithmetic };
  }

  /** The GPU backend line: the adapter (gpuNote), then the batch size it runs at. */
  #gpuBackend(batch) {
    if (!this.gpu || !batch) return;
    this.backend = { kind: 'gpu', text: `${this.gpuNote}; ${batch}`, batch: Number(/batch (\d+)/.exec(batch)?.[1] ?? 0) };
  }

  async #startPool() {
    const size = this.gpu ? 1 : this.cpuWorkers;
    this.pool = Array.from({ length: size }, () => new EngineWorker());
    try {
      const loaded = await Promise.all(this.pool.map((w) => {
        const weights = this.weights.slice(0);
        return w.call('load', { manifest: this.manifestText, weights, sha256: this.sha256 }, null, [weights]);
      }));
      this.arithmetic = loaded[0]?.arithmetic ?? null;
      if (this.gpu) {
        try {
          const weights = this.weights.slice(0);
          const r = await this.pool[0].call('gpu', { weights, sha256: this.sha256, adapter: this.gpu.adapter }, null, [weights]);
          this.gpuNote = this.choice === 'gpu' ? `${r.backend}, as chosen` : r.backend;
          this.#gpuBackend(r.gpuBatch);
          return;
        } catch (e) {
          if (this.choice === 'gpu') throw new Error(`the GPU backend was chosen, but it failed: ${e.message}`);
          this.gpu = null;
          this.cpuReason = `the GPU could not be used (${e.message})`;
          this.pool.forEach((w) => w.terminate('switching to the CPU'));
          return this.#startPool();
        }
      }
      this.backend = this.#cpuBackend();
    } catch (e) {
      this.pool.forEach((w) => w.terminate('model failed to load'));
      this.pool = [];
      throw e;
    }
  }

  async #ensurePool() {
    if (this.pool.length === 0) await this.#startPool();
    // A worker whose instance aborted is replaced before the next call.
    for (let k = 0; k < this.pool.length; k++) if (this.pool[k].dead) await this.#replaceWorker(k);
  }

  /** A fresh worker in place of pool[k], the model loaded (and on the GPU if the pool is). */
  async #replaceWorker(k) {
    this.pool[k].terminate('replaced');
    const w = new EngineWorker();
    this.pool[k] = w;
    const weights = this.weights.slice(0);
    await w.call('load', { manifest: this.manifestText, weights, sha256: this.sha256 }, null, [weights]);
    if (this.gpu) {
      const again = this.weights.slice(0);
      await w.call('gpu', { weights: again, sha256: this.sha256, adapter: this.gpu.adapter }, null, [again]);
    }
  }

  /** Stops whatever runs now; the next call starts fresh workers. */
  cancel() {
    this.unpacking?.abort();
    this.pool.forEach((w) => w.terminate('cancelled'));
    this.pool = [];
  }

  /** Loses the GPU device on purpose, as a driver reset would (tests of the CPU fallback). */
  async loseGpuDevice() {
    await this.#ensurePool();
    await this.pool[0].call('lose-gpu');
  }

  /**
   * Tests of the GPU path: the GPU against the CPU in f32 arithmetic on windows of the FASTA
   * `text`, at each of `batches` windows per submission (0: the largest the plan allows under
   * 128 MiB bindings): [{batch, windows, max_diff}].
   */
  async gpuParity(text, batches) {
    await this.#ensurePool();
    const weights = this.weights.slice(0);
    return (await this.pool[0].call('gpu-parity', { weights, text, batches }, null, [weights])).parity;
  }

  /** Predicts FASTA text: [{name, probs: number[31]} | {name, error}]. */
  async predictFasta(text) {
    await this.#ensurePool();
    const r = await this.pool[0].call('predict', { text });
    this.#gpuBackend(r.gpuBatch);
    return r.rows;
  }

  /**
   * Predicts the records of a FASTA `File`, read in the worker by slices: a record longer
   * than the window comes back as {name, error} with its length, and is never held whole.
   */
  async predictFastaFile(file) {
    await this.#ensurePool();
    const r = await this.pool[0].call('predict-file', { file });
    this.#gpuBackend(r.gpuBatch);
    return r.rows;
  }

  /**
   * Scores a VCF against a genome; the files are read in the workers, by slices. `regions`
   * (a BED File, optional) keeps only the records inside it (summary.outside_regions counts the rest).
   * `sample` (a name from vcfSamples) scores only the ALTs it carries; its 0/0 and ./. records are
   * counted (summary.not_carried, summary.missing_calls) and left out.
   * onProgress({done, fraction, perSecond, secondsLeft}) is called as batches come.
   * Resolves to {events (headers and records, in input order), summary}.
   */
  async scoreVcf({ vcf, fasta, fai, gzi, regions }, { rcMean = false, sample = null, onProgress, onIndexProgress, keepInMemory, testPanicAtLine = null, testPanicAlways = false } = {}) {
    if (!vcf) throw new Error('choose a VCF file');
    if (!fasta) throw new Error('choose the genome: UCSC .2bit, FASTA (.fa) or bgzip FASTA (.fa.gz)');
    // A plain FASTA without its .fai is indexed here, a plain-gzip one unpacked into this
    // browser's storage (once); the core names what else is missing.
    ({ fasta, fai, gzi } = await this.prepareGenome({ fasta, fai, gzi }, { onProgress: onIndexProgress }));
    await this.#ensurePool();
    const started = performance.now();
    const n = this.pool.length;
    const store = new ResultStore({ keepInMemory });
    const merge = new ShardMerge(n);
    const lastLine = new Array(n).fill(0); // the last record line each shard delivered
    const notes = [];
    // Progress follows the records: the line each shard has reached against the file's lines
    // (counted beside the run; until then, and if they cannot be counted, the bytes read).
    let totalLines = null;
    countLines(vcf).then((c) => { totalLines = c; }, () => {});
    const shardBytes = new Array(n).fill(0);
    let headers = [];
    let done = 0;
    const report = () => {
      const secs = (performance.now() - started) / 1000;
      const fraction = totalLines ? Math.min(1, Math.min(...lastLine) / totalLines) : Math.min(...shardBytes);
      onProgress?.({ done, fraction, perSecond: done / Math.max(secs, 1e-3), secondsLeft: fraction > 0.02 ? secs * (1 - fraction) / fraction : null });
    };
    const onBatch = (k) => (batch) => {
      const fresh = [];
      for (const ev of batch.events) {
        if (ev.Header !== undefined) {
          if (k === 0) headers.push(ev.Header);
        } else if (ev.Record.line > lastLine[k]) { // a rescored shard repeats its earlier records
          lastLine[k] = ev.Record.line;
          fresh.push(ev.Record);
          done += ev.Record.alleles.length;
        }
      }
      store.add(merge.push(k, fresh));
      shardBytes[k] = batch.bytes_total ? batch.bytes_read / batch.bytes_total : 1;
      report();
    };
    // A shard whose worker crashes (a panic in the core) is rescored once by a fresh
    // worker, its records already delivered kept; a second crash fails the run, saying where.
    const runShard = async (k) => {
      for (let attempt = 0; ; attempt++) {
        try {
          if (k === 0) headers = [];
          const panicAt = attempt === 0 || testPanicAlways ? testPanicAtLine : null;
          const result = await this.pool[k].call('score', {
            vcf, fasta, fai, gzi: gzi ?? null, regions: regions ?? null,
            options: { rc_mean: rcMean, shard: k, shards: n, test_panic_at_line: panicAt, sample },
          }, onBatch(k));
          lastLine[k] = Infinity;
          store.add(merge.end(k));
          return result;
        } catch (e) {
          if (!e.crashed) throw e;
          const after = lastLine[k] ? `after line ${lastLine[k]} of ${vcf.name}` : `before its first record of ${vcf.name}`;
          if (attempt >= 1) {
            throw new Error(`${e.message}: it stopped twice on the same records (${after}), so this run cannot finish; `
              + 'the records before that point were scored. Please report it with the VCF lines that follow.');
          }
          notes.push(`A worker stopped ${after} (${e.message}); a new worker rescored its records.`);
          await this.#replaceWorker(k);
        }
      }
    };
    let results;
    try {
      results = await Promise.all(this.pool.map((w, k) => runShard(k)));
    } catch (e) {
      this.cancel(); // the other shards' workers stop too; the next call starts fresh ones
      throw e;
    }
    store.finish();
    store.headers = headers;
    const summary = mergeSummaries(results.map((r) => r.summary));
    if (this.gpu && results[0].summary.backend && !results[0].summary.backend.startsWith('GPU')) {
      // The GPU failed during the run: the worker finished it on the CPU and says why.
      this.gpu = null;
      this.cpuWorkers = 1;
      this.backend = { kind: 'cpu', text: results[0].summary.backend };
    }
    this.#gpuBackend(results[0].gpuBatch);
    summary.backend = this.backend.text;
    summary.notes = [...summary.notes, ...notes];
    const records = store.allRecords();
    // `records` (and `events`): every result as objects, for runs small enough to hold (null
    // past `keepInMemory` alleles: then `store` pages over them); `files`: what was scored,
    // with a .fai built here (for the track and a download).
    return {
      store, records, summary, rcMean,
      events: records && [...headers.map((h) => ({ Header: h })), ...records.map((r) => ({ Record: r }))],
      seconds: (performance.now() - started) / 1000, files: { vcf, fasta, fai, gzi, regions },
    };
  }

  /**
   * What the variants `File` holds, read in a worker: {samples (the #CHROM line's; [] when
   * none), layout ('23andMe', 'AncestryDNA' or 'MyHeritage' for consumer raw data, else null)}.
   * Raw data is scored as one sample named after the file; its positions are GRCh37.
   */
  async vcfSamples(vcf) {
    await this.#ensurePool();
    const { samples, layout } = await this.pool[0].call('samples', { file: vcf });
    return { samples, layout };
  }

  /**
   * The genome files a run reads: a plain-gzip FASTA (not bgzip) is unpacked once into this
   * browser's private storage (genome-store.js; onProgress({phase: 'unpack' | 'index', read,
   * total}), then {phase: 'kept', name, bytes, created, reused}) and its kept copy with its
   * .fai is used; a plain FASTA without its .fai gets one built (onProgress({read, total}));
   * a .2bit, a bgzip FASTA or a FASTA with its .fai are used as chosen.
   */
  async prepareGenome({ fasta, fai, gzi }, { onProgress } = {}) {
    if (!fasta || isTwoBit(fasta)) return { fasta, fai, gzi };
    const kind = await gzipKind(fasta);
    if (kind === 'gzip') {
      this.unpacking = new AbortController();
      const kept = await keptCopy(fasta, { buildIndex: (f, o) => this.indexFasta(f, o), onProgress, signal: this.unpacking.signal });
      onProgress?.({ phase: 'kept', name: fasta.name, bytes: kept.bytes, created: kept.created, reused: kept.reused });
      return { fasta: kept.fasta, fai: kept.fai, gzi: null };
    }
    if (!fai && !kind) fai = await this.indexFasta(fasta, { onProgress });
    return { fasta, fai, gzi };
  }

  /**
   * The .fai of a plain FASTA `File` without one, built in a worker in one pass over the
   * File's slices (onProgress({read, total})); kept for this File, so later runs and the
   * track reuse it. Resolves to a `File` named `<fasta>.fai`, which the page offers for
   * download (choosing it next time skips the pass).
   */
  async indexFasta(fasta, { onProgress } = {}) {
    const known = this.indexes.get(fasta);
    if (known) return known;
    await this.#ensurePool();
    const { fai } = await this.pool[0].call('index', { file: fasta }, (p) => onProgress?.(p));
    const file = new File([fai], `${fasta.name}.fai`, { type: 'text/plain' });
    this.indexes.set(fasta, file);
    return file;
  }

  /** Parses an annotations TSV (text): {key: {label, ref_reads, alt_reads, gerp, maf, p_value, pip}}. */
  async parseAnnotations(text, name = 'annotations') {
    await this.#ensurePool();
    return (await this.pool[0].call('annotations', { text, name })).annotations;
  }

  /**
   * The paper's analyses for every profile (the Rust core's, as `brain-resnet analyze`):
   * {profiles: [{profile, top, variants, ref_mismatch, ref_mismatch_excluded, enrichment?, direction?,
   * constraint?, selection?}]}. `ref_mismatch` alleles are analysed (and counted) unless
   * excludeRefMismatch, as `brain-resnet analyze [--exclude-ref-mismatch]`.
   */
  async analyzeAll(records, annotationsText, top = null, { excludeRefMismatch = false } = {}) {
    await this.#ensurePool();
    return (await this.pool[0].call('analyze', { records, annotations: annotationsText, top, excludeRefMismatch })).analysis;
  }

  /**
   * Saturation mutagenesis of the variant window at 1-based `pos` of `chrom`:
   * {contig, start, sequence, window, outputs, reference[31], delta[pos*4*31 + base*31 + profile]} (bases ACGT).
   * onProgress({done, total}) as mutants are predicted.
   */
  async saturation({ fasta, fai, gzi }, chrom, pos, { onProgress } = {}) {
    ({ fasta, fai, gzi } = await this.prepareGenome({ fasta, fai, gzi }));
    await this.#ensurePool();
    // The workers share the window: each mutates a contiguous part of it (its own
    // reference prediction is the same number in each: the arithmetic is exact).
    const window = this.manifest.architecture.window_length;
    if (!Number.isInteger(window) || window <= 0) throw new Error(`model.json: architecture.window_length ${window} is not a window length`);
    const parts = this.pool.length;
    const done = new Array(parts).fill(0);
    const totals = new Array(parts).fill(0);
    const results = await Promise.all(this.pool.map((w, i) => {
      const from = Math.floor((window * i) / parts);
      const to = Math.floor((window * (i + 1)) / parts);
      return w.call('saturation', { fasta, fai, gzi: gzi ?? null, chrom, pos: Number(pos), from, to }, (p) => {
        done[i] = p.done;
        totals[i] = p.total;
        onProgress?.({ done: done.reduce((a, b) => a + b, 0), total: totals.reduce((a, b) => a + b, 0) });
      }).then((r) => ({ from, to, saturation: r.saturation }));
    }));
    const first = results[0].saturation;
    const stride = 4 * first.outputs;
    for (const { from, to, saturation } of results.slice(1)) {
      for (let k = from * stride; k < to * stride; k++) first.delta[k] = saturation.delta[k];
    }
    return first;
  }

  /**
   * The scored alleles of profile `profileIndex` as the analyses see them (the Rust core's
   * ranking and annotation join, as `brain-resnet analyze`), in rank order:
   * [{rank, record, allele, id, chrom, pos, alt, locus, abs_diff, log_ratio, imbalance,
   *   ann: {label, ref_reads, alt_reads, gerp, maf, p_value, pip} | null}];
   * `record` and `allele` index `records` and its `alleles`.
   */
  async joinedRows(records, annotationsText, profileIndex, { excludeRefMismatch = false } = {}) {
    await this.#ensurePool();
    return (await this.pool[0].call('rows', { records, annotations: annotationsText ?? null, profile: profileIndex, excludeRefMismatch })).rows;
  }

  /**
   * Formats results exactly as `brain-resnet score` does: format 'tsv' or 'vcf'
   * (with the same `##brain_resnet_model` line, built by the Rust core from model.json).
   * `columns` ('sample', 'carriers', 'none': the run's summary.genotype_columns) and
   * `continuing` (rows only, after a part that wrote the header) write a large run in parts.
   */
  async format(format, events, scores = 'abs_diff,log_ratio', rcMean = false, { columns, continuing = false } = {}) {
    await this.#ensurePool();
    return (await this.pool[0].call('format', { format, events, manifest: this.manifestText, scores, rcMean, columns, continuing })).text;
  }

  /**
   * A run's results as the CLI writes them, in parts (one per chunk of the run's store), as a
   * Blob of those parts: the whole text is never one string. `onProgress(fraction)`.
   */
  async formatRun(run, format, { scores = 'abs_diff,log_ratio', onProgress } = {}) {
    const { store } = run;
    const columns = run.summary.genotype_columns;
    const parts = [];
    let first = true;
    // Each part becomes a Blob at once: the browser holds Blobs outside the page's heap.
    const write = async (events) => {
      parts.push(new Blob([await this.format(format, events, scores, run.rcMean, { columns, continuing: !first })]));
      first = false;
    };
    if (format === 'vcf' || store.chunks.length === 0) await write(store.headers.map((h) => ({ Header: h })));
    let k = 0;
    for await (const records of store.chunkRecords()) {
      await write(records.map((r) => ({ Record: r })));
      onProgress?.(++k / store.chunks.length);
    }
    return new Blob(parts, { type: format === 'tsv' ? 'text/tab-separated-values' : 'text/plain' });
  }
}

/**
 * The lines of a VCF `File` that are not headers, counted in one streamed pass (a bgzip or
 * gzip file through DecompressionStream): the progress of a run is measured against them.
 */
export async function countLines(file) {
  let stream = file.stream();
  if (/\.(gz|bgz)$/i.test(file.name)) stream = stream.pipeThrough(new DecompressionStream('gzip'));
  let lines = 0;
  let atStart = true;
  let header = false;
  // A reader, not `for await (... of stream)`: WebKit's ReadableStream is not async-iterable.
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const chunk = r.value;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (atStart) { header = c === 35; atStart = false; } // '#'
      if (c === 10) { if (!header) lines++; atStart = true; }
    }
  }
  if (!atStart && !header) lines++;
  return lines;
}

function mergeSummaries(list) {
  const out = { records: 0, by_status: {}, aliases: [], unknown_contigs: [] };
  const aliases = new Set();
  const unknown = new Set();
  for (const s of list) {
    out.records += s.records;
    for (const [k, v] of Object.entries(s.by_status)) out.by_status[k] = (out.by_status[k] ?? 0) + v;
    for (const a of s.aliases) aliases.add(JSON.stringify(a));
    for (const u of s.unknown_contigs) unknown.add(u);
  }
  out.notes = [...new Set(list.flatMap((s) => s.notes ?? []))];
  for (const k of ['outside_regions', 'not_carried', 'missing_calls']) out[k] = list.reduce((n, s) => n + (s[k] ?? 0), 0);
  out.aliases = [...aliases].map((a) => JSON.parse(a)).sort();
  out.unknown_contigs = [...unknown].sort();
  out.scored = (out.by_status.ok ?? 0) + (out.by_status.ref_mismatch ?? 0);
  out.alleles = Object.values(out.by_status).reduce((a, b) => a + b, 0);
  out.genotype_columns = list[0]?.genotype_columns ?? 'none';
  out.genome_contigs = list[0]?.genome_contigs ?? [];
  return out;
}

let core = null;
let coreLoading = null;

/**
 * Loads the Rust core (the WebAssembly module the workers run) on this thread, once:
 * the score definitions come from it. BrainResNet.load starts it once its workers run;
 * await it before scoreNames/scoreValue/scoreValues.
 */
export function loadCore() {
  coreLoading ??= import('./pkg/brain_resnet.js')
    .then(async (m) => { await m.default(); core = m; return m; })
    .catch((e) => { coreLoading = null; throw e; });
  return coreLoading;
}

function loaded() {
  if (!core) throw new Error('the WebAssembly core is not loaded yet (await loadCore())');
  return core;
}

/** The scores, as the CLI names them: [{name, description}]. */
export function scoreNames() { return loaded().score_names(); }

/** One score of one REF/ALT probability pair, by the Rust core's definition. */
export function scoreValue(name, ref, alt) { return loaded().score_value(name, ref, alt); }

/**
 * One score of many REF/ALT pairs (Float32Arrays or arrays of numbers, same length):
 * a Float64Array, by the Rust core's definitions.
 */
export function scoreValues(name, refs, alts) { return loaded().score_values(name, refs, alts); }
