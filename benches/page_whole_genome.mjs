// Benchmark (not in CI): a whole-genome-sized VCF scored end to end in the page, in headless
// Chromium: records/s, the renderer's peak RSS over time, and the downloaded TSV against the
// CLI's for the same input.
//
//   bash scripts/build-web.sh && cargo build --release
//   node benches/page_whole_genome.mjs [--records 5000000] [--carried 0.05]
// (BRAIN_RESNET_DIST=<a copy of dist/> and a copy of the CLI in BRAIN_RESNET_CLI keep a long
// run apart from rebuilds.)
//
// The VCF is a multi-sample one (1000 Genomes style: samples S1, S2) on the fixture genome,
// scored with the fixture model for sample S1, who carries an ALT at a fraction `--carried` of
// the records (the rest 0/0, and 0.5 % ./.). Figures go to stdout and
// target/bench/page-whole-genome.json; docs/PERFORMANCE.md has them.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { execFileSync, spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import { startServer, chooseModel, fixtures, root, dist } from '../tests/browser/harness.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('records', 5_000_000);
const CARRIED = arg('carried', 0.05);
const out = path.join(root, 'target/bench');
fs.mkdirSync(out, { recursive: true });
const cli = process.env.BRAIN_RESNET_CLI ?? path.join(root, 'target/release/brain-resnet');
const model = path.join(dist, 'models/fixture-mini-random-f32');

function readFasta(file) {
  const seqs = {};
  let name = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('>')) { name = line.slice(1).split(/\s/)[0]; seqs[name] = []; } else if (name) seqs[name].push(line.trim());
  }
  return Object.fromEntries(Object.entries(seqs).map(([k, v]) => [k, v.join('').toUpperCase()]));
}

/** Writes the VCF: N records in genome order, several at a position, genotypes for S1 and S2. */
async function writeVcf(file) {
  const genome = readFasta(path.join(fixtures, 'genome/genome.fa'));
  const contigs = Object.keys(genome).filter((c) => c !== 'chrM');
  const total = contigs.reduce((n, c) => n + genome[c].length, 0);
  const stream = fs.createWriteStream(file);
  const write = (s) => (stream.write(s) ? null : new Promise((r) => stream.once('drain', r)));
  await write(`##fileformat=VCFv4.2\n${contigs.map((c) => `##contig=<ID=${c},length=${genome[c].length}>`).join('\n')}\n`
    + '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n');
  let s = 7;
  const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648; };
  let i = 0;
  let buf = [];
  for (const [ci, c] of contigs.entries()) {
    const seq = genome[c];
    const here = ci === contigs.length - 1 ? N - i : Math.round(N * seq.length / total);
    for (let k = 0; k < here; k++, i++) {
      let pos = Math.floor(k * seq.length / here);
      while (!'ACGT'.includes(seq[pos])) pos = (pos + 1) % seq.length; // past gaps of N
      const ref = seq[pos];
      const alt = 'ACGT'.replace(ref, '')[Math.floor(rand() * 3)];
      const u = rand();
      const gt = u < CARRIED ? (u < CARRIED / 3 ? '1|1' : '0/1') : (u < CARRIED + 0.005 ? './.' : '0/0');
      buf.push(`${c}\t${pos + 1}\tv${i}\t${ref}\t${alt}\t.\tPASS\t.\tGT\t${gt}\t${rand() < 0.5 ? '0/1' : '0/0'}\n`);
      if (buf.length === 10_000) { await write(buf.join('')); buf = []; }
    }
  }
  await write(buf.join(''));
  await new Promise((r) => stream.end(r));
  return i;
}

/** RSS (bytes) of every Chromium renderer process started by this benchmark. */
function rendererRss() {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss=,args='], { encoding: 'utf8' }).trim().split('\n')
    .map((l) => l.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/)).filter(Boolean)
    .map(([, pid, ppid, rss, args]) => ({ pid: +pid, ppid: +ppid, rss: +rss * 1024, args }));
  const ours = new Set([process.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const r of rows) if (!ours.has(r.pid) && ours.has(r.ppid)) { ours.add(r.pid); grew = true; }
  }
  return rows.filter((r) => ours.has(r.pid) && r.args.includes('--type=renderer')).map((r) => r.rss);
}

/**
 * Compares two score TSVs line by line: the same rows, order and text columns, values within
 * 1e-4 (WebAssembly and native f32 differ by ~1e-6 in probabilities; log_ratio amplifies it).
 */
async function compareTsv(a, b) {
  const lines = (f) => readline.createInterface({ input: fs.createReadStream(f), crlfDelay: Infinity })[Symbol.asyncIterator]();
  const [ia, ib] = [lines(a), lines(b)];
  let rows = 0;
  let worst = 0;
  for (;;) {
    const [x, y] = [await ia.next(), await ib.next()];
    if (x.done || y.done) {
      if (x.done !== y.done) throw new Error(`${x.done ? a : b} ends first, after ${rows} lines`);
      return { rows: rows - 1, worst };
    }
    rows++;
    const [p, q] = [x.value.split('\t'), y.value.split('\t')];
    if (p.length !== q.length) throw new Error(`line ${rows}: ${p.length} vs ${q.length} columns`);
    for (let k = 0; k < p.length; k++) {
      if (p[k] === q[k]) continue;
      const [u, v] = [Number(p[k]), Number(q[k])];
      if (k < 8 || Number.isNaN(u) || Number.isNaN(v) || Math.abs(u - v) > 1e-4) throw new Error(`line ${rows}, column ${k + 1}: ${p[k]} vs ${q[k]}`);
      worst = Math.max(worst, Math.abs(u - v));
    }
  }
}

const vcf = path.join(out, `whole-genome-${N}.vcf`);
if (!fs.existsSync(vcf)) {
  const t = Date.now();
  const n = await writeVcf(vcf);
  console.log(`wrote ${n} records (${(fs.statSync(vcf).size / 1e6).toFixed(0)} MB) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
}

// The CLI's TSV for the same input, while nothing else runs.
const cliTsv = path.join(out, `whole-genome-${N}.cli.tsv`);
let cliSeconds = null;
if (!fs.existsSync(cliTsv)) {
  const t = Date.now();
  await new Promise((resolve, reject) => {
    const p = spawn(cli, ['score', '--model', model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', vcf,
      '--sample', 'S1', '--backend', 'cpu', '--out', cliTsv], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the CLI exited with ${code}`))));
  });
  cliSeconds = (Date.now() - t) / 1000;
  console.log(`CLI: ${cliSeconds.toFixed(0)} s`);
}

const srv = await startServer();
// As the tests launch it, with gc() exposed: the live JavaScript heap is measured after a collection.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-gpu', '--js-flags=--expose-gc'],
});
const context = await browser.newContext({ acceptDownloads: true });
const page = await context.newPage();
await page.goto(`${srv.origin}/`);
await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 120_000 });
await chooseModel(page, 'fixture-mini-random-f32');
await page.evaluate(() => { window.brainResNet.savePicker = false; });
await page.setInputFiles('#vcf-input', vcf);
await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
await page.waitForSelector('#sample-label:not([hidden])', { timeout: 120_000 });
await page.selectOption('#sample-select', 'S1');

const samples = []; // [seconds, largest renderer RSS, all renderers' RSS]
const started = Date.now();
const sampler = setInterval(() => {
  const rss = rendererRss();
  samples.push([(Date.now() - started) / 1000, Math.max(0, ...rss), rss.reduce((a, b) => a + b, 0)]);
}, 1000);
// Every 30 s: the page's live JavaScript heap after a collection, and each worker's wasm memory.
const heaps = [];
const heapSampler = setInterval(async () => {
  try {
    const t = Math.round((Date.now() - started) / 1000);
    const live = await page.evaluate(() => { window.gc?.(); return performance.memory?.usedJSHeapSize ?? null; });
    const wasm = await Promise.all(page.workers().map((w) => w.evaluate(() => { self.gc?.(); return [self.wasmMemory?.buffer.byteLength ?? null, performance.memory?.usedJSHeapSize ?? null]; }).catch(() => null)));
    heaps.push([t, Math.round(live / 2 ** 20), wasm.filter(Boolean).map(([m, h]) => [Math.round(m / 2 ** 20), h == null ? null : Math.round(h / 2 ** 20)])]);
  } catch { /* the page is busy closing */ }
}, 30_000);
await page.click('#score-button');
await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
  || document.querySelector('#messages .error'), null, { timeout: 4 * 3600_000, polling: 5000 });
const seconds = (Date.now() - started) / 1000;
const errors = await page.$$eval('#messages .error', (e) => e.map((x) => x.textContent));
if (errors.length) throw new Error(errors.join('\n'));
const summary = await page.textContent('#summary');
const alleles = await page.evaluate(() => window.brainResNet.store.alleles);
const inMemory = await page.evaluate(() => window.brainResNet.store.inMemory);
const td = Date.now();
const [download] = await Promise.all([page.waitForEvent('download', { timeout: 3600_000 }), page.click('#download-tsv')]);
const pageTsv = path.join(out, `whole-genome-${N}.page.tsv`);
await download.saveAs(pageTsv);
const downloadSeconds = (Date.now() - td) / 1000;
clearInterval(sampler);
clearInterval(heapSampler);
const same = await compareTsv(pageTsv, cliTsv);

const peak = Math.max(...samples.map((x) => x[1]));
const afterMinute = samples.filter((x) => x[0] >= 60).map((x) => x[1]);
const result = {
  records: N, carried_fraction: CARRIED, alleles_in_results: alleles, results_in_memory: inMemory,
  seconds, records_per_s: N / seconds, scored_alleles_per_s: alleles / seconds, download_seconds: downloadSeconds,
  renderer_peak_rss_mib: peak / 2 ** 20,
  renderer_rss_mib_at_60s: afterMinute.length ? afterMinute[0] / 2 ** 20 : null,
  renderer_rss_mib_range_after_60s: afterMinute.length ? [Math.min(...afterMinute) / 2 ** 20, Math.max(...afterMinute) / 2 ** 20] : null,
  download_rows: same.rows, download_max_abs_difference_vs_cli: same.worst, cli_seconds: cliSeconds,
  summary,
  // [s, main-thread live JS heap MiB, [[wasm memory MiB, JS heap MiB] per worker]]
  heaps_every_30s_mib: heaps,
  rss_every_30s_mib: samples.filter((x, k) => k % 30 === 0).map(([t, m]) => [Math.round(t), Math.round(m / 2 ** 20)]),
};
console.log(JSON.stringify(result, null, 1));
fs.writeFileSync(path.join(out, 'page-whole-genome.json'), JSON.stringify(result, null, 1));
await browser.close();
srv.server.close();
