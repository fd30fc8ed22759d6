// Assembles the npm package of the JavaScript API (no model inside) from dist/ and www/package/
// into target/npm-package/, then packs it: `npm pack` there gives brain-resnet-web-<version>.tgz.
//   node scripts/npm-package.mjs [--pack]
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const out = path.join(root, 'target/npm-package');
if (!fs.existsSync(path.join(dist, 'pkg/brain_resnet_bg.wasm'))) throw new Error('dist/ is not built: run bash scripts/build-web.sh');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'pkg'), { recursive: true });
for (const f of fs.readdirSync(path.join(root, 'www/package'))) fs.copyFileSync(path.join(root, 'www/package', f), path.join(out, f));
const manifest = JSON.parse(fs.readFileSync(path.join(out, 'package.json'), 'utf8'));
for (const f of manifest.files) {
  const from = path.join(dist, f);
  if (!fs.existsSync(path.join(out, f))) {
    if (!fs.existsSync(from)) throw new Error(`${f}: listed in www/package/package.json, missing from dist/`);
    fs.copyFileSync(from, path.join(out, f));
  }
}
// Every module the API imports must be in the package.
for (const f of manifest.files.filter((x) => x.endsWith('.js'))) {
  for (const [, dep] of fs.readFileSync(path.join(out, f), 'utf8').matchAll(/from '\.\/([^']+)'/g)) {
    const file = path.posix.join(path.posix.dirname(f), dep);
    if (!manifest.files.includes(file)) throw new Error(`${f} imports ./${dep}, which the package does not list`);
  }
}
console.log(`npm package: ${out}`);
if (process.argv.includes('--pack')) {
  const tgz = execFileSync('npm', ['pack', '--pack-destination', path.join(root, 'target')], { cwd: out, encoding: 'utf8' }).trim().split('\n').pop();
  console.log(`packed: target/${tgz}`);
}
