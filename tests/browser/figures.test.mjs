// The analyses and figures in the page: every figure drawn (screenshots saved), SVG and
// PNG downloads, the analyses equal `brain-resnet analyze`, and the allelic-effect track
// equals differences of plain predictions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, launch, openPage, chooseModel, root, dist, fixtures, outDir } from './harness.mjs';

let srv, browser, session;
const annotations = path.join(outDir, 'fixture-annotations.tsv');

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  // Hand-made annotations for the fixture VCF's ids.
  const rows = [
    ['snv_mid', 1, 30, 10, 4.5, 0.01, 1e-8, 0.9], ['snv_contig_start', 0, 12, 11, 0.5, 0.3, 0.2, 0.01],
    ['snv_contig_end', 0, 9, 14, -1, 0.25, 0.5, 0.02], ['multi_allelic', 1, 25, 8, 3.9, 0.02, 1e-5, 0.4],
    ['ref_mismatch', 0, '', '', 0.1, 0.4, 0.9, 0.0], ['no_chr_prefix', 1, 5, 20, 2.2, 0.05, 1e-3, 0.3],
    ['mito_alias', 0, 10, 10, 0.0, 0.35, 0.6, 0.01], ['deletion', 1, 40, 12, 5.1, 0.01, 1e-6, 0.7],
    ['insertion', 0, 11, 9, -0.5, 0.28, 0.4, 0.02], ['soft_masked', 0, 7, 13, 1.0, 0.2, 0.3, 0.05],
    ['in_gap', 0, '', '', -2.0, 0.45, 0.8, 0.0],
  ];
  fs.writeFileSync(annotations, `id\tlabel\tref_reads\talt_reads\tgerp\tmaf\tp_value\tpip\n${rows.map((r) => r.join('\t')).join('\n')}\n`);
  srv = await startServer();
  browser = await launch();
  session = await openPage(browser, srv.origin);
  await chooseModel(session.page, 'fixture-mini-random-f32');
  const { page } = session;
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await page.setInputFiles('#annotations-input', annotations);
  await page.click('#score-button');
  await page.waitForSelector('#analysis-section[data-ready="true"]', { timeout: 120_000 });
});

after(async () => { await browser?.close(); srv?.server.close(); });

test('every analysis figure is drawn and saved as a screenshot', async () => {
  const { page } = session;
  for (const id of ['enrichment', 'heatmap', 'locus', 'imbalance', 'gerp', 'maf']) {
    const fig = page.locator(`#figure-${id}`);
    assert.equal(await fig.locator('svg').count() > 0, true, `figure ${id} has an SVG`);
    await fig.screenshot({ path: path.join(outDir, `figure-${id}.png`) });
  }
  const [svg] = await Promise.all([page.waitForEvent('download'), page.click('#figure-heatmap .save-svg')]);
  assert.match(fs.readFileSync(await svg.path(), 'utf8'), /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('#figure-maf .save-png')]);
  assert.deepEqual([...fs.readFileSync(await png.path()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});

test('the page\'s analyses equal brain-resnet analyze on the same inputs', async () => {
  const { page } = session;
  const model = path.join(dist, 'models/fixture-mini-random-f32');
  const cli = path.join(root, 'target/release/brain-resnet');
  const scores = path.join(outDir, 'fixture-scores.tsv');
  fs.writeFileSync(scores, execFileSync(cli, ['score', '--model', model, '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--vcf', path.join(fixtures, 'variants.vcf')], { stdio: ['ignore', 'pipe', 'ignore'] }));
  for (const profile of ['Glut', 'NPC']) {
    await page.selectOption('#analysis-profile', profile);
    await page.waitForFunction((p) => document.getElementById('analysis-json').textContent.includes(`"profile": "${p}"`), profile);
    const ours = JSON.parse(await page.textContent('#analysis-json'));
    const theirs = JSON.parse(execFileSync(cli, ['analyze', '--scores', scores, '--annotations', annotations, '--profile', profile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    assert.equal(ours.top, theirs.top);
    assert.equal(ours.enrichment.hits, theirs.enrichment.hits, profile);
    const close = (a, b, what) => assert.ok(a === b || Math.abs(a - b) <= 1e-6 * Math.abs(b), `${profile} ${what}: ${a} vs ${b}`);
    close(ours.enrichment.p_value, theirs.enrichment.p_value, 'Fisher p');
    close(ours.direction.spearman_rho, theirs.direction.spearman_rho, 'rho');
    close(ours.constraint.u, theirs.constraint.u, 'U');
    ours.selection.forEach((b, i) => { assert.equal(b.n, theirs.selection[i].n); });
  }
  // The fixture has one ref_mismatch allele: included and counted by default, left out on request.
  const profile = 'Glut';
  await page.selectOption('#analysis-profile', profile);
  await page.waitForFunction((p) => document.getElementById('analysis-json').textContent.includes(`"profile": "${p}"`), profile);
  const included = JSON.parse(await page.textContent('#analysis-json'));
  assert.equal(included.ref_mismatch, 1);
  assert.equal(included.ref_mismatch_excluded, 0);
  assert.match(await page.textContent('#analysis-counts'), /1 with status ref_mismatch \(REF differs from the genome\) included/);
  await page.check('#analysis-exclude-mismatch');
  await page.waitForFunction(() => document.getElementById('analysis-json').textContent.includes('"ref_mismatch_excluded": 1'));
  const ours = JSON.parse(await page.textContent('#analysis-json'));
  const theirs = JSON.parse(execFileSync(cli, ['analyze', '--scores', scores, '--annotations', annotations, '--profile', profile, '--exclude-ref-mismatch'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  assert.equal(ours.variants, theirs.variants);
  assert.equal(ours.variants, included.variants - 1);
  assert.equal(ours.enrichment.hits, theirs.enrichment.hits);
  assert.ok(Math.abs(ours.direction.spearman_rho - theirs.direction.spearman_rho) <= 1e-6);
  assert.match(await page.textContent('#analysis-counts'), /left out/);
  await page.locator('#analysis-section .controls').screenshot({ path: path.join(outDir, 'analysis-controls.png') });
  await page.uncheck('#analysis-exclude-mismatch');
  await page.waitForFunction(() => document.getElementById('analysis-json').textContent.includes('"ref_mismatch_excluded": 0'));
});

test('the allelic-effect track equals differences of plain predictions', async () => {
  const { page } = session;
  await page.selectOption('#status-filter', 'ok');
  await page.click('#results-table tbody tr:first-child');
  await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 300_000 });
  await page.locator('#track-section').screenshot({ path: path.join(outDir, 'track.png') });
  const check = await page.evaluate(async () => {
    const { br, saturation: sat } = window.brainResNet;
    const o = document.getElementById('track-profile').selectedIndex;
    const seq = sat.sequence.toUpperCase();
    const out = [];
    for (const [p, b] of [[10, 'A'], [499, 'C'], [500, 'G'], [900, 'T']]) {
      const mutated = seq.slice(0, p) + b + seq.slice(p + 1);
      const [plain, mut] = await br.predictFasta(`>ref\n${seq}\n>mut\n${mutated}\n`);
      const expected = seq[p] === b ? 0 : mut.probs[o] - plain.probs[o];
      out.push({ p, b, expected, track: sat.delta[(p * 4 + 'ACGT'.indexOf(b)) * sat.outputs + o] });
    }
    return out;
  });
  for (const c of check) assert.ok(Math.abs(c.expected - c.track) < 1e-6, JSON.stringify(c));
  const [bg] = await Promise.all([page.waitForEvent('download'), page.click('#download-bedgraph')]);
  const lines = fs.readFileSync(await bg.path(), 'utf8').trim().split('\n');
  assert.match(lines[0], /^track type=bedGraph/);
  assert.ok(lines.length > 900, `${lines.length} bedGraph lines`);
  assert.match(lines[1], /^chr\w+\t\d+\t\d+\t-?[\d.e-]+$/);
});
