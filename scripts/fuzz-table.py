#!/usr/bin/env python3
"""Summarises fuzz/results/<target>.txt (libFuzzer's output with
-print_final_stats=1) as the markdown table of docs/RELIABILITY.md.

usage: python3 scripts/fuzz-table.py [TARGET...]   (default: every result)
"""
import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz")
results = os.path.join(root, "results")
targets = sys.argv[1:] or sorted(f[:-4] for f in os.listdir(results) if f.endswith(".txt"))
print("| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes | peak RSS (MiB) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for t in targets:
    text = open(os.path.join(results, t + ".txt"), errors="replace").read()
    stat = dict(re.findall(r"stat::(\w+):\s+(\d+)", text))
    progress = re.findall(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)", text)
    last = progress[-1] if progress else ("?", "?", "?", "?")
    artifacts = os.path.join(root, "artifacts", t)
    crashes = len(os.listdir(artifacts)) if os.path.isdir(artifacts) else 0
    crashed = "ERROR: libFuzzer" in text or "ERROR: AddressSanitizer" in text or "panicked at" in text
    if crashed and crashes == 0:
        crashes = 1
    runs = int(stat.get("number_of_executed_units", 0))
    rate = int(stat.get("average_exec_per_sec", 0))
    seconds = round(runs / rate) if rate else "?"
    print(
        f"| `{t}` | {seconds} | {runs:,} | {rate:,} | {last[1]} | {last[2]} | {last[3]} | {crashes} | {stat.get('peak_rss_mb', '?')} |"
    )
