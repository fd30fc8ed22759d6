// Shared browser-test harness: a static server over dist/ that records every
// request it receives, and headless Debian Chromium driven by playwright-core.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const dist = process.env.BRAIN_RESNET_DIST ?? path.join(root, 'dist'); // a copy, for long benchmarks
export const fixtures = process.env.BRAIN_RESNET_FIXTURES ?? path.resolve(root, '../shared/fixtures');
export const outDir = path.join(root, 'target', 'browser-tests');

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** The `name: value` headers of the `/*` block of dist/_headers, as a static host sends them. */
export function siteHeaders() {
  const headers = {};
  let inside = false;
  for (const line of fs.readFileSync(path.join(dist, '_headers'), 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) { inside = line.trim() === '/*'; continue; }
    if (inside) {
      const at = line.indexOf(':');
      headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
    }
  }
  return headers;
}

/**
 * Serves dist/ on 127.0.0.1 (a free port) with the headers of dist/_headers, as a static host
 * would; `requests` lists {method, url, bodyBytes}, `responses` {url, headers}. With `prefix`
 * (e.g. '/lab/tools/brain-resnet/'), dist/ is served under that path only, as on a host where
 * the site lives in a sub-directory: `origin` then ends with it (no slash), anything else is 404.
 */
export async function startServer({ prefix = '/', root: site = dist } = {}) {
  if (!fs.existsSync(path.join(site, 'index.html'))) throw new Error('dist/ is not built: run bash scripts/build-web.sh');
  const requests = [];
  const responses = [];
  const extra = siteHeaders();
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c) => { bodyBytes += c.length; });
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, bodyBytes });
      const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (!pathname.startsWith(prefix)) { res.writeHead(404).end('not found'); return; }
      const rel = `/${pathname.slice(prefix.length)}`;
      let file = path.join(site, rel);
      if (!file.startsWith(site)) { res.writeHead(403).end(); return; }
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (!fs.existsSync(file)) { res.writeHead(404).end('not found'); return; }
      const data = fs.readFileSync(file);
      const headers = { ...extra, 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-length': data.length };
      responses.push({ url: req.url, headers });
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}${prefix.replace(/\/$/, '')}`;
  return { server, origin, requests, responses };
}

/** Headless Chromium with the flags this machine needs (see shared/notes/toolchain.md). */
export async function launch() {
  const userDataDir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'br-chromium-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-gpu', '--enable-unsafe-webgpu',
      `--user-data-dir=${userDataDir}`].filter((a) => !a.startsWith('--user-data-dir')),
  });
  return browser;
}

/** A page that records every request the browser makes for it (workers included). */
export async function openPage(browser, origin) {
  const context = await browser.newContext({ acceptDownloads: true });
  const seen = [];
  context.on('request', (r) => seen.push({ method: r.method(), url: r.url(), post: r.postData() }));
  // Anything not addressed to our origin is recorded and refused.
  await context.route((url) => !url.href.startsWith(origin) && !url.protocol.startsWith('blob'), (route) => {
    seen.push({ method: route.request().method(), url: route.request().url(), refused: true });
    return route.abort();
  });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
  return { context, page, seen, consoleErrors };
}

/** Loads the model whose id is `id` through the page's model menu and waits until it is ready. */
export async function chooseModel(page, id) {
  const names = await page.$$eval('#model-select option', (o) => o.map((x) => x.textContent));
  const i = names.findIndex((t) => t.startsWith(`${id} (`));
  if (i < 0) throw new Error(`model ${id} is not offered: ${names.join(', ')}`);
  if (await page.$eval('#model-select', (s) => s.selectedIndex) === i) return;
  await page.selectOption('#model-select', { index: i });
  await page.waitForSelector('#model-status[data-ready="true"]', { timeout: 60_000 });
}

/** `brain-resnet score`'s TSV for a VCF against a genome (default: the f32 fixture model of dist/). */
export function cliScores(vcf, genome, model = path.join(dist, 'models/fixture-mini-random-f32'), extra = []) {
  return execFileSync(path.join(root, 'target/release/brain-resnet'), ['score', '--model', model, '--genome', genome, '--vcf', vcf, ...extra],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
}

/** The page's TSV against the CLI's: the same header, rows and statuses, every value within 1e-5; returns the largest difference. */
export function assertSameScores(pageTsv, cliTsv) {
  const a = parseScoreTsv(pageTsv);
  const b = parseScoreTsv(cliTsv);
  assert.deepEqual(a.header, b.header);
  assert.equal(a.rows.size, b.rows.size);
  let worst = 0;
  for (const [key, row] of b.rows) {
    const other = a.rows.get(key);
    assert.ok(other, `page lacks row ${key}`);
    assert.equal(other.status, row.status, key);
    row.values.forEach((v, i) => {
      if (v === null) assert.equal(other.values[i], null, key);
      else worst = Math.max(worst, Math.abs(v - other.values[i]));
    });
  }
  assert.ok(worst <= 1e-5, `max difference ${worst}`);
  return worst;
}

/** Parses a score TSV into {header, rows: Map(id|alt -> {status, values})}. */
export function parseScoreTsv(text) {
  const lines = text.trim().split('\n');
  const header = lines[0].split('\t');
  const rows = new Map();
  for (const l of lines.slice(1)) {
    const c = l.split('\t');
    rows.set(`${c[2]}|${c[4]}|${c[0]}:${c[1]}`, { status: c[5], values: c.slice(6).map((v) => (v === '' ? null : Number(v))) });
  }
  return { header, rows };
}

// ---------------------------------------------------------------------------------------------
// Other engines (tests/browser/engines.test.mjs): Firefox ESR over WebDriver BiDi (puppeteer-core)
// and WebKitGTK through WebKitWebDriver (selenium-webdriver), behind one small driver:
// goto, evaluate(fn, arg) (fn runs in the page, may be async), waitFor(fn, arg), click,
// setFiles, requests (what the browser itself reports: Firefox only), close. Neither
// downloads a browser: both use Debian's binaries.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn(arg)` in the page until it returns a truthy value (returned), or throws after `timeout` ms. */
async function pollInPage(evaluate, fn, arg, timeout, what) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try { last = await evaluate(fn, arg); } catch (e) { last = e; }
    if (last && !(last instanceof Error)) return last;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what ?? fn}${last instanceof Error ? `: ${last.message}` : ''}`);
    await sleep(250);
  }
}

/** Firefox ESR (Debian's /usr/bin/firefox-esr), headless, driven over WebDriver BiDi by puppeteer-core. */
export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    headless: true,
    protocolTimeout: 300_000,
    extraPrefsFirefox: {
      // No background traffic of the browser's own: the request log is the page's.
      'network.captive-portal-service.enabled': false,
      'browser.safebrowsing.update.enabled': false,
      'app.update.enabled': false,
      'dom.webgpu.enabled': true, // where the build has it; the page falls back to the CPU when it finds no adapter
    },
  });
  const page = await browser.newPage();
  const seen = [];
  page.on('request', (r) => seen.push({ method: r.method(), url: r.url(), post: r.hasPostData?.() ? 'body' : undefined }));
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const evaluate = (fn, arg) => page.evaluate(fn, arg);
  return {
    name: 'firefox',
    version: await browser.version(),
    page,
    seen,
    errors,
    goto: (url) => page.goto(url, { waitUntil: 'load', timeout: 120_000 }),
    evaluate,
    waitFor: (fn, arg, { timeout = 120_000, what } = {}) => pollInPage(evaluate, fn, arg, timeout, what),
    click: (sel) => page.click(sel),
    setFiles: async (sel, files) => (await page.$(sel)).uploadFile(...files),
    close: () => browser.close(),
  };
}

/**
 * WebKitGTK's MiniBrowser driven by Debian's WebKitWebDriver (selenium-webdriver as the client).
 * MiniBrowser needs a display: WebKitWebDriver is started under `xvfb-run -a` (its own Xvfb),
 * in its own process group, ended with it.
 */
export async function launchWebKit() {
  const { spawn } = await import('node:child_process');
  const net = await import('node:net');
  const { Builder, By } = await import('selenium-webdriver');
  const port = await new Promise((r) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
  const driverProc = spawn('xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', process.env.WEBKITWEBDRIVER ?? '/usr/bin/WebKitWebDriver', `--port=${port}`],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  driverProc.stderr.on('data', (d) => { stderr += d; });
  const stop = () => { try { process.kill(-driverProc.pid, 'SIGTERM'); } catch { /* gone */ } };
  const url = `http://127.0.0.1:${port}`;
  try {
    await pollInPage(async () => (await fetch(`${url}/status`)).ok, null, null, 30_000, 'WebKitWebDriver to listen');
  } catch (e) { stop(); throw new Error(`${e.message}\n${stderr}`); }
  const binary = process.env.MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
  let driver;
  try {
    driver = await new Builder().usingServer(url).withCapabilities({
      browserName: 'MiniBrowser',
      'webkitgtk:browserOptions': { binary, args: ['--automation'] },
    }).build();
  } catch (e) { stop(); throw new Error(`${e.message}\n${stderr}`); }
  await driver.manage().setTimeouts({ script: 300_000, pageLoad: 120_000 });
  // The function travels as source text; an async one is awaited (WebDriver awaits a returned promise).
  const evaluate = (fn, arg) => driver.executeScript(`return (${fn}).call(null, arguments[0]);`, arg ?? null);
  const caps = await driver.getCapabilities();
  return {
    name: 'webkit',
    version: `${caps.get('browserName')} ${caps.get('browserVersion')}`,
    driver,
    seen: null, // no network events: the test server's log is the record
    errors: [],
    goto: (u) => driver.get(u),
    evaluate,
    waitFor: (fn, arg, { timeout = 120_000, what } = {}) => pollInPage(evaluate, fn, arg, timeout, what),
    click: async (sel) => (await driver.findElement(By.css(sel))).click(),
    setFiles: async (sel, files) => (await driver.findElement(By.css(sel))).sendKeys(files.join('\n')),
    close: async () => { try { await driver.quit(); } finally { stop(); } },
  };
}
