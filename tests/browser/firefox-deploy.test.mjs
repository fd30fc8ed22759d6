// Firefox ESR (issue 16): the page under a sub-path of a static host, and offline after one visit
// (its service worker), as tests/browser/deploy.test.mjs and offline.test.mjs check in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchFirefox } from './harness.mjs';

const prefix = '/lab/tools/brain-resnet/';
let srv, d;

before(async () => {
  srv = await startServer({ prefix });
  d = await launchFirefox();
  await d.goto(`${srv.origin}/`);
  await d.waitFor(() => document.getElementById('model-status').dataset.ready === 'true' || !!document.querySelector('#messages .error'),
    null, { timeout: 180_000, what: 'the model' });
});
after(async () => { await d?.close(); srv?.server.close(); });

const quickDemo = async () => {
  await d.evaluate(() => { document.getElementById('results-section').dataset.ready = ''; document.getElementById('messages').replaceChildren(); });
  await d.click('#quick-demo-button');
  await d.waitFor(() => document.getElementById('results-section').dataset.ready === 'true' || !!document.querySelector('#messages .error'),
    null, { timeout: 300_000, what: 'the quick demo' });
  assert.deepEqual(await d.evaluate(() => [...document.querySelectorAll('#messages .error')].map((e) => e.textContent)), []);
  assert.match(await d.evaluate(() => document.getElementById('summary').textContent), /Scored 300 of 300 alleles/);
};

test('Firefox: under a sub-path the quick demo runs, and every request stays under it and is answered', { timeout: 10 * 60_000 }, async () => {
  await quickDemo();
  const outside = srv.requests.filter((r) => !r.url.startsWith(prefix));
  assert.deepEqual(outside, []);
  const answered = new Set(srv.responses.map((r) => r.url));
  const unanswered = srv.requests.filter((r) => !answered.has(r.url) && r.url !== `${prefix}favicon.ico`);
  assert.deepEqual(unanswered, []);
});

test('Firefox: after one visit, with the server gone, the page reloads from its service worker and runs the demo', { timeout: 10 * 60_000 }, async () => {
  await d.waitFor(() => document.getElementById('offline-status').dataset.ready === 'true', null, { timeout: 120_000, what: 'the service worker' });
  const url = `${srv.origin}/`;
  srv.server.closeAllConnections();
  await new Promise((r) => srv.server.close(r));
  const seen = srv.requests.length;
  await d.goto(url);
  await d.waitFor(() => document.getElementById('model-status').dataset.ready === 'true' || !!document.querySelector('#messages .error'),
    null, { timeout: 180_000, what: 'the model, offline' });
  assert.match(await d.evaluate(() => document.getElementById('model-status').textContent), /weights from the browser cache/);
  await quickDemo();
  assert.equal(srv.requests.length, seen, 'nothing reached the server');
});
