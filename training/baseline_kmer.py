#!/usr/bin/env python3
"""The k-mer baseline on the same windows and split as the CNN (chrx_data.py):
L2-regularised logistic regression, one per profile, on the counts of the 2,080
canonical 6-mers of the 1000 bp window (a k-mer and its reverse complement are one
feature, so the model is strand-symmetric), log1p-transformed and standardised on the
training split. The regularisation strength C is chosen per profile on the validation
split (AUPRC) from --cs, then that model is scored on the test split.

    OMP_NUM_THREADS=1 nice -n 10 training/.venv/bin/python training/baseline_kmer.py \
        --data training/data/chrx --out training/runs/kmer-baseline/metrics.json
"""
import argparse
import itertools
import json
import os
import time

import numpy as np

K = 6
_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _CODE[_b] = _i
    _CODE[_b + 32] = _i


def canonical_index(k=K):
    """Map of the 4^k k-mer codes to canonical feature indices (2,080 for k = 6, 136 for k = 4)."""
    comp = {0: 3, 1: 2, 2: 1, 3: 0}
    idx = np.zeros(4 ** k, dtype=np.int64)
    seen = {}
    for code, kmer in enumerate(itertools.product(range(4), repeat=k)):
        rc = tuple(comp[b] for b in reversed(kmer))
        key = min(kmer, rc)
        if key not in seen:
            seen[key] = len(seen)
        idx[code] = seen[key]
    return idx, len(seen)


def kmer_counts(seqs, chunk=4000):
    """(N, 1000) uint8 ASCII -> (N, 2080) float32 canonical 6-mer counts (k-mers with N skipped)."""
    cidx, nf = canonical_index()
    out = np.zeros((len(seqs), nf), dtype=np.float32)
    for a in range(0, len(seqs), chunk):
        s = _CODE[seqs[a:a + chunk]]
        n, L = s.shape
        bad = s == 255
        s = np.where(bad, 0, s).astype(np.int64)
        code = np.zeros((n, L - K + 1), dtype=np.int64)
        badk = np.zeros((n, L - K + 1), dtype=bool)
        for j in range(K):
            code = code * 4 + s[:, j:L - K + 1 + j]
            badk |= bad[:, j:L - K + 1 + j]
        feat = cidx[code]
        rows = np.repeat(np.arange(n), L - K + 1).reshape(n, -1)
        flat = (rows * nf + feat)[~badk]
        out[a:a + n] = np.bincount(flat, minlength=n * nf).reshape(n, nf)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cs", type=float, nargs="+", default=[1e-5, 3e-5, 1e-4, 3e-4, 1e-3])
    ap.add_argument("--max-iter", type=int, default=300)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    t0 = time.time()
    names = [ln.strip() for ln in open(os.path.join(args.data, "labels.txt")) if ln.strip()]
    split = {}
    for s in ("train", "valid", "test"):
        z = np.load(os.path.join(args.data, f"{s}.npz"))
        split[s] = (np.log1p(kmer_counts(z["seqs"])), z["labels"].astype(int))
    mu = split["train"][0].mean(0)
    sd = split["train"][0].std(0) + 1e-6
    X = {s: (v[0] - mu) / sd for s, v in split.items()}
    print(f"features: {X['train'].shape[1]} canonical {K}-mers, {time.time() - t0:.0f} s", flush=True)
    per = {}
    for j, name in enumerate(names):
        best = None
        for c in args.cs:
            m = LogisticRegression(C=c, max_iter=args.max_iter)
            m.fit(X["train"], split["train"][1][:, j])
            pv = m.decision_function(X["valid"])
            ap_v = average_precision_score(split["valid"][1][:, j], pv)
            if best is None or ap_v > best[0]:
                best = (ap_v, c, m)
        ap_v, c, m = best
        y = split["test"][1][:, j]
        pt = m.decision_function(X["test"])
        per[name] = {"auroc": round(float(roc_auc_score(y, pt)), 4),
                     "auprc": round(float(average_precision_score(y, pt)), 4),
                     "positives": int(y.sum()), "positive_rate": round(float(y.mean()), 4),
                     "C": c, "valid_auprc": round(float(ap_v), 4)}
        print(f"  {name:26s} C {c:g}  valid AUPRC {ap_v:.4f}  test AUROC {per[name]['auroc']:.4f} "
              f"AUPRC {per[name]['auprc']:.4f}  ({time.time() - t0:.0f} s)", flush=True)
    out = {"model": f"logistic regression on log1p canonical {K}-mer counts (2,080 features), C per profile "
                    f"from {args.cs} by validation AUPRC", "data": os.path.abspath(args.data), "split": "test",
           "n": int(len(split["test"][1])),
           "mean_auroc": round(float(np.mean([v["auroc"] for v in per.values()])), 4),
           "mean_auprc": round(float(np.mean([v["auprc"] for v in per.values()])), 4),
           "wall_s": round(time.time() - t0, 1), "profiles": per}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)
    print(f"mean AUROC {out['mean_auroc']:.4f}  mean AUPRC {out['mean_auprc']:.4f}  ({out['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
