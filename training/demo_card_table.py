"""The demo model card's per-profile analysis table, from the shipped weights.

    python training/demo_card_table.py --cli target/release/brain-resnet \
        --scores demo-scores.tsv --annotations www/demo/annotations.tsv > table.md

`demo-scores.tsv` is `brain-resnet score --model models/demo-motif-grammar --genome
www/demo/genome.fa.gz --vcf www/demo/variants.vcf`. Per profile it runs `brain-resnet
analyze` (enrichment fold of the causal variants in the top 10 % by abs_diff, Spearman rho
of the predicted log-ratio against the simulated allelic imbalance, the constraint test's
p-value, mean MAF per abs_diff bin) and adds what `analyze` does not print: how many of the
variants made for this profile (`causal_profile` in the annotations) are in its own top
10 %, and the mean GERP of the top 10 % and of the rest. Standard library only.
"""
import argparse
import csv
import json
import subprocess


def read_tsv(path):
    with open(path, newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    return rows[0], rows[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--scores", required=True)
    ap.add_argument("--annotations", required=True)
    args = ap.parse_args()

    head, rows = read_tsv(args.scores)
    ahead, arows = read_tsv(args.annotations)
    ann = {r[ahead.index("id")]: dict(zip(ahead, r)) for r in arows}
    ids = [r[head.index("id")] for r in rows]
    profiles = [c.split(":", 1)[1] for c in head if c.startswith("abs_diff:")]

    print("| profile | `analyze` fold, top 10 % (all causal) | causal variants of this profile in its "
          "own top 10 % | Spearman rho (pred. log-ratio vs simulated imbalance) | GERP top 10 % vs rest "
          "(rank-sum p) | mean MAF by abs_diff bin (n): 0-0.05, 0.05-0.1, 0.1-0.15, 0.15-0.2, >0.2 |")
    print("|---|---|---|---|---|---|")
    for p in profiles:
        out = subprocess.run([args.cli, "analyze", "--scores", args.scores, "--annotations",
                              args.annotations, "--profile", p],
                             check=True, capture_output=True, text=True).stdout
        a = json.loads(out)
        col = head.index(f"abs_diff:{p}")
        # The top group exactly as `analyze` takes it: the `top` largest abs_diff.
        order = sorted(range(len(rows)), key=lambda i: -float(rows[i][col]))
        top = set(order[: a["top"]])
        own = [i for i, v in enumerate(ids) if ann[v].get("causal_profile") == p]
        own_top = sum(1 for i in own if i in top)
        frac = a["top"] / len(rows)
        fold = f"{own_top / len(own) / frac:.2f}" if own else None
        own_cell = f"{own_top} of {len(own)} (fold {fold})" if own else "0 of 0"

        def mean_gerp(idx):
            v = [float(ann[ids[i]]["gerp"]) for i in idx]
            return sum(v) / len(v)

        rest = [i for i in range(len(rows)) if i not in top]
        gerp = (f"{mean_gerp(top):.2f} vs {mean_gerp(rest):.2f} "
                f"({a['constraint']['p_value']:.1e})")
        maf = " ".join(f"{b['mean']:.3f}({b['n']})" if b["n"] else "-(0)" for b in a["selection"])
        print(f"| {p} | {a['enrichment']['fold']:.2f} | {own_cell} | "
              f"{a['direction']['spearman_rho']:.3f} | {gerp} | {maf} |")


if __name__ == "__main__":
    main()
