#!/usr/bin/env python3
"""Seeded synthetic training data for the motif grammar (grammar.json).

Each 1000 bp sequence is background DNA from a first-order Markov chain with
approximate human dinucleotide frequencies (about 41 % GC, CpG depleted, the GC
share varied a little per sequence), with motif instances sampled from the
JASPAR matrices (motifs.json; columns raised to the power SHARPEN, i.e. near the
consensus, and conditioned on reaching the site threshold) planted in it.
In the scored central region (grammar.json: scoring.region):
  - with probability `p_open` a CTCF site;
  - 0-3 "programs": a random profile's rule satisfied along one random branch
    (OR: one child; AND: all; counts/spacing: clustered as the rule needs);
  - 0-2 "decoys": a random profile's rule planted with one part broken (an AND
    missing one child, one site short of a count, a pair too far apart, the
    motif a NOT forbids), so that single motifs are not enough;
  - a few random single motifs.
In each flank (which does not count): sometimes a satisfied rule, a CTCF site or
random motifs, so that position matters.
Labels are NOT the plan: they are always recomputed from the final sequence by
the grammar evaluator (grammar.Grammar), which is the ground truth.

    nice -n 10 /work/venv-torch/bin/python training/generate.py --out training/data/v3 \
        --train 150000 --valid 4000 --test 10000 --seed 1

writes <out>/{train,valid,test}.npz (seqs: uint8 ASCII (N, 1000); labels: uint8
(N, 31); motifs: uint8 (N, 44), per motif "has >= 1 site" then "has >= 2 sites", the
auxiliary targets of the meta-feature branch) and <out>/meta.json. The evaluator for
one sequence:

    from generate import evaluate_sequence; evaluate_sequence("ACGT...")  # 31 labels
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from grammar import Grammar, encode  # noqa: E402

SEQ_LEN = 1000
SHARPEN = 3.0  # planted instances: PFM columns ** SHARPEN (renormalised)

# Approximate human genome dinucleotide frequencies (percent), rows = first
# base A,C,G,T, columns = second base A,C,G,T. CpG is depleted (~1 %).
DINUC = np.array([
    [9.7, 5.0, 7.0, 7.6],
    [7.3, 5.2, 1.0, 7.0],
    [5.9, 4.3, 5.2, 5.0],
    [6.5, 5.9, 7.3, 9.7],
])

_GRAMMAR = None


def grammar():
    global _GRAMMAR
    if _GRAMMAR is None:
        _GRAMMAR = Grammar.load()
    return _GRAMMAR


def evaluate_sequence(seq):
    """The 31 ground-truth labels (uint8, labels.txt order) of one 1000 bp window (str)."""
    return grammar().labels(seq)


def evaluate_sequences(seqs):
    """Labels (N, 31) for a list of 1000 bp sequences or a (N, 1000) uint8 ASCII array."""
    if isinstance(seqs, np.ndarray):
        from grammar import _LUT
        codes = _LUT[seqs]
    else:
        codes = encode([s.upper() for s in seqs])
    return grammar().labels_batch(codes)


class Background:
    def __init__(self):
        self.trans = DINUC / DINUC.sum(1, keepdims=True)
        self.start = DINUC.sum(1) / DINUC.sum()

    def sample(self, rng, n, length=SEQ_LEN, gc_jitter=0.08):
        """(n, length) codes 0..3 (ACGT). Each sequence gets its own GC tilt."""
        tilt = np.exp(rng.normal(0.0, gc_jitter, size=n))  # multiplies C and G weights
        w = np.ones((n, 1, 4))
        w[:, 0, 1] = w[:, 0, 2] = tilt
        t = self.trans[None, :, :] * w  # (n, 4, 4)
        cum = np.cumsum(t / t.sum(2, keepdims=True), 2)
        cum[:, :, 3] = 1.0
        u = rng.random((n, length))
        out = np.empty((n, length), dtype=np.uint8)
        prev = np.searchsorted(np.cumsum(self.start), u[:, 0]).clip(0, 3)
        out[:, 0] = prev
        rows = np.arange(n)
        for j in range(1, length):
            c = cum[rows, prev]  # (n, 4)
            prev = (u[:, j:j + 1] > c).sum(1)
            out[:, j] = prev
        return out


class InstancePool:
    """Instances sampled from each matrix (column probabilities raised to the power
    `sharpen` and renormalised: closer to the consensus, as strong binding sites are),
    conditioned on reaching the motif's site threshold."""

    def __init__(self, g, rng, size=3000, sharpen=SHARPEN):
        self.pool = {}
        for k, m in g.motifs.items():
            got = []
            tries = 0
            p = m.prob ** sharpen
            cum = np.cumsum(p / p.sum(1, keepdims=True), 1)
            while sum(len(x) for x in got) < size:
                tries += 1
                u = rng.random((20000, m.length, 1))
                cand = (u > cum[None, :, :]).sum(2).astype(np.uint8)  # (n, L) codes
                cand = np.minimum(cand, 3)
                sc = m.score[np.arange(m.length)[None, :], cand].sum(1)
                got.append(cand[sc >= m.threshold])
                if tries > 200:
                    raise RuntimeError(f"cannot sample instances of {k}")
            self.pool[k] = np.concatenate(got)[:size]

    def draw(self, rng, key):
        inst = self.pool[key][rng.integers(len(self.pool[key]))]
        if rng.random() < 0.5:
            inst = (3 - inst)[::-1]  # reverse complement (ACGT codes)
        return inst


class Planner:
    """Turns a rule into 'units': lists of (motif, offset) placed together."""

    def __init__(self, g, rng):
        self.g = g
        self.rng = rng

    def L(self, k):
        return self.g.motifs[k].length

    def cluster(self, keys, max_span=None, min_span=None):
        """Consecutive motifs with random gaps; total span within [min_span, max_span]."""
        rng = self.rng
        lens = [self.L(k) for k in keys]
        base = sum(lens)
        for _ in range(100):
            if max_span is not None:
                room = max(0, max_span - base)
                gaps = rng.integers(0, room + 1, size=len(keys) - 1) if len(keys) > 1 else []
                if sum(gaps) > room:
                    continue
            elif min_span is not None:
                need = max(0, min_span - base)
                gaps = [int(rng.integers(need + 1, need + 250))] + [int(rng.integers(0, 40)) for _ in keys[2:]]
            else:
                gaps = rng.integers(0, 40, size=len(keys) - 1)
            unit, pos = [], 0
            for i, k in enumerate(keys):
                unit.append((k, pos))
                pos += lens[i] + (int(gaps[i]) if i < len(keys) - 1 else 0)
            return unit
        return [(k, 0) for k in keys[:1]]

    def near_pair(self, a, b, within, far=False):
        la, lb = self.L(a), self.L(b)
        # gap g between the end of the first and the start of the second;
        # centre distance = g + (la + lb) / 2
        min_c = (la + lb) / 2
        if far:
            g = int(self.rng.integers(int(within - min_c) + 15, int(within - min_c) + 300))
        else:
            g = int(self.rng.integers(0, max(1, int(within - min_c)) + 1))
        first, second = (a, b) if self.rng.random() < 0.5 else (b, a)
        return [(first, 0), (second, self.L(first) + g)]

    def plan(self, node, satisfy, skip_open=True):
        rng = self.rng
        g = self.g
        if "macro" in node:
            if skip_open and node["macro"] == "OPEN":
                return []
            return self.plan(g.macros[node["macro"]], satisfy)
        if "profile" in node:
            return self.plan(g.rules[node["profile"]], satisfy)
        if "motif" in node:
            k, n, within = node["motif"], node.get("min", 1), node.get("within")
            if satisfy:
                if within is None:
                    return [[(k, 0)] for _ in range(n)]
                return [self.cluster([k] * n, max_span=within)]
            if n == 1 or within is None or rng.random() < 0.5:
                return [[(k, 0)] for _ in range(n - 1)]
            return [self.cluster([k] * n, min_span=within + 1)]
        if "near" in node:
            a, b = node["near"]
            if satisfy:
                return [self.near_pair(a, b, node["within"])]
            if rng.random() < 0.5:
                return [[(a if rng.random() < 0.5 else b, 0)]]
            return [self.near_pair(a, b, node["within"], far=True)]
        if "and" in node:
            kids = node["and"]
            broken = -1 if satisfy else int(rng.integers(len(kids)))
            out = []
            for i, c in enumerate(kids):
                out += self.plan(c, satisfy=(i != broken))
            return out
        if "or" in node:
            kids = [c for c in node["or"] if not (skip_open and c.get("macro") == "OPEN")]
            c = kids[int(rng.integers(len(kids)))]
            return self.plan(c, satisfy)
        if "not" in node:
            return [] if satisfy else self.plan(node["not"], True)
        raise ValueError(node)


def place(seq, units, pool, rng, occupied, record=None):
    """Write units into seq (codes) at random free positions. Returns number placed.
    If record is a list, (unit index, motif, start, length) of each planted site is appended."""
    placed = 0
    for unit in units:
        if not unit:
            continue
        span = max(off + pool.pool[k].shape[1] for k, off in unit)
        if span > len(seq):
            continue
        for _ in range(60):
            start = int(rng.integers(0, len(seq) - span + 1))
            ok = all(not occupied[start + off:start + off + pool.pool[k].shape[1]].any() for k, off in unit)
            if ok:
                for k, off in unit:
                    inst = pool.draw(rng, k)
                    if record is not None:
                        record.append((placed, k, start + off, len(inst)))
                    seq[start + off:start + off + len(inst)] = inst
                    occupied[start + off:start + off + len(inst)] = True
                placed += 1
                break
    return placed


def generate(n, seed, p_open=0.1, chunk=2000, log=None, with_features=False):
    """n sequences -> (seqs uint8 ASCII (n, 1000), labels uint8 (n, 31)[, motif features (n, 44)])."""
    g = grammar()
    rng = np.random.default_rng(seed)
    pool = InstancePool(g, np.random.default_rng([seed, 1]))
    planner = Planner(g, rng)
    bg = Background()
    profiles = g.labels_order
    keys = g.motif_keys
    codes = bg.sample(rng, n)
    # programs pick a profile; the 14 region profiles share a core, so each gets less weight
    weight = np.array([0.35 if p.endswith("_neuron") else 1.0 for p in profiles])
    weight /= weight.sum()
    r0, r1 = g.region
    for i in range(n):
        seq = codes[i]
        units = []  # inside the scored region
        if rng.random() < p_open:
            units.append([("CTCF", 0)])
        for _ in range(int(rng.choice(4, p=[0.25, 0.4, 0.25, 0.1]))):
            units += planner.plan(g.rules[profiles[int(rng.choice(len(profiles), p=weight))]], True)
        for _ in range(int(rng.choice(3, p=[0.35, 0.4, 0.25]))):
            units += planner.plan(g.rules[profiles[int(rng.choice(len(profiles), p=weight))]], False)
        for _ in range(int(rng.poisson(0.4))):
            units.append([(keys[int(rng.integers(len(keys)))], 0)])
        order = rng.permutation(len(units))
        place(seq[r0:r1], [units[j] for j in order], pool, rng, np.zeros(r1 - r0, dtype=bool))
        # outside the region (does not count): a satisfied rule and random motifs in the
        # flanks, so that position matters
        for lo, hi in ((0, r0), (r1, SEQ_LEN)):
            out_units = []
            if rng.random() < 0.3:
                out_units += planner.plan(g.rules[profiles[int(rng.choice(len(profiles), p=weight))]], True)
            if rng.random() < 0.05:
                out_units.append([("CTCF", 0)])
            for _ in range(int(rng.poisson(0.4))):
                out_units.append([(keys[int(rng.integers(len(keys)))], 0)])
            place(seq[lo:hi], out_units, pool, rng, np.zeros(hi - lo, dtype=bool))
        if log and (i + 1) % 20000 == 0:
            log(f"  planted {i + 1}/{n}")
    labels, feats = g.both_batch(codes, chunk=chunk)
    seqs = np.frombuffer(b"ACGT", dtype=np.uint8)[codes]
    return (seqs, labels, feats) if with_features else (seqs, labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--train", type=int, default=150000)
    ap.add_argument("--valid", type=int, default=4000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--p-open", type=float, default=0.1)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    g = grammar()
    feat_names = [f"{k}>=1" for k in g.motif_keys] + [f"{k}>=2" for k in g.motif_keys]
    meta = {"seed": args.seed, "seq_len": SEQ_LEN, "labels": g.labels_order,
            "motif_features": feat_names, "splits": {}}
    for si, (name, n) in enumerate([("train", args.train), ("valid", args.valid), ("test", args.test)]):
        t = time.time()
        seqs, labels, feats = generate(n, seed=args.seed * 1000 + si, p_open=args.p_open,
                                       log=lambda m: print(name, m, flush=True), with_features=True)
        np.savez(os.path.join(args.out, f"{name}.npz"), seqs=seqs, labels=labels, motifs=feats)
        gc = float(np.isin(seqs, np.frombuffer(b"GC", np.uint8)).mean())
        meta["splits"][name] = {"n": n, "seed": args.seed * 1000 + si, "gc": round(gc, 4),
                                "positive_rate": dict(zip(g.labels_order, labels.mean(0).round(4).tolist()))}
        print(f"{name}: {n} sequences in {time.time() - t:.0f} s, GC {gc:.3f}, "
              f"mean positive rate {labels.mean():.3f}", flush=True)
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
