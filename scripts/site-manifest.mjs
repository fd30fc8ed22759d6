// Writes dist/sw.js from www/sw.js with the site's files and a version: the SHA-256 of their
// names and contents. Every file of dist/ is listed except model weights (the page caches the
// weights of each model it loads), the host's header file and the service worker itself.
//   node scripts/site-manifest.mjs [dist]
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

const dist = path.resolve(process.argv[2] ?? 'dist');
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else files.push(path.relative(dist, p).split(path.sep).join('/'));
  }
})(dist);
const listed = files.filter((f) => !/(^|\/)weights\.[^/]+$/.test(f) && !['_headers', 'sw.js'].includes(f)
  && !/\.(zip|conf|htaccess)$/.test(f)).sort();
const hash = crypto.createHash('sha256');
for (const f of listed) hash.update(f).update('\0').update(fs.readFileSync(path.join(dist, f))).update('\0');
const version = hash.digest('hex').slice(0, 16);
const template = fs.readFileSync(path.join(dist, 'sw.js'), 'utf8');
const marker = /\/\*__SITE__\*\/ \{[^\n]*\};/;
if (!marker.test(template)) throw new Error('dist/sw.js: the /*__SITE__*/ line is missing (copy www/sw.js first)');
fs.writeFileSync(path.join(dist, 'sw.js'), template.replace(marker, `/*__SITE__*/ ${JSON.stringify({ version, files: listed })};`));
console.log(`service worker: ${listed.length} files, version ${version}`);
