// The real-chromatin demo (issue 18): the page switches to the chrX model, scores the real
// hg19 chrX slice's variants like the CLI, and the enrichment analysis asks whether the largest
// predicted effects fall in real neuron ATAC peaks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, parseScoreTsv, assertSameScores, cliScores, root, dist, outDir } from './harness.mjs';

let srv, browser, session;
before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  srv = await startServer();
  browser = await launch();
  session = await openPage(browser, srv.origin);
});
after(async () => { await browser?.close(); srv?.server.close(); });

test('the real brain chromatin demo runs on the chrX model like the CLI, and its analyses ask about real peaks', { timeout: 10 * 60_000 }, async () => {
  const { page } = session;
  const demo = path.join(root, 'www/demo-chrx');
  await page.click('#chrx-demo-button');
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 300_000 });
  assert.deepEqual(await page.$$eval('#messages .error', (e) => e.map((x) => x.textContent)), []);
  assert.match(await page.$eval('#model-select', (s) => s.value), /^brain-chrx-nott2019 /);
  assert.match(await page.textContent('#summary'), /Scored 300 of 300 alleles from 300 records/);
  assert.match(await page.textContent('#results-model'), /Made by the model brain-chrx-nott2019/);
  // The CLI's scores for the same files and model.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-tsv')]);
  const ours = fs.readFileSync(await download.path(), 'utf8');
  assertSameScores(ours, cliScores(path.join(demo, 'variants.vcf'), path.join(demo, 'genome.fa.gz'), path.join(dist, 'models/brain-chrx-nott2019'), ['--backend', 'cpu']));
  assert.equal(parseScoreTsv(ours).rows.size, 300);
  // Enrichment of neuron ATAC peaks among the top variants of neuron_ATAC, as the table says it.
  await page.waitForSelector('#analysis-section[data-ready="true"]', { timeout: 120_000 });
  assert.equal(await page.$eval('#analysis-profile', (s) => s.value), 'neuron_ATAC');
  const analysis = JSON.parse(await page.textContent('#analysis-json'));
  assert.ok(analysis.enrichment.hits > 0 && analysis.enrichment.p_value < 0.05, JSON.stringify(analysis.enrichment));
  assert.match(await page.textContent('#analysis-table'), /Enrichment.*are labelled functional/s);
  await page.screenshot({ path: path.join(outDir, 'demo-chrx.png'), fullPage: false });
});
