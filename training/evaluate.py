#!/usr/bin/env python3
"""Per-profile AUROC and AUPRC of a checkpoint on a generated split.

    nice -n 10 /work/venv-torch/bin/python training/evaluate.py \
        --checkpoint training/runs/NAME/checkpoint.pth --data training/data/v3 \
        --split test --out training/runs/NAME/metrics.json

The network widths are read from the checkpoint tensors; `module.` prefixes are
accepted. Labels are in grammar.json order (= labels.txt order).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import MetaChrom, config_from_state_dict, macs_per_window  # noqa: E402
from train import load_split, predict  # noqa: E402


def load_model(path):
    ck = torch.load(path, map_location="cpu", weights_only=False)
    sd = ck["state_dict"] if "state_dict" in ck else ck
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    cfg = config_from_state_dict(sd)
    model = MetaChrom(cfg)
    model.load_state_dict(sd, strict=True)
    model.eval()
    return model, cfg, ck


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from sklearn.metrics import average_precision_score, roc_auc_score

    labels_txt = os.path.join(args.data, "labels.txt")
    if os.path.exists(labels_txt):  # real data (chrx_data.py)
        names = [ln.strip() for ln in open(labels_txt) if ln.strip()]
    else:  # the grammar data (generate.py)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "grammar.json")) as f:
            names = list(json.load(f)["profiles"])
    model, cfg, ck = load_model(args.checkpoint)
    seqs, labels = load_split(args.data, args.split)
    t = time.time()
    p = predict(model, seqs)
    dt = time.time() - t
    y = labels.numpy().astype(int)
    per = {}
    for j, name in enumerate(names):
        pos = int(y[:, j].sum())
        ok = 0 < pos < len(y)
        per[name] = {"auroc": round(float(roc_auc_score(y[:, j], p[:, j])), 4) if ok else None,
                     "auprc": round(float(average_precision_score(y[:, j], p[:, j])), 4) if ok else None,
                     "positives": pos, "positive_rate": round(pos / len(y), 4)}
    aurocs = [v["auroc"] for v in per.values() if v["auroc"] is not None]
    auprcs = [v["auprc"] for v in per.values() if v["auprc"] is not None]
    out = {"checkpoint": os.path.abspath(args.checkpoint), "data": os.path.abspath(args.data),
           "split": args.split, "n": len(y), "config": cfg,
           "params": sum(x.numel() for x in model.parameters()),
           "gmac_per_window_fwd": round(macs_per_window(cfg) / 1e9, 4),
           "epoch": ck.get("epoch") if isinstance(ck, dict) else None,
           "mean_auroc": round(float(np.mean(aurocs)), 4), "mean_auprc": round(float(np.mean(auprcs)), 4),
           "min_auroc": round(float(np.min(aurocs)), 4),
           "predict_windows_per_s": round(len(y) / dt, 1), "threads": args.threads,
           "profiles": per}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"mean AUROC {out['mean_auroc']:.4f}  mean AUPRC {out['mean_auprc']:.4f}  "
          f"min AUROC {out['min_auroc']:.4f}  ({len(y)} windows, {args.split})")
    for name, v in per.items():
        print(f"  {name:14s} AUROC {v['auroc']}  AUPRC {v['auprc']}  pos {v['positive_rate']}")


if __name__ == "__main__":
    main()
