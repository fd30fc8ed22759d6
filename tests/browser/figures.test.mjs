// The analyses and figures in the page: every figure drawn (screenshots saved), SVG and
// PNG downloads, the analyses equal `brain-resnet analyze`, and the allelic-effect track
// equals differences of plain predictions. For people: every figure has a caption and
// buttons that say which figure they save; at 390 px labels do not overlap and the track
// fills the width; the track zooms down to base letters (attribution logo, reference
// sequence, variant marked, padding at a contig edge greyed). Screenshots at 1280 and 390 px
// in target/browser-tests/.
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
  const svgText = fs.readFileSync(await svg.path(), 'utf8');
  assert.match(svgText, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  // The legend and the heatmap, in one file.
  assert.ok((svgText.match(/<svg/g) ?? []).length >= 3, 'the saved heatmap holds its legend and its plot');
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
  // The counts are written after the JSON (the rows are ranked in between).
  await page.waitForFunction(() => /left out/.test(document.getElementById('analysis-counts').textContent));
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

const ANALYSES = { enrichment: 'enrichment plot', heatmap: 'heatmap', locus: 'locus view', imbalance: 'allelic imbalance plot', gerp: 'GERP box plot', maf: 'MAF plot' };

/** Waits until the figures in `#id` were drawn for its current width (they redraw on resize). */
async function redrawn(page, id) {
  await page.waitForFunction((i) => {
    const el = document.getElementById(i);
    return el.dataset.drawnWidth === String(el.clientWidth);
  }, id);
}

/** Pairs of boxes that overlap by more than `slack` px both ways, with their texts. */
function overlaps(boxes, slack = 0.5) {
  const out = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
      const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
      if (w > slack && h > slack) out.push(`${a.text} / ${b.text}`);
    }
  }
  return out;
}

/** Tick labels and axis titles of every SVG of a figure: [{svg, kind, text, x, y, width, height}]. */
async function labelBoxes(page, figureId) {
  return page.$$eval(`#figure-${figureId} svg`, (svgs) => svgs.flatMap((svg, k) => [...svg.querySelectorAll('g[aria-label$="tick label"] text, g[aria-label$="-axis label"] text')].map((t) => {
    const r = t.getBoundingClientRect();
    const kind = t.closest('g[aria-label]').getAttribute('aria-label');
    return { svg: k, kind, text: `${kind}: ${t.textContent}`, x: r.x, y: r.y, width: r.width, height: r.height };
  })));
}

test('every figure has a plain-language caption and buttons that name it', async () => {
  const { page } = session;
  for (const [id, name] of Object.entries(ANALYSES)) {
    const caption = await page.textContent(`figure#figure-${id} > figcaption`);
    assert.ok(caption.length > 120, `${id} caption: ${caption}`);
    // The fixture model has random weights: its captions say so.
    assert.match(caption, /random weights/, id);
    assert.equal(await page.getByRole('button', { name: `Save ${name} as SVG`, exact: true }).count(), 1, `${id} SVG button`);
    assert.equal(await page.getByRole('button', { name: `Save ${name} as PNG`, exact: true }).count(), 1, `${id} PNG button`);
  }
  assert.match(await page.textContent('figure#figure-heatmap > figcaption'), /ALT − REF/);
  const names = await page.$$eval('#figures button', (b) => b.map((x) => x.textContent));
  assert.equal(new Set(names).size, names.length, `every save button says which figure: ${names}`);
  // The locus view's three panels are saved as one SVG.
  const [locus] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save locus view as SVG' }).click()]);
  assert.equal((fs.readFileSync(await locus.path(), 'utf8').match(/<svg/g) ?? []).length, 4);
  // The demo model's captions say that its data is synthetic.
  const demo = JSON.parse(fs.readFileSync(path.join(dist, 'models/demo-motif-grammar/model.json'), 'utf8'));
  const said = await page.evaluate(async (m) => (await import('./figures.js')).provenance(m), demo);
  assert.match(said, /demo model.*synthetic/);
});

test('at 390 px the analysis figures fit: no overlapping labels or axis titles', async () => {
  const { page } = session;
  await page.locator('#figures').screenshot({ path: path.join(outDir, 'analyses-1280.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await redrawn(page, 'figures');
    await page.locator('#figures').screenshot({ path: path.join(outDir, 'analyses-390.png') });
    for (const id of Object.keys(ANALYSES)) {
      const box = await page.locator(`#figure-${id}`).boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= 390 + 0.5, `${id} figure inside the viewport: ${JSON.stringify(box)}`);
      assert.ok(box.width >= 0.9 * 390, `${id} figure ${box.width} px wide`);
      await page.locator(`#figure-${id}`).screenshot({ path: path.join(outDir, `figure-${id}-390.png`) });
      const labels = await labelBoxes(page, id);
      assert.ok(labels.length > 0, `${id} has axis labels`);
      for (const k of new Set(labels.map((l) => l.svg))) {
        const here = labels.filter((l) => l.svg === k);
        // Tick labels of one axis, and axis titles against everything.
        for (const kind of new Set(here.map((l) => l.kind))) {
          if (kind.endsWith('tick label')) assert.deepEqual(overlaps(here.filter((l) => l.kind === kind)), [], `${id} ${kind}s overlap`);
        }
        const titles = here.filter((l) => l.kind.endsWith('-axis label'));
        for (const t of titles) assert.deepEqual(overlaps([t, ...here.filter((l) => l !== t)]).filter((o) => o.startsWith(t.text)), [], `${id}: axis title collides`);
      }
    }
    // The heatmap's profile names: every one drawn, none overlapping (it scrolls sideways).
    const heat = await labelBoxes(page, 'heatmap');
    const profiles = heat.filter((l) => l.kind === 'x-axis tick label');
    assert.equal(profiles.length, 31);
    // Drawn at their size, not shrunk to fit: the heatmap scrolls sideways instead.
    for (const l of heat) assert.ok(Math.min(l.width, l.height) >= 9, `${l.text} is ${l.width} x ${l.height} px`);
    assert.ok(await page.$eval('#figure-heatmap .figure-body', (b) => b.scrollWidth > b.clientWidth), 'the heatmap scrolls inside its figure');
    assert.deepEqual(overlaps(profiles), []);
    assert.deepEqual(overlaps(heat.filter((l) => l.kind === 'y-axis tick label')), []);
  } finally {
    await page.setViewportSize({ width: 1280, height: 720 });
    await redrawn(page, 'figures');
  }
});

test('the track names the known motifs of the window, the same hits as brain-resnet track writes to its BED', async () => {
  const { page } = session;
  await page.evaluate(() => { delete document.getElementById('track-section').dataset.ready; });
  await page.locator('#results-table tbody tr', { hasText: 'snv_mid' }).first().click();
  await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 300_000 });
  const sat = await page.evaluate(() => { const s = window.brainResNet.saturation; return { contig: s.contig, start: s.start, motifs: s.motifs }; });
  // The CLI's track of the same window (chr1:5001, the variant's position, centres it the same way).
  const prefix = path.join(outDir, 'cli-track');
  execFileSync(path.join(root, 'target/release/brain-resnet'), ['track', '--model', path.join(dist, 'models/fixture-mini-random-f32'),
    '--genome', path.join(fixtures, 'genome/genome.fa.gz'), '--region', 'chr1:5001-5001', '--profile', 'Glut', '--out', prefix, '--backend', 'cpu'],
  { stdio: 'ignore' });
  const bed = fs.readFileSync(`${prefix}.motifs.bed`, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  const ours = sat.motifs.map((h) => [sat.contig, String(sat.start + h.start), String(sat.start + h.start + h.len), h.motif, h.strand]);
  assert.deepEqual(ours, bed.map((c) => [c[0], c[1], c[2], c[3], c[5]]));
  assert.ok(ours.length > 0, 'the fixture window has motif hits at p <= 1e-4');
  // Drawn in the whole-window view: a box per hit (at most 4 lanes, the rest counted).
  await page.getByRole('button', { name: 'Show the whole window' }).click();
  const boxes = await page.$$eval('svg.track-detail rect.motif-hit', (rs) => rs.map((r) => [r.dataset.motif, Number(r.dataset.start), r.dataset.strand]));
  const more = await page.$$eval('svg.track-detail g.motifs text', (ts) => ts.map((t) => t.textContent).find((t) => /more motif hits/.test(t)) ?? '+0');
  assert.equal(boxes.length + Number(more.match(/\+(\d+)/)[1]), sat.motifs.length);
  for (const [name, start, strand] of boxes) assert.ok(sat.motifs.some((h) => h.motif === name && h.start === start && h.strand === strand));
  assert.match(await page.textContent('figure#figure-track-logo > figcaption'), /known transcription-factor motifs \(JASPAR 2024/);
  await page.locator('#figure-track-logo').screenshot({ path: path.join(outDir, 'track-motifs.png') });
});

test('the track zooms to base letters: attribution logo, reference sequence, variant marked, padding greyed', async () => {
  const { page } = session;
  // snv_contig_start is chr1:10: its window starts 490 bases before the contig.
  await page.evaluate(() => { delete document.getElementById('track-section').dataset.ready; });
  await page.locator('#results-table tbody tr', { hasText: 'snv_contig_start' }).first().click();
  await page.waitForSelector('#track-section[data-ready="true"]', { timeout: 300_000 });
  await page.locator('#track-section').scrollIntoViewIfNeeded();
  for (const id of ['track-logo', 'track-max']) {
    assert.ok((await page.textContent(`figure#figure-${id} > figcaption`)).length > 120, `${id} caption`);
  }
  assert.equal(await page.getByRole('button', { name: 'Save zoomed track as SVG', exact: true }).count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Save overview as PNG', exact: true }).count(), 1);
  const sat = await page.evaluate(() => { const s = window.brainResNet.saturation; return { start: s.start, window: s.window, sequence: s.sequence }; });
  assert.equal(sat.start, -490);
  const variant = 499;
  const span = async () => page.$eval('svg.track-detail', (s) => [Number(s.dataset.lo), Number(s.dataset.hi)]);
  // Centred on the variant by default.
  let [lo, hi] = await span();
  assert.ok(lo <= variant && variant < hi && Math.abs((lo + hi) / 2 - variant) <= (hi - lo) / 2, `default view ${lo}-${hi}`);
  await page.getByRole('button', { name: 'Show the whole window' }).click();
  assert.deepEqual(await span(), [0, 1000]);
  await page.locator('#track-section').screenshot({ path: path.join(outDir, 'track-whole-window.png') });
  // A range brushed on the overview becomes the view.
  await page.locator('#figure-track-max').scrollIntoViewIfNeeded();
  const brushArea = await page.locator('#figure-track-max .track-brush .overlay').boundingBox();
  const y = brushArea.y + brushArea.height / 2;
  await page.mouse.move(brushArea.x + 0.6 * brushArea.width, y);
  await page.mouse.down();
  await page.mouse.move(brushArea.x + 0.7 * brushArea.width, y, { steps: 5 });
  await page.mouse.move(brushArea.x + 0.8 * brushArea.width, y, { steps: 5 });
  await page.mouse.up();
  const [blo, bhi] = await span();
  assert.ok(Math.abs(blo - 600) <= 5 && Math.abs(bhi - 800) <= 5, `brushed 60-80 % of the window, view ${blo}-${bhi}`);
  await page.getByRole('button', { name: 'Centre on the variant' }).click();
  while ((([a, b]) => b - a)(await span()) > 60) await page.getByRole('button', { name: 'Zoom in' }).click();
  [lo, hi] = await span();
  assert.ok(hi - lo >= 40 && hi - lo <= 60 && lo <= variant && variant < hi, `zoomed to ${lo}-${hi}`);
  assert.match(await page.textContent('#track-range'), /chr1:1–\d+ \(\d+ bp shown\)/);
  await page.locator('#track-section').screenshot({ path: path.join(outDir, 'track-1280.png') });

  const seq = sat.sequence.toUpperCase();
  const real = (i) => sat.start + i >= 0 && 'ACGT'.includes(seq[i]);
  // The reference sequence, in letters, exactly the window's bases; none on the padding.
  const letters = await page.$$eval('svg.track-detail text.ref-base', (t) => t.map((x) => [Number(x.dataset.index), x.textContent]));
  const expected = [];
  for (let i = lo; i < hi; i++) if (real(i)) expected.push([i, seq[i]]);
  assert.deepEqual(letters, expected);
  assert.equal(seq[variant], 'C', 'the fixture REF at chr1:10');
  // The logo: the reference base at each position, the tallest where the attribution is largest.
  const logo = await page.$$eval('svg.track-detail .logo-letter', (g) => g.map((x) => ({ i: Number(x.dataset.index), base: x.dataset.base, tag: x.tagName, h: x.getBoundingClientRect().height })));
  assert.ok(logo.length > 0.8 * expected.length, `${logo.length} logo letters`);
  for (const l of logo) {
    assert.equal(l.base, seq[l.i]);
    assert.equal(l.tag, 'path', 'drawn as letters');
    assert.ok(real(l.i));
  }
  const attribution = await page.evaluate(([a, b]) => {
    const s = window.brainResNet.saturation;
    const o = Math.max(0, document.getElementById('track-profile').selectedIndex);
    const out = [];
    for (let p = a; p < b; p++) {
      let sum = 0;
      for (let k = 0; k < 4; k++) sum += s.delta[(p * 4 + k) * s.outputs + o];
      out.push([p, -sum / 3]);
    }
    return out;
  }, [lo, hi]);
  const best = attribution.filter(([p]) => real(p)).reduce((m, x) => (Math.abs(x[1]) > Math.abs(m[1]) ? x : m));
  const tallest = logo.reduce((m, x) => (x.h > m.h ? x : m));
  assert.equal(tallest.i, best[0], 'the tallest letter is the base the prediction depends on most');
  // The variant is marked over its letter.
  const mark = await page.locator('svg.track-detail .variant-mark rect').boundingBox();
  const letter = await page.locator(`svg.track-detail text.ref-base[data-index="${variant}"]`).boundingBox();
  assert.equal(await page.$eval('svg.track-detail .variant-mark', (g) => g.dataset.index), String(variant));
  assert.ok(mark.x <= letter.x + 1 && mark.x + mark.width >= letter.x + letter.width - 1, 'the variant band covers its letter');
  // Padding before the contig start: greyed, unlabelled, no coordinates below 1.
  const pads = await page.$$eval('svg.track-detail rect.padding', (r) => r.map((x) => ({ from: Number(x.dataset.from), to: Number(x.dataset.to), fill: x.getAttribute('fill') })));
  assert.deepEqual(pads.map(({ from, to }) => [from, to]), [[lo, 490]]);
  assert.match(pads[0].fill, /^#d8d8d8$/);
  const ticks = await page.$$eval('svg.track-detail .axis text', (t) => t.map((x) => Number(x.textContent.replace(/,/g, ''))));
  assert.ok(ticks.length > 0 && ticks.every((t) => t >= 1), `axis ticks ${ticks}`);

  const [saved] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save zoomed track as SVG' }).click()]);
  const savedText = fs.readFileSync(await saved.path(), 'utf8');
  assert.match(savedText, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((savedText.match(/class="logo-letter"/g) ?? []).length, logo.length);
  const [overviewSvg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save overview as SVG' }).click()]);
  assert.doesNotMatch(fs.readFileSync(await overviewSvg.path(), 'utf8'), /track-brush/, 'the brush is not saved');

  // At 390 px: the track fills the width (the view redraws; the zoom is kept).
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await redrawn(page, 'track-figures');
    assert.deepEqual(await span(), [lo, hi]);
    const fig = await page.locator('#figure-track-logo').boundingBox();
    const svg = await page.locator('svg.track-detail').boundingBox();
    assert.ok(fig.width >= 0.9 * 390 && fig.x + fig.width <= 390.5, `track figure ${JSON.stringify(fig)}`);
    assert.ok(svg.width >= 0.85 * 390 && svg.x + svg.width <= 390.5, `track view ${JSON.stringify(svg)}`);
    const over = await page.locator('#figure-track-max svg').first().boundingBox();
    assert.ok(over.width >= 0.85 * 390, `overview ${over.width} px`);
    // The deepest zoom of a phone gives each base 10 px: letters again.
    while ((([a, b]) => b - a)(await span()) > 30) await page.getByRole('button', { name: 'Zoom in' }).click();
    const [plo, phi] = await span();
    assert.ok(phi - plo >= 20 && plo <= variant && variant < phi, `zoomed to ${plo}-${phi} at 390 px`);
    const phone = [];
    for (let i = plo; i < phi; i++) if (real(i)) phone.push([i, seq[i]]);
    assert.deepEqual(await page.$$eval('svg.track-detail text.ref-base', (t) => t.map((x) => [Number(x.dataset.index), x.textContent])), phone);
    const size = await page.$eval(`svg.track-detail text.ref-base[data-index="${variant}"]`, (t) => t.getBoundingClientRect().height);
    assert.ok(size >= 10, `letters ${size} px high at 390 px`);
    const axis = await page.$$eval('svg.track-detail .axis text', (t) => t.map((x) => { const r = x.getBoundingClientRect(); return { text: x.textContent, x: r.x, y: r.y, width: r.width, height: r.height }; }));
    assert.deepEqual(overlaps(axis), []);
    await page.locator('#track-section').screenshot({ path: path.join(outDir, 'track-390.png') });
    await page.getByRole('button', { name: 'Show the whole window' }).click();
    await page.locator('#track-section').screenshot({ path: path.join(outDir, 'track-whole-window-390.png') });
  } finally {
    await page.setViewportSize({ width: 1280, height: 720 });
  }
});
