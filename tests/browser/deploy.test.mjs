// The site as people deploy it (docs/DEPLOY.md): served under a sub-path of a host, with the
// header files of common static hosts, built from a plain clone (no ../shared beside it) into
// dist/ and the release zip.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { startServer, launch, openPage, root, dist, outDir } from './harness.mjs';

const prefix = '/lab/tools/brain-resnet/';
let browser, srv;

after(async () => {
  await browser?.close();
  srv?.server.close();
});

/** The `name: value` headers of the `/*` block of an _headers file. */
function headersOf(file) {
  const headers = [];
  let inside = false;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) { inside = line.trim() === '/*'; continue; }
    if (inside) {
      const at = line.indexOf(':');
      headers.push([line.slice(0, at).trim(), line.slice(at + 1).trim()]);
    }
  }
  return headers;
}

test('the nginx and Apache snippets send the headers of _headers, the same policy, and .wasm as application/wasm', () => {
  const headers = headersOf(path.join(root, 'www/_headers'));
  assert.ok(headers.some(([n]) => n === 'Content-Security-Policy'), 'www/_headers has a Content-Security-Policy');
  const nginx = fs.readFileSync(path.join(root, 'deploy/nginx.conf'), 'utf8');
  const apache = fs.readFileSync(path.join(root, 'deploy/apache.htaccess'), 'utf8');
  const nginxSent = [...nginx.matchAll(/^\s*add_header\s+(\S+)\s+"([^"]*)"\s+always;/gm)].map((m) => [m[1], m[2]]);
  const apacheSent = [...apache.matchAll(/^\s*Header\s+always\s+set\s+(\S+)\s+"([^"]*)"/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(nginxSent, headers, 'deploy/nginx.conf: the add_header lines are those of www/_headers');
  assert.deepEqual(apacheSent, headers, 'deploy/apache.htaccess: the Header lines are those of www/_headers');
  assert.match(nginx, /^\s*application\/wasm\s+wasm;/m);
  assert.match(apache, /^AddType application\/wasm \.wasm$/m);
  // The built site carries the Apache file as its .htaccess, and _headers as it is.
  assert.equal(fs.readFileSync(path.join(dist, '.htaccess'), 'utf8'), apache);
  assert.equal(fs.readFileSync(path.join(dist, '_headers'), 'utf8'), fs.readFileSync(path.join(root, 'www/_headers'), 'utf8'));
});

test(`served under a sub-path (${prefix}), the quick demo runs and every request stays under it and succeeds`, async () => {
  srv = await startServer({ prefix });
  browser = await launch();
  // openPage goes to `${origin}/` and refuses (and records) any URL not under it.
  const { page, seen, consoleErrors } = await openPage(browser, srv.origin);
  assert.equal(new URL(page.url()).pathname, prefix);
  await page.evaluate(() => { document.getElementById('results-section').dataset.ready = ''; });
  await page.click('#quick-demo-button');
  await page.waitForFunction(() => document.getElementById('results-section').dataset.ready === 'true'
    || document.querySelector('#messages .error'), null, { timeout: 120_000 });
  assert.equal(await page.$('#messages .error'), null, 'no error message');
  assert.match(await page.textContent('#summary'), /Scored 300 of 300 alleles from 300 records/);
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, 'deploy-sub-path.png') });
  fs.writeFileSync(path.join(outDir, 'deploy-sub-path-requests.json'), JSON.stringify({ browser: seen, server: srv.requests }, null, 1));

  const web = seen.filter((r) => /^https?:/.test(r.url));
  assert.ok(web.length > 10, `the browser made ${web.length} requests`);
  assert.deepEqual(web.filter((r) => r.refused || !r.url.startsWith(`${srv.origin}/`)).map((r) => r.url), [],
    'no request leaves the sub-path');
  assert.ok(srv.requests.length > 10);
  assert.deepEqual(srv.requests.filter((r) => !r.url.startsWith(prefix)).map((r) => r.url), [], 'the server saw only the sub-path');
  const served = new Set(srv.responses.map((r) => r.url));
  assert.deepEqual(srv.requests.filter((r) => !served.has(r.url)).map((r) => r.url), [], 'every request was answered 200');
  for (const file of ['index.html', 'pkg/brain_resnet_bg.wasm', 'models/index.json', 'demo/variants-quick.vcf']) {
    const url = file === 'index.html' ? prefix : `${prefix}${file}`;
    assert.ok(served.has(url), `${url} was served`);
  }
  const wasm = srv.responses.find((r) => r.url === `${prefix}pkg/brain_resnet_bg.wasm`);
  assert.equal(wasm.headers['content-type'], 'application/wasm');
  assert.deepEqual(consoleErrors, []);
});

test('a plain clone, with no ../shared beside it, builds the site (npm run build) and the release zip', { timeout: 20 * 60_000 }, () => {
  // What a clone holds, in a fresh directory whose parent has no `shared`: the files git knows
  // (tracked, as they are in this checkout, and new ones not ignored; no dist/, target/,
  // node_modules/). Copied from the work tree rather than cloned from HEAD because the Rust
  // build reuses this checkout's target/ (CARGO_TARGET_DIR): should cargo compile there, it
  // compiles this checkout's sources, so the binaries stay those of the work tree. The files
  // are dated back so that cargo takes the existing build as up to date and npm sees
  // node_modules (linked from this checkout) as current; wasm-opt is skipped: the test takes
  // seconds, not a fresh build's minutes. On a clean clone (CI) the copy is that clone.
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'br-plain-clone-'));
  try {
    const clone = path.join(parent, 'brain-resnet');
    const gitFiles = (...args) => execFileSync('git', ['ls-files', '-z', ...args], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 }).split('\0').filter(Boolean);
    // New files in hidden folders (a Python virtualenv, say) are nobody's build input.
    const listed = [...gitFiles('--cached'), ...gitFiles('--others', '--exclude-standard')
      .filter((f) => !f.split('/').slice(0, -1).some((dir) => dir.startsWith('.')))];
    const old = new Date('2001-01-01T00:00:00Z');
    for (const f of new Set(listed)) {
      const from = path.join(root, f);
      if (!fs.existsSync(from)) continue; // deleted in the work tree
      const to = path.join(clone, f);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      fs.cpSync(from, to, { verbatimSymlinks: true, preserveTimestamps: false });
    }
    (function backdate(dir) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) backdate(p);
        if (!e.isSymbolicLink()) fs.utimesSync(p, old, old);
      }
    })(clone);
    assert.ok(!fs.existsSync(path.join(parent, 'shared')) && !fs.existsSync(path.join(clone, 'dist')));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));
    const env = { ...process.env, CARGO_TARGET_DIR: process.env.CARGO_TARGET_DIR ?? path.join(root, 'target') };
    env.BRAIN_RESNET_WASM_OPT = '0';
    delete env.BRAIN_RESNET_FIXTURES;
    delete env.BRAIN_RESNET_NEED_BROWSER;
    const run = spawnSync('npm', ['run', '--silent', 'build'], { cwd: clone, env, encoding: 'utf8', timeout: 19 * 60_000 });
    const log = `${run.stdout}\n${run.stderr}`;
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'deploy-plain-clone-build.log'), log);
    assert.equal(run.status, 0, `npm run build failed in a plain clone:\n${log.slice(-3000)}`);
    assert.match(log, /no test fixtures at \.\.\/shared\/fixtures: the site ships without the fixture network/);
    const hint = log.split('\n').filter((l) => /^== deploy: /.test(l));
    assert.equal(hint.length, 1, 'one deploy hint line');
    assert.match(hint[0], /any static host, at any path.*docs\/DEPLOY\.md/);

    const d = path.join(clone, 'dist');
    for (const f of ['index.html', 'app.js', 'worker.js', 'pkg/brain_resnet.js', 'pkg/brain_resnet_bg.wasm', '_headers', '.htaccess']) {
      assert.ok(fs.statSync(path.join(d, f)).size > 0, `dist/${f}`);
    }
    // Only the shipped models (models/*/ with a model.json), none of the fixture networks.
    const shipped = fs.readdirSync(path.join(clone, 'models')).filter((id) => fs.existsSync(path.join(clone, 'models', id, 'model.json'))).sort();
    assert.ok(shipped.length > 0);
    const index = JSON.parse(fs.readFileSync(path.join(d, 'models/index.json'), 'utf8'));
    assert.deepEqual(index.models.map((m) => m.id).sort(), shipped);
    assert.ok(index.models.every((m) => m.random_weights === false));
    assert.deepEqual(fs.readdirSync(path.join(d, 'models')).filter((n) => n !== 'index.json').sort(), shipped);
    for (const m of index.models) assert.ok(fs.existsSync(path.join(d, 'models', m.path, 'weights.safetensors')), m.id);
    // The demo: its index and every file it names.
    const demo = JSON.parse(fs.readFileSync(path.join(d, 'demo/index.json'), 'utf8'));
    for (const f of [...Object.values(demo.files), demo.quick.vcf]) assert.ok(fs.statSync(path.join(d, 'demo', f)).size > 0, `dist/demo/${f}`);

    // The release zip: dist/'s contents, index.html at its top.
    const { version } = JSON.parse(fs.readFileSync(path.join(clone, 'package.json'), 'utf8'));
    const zip = path.join(clone, `brain-resnet-web-${version}.zip`);
    assert.ok(fs.existsSync(zip), `${path.basename(zip)} is made`);
    const names = JSON.parse(execFileSync('python3', ['-c', 'import json,sys,zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', zip], { encoding: 'utf8' }))
      .filter((n) => !n.endsWith('/'));
    for (const f of ['index.html', 'pkg/brain_resnet_bg.wasm', 'models/index.json', '_headers', '.htaccess', 'demo/index.json']) assert.ok(names.includes(f), `the zip holds ${f}`);
    const files = [];
    (function walk(dir) {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p); else files.push(path.relative(d, p));
      }
    })(d);
    assert.deepEqual(names.sort(), files.sort(), 'the zip holds exactly dist/');
    const inZip = execFileSync('python3', ['-c', 'import sys,zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("models/index.json").decode())', zip], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(inZip), index);
    // What the build leaves is ignored by git: dist/ and the zip.
    for (const f of ['dist/index.html', path.basename(zip)]) execFileSync('git', ['check-ignore', '--quiet', '--no-index', f], { cwd: root });
  } finally {
    fs.rmSync(parent, { recursive: true, force: true });
  }
});
