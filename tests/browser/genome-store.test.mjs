// A plain-gzip genome (as UCSC, Ensembl and GENCODE ship them) in the page: unpacked once into
// the browser's origin-private file system, with progress and a message; the same rows as the
// uncompressed genome (and the CLI); reused on a later visit without unpacking; listed and
// removable; an incomplete copy never reused; refused with advice where there is no OPFS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { startServer, launch, openPage, chooseModel, parseScoreTsv, root, dist, fixtures, outDir } from './harness.mjs';

let srv, browser, session;
const dir = path.join(outDir, 'kept-genomes');
const gz = path.join(dir, 'Homo_sapiens.test.dna.fa.gz');
const vcf = path.join(fixtures, 'variants.vcf');
const plainGenome = ['genome.fa', 'genome.fa.fai'].map((f) => path.join(fixtures, 'genome', f));
const cli = path.join(root, 'target/release/brain-resnet');

before(async () => {
  fs.mkdirSync(dir, { recursive: true });
  const gzipped = zlib.gzipSync(fs.readFileSync(path.join(fixtures, 'genome/genome.fa')));
  assert.equal(gzipped[3] & 4, 0, 'plain gzip: no extra field, so not BGZF');
  fs.writeFileSync(gz, gzipped);
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

/** Runs the chosen files, recording every text the progress line showed; resolves to them. */
async function run(page) {
  await page.evaluate(() => {
    document.getElementById('results-section').dataset.ready = '';
    document.getElementById('messages').replaceChildren();
    const el = document.getElementById('progress-text');
    window.progressSeen = [];
    window.progressObserver?.disconnect();
    window.progressObserver = new MutationObserver(() => window.progressSeen.push(el.textContent));
    window.progressObserver.observe(el, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#score-button');
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 120_000 });
  const errors = await page.$$eval('#messages .error', (els) => els.map((e) => e.textContent));
  assert.deepEqual(errors, []);
  return page.evaluate(() => window.progressSeen);
}

async function choose(page, genome) {
  await page.setInputFiles('#vcf-input', vcf);
  await page.setInputFiles('#genome-input', genome);
}

/** The names of the files in the page's OPFS directory genomes/. */
function opfsFiles(page) {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const d = await root.getDirectoryHandle('genomes', { create: true });
    const names = [];
    for await (const name of d.keys()) names.push(name);
    return names.sort();
  });
}

test('a plain-gzip FASTA is unpacked once into the browser\'s storage and scores like the plain FASTA; a later visit reuses the copy; the copy is listed and removable', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.click('#kept-genomes summary');
  assert.equal(await page.textContent('#kept-count'), 'none');

  // The uncompressed genome with its .fai: the rows to match (and the CLI's).
  await choose(page, plainGenome);
  await run(page);
  const want = await downloadText(page, '#download-tsv');
  const theirs = parseScoreTsv(execFileSync(cli,
    ['score', '--model', path.join(dist, 'models/fixture-mini-random-f32'), '--genome', plainGenome[0], '--vcf', vcf],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const ours = parseScoreTsv(want);
  assert.deepEqual([...ours.rows.keys()], [...theirs.rows.keys()]);
  for (const [k, r] of theirs.rows) {
    assert.equal(ours.rows.get(k).status, r.status, k);
    r.values.forEach((v, i) => assert.ok(v === null ? ours.rows.get(k).values[i] === null : Math.abs(v - ours.rows.get(k).values[i]) <= 1e-5, k));
  }

  // The .fa.gz alone: no .fai, no .gzi asked for; unpacked with progress, then scored.
  await choose(page, [gz]);
  assert.doesNotMatch(await page.textContent('#messages'), /\.gzi/);
  const first = await run(page);
  assert.ok(first.some((t) => /^Unpacking Homo_sapiens\.test\.dna\.fa\.gz \(plain gzip\) into this browser's private storage, once: \d+ kB of \d+ kB read$/.test(t)), first.join('\n'));
  assert.ok(first.some((t) => /^Indexing the unpacked copy of Homo_sapiens\.test\.dna\.fa\.gz: /.test(t)), first.join('\n'));
  const messages = await page.textContent('#messages');
  assert.match(messages, /Homo_sapiens\.test\.dna\.fa\.gz is plain gzip \(not bgzip\): the page unpacked it once into this browser's private storage \(36 kB\); later runs reuse it; nothing left the machine\./);
  assert.doesNotMatch(messages, /\.gzi|bgzip index/);
  await page.locator('#messages').screenshot({ path: path.join(outDir, 'kept-genome-message.png') });
  assert.equal(await downloadText(page, '#download-tsv'), want, 'the same rows as with the uncompressed genome');
  assert.equal(await page.isVisible('#download-fai'), false, 'the kept copy\'s .fai stays in the browser');
  const files = await opfsFiles(page);
  assert.equal(files.length, 3, files.join(', '));
  assert.ok(files.some((f) => f.endsWith('.fa')) && files.some((f) => f.endsWith('.fa.fai')) && files.some((f) => f.endsWith('.json')));

  // Listed, with its sizes.
  assert.equal(await page.textContent('#kept-count'), '1, 36 kB');
  const items = await page.$$eval('#kept-list li', (li) => li.map((x) => x.textContent));
  assert.equal(items.length, 1);
  assert.match(items[0], /^Homo_sapiens\.test\.dna\.fa\.gz36 kB unpacked \(from \d+ kB\), kept .+Remove$/);

  // A later visit: the page is loaded again; the same file is read from the kept copy.
  await page.reload();
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.click('#kept-genomes summary');
  await page.waitForFunction(() => document.getElementById('kept-count').textContent === '1, 36 kB');
  await choose(page, [gz]);
  const second = await run(page);
  assert.ok(!second.some((t) => /Unpacking|Indexing/.test(t)), `no second unpacking: ${second.join('\n')}`);
  assert.match(await page.textContent('#messages'), /Homo_sapiens\.test\.dna\.fa\.gz is plain gzip \(not bgzip\): this run read the copy unpacked into this browser's private storage on .+ \(36 kB\), without unpacking it again; nothing left the machine\./);
  assert.equal(await downloadText(page, '#download-tsv'), want);

  // The track of a variant reads the kept copy too.
  await page.click('#results-table tbody tr:has(td.status-ok)');
  await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 120_000 });

  await page.locator('#kept-genomes').screenshot({ path: path.join(outDir, 'kept-genomes.png') });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('#kept-genomes').screenshot({ path: path.join(outDir, 'kept-genomes-390.png') });
  await page.setViewportSize(size);

  // Removed by the user: gone from the list and from the storage; the next run unpacks again.
  await page.click('#kept-list button');
  await page.waitForFunction(() => document.getElementById('kept-count').textContent === 'none');
  assert.match(await page.textContent('#kept-list'), /None yet/);
  assert.deepEqual(await opfsFiles(page), []);
  const third = await run(page);
  assert.ok(third.some((t) => /^Unpacking /.test(t)), third.join('\n'));
  assert.match(await page.textContent('#messages'), /the page unpacked it once/);
  assert.equal(await downloadText(page, '#download-tsv'), want);
});

test('a copy without its completion record (an interrupted unpacking) is never used: the file is unpacked again', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  // What an interrupted run leaves: the data, maybe cut short, and no record that it is whole.
  await page.evaluate(async () => {
    const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('genomes');
    for await (const name of d.keys()) {
      if (name.endsWith('.json')) await d.removeEntry(name);
      if (name.endsWith('.fa')) {
        const w = await (await d.getFileHandle(name)).createWritable({ keepExistingData: true });
        await w.truncate(1000);
        await w.close();
      }
    }
  });
  // Listed as incomplete, so its space can be freed, and not used.
  await page.evaluate(async () => (await import('./kept-genomes.js')).showKept());
  assert.equal(await page.textContent('#kept-count'), '0 + 1 incomplete, 1 kB');
  assert.match(await page.textContent('#kept-list'), /^Homo_sapiens\.test\.dna\.fa\.gz1 kB, incomplete \(an unpacking that was interrupted or is running now\): never usedRemove$/);
  await choose(page, [gz]);
  const seen = await run(page);
  assert.ok(seen.some((t) => /^Unpacking /.test(t)), seen.join('\n'));
  assert.match(await page.textContent('#messages'), /the page unpacked it once into this browser's private storage \(36 kB\)/);
  assert.equal((await opfsFiles(page)).length, 3);
  assert.equal(await page.textContent('#kept-count'), '1, 36 kB');

  // Cancelled while unpacking: the run says 'cancelled' and nothing of that copy is kept.
  const cancelled = await page.evaluate(async () => {
    const store = await import('./genome-store.js');
    const gz = document.getElementById('genome-input').files[0];
    const renamed = new File([gz], 'cancelled.fa.gz', { lastModified: 1 });
    const stop = new AbortController();
    try {
      await store.keptCopy(renamed, { signal: stop.signal, buildIndex: () => { throw new Error('not reached'); },
        onProgress: () => stop.abort() });
      return 'finished';
    } catch (e) {
      return e.message;
    }
  });
  assert.equal(cancelled, 'cancelled');
  assert.equal((await opfsFiles(page)).length, 3);
});

test('a gzip of several members (concatenated) or a damaged one is refused saying what to do, and nothing of it is kept', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const text = fs.readFileSync(path.join(fixtures, 'genome/genome.fa'), 'utf8');
  const at = text.indexOf('>chr2');
  const members = path.join(dir, 'members.fa.gz');
  fs.writeFileSync(members, Buffer.concat([zlib.gzipSync(text.slice(0, at)), zlib.gzipSync(text.slice(at))]));
  const damaged = path.join(dir, 'damaged.fa.gz');
  const bytes = zlib.gzipSync(text);
  bytes.fill(0xff, 20, 60);
  fs.writeFileSync(damaged, bytes);
  const before = await opfsFiles(page);
  for (const [file, why] of [[members, /members\.fa\.gz: plain gzip \(not bgzip\), which cannot be read by region, and it holds several gzip members \(concatenated files\).*: recompress it with `gunzip -c FILE \| bgzip/],
    [damaged, /damaged\.fa\.gz: not a valid gzip file/]]) {
    await page.evaluate(() => document.getElementById('messages').replaceChildren());
    await choose(page, [file]);
    await page.click('#score-button');
    await page.waitForSelector('#messages .error', { timeout: 60_000 });
    assert.match(await page.textContent('#messages'), why);
    assert.deepEqual(await opfsFiles(page), before, 'nothing partial kept');
  }
  assert.equal(await page.isEnabled('#score-button'), true);
});

test('without an origin-private file system, a plain-gzip FASTA is refused saying what to do, and never asks for a .gzi', async () => {
  const context = await browser.newContext();
  await context.addInitScript(() => { delete StorageManager.prototype.getDirectory; });
  const page = await context.newPage();
  await page.goto(`${srv.origin}/`);
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
  await page.click('#kept-genomes summary');
  assert.match(await page.textContent('#kept-list'), /This browser cannot keep unpacked genomes: this browser offers no origin-private file system/);
  await choose(page, [gz]);
  await page.click('#score-button');
  await page.waitForSelector('#messages .error', { timeout: 60_000 });
  const text = await page.textContent('#messages');
  assert.match(text, /Homo_sapiens\.test\.dna\.fa\.gz: plain gzip \(not bgzip\), which cannot be read by region, and this browser offers no origin-private file system .*so the page cannot unpack it: recompress it with `gunzip -c FILE \| bgzip > genome\.fa\.gz && samtools faidx genome\.fa\.gz`, or use UCSC's \.2bit/);
  assert.doesNotMatch(text, /\.gzi|choose its/);
  await context.close();
});
