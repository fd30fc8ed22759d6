// The npm package of the JavaScript API and examples/embed/: the package (npm pack) holds the
// API, its worker, the wasm, types and a README and no model; the example page, served with the
// unpacked package and a model of its own site, scores a pasted pair of sequences like the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { startServer, launch, root, dist, fixtures, outDir } from './harness.mjs';

let browser, server, site, origin;
let requests;
const cli = path.join(root, 'target/release/brain-resnet');

before(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  execFileSync('node', [path.join(root, 'scripts/npm-package.mjs'), '--pack'], { stdio: 'ignore' });
  site = fs.mkdtempSync(path.join(os.tmpdir(), 'br-embed-'));
  execFileSync('tar', ['-xzf', path.join(root, 'target/brain-resnet-web-0.1.0.tgz'), '-C', site]);
  fs.renameSync(path.join(site, 'package'), path.join(site, 'brain-resnet-web'));
  for (const f of ['index.html', 'embed.js']) fs.copyFileSync(path.join(root, 'examples/embed', f), path.join(site, f));
  fs.cpSync(path.join(dist, 'models/fixture-mini-random-f32'), path.join(site, 'model'), { recursive: true });
  // Served as a static host serves the page (its headers: the same Content-Security-Policy).
  const srv = await startServer({ root: site });
  ({ server, origin, requests } = srv);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.close();
  if (site) fs.rmSync(site, { recursive: true, force: true });
});

test('npm pack gives the API, its worker, the wasm, types and a README, and no model', () => {
  const files = execFileSync('tar', ['-tzf', path.join(root, 'target/brain-resnet-web-0.1.0.tgz')], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(files, ['package/README.md', 'package/brain-resnet.d.ts', 'package/brain-resnet.js', 'package/genome-store.js',
    'package/package.json', 'package/pkg/brain_resnet.js', 'package/pkg/brain_resnet_bg.wasm', 'package/results.js', 'package/worker.js']);
  const types = fs.readFileSync(path.join(site, 'brain-resnet-web/brain-resnet.d.ts'), 'utf8');
  for (const name of ['class BrainResNet', 'scoreVcf(', 'predictFasta(', 'formatRun(', 'function scoreValues(']) assert.ok(types.includes(name), name);
  const lines = ['index.html', 'embed.js'].map((f) => fs.readFileSync(path.join(root, 'examples/embed', f), 'utf8').trim().split('\n').length);
  assert.ok(lines[0] + lines[1] < 50, `the example is ${lines[0] + lines[1]} lines`);
});

test('the embed example scores a pasted pair of sequences like the CLI', { timeout: 5 * 60_000 }, async () => {
  const fasta = fs.readFileSync(path.join(fixtures, 'sequences.fa'), 'utf8').split('>')[1].split('\n').slice(1).join('');
  const ref = fasta.slice(0, 1000);
  const i = Math.floor(ref.length / 2);
  const alt = ref.slice(0, i) + (ref[i] === 'A' ? 'C' : 'A') + ref.slice(i + 1);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForSelector('#go:not([disabled])', { timeout: 120_000 });
  await page.fill('#ref', ref);
  await page.fill('#alt', alt);
  await page.click('#go');
  await page.waitForSelector('body[data-done="true"]', { timeout: 120_000 });
  const rows = await page.$$eval('#out tr', (trs) => trs.map((tr) => [tr.cells[0].textContent, Number(tr.cells[1].textContent)]));
  await page.screenshot({ path: path.join(outDir, 'embed.png') });
  await page.close();
  assert.deepEqual(errors, []);
  // The CLI's predictions of the same two windows.
  const input = path.join(outDir, 'embed-pair.fa');
  fs.writeFileSync(input, `>ref\n${ref}\n>alt\n${alt}\n`);
  const tsv = execFileSync(cli, ['predict', '--model', path.join(site, 'model'), '--backend', 'cpu', input], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [header, r, a] = tsv.trim().split('\n').map((l) => l.split('\t'));
  const labels = header.slice(1);
  assert.deepEqual(rows.map(([l]) => l), labels);
  rows.forEach(([, v], k) => assert.ok(Math.abs(v - (Number(a[k + 1]) - Number(r[k + 1]))) <= 2e-5, `${labels[k]}: ${v}`));
  assert.ok(rows.some(([, v]) => v !== 0), 'the ALT changes something');
  // Only the site's own files were requested.
  assert.ok(requests.every((q) => q.method === 'GET'));
});
