// The page's service worker: after one visit the page loads and scores with the network off.
// scripts/site-manifest.mjs writes the list of the site's files and a version (a hash of their
// contents) into the copy of this file in dist/, so a rebuilt site with any changed file is a
// changed service worker: the browser installs it on the next online visit, it caches the new
// files under a new name and removes the old caches. Model weights are not listed here: the page
// keeps each model's weights in its own cache (brain-resnet.js, keyed by their SHA-256) once
// loaded. Only this site's own files are cached or served: nothing else is fetched.
const SITE = /*__SITE__*/ { version: 'unbuilt', files: [] };
const CACHE = `brain-resnet-site-${SITE.version}`;
const PREFIX = 'brain-resnet-site-';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // Fresh from the server (not the HTTP cache), so the copies match this version.
    await cache.addAll(SITE.files.map((f) => new Request(new URL(f, self.registration.scope), { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // The page itself by its directory URL too (…/ is …/index.html).
    const url = new URL(req.url);
    url.search = '';
    if (url.pathname.endsWith('/')) url.pathname += 'index.html';
    const hit = await cache.match(url.href);
    return hit ?? fetch(req);
  })());
});

self.addEventListener('message', (event) => {
  if (event.data === 'version') event.source?.postMessage({ version: SITE.version });
});
