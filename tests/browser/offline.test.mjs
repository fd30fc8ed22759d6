// Offline after the first visit (the service worker, www/sw.js): with the network off the page
// loads and scores (the demo and a file-input run), and not one request reaches the server;
// a rebuilt site is picked up on the next online visit and its old cache removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, launch, chooseModel, root, dist, fixtures, outDir } from './harness.mjs';

let browser, server, site, origin;
let requests;

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  // A copy of the built site, so that the update test can change it.
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'br-offline-'));
  fs.cpSync(dist, site, { recursive: true });
  const srv = await startServer({ root: site });
  ({ server, origin, requests } = srv);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.close();
  if (site) fs.rmSync(site, { recursive: true, force: true });
});

async function waitRun(page, click) {
  await page.evaluate(() => { delete document.getElementById('results-section').dataset.ready; });
  await page.click(click);
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 180_000 });
  const errors = await page.$$eval('#messages .error', (e) => e.map((x) => x.textContent));
  assert.deepEqual(errors, []);
}

test('after one visit the page loads and scores with the network off; a rebuilt site is installed on the next online visit', { timeout: 15 * 60_000 }, async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 120_000 });
  await page.waitForSelector('#offline-status[data-ready="true"]', { timeout: 120_000 });
  assert.match(await page.textContent('#offline-status'), /Kept for offline use/);
  // The fixture model once online too, so that its weights are kept.
  await chooseModel(page, 'fixture-mini-random-f32');

  // The network off: the browser offline and the server gone (the browser's own update checks
  // of sw.js would otherwise still reach it).
  await context.setOffline(true);
  const port = server.address().port;
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  const seen = requests.length;
  await page.reload();
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 120_000 });
  assert.match(await page.textContent('#model-status'), /weights from the browser cache/);
  // The demo (its files from the kept copy of the site) ...
  await chooseModel(page, 'demo-motif-grammar');
  await waitRun(page, '#quick-demo-button');
  assert.match(await page.textContent('#summary'), /Scored 300 of 300 alleles/);
  // ... and the user's own files.
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await waitRun(page, '#score-button');
  assert.match(await page.textContent('#summary'), /Scored \d+ of \d+ alleles/);
  assert.deepEqual(requests.slice(seen), [], 'nothing reached the server while offline');
  await page.screenshot({ path: path.join(outDir, 'offline.png') });

  // The site is rebuilt with a changed file: the next online visit installs it.
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  await context.setOffline(false);
  const before = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('brain-resnet-site-')));
  assert.equal(before.length, 1);
  const index = path.join(site, 'index.html');
  fs.writeFileSync(index, fs.readFileSync(index, 'utf8').replace('<title>', '<meta name="site-update" content="2">\n<title>'));
  execFileSync('node', [path.join(root, 'scripts/site-manifest.mjs'), site]);
  await page.reload();
  await page.waitForFunction(() => /A new version of this page was installed/.test(document.getElementById('messages').textContent), null, { timeout: 120_000 });
  await page.reload();
  await page.waitForSelector('meta[name="site-update"]', { state: 'attached', timeout: 30_000 });
  const after = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('brain-resnet-site-')));
  assert.equal(after.length, 1, 'the old version\'s cache is removed');
  assert.notEqual(after[0], before[0]);
  await context.close();
});
