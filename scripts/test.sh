#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of our kind (Debian 12, Rust by
# rustup, Node): installs what is missing (scripts/setup.sh), then the Rust tests on
# ../shared/fixtures, the wasm32 + SIMD128 build, the Snakemake workflow run locally
# (tests/workflow), and the browser tests in headless Chromium (which include the
# 100,000-variant page benchmark).
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${BRAIN_RESNET_FIXTURES:-../shared/fixtures}
if [ ! -f "$fixtures/model/metachrom-mini-legacy.pth" ]; then
  echo "scripts/test.sh: no test fixtures at $fixtures: the tests need ../shared beside this clone (or BRAIN_RESNET_FIXTURES). Building and serving the app does not: bash scripts/demo.sh" >&2
  exit 2
fi
export BRAIN_RESNET_NEED_BROWSER=1
source scripts/setup.sh
# The GPU tests must run (on Mesa's lavapipe when there is no GPU), not skip.
export BRAIN_RESNET_REQUIRE_GPU=1
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-$(mktemp -d)}

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "module graph: no import cycle"
python3 scripts/check-module-cycles.py

step "cargo clippy -D warnings (native, all targets; wasm32 library)"
cargo clippy --locked --all-targets -- -D warnings
cargo clippy --locked --lib --target wasm32-unknown-unknown --no-default-features --features gpu -- -D warnings

step "cargo test (fixtures from ${BRAIN_RESNET_FIXTURES:-../shared/fixtures})"
cargo test --locked

step "web build: wasm32 + SIMD128 library, wasm-bindgen, wasm-opt, models, demo (dist/)"
bash scripts/build-web.sh

step "workflow: Snakemake locally on shards of a generated VCF, merged == one score run (tests/workflow/test_workflow.py)"
python3 tests/workflow/test_workflow.py

step "browser tests (Chromium by playwright-core; engines.test.mjs: Firefox ESR by puppeteer-core over BiDi, WebKitGTK by selenium-webdriver under xvfb-run)"
node --test --test-concurrency=1 tests/browser/

step "all tests passed"
