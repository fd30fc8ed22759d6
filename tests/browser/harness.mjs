// Shared browser-test harness: a static server over dist/ that records every
// request it receives, and headless Debian Chromium driven by playwright-core.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
export async function startServer({ prefix = '/' } = {}) {
  if (!fs.existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is not built: run bash scripts/build-web.sh');
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
      let file = path.join(dist, rel);
      if (!file.startsWith(dist)) { res.writeHead(403).end(); return; }
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
