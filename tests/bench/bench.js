// The in-page half of `npm run bench` (scripts/bench.mjs drives it through playwright):
// each function runs one measurement in this page and returns plain figures.
// Ours runs through the page's own API and workers (/brain-resnet.js, /worker.js);
// onnxruntime-web is served from node_modules at /ort/. Bench only: never loaded by the app.

/** `n` deterministic random 1000 bp sequences as FASTA (same text for every engine). */
function sequences(n, window = 1000, seed = 12345) {
  let s = seed >>> 0;
  const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s >>> 8; };
  return Array.from({ length: n }, () => Array.from({ length: window }, () => 'ACGT'[rnd() & 3]).join(''));
}
const fasta = (seqs) => seqs.map((q, i) => `>s${i}\n${q}\n`).join('');

/** One-hot [n, 4, window], AGCT, as src/window.rs. */
function oneHot(seqs, window = 1000) {
  const x = new Float32Array(seqs.length * 4 * window);
  seqs.forEach((q, n) => {
    for (let i = 0; i < q.length; i++) {
      const c = 'AGCT'.indexOf(q[i]);
      if (c >= 0) x[(n * 4 + c) * window + i] = 1;
    }
  });
  return x;
}

const now = () => performance.now();
const kept = {};

/** Ours from a cold cache: module import, model.json + weights fetch, wasm compile, decode, first window. */
export async function oursCold(url, workers) {
  const t0 = now();
  const { BrainResNet } = await import('/brain-resnet.js');
  const br = await BrainResNet.load(url, { workers, backend: 'cpu' });
  const tLoad = now();
  const rows = await br.predictFasta(fasta(sequences(1)));
  const t1 = now();
  br.cancel();
  return { load_s: (tLoad - t0) / 1000, first_window_s: (t1 - tLoad) / 1000, time_to_first_score_s: (t1 - t0) / 1000,
    from_cache: br.fromCache, backend: br.backend.text, probs: rows[0].probs };
}

/** Ours, CPU path: loads `workers` workers and predicts one batch of `batch` windows on each (warm-up). */
export async function oursSetup(url, workers, batch) {
  const { BrainResNet } = await import('/brain-resnet.js');
  const br = await BrainResNet.load(url, { workers, backend: 'cpu' });
  const text = fasta(sequences(batch));
  const warm = await Promise.all(br.pool.map((w) => w.call('predict', { text })));
  kept.ours = br;
  kept.oursText = text;
  kept.batch = batch;
  return { workers, batch, backend: br.backend.text, probs: warm[0].rows.map((r) => r.probs) };
}

/** Every worker predicts batches until `seconds` have passed: {windows, seconds}. */
export async function oursRun(seconds) {
  const { ours: br, oursText: text, batch } = kept;
  let windows = 0;
  const t0 = now();
  await Promise.all(br.pool.map(async (w) => {
    while (now() - t0 < seconds * 1000) {
      const r = await w.call('predict', { text });
      if (r.rows.length !== batch || !r.rows[0].probs) throw new Error('prediction failed');
      windows += batch;
    }
  }));
  return { windows, seconds: (now() - t0) / 1000 };
}

/** Scores `variants` generated SNVs of the fixture genome (chr1) with `br`'s scoreVcf. */
async function scoreSnvs(br, variants) {
  const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const fa = await get('/fixtures/genome/genome.fa');
  const fai = await get('/fixtures/genome/genome.fa.fai');
  // chr1's bases from its .fai entry (offset, bases a line, bytes a line).
  const [, len, offset, lineBases, lineBytes] = new TextDecoder().decode(fai).split('\n')[0].split('\t').map(Number);
  const base = (i) => String.fromCharCode(fa[offset + Math.floor(i / lineBases) * lineBytes + (i % lineBases)]).toUpperCase();
  const lines = ['##fileformat=VCFv4.2', '##contig=<ID=chr1,length=30000>', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  for (let k = 0; lines.length - 3 < variants; k++) {
    const pos = 600 + ((k * 7919) % (len - 1200));
    const ref = base(pos - 1);
    if (!'ACGT'.includes(ref)) continue;
    const alt = 'ACGT'[('ACGT'.indexOf(ref) + 1 + (k % 3)) % 4];
    lines.push(`chr1\t${pos}\tv${k}\t${ref}\t${alt}\t.\t.\t.`);
  }
  const vcf = new File([lines.join('\n') + '\n'], 'bench.vcf');
  const files = { vcf, fasta: new File([fa], 'genome.fa'), fai: new File([fai], 'genome.fa.fai') };
  const t0 = now();
  const run = await br.scoreVcf(files, {});
  const secs = (now() - t0) / 1000;
  // REF and ALT probabilities of the first record, to compare backends.
  const probs = run.records.slice(0, 1).flatMap((r) => r.alleles[0].probs ?? []);
  return { variants, scored: run.summary.scored, by_status: run.summary.by_status, backend: run.summary.backend,
    seconds: secs, variants_per_s: run.summary.scored / secs, probs };
}

/**
 * Our whole allelic-effect track (saturation mutagenesis: every base of one window
 * changed to each of the other three, 3,000 mutants) on the fixture genome's chr1.
 */
export async function oursSaturation(pos = 5000) {
  const br = kept.ours;
  const get = async (p) => new File([await (await fetch(p)).arrayBuffer()], p.split('/').pop());
  const files = { fasta: await get('/fixtures/genome/genome.fa'), fai: await get('/fixtures/genome/genome.fa.fai') };
  const t0 = now();
  const sat = await br.saturation(files, 'chr1', pos);
  const seconds = (now() - t0) / 1000;
  // Mutants = changed (position, base) cells: 3 per position of real sequence.
  let changed = 0;
  for (let k = 0; k < sat.delta.length; k += sat.outputs) if (sat.delta.slice(k, k + sat.outputs).some((v) => v !== 0)) changed++;
  return { pos, seconds, window: sat.window, mutants_with_an_effect: changed };
}

/** Our scoreVcf on `variants` generated SNVs (the model kept by oursThroughput). */
export async function oursScoreVcf(variants) {
  const br = kept.ours;
  const r = await scoreSnvs(br, variants);
  br.cancel();
  return { workers: br.cpuWorkers, ...r };
}

/**
 * Our WebGPU path (headless Chromium: SwiftShader) through scoreVcf (pasted sequences run
 * on the CPU path even on the GPU backend): `variants` SNVs, first batch's setup included.
 */
export async function oursGpu(url, variants) {
  const { BrainResNet } = await import('/brain-resnet.js');
  const t0 = now();
  const br = await BrainResNet.load(url, { workers: 1, backend: 'gpu' });
  const tLoad = now();
  const r = await scoreSnvs(br, variants);
  br.cancel();
  return { load_s: (tLoad - t0) / 1000, ...r, windows_per_s: (2 * r.scored) / r.seconds };
}

async function ortModule(threads) {
  const ort = await import('/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads; // fixed when the wasm starts: one page per thread count
  ort.env.wasm.simd = true;
  return ort;
}

/** onnxruntime-web from a cold cache: import, .onnx fetch, session (wasm compile), first window. */
export async function ortCold(onnxUrl, threads) {
  const t0 = now();
  const ort = await ortModule(threads);
  const session = await ort.InferenceSession.create(onnxUrl, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const tLoad = now();
  const x = new ort.Tensor('float32', oneHot(sequences(1)), [1, 4, 1000]);
  const { y } = await session.run({ x });
  const t1 = now();
  await session.release();
  return { load_s: (tLoad - t0) / 1000, first_window_s: (t1 - tLoad) / 1000, time_to_first_score_s: (t1 - t0) / 1000,
    cross_origin_isolated: crossOriginIsolated, probs: Array.from(y.data) };
}

/** onnxruntime-web, wasm backend (SIMD), `threads` threads: session + one batch of `batch` windows (warm-up). */
export async function ortSetup(onnxUrl, threads, batch) {
  const ort = await ortModule(threads);
  const session = await ort.InferenceSession.create(onnxUrl, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const x = new ort.Tensor('float32', oneHot(sequences(batch)), [batch, 4, 1000]);
  const warm = await session.run({ x });
  kept.ort = { session, x, batch };
  const out = warm.y.data;
  const w = warm.y.dims[1];
  return { threads, batch, cross_origin_isolated: crossOriginIsolated,
    probs: Array.from({ length: batch }, (_, i) => Array.from(out.subarray(i * w, (i + 1) * w))) };
}

/** Batches until `seconds` have passed: {windows, seconds}. */
export async function ortRun(seconds) {
  const { session, x, batch } = kept.ort;
  let windows = 0;
  const t0 = now();
  while (now() - t0 < seconds * 1000) {
    const { y } = await session.run({ x });
    if (y.dims[0] !== batch) throw new Error('bad output');
    windows += batch;
  }
  return { windows, seconds: (now() - t0) / 1000 };
}

window.bench = { oursCold, oursSetup, oursRun, oursScoreVcf, oursSaturation, oursGpu, ortCold, ortSetup, ortRun };
window.benchReady = true;
