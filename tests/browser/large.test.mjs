// Benchmark, not a speed assertion: 100,000 variants against the fixture genome in
// the page, measuring the longest main-thread task (the page must stay responsive).
// Figures go to stdout and target/browser-tests/large.json; docs/PERFORMANCE.md has them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, chooseModel, fixtures, outDir } from './harness.mjs';

const N = Number(process.env.BRAIN_RESNET_LARGE_VARIANTS ?? 100_000);
let srv, browser;

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  srv = await startServer();
  browser = await launch();
});
after(async () => { await browser?.close(); srv?.server.close(); });

function readFasta(file) {
  const seqs = {};
  let name = null;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('>')) { name = line.slice(1).split(/\s/)[0]; seqs[name] = []; } else if (name) seqs[name].push(line.trim());
  }
  return Object.fromEntries(Object.entries(seqs).map(([k, v]) => [k, v.join('')]));
}

test(`${N} variants score in the page without freezing it`, { timeout: 30 * 60_000 }, async () => {
  const genome = readFasta(path.join(fixtures, 'genome/genome.fa'));
  const vcf = path.join(outDir, 'large.vcf');
  const lines = ['##fileformat=VCFv4.2', '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO'];
  let s = 42;
  const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s; };
  for (let i = 0; i < N; i++) {
    const chrom = i % 8 === 7 ? 'chr2' : 'chr1';
    const seq = genome[chrom];
    const pos = rand() % seq.length;
    const ref = seq[pos].toUpperCase();
    const alt = 'ACGT'.split('').find((b) => b !== ref);
    lines.push(`${chrom}\t${pos + 1}\tv${i}\t${ref}\t${alt}\t.\t.\t.`);
  }
  fs.writeFileSync(vcf, `${lines.join('\n')}\n`);

  const context = await browser.newContext();
  await context.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: 'longtask', buffered: true });
  });
  const page = await context.newPage();
  await page.goto(`${srv.origin}/`);
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.evaluate(() => { window.__longTasks.length = 0; });
  await page.setInputFiles('#vcf-input', vcf);
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  const start = Date.now();
  await page.click('#score-button');
  // While it runs, the page must answer: time a trivial evaluate every second.
  const pings = [];
  const ticker = setInterval(async () => {
    const t = Date.now();
    try { await page.evaluate(() => 1); pings.push(Date.now() - t); } catch { /* closing */ }
  }, 1000);
  await page.waitForSelector('#results-section[data-ready="true"]', { timeout: 30 * 60_000 });
  clearInterval(ticker);
  const seconds = (Date.now() - start) / 1000;
  const summary = await page.textContent('#summary');
  const longTasks = await page.evaluate(() => window.__longTasks);
  const workers = await page.evaluate(() => window.brainResNet.br.size);
  assert.match(summary, new RegExp(`Scored ${N} of ${N} alleles`));
  const result = {
    variants: N, seconds, variants_per_s: N / seconds, workers,
    longest_main_thread_task_ms: Math.max(0, ...longTasks), long_tasks: longTasks.length,
    slowest_ping_ms: Math.max(0, ...pings), pings: pings.length,
  };
  console.log(JSON.stringify(result));
  fs.writeFileSync(path.join(outDir, 'large.json'), JSON.stringify(result, null, 1));
  await page.screenshot({ path: path.join(outDir, 'large.png') });
  await context.close();
});
