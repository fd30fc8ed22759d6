// The WebGPU backend through the page itself (headless Chromium's SwiftShader adapter):
// forced GPU scores equal the CPU path's, automatic choice keeps the CPU on a software
// adapter and says why, and a lost device falls back to the CPU with no wrong numbers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, launch, openPage, chooseModel, parseScoreTsv, fixtures, outDir } from './harness.mjs';

let srv, browser, session;

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  srv = await startServer();
  browser = await launch();
  session = await openPage(browser, srv.origin);
  await chooseModel(session.page, 'fixture-mini-random-f32');
});

after(async () => {
  await browser?.close();
  srv?.server.close();
});

async function chooseBackend(page, backend) {
  await page.evaluate(() => document.getElementById('messages').replaceChildren());
  await page.selectOption('#backend-select', backend);
  await page.waitForFunction(() => document.getElementById('model-status').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 120_000 });
  const error = await page.$$eval('#messages .error', (m) => m.map((e) => e.textContent).join(' '));
  assert.equal(error, '', `loading on ${backend}: ${error}`);
  return page.$eval('#backend-status', (e) => ({ kind: e.dataset.kind, text: e.textContent }));
}

async function scoreFixture(page) {
  await page.evaluate(() => { document.getElementById('results-section').dataset.ready = ''; document.getElementById('messages').replaceChildren(); });
  await page.setInputFiles('#vcf-input', path.join(fixtures, 'variants.vcf'));
  await page.setInputFiles('#genome-input', ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f)));
  await page.click('#score-button');
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 300_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-tsv')]);
  return { tsv: fs.readFileSync(await download.path(), 'utf8'), summary: await page.textContent('#summary') };
}

function maxDifference(a, b) {
  const x = parseScoreTsv(a);
  const y = parseScoreTsv(b);
  assert.deepEqual(x.header, y.header);
  assert.deepEqual([...x.rows.keys()], [...y.rows.keys()]);
  let worst = 0;
  let compared = 0;
  for (const [key, row] of y.rows) {
    const other = x.rows.get(key);
    assert.equal(other.status, row.status, key);
    row.values.forEach((v, i) => {
      if (v === null) { assert.equal(other.values[i], null, key); return; }
      worst = Math.max(worst, Math.abs(v - other.values[i]));
      compared += 1;
    });
  }
  assert.ok(compared >= 12 * 62, `only ${compared} values compared`);
  return worst;
}

test('the GPU path (WebGPU) scores the fixture VCF like the CPU path, through the page', async () => {
  const { page } = session;
  const cpu = await chooseBackend(page, 'cpu');
  assert.equal(cpu.kind, 'cpu');
  assert.match(cpu.text, /CPU \(WebAssembly SIMD128\).*as chosen/);
  const onCpu = await scoreFixture(page);
  assert.match(onCpu.summary, /Scored 12 of 16 alleles from 15 records .* on CPU/);

  const gpu = await chooseBackend(page, 'gpu');
  assert.equal(gpu.kind, 'gpu', gpu.text);
  assert.match(gpu.text, /GPU: .*(swiftshader|SwiftShader).*WGSL through WebGPU/);
  // The page says the batch size: 1 to start, then what the measured speed chose.
  assert.match(gpu.text, /; batch 1 to start, then chosen from measured speed .*the device allows up to \d+\)/);
  const onGpu = await scoreFixture(page);
  assert.match(onGpu.summary, /Scored 12 of 16 alleles from 15 records .* on GPU: /);
  const ran = await page.$eval('#backend-status', (e) => e.textContent);
  assert.match(ran, /Runs on: GPU: .*(swiftshader|SwiftShader).*; batch \d+ \(chosen from measured speed, under 250 ms per submission; the device allows up to \d+\)/);
  const worst = maxDifference(onGpu.tsv, onCpu.tsv);
  console.log(`# WebGPU (SwiftShader) vs CPU in the page: max |difference| ${worst.toExponential(2)}; ${ran}`);
  assert.ok(worst <= 1e-5, `GPU and CPU differ by ${worst}`);
  await page.screenshot({ path: path.join(outDir, 'gpu.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(outDir, 'gpu-390.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  // A device lost mid-session: the run finishes on the CPU, says so, and its numbers are the CPU's.
  await page.evaluate(() => window.brainResNet.br.loseGpuDevice());
  const afterLoss = await scoreFixture(page);
  const status = await page.$eval('#backend-status', (e) => ({ kind: e.dataset.kind, text: e.textContent }));
  assert.equal(status.kind, 'cpu');
  assert.match(status.text, /the GPU failed .*switched to the CPU/);
  assert.ok(maxDifference(afterLoss.tsv, onCpu.tsv) <= 1e-6);
});

// Parity at batch 1, an odd batch and the largest batch the plan allows (0: under WebGPU's
// default 128 MiB bindings), all windows of a batch in one submission, against the CPU in f32
// arithmetic: f32 weights, then an int8 model whose codes are dequantized in the shader.
async function parityAtThreeBatches(page, what) {
  const text = fs.readFileSync(path.join(fixtures, 'sequences.fa'), 'utf8');
  const parity = await page.evaluate((t) => window.brainResNet.br.gpuParity(t, [1, 5, 0]), text);
  assert.equal(parity.length, 3);
  const [one, odd, largest] = parity;
  assert.deepEqual([one.batch, odd.batch], [1, 5]);
  assert.ok(largest.batch > 5 && largest.windows === largest.batch, JSON.stringify(largest));
  for (const p of parity) {
    console.log(`# ${what}, SwiftShader, batch ${p.batch} (${p.windows} windows): max |GPU - CPU f32| ${p.max_diff.toExponential(2)}`);
    assert.ok(p.max_diff <= 1e-4, `${what}, batch ${p.batch}: ${p.max_diff}`);
  }
}

test('parity on SwiftShader at batch 1, an odd batch and the largest, f32 and int8 weights', async () => {
  const { page } = session;
  await chooseModel(page, 'fixture-mini-random-f32');
  await chooseBackend(page, 'cpu'); // a fresh GPU device (the test before lost its own)
  assert.equal((await chooseBackend(page, 'gpu')).kind, 'gpu');
  await parityAtThreeBatches(page, 'f32 weights');
  await chooseModel(page, 'fixture-mini-random-int8');
  const gpu = await chooseBackend(page, 'gpu');
  assert.equal(gpu.kind, 'gpu', gpu.text);
  await parityAtThreeBatches(page, 'int8 weights (decoded in the shader)');
  await chooseModel(page, 'fixture-mini-random-f32');
});

test('automatic choice keeps the CPU on a software WebGPU adapter and says why', async () => {
  const { page } = session;
  const auto = await chooseBackend(page, 'auto');
  assert.equal(auto.kind, 'cpu');
  assert.match(auto.text, /CPU \(WebAssembly SIMD128\), \d workers?: the only WebGPU adapter is .*software fallback adapter: the CPU path is faster/);
});
