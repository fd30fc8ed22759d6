#!/usr/bin/env python3
"""The Snakemake workflow, run locally (issue 20): `snakemake --cores 2` on a generated VCF
over the fixture genome, cut into several shards; the merged VCF and TSV must equal one
`brain-resnet score` of the whole VCF, row for row (scores to f32 rounding: a shard starts
its own batches of windows); a shard made to fail once must be retried; the report must
list the records that could not be scored. Fails loudly (exit 1, the first difference).

Usage: python3 tests/workflow/test_workflow.py   (from anywhere; needs .venv-workflow from
scripts/setup-workflow.sh, the fixtures, and cargo to build the binary if it is missing)
Environment: BRAIN_RESNET_FIXTURES (default ../shared/fixtures), CARGO_TARGET_DIR,
BRAIN_RESNET_BIN (a built binary), KEEP=1 (keep the temporary directory).
"""

import gzip
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.abspath(
    os.environ.get("BRAIN_RESNET_FIXTURES", os.path.join(ROOT, "..", "shared", "fixtures"))
)
SNAKEMAKE = os.path.join(ROOT, ".venv-workflow", "bin", "snakemake")
# Largest difference between numbers of one record in two runs (f32 rounding of
# differently composed batches; measured under 1e-6). Anything else must be equal.
ROUNDING = 1e-5


def fail(msg):
    print(f"test_workflow: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-5000:]}")
    return p


def binary():
    if os.environ.get("BRAIN_RESNET_BIN"):
        return os.path.abspath(os.environ["BRAIN_RESNET_BIN"])
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    run(["cargo", "build", "--locked", "--quiet", "--bin", "brain-resnet"], cwd=ROOT)
    return os.path.join(os.path.abspath(target), "debug", "brain-resnet")


def genome():
    seqs, name = {}, None
    with open(os.path.join(FIXTURES, "genome", "genome.fa")) as f:
        for line in f:
            if line.startswith(">"):
                name = line[1:].split()[0]
                seqs[name] = []
            else:
                seqs[name].append(line.strip())
    return {n: "".join(s) for n, s in seqs.items()}


def generated_vcf(path, step):
    """Sorted records over the fixture genome: SNVs, deletions, multi-ALTs, a symbolic ALT,
    a line that is not a record, and one record on a contig the genome lacks."""
    rng = random.Random(20)
    g = genome()
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={n},length={len(s)}>" for n, s in g.items()]
    lines.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    n = 0
    for name, seq in g.items():
        pos = 40
        while pos < len(seq) - 40:
            n += 1
            base = seq[pos - 1].upper()
            alts = [b for b in "ACGT" if b != base]
            ref, alt = base, rng.choice(alts)
            # Deletions (a 3-base REF) with the next record inside them: a shard boundary
            # must not fall between the two. Records 90, 180, ... are such deletions: with
            # shard_records 90 a planner that cut by count alone would cut there.
            deletion = n % 11 == 0 or n % 90 == 0
            if deletion:
                ref, alt = seq[pos - 1 : pos + 2].upper(), base
            elif n % 7 == 0:
                alt = ",".join(rng.sample(alts, 2))
            elif n % 97 == 0:
                alt = "<DEL>"
            lines.append(f"{name}\t{pos}\tv{n}\t{ref}\t{alt}\t.\t.\t.")
            if n == 150:
                lines.append(f"{name}\tnot_a_position\tbad1\tA\tG\t.\t.\t.")
            # Now and then two records at one position.
            pos += 1 if deletion else 0 if n % 53 == 0 else rng.randint(5, 2 * step)
    lines.append("chrUn\t100\tunknown1\tA\tG\t.\t.\t.")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return n + 1


def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return f.read()


def cells(line):
    for sep in (";", ",", "="):
        line = line.replace(sep, "\t")
    return line.split("\t")


def close(x, y):
    if x == y:
        return True
    try:
        a, b = float(x), float(y)
    except ValueError:
        return False
    return abs(a - b) <= ROUNDING * max(1.0, abs(a))


def compare(got, want, what):
    """None if the texts are the same line for line (numbers to ROUNDING), else why not."""
    g, w = got.splitlines(), want.splitlines()
    for i, (a, b) in enumerate(zip(g, w), 1):
        ca, cb = cells(a), cells(b)
        if len(ca) != len(cb) or not all(close(x, y) for x, y in zip(ca, cb)):
            return f"{what}: line {i} differs:\n  got  {a[:200]}\n  want {b[:200]}"
    if len(g) != len(w):
        return f"{what}: {len(g)} lines, want {len(w)}"
    return None


def main():
    if not os.path.exists(os.path.join(FIXTURES, "model", "metachrom-mini-legacy.pth")):
        fail(f"no fixtures at {FIXTURES} (set BRAIN_RESNET_FIXTURES)")
    if not os.access(SNAKEMAKE, os.X_OK):
        fail(f"no {SNAKEMAKE}: run `bash scripts/setup-workflow.sh`")
    started = time.time()
    br = binary()
    tmp = tempfile.mkdtemp(prefix="br-workflow-")
    try:
        model = os.path.join(tmp, "model")
        run([br, "convert", os.path.join(FIXTURES, "model", "metachrom-mini-legacy.pth"),
             "--labels", os.path.join(FIXTURES, "model", "labels.txt"), "--out", model])
        vcf = os.path.join(tmp, "variants.vcf")
        n = generated_vcf(vcf, 60)
        annotations = os.path.join(tmp, "annotations.tsv")
        rng = random.Random(7)
        with open(annotations, "w") as f:
            f.write("id\tlabel\n")
            for i in range(1, n):
                f.write(f"v{i}\t{int(rng.random() < 0.3)}\n")
        genome_fa = os.path.join(FIXTURES, "genome", "genome.fa")
        out = os.path.join(tmp, "results")
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(
                f"vcfs:\n  gen: {vcf}\n"
                f"genome: {genome_fa}\nmodel: {model}\nbrain_resnet: {br}\nout: {out}\n"
                "shard_records: 90\nbackend: cpu\nthreads: 1\nbatch: 32\n"
                "scores: abs_diff,log_ratio\nrc: none\nretries: 2\n"
                f"analyze:\n  annotations: {annotations}\n  profiles: [Glut]\n"
                "test_fail_once: shard-0002\n"
            )
        p = run([SNAKEMAKE, "-s", os.path.join(ROOT, "workflow", "Snakefile"),
                 "--configfile", config, "--cores", "2", "--directory", tmp,
                 "--profile", os.path.join(ROOT, "workflow", "profiles", "local")])
        log = p.stdout + p.stderr

        # Several shards, the injected failure retried.
        shards = sorted(f for f in os.listdir(os.path.join(out, "gen", "shards")) if f.endswith(".bed"))
        if len(shards) < 4:
            fail(f"{len(shards)} shards, expected several (about {n // 90})")
        if not os.path.exists(os.path.join(out, "gen", "scored", "shard-0002.failed-once")):
            fail("the injected failure of shard-0002 did not happen")
        if "Error in rule score_shard" not in log or "shard-0002" not in log:
            fail(f"snakemake's log does not show shard-0002 failing and being retried:\n{log[-3000:]}")

        # The merged outputs equal one score run of the whole VCF, row for row.
        single_tsv = os.path.join(tmp, "single.tsv")
        single_vcf = os.path.join(tmp, "single.vcf")
        for fmt, dest in (("tsv", single_tsv), ("vcf", single_vcf)):
            run([br, "score", "--model", model, "--genome", genome_fa, "--vcf", vcf,
                 "--backend", "cpu", "--batch", "32", "--format", fmt, "--out", dest])
        # A line that is not a VCF record has no place in a region: the workflow's outputs
        # leave it out (the report lists it); one run writes it with status invalid_record.
        want_tsv = "".join(l for l in read_text(single_tsv).splitlines(True) if "\tinvalid_record" not in l)
        want_vcf = "".join(l for l in read_text(single_vcf).splitlines(True) if "BR_status=invalid_record" not in l)
        got_tsv = read_text(os.path.join(out, "gen.scores.tsv.gz"))
        got_vcf = read_text(os.path.join(out, "gen.scores.vcf.gz"))
        for got, want, what in ((got_tsv, want_tsv, "merged TSV"), (got_vcf, want_vcf, "merged VCF")):
            why = compare(got, want, what)
            if why:
                fail(why)
        if len(want_tsv.splitlines()) < n:
            fail(f"the single run has {len(want_tsv.splitlines())} rows for {n} records")
        # The comparison can fail: a changed score, a dropped row.
        broken = got_tsv.replace("\tok\t0.", "\tok\t1.", 1)
        if compare(broken, want_tsv, "x") is None or compare(got_tsv[: got_tsv.rindex("\n", 0, -1)], want_tsv, "x") is None:
            fail("the comparison does not notice a changed score or a missing row")
        for idx in ("gen.scores.vcf.gz.tbi", "gen.scores.tsv.gz.tbi"):
            if not os.path.getsize(os.path.join(out, idx)):
                fail(f"no index {idx}")
        # The merged VCF's index answers a region query.
        q = run([br, "score", "--model", model, "--genome", genome_fa, "--vcf",
                 os.path.join(out, "gen.scores.vcf.gz"), "--region", "chr2:1-1000"])
        want_rows = [l for l in want_tsv.splitlines()[1:] if l.startswith("chr2\t") and int(l.split("\t")[1]) <= 1000]
        got_rows = q.stdout.splitlines()[1:]
        if [r.split("\t")[:6] for r in got_rows] != [r.split("\t")[:6] for r in want_rows] or not want_rows:
            fail(f"region query of the merged VCF: {len(got_rows)} rows, want {len(want_rows)}")

        # The report lists what could not be scored.
        report = read_text(os.path.join(out, "gen.report.txt"))
        unscored = read_text(os.path.join(out, "gen.unscored.tsv"))
        for needle in ("unknown1", "status unknown_contig", "status symbolic_allele",
                       "bad1", "not a VCF record"):
            if needle not in unscored or needle not in report:
                fail(f"the report does not list `{needle}`:\n{report[:3000]}")
        if "missing from the merged output" in report or "ERROR" in report:
            fail(f"the report says records were lost:\n{report[:3000]}")
        analyze = read_text(os.path.join(out, "gen.analyze.Glut.json"))
        if '"profile"' not in analyze:
            fail(f"analyze wrote no report: {analyze[:500]}")
        print(f"test_workflow: ok ({n} records, {len(shards)} shards, merged == one run, "
              f"shard-0002 retried, {len(unscored.splitlines()) - 1} unscored listed; "
              f"{time.time() - started:.0f} s)")
    finally:
        if os.environ.get("KEEP") == "1":
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
