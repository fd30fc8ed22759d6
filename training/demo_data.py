#!/usr/bin/env python3
"""Synthetic demo genome, VCF and ground-truth annotations for the Brain-ResNet page.

    nice -n 10 /work/venv-torch/bin/python training/demo_data.py OUTDIR [--seed 7]

Writes into OUTDIR:
  genome.fa         three contigs (chr1 1.0 Mb, chr2 0.6 Mb, chr3 0.4 Mb; synthetic, NOT
                    human): Markov background (~41 % GC, CpG depleted), a few soft-masked
                    (lowercase) stretches and one N gap, and about one "regulatory element"
                    every 2.5 kb, each with motif instances planted per the grammar
                    (grammar.json) like the training data.
  variants.vcf      SNVs (VCF 4.2, sorted). Some are causal: the ground-truth labels of the
                    REF and ALT 1000 bp windows ([POS-500, POS+500), spec convention) differ
                    for at least one profile (a planted site broken, or a pre-broken site
                    restored = a motif created). The rest are neutral (labels identical).
  annotations.tsv   id label ref_reads alt_reads gerp maf causal_profile, from the grammar's
                    ground truth, never from a model:
                      label           1 causal, 0 neutral
                      ref/alt_reads   simulated allelic read counts; for causal variants the
                                      allele on which causal_profile is ON gets more reads
                      gerp            GERP-like constraint, higher at motif-site positions
                      maf             MAF-like frequency, lower for causal variants
                      causal_profile  first changed profile in label order ("." if neutral)
  truth.tsv         per variant: kind, the motif site it targets, all changed profiles and
                    the REF/ALT label vectors (for the model card and for checks).
  summary.json      counts and parameters.
No bgzip/index here: compress and index with the project's tools.
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as G  # noqa: E402

CONTIGS = [("chr1", 1_000_000), ("chr2", 600_000), ("chr3", 400_000)]
HALF = 500
ELEMENT = 400


def window_codes(contig_codes, pos1):
    """Codes of the 1000 bp window around 1-based pos ([pos-500, pos+500), N outside)."""
    start = pos1 - HALF
    out = np.full(2 * HALF, 4, dtype=np.uint8)
    lo, hi = max(0, start), min(len(contig_codes), start + 2 * HALF)
    out[lo - start:hi - start] = contig_codes[lo:hi]
    return out


def build_genome(rng, g, pool):
    planner = G.Planner(g, rng)
    bg = G.Background()
    profiles = g.labels_order
    weight = np.array([0.35 if p.endswith("_neuron") else 1.0 for p in profiles])
    weight /= weight.sum()
    contigs, sites, gains = {}, [], []
    for name, length in CONTIGS:
        # background in 10 kb pieces (each with its own GC tilt)
        pieces = bg.sample(rng, length // 10_000 + 1, length=10_000)
        codes = pieces.reshape(-1)[:length].copy()
        pos = int(rng.integers(1500, 3000))
        while pos + ELEMENT + 1500 < length:
            seg = codes[pos:pos + ELEMENT]  # a view: planting writes through
            occ = np.zeros(ELEMENT, dtype=bool)
            units = []
            if rng.random() < 0.12:
                units.append([("CTCF", 0)])
            for _ in range(int(rng.choice([1, 2], p=[0.6, 0.4]))):
                units += planner.plan(g.rules[profiles[int(rng.choice(len(profiles), p=weight))]], True)
            if rng.random() < 0.4:
                units += planner.plan(g.rules[profiles[int(rng.choice(len(profiles), p=weight))]], False)
            rec = []
            G.place(seg, units, pool, rng, occ, record=rec)
            for _, k, s, ln in rec:
                sites.append((name, pos + s, k, ln))
            # pre-break one planted site in 60 % of the elements: the SNV
            # that restores it creates a motif (a gain candidate)
            if rec and rng.random() < 0.6:
                _, k, s, ln = rec[int(rng.integers(len(rec)))]
                m = g.motifs[k]
                inst = seg[s:s + ln].copy()
                best = _best_break(m, inst, rng)
                if best is not None:
                    j, newbase = best
                    gains.append((name, pos + s + j, int(inst[j]), k, pos + s))
                    seg[s + j] = newbase
            pos += ELEMENT + int(rng.integers(1200, 3000))
        contigs[name] = codes
    return contigs, sites, gains


def _site_score(m, inst):
    f = m.score[np.arange(m.length), inst].sum()
    r = m.score[np.arange(m.length), (3 - inst)[::-1]].sum()
    return max(f, r)


def _best_break(m, inst, rng):
    """A random single substitution that takes the site below threshold, or None."""
    opts = []
    for j in range(len(inst)):
        for b in range(4):
            if b == inst[j]:
                continue
            x = inst.copy()
            x[j] = b
            if _site_score(m, x) < m.threshold:
                opts.append((j, b))
    if not opts:
        return None
    return opts[int(rng.integers(len(opts)))]


def soft_mask_and_gap(rng, contigs):
    """Lowercase stretches (as repeat masking) and an N gap: returns text per contig."""
    text = {}
    for name, codes in contigs.items():
        s = np.frombuffer(b"ACGT", np.uint8)[codes].copy()
        n_masks = len(codes) // 40_000
        for _ in range(n_masks):
            a = int(rng.integers(0, len(codes) - 2000))
            b = a + int(rng.integers(200, 2000))
            s[a:b] |= 32  # lowercase (soft-masked)
        if name == "chr2":
            a = 300_000
            s[a:a + 5000] = ord("N")
            codes[a:a + 5000] = 4
        text[name] = s.tobytes().decode()
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n-variants", type=int, default=3000)
    ap.add_argument("--causal-fraction", type=float, default=0.15)
    ap.add_argument("--bgzip", action="store_true",
                    help="ship form: genome.fa.gz (bgzip) + .fai + .gzi (needs pysam) instead of genome.fa, "
                         "and index.json for the page's demo button")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    g = G.grammar()
    pool = G.InstancePool(g, np.random.default_rng([args.seed, 1]))
    contigs, sites, gains = build_genome(rng, g, pool)
    text = soft_mask_and_gap(rng, contigs)
    names = [n for n, _ in CONTIGS]

    # ---- candidate SNVs ------------------------------------------------------
    cands = {}  # (contig, pos1) -> dict

    def add(contig, pos0, alt, kind, motif=None, site_start=None):
        key = (contig, pos0 + 1)
        ref = int(contigs[contig][pos0])
        if ref == 4 or alt == ref or key in cands:
            return
        cands[key] = {"contig": contig, "pos": pos0 + 1, "ref": ref, "alt": int(alt), "kind": kind,
                      "motif": motif or ".", "site_start": site_start}

    for contig, pos0, orig, k, s0 in gains:  # restore a pre-broken site: motif gain
        add(contig, pos0, orig, "gain", k, s0 + 1)
    order = rng.permutation(len(sites))
    for i in order[:min(len(sites), 3 * args.n_variants // 2)]:  # break a planted site
        contig, s0, k, ln = sites[i]
        inst = contigs[contig][s0:s0 + ln].copy()
        if (inst > 3).any():
            continue
        br = _best_break(g.motifs[k], inst, rng)
        if br is not None:
            add(contig, s0 + br[0], br[1], "loss", k, s0 + 1)
    sizes = np.array([n for _, n in CONTIGS], float)
    while sum(1 for c in cands.values() if c["kind"] == "random") < 2 * args.n_variants:
        contig = names[int(rng.choice(len(names), p=sizes / sizes.sum()))]
        pos0 = int(rng.integers(0, len(contigs[contig])))
        ref = int(contigs[contig][pos0])
        if ref == 4:
            continue
        add(contig, pos0, (ref + int(rng.integers(1, 4))) % 4, "random")

    cl = list(cands.values())
    ref_w = np.stack([window_codes(contigs[c["contig"]], c["pos"]) for c in cl])
    alt_w = ref_w.copy()
    alt_w[:, HALF - 1] = [c["alt"] for c in cl]
    assert all(ref_w[i, HALF - 1] == c["ref"] for i, c in enumerate(cl))
    lab_ref = g.labels_batch(ref_w)
    lab_alt = g.labels_batch(alt_w)
    changed = lab_ref != lab_alt
    # is the SNV inside a motif site (any motif, REF or ALT)? -> GERP-like constraint
    at_motif = np.zeros(len(cl), dtype=bool)
    for w in (ref_w, alt_w):
        sub = np.ascontiguousarray(w[:, HALF - 40:HALF + 40])
        for k, m in g.motifs.items():
            for i, starts in enumerate(m.site_starts(sub)):
                if any(s <= 39 < s + m.length for s in starts):  # the SNV (index 39) is in a site
                    at_motif[i] = True

    causal_idx = [i for i in range(len(cl)) if changed[i].any()]
    neutral_idx = [i for i in range(len(cl)) if not changed[i].any()]
    n_causal = min(len(causal_idx), int(round(args.n_variants * args.causal_fraction)))
    n_neutral = args.n_variants - n_causal
    # neutral: mostly random positions, some at motif sites that do not change a label
    neu_motif = [i for i in neutral_idx if cl[i]["kind"] != "random"]
    neu_rand = [i for i in neutral_idx if cl[i]["kind"] == "random"]
    take_nm = min(len(neu_motif), n_neutral // 5)
    # causal: up to 40 % motif gains (ALT allele on), the rest losses
    c_gain = [i for i in causal_idx if cl[i]["kind"] == "gain"]
    c_other = [i for i in causal_idx if cl[i]["kind"] != "gain"]
    n_gain = min(len(c_gain), int(0.4 * n_causal))
    n_other = min(len(c_other), n_causal - n_gain)
    n_gain = n_causal - n_other
    pick = (list(rng.choice(c_gain, n_gain, replace=False)) + list(rng.choice(c_other, n_other, replace=False))
            + list(rng.choice(neu_motif, take_nm, replace=False))
            + list(rng.choice(neu_rand, n_neutral - take_nm, replace=False)))
    pick = sorted(int(i) for i in pick)
    pick.sort(key=lambda i: (names.index(cl[i]["contig"]), cl[i]["pos"]))

    profiles = g.labels_order
    # ---- write ---------------------------------------------------------------
    with open(os.path.join(args.out, "genome.fa"), "w") as f:
        for name, _ in CONTIGS:
            f.write(f">{name} synthetic Brain-ResNet demo contig (motif grammar), not human DNA\n")
            s = text[name]
            for i in range(0, len(s), 60):
                f.write(s[i:i + 60] + "\n")
    ids = {}
    with open(os.path.join(args.out, "variants.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        f.write("##source=Brain-ResNet training/demo_data.py (synthetic)\n")
        for name, length in CONTIGS:
            f.write(f"##contig=<ID={name},length={length}>\n")
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for n_i, i in enumerate(pick):
            c = cl[i]
            vid = f"demo{n_i + 1:05d}"
            ids[i] = vid
            f.write(f"{c['contig']}\t{c['pos']}\t{vid}\t{'ACGT'[c['ref']]}\t{'ACGT'[c['alt']]}\t.\tPASS\t.\n")
    with open(os.path.join(args.out, "annotations.tsv"), "w") as fa, \
            open(os.path.join(args.out, "truth.tsv"), "w") as ft:
        fa.write("id\tlabel\tref_reads\talt_reads\tgerp\tmaf\tp_value\tpip\tcausal_profile\n")
        # Association statistics from their own stream, so the columns above stay as they were.
        rng_assoc = np.random.default_rng([args.seed, 2])
        ft.write("id\tchrom\tpos\tref\talt\tkind\tmotif\tsite_start\tat_motif\tchanged_profiles\t"
                 "ref_labels\talt_labels\n")
        stats = {"causal": 0, "neutral": 0, "alt_on": 0}
        for i in pick:
            c = cl[i]
            ch = [profiles[j] for j in np.nonzero(changed[i])[0]]
            causal = bool(ch)
            depth = max(8, int(rng.negative_binomial(6, 6 / (6 + 40))))
            if causal:
                j = profiles.index(ch[0])
                alt_on = lab_alt[i, j] > lab_ref[i, j]
                eff = rng.uniform(0.12, 0.35)
                p_alt = 0.5 + eff if alt_on else 0.5 - eff
                stats["alt_on"] += int(alt_on)
                maf = 0.5 * rng.beta(0.6, 4.0)
            else:
                p_alt = float(np.clip(0.5 + rng.normal(0, 0.04), 0.05, 0.95))
                maf = 0.5 * rng.beta(1.3, 2.0)
            alt_reads = int(rng.binomial(depth, p_alt))
            gerp = rng.normal(3.2, 1.3) if at_motif[i] else rng.normal(-0.3, 1.6)
            gerp = float(np.clip(gerp, -8.0, 6.2))
            maf = float(np.clip(maf, 0.001, 0.5))
            # GWAS-like p-value and fine-mapping PIP: strong for causal variants, null otherwise.
            if causal:
                p_value = 10.0 ** -rng_assoc.uniform(4.0, 12.0)
                pip = rng_assoc.beta(4.0, 2.0)
            else:
                p_value = rng_assoc.uniform(1e-6, 1.0)
                pip = rng_assoc.beta(0.3, 15.0)
            fa.write(f"{ids[i]}\t{int(causal)}\t{depth - alt_reads}\t{alt_reads}\t{gerp:.2f}\t{maf:.4f}\t"
                     f"{p_value:.3g}\t{pip:.3f}\t{ch[0] if causal else '.'}\n")
            ft.write(f"{ids[i]}\t{c['contig']}\t{c['pos']}\t{'ACGT'[c['ref']]}\t{'ACGT'[c['alt']]}\t{c['kind']}\t"
                     f"{c['motif']}\t{c['site_start'] or '.'}\t{int(at_motif[i])}\t{','.join(ch) or '.'}\t"
                     f"{''.join(map(str, lab_ref[i]))}\t{''.join(map(str, lab_alt[i]))}\n")
            stats["causal" if causal else "neutral"] += 1
    kinds = {}
    for i in pick:
        key = ("causal_" if changed[i].any() else "neutral_") + cl[i]["kind"]
        kinds[key] = kinds.get(key, 0) + 1
    per_profile = {p: int(sum(1 for i in pick if changed[i].any() and
                              profiles[np.nonzero(changed[i])[0][0]] == p)) for p in profiles}
    summary = {"seed": args.seed, "contigs": dict(CONTIGS), "genome_bp": sum(n for _, n in CONTIGS),
               "planted_sites": len(sites), "pre_broken_sites": len(gains),
               "variants": len(pick), "causal": stats["causal"], "neutral": stats["neutral"],
               "causal_alt_allele_on": stats["alt_on"], "by_kind": kinds,
               "causal_by_primary_profile": per_profile,
               "candidates_evaluated": len(cl), "candidates_causal": len(causal_idx)}
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    if args.bgzip:
        import pysam  # bgzip + faidx (htslib), only for the shipped form

        plain = os.path.join(args.out, "genome.fa")
        pysam.tabix_compress(plain, plain + ".gz", force=True)
        os.remove(plain)
        pysam.faidx(plain + ".gz")  # writes genome.fa.gz.fai and genome.fa.gz.gzi
        files = {"vcf": "variants.vcf", "fasta": "genome.fa.gz", "fai": "genome.fa.gz.fai",
                 "gzi": "genome.fa.gz.gzi", "annotations": "annotations.tsv"}
        with open(os.path.join(args.out, "index.json"), "w") as f:
            json.dump({"description": "Synthetic demo genome and variants (training/demo_data.py, "
                                      f"seed {args.seed}); ground truth in truth.tsv", "files": files}, f, indent=1)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
