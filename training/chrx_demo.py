"""The page's second demo, "real brain chromatin (chrX, hg19)": a slice of the real hg19 chrX
held out from training (inside the test split), its variants and annotations.

Writes www/demo-chrx/:
  genome.fa.gz (+ .fai, .gzi)  chrX as bgzip FASTA at its real coordinates (1-69,999,930): the
                               slice's real bases, N everywhere else (N runs compress to almost
                               nothing), so the VCF's positions are true hg19 positions
  variants.vcf                 SNVs at real positions: up to half inside neuron ATAC peaks,
                               half away from every peak; the ALT alleles are SYNTHETIC (a random
                               other base), stated in the VCF header
  annotations.tsv              label = 1 when the variant lies in a neuron ATAC peak (Nott 2019),
                               so the page's enrichment analysis asks: do variants with large
                               predicted effects fall in real neuron peaks?
  index.json                   the files, for the page

Needs the genome fetched by chrx_data.py (training/data/hs37chrXtrunc.fa.gz). BGZF and its .gzi
are written here (no htslib on this machine): gzip members of at most 64 KiB with the 'BC'
extra field, the empty end-of-file block, and the .gzi's (compressed, uncompressed) offsets.

    python3 training/chrx_demo.py [--start 50500000 --end 53500000 --variants 300 --seed 7]
"""

import argparse
import gzip
import json
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEAKS = os.path.join(ROOT, "..", "shared", "data", "brain-peaks-nott2019")
LINE = 60
LENGTH = 69_999_930  # the truncated chrX of smalt-examples (bases 1-69,999,930)
EOF_BLOCK = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def read_chrx(path):
    with gzip.open(path, "rt") as f:
        header = f.readline()
        assert header.startswith(">X"), header
        seq = "".join(line.strip() for line in f)
    assert len(seq) == LENGTH, len(seq)
    return seq


def peaks(profile_dir, name, lo, hi):
    out = []
    with gzip.open(os.path.join(PEAKS, profile_dir, name), "rt") as f:
        for line in f:
            c = line.rstrip("\r\n").split("\t")
            if c[0] not in ("chrX", "X"):
                continue
            s, e = int(c[1]), int(c[2])
            if s >= lo and e <= hi:
                out.append((s, e))
    return sorted(out)


def all_peaks(lo, hi):
    spans = []
    for mark in ("ATAC", "H3K27ac", "H3K4me3"):
        for f in sorted(os.listdir(os.path.join(PEAKS, mark))):
            if f.endswith(".bed.gz"):
                spans += peaks(mark, f, lo, hi)
    return sorted(spans)


def bgzf(data, out_path):
    """Writes `data` (bytes) as BGZF; returns the .gzi entries [(compressed, uncompressed)]."""
    entries = []
    with open(out_path, "wb") as out:
        coff = 0
        for uoff in range(0, len(data), 0xFF00):
            chunk = data[uoff:uoff + 0xFF00]
            c = zlib.compressobj(6, zlib.DEFLATED, -15)
            deflated = c.compress(chunk) + c.flush()
            bsize = 18 + len(deflated) + 8
            block = (b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00" + struct.pack("<H", bsize - 1)
                     + deflated + struct.pack("<II", zlib.crc32(chunk) & 0xFFFFFFFF, len(chunk)))
            if uoff:
                entries.append((coff, uoff))
            out.write(block)
            coff += len(block)
        out.write(EOF_BLOCK)
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--genome", default=os.path.join(HERE, "data", "hs37chrXtrunc.fa.gz"))
    ap.add_argument("--out", default=os.path.join(ROOT, "www", "demo-chrx"))
    ap.add_argument("--start", type=int, default=50_500_000, help="0-based slice start (inside the test split)")
    ap.add_argument("--end", type=int, default=53_500_000)
    ap.add_argument("--variants", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    assert 50_000_000 <= a.start < a.end <= 65_000_000, "the slice must lie in the test split (chrX:50-65 Mb)"
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    chrx = read_chrx(a.genome)
    seq = "N" * a.start + chrx[a.start:a.end] + "N" * (LENGTH - a.end)
    fasta = (">chrX\n" + "\n".join(seq[i:i + LINE] for i in range(0, LENGTH, LINE)) + "\n").encode()
    entries = bgzf(fasta, os.path.join(a.out, "genome.fa.gz"))
    with open(os.path.join(a.out, "genome.fa.gz.gzi"), "wb") as f:
        f.write(struct.pack("<Q", len(entries)))
        for c, u in entries:
            f.write(struct.pack("<QQ", c, u))
    with open(os.path.join(a.out, "genome.fa.gz.fai"), "w") as f:
        f.write(f"chrX\t{LENGTH}\t6\t{LINE}\t{LINE + 1}\n")

    # Windows of the model reach 500 bp each side: keep variants 600 bp inside the slice.
    lo, hi = a.start + 600, a.end - 600
    neuron = peaks("ATAC", "NeuN_optimal_peak_IDR_ENCODE.ATAC.bed.gz", lo, hi)
    every = all_peaks(a.start, a.end)
    half = a.variants // 2
    # Up to four positions in each neuron peak (it is a few hundred bp wide), half the variants at most.
    spots = sorted({rng.randrange(s, e) for s, e in neuron for _ in range(4)})
    sites = [(q, 1) for q in rng.sample(spots, min(half, len(spots)))]

    def near_any(p):
        return any(s - 1000 <= p < e + 1000 for s, e in every)
    while len(sites) < a.variants:
        p = rng.randrange(lo, hi)
        if chrx[p] in "ACGT" and not near_any(p):
            sites.append((p, 0))
    sites = sorted(s for s in sites if chrx[s[0]] in "ACGT")

    with open(os.path.join(a.out, "variants.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n"
                "##source=Brain-ResNet training/chrx_demo.py: real hg19 chrX positions; SYNTHETIC ALT alleles (a random other base)\n"
                f"##contig=<ID=chrX,length={LENGTH}>\n"
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for k, (p, _) in enumerate(sites):
            ref = chrx[p].upper()
            alt = rng.choice([b for b in "ACGT" if b != ref])
            f.write(f"chrX\t{p + 1}\tchrx{k + 1:04d}\t{ref}\t{alt}\t.\tPASS\t.\n")
    with open(os.path.join(a.out, "annotations.tsv"), "w") as f:
        f.write("id\tlabel\tref_reads\talt_reads\tgerp\tmaf\tp_value\tpip\n")
        for k, (p, label) in enumerate(sites):
            f.write(f"chrx{k + 1:04d}\t{label}\t.\t.\t.\t.\t.\t.\n")
    index = {
        "description": f"Real hg19 chrX:{a.start + 1:,}-{a.end:,} (held out from the chrX model's training: its test split), "
                       "N elsewhere; variants at real positions with SYNTHETIC ALT alleles; label = in a neuron ATAC peak "
                       "(Nott et al. 2019). Made by training/chrx_demo.py.",
        "model": "brain-chrx-nott2019",
        "files": {"vcf": "variants.vcf", "fasta": "genome.fa.gz", "fai": "genome.fa.gz.fai", "gzi": "genome.fa.gz.gzi",
                  "annotations": "annotations.tsv"},
        "variants": len(sites),
        "in_neuron_peaks": sum(l for _, l in sites),
    }
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(json.dumps(index, indent=1))
    print("sizes:", {n: os.path.getsize(os.path.join(a.out, n)) for n in sorted(os.listdir(a.out))})


if __name__ == "__main__":
    main()
