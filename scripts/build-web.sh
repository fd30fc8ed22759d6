#!/usr/bin/env bash
# Builds the static site into dist/: the page (www/), the WebAssembly module
# (wasm-bindgen + wasm-opt), the models (converted from checkpoints by our own
# CLI) with models/index.json, and the demo files. Serve dist/ from any static host,
# at any path (docs/DEPLOY.md). A plain clone builds: the test fixture network is added
# only when the fixtures (../shared/fixtures, or $BRAIN_RESNET_FIXTURES) are there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
fixtures=${BRAIN_RESNET_FIXTURES:-../shared/fixtures}
say() { printf '== %s\n' "$*" >&2; }
target=${CARGO_TARGET_DIR:-target}

say "building the CLI and the wasm32 (SIMD128) library"
cargo build --release --locked
cargo build --release --locked --lib --target wasm32-unknown-unknown --no-default-features --features gpu

rm -rf dist
mkdir -p dist/pkg dist/models dist/demo dist/vendor
cp -r www/. dist/
rm -rf dist/package # the npm package's sources (scripts/npm-package.mjs), not the site's
# Apache reads the site's headers from .htaccess (where AllowOverride lets it); nginx's
# snippet (deploy/nginx.conf) goes in the server's configuration instead.
cp deploy/apache.htaccess dist/.htaccess
# Vendored plotting (Observable Plot + d3, ISC licences): served from this site, never a CDN.
cp node_modules/d3/dist/d3.min.js node_modules/@observablehq/plot/dist/plot.umd.min.js dist/vendor/
cp node_modules/d3/LICENSE dist/vendor/d3.LICENSE
cp node_modules/@observablehq/plot/LICENSE dist/vendor/plot.LICENSE
wasm-bindgen --target web --no-typescript --out-dir dist/pkg \
  "$target/wasm32-unknown-unknown/release/brain_resnet.wasm"
# BRAIN_RESNET_WASM_OPT=0 leaves the module as wasm-bindgen wrote it (the plain-clone test,
# which checks the build's files, not their speed, saves wasm-opt's minute).
if [ "${BRAIN_RESNET_WASM_OPT:-1}" = 0 ]; then
  say "wasm: $(stat -c %s dist/pkg/brain_resnet_bg.wasm) bytes, wasm-opt skipped (BRAIN_RESNET_WASM_OPT=0)"
else
  node_modules/.bin/wasm-opt -O3 dist/pkg/brain_resnet_bg.wasm -o dist/pkg/brain_resnet_bg.wasm
  say "wasm: $(stat -c %s dist/pkg/brain_resnet_bg.wasm) bytes after wasm-opt -O3"
fi

# Models: the shipped ones (models/*/, converted by our own CLI and committed; the page
# opens on the first), then, when the fixtures are there, the test fixture network (random
# weights), converted here as a user converts a checkpoint and labelled as such.
cli=$target/release/brain-resnet
entries=()
# The demo model first: the page opens on it.
for manifest in models/demo-motif-grammar/model.json $(ls models/*/model.json | grep -v "^models/demo-motif-grammar/"); do
  [ -e "$manifest" ] || continue
  dir=$(dirname "$manifest"); id=$(basename "$dir")
  cp -r "$dir" "dist/models/$id"
  entries+=("$(python3 -c 'import json,os,sys; m=json.load(open(sys.argv[1])); print(json.dumps({"id": sys.argv[2], "name": m["name"], "dtype": m["weights"]["dtype"], "bytes": m["weights"]["bytes"], "random_weights": False, "path": sys.argv[2] + "/", "description": m["description"], **({"card": sys.argv[2] + "/README.md"} if os.path.exists(os.path.join(os.path.dirname(sys.argv[1]), "README.md")) else {})}))' "$manifest" "$id")")
done
fixture_dtypes=(f32 int8)
if [ ! -f "$fixtures/model/metachrom-mini-legacy.pth" ]; then
  say "no test fixtures at $fixtures: the site ships without the fixture network (random weights)"
  fixture_dtypes=()
fi
for dtype in ${fixture_dtypes[@]+"${fixture_dtypes[@]}"}; do
  id="fixture-mini-random-$dtype"
  $cli convert "$fixtures/model/metachrom-mini-legacy.pth" --labels "$fixtures/model/labels.txt" \
    --out "dist/models/$id" --dtype "$dtype" --name "$id" \
    --description "Test fixture with RANDOM weights: for trying the page only, its scores mean nothing biologically." 2>/dev/null
  bytes=$(stat -c %s "dist/models/$id/weights.safetensors")
  entries+=("{\"id\": \"$id\", \"name\": \"$id\", \"dtype\": \"$dtype\", \"bytes\": $bytes, \"random_weights\": true, \"path\": \"$id/\", \"description\": \"Test fixture network with random weights: for trying the page only; its scores mean nothing biologically.\"}")
done
( IFS=,; echo "{\"models\": [${entries[*]}]}" ) > dist/models/index.json

# Demo inputs (www/demo/, copied above): the synthetic genome (bgzip + .fai + .gzi), VCF,
# ground-truth annotations; made by training/demo_data.py --bgzip.
chmod -R u+w dist
# The service worker's list of the site's files and its version (a hash of their contents).
node scripts/site-manifest.mjs dist
say "built dist/ ($(du -sh dist | cut -f1))"
say "deploy: copy dist/ (or npm run build's zip) to any static host, at any path; headers: dist/_headers, deploy/nginx.conf, deploy/apache.htaccess; see docs/DEPLOY.md"
