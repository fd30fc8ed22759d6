#!/usr/bin/env node
// `npm run bench`: our CPU path in the browser vs onnxruntime-web on the SAME weights,
// full-size network (random weights), in headless Chromium. Prints a table and writes
// target/bench/browser-<timestamp>.json (and target/bench/browser-latest.json).
//
//   npm run bench
//   npm run bench -- --seconds 20 --batch 16 --threads 2 --no-gpu --gpu-timeout 120
//
// What it does:
// 1. builds dist/ (scripts/build-web.sh) only when it is missing, and the CLI when it
//    lacks `random-model`;
// 2. writes the full-size model with seeded random weights, int8, into target/bench/models/
//    (`brain-resnet random-model`), and exports it to ONNX (scripts/onnx-export.mjs: int8
//    kept behind DequantizeLinear, the same f32 weights as our loader's; and the f32 file,
//    for its size);
// 3. serves dist/ + tests/bench/ + onnxruntime-web + target/bench/ with COOP/COEP
//    (cross-origin isolated: SharedArrayBuffer, so onnxruntime-web can use threads);
// 4. in headless Chromium (a fresh browser per engine, fresh context = cold cache):
//    cold start, throughput with 1 and N workers / threads, our scoreVcf on generated SNVs,
//    our WebGPU path on a small batch (SwiftShader in headless Chromium); bytes served per
//    cold start; peak resident memory of the renderer processes (/proc VmHWM).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { exportModelDir } from './onnx-export.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const benchDir = path.join(root, 'target', 'bench');
const fixtures = process.env.BRAIN_RESNET_FIXTURES ?? path.resolve(root, '../shared/fixtures');
const cli = path.join(root, 'target', 'release', 'brain-resnet');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = option('seconds', 20);
const BATCH = option('batch', 16);
const N = option('threads', 2);
const GPU_TIMEOUT = option('gpu-timeout', 120);
const NO_GPU = process.argv.includes('--no-gpu');
const GPU_VARIANTS = option('gpu-variants', 1);
const ROUNDS = option('rounds', 4);
// --only-score-vcf K: only our scoreVcf on K generated SNVs (A/B runs of the scoring path).
const ONLY_VCF = option('only-score-vcf', 0);
const SEED = 7;

const say = (m) => console.error(`== ${m}`);

// ---------------------------------------------------------------- build what is missing
if (!fs.existsSync(path.join(dist, 'index.html'))) {
  say('dist/ is missing: bash scripts/build-web.sh');
  execFileSync('bash', ['scripts/build-web.sh'], { cwd: root, stdio: 'inherit' });
}
const hasRandomModel = () => {
  try { execFileSync(cli, ['random-model', '--help'], { stdio: 'ignore' }); return true; } catch { return false; }
};
if (!hasRandomModel()) {
  say('building the CLI (cargo build --release --locked)');
  execFileSync('cargo', ['build', '--release', '--locked'], { cwd: root, stdio: 'inherit' });
}
const modelId = `full-size-random-int8-seed${SEED}`;
const modelDir = path.join(benchDir, 'models', modelId);
if (!fs.existsSync(path.join(modelDir, 'model.json'))) {
  say(`writing ${path.relative(root, modelDir)} (full size, random weights, int8)`);
  execFileSync(cli, ['random-model', '--out', modelDir, '--dtype', 'int8', '--seed', String(SEED), '--labels', path.join(fixtures, 'model', 'labels.txt')], { stdio: 'inherit' });
}
const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
say('exporting ONNX (scripts/onnx-export.mjs)');
const onnxQdq = path.join(benchDir, `${modelId}.qdq.onnx`);
const onnxF32 = path.join(benchDir, `${modelId}.f32.onnx`);
const qdqBytes = exportModelDir(modelDir, onnxQdq, { int8: 'qdq' }).bytes;
const f32Bytes = exportModelDir(modelDir, onnxF32, { int8: 'dequantize' }).bytes;

// MACs per window (src/architecture/graph.rs macs_per_window).
function macs(a) {
  const m = a.meta; const r = a.resnet;
  let total = 0; let len = a.window_length; let inCh = 4;
  for (const c of m.channels) { const out = len - (m.kernel - 1); total += inCh * c * m.kernel * out; len = Math.floor(out / m.pool); inCh = c; }
  total += inCh * len * m.hidden + m.hidden * m.outputs;
  len = a.window_length; total += 4 * r.stem * r.kernel * len; len = Math.floor(len / r.pool); inCh = r.stem;
  for (const s of r.stages) {
    for (let b = 0; b < s.blocks; b++) {
      total += inCh * s.channels * r.kernel * len + s.channels * s.channels * r.kernel * len;
      if (inCh !== s.channels) total += inCh * s.channels * len;
      inCh = s.channels;
    }
    len = Math.floor(len / r.pool);
  }
  total += inCh * len * r.hidden + r.hidden * r.outputs + r.outputs * r.outputs;
  total += (m.outputs + r.outputs) * a.head_hidden + a.head_hidden * a.outputs;
  return total;
}
const GMAC = macs(manifest.architecture) / 1e9;

// ---------------------------------------------------------------- server (COOP/COEP)
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.onnx': 'application/octet-stream',
};
const MOUNTS = [
  ['/bench/', path.join(root, 'tests', 'bench')],
  ['/ort/', path.join(root, 'node_modules', 'onnxruntime-web', 'dist')],
  ['/bench-data/', benchDir],
  ['/fixtures/genome/', path.join(fixtures, 'genome')],
  ['/', dist],
];
const served = []; // {phase, url, bytes}
let phase = 'setup';
const server = http.createServer((req, res) => {
  const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const [prefix, dir] = MOUNTS.find(([p]) => rel.startsWith(p));
  let file = path.join(dir, rel.slice(prefix.length));
  if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  if (!fs.existsSync(file)) { res.writeHead(404).end('not found'); return; }
  const size = fs.statSync(file).size;
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
  });
  if (req.method === 'HEAD') { res.end(); return; }
  served.push({ phase, url: rel, bytes: size });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;
const modelUrl = `${origin}/bench-data/models/${modelId}/`;
const onnxUrl = `${origin}/bench-data/${path.basename(onnxQdq)}`;

// ---------------------------------------------------------------- browser, memory
async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-gpu', '--enable-unsafe-webgpu'],
  });
}

/** All processes: [{pid, ppid, cmd, hwmMiB}]. */
function processes() {
  const procs = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = fs.readFileSync(`/proc/${d}/status`, 'utf8');
      procs.push({ pid: Number(d), ppid: Number(/PPid:\s+(\d+)/.exec(status)[1]),
        cmd: fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '),
        hwmMiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024 });
    } catch { /* gone */ }
  }
  return procs;
}
function subtree(rootPid) {
  const procs = processes();
  const mine = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) if (!mine.has(p.pid) && mine.has(p.ppid)) { mine.add(p.pid); grew = true; }
  }
  return procs.filter((p) => mine.has(p.pid));
}
/** A browser and the pid of its process tree's root (the child of this process it added). */
async function launchTracked() {
  const before = new Set(processes().filter((p) => p.ppid === process.pid).map((p) => p.pid));
  const browser = await launch();
  const root = processes().find((p) => p.ppid === process.pid && !before.has(p.pid))?.pid;
  return { browser, root };
}
/** Largest peak RSS (VmHWM) of a renderer process of that browser now: the page and its workers live there. */
const rendererPeakMiB = (b) => Math.max(0, ...subtree(b.root).filter((p) => p.cmd.includes('--type=renderer')).map((p) => p.hwmMiB));

async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${origin}/bench/`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 });
  return { context, page, errors };
}

/** Runs `fn` in a fresh page (fresh context: empty caches); returns its result and the renderer peak. */
async function inPage(b, label, fn, args) {
  phase = label;
  const { context, page, errors } = await newPage(b.browser);
  try {
    const result = await page.evaluate(fn, args);
    return { ...result, renderer_peak_mib: rendererPeakMiB(b) };
  } catch (e) {
    return { error: `${e.message.split('\n')[0]}${errors.length ? ` (${errors.join('; ')})` : ''}` };
  } finally {
    await context.close();
  }
}
const bytesOf = (label) => served.filter((s) => s.phase === label && !s.url.startsWith('/bench/')).reduce((a, s) => a + s.bytes, 0);
const filesOf = (label) => served.filter((s) => s.phase === label).map((s) => `${s.url} ${s.bytes}`);

function maxDiff(a, b) {
  let d = 0;
  a.forEach((row, i) => row.forEach((v, j) => { d = Math.max(d, Math.abs(v - b[i][j])); }));
  return d;
}

// ---------------------------------------------------------------- measurements
const started = Date.now();
const results = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, load_average_at_start: os.loadavg(), total_mem_gib: os.totalmem() / 2 ** 30 },
  chromium: null,
  onnxruntime_web: JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'onnxruntime-web', 'package.json'), 'utf8')).version,
  model: { id: modelId, parameters: manifest.parameters, gmac_per_window: GMAC, weights_dtype: manifest.weights.dtype,
    weights_bytes: manifest.weights.bytes, onnx_qdq_bytes: qdqBytes, onnx_f32_bytes: f32Bytes, random_weights_seed: SEED },
  settings: { seconds: SECONDS, rounds: ROUNDS, batch: BATCH, threads: N },
  ours: {}, ort: {}, gpu: null, tfjs: 'not measured: TensorFlow.js has no ONNX or safetensors importer; the network would have to be rebuilt in tfjs-layers (channels-last, so every flatten-then-dense weight re-laid out) and verified separately, which is not trivial',
};

say(`serving on ${origin}; ${SECONDS} s per engine and thread count in ${ROUNDS} alternating rounds, batch ${BATCH}, N = ${N}`);
const A = await launchTracked(); // ours
const B = await launchTracked(); // onnxruntime-web
results.chromium = A.browser.version();
if (!ONLY_VCF) {
results.ours.cold = await inPage(A, 'ours-cold', ([u, n]) => window.bench.oursCold(u, n), [modelUrl, N]);
results.ours.cold.bytes_downloaded = bytesOf('ours-cold');
results.ours.cold.files = filesOf('ours-cold');
say(`ours cold: ${JSON.stringify({ ...results.ours.cold, probs: undefined, files: undefined })}`);
results.ort.cold = await inPage(B, 'ort-cold', ([u, n]) => window.bench.ortCold(u, n), [onnxUrl, N]);
results.ort.cold.bytes_downloaded = bytesOf('ort-cold');
results.ort.cold.files = filesOf('ort-cold');
say(`onnxruntime-web cold: ${JSON.stringify({ ...results.ort.cold, probs: undefined, files: undefined })}`);

// Throughput: ours with n workers and onnxruntime-web with n threads loaded side by side
// (two browsers), then timed in alternating slices, so both see the same machine load.
const summarize = (setup, slices, peak) => {
  const windows = slices.reduce((a, x) => a + x.windows, 0);
  const seconds = slices.reduce((a, x) => a + x.seconds, 0);
  const rates = slices.map((x) => x.windows / x.seconds);
  return { ...setup, windows, seconds, windows_per_s: windows / seconds,
    slowest_round: Math.min(...rates), fastest_round: Math.max(...rates), renderer_peak_mib: peak };
};
for (const n of [...new Set([1, N])]) {
  phase = `ours-${n}`;
  const po = await newPage(A.browser);
  phase = `ort-${n}`;
  const pt = await newPage(B.browser);
  try {
    const so = await po.page.evaluate(([u, k, b]) => window.bench.oursSetup(u, k, b), [modelUrl, n, BATCH]);
    const st = await pt.page.evaluate(([u, k, b]) => window.bench.ortSetup(u, k, b), [onnxUrl, n, BATCH]);
    const ours = [];
    const ort = [];
    const slice = SECONDS / ROUNDS;
    for (let r = 0; r < ROUNDS; r++) {
      const runOurs = async () => ours.push(await po.page.evaluate((x) => window.bench.oursRun(x), slice));
      const runOrt = async () => ort.push(await pt.page.evaluate((x) => window.bench.ortRun(x), slice));
      if (r % 2 === 0) { await runOurs(); await runOrt(); } else { await runOrt(); await runOurs(); }
    }
    results.ours[`workers_${n}`] = summarize(so, ours, rendererPeakMiB(A));
    results.ort[`threads_${n}`] = summarize(st, ort, rendererPeakMiB(B));
  } catch (e) {
    const error = `${e.message.split('\n')[0]} ${[...po.errors, ...pt.errors].join('; ')}`;
    results.ours[`workers_${n}`] ??= { error };
    results.ort[`threads_${n}`] ??= { error };
  }
  await po.context.close();
  await pt.context.close();
  say(`n = ${n}: ours ${results.ours[`workers_${n}`].windows_per_s?.toFixed(2) ?? results.ours[`workers_${n}`].error} windows/s, onnxruntime-web ${results.ort[`threads_${n}`].windows_per_s?.toFixed(2) ?? results.ort[`threads_${n}`].error} windows/s`);
}
}
await B.browser.close();

// scoreVcf: about SECONDS worth of variants at the measured N-worker rate (2 windows each).
{
  phase = 'ours-vcf';
  const wps = results.ours[`workers_${N}`]?.windows_per_s ?? 4;
  const variants = ONLY_VCF || Math.max(8, Math.round((wps / 2) * SECONDS));
  const { context, page, errors } = await newPage(A.browser);
  try {
    await page.evaluate(([u, k]) => window.bench.oursSetup(u, k, 1), [modelUrl, N]);
    // The whole allelic-effect track of one window (3,000 mutants), same page and model.
    results.ours.track = await page.evaluate(() => window.bench.oursSaturation()).catch((e) => ({ error: e.message.split('\n')[0] }));
    say(`ours track: ${JSON.stringify(results.ours.track)}`);
    results.ours.score_vcf = await page.evaluate((v) => window.bench.oursScoreVcf(v), Math.max(variants, GPU_VARIANTS));
    results.ours.score_vcf.renderer_peak_mib = rendererPeakMiB(A);
  } catch (e) {
    results.ours.score_vcf = { error: `${e.message.split('\n')[0]} ${errors.join('; ')}` };
  }
  await context.close();
  say(`ours scoreVcf: ${JSON.stringify({ ...results.ours.score_vcf, probs: undefined })}`);
}
await A.browser.close();
if (ONLY_VCF) process.exit(0);

if (!NO_GPU) {
  const browser = await launch();
  phase = 'gpu';
  const { context, page } = await newPage(browser);
  const timeout = new Promise((r) => setTimeout(() => r({ skipped: `did not finish within ${GPU_TIMEOUT} s` }), GPU_TIMEOUT * 1000));
  results.gpu = await Promise.race([
    page.evaluate(([u, v]) => window.bench.oursGpu(u, v), [modelUrl, GPU_VARIANTS]).catch((e) => ({ error: e.message.split('\n')[0] })),
    timeout,
  ]);
  say(`ours WebGPU: ${JSON.stringify({ ...results.gpu, probs: undefined })}`);
  await context.close().catch(() => {});
  await browser.close().catch(() => {});
} else {
  results.gpu = { skipped: '--no-gpu' };
}
server.close();

// ---------------------------------------------------------------- agreement, table, JSON
const oursN = results.ours[`workers_${N}`];
const ortN = results.ort[`threads_${N}`];
results.agreement = {
  ours_vs_ort_max_abs_diff: oursN?.probs && ortN?.probs ? maxDiff(oursN.probs, ortN.probs) : null,
  ours_cold_vs_ort_cold_max_abs_diff: results.ours.cold.probs && results.ort.cold.probs ? maxDiff([results.ours.cold.probs], [results.ort.cold.probs]) : null,
  gpu_vs_cpu_max_abs_diff: results.gpu?.probs?.length && results.ours.score_vcf?.probs ? maxDiff(results.gpu.probs, results.ours.score_vcf.probs) : null,
};
for (const k of ['cold']) { delete results.ours[k].probs; delete results.ort[k].probs; }
for (const r of [...Object.values(results.ours), ...Object.values(results.ort), results.gpu]) {
  if (r && typeof r === 'object') { delete r.probs; delete r.first_probs; }
}
results.ratios = {};
for (const n of [...new Set([1, N])]) {
  const o = results.ours[`workers_${n}`]?.windows_per_s;
  const t = results.ort[`threads_${n}`]?.windows_per_s;
  results.ratios[`ours_over_ort_${n}`] = o && t ? o / t : null;
}
results.load_average_at_end = os.loadavg();
results.wall_s = (Date.now() - started) / 1000;

fs.mkdirSync(benchDir, { recursive: true });
const stamp = results.date.replace(/[:.]/g, '-');
const out = path.join(benchDir, `browser-${stamp}.json`);
fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
fs.writeFileSync(path.join(benchDir, 'browser-latest.json'), `${JSON.stringify(results, null, 2)}\n`);

const f = (v, d = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '—');
const mib = (b) => f(b / 2 ** 20, 1);
const rows = [['engine', 'threads', 'windows/s', 'rounds (windows/s)', 'variants/s', 'GMAC/s', 'ours / ORT']];
const spread = (r) => (r?.slowest_round ? `${f(r.slowest_round)}-${f(r.fastest_round)}` : '');
for (const n of [...new Set([1, N])]) {
  const o = results.ours[`workers_${n}`];
  const t = results.ort[`threads_${n}`];
  rows.push([`ours, CPU (wasm SIMD128), ${n} worker${n > 1 ? 's' : ''}`, String(n), f(o?.windows_per_s), spread(o), f(o?.windows_per_s / 2), f(o?.windows_per_s * GMAC, 1), f(results.ratios[`ours_over_ort_${n}`])]);
  rows.push([`onnxruntime-web ${results.onnxruntime_web}, wasm SIMD, ${n} thread${n > 1 ? 's' : ''}`, String(n), f(t?.windows_per_s), spread(t), f(t?.windows_per_s / 2), f(t?.windows_per_s * GMAC, 1), '']);
}
const v = results.ours.score_vcf;
// onnxruntime-web scores an SNV as two whole windows (REF + ALT).
const ortVariants = results.ort[`threads_${N}`]?.windows_per_s / 2;
rows.push([`ours, scoreVcf, ${N} workers (${v?.scored ?? '?'} SNVs) vs ORT REF + ALT`, String(N), f(v?.variants_per_s * 2), '', f(v?.variants_per_s), '', f(v?.variants_per_s / ortVariants)]);
const tr = results.ours.track;
if (tr?.seconds) rows.push([`ours, whole allelic-effect track (${tr.mutants_with_an_effect} mutants, ${f(tr.seconds, 1)} s)`, String(N), f(tr.mutants_with_an_effect / tr.seconds), '', '', '', '']);
if (results.gpu?.windows_per_s) rows.push([`ours, WebGPU (SwiftShader), scoreVcf, ${results.gpu.scored} SNVs`, '-', f(results.gpu.windows_per_s, 3), '', f(results.gpu.windows_per_s / 2, 3), '', '']);
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nBrowser benchmark, full-size network (${(manifest.parameters / 1e6).toFixed(1)} M parameters, ${GMAC.toFixed(4)} GMAC/window), random weights, batch ${BATCH}, ${SECONDS} s per engine and thread count (${ROUNDS} alternating rounds)`);
console.log(`${results.chromium} headless, ${results.machine.cpus} cores (${results.machine.cpu_model}), load average at start ${results.machine.load_average_at_start.map((x) => x.toFixed(2)).join(' ')}\n`);
console.log(line(rows[0]));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows.slice(1)) console.log(line(r));
console.log('\nCold start (fresh browser context: empty HTTP cache and Cache API), first window predicted:');
const c = results.ours.cold;
const oc = results.ort.cold;
console.log(`  ours (${N} workers, int8 weights): ${f(c.time_to_first_score_s)} s (load ${f(c.load_s)} s + first window ${f(c.first_window_s)} s), ${mib(c.bytes_downloaded)} MiB downloaded, renderer peak ${f(c.renderer_peak_mib, 0)} MiB`);
console.log(`  onnxruntime-web (${N} threads, int8 + DequantizeLinear ONNX): ${f(oc.time_to_first_score_s)} s (session ${f(oc.load_s)} s + first window ${f(oc.first_window_s)} s), ${mib(oc.bytes_downloaded)} MiB downloaded, renderer peak ${f(oc.renderer_peak_mib, 0)} MiB`);
console.log(`  (the same network as a plain f32 ONNX file: ${mib(f32Bytes)} MiB)`);
console.log(`Peak renderer memory (VmHWM) in the throughput runs: ours ${N} workers ${f(oursN?.renderer_peak_mib, 0)} MiB, 1 worker ${f(results.ours.workers_1?.renderer_peak_mib, 0)} MiB; onnxruntime-web ${N} threads ${f(ortN?.renderer_peak_mib, 0)} MiB, 1 thread ${f(results.ort.threads_1?.renderer_peak_mib, 0)} MiB`);
console.log(`Agreement, ours vs onnxruntime-web on the same ${BATCH} windows: max |diff| ${results.agreement.ours_vs_ort_max_abs_diff?.toExponential(2) ?? '—'}`);
if (results.gpu?.windows_per_s) console.log(`WebGPU: ${results.gpu.backend}; load ${f(results.gpu.load_s)} s, ${results.gpu.scored} SNVs in ${f(results.gpu.seconds)} s (first batch's pipeline setup included); max |GPU - CPU| over the first variant's REF and ALT ${results.agreement.gpu_vs_cpu_max_abs_diff?.toExponential(2) ?? '—'}`);
else console.log(`WebGPU: ${results.gpu?.skipped ?? results.gpu?.error}`);
console.log(`TensorFlow.js: ${results.tfjs}`);
const errors = [...Object.entries(results.ours), ...Object.entries(results.ort)].filter(([, r]) => r?.error);
for (const [k, r] of errors) console.log(`ERROR ${k}: ${r.error}`);
console.log(`\nwrote ${path.relative(root, out)} (${f(results.wall_s, 0)} s)`);
process.exit(errors.length ? 1 : 0);
