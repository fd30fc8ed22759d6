#!/usr/bin/env python3
"""Auxiliary targets for the meta branch on the chrX data: sequence-composition features of
each window, the analogue (for a network trained from scratch on one chromosome) of the
DeepSEA features the published meta branch was pretrained on. train.py trains the first
meta outputs against them (its --aux-meta BCE; soft targets in [0, 1]); the labels and the
architecture are unchanged.

    nice -n 10 training/.venv/bin/python training/chrx_aux.py --data training/data/chrx \
        --out training/data/chrx-aux

Copies <data>/{train,valid,test}.npz, labels.txt, meta.json and test.fa to <out>, adding
`motifs` (float32 (N, 151)):
  15 scalars: GC fraction (window, central 200 bp, central 400 bp, left and right 300 bp),
  CpG observed/expected / 1.5 (window, central 200 bp), CpG per bp / 0.04 (window,
  central 200 bp), all clipped to [0, 1]; and 0/1: window CpG count >= 20, >= 40, central
  200 bp CpG >= 6, >= 12, window GC >= 0.5, >= 0.6 (that is 9 + 6 = 15);
  136 canonical 4-mer frequencies of the window, count / (2 x the count expected under
  uniform composition), clipped to [0, 1] (0.5 at the average).
"""
import argparse
import os
import shutil

import numpy as np

from baseline_kmer import _CODE, canonical_index  # one base code and k-mer map for both


def canon4():
    return canonical_index(4)


def features(seqs):
    s = _CODE[seqs]
    ok = s != 255
    gc = (s == 1) | (s == 2)
    cg = (s[:, :-1] == 1) & (s[:, 1:] == 2)
    c = s == 1
    g = s == 2

    def frac(m, a, b):
        return m[:, a:b].sum(1) / np.maximum(1, ok[:, a:b].sum(1))

    def oe(a, b):
        n = np.maximum(1, ok[:, a:b].sum(1))
        exp = c[:, a:b].sum(1) * g[:, a:b].sum(1) / n
        return cg[:, a:b - 1].sum(1) / np.maximum(1e-6, exp)

    cg_w, cg_c = cg.sum(1), cg[:, 400:599].sum(1)
    gc_w = frac(gc, 0, 1000)
    scal = [gc_w, frac(gc, 400, 600), frac(gc, 300, 700), frac(gc, 0, 300), frac(gc, 700, 1000),
            np.clip(oe(0, 1000) / 1.5, 0, 1), np.clip(oe(400, 600) / 1.5, 0, 1),
            np.clip(cg_w / 1000 / 0.04, 0, 1), np.clip(cg_c / 200 / 0.04, 0, 1),
            cg_w >= 20, cg_w >= 40, cg_c >= 6, cg_c >= 12, gc_w >= 0.5, gc_w >= 0.6]
    idx, nf = canon4()
    sc = np.where(ok, s, 0).astype(np.int64)
    code = sc[:, :-3] * 64 + sc[:, 1:-2] * 16 + sc[:, 2:-1] * 4 + sc[:, 3:]
    good = ok[:, :-3] & ok[:, 1:-2] & ok[:, 2:-1] & ok[:, 3:]
    feat = idx[code]
    n = len(seqs)
    rows = np.repeat(np.arange(n), code.shape[1]).reshape(n, -1)
    counts = np.bincount((rows * nf + feat)[good], minlength=n * nf).reshape(n, nf).astype(np.float64)
    # expected count of a canonical 4-mer: 2/256 of the k-mers for a non-palindrome, 1/256 for a palindrome
    mult = np.bincount(idx, minlength=nf)
    expected = good.sum(1, keepdims=True) * mult[None, :] / 256.0
    k4 = np.clip(counts / (2 * np.maximum(expected, 1e-6)), 0, 1)
    return np.concatenate([np.stack(scal, 1).astype(np.float64), k4], 1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for f in ("labels.txt", "meta.json", "test.fa"):
        shutil.copy(os.path.join(args.data, f), os.path.join(args.out, f))
    for name in ("train", "valid", "test"):
        z = dict(np.load(os.path.join(args.data, f"{name}.npz")))
        parts = [features(z["seqs"][a:a + 5000]) for a in range(0, len(z["seqs"]), 5000)]
        z["motifs"] = np.concatenate(parts)
        np.savez(os.path.join(args.out, f"{name}.npz"), **z)
        print(f"{name}: {z['motifs'].shape}, mean {z['motifs'].mean(0)[:9].round(3)}")


if __name__ == "__main__":
    main()
