// The page in headless Chromium: demo and fixture runs equal the CLI's output,
// downloads, error messages, and every request the page makes (privacy).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { startServer, launch, openPage, chooseModel, parseScoreTsv, siteHeaders, assertSameScores, cliScores, root, dist, fixtures, outDir } from './harness.mjs';

let srv, browser, session;
const cli = path.join(root, 'target/release/brain-resnet');
const f32Model = path.join(dist, 'models/fixture-mini-random-f32');
const demoModel = path.join(dist, 'models/demo-motif-grammar');
const demo = path.join(root, 'www/demo');

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  srv = await startServer();
  browser = await launch();
  session = await openPage(browser, srv.origin);
});

after(async () => {
  await browser?.close();
  srv?.server.close();
});


async function downloadText(page, button) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click(button)]);
  return fs.readFileSync(await download.path(), 'utf8');
}


async function runAndWait(page, trigger) {
  await page.evaluate(() => { document.getElementById('results-section').dataset.ready = ''; document.getElementById('messages').replaceChildren(); });
  await trigger();
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 300_000 });
}

test('the page opens on the demo model; the demo button scores the demo data like the CLI and runs every analysis', async () => {
  const { page } = session;
  assert.match(await page.$eval('#model-select', (s) => s.value), /^demo-motif-grammar \(int8, /);
  // Every state of the progress bar during the run, to check it follows the records scored.
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => window.__progress.push([document.getElementById('progress').value, document.getElementById('progress-text').textContent]))
      .observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
  });
  await runAndWait(page, () => page.click('#demo-button'));
  // After the run the focus is on the summary, not lost to the body.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'summary');
  const states = (await page.evaluate(() => window.__progress)).map(([v, t]) => [v, Number(t.match(/^(\d+) variants/)?.[1])]).filter(([, n]) => n > 0);
  assert.ok(states.length >= 5, `progress updates: ${states.length}`);
  for (const [value, done] of states) assert.ok(Math.abs(value - done / 3000) < 0.15, `bar at ${value} with ${done} of 3000 variants scored`);
  assert.ok(states.some(([v]) => v > 0.2 && v < 0.8), 'the bar moves through the middle');
  assert.match(await page.textContent('#summary'), /Scored 3000 of 3000 alleles from 3000 records/);
  const tsv = await downloadText(page, '#download-tsv');
  const expected = cliScores(path.join(demo, 'variants.vcf'), path.join(demo, 'genome.fa.gz'), demoModel);
  assertSameScores(tsv, expected);
  const cols = (text) => text.trim().split('\n').map((l) => l.split('\t').slice(0, 6).join('\t'));
  assert.deepEqual(cols(tsv), cols(expected));
  const vcf = await downloadText(page, '#download-vcf');
  assert.match(vcf, /##INFO=<ID=BR_abs_diff,Number=\.,Type=Float/);
  assert.equal(vcf.split('\n').filter((l) => l && !l.startsWith('#')).length, 3000);
  // The demo's annotations came along: every analysis ran, as `brain-resnet analyze` computes it.
  await page.waitForSelector('#analysis-section[data-ready="true"]', { timeout: 120_000 });
  await page.waitForFunction(() => document.getElementById('analysis-json').textContent.includes('"profile": "Glut"'));
  const ours = JSON.parse(await page.textContent('#analysis-json'));
  // The same scores as the page's (its TSV download), so the comparison is of the analyses alone.
  const scores = path.join(outDir, 'demo-scores.tsv');
  fs.writeFileSync(scores, tsv);
  const theirs = JSON.parse(execFileSync(cli, ['analyze', '--scores', scores, '--annotations', path.join(demo, 'annotations.tsv'),
    '--profile', 'Glut'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  for (const key of ['enrichment', 'direction', 'constraint', 'selection']) assert.ok(ours[key] && theirs[key], `analysis ${key}`);
  assert.equal(ours.enrichment.hits, theirs.enrichment.hits);
  assert.ok(Math.abs(ours.direction.spearman_rho - theirs.direction.spearman_rho) <= 1e-9);
  assert.ok(ours.enrichment.fold >= 3, `demo enrichment fold ${ours.enrichment.fold}`);
  assert.ok(ours.direction.spearman_rho > 0, `demo rho ${ours.direction.spearman_rho}`);
  for (const id of ['enrichment', 'heatmap', 'locus', 'imbalance', 'gerp', 'maf']) {
    assert.ok(await page.locator(`#figure-${id} svg`).count() > 0, `figure ${id} drawn`);
  }
  await page.screenshot({ path: path.join(outDir, 'demo.png'), fullPage: true });
});

test('reading the demo results: sorted by effect, explained, keyboard-reachable, named after their model; the analyses as a table', async () => {
  const { page } = session;
  assert.match(await page.textContent('#results-help'), /sorted by max \|diff\|.*Click a column header.*click a row/s);
  assert.match(await page.textContent('#score-caption'), /^abs_diff: /);
  assert.match(await page.textContent('#results-model'), /Made by the model demo-motif-grammar \(trained on synthetic data/);
  assert.equal(await page.getAttribute('#model-card', 'href').then((h) => new URL(h).pathname), '/models/demo-motif-grammar/README.md');
  assert.doesNotMatch(await page.textContent('body'), /www\/demo/, 'no build path in the page');
  // Largest effect first.
  const effects = await page.$$eval('#results-table tbody tr td:nth-child(7)', (tds) => tds.map((t) => Number(t.textContent)));
  assert.deepEqual(effects, [...effects].sort((a, b) => b - a));
  assert.equal(await page.getAttribute('#results-table th:nth-child(7)', 'aria-sort'), 'descending');
  // The analyses: a table in words, the JSON behind Details with a download.
  const analysisRows = await page.$$eval('#analysis-table tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  assert.deepEqual(analysisRows, ['Enrichment', 'Direction', 'Constraint', 'Selection']);
  assert.equal(await page.$eval('#analysis-details', (d) => d.open), false);
  // Keyboard: Tab reaches a sort header; Enter sorts by it; a row takes Enter too.
  await page.focus('#results-table th:nth-child(2) button');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('#results-table th:nth-child(2)')?.getAttribute('aria-sort') === 'ascending');
  const positions = await page.$$eval('#results-table tbody tr td:nth-child(2)', (tds) => tds.map((t) => Number(t.textContent)));
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.key), 'pos', 'the focus stays on the header');
  await page.keyboard.press('Tab');
  const focusedRow = await page.evaluate(() => document.activeElement?.tagName);
  assert.ok(['BUTTON', 'TR'].includes(focusedRow));
  // Top N: a fraction or more than the scored alleles is refused, saying why.
  await page.fill('#analysis-top', '2.5');
  assert.match(await page.textContent('#analysis-top-error'), /whole number/);
  await page.fill('#analysis-top', '99999');
  assert.match(await page.textContent('#analysis-top-error'), /only 3000 alleles were scored/);
  await page.fill('#analysis-top', '');
  assert.equal(await page.textContent('#analysis-top-error'), '');
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(outDir, `results-${width}.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than the ${width} px screen`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a row opens its track: scrolled to, progress there, other clicks ignored until it is drawn', async () => {
  const { page } = session;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.click('#results-table tbody tr:nth-child(1) td:nth-child(3)');
  const title = await page.textContent('#track-title');
  const inView = await page.evaluate(() => {
    const r = document.getElementById('track-section').getBoundingClientRect();
    return r.top >= -1 && r.top < window.innerHeight;
  });
  assert.ok(inView, 'the track section is scrolled into view');
  assert.equal(await page.isVisible('#track-progress'), true);
  assert.equal(await page.isDisabled('#score-button'), true);
  // A second click while it computes: ignored, saying so; the title stays the first variant's.
  await page.$eval('#results-table tbody tr:nth-child(2)', (tr) => tr.click());
  assert.match(await page.textContent('#track-status'), /A track is being computed/);
  await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 120_000 });
  const id = title.match(/\(([^)]+)\)/)[1];
  assert.match(await page.textContent('#track-title'), new RegExp(`\\(${id}\\)$`));
  assert.equal(await page.isDisabled('#score-button'), false);
  await page.screenshot({ path: path.join(outDir, 'row-track-1280.png'), fullPage: false });
  await page.setViewportSize({ width: 390, height: 900 });
  await page.$eval('#track-section', (e) => e.scrollIntoView());
  await page.screenshot({ path: path.join(outDir, 'row-track-390.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('the quick demo says how long it takes, runs in seconds, and its files can be downloaded; a model switch marks the results', async () => {
  const { page, seen } = session;
  assert.match(await page.textContent('#demo-times'), /Quick demo: 300 variants, about \d+ s.*Full demo: 3,000 variants, about \d+ s \(as it took here\)/);
  const links = await page.$$eval('#demo-files a', (as) => as.map((a) => [a.textContent, a.getAttribute('download')]));
  assert.deepEqual(links.map(([t]) => t).sort(), ['annotations.tsv', 'genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi', 'variants-quick.vcf', 'variants.vcf']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#demo-files a:has-text("variants-quick.vcf")')]);
  assert.equal(fs.readFileSync(await download.path(), 'utf8'), fs.readFileSync(path.join(demo, 'variants-quick.vcf'), 'utf8'));
  await runAndWait(page, () => page.click('#quick-demo-button'));
  assert.match(await page.textContent('#summary'), /Scored 300 of 300 alleles from 300 records/);
  assert.match(await page.textContent('#demo-times'), /Quick demo: 300 variants, about \d+ s \(as it took here\)/);
  await chooseModel(page, 'fixture-mini-random-f32');
  assert.match(await page.textContent('#results-model'), /These results were made by the model demo-motif-grammar; the chosen model is now fixture-mini-random-f32\. Score again/);
  assert.ok(seen.length > 0);
});

test('opened from disk (file://), the page says how to serve it instead of waiting forever', async () => {
  const page = await browser.newPage();
  try {
    await page.goto(`file://${path.join(dist, 'index.html')}`);
    await page.waitForSelector('#model-status[data-file-protocol="true"]', { timeout: 10_000 });
    assert.match(await page.textContent('#model-status'), /opened from disk \(file:\/\/\).*python3 -m http\.server 8000.*http:\/\/localhost:8000\//);
  } finally {
    await page.close();
  }
});

test('the tabs are ARIA tabs: arrow keys move between them, aria-selected follows', async () => {
  const { page } = session;
  await page.focus('#tab-variants');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-sequences', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#sequences-panel'), true);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-sequences');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.getAttribute('#tab-variants', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#variants-panel'), true);
});

test('the fixture VCF and bgzip genome chosen through file inputs score like the CLI', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await runAndWait(page, () => page.click('#score-button'));
  const tsv = await downloadText(page, '#download-tsv');
  assertSameScores(tsv, cliScores(path.join(fixtures, 'variants.vcf'), path.join(fixtures, 'genome/genome.fa.gz')));
  // Sorting by a score column and filtering by status work on the table.
  await page.selectOption('#status-filter', 'ok');
  assert.match(await page.textContent('#page-info'), /^11 rows/);
  await page.click('#results-table th:nth-child(8)');
  const first = await page.$$eval('#results-table tbody tr td:nth-child(8)', (tds) => tds.map((t) => Number(t.textContent)));
  assert.deepEqual(first, [...first].sort((a, b) => b - a), 'sorted descending by abs_diff:Glut');
  await page.selectOption('#status-filter', '');
});

test('a run too large to hold as objects pages over its stored chunks: sorted by effect, the same downloads as the CLI', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  // Two alleles held as objects at most: every chunk of this run goes to a Blob.
  await page.evaluate(() => { window.brainResNet.keepInMemory = 2; window.brainResNet.savePicker = false; });
  try {
    await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
    await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
    await runAndWait(page, () => page.click('#score-button'));
    assert.equal(await page.evaluate(() => window.brainResNet.store.inMemory), false);
    assert.equal(await page.evaluate(() => window.brainResNet.run.records), null);
    const tsv = await downloadText(page, '#download-tsv');
    const expected = cliScores(path.join(fixtures, 'variants.vcf'), path.join(fixtures, 'genome/genome.fa.gz'));
    // The CLI's rows, columns and order (values to float rounding: WebAssembly vs native).
    assertSameScores(tsv, expected);
    const cols = (text) => text.trim().split('\n').map((l) => l.split('\t').slice(0, 6).join('\t'));
    assert.deepEqual(cols(tsv), cols(expected));
    const vcf = await downloadText(page, '#download-vcf');
    const cliVcf = execFileSync(cli, ['score', '--model', f32Model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', path.join(fixtures, 'variants.vcf'), '--format', 'vcf'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const fixed = (text) => text.trim().split('\n').map((l) => (l.startsWith('#') ? l : l.split('\t').slice(0, 7).join('\t')));
    assert.deepEqual(fixed(vcf), fixed(cliVcf), 'the same header lines and records, in order');
    // Sorted by the largest |ALT - REF| first, unscored rows last.
    const effects = await page.$$eval('#results-table tbody tr td:nth-child(7)', (tds) => tds.map((t) => (t.textContent ? Number(t.textContent) : NaN)));
    const scored = effects.filter((v) => !Number.isNaN(v));
    assert.ok(scored.length >= 10);
    assert.deepEqual(scored, [...scored].sort((a, b) => b - a));
    assert.ok(effects.slice(0, scored.length).every((v) => !Number.isNaN(v)), 'unscored rows come last');
    assert.match(await page.textContent('#analysis-json'), /run in the page on up to 100,000 alleles; this run has \d+/);
    // A row of the stored chunks opens its track.
    await page.click('#results-table tbody tr:first-child td:nth-child(2)');
    await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 120_000 });
  } finally {
    await page.evaluate(() => { window.brainResNet.keepInMemory = undefined; });
  }
});

test('a malformed VCF reports its bad lines and still scores the good ones', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const bad = path.join(outDir, 'malformed.vcf');
  fs.writeFileSync(bad, 'chr1\t5001\tgood\tT\tC\nchr1\t5001\ttoo_few\tT\nchr1\tfive\tnot_a_number\tT\tC\n');
  await page.setInputFiles('#vcf-input', bad);
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await runAndWait(page, () => page.click('#score-button'));
  const text = await page.textContent('#messages');
  assert.match(text, /line 2: 4 tab-separated columns/);
  assert.match(text, /line 3: POS `five` is not a number/);
  assert.match(await page.textContent('#summary'), /Scored 1 of 3 alleles/);
});

test('a genome whose contigs match none of the VCF\'s says so', async () => {
  const { page } = session;
  const dir = path.join(outDir, 'other-genome');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'other.fa'), `>scaffold_1\n${'ACGT'.repeat(500)}\n`);
  fs.writeFileSync(path.join(dir, 'other.fa.fai'), 'scaffold_1\t2000\t12\t2000\t2001\n');
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', [path.join(dir, 'other.fa'), path.join(dir, 'other.fa.fai')]);
  await runAndWait(page, () => page.click('#score-button'));
  const errors = await page.$$eval('#messages .error', (els) => els.map((e) => e.textContent).join('\n'));
  // Said once, with the genome's own contigs; not once per record.
  assert.match(errors, /alleles on contigs the genome lacks: 1, MT, chr1, chr2, chr9\. The genome has scaffold_1\./);
  assert.match(errors, /No variant could be scored/);
  const all = await page.$$eval('#messages > div', (els) => els.map((e) => e.textContent));
  assert.equal(all.filter((t) => /contig/.test(t)).length, 1, all.join('\n'));
});

/** A .2bit (version 0) of FASTA text, from UCSC's description: N runs as N blocks, lowercase runs as mask blocks. */
function twoBit(fastaText) {
  const records = [];
  for (const chunk of fastaText.split('>').slice(1)) {
    const [head, ...lines] = chunk.split('\n');
    records.push([head.split(/\s/)[0], lines.join('')]);
  }
  const runs = (seq, pred) => {
    const out = [];
    for (let i = 0; i < seq.length;) {
      if (pred(seq[i])) { const s = i; while (i < seq.length && pred(seq[i])) i++; out.push([s, i - s]); } else i++;
    }
    return out;
  };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const bodies = records.map(([, seq]) => {
    const parts = [u32(seq.length)];
    for (const blocks of [runs(seq, (c) => c === 'N' || c === 'n'), runs(seq, (c) => c !== c.toUpperCase())]) {
      parts.push(u32(blocks.length), ...blocks.map(([s]) => u32(s)), ...blocks.map(([, l]) => u32(l)));
    }
    parts.push(u32(0));
    const packed = Buffer.alloc(Math.ceil(seq.length / 4));
    for (let i = 0; i < seq.length; i++) packed[i >> 2] |= (Math.max(0, 'TCAG'.indexOf(seq[i].toUpperCase()))) << (6 - 2 * (i % 4));
    parts.push(packed);
    return Buffer.concat(parts);
  });
  const header = [u32(0x1A412743), u32(0), u32(records.length), u32(0)];
  let at = 16 + records.reduce((n, [name]) => n + 1 + name.length + 4, 0);
  const index = records.flatMap(([name], i) => { const e = [Buffer.from([name.length]), Buffer.from(name), u32(at)]; at += bodies[i].length; return e; });
  return Buffer.concat([...header, ...index, ...bodies]);
}

test('a .2bit genome, a plain FASTA chosen without its .fai, or a plain-gzip FASTA (unpacked in the browser) scores like the CLI', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const dir = path.join(outDir, 'genomes');
  fs.mkdirSync(dir, { recursive: true });
  const fastaText = fs.readFileSync(path.join(fixtures, 'genome/genome.fa'), 'utf8');
  const tb = path.join(dir, 'genome.2bit');
  fs.writeFileSync(tb, twoBit(fastaText));
  const plain = path.join(dir, 'genome.fa');
  fs.copyFileSync(path.join(fixtures, 'genome/genome.fa'), plain);
  const vcf = path.join(fixtures, 'variants.vcf');
  const want = cliScores(vcf, path.join(fixtures, 'genome/genome.fa'));
  assertSameScores(cliScores(vcf, tb), want);

  await page.setInputFiles('#vcf-input', vcf);
  await page.setInputFiles('#genome-input', [tb]);
  await runAndWait(page, () => page.click('#score-button'));
  assertSameScores(await downloadText(page, '#download-tsv'), want);
  assert.equal(await page.isVisible('#download-fai'), false, 'a .2bit needs no index');

  await page.setInputFiles('#genome-input', [plain]);
  await runAndWait(page, () => page.click('#score-button'));
  assertSameScores(await downloadText(page, '#download-tsv'), want);
  assert.match(await page.textContent('#messages'), /genome\.fa came without its \.fai: the page indexed it in one pass\. Save genome\.fa\.fai/);
  assert.equal(await page.textContent('#download-fai'), 'Save genome.fa.fai');
  assert.equal(await downloadText(page, '#download-fai'), fs.readFileSync(path.join(fixtures, 'genome/genome.fa.fai'), 'utf8'), 'the index equals samtools faidx');
  await page.screenshot({ path: path.join(outDir, 'genome-indexed-desktop.png'), fullPage: false });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#progress-section').screenshot({ path: path.join(outDir, 'genome-indexed-390.png') });
  await page.setViewportSize(size);

  const gz = path.join(dir, 'hg38.fa.gz');
  fs.writeFileSync(gz, zlib.gzipSync(fastaText));
  // Plain gzip: unpacked once into the browser's storage (tests/browser/genome-store.test.mjs has the rest).
  await page.setInputFiles('#genome-input', [gz]);
  await runAndWait(page, () => page.click('#score-button'));
  assertSameScores(await downloadText(page, '#download-tsv'), want);
  assert.match(await page.textContent('#messages'), /hg38\.fa\.gz is plain gzip \(not bgzip\): the page unpacked it once into this browser's private storage/);

  // A VCF whose header says GRCh37 against this genome: one sentence before any record.
  const b37 = path.join(dir, 'b37.vcf');
  const body = fs.readFileSync(vcf, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).join('\n');
  fs.writeFileSync(b37, `##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n${body}\n`);
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.setInputFiles('#vcf-input', b37);
  await page.setInputFiles('#genome-input', [tb]);
  await page.click('#score-button');
  await page.waitForSelector('#messages .error');
  assert.match(await page.textContent('#messages'), /genome\.2bit: the VCF is not from this genome's build: its header gives chr1 as 249,250,621 bp \(GRCh37\/hg19\), genome\.2bit has 30,000 bp/);
});

test('a BED of regions keeps the same variants as the CLI\'s --regions and says how many were left out', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const bed = path.join(outDir, 'locus.bed');
  fs.writeFileSync(bed, 'track name=locus\n1\t4990\t5010\tpeak\nchr1\t9002\t9003\nchrM\t650\t750\n');
  const genome = ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f));
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', genome);
  await page.setInputFiles('#regions-input', bed);
  await runAndWait(page, () => page.click('#score-button'));
  const want = execFileSync(cli, ['score', '--model', f32Model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', path.join(fixtures, 'variants.vcf'), '--regions', bed],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  assertSameScores(await downloadText(page, '#download-tsv'), want);
  assert.equal(parseScoreTsv(want).rows.size, 3);
  assert.match(await page.textContent('#summary'), /12 records outside the regions were left out\./);
  await page.setInputFiles('#regions-input', []);
  await page.evaluate(() => { delete window.brainResNet.files.regions; });
});

test('a VCF with samples offers them; the chosen sample\'s rows equal the CLI\'s --sample, with genotype columns', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const text = fs.readFileSync(path.join(fixtures, 'variants.vcf'), 'utf8');
  const gts = { snv_mid: ['0|1', '1/1'], snv_contig_start: ['0/0', '0/1'], multi_allelic: ['0/2', '1/2'], no_chr_prefix: ['./.', '0/1'], deletion: ['1/1', '0/0'] };
  const lines = text.split('\n').filter(Boolean).map((l) => {
    if (l.startsWith('##')) return l;
    if (l.startsWith('#')) return '#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA1\tNA2';
    const c = l.split('\t');
    while (c.length < 8) c.push('.');
    const [a, b] = gts[c[2]] ?? ['0/1', '0/0'];
    return `${c.slice(0, 8).join('\t')}\tGT:DP\t${a}:7\t${b}:9`;
  });
  const vcf = path.join(outDir, 'samples.vcf');
  fs.writeFileSync(vcf, `${lines.join('\n')}\n`);
  await page.setInputFiles('#vcf-input', vcf);
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await page.waitForSelector('#sample-label:not([hidden])');
  assert.deepEqual(await page.$$eval('#sample-select option', (o) => o.map((x) => x.value)), ['', 'NA1', 'NA2']);
  // Every ALT (no sample): how many samples carry each, as the CLI counts them.
  await runAndWait(page, () => page.click('#score-button'));
  const every = await downloadText(page, '#download-tsv');
  const cli7 = (t) => t.trim().split('\n').map((l) => l.split('\t').slice(0, 7).join('\t'));
  assert.deepEqual(cli7(every), cli7(execFileSync(cli, ['score', '--model', f32Model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', vcf],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })));
  assert.equal(every.split('\n')[0].split('\t')[6], 'carriers');
  await page.selectOption('#sample-select', 'NA1');
  await runAndWait(page, () => page.click('#score-button'));
  const want = execFileSync(cli, ['score', '--model', f32Model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', vcf, '--sample', 'NA1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const got = await downloadText(page, '#download-tsv');
  assert.deepEqual(got.split('\n')[0].split('\t').slice(0, 8), ['chrom', 'pos', 'id', 'ref', 'alt', 'status', 'sample', 'genotype']);
  const cells = (t) => t.trim().split('\n').slice(1).map((l) => l.split('\t').slice(0, 8).join('\t')).sort();
  assert.deepEqual(cells(got), cells(want));
  const num = (t) => t.trim().split('\n').slice(1).map((l) => l.split('\t').slice(8).map(Number));
  const [a, b] = [num(got), num(want)];
  let worst = 0;
  a.flat().forEach((v, i) => { const w = b.flat()[i]; if (!Number.isNaN(w)) worst = Math.max(worst, Math.abs(v - w)); });
  assert.ok(worst <= 1e-5, `max difference ${worst}`);
  assert.match(await page.textContent('#summary'), /Left out: 1 records where the sample carries no ALT \(0\/0\), 1 with a missing call/);
  await page.locator('#drop-zone').screenshot({ path: path.join(outDir, 'sample-picker.png') });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#drop-zone').screenshot({ path: path.join(outDir, 'sample-picker-390.png') });
  await page.setViewportSize(size);
  await page.selectOption('#sample-select', '');
});

test('23andMe, AncestryDNA and MyHeritage raw data chosen as the variants are scored for that person as by the CLI, with a GRCh37 note', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const fasta = fs.readFileSync(path.join(fixtures, 'genome/genome.fa'), 'utf8');
  const chr1 = fasta.split('>')[1].split('\n').slice(1).join('').toUpperCase();
  const other = (b, k) => [...'ACGT'].filter((c) => c !== b)[k];
  const calls = [[5001, 'het'], [6001, 'hom'], [7501, 'two'], [8001, 'ref'], [8501, 'none'], [9001, 'indel']].map(([p, kind], i) => {
    const b = chr1[p - 1];
    const gt = { het: b + other(b, 0), hom: other(b, 1).repeat(2), two: other(b, 0) + other(b, 2), ref: b + b, none: '--', indel: 'DI' }[kind];
    return [`rs${1000 + i}`, p, gt];
  });
  const layouts = {
    '23andMe': ['genome_Jane_Doe.txt', '# This data file generated by 23andMe at: Mon Jan 01 2024\n# rsid\tchromosome\tposition\tgenotype\n',
      ([r, p, g]) => `${r}\t1\t${p}\t${g}`],
    AncestryDNA: ['AncestryDNA.txt', '#AncestryDNA raw data download\nrsid\tchromosome\tposition\tallele1\tallele2\n',
      ([r, p, g]) => { const a = g === '--' ? '00' : g; return `${r}\t1\t${p}\t${a[0]}\t${a[1]}`; }],
    MyHeritage: ['MyHeritage_raw_dna_data.csv', '# MyHeritage DNA raw data.\nRSID,CHROMOSOME,POSITION,RESULT\n',
      ([r, p, g]) => `"${r}","1","${p}","${g}"`],
  };
  for (const [layout, [name, head, line]] of Object.entries(layouts)) {
    const file = path.join(outDir, name);
    fs.writeFileSync(file, `${head}${calls.map(line).join('\n')}\n`);
    await page.evaluate(() => document.getElementById('messages').replaceChildren());
    await page.setInputFiles('#vcf-input', file);
    await page.setInputFiles('#genome-input', [path.join(fixtures, 'genome/genome.fa'), path.join(fixtures, 'genome/genome.fa.fai')]);
    await page.waitForFunction((l) => new RegExp(`${l} raw data: its positions are GRCh37`).test(document.getElementById('messages').textContent), layout);
    await runAndWait(page, () => page.click('#score-button'));
    const want = execFileSync(cli, ['score', '--model', f32Model, '--genome', path.join(fixtures, 'genome/genome.fa'), '--vcf', file],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const got = await downloadText(page, '#download-tsv');
    const cells = (t) => t.trim().split('\n').map((l) => l.split('\t').slice(0, 8).join('\t'));
    assert.deepEqual(cells(got), cells(want), layout);
    assert.equal(cells(want).length, 5, `${layout}: header, het, hom, two ALTs`);
    assert.match(await page.textContent('#summary'), /Left out: 1 records where the sample carries no ALT \(0\/0\), 1 with a missing call/);
    assert.match(await page.textContent('#messages'), /left out 1 calls of indel codes/);
  }
});

test('pasted sequences predict like the CLI', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.click('#tab-sequences');
  await page.fill('#fasta-text', fs.readFileSync(path.join(fixtures, 'sequences.fa'), 'utf8'));
  await page.click('#predict-button');
  await page.waitForSelector('#predictions-section:not([hidden])');
  const rows = await page.evaluate(() => window.brainResNet.br.predictFasta(document.getElementById('fasta-text').value));
  const expected = fs.readFileSync(path.join(fixtures, 'expected/sequences-mini.tsv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split('\t'));
  assert.equal(rows.length, expected.length);
  let worst = 0;
  rows.forEach((r, i) => {
    assert.equal(r.name, expected[i][0]);
    r.probs.forEach((p, j) => { worst = Math.max(worst, Math.abs(p - Number(expected[i][j + 1]))); });
  });
  assert.ok(worst <= 1e-5, `max error ${worst}`);
  await page.click('#tab-variants');
});

test('a chosen FASTA file is read by slices: a genome-sized record is refused with its length, the others predicted', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.click('#tab-sequences');
  const ok = 'ACGT'.repeat(250);
  const file = path.join(outDir, 'genome-by-mistake.fa');
  fs.writeFileSync(file, `>first\n${ok}\n>chr1\n${'ACGTTGCA\n'.repeat(400_000)}>last\n${ok}\n`);
  await page.fill('#fasta-text', '');
  await page.setInputFiles('#fasta-file', file);
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.click('#predict-button');
  await page.waitForFunction(() => /3200000 bp is longer/.test(document.getElementById('messages').textContent));
  const names = await page.$$eval('#predictions-table tbody tr', (rows) => rows.map((r) => r.cells[0].textContent));
  assert.deepEqual(names, ['first', 'last']);
  await page.setInputFiles('#fasta-file', []);
  await page.click('#tab-variants');
});

test('cancel stops a run at once and the page scores again afterwards', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const big = path.join(outDir, 'cancel.vcf');
  const line = fs.readFileSync(path.join(fixtures, 'variants.vcf'), 'utf8').split('\n').find((l) => l.startsWith('chr1\t5001'));
  fs.writeFileSync(big, `${Array.from({ length: 20000 }, (_, i) => line.replace('snv_mid', `v${i}`)).join('\n')}\n`);
  await page.setInputFiles('#vcf-input', big);
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.click('#score-button');
  await page.waitForFunction(() => /variants\/s/.test(document.getElementById('progress-text').textContent));
  await page.click('#cancel-button');
  await page.waitForSelector('#messages .warn');
  assert.match(await page.textContent('#messages'), /Scoring cancelled/);
  assert.equal(await page.isEnabled('#score-button'), true);
  await runAndWait(page, () => page.click('#demo-button'));
  assert.match(await page.textContent('#summary'), /Scored 3000 of 3000 alleles/);
});

test('a panic in a worker is reported, the worker replaced and its records rescored; a panic at every try fails the run saying where', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  const line = fs.readFileSync(path.join(fixtures, 'variants.vcf'), 'utf8').split('\n').findIndex((l) => l.startsWith('chr1\t5001')) + 1;
  assert.ok(line > 0);
  const out = await page.evaluate(async (line) => {
    const br = window.brainResNet.br;
    const genome = [...document.getElementById('genome-input').files];
    const files = {
      vcf: document.getElementById('vcf-input').files[0],
      fasta: genome.find((f) => f.name.endsWith('.gz')),
      fai: genome.find((f) => f.name.endsWith('.fai')),
      gzi: genome.find((f) => f.name.endsWith('.gzi')),
    };
    const plain = await br.scoreVcf(files);
    const once = await br.scoreVcf(files, { testPanicAtLine: line });
    let failure = null;
    try { await br.scoreVcf(files, { testPanicAtLine: line, testPanicAlways: true }); } catch (e) { failure = e.message; }
    const after = await br.scoreVcf(files);
    return {
      plain: JSON.stringify(plain.records), once: JSON.stringify(once.records), after: JSON.stringify(after.records),
      onceNotes: once.summary.notes, plainNotes: plain.summary.notes, onceCount: once.summary.records, plainCount: plain.summary.records,
      failure, workers: br.size,
    };
  }, line);
  assert.deepEqual(out.plainNotes, []);
  assert.equal(out.onceNotes.length, 1, JSON.stringify(out.onceNotes));
  assert.match(out.onceNotes[0], new RegExp(`A worker stopped .*variants\\.vcf \\(the WebAssembly core stopped: .*test hook: a panic while scoring line ${line}.*\\); a new worker rescored its records\\.`));
  assert.equal(out.once, out.plain, 'the rescored run has every record, with the same numbers');
  assert.equal(out.onceCount, out.plainCount);
  assert.match(out.failure ?? '', new RegExp(`test hook: a panic while scoring line ${line}.*stopped twice on the same records .*variants\\.vcf\\), so this run cannot finish`));
  assert.equal(out.after, out.plain, 'the page scores again after a failed run');
  assert.ok(out.workers >= 1);
});

test('a second visit takes the weights from the browser cache, not the network', async () => {
  const { page, seen } = session;
  const before = seen.filter((r) => r.url.endsWith('weights.safetensors')).length;
  await page.reload();
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
  assert.match(await page.textContent('#model-status'), /weights from the browser cache/);
  assert.equal(seen.filter((r) => r.url.endsWith('weights.safetensors')).length, before, 'no new weights request');
});

test('every request of the whole session is a same-origin GET of a static asset', async () => {
  const { seen, consoleErrors } = session;
  const assets = new Set();
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else assets.add(`/${path.relative(dist, p).split(path.sep).join('/')}`);
  });
  walk(dist);
  assets.add('/');
  assert.ok(seen.length > 10, `recorded ${seen.length} requests`);
  for (const r of [...seen, ...srv.requests.map((q) => ({ ...q, url: srv.origin + q.url }))]) {
    assert.ok(!r.refused, `refused request to another origin: ${r.url}`);
    if (r.url.startsWith('blob:')) continue; // local object URLs of downloads, never on the network
    const u = new URL(r.url);
    assert.equal(u.origin, srv.origin, `other origin: ${r.url}`);
    assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
    assert.equal(u.search, '', `query string: ${r.url}`);
    assert.ok(!r.post && !r.bodyBytes, `request body: ${r.url}`);
    assert.ok(assets.has(u.pathname), `not a static asset of dist/: ${u.pathname}`);
  }
  fs.writeFileSync(path.join(outDir, 'requests.json'), JSON.stringify(seen, null, 1));
  // The panics forced by the crash-recovery test log their message on purpose.
  assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e) && !/test hook: a panic while scoring line/.test(e)), []);
});

test('every response carries the Content-Security-Policy header, the worker\'s too, and a worker cannot reach another origin', async () => {
  const { page, seen } = session;
  const csp = siteHeaders()['content-security-policy'];
  assert.match(csp, /connect-src 'self'/);
  assert.ok(srv.responses.some((r) => r.url.endsWith('/worker.js')), 'the worker script was served');
  for (const r of srv.responses) assert.equal(r.headers['content-security-policy'], csp, `no CSP header on ${r.url}`);
  // Inside a worker (which holds the user's File objects): a POST of data to another origin.
  const workers = page.workers();
  assert.ok(workers.length > 0, 'the page runs workers');
  const target = 'http://127.0.0.2:9/upload';
  const outcome = await workers[0].evaluate(async (url) => {
    const violations = [];
    self.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    try {
      await fetch(url, { method: 'POST', body: 'chr1 12345 A G' });
      return { sent: true, violations };
    } catch (e) {
      await new Promise((r) => setTimeout(r, 100));
      return { sent: false, error: String(e), violations };
    }
  }, target);
  assert.equal(outcome.sent, false, JSON.stringify(outcome));
  assert.ok(outcome.violations.includes('connect-src'), `not refused by the worker's policy: ${JSON.stringify(outcome)}`);
  // Refused by the worker's policy before any request existed: the browser never issued it
  // (a request that reached the network layer is recorded here, even when aborted).
  assert.ok(!seen.some((r) => r.url.startsWith('http://127.0.0.2')), `issued: ${JSON.stringify(outcome)}`);
  fs.writeFileSync(path.join(outDir, 'worker-csp.json'), JSON.stringify({ csp, outcome }, null, 1));
});

test('tampered weights are refused with a message', async () => {
  const context = await browser.newContext();
  await context.route('**/weights.safetensors', async (route) => {
    const res = await route.fetch();
    const body = Buffer.from(await res.body());
    body[body.length - 1] ^= 1;
    await route.fulfill({ response: res, body });
  });
  const page = await context.newPage();
  await page.goto(`${srv.origin}/`);
  await page.waitForSelector('#messages .error', { timeout: 60_000 });
  assert.match(await page.textContent('#messages'), /SHA-256 .* does not match model\.json .*refusing to run/);
  assert.equal(await page.isDisabled('#score-button'), true);
  await context.close();
});
