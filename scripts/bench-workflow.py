#!/usr/bin/env python3
"""Records/s of the Snakemake workflow against one plain `brain-resnet score` (docs/SCALE.md).

Generates N SNVs at random positions on the fixture genome (bgzip + tabix, by
`brain-resnet concat`), then times, on the same input and model:
  plain score, RAYON_NUM_THREADS=1 and 2 (the whole VCF, one process);
  the workflow, `snakemake --cores 1` (shards one after another, 1 thread each) and
  `--cores 2` (two shards at a time, 1 thread each): plan + shards + merge + report.
Prints a Markdown table. The workflow's overhead = its seconds / plain seconds at equal cores.

Usage: python3 scripts/bench-workflow.py --bin target/release/brain-resnet \
         [--records 20000] [--shard-records 2500] [--model DIR | --full-size]
(--full-size: a full-size network with random weights, `brain-resnet random-model`, f32.)
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "workflow"))
from test_workflow import FIXTURES, genome  # noqa: E402  (the fixture genome's sequences)

SNAKEMAKE = os.path.join(ROOT, ".venv-workflow", "bin", "snakemake")


def run(cmd, env=None, cwd=None):
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if p.returncode not in (0,):
        sys.exit(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-4000:]}")
    return time.time() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--shard-records", type=int, default=2500)
    ap.add_argument("--model")
    ap.add_argument("--full-size", action="store_true")
    a = ap.parse_args()
    br = os.path.abspath(a.bin)
    tmp = tempfile.mkdtemp(prefix="br-bench-workflow-")
    try:
        model = a.model
        labels = os.path.join(FIXTURES, "model", "labels.txt")
        if a.full_size:
            model = os.path.join(tmp, "full")
            run([br, "random-model", "--out", model, "--dtype", "f32", "--labels", labels])
        elif not model:
            model = os.path.join(tmp, "mini")
            run([br, "convert", os.path.join(FIXTURES, "model", "metachrom-mini-legacy.pth"),
                 "--labels", labels, "--out", model])
        g = genome()
        rng = random.Random(1)
        total = sum(len(s) for s in g.values())
        recs = []
        for name, seq in g.items():
            k = round(a.records * len(seq) / total)
            for pos in sorted(rng.randint(1, len(seq)) for _ in range(k)):
                base = seq[pos - 1].upper()
                recs.append(f"{name}\t{pos}\t.\t{base}\t{'A' if base != 'A' else 'G'}\t.\t.\t.")
        vcf = os.path.join(tmp, "v.vcf")
        with open(vcf, "w") as f:
            f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
            f.write("\n".join(recs) + "\n")
        gz = vcf + ".gz"
        run([br, "concat", "--out", gz, vcf])
        n = len(recs)
        genome_fa = os.path.join(FIXTURES, "genome", "genome.fa")
        rows = []
        for threads in (1, 2):
            env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
            s = run([br, "score", "--model", model, "--genome", genome_fa, "--vcf", gz,
                     "--backend", "cpu", "--format", "vcf", "--out", os.path.join(tmp, "plain.vcf.gz"),
                     "--tsv-out", os.path.join(tmp, "plain.tsv.gz")], env=env)
            rows.append((f"plain `score`, {threads} thread(s)", threads, s))
        for cores in (1, 2):
            out = os.path.join(tmp, f"wf{cores}")
            config = os.path.join(tmp, f"config{cores}.yaml")
            with open(config, "w") as f:
                f.write(f"vcfs:\n  v: {gz}\ngenome: {genome_fa}\nmodel: {model}\nbrain_resnet: {br}\n"
                        f"out: {out}\nshard_records: {a.shard_records}\nbackend: cpu\nthreads: 1\n")
            s = run([SNAKEMAKE, "-s", os.path.join(ROOT, "workflow", "Snakefile"), "--configfile",
                     config, "--cores", str(cores), "--directory", tmp, "-q"])
            shards = len([f for f in os.listdir(os.path.join(out, "v", "shards")) if f.endswith(".bed")])
            rows.append((f"workflow, `--cores {cores}` ({shards} shards, 1 thread each)", cores, s))
        print(f"{n} records (SNVs), model {'full-size random f32' if a.full_size else model}\n")
        print("| run | cores | seconds | records/s |")
        print("|---|---|---|---|")
        for what, cores, s in rows:
            print(f"| {what} | {cores} | {s:.1f} | {n / s:.0f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
