#!/usr/bin/env python3
"""Real training data: GRCh37/hg19 chrX:1-69,999,930 (Debian's smalt-examples package)
labelled with the brain cell-type peaks of Nott et al. 2019 (12 profiles).

    nice -n 10 training/.venv/bin/python training/chrx_data.py --out training/data/chrx --seed 1

1. The sequence: if `--fasta` (default training/data/hs37chrXtrunc.fa.gz) is missing it is
   fetched with `apt-get download smalt-examples` (a Debian package; a temp dir, then
   `dpkg-deb --fsys-tarfile | tar -x` of usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz).
   One record, named `X` (GRCh37 NC_000023.10), 69,999,930 bases; checked here. Uppercased.
   The genome stays under training/data/ (git-ignored); it is never committed.
2. The labels: ../shared/data/brain-peaks-nott2019/{ATAC,H3K27ac,H3K4me3}/*.bed.gz (BED, hg19,
   0-based half-open; some files have CRLF line ends), the `chrX` rows whose end is
   <= 69,999,930.
3. Windows: 1000 bp, starts on a 200 bp grid (start = 200 k, 0-based), so the central 200 bp
   [start + 400, start + 600) of the grid windows tile the chromosome. **Label rule**: profile
   j is 1 when the central 200 bp overlap (>= 1 bp) a peak of profile j. Windows with more
   than 100 N are dropped.
4. Split by region (a window belongs to a block only if all its 1000 bp lie inside it, so no
   two windows of different splits share a base): validation chrX:30,000,000-35,000,000,
   test chrX:50,000,000-65,000,000 (0-based half-open), train everything else.
5. Windows kept per split: every grid window whose central 200 bp lie within 800 bp of a
   peak of any profile ("peak-near": all positives and their flanks, hard negatives), plus
   background windows, as many as the peak-near windows: half drawn uniformly from the
   other grid windows of the split, half GC-matched (the GC histogram, 2 % bins, of the
   split's positive windows). Seeded (--seed).
Both strands: training draws the reverse complement of half the windows (train.py's
augmentation); validation and test are the forward strand.

Writes <out>/{train,valid,test}.npz (seqs uint8 ASCII (N, 1000); labels uint8 (N, 12);
starts int64, 0-based window starts on chrX) , <out>/labels.txt and <out>/meta.json
(contig name and length, SHA-256 of the FASTA, rule, split, counts), and
<out>/test.fa (the test windows, for `brain-resnet convert --check-windows`).
"""
import argparse
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PEAKS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "brain-peaks-nott2019"))
SPAN = 69_999_930
WIN, STEP, CENTRE = 1000, 200, 200
FLANK = 800
MAX_N = 100
SPLITS = {"valid": [(30_000_000, 35_000_000)], "test": [(50_000_000, 65_000_000)]}
CELLS = [("NeuN", "neuron"), ("PU1", "microglia"), ("Olig2", "oligodendrocyte"), ("LHX2", "astrocyte")]
ASSAYS = [("ATAC", "ATAC", "_optimal_peak_IDR_ENCODE.ATAC.bed.gz"),
          ("H3K27ac", "H3K27ac", "_optimal_peak.H3K27.bed.gz"),
          ("H3K4me3", "H3K4me3", "_optimal_peak.H3K4me3.bed.gz")]
DEB_PATH = "./usr/share/doc/smalt/test/data/hs37chrXtrunc.fa.gz"


def fetch_fasta(dest):
    """apt-get download smalt-examples; extract the chrX FASTA to dest."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["apt-get", "download", "smalt-examples"], cwd=tmp, check=True)
        deb = glob.glob(os.path.join(tmp, "smalt-examples_*.deb"))[0]
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", DEB_PATH], stdin=tar.stdout, cwd=tmp, check=True)
        tar.wait()
        shutil.move(os.path.join(tmp, DEB_PATH), dest)
    return os.path.basename(deb)


def read_fasta(path):
    names, parts = [], []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith(">"):
                names.append(line[1:].strip())
            else:
                parts.append(line.strip())
    if len(names) != 1:
        raise SystemExit(f"{path}: expected one record, found {len(names)}")
    seq = "".join(parts).upper().encode("ascii")
    return names[0], np.frombuffer(seq, dtype=np.uint8).copy()


def read_peaks(path):
    iv = []
    with gzip.open(path, "rt") as f:
        for line in f:
            p = line.rstrip("\r\n").split("\t")
            if len(p) >= 3 and p[0] == "chrX":
                s, e = int(p[1]), int(p[2].strip())
                if e <= SPAN:
                    iv.append((s, e))
    return iv


def profiles():
    out = []
    for folder, assay, suffix in ASSAYS:
        for cell, cname in CELLS:
            out.append((f"{cname}_{assay}", os.path.join(PEAKS, folder, cell + suffix)))
    return out


def coverage(ivs, n):
    """Boolean (n,) base coverage of intervals."""
    d = np.zeros(n + 1, dtype=np.int32)
    for s, e in ivs:
        d[s] += 1
        d[e] -= 1
    return np.cumsum(d[:-1]) > 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fasta", default=os.path.join(HERE, "data", "hs37chrXtrunc.fa.gz"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bg-ratio", type=float, default=1.0, help="background windows per peak-near window")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    deb = None
    if not os.path.exists(args.fasta):
        deb = fetch_fasta(args.fasta)
    sha = hashlib.sha256(open(args.fasta, "rb").read()).hexdigest()
    name, seq = read_fasta(args.fasta)
    contig = name.split()[0]
    if contig != "X" or len(seq) != SPAN:
        raise SystemExit(f"unexpected FASTA: record {name!r}, {len(seq)} bases (want X, {SPAN})")
    n_acgt = int(np.isin(seq, np.frombuffer(b"ACGT", np.uint8)).sum())
    print(f"{args.fasta}: record {name!r}, {len(seq):,} bases, {n_acgt:,} ACGT; sha256 {sha}")

    profs = profiles()
    names = [p[0] for p in profs]
    starts = np.arange(0, SPAN - WIN + 1, STEP, dtype=np.int64)
    isn = ~np.isin(seq, np.frombuffer(b"ACGT", np.uint8))
    ncum = np.concatenate([[0], np.cumsum(isn)])
    n_in_win = ncum[starts + WIN] - ncum[starts]
    isgc = np.isin(seq, np.frombuffer(b"GC", np.uint8))
    gcum = np.concatenate([[0], np.cumsum(isgc)])
    gc = (gcum[starts + WIN] - gcum[starts]) / np.maximum(1, WIN - n_in_win)

    labels = np.zeros((len(starts), len(profs)), dtype=np.uint8)
    near = np.zeros(len(starts), dtype=bool)
    peak_counts = {}
    for j, (pname, path) in enumerate(profs):
        ivs = read_peaks(path)
        cov = coverage(ivs, SPAN)
        ccum = np.concatenate([[0], np.cumsum(cov)])
        labels[:, j] = (ccum[starts + 600] - ccum[starts + 400]) > 0
        lo = np.clip(starts + 400 - FLANK, 0, SPAN)
        hi = np.clip(starts + 600 + FLANK, 0, SPAN)
        near |= (ccum[hi] - ccum[lo]) > 0
        merged = int(np.sum(np.diff(np.concatenate([[0], cov.astype(np.int8), [0]])) == 1))
        peak_counts[pname] = {"peak_lines": len(ivs), "merged_regions": merged,
                              "bases": int(cov.sum()), "grid_windows_positive": int(labels[:, j].sum())}
        print(f"  {pname:26s} {len(ivs):5d} peak lines, {merged:5d} merged regions, "
              f"{int(labels[:, j].sum()):6d} positive grid windows")

    ok = n_in_win <= MAX_N
    split_of = np.full(len(starts), "train", dtype=object)
    for sname, blocks in SPLITS.items():
        for a, b in blocks:
            inside = (starts >= a) & (starts + WIN <= b)
            split_of[inside] = sname
            straddle = (starts < b) & (starts + WIN > a) & ~inside
            split_of[straddle] = "drop"
    os.makedirs(args.out, exist_ok=True)
    meta = {"fasta": os.path.basename(args.fasta), "fasta_sha256": sha, "debian_package": deb or "smalt-examples",
            "record": name, "contig": contig, "length": int(len(seq)), "acgt_bases": n_acgt,
            "genome_build": "GRCh37/hg19", "labels": names, "peaks_dir": "shared/data/brain-peaks-nott2019",
            "window": WIN, "grid_step": STEP,
            "label_rule": "profile = 1 when the central 200 bp of the 1000 bp window overlap (>= 1 bp) a peak of the profile",
            "max_n_per_window": MAX_N, "flank_bp": FLANK, "bg_ratio": args.bg_ratio, "seed": args.seed,
            "splits": {"valid": SPLITS["valid"], "test": SPLITS["test"], "train": "the rest of chrX:0-69,999,930"},
            "sampling": "all grid windows whose central 200 bp lie within 800 bp of a peak of any profile, plus "
                        "as many background grid windows: half uniform, half GC-matched to the positives (2 % bins)",
            "peaks": peak_counts, "counts": {}}
    bins = np.linspace(0, 1, 51)
    for sname in ("train", "valid", "test"):
        cand = np.where((split_of == sname) & ok)[0]
        nearw = cand[near[cand]]
        rest = cand[~near[cand]]
        pos = cand[labels[cand].any(1)]
        n_bg = int(round(args.bg_ratio * len(nearw)))
        n_uni = n_bg // 2
        uni = rng.choice(rest, size=min(n_uni, len(rest)), replace=False)
        left = np.setdiff1d(rest, uni)
        # GC-matched: draw bins from the positives' GC histogram, then a window in that bin
        pb = np.clip(np.digitize(gc[pos], bins) - 1, 0, 49)
        lb = np.clip(np.digitize(gc[left], bins) - 1, 0, 49)
        by_bin = {b: list(rng.permutation(left[lb == b])) for b in range(50)}
        matched = []
        for b in rng.choice(pb, size=n_bg - len(uni), replace=True):
            if by_bin[b]:
                matched.append(by_bin[b].pop())
        idx = np.sort(np.concatenate([nearw, uni, np.array(matched, dtype=np.int64)]))
        st = starts[idx]
        seqs = np.stack([seq[s:s + WIN] for s in st])
        lab = labels[idx]
        np.savez(os.path.join(args.out, f"{sname}.npz"), seqs=seqs, labels=lab, starts=st)
        meta["counts"][sname] = {"windows": int(len(idx)), "peak_near": int(len(nearw)),
                                 "background_uniform": int(len(uni)), "background_gc_matched": int(len(matched)),
                                 "any_positive": int(lab.any(1).sum()),
                                 "positives": {n: int(lab[:, j].sum()) for j, n in enumerate(names)},
                                 "mean_gc": round(float(gc[idx].mean()), 4),
                                 "mean_gc_positives": round(float(gc[pos].mean()), 4) if len(pos) else None}
        print(f"{sname}: {len(idx)} windows ({len(nearw)} peak-near, {len(uni)} uniform + {len(matched)} "
              f"GC-matched background), {int(lab.any(1).sum())} with a label; positives "
              + ", ".join(str(int(v)) for v in lab.sum(0)))
        if sname == "test":
            with open(os.path.join(args.out, "test.fa"), "w") as f:
                for s, w in zip(st, seqs):
                    f.write(f">X:{s + 1}-{s + WIN}\n{bytes(w).decode('ascii')}\n")
    with open(os.path.join(args.out, "labels.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
