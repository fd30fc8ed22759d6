#!/usr/bin/env bash
# The demo, until the browser app lands: builds the CLI, converts the fixture
# checkpoint (random weights of the MetaChrom shape, from ../shared/fixtures)
# into our int8 web format under target/demo-model, shows it, and predicts the
# fixture sequences. Nothing is fetched from the network.
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${BRAIN_RESNET_FIXTURES:-../shared/fixtures}
cargo build --release --locked
bin=target/release/brain-resnet
$bin convert "$fixtures/model/metachrom-mini.pth" --labels "$fixtures/model/labels.txt" \
  --out target/demo-model --dtype int8 --name metachrom-mini-random \
  --description "Fixture network with RANDOM weights: for testing only, not biology"
$bin info --model target/demo-model
echo
echo "== predictions for $fixtures/sequences.fa (first 5 profiles)"
$bin predict --model target/demo-model "$fixtures/sequences.fa" | cut -f1-6 | column -t
