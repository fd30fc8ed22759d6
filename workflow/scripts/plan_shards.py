#!/usr/bin/env python3
"""Splits a sorted VCF into shards of about N records each, by region.

Writes OUT/shard-0001.bed, ... (BED: chrom, 0-based start, end), whose regions together
hold every record once: a shard boundary is placed only before a record that no earlier
record's REF reaches, so each record's REF overlaps exactly one shard's region (the rule
`brain-resnet score --regions` keeps records by). Shards are numbered in file order, so
concatenating their outputs in number order gives the input order.

Also writes OUT/plan.tsv (shard, records, regions) and OUT/unplaced.tsv: the data lines
that are not VCF records (fewer than 5 columns, POS not a whole number >= 1, CHROM or REF
empty; the rule of the CLI's VCF reader), which no region can hold: the run's report lists
them as not scored.

Usage: plan_shards.py VCF(.gz) RECORDS_PER_SHARD OUT_DIR
"""

import os
import sys

from vcf_text import open_text


def record_span(cols):
    """(chrom, pos, ref_end) of a data line's columns (1-based, inclusive), or a reason."""
    if len(cols) < 5:
        return f"{len(cols)} tab-separated columns, need at least 5 (CHROM POS ID REF ALT)"
    pos = cols[1]
    if not (pos.isascii() and pos.isdigit()) or int(pos) < 1:
        return f"POS `{pos}` is not a whole number of 1 or more"
    if not cols[0]:
        return "CHROM is empty"
    if cols[3] in ("", "."):
        return "REF is empty"
    p = int(pos)
    return cols[0], p, p + len(cols[3]) - 1


def plan(vcf, per_shard, out_dir):
    if per_shard < 1:
        sys.exit(f"plan_shards.py: records per shard must be 1 or more, not {per_shard}")
    os.makedirs(out_dir, exist_ok=True)
    shards = []  # each: list of [chrom, start0, end] spans, and a record count
    spans, count = [], 0
    unplaced = []
    contigs_done = set()
    chrom = None  # the contig being read
    span_start = 0  # 0-based start of the open span on `chrom`
    reach = 0  # the furthest REF end (1-based) on `chrom` so far
    last_pos = 0
    with open_text(vcf) as f:
        for line_no, line in enumerate(f, 1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.startswith("#"):
                continue
            cols = text.split("\t")
            r = record_span(cols)
            if isinstance(r, str):
                unplaced.append((line_no, r, cols[:5]))
                continue
            c, pos, end = r
            if c != chrom:
                if chrom is not None:
                    spans.append([chrom, span_start, reach])
                    contigs_done.add(chrom)
                if c in contigs_done:
                    sys.exit(
                        f"plan_shards.py: {vcf}: line {line_no}: contig {c} again after other "
                        "contigs: the VCF is not sorted (sort it, e.g. `bcftools sort`)"
                    )
                chrom, span_start, reach, last_pos = c, 0, 0, 0
            elif pos < last_pos:
                sys.exit(
                    f"plan_shards.py: {vcf}: line {line_no}: {c}:{pos} comes after {c}:{last_pos}: "
                    "the VCF is not sorted (sort it, e.g. `bcftools sort`)"
                )
            # A boundary before this record, if the shard is full and no earlier
            # record's REF reaches this position (nor shares it).
            if count >= per_shard and reach < pos and last_pos < pos:
                spans.append([chrom, span_start, pos - 1])
                shards.append((spans, count))
                spans, count, span_start = [], 0, pos - 1
            count += 1
            reach = max(reach, end)
            last_pos = pos
    if chrom is not None:
        spans.append([chrom, span_start, reach])
    if count > 0 or not shards:
        shards.append((spans, count))
    width = max(4, len(str(len(shards))))
    with open(os.path.join(out_dir, "plan.tsv"), "w") as p:
        p.write("shard\trecords\tregions\n")
        for i, (spans, n) in enumerate(shards, 1):
            name = f"shard-{i:0{width}d}"
            with open(os.path.join(out_dir, name + ".bed"), "w") as b:
                # A shard of a VCF without records: a region that holds nothing.
                for c, s, e in spans or [["_no_records_", 0, 1]]:
                    b.write(f"{c}\t{s}\t{e}\n")
            regions = ",".join(f"{c}:{s + 1}-{e}" for c, s, e in spans)
            p.write(f"{name}\t{n}\t{regions}\n")
    with open(os.path.join(out_dir, "unplaced.tsv"), "w") as u:
        u.write("line\treason\tchrom\tpos\tid\tref\talt\n")
        for line_no, reason, cols in unplaced:
            cells = (cols + [""] * 5)[:5]
            u.write(f"{line_no}\t{reason}\t" + "\t".join(cells) + "\n")
    total = sum(n for _, n in shards)
    print(
        f"plan_shards.py: {total} records of {vcf} in {len(shards)} shards "
        f"(about {per_shard} each); {len(unplaced)} lines are not VCF records",
        file=sys.stderr,
    )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    try:
        n = int(sys.argv[2])
    except ValueError:
        sys.exit(f"plan_shards.py: records per shard `{sys.argv[2]}` is not a whole number")
    plan(sys.argv[1], n, sys.argv[3])
