// The page's core tests in the two other engines: Firefox ESR (Debian's firefox-esr over
// WebDriver BiDi, puppeteer-core) and WebKitGTK (Debian's WebKitWebDriver driving MiniBrowser
// under its own Xvfb, selenium-webdriver). Per engine: the quick demo equals the CLI, a
// file-input run with the fixtures equals the CLI, the downloads, the Sequences tab, a
// malformed VCF's message, the allelic-effect track, the fallbacks of what the engine lacks
// (WebGPU, OPFS, showSaveFilePicker) said on the page and working, and the request log.
// Chromium runs the full set in app.test.mjs; docs/WEB.md has the support table from these runs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { startServer, launchFirefox, launchWebKit, parseScoreTsv, assertSameScores, cliScores, root, dist, fixtures, outDir } from './harness.mjs';

const cli = path.join(root, 'target/release/brain-resnet');
const demoModel = path.join(dist, 'models/demo-motif-grammar');
const f32Model = path.join(dist, 'models/fixture-mini-random-f32');
const demo = path.join(root, 'www/demo');
const genomeFiles = ['genome.fa.gz', 'genome.fa.gz.fai', 'genome.fa.gz.gzi'].map((f) => path.join(fixtures, 'genome', f));


/** Every file of dist/ as a URL path. */
function distAssets() {
  const assets = new Set(['/']);
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p); else assets.add(`/${path.relative(dist, p).split(path.sep).join('/')}`);
  });
  walk(dist);
  return assets;
}

const engines = [['firefox', launchFirefox], ['webkit', launchWebKit]];

for (const [engine, launch] of engines) {
  describe(engine, { concurrency: 1 }, () => {
    let srv;
    let d; // the driver (harness.mjs)

    const text = (sel) => d.evaluate((s) => document.querySelector(s)?.textContent ?? null, sel);
    /** Chooses the model `id` in the menu (as a user's change) and waits until it is loaded. */
    const chooseModel = async (id) => {
      const changed = await d.evaluate((want) => {
        const s = document.getElementById('model-select');
        const i = [...s.options].findIndex((o) => o.textContent.startsWith(`${want} (`));
        if (i < 0) throw new Error(`model ${want} is not offered`);
        if (s.selectedIndex === i) return false;
        document.getElementById('model-status').dataset.ready = '';
        s.selectedIndex = i;
        s.dispatchEvent(new Event('change'));
        return true;
      }, id);
      if (changed) {
        await d.waitFor((want) => document.getElementById('model-status').dataset.ready === 'true'
          && document.getElementById('model-status').textContent.startsWith(want), id, { what: `model ${id}` });
      }
    };
    /** Clears the last run's marks, triggers a run, waits for its results (or an error). */
    const runAndWait = async (trigger) => {
      await d.evaluate(() => { document.getElementById('results-section').dataset.ready = ''; document.getElementById('messages').replaceChildren(); });
      await trigger();
      await d.waitFor(() => document.getElementById('results-section').dataset.ready === 'true' || !!document.querySelector('#messages .error'),
        null, { timeout: 180_000, what: 'the run' });
    };
    /** The page's run as the CLI writes it (the Download TSV's contents). */
    const runTsv = () => d.evaluate(() => window.brainResNet.br.formatRun(window.brainResNet.run, 'tsv').then((b) => b.text()));
    /** Clicks a download button: the page's own save() runs; its Blob is read back instead of going to the browser's download manager. */
    const download = async (sel) => {
      await d.evaluate(() => {
        if (window.__saved) { window.__saved.length = 0; return; }
        window.__saved = [];
        const blobs = new Map();
        const create = URL.createObjectURL;
        URL.createObjectURL = (b) => { const u = create.call(URL, b); blobs.set(u, b); return u; };
        const click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function () {
          if (this.download && blobs.has(this.href)) window.__saved.push({ name: this.download, blob: blobs.get(this.href) });
          else click.call(this);
        };
      });
      await d.click(sel);
      await d.waitFor(() => window.__saved.length > 0, null, { what: `the download of ${sel}` });
      return d.evaluate(async () => ({ name: window.__saved[0].name, text: await window.__saved[0].blob.text() }));
    };

    before(async () => {
      fs.mkdirSync(outDir, { recursive: true });
      srv = await startServer();
      d = await launch();
      await d.goto(`${srv.origin}/`);
      await d.waitFor(() => document.getElementById('model-status').dataset.ready === 'true' || !!document.querySelector('#messages .error'),
        null, { timeout: 120_000, what: 'the model' });
    });

    after(async () => {
      await d?.close();
      srv?.server.close();
    });

    test(`${engine}: the page loads the demo model on the CPU, saying why there is no GPU`, async () => {
      assert.equal(await text('#messages .error'), null, await text('#messages'));
      assert.match(await text('#model-status'), /^demo-motif-grammar: .*\d CPU workers/);
      const backend = await d.evaluate(() => window.brainResNet.br.backend);
      assert.equal(backend.kind, 'cpu', JSON.stringify(backend));
      // Firefox ESR: navigator.gpu without an adapter here; WebKitGTK: no navigator.gpu at all.
      const why = engine === 'webkit' ? /this browser offers no WebGPU \(navigator\.gpu is missing\)/ : /WebGPU is present but found no adapter|navigator\.gpu is missing/;
      assert.match(backend.text, why);
      assert.match(await text('#backend-status'), /^Runs on: CPU \(WebAssembly SIMD128\)/);
      // What this engine offers, for docs/WEB.md's support table.
      const offers = await d.evaluate(() => ({
        userAgent: navigator.userAgent, webgpu: 'gpu' in navigator, cacheApi: typeof caches !== 'undefined', serviceWorker: 'serviceWorker' in navigator,
        opfs: Boolean(navigator.storage?.getDirectory), createWritable: Boolean(globalThis.FileSystemFileHandle?.prototype?.createWritable),
        decompressionStream: typeof DecompressionStream !== 'undefined', streamAsyncIterable: Boolean(ReadableStream.prototype[Symbol.asyncIterator]),
        showSaveFilePicker: typeof window.showSaveFilePicker === 'function', hardwareConcurrency: navigator.hardwareConcurrency,
      }));
      fs.mkdirSync(outDir, { recursive: true });
      fs.writeFileSync(path.join(outDir, `engine-${engine}.json`), JSON.stringify({ version: d.version, backend, offers }, null, 1));
    });

    test(`${engine}: the quick demo scores 300 variants like the CLI; its TSV download is the CLI's`, async () => {
      await runAndWait(() => d.click('#quick-demo-button'));
      assert.equal(await text('#messages .error'), null, await text('#messages'));
      assert.match(await text('#summary'), /Scored 300 of 300 alleles from 300 records/);
      const expected = cliScores(path.join(demo, 'variants-quick.vcf'), path.join(demo, 'genome.fa.gz'), demoModel);
      assertSameScores(await runTsv(), expected);
      // The Download TSV button: no showSaveFilePicker in this engine (nor in Chromium for a run
      // held in memory), so the page saves through a blob: link.
      assert.equal(await d.evaluate(() => typeof window.showSaveFilePicker), 'undefined');
      const saved = await download('#download-tsv');
      assert.match(saved.name, /\.tsv$/);
      assertSameScores(saved.text, expected);
      const cols = (t) => t.trim().split('\n').map((l) => l.split('\t').slice(0, 6).join('\t'));
      assert.deepEqual(cols(saved.text), cols(expected));
    });

    test(`${engine}: a row of the results opens its allelic-effect track`, async () => {
      await d.evaluate(() => { document.getElementById('track-section').dataset.ready = ''; });
      await d.click('#results-table tbody tr:nth-child(1) td:nth-child(3)');
      await d.waitFor(() => document.getElementById('track-section').dataset.ready === 'true', null, { timeout: 180_000, what: 'the track' });
      const track = await d.evaluate(() => ({
        title: document.getElementById('track-title').textContent,
        svgs: document.querySelectorAll('#track-section svg').length,
        hidden: document.getElementById('track-section').hidden,
      }));
      assert.equal(track.hidden, false);
      assert.ok(track.svgs > 0, 'the track is drawn');
      assert.match(track.title, /\(.+\)$/);
    });

    test(`${engine}: the fixture VCF and bgzip genome chosen through file inputs score like the CLI (progress counted by lines)`, async () => {
      await chooseModel('fixture-mini-random-f32');
      await d.setFiles('#vcf-input', [path.join(fixtures, 'variants.vcf')]);
      await d.setFiles('#genome-input', genomeFiles);
      await runAndWait(() => d.click('#score-button'));
      assert.equal(await text('#messages .error'), null, await text('#messages'));
      assertSameScores(await runTsv(), cliScores(path.join(fixtures, 'variants.vcf'), path.join(fixtures, 'genome/genome.fa.gz')));
      // The run's progress is measured against the VCF's lines, counted in a streamed pass
      // (WebKit's streams are not async-iterable: the page reads them with a reader).
      const counted = await d.evaluate(async () => {
        const { countLines } = await import('./brain-resnet.js');
        return countLines(document.getElementById('vcf-input').files[0]);
      });
      const lines = fs.readFileSync(path.join(fixtures, 'variants.vcf'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).length;
      assert.equal(counted, lines);
    });

    test(`${engine}: a plain-gzip genome is unpacked into OPFS where the engine has it, else refused saying why and what to do`, async () => {
      await chooseModel('fixture-mini-random-f32');
      const dir = path.join(outDir, `engines-${engine}`);
      fs.mkdirSync(dir, { recursive: true });
      const gz = path.join(dir, 'hg38.fa.gz');
      fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(path.join(fixtures, 'genome/genome.fa'))));
      const missing = await d.evaluate(async () => (await import('./genome-store.js')).storageMissing());
      await d.setFiles('#vcf-input', [path.join(fixtures, 'variants.vcf')]);
      await d.setFiles('#genome-input', [gz]);
      await runAndWait(() => d.click('#score-button'));
      const messages = await text('#messages');
      if (engine === 'webkit') {
        // WebKitGTK has no origin-private file system: the page says so in the kept-genomes list
        // and refuses the file with the CLI's advice, before any record.
        assert.match(missing, /no origin-private file system/);
        assert.match(await text('#kept-list'), /This browser cannot keep unpacked genomes: .*no origin-private file system.*bgzip/);
        assert.match(messages, /hg38\.fa\.gz: plain gzip \(not bgzip\), .*no origin-private file system.*gunzip -c FILE \| bgzip.*\.2bit/, messages);
        assert.ok(await d.evaluate(() => !!document.querySelector('#messages .error')), 'refused as an error');
        // The advised form, a bgzip genome with its .fai and .gzi, scores in this engine (the file-input test above).
      } else {
        assert.equal(missing, null);
        assert.equal(await text('#messages .error'), null, messages);
        assert.match(messages, /hg38\.fa\.gz is plain gzip \(not bgzip\): the page unpacked it once into this browser's private storage/);
        assertSameScores(await runTsv(), cliScores(path.join(fixtures, 'variants.vcf'), path.join(fixtures, 'genome/genome.fa')));
      }
    });

    test(`${engine}: a malformed VCF reports its bad lines and still scores the good one`, async () => {
      await chooseModel('fixture-mini-random-f32');
      const bad = path.join(outDir, `malformed-${engine}.vcf`);
      fs.writeFileSync(bad, 'chr1\t5001\tgood\tT\tC\nchr1\t5001\ttoo_few\tT\nchr1\tfive\tnot_a_number\tT\tC\n');
      await d.setFiles('#vcf-input', [bad]);
      await d.setFiles('#genome-input', genomeFiles);
      await runAndWait(() => d.click('#score-button'));
      const messages = await text('#messages');
      assert.match(messages, /line 2: 4 tab-separated columns/);
      assert.match(messages, /line 3: POS `five` is not a number/);
      assert.match(await text('#summary'), /Scored 1 of 3 alleles/);
    });

    test(`${engine}: pasted sequences predict like the CLI`, async () => {
      await chooseModel('fixture-mini-random-f32');
      await d.click('#tab-sequences');
      assert.equal(await d.evaluate(() => document.getElementById('tab-sequences').getAttribute('aria-selected')), 'true');
      await d.evaluate((fasta) => {
        const t = document.getElementById('fasta-text');
        t.value = fasta;
        t.dispatchEvent(new Event('input', { bubbles: true }));
      }, fs.readFileSync(path.join(fixtures, 'sequences.fa'), 'utf8'));
      await d.click('#predict-button');
      await d.waitFor(() => !document.getElementById('predictions-section').hidden, null, { what: 'the predictions' });
      const expected = fs.readFileSync(path.join(fixtures, 'expected/sequences-mini.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
      const names = await d.evaluate(() => [...document.querySelectorAll('#predictions-table tbody tr')].map((r) => r.cells[0].textContent));
      assert.deepEqual(names, expected.map((r) => r[0]));
      const rows = await d.evaluate(() => window.brainResNet.br.predictFasta(document.getElementById('fasta-text').value));
      assert.equal(rows.length, expected.length);
      let worst = 0;
      rows.forEach((r, i) => {
        assert.equal(r.name, expected[i][0]);
        r.probs.forEach((p, j) => { worst = Math.max(worst, Math.abs(p - Number(expected[i][j + 1]))); });
      });
      assert.ok(worst <= 1e-5, `max error ${worst}`);
      await d.click('#tab-variants');
    });

    test(`${engine}: a second visit takes the weights from the Cache API`, async () => {
      const before = srv.requests.filter((r) => r.url.endsWith('/fixture-mini-random-f32/weights.safetensors')).length;
      assert.ok(before >= 1);
      await d.goto(`${srv.origin}/`);
      await d.waitFor(() => document.getElementById('model-status').dataset.ready === 'true', null, { what: 'the model after reload' });
      await chooseModel('fixture-mini-random-f32');
      assert.match(await text('#model-status'), /weights from the browser cache/);
      assert.equal(srv.requests.filter((r) => r.url.endsWith('/fixture-mini-random-f32/weights.safetensors')).length, before, 'no new weights request');
    });

    test(`${engine}: every request of the session is a same-origin GET of a static asset`, async () => {
      const assets = distAssets();
      // Firefox: the browser's own record (WebDriver BiDi network events, the workers' requests
      // included); WebKit has no network events over WebDriver: the test server's log is the record.
      const fromBrowser = d.seen ?? [];
      if (engine === 'firefox') assert.ok(fromBrowser.length > 10, `BiDi recorded ${fromBrowser.length} requests`);
      const all = [...fromBrowser, ...srv.requests.map((q) => ({ ...q, url: srv.origin + q.url }))];
      assert.ok(srv.requests.length > 10);
      for (const r of all) {
        if (/^(blob|data):/.test(r.url)) continue; // local: object URLs, inline fonts
        const u = new URL(r.url);
        assert.equal(u.origin, srv.origin, `other origin: ${r.url}`);
        assert.equal(r.method, 'GET', `${r.method} ${r.url}`);
        assert.equal(u.search, '', `query string: ${r.url}`);
        assert.ok(!r.post && !r.bodyBytes, `request body: ${r.url}`);
        if (u.pathname === '/favicon.ico') continue; // the browser's own request for a tab icon
        assert.ok(assets.has(u.pathname), `not a static asset of dist/: ${u.pathname}`);
      }
      fs.writeFileSync(path.join(outDir, `requests-${engine}.json`), JSON.stringify({ browser: fromBrowser, server: srv.requests }, null, 1));
      assert.deepEqual(d.errors, []);
    });
  });
}
