#!/usr/bin/env bash
# Installs Snakemake (pinned) into .venv-workflow for workflow/ and its test, only when missing
# or at another version. Sourced by scripts/setup.sh; runs on its own too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SNAKEMAKE_VERSION=9.27.1
venv=.venv-workflow
if [ ! -x "$venv/bin/snakemake" ] || [ "$("$venv/bin/snakemake" --version 2>/dev/null)" != "$SNAKEMAKE_VERSION" ]; then
  printf '== installing snakemake %s into %s\n' "$SNAKEMAKE_VERSION" "$venv" >&2
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
    # Debian's python3 ships venv/ensurepip apart.
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "snakemake==$SNAKEMAKE_VERSION"
fi
