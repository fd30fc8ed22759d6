#!/usr/bin/env bash
# Installs what a fresh machine of our kind lacks, only where it is missing:
# the rust wasm32 target, wasm-bindgen-cli at the crate's version, node packages
# (binaryen's wasm-opt, playwright-core, puppeteer-core, selenium-webdriver), Debian's
# chromium, firefox-esr, webkit2gtk-driver with xvfb, Mesa's Vulkan drivers, and Snakemake
# in .venv-workflow (scripts/setup-workflow.sh).
# Sourced by the README's two commands.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '== %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "installing the rust wasm32 target"
  rustup target add wasm32-unknown-unknown
fi

wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$wb_version" ]; then
  say "installing wasm-bindgen-cli $wb_version (a few minutes)"
  cargo install wasm-bindgen-cli --version "$wb_version"
fi

# npm writes node_modules/.package-lock.json: older than package-lock.json means new packages.
if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -f node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node packages"
  npm ci --no-audit --no-fund
fi

# Snakemake (pinned) in .venv-workflow, for workflow/ and its test.
bash scripts/setup-workflow.sh

if [ "${BRAIN_RESNET_NEED_BROWSER:-0}" = 1 ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The other engines of tests/browser/engines.test.mjs: Firefox ESR (WebDriver BiDi) and
  # WebKitGTK's WebKitWebDriver + MiniBrowser, which needs a display (xvfb-run).
  [ -x /usr/bin/firefox-esr ] || missing+=(firefox-esr)
  [ -x /usr/bin/WebKitWebDriver ] || missing+=(webkit2gtk-driver)
  command -v xvfb-run >/dev/null || missing+=(xvfb)
  dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers libvulkan1)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} (Debian)"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
