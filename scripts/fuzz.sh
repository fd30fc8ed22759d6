#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser and loader (cargo-fuzz + libFuzzer),
# separate from the test command: it needs the nightly toolchain and takes
# SECONDS per target (default 600). Built with debug assertions, so integer
# overflow is a crash, and without a sanitizer: the parsers are safe Rust
# (no `unsafe` in src/ outside the wasm layer) and AddressSanitizer cut the
# execution rate three- to tenfold.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]     # default: every target
#
# Seeds: fuzz/seeds.py (small on purpose: fixtures' text files and indexes,
# small torch.save checkpoints, a converted tiny network, a scores TSV). Each run is capped at 2 GiB RSS and 2 GiB per
# allocation; crashes land in fuzz/artifacts/<target>/ and the per-target
# figures in fuzz/results/<target>.txt (summarised by scripts/fuzz-table.py
# into the table of docs/RELIABILITY.md). Two targets run at a time.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-600}
shift || true
# The toolchain this was last run with (docs/RELIABILITY.md); any nightly with
# -Zsanitizer works, a different one is reported.
PINNED_NIGHTLY="rustc 1.97.0-nightly (e50aa6fba 2026-05-19)"
have=$(rustc +nightly --version)
[[ "$have" == "$PINNED_NIGHTLY" ]] || echo "note: nightly is '$have', the figures in docs were made with '$PINNED_NIGHTLY'" >&2
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --version 0.13.2 --locked
FIXTURES=${BRAIN_RESNET_FIXTURES:-../shared/fixtures}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || mapfile -t TARGETS < <(cargo +nightly fuzz list)

# Seeds (fuzz/seeds.py): a tiny complete network, converted by the CLI into
# model.json + weights in each dtype, and a scores TSV the CLI wrote with it.
cargo build --locked --bin brain-resnet
cli=target/debug/brain-resnet
seeds=$(mktemp -d)
python3 fuzz/seeds.py --small-checkpoint "$seeds/small.pth"
for dtype in f32 f16 int8; do
  "$cli" convert "$seeds/small.pth" --labels "$FIXTURES/model/labels.txt" \
    --dtype "$dtype" --out "$seeds/small-$dtype" >/dev/null
done
"$cli" score --model "$seeds/small-f32" --genome "$FIXTURES/genome/genome.fa" \
  --vcf "$FIXTURES/variants.vcf" --scores abs_diff,log_ratio > "$seeds/scores.tsv" 2>/dev/null
rm -rf fuzz/corpus
python3 fuzz/seeds.py "$FIXTURES" "$seeds"/small-* models/demo-motif-grammar "$seeds/scores.tsv"

cargo +nightly fuzz build -O --sanitizer none --debug-assertions
mkdir -p fuzz/results
run_one() {
  local t=$1
  rm -rf "fuzz/artifacts/$t" && mkdir -p "fuzz/artifacts/$t"   # this run's findings only
  # -max_len 320 KiB: room for every seed (the zip bomb is 294 KiB); -timeout: a hang is a finding.
  cargo +nightly fuzz run -O --sanitizer none --debug-assertions "$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -max_len=327680 -timeout=20 -print_final_stats=1 \
    > "fuzz/results/$t.txt" 2>&1 || echo "FAILED: $t (see fuzz/results/$t.txt)" >&2
}
pids=()
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [[ ${#pids[@]} -ge 2 ]]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
python3 scripts/fuzz-table.py "${TARGETS[@]}"
