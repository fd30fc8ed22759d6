// The Sequences tab and a VCF that is not one, as a user sees them: each record's error,
// warning or note named in the message list, the good records still predicted, stale
// predictions never left under a new run; a letter renamed .vcf gives one error and no
// table or figure. Screenshots of the messages at 1280 and 390 px go to target/browser-tests/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, chooseModel, fixtures, outDir } from './harness.mjs';

let srv, browser, session;

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

const full = 'ACGT'.repeat(250);

/** Pastes `text`, predicts, and waits for the run to end; returns {messages: [{kind, text}], names}. */
async function predictText(page, text) {
  await page.click('#tab-sequences');
  await page.setInputFiles('#fasta-file', []);
  await page.fill('#fasta-text', text);
  await page.click('#predict-button');
  // The button is disabled while the run lasts and enabled again at its end.
  await page.waitForFunction(() => !document.getElementById('predict-button').disabled
    && (document.querySelector('#messages > div') || !document.getElementById('predictions-section').hidden));
  return shown(page);
}

async function shown(page) {
  return page.evaluate(() => ({
    messages: [...document.querySelectorAll('#messages > div')].map((d) => ({ kind: d.className, text: d.textContent })),
    names: [...document.querySelectorAll('#predictions-table tbody tr')].map((r) => r.cells[0].textContent),
    tableShown: !document.getElementById('predictions-section').hidden,
  }));
}

test('bad letters and empty records are errors naming the record, IUPAC codes a warning, padding a note; the rest is predicted', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const iupac = `${'ACGT'.repeat(249)}ACRY`;
  const { messages, names, tableShown } = await predictText(page,
    `>letters\nACGTXYZ\n>empty\n>one\nA\n>iupac\n${iupac}\n>good\n${full}\n`);
  assert.deepEqual(messages, [
    { kind: 'error', text: 'sequence `letters`: `X` at position 5 is not a base (A, C, G, T, N or an IUPAC code)' },
    { kind: 'error', text: 'sequence `empty`: no sequence after the `>name` line' },
    { kind: 'info', text: 'sequence `one`: 1 bp, padded with 999 N to the model\'s 1000 bp window' },
    { kind: 'warn', text: 'sequence `iupac`: 2 IUPAC ambiguity codes (R Y S W K M B D H V; the first, `R`, at position 999) read as N' },
    { kind: 'error', text: '2 of 5 sequences not predicted (see above).' },
  ]);
  assert.ok(tableShown);
  assert.deepEqual(names, ['one', 'iupac', 'good']);
  // IUPAC codes predict as N, as in the CLI.
  const [a, b] = await page.evaluate(async (seqs) => Promise.all(seqs.map(async (s) => (await window.brainResNet.br.predictFasta(s))[0].probs)),
    [`>x\n${iupac}\n`, `>x\n${'ACGT'.repeat(249)}ACNN\n`]);
  assert.deepEqual(a, b);

  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.locator('#messages').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(outDir, `sequences-messages-${width}.png`), fullPage: false });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('a raw sequence without a header is one record named `sequence`, with a note', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const { messages, names } = await predictText(page, `${full.slice(0, 500)}\n${full.slice(500)}\n`);
  assert.deepEqual(messages, [
    { kind: 'info', text: 'sequence `sequence`: no `>name` line: the text was read as one sequence named `sequence`' },
  ]);
  assert.deepEqual(names, ['sequence']);
});

test('text that is not FASTA says how FASTA starts, and the previous predictions do not stay under the error', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const first = await predictText(page, `>good\n${full}\n`);
  assert.deepEqual(first.names, ['good']);
  assert.ok(first.tableShown);
  const { messages, names, tableShown } = await predictText(page, 'Dear colleague,\nplease find the sequences below.\n');
  assert.deepEqual(messages, [{ kind: 'error', text: 'pasted sequences: line 1: FASTA must start with a \'>name\' line' }]);
  assert.deepEqual(names, []);
  assert.equal(tableShown, false);
  // A run whose every record fails shows no table either.
  const none = await predictText(page, '>only\nXYZ\n');
  assert.deepEqual(none.messages.map((m) => m.text), [
    'sequence `only`: `X` at position 1 is not a base (A, C, G, T, N or an IUPAC code)',
    '1 of 1 sequence not predicted (see above).',
  ]);
  assert.equal(none.tableShown, false);
  await page.screenshot({ path: path.join(outDir, 'sequences-not-fasta-1280.png'), fullPage: false });
});

test('a chosen FASTA file gets the same messages', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  const file = path.join(outDir, 'checked.fa');
  fs.writeFileSync(file, `>empty\n>one\nA\n>good\n${full}\n`);
  await page.click('#tab-sequences');
  await page.fill('#fasta-text', '');
  await page.setInputFiles('#fasta-file', file);
  await page.click('#predict-button');
  await page.waitForFunction(() => !document.getElementById('predict-button').disabled && document.querySelector('#messages > div'));
  const { messages, names } = await shown(page);
  assert.deepEqual(messages.map((m) => m.text), [
    'sequence `empty`: no sequence after the `>name` line',
    'sequence `one`: 1 bp, padded with 999 N to the model\'s 1000 bp window',
    '1 of 3 sequences not predicted (see above).',
  ]);
  assert.deepEqual(names, ['one', 'good']);
  await page.setInputFiles('#fasta-file', []);
});

test('a letter renamed .vcf is refused once, with no table and no figure', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await page.click('#tab-variants');
  const letter = path.join(outDir, 'letter.vcf');
  fs.writeFileSync(letter, 'Dear colleague,\n\nplease find attached the variants we discussed.\nBest wishes,\nA.\n');
  const want = 'letter.vcf: this does not look like a VCF (no #CHROM header, no tab-separated columns)';
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.setInputFiles('#vcf-input', letter);
  // Said as soon as the file is chosen (its samples are looked for) ...
  await page.waitForFunction((w) => document.getElementById('messages').textContent.includes(w), want);
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.click('#score-button');
  // ... and once more, once, by the run.
  await page.waitForSelector('#messages .error');
  await page.waitForFunction(() => !document.getElementById('score-button').disabled);
  const seen = await page.evaluate(() => ({
    messages: [...document.querySelectorAll('#messages > div')].map((d) => d.textContent),
    results: !document.getElementById('results-section').hidden,
    rows: document.querySelectorAll('#results-table tbody tr').length,
    analyses: !document.getElementById('analysis-section').hidden,
    track: !document.getElementById('track-section').hidden,
    figures: document.querySelectorAll('#figures svg, #figures canvas, #track-figures svg, #track-figures canvas').length,
  }));
  assert.deepEqual(seen.messages, [want]);
  assert.equal(seen.results, false);
  assert.equal(seen.rows, 0);
  assert.equal(seen.analyses, false);
  assert.equal(seen.track, false);
  assert.equal(seen.figures, 0);
  await page.locator('#messages').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(outDir, 'not-a-vcf-1280.png'), fullPage: false });
});
