#!/usr/bin/env bash
# Runs every test of the project on a fresh machine of our kind (Debian 12, Rust
# by rustup): installs what is missing, then the Rust tests against
# ../shared/fixtures and the wasm32 (SIMD128) build of the library.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "installing the rust wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo test (fixtures from ${BRAIN_RESNET_FIXTURES:-../shared/fixtures})"
cargo test --locked

step "library for wasm32-unknown-unknown with SIMD128 (.cargo/config.toml)"
cargo build --locked --lib --target wasm32-unknown-unknown --no-default-features --release

step "all tests passed"
