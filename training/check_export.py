"""Checks a converted model against the PyTorch checkpoint it came from, on the test split:
PyTorch predictions vs `brain-resnet predict` for each model directory given (max and mean
|difference|), and the test AUROC / AUPRC per profile of each (the shipped weights' figures).

    python training/check_export.py --checkpoint training/runs/demo-w3_8/checkpoint.pth \
        --data training/data/v3 --cli target/release/brain-resnet \
        --model f32=/tmp/demo-f32 --model int8=models/demo-motif-grammar --out metrics-export.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import load_model  # noqa: E402
from train import load_split, predict  # noqa: E402


def cli_predict(cli, model_dir, fasta, n_out):
    out = subprocess.run([cli, "predict", "--model", model_dir, "--backend", "cpu", fasta],
                         check=True, capture_output=True, text=True).stdout
    rows = [line.split("\t") for line in out.strip().split("\n")[1:]]
    return np.array([[float(v) for v in r[1:1 + n_out]] for r in rows], dtype=np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", action="append", required=True, help="NAME=DIR, repeatable")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels_txt = os.path.join(args.data, "labels.txt")
    if os.path.exists(labels_txt):  # real data (chrx_data.py)
        names = [ln.strip() for ln in open(labels_txt) if ln.strip()]
    else:  # the grammar data (generate.py)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar.json")) as f:
            names = list(json.load(f)["profiles"])
    model, _, _ = load_model(args.checkpoint)
    seqs, labels = load_split(args.data, args.split)
    torch_p = predict(model, seqs).astype(np.float64)
    y = labels.numpy().astype(int)
    report = {"checkpoint": args.checkpoint, "split": args.split, "n": int(len(y)), "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        fasta = os.path.join(tmp, "windows.fa")
        arr = np.asarray(seqs)
        with open(fasta, "w") as f:
            for i, s in enumerate(arr):
                f.write(f">w{i}\n{bytes(s).decode('ascii')}\n")
        preds = {}
        for spec in args.model:
            name, d = spec.split("=", 1)
            t = time.time()
            p = cli_predict(args.cli, d, fasta, len(names))
            preds[name] = p
            per = {n: {"auroc": round(float(roc_auc_score(y[:, j], p[:, j])), 4),
                       "auprc": round(float(average_precision_score(y[:, j], p[:, j])), 4)} for j, n in enumerate(names)}
            diff = np.abs(p - torch_p)
            report["models"][name] = {
                "dir": d, "seconds": round(time.time() - t, 1),
                "max_abs_diff_vs_pytorch": float(diff.max()), "mean_abs_diff_vs_pytorch": float(diff.mean()),
                "mean_auroc": round(float(np.mean([v["auroc"] for v in per.values()])), 4),
                "mean_auprc": round(float(np.mean([v["auprc"] for v in per.values()])), 4),
                "per_profile": per}
            print(f"{name}: max |ours - PyTorch| {diff.max():.3g} (mean {diff.mean():.3g}); "
                  f"mean AUROC {report['models'][name]['mean_auroc']}, AUPRC {report['models'][name]['mean_auprc']}")
        if "f32" in preds and "int8" in preds:
            d = np.abs(preds["int8"] - preds["f32"])
            report["int8_vs_f32"] = {"max_abs_diff": float(d.max()), "mean_abs_diff": float(d.mean())}
            print(f"int8 vs f32: max {d.max():.3g}, mean {d.mean():.3g}")
    with open(args.out, "w") as f:
        json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
