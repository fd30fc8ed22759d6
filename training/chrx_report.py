#!/usr/bin/env python3
"""The chrX model's metrics.json and model-card table: the CNN (shipped int8 weights
through `brain-resnet predict`, from check_export.py) against the k-mer baseline
(baseline_kmer.py) on the same test windows, with the data (chrx_data.py meta.json),
the training summary (train.py) and the int8 error table (convert --check-report).

    training/.venv/bin/python training/chrx_report.py --data training/data/chrx \
        --export training/runs/chrx-w1_4/export.json \
        --baseline training/runs/kmer-baseline/metrics.json \
        --convert-report training/runs/chrx-w1_4/convert-check.json \
        --train-summary training/runs/chrx-w1_4/train_summary.json \
        --out models/brain-chrx-nott2019/metrics.json
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--export", required=True)
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--convert-report")
    ap.add_argument("--train-summary")
    ap.add_argument("--pytorch", help="evaluate.py output on the test split (optional)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    load = lambda p: json.load(open(p)) if p and os.path.exists(p) else None  # noqa: E731
    meta = load(os.path.join(args.data, "meta.json"))
    ex, bl = load(args.export), load(args.baseline)
    names = meta["labels"]
    cnn = ex["models"]["int8"]
    f32 = ex["models"].get("f32")
    rows = []
    for n in names:
        c, b = cnn["per_profile"][n], bl["profiles"][n]
        rows.append({"profile": n, "test_positives": meta["counts"]["test"]["positives"][n],
                     "cnn_auroc": c["auroc"], "cnn_auprc": c["auprc"],
                     "kmer_auroc": b["auroc"], "kmer_auprc": b["auprc"],
                     "cnn_f32_auroc": f32["per_profile"][n]["auroc"] if f32 else None,
                     "cnn_f32_auprc": f32["per_profile"][n]["auprc"] if f32 else None})
    mean = lambda k: round(sum(r[k] for r in rows) / len(rows), 4)  # noqa: E731
    out = {"test_windows": meta["counts"]["test"]["windows"], "split": meta["splits"],
           "label_rule": meta["label_rule"], "sampling": meta["sampling"],
           "cnn": {"weights": "shipped int8, through brain-resnet predict", "mean_auroc": mean("cnn_auroc"),
                   "mean_auprc": mean("cnn_auprc")},
           "kmer_baseline": {"model": bl["model"], "mean_auroc": mean("kmer_auroc"), "mean_auprc": mean("kmer_auprc")},
           "per_profile": rows,
           "cnn_beats_baseline_auprc": [r["profile"] for r in rows if r["cnn_auprc"] > r["kmer_auprc"]],
           "baseline_beats_cnn_auprc": [r["profile"] for r in rows if r["cnn_auprc"] <= r["kmer_auprc"]],
           "export": {k: {kk: v[kk] for kk in ("max_abs_diff_vs_pytorch", "mean_abs_diff_vs_pytorch", "mean_auroc",
                                                "mean_auprc")} for k, v in ex["models"].items()},
           "int8_vs_f32": ex.get("int8_vs_f32"),
           "data": {k: meta[k] for k in ("record", "contig", "length", "acgt_bases", "fasta_sha256", "genome_build",
                                         "counts", "peaks")}}
    if f32:
        out["cnn_f32"] = {"mean_auroc": mean("cnn_f32_auroc"), "mean_auprc": mean("cnn_f32_auprc")}
    if args.convert_report:
        out["convert_check"] = load(args.convert_report)
    if args.train_summary and os.path.exists(args.train_summary):
        ts = load(args.train_summary)
        out["training"] = {k: ts[k] for k in ("preset", "config", "params", "steps", "batch", "epochs",
                                              "train_windows", "wall_s", "threads", "lr", "dropout", "history")}
    if args.pytorch:
        out["pytorch_checkpoint"] = {k: load(args.pytorch)[k] for k in ("mean_auroc", "mean_auprc")}
    def clean(v):  # NaN (e.g. an AUROC not computed) as null: strict JSON
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    with open(args.out, "w") as f:
        json.dump(clean(out), f, indent=1)
    print("| profile | test positives | CNN AUROC | CNN AUPRC | k-mer AUROC | k-mer AUPRC |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        mark = "" if r["cnn_auprc"] > r["kmer_auprc"] else " (baseline better)"
        print(f"| {r['profile']} | {r['test_positives']} | {r['cnn_auroc']:.4f} | {r['cnn_auprc']:.4f} | "
              f"{r['kmer_auroc']:.4f} | {r['kmer_auprc']:.4f}{mark} |")
    print(f"| **mean** | | **{mean('cnn_auroc'):.4f}** | **{mean('cnn_auprc'):.4f}** | "
          f"{mean('kmer_auroc'):.4f} | {mean('kmer_auprc'):.4f} |")


if __name__ == "__main__":
    main()
