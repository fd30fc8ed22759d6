#!/usr/bin/env python3
"""The run's closing report: what was scored, and which records were not.

Reads the input VCF (the one the shards were cut from), the merged scored VCF and TSV,
and the planner's unplaced.tsv. Writes:
  REPORT.txt      counts by status, and every record not scored, with why;
  UNSCORED.tsv    one row per record (and ALT) not scored: chrom pos id ref alt reason.
A record is "not scored" when its status is not ok / ref_mismatch (unknown contig,
symbolic ALT, ...), when it is a line the VCF reader cannot read as a record (unplaced),
or when it is missing from the merged output (lost: then this script exits 1, so the
workflow fails loudly rather than handing on an incomplete result).

Usage: report.py INPUT_VCF MERGED_VCF MERGED_TSV UNPLACED_TSV REPORT_TXT UNSCORED_TSV
"""

import collections
import sys

from vcf_text import open_text


def data_lines(path):
    with open_text(path) as f:
        for line_no, line in enumerate(f, 1):
            text = line.rstrip("\r\n")
            if text.strip() and not text.startswith("#"):
                yield line_no, text.split("\t")


def main(input_vcf, merged_vcf, merged_tsv, unplaced_tsv, report_txt, unscored_tsv):
    unplaced_lines = set()
    unscored = []  # (chrom, pos, id, ref, alt, reason)
    with open(unplaced_tsv) as f:
        next(f, None)
        for line in f:
            c = line.rstrip("\n").split("\t")
            unplaced_lines.add(int(c[0]))
            unscored.append((*(c[2:7] + [""] * 5)[:5], f"input line {c[0]}: not a VCF record: {c[1]}"))

    # Input records in order (those the planner placed) against the merged VCF's.
    merged = ((c[0], c[1], c[2], c[3], c[4]) for _, c in data_lines(merged_vcf))
    lost = []
    n_input = 0
    pending = next(merged, None)
    for line_no, c in data_lines(input_vcf):
        if line_no in unplaced_lines:
            continue
        n_input += 1
        key = tuple((c + [""] * 5)[:5])
        if key == pending:
            pending = next(merged, None)
        else:
            lost.append((line_no, key))
    extra = 0
    while pending is not None:
        extra += 1
        pending = next(merged, None)

    by_status = collections.Counter()
    with open_text(merged_tsv) as f:
        header = f.readline().rstrip("\r\n").split("\t")
        if header[:6] != ["chrom", "pos", "id", "ref", "alt", "status"]:
            sys.exit(f"report.py: {merged_tsv}: not a `brain-resnet score` TSV (header {header[:6]})")
        for line in f:
            c = line.rstrip("\r\n").split("\t")
            if len(c) < 6:
                continue
            by_status[c[5]] += 1
            if c[5] not in ("ok", "ref_mismatch"):
                unscored.append((*c[:5], f"status {c[5]}"))
    for line_no, key in lost:
        unscored.append((*key, f"input line {line_no}: missing from the merged output"))

    with open(unscored_tsv, "w") as u:
        u.write("chrom\tpos\tid\tref\talt\treason\n")
        for row in unscored:
            u.write("\t".join(row) + "\n")
    scored = by_status["ok"] + by_status["ref_mismatch"]
    lines = [
        f"input: {input_vcf}: {n_input} records, {len(unplaced_lines)} lines that are not VCF records",
        f"merged: {merged_vcf} and {merged_tsv}",
        f"alleles: {sum(by_status.values())}, scored {scored} ("
        + ", ".join(f"{s} {n}" for s, n in sorted(by_status.items()))
        + ")",
    ]
    if lost or extra:
        lines.append(
            f"ERROR: {len(lost)} input records are missing from the merged output"
            + (f" and it has {extra} records beyond the input's" if extra else "")
        )
    if unscored:
        lines.append(f"not scored: {len(unscored)} (also in {unscored_tsv}):")
        lines += ["  " + " ".join(r[:5]) + ": " + r[5] for r in unscored[:1000]]
        if len(unscored) > 1000:
            lines.append(f"  ... {len(unscored) - 1000} more in {unscored_tsv}")
    else:
        lines.append("not scored: none")
    text = "\n".join(lines) + "\n"
    with open(report_txt, "w") as r:
        r.write(text)
    sys.stderr.write(text)
    if lost or extra:
        sys.exit(1)


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:])
