#!/usr/bin/env python3
"""Writes the fuzzing seed corpora into fuzz/corpus/<target>/.

Seeds are small on purpose (every execution reads the whole input): the
fixtures' text files and genome indexes (../shared/fixtures, read in place,
copied only into the ignored corpus folder); checkpoints written here, a zip
and a legacy torch.save file each of a few tensors and of a complete network
of tiny widths, with the pickle layout PyTorch writes (the classes are
stand-ins named like torch's, so no torch install is needed); model.json and
weights the CLI converted from that tiny network; a scores TSV it wrote.

usage: python3 fuzz/seeds.py --small-checkpoint OUT.pth
       python3 fuzz/seeds.py FIXTURES MODEL_DIR... SCORES_TSV
"""
import collections
import io
import os
import pickle
import random
import struct
import sys
import types
import zipfile
import zlib

here = os.path.dirname(os.path.abspath(__file__))
small_checkpoint_only = sys.argv[1] == "--small-checkpoint"
fixtures, model_dirs, scores_tsv = sys.argv[1], sys.argv[2:-1], sys.argv[-1]
corpus = os.path.join(here, "corpus")


def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fx(rel):
    with open(os.path.join(fixtures, rel), "rb") as f:
        return f.read()


def bgzf(data, block=60000, gzi=None):
    """BGZF blocks of `block` bytes plus the EOF block (the SAM spec's layout);
    appends (compressed, uncompressed) offsets of blocks after the first to `gzi`."""
    out = b""
    for i in range(0, len(data), block):
        if gzi is not None and i > 0:
            gzi.append((len(out), i))
        chunk = data[i : i + block]
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = c.compress(chunk) + c.flush()
        bsize = len(body) + 25  # the block's size minus one
        out += b"\x1f\x8b\x08\x04" + struct.pack("<IBBH", 0, 0, 255, 6)
        out += b"BC" + struct.pack("<HH", 2, bsize) + body
        out += struct.pack("<II", zlib.crc32(chunk), len(chunk))
    eof = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
    return out + eof


# --- checkpoints ------------------------------------------------------------
# Stand-ins with torch's names: pickle writes GLOBAL by __module__/__qualname__.
torch_mod = types.ModuleType("torch")
utils_mod = types.ModuleType("torch._utils")
sys.modules.setdefault("torch", torch_mod)
sys.modules.setdefault("torch._utils", utils_mod)


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in")


_rebuild_tensor_v2.__module__ = "torch._utils"
_rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2
storage_types = {}
for cls in ["FloatStorage", "HalfStorage", "LongStorage", "DoubleStorage"]:
    t = type(cls, (), {"__module__": "torch"})
    setattr(torch_mod, cls, t)
    storage_types[cls] = t


class Storage:
    def __init__(self, key, cls, data):
        self.key, self.cls, self.data = key, cls, data


class Tensor:
    def __init__(self, storage, offset, shape, stride):
        self.args = (storage, offset, tuple(shape), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (_rebuild_tensor_v2, self.args)


def small_network():
    """A complete state dict of the MetaChrom layout with tiny widths (meta
    convs 2/3/4, stem 2, stages 3/4/5/6 of two blocks): every key the
    converter needs, a few thousand floats in all, so each fuzz execution
    reaches the shape checks and batch-norm folding quickly."""
    rng = random.Random(7)
    shapes = collections.OrderedDict()
    meta = [2, 3, 4]
    for i, out in enumerate(meta):
        shapes[f"base_model.conv_net.{4 * i}.weight"] = (out, 4 if i == 0 else meta[i - 1], 8)
        shapes[f"base_model.conv_net.{4 * i}.bias"] = (out,)
    shapes["base_model.classifier.0.weight"] = (3, meta[-1] * 13)
    shapes["base_model.classifier.0.bias"] = (3,)
    shapes["base_model.classifier.2.weight"] = (3, 3)
    shapes["base_model.classifier.2.bias"] = (3,)

    def bn(prefix, n):
        for f in ["weight", "bias", "running_mean", "running_var"]:
            shapes[f"{prefix}.{f}"] = (n,)
        shapes[f"{prefix}.num_batches_tracked"] = ()

    shapes["seq_model.conv1.weight"] = (2, 4, 7)
    shapes["seq_model.conv1.bias"] = (2,)
    bn("seq_model.bn1", 2)
    prev = 2
    for s, c in enumerate([3, 4, 5, 6]):
        for b in range(2):
            p = f"seq_model.layer{s + 1}.{b}"
            cin = prev if b == 0 else c
            shapes[f"{p}.conv1.weight"] = (c, cin, 7)
            shapes[f"{p}.conv1.bias"] = (c,)
            bn(f"{p}.bn1", c)
            shapes[f"{p}.conv2.weight"] = (c, c, 7)
            shapes[f"{p}.conv2.bias"] = (c,)
            bn(f"{p}.bn2", c)
            if b == 0:
                shapes[f"{p}.downsample.0.weight"] = (c, cin, 1)
                bn(f"{p}.downsample.1", c)
        prev = c
    shapes["seq_model.classifier.0.weight"] = (3, prev * 4)
    shapes["seq_model.classifier.0.bias"] = (3,)
    shapes["seq_model.classifier.2.weight"] = (4, 3)
    shapes["seq_model.classifier.2.bias"] = (4,)
    shapes["seq_model.classifier.4.weight"] = (4, 4)
    shapes["seq_model.classifier.4.bias"] = (4,)
    shapes["classifier.0.weight"] = (5, 3 + 4)
    shapes["classifier.0.bias"] = (5,)
    shapes["classifier.2.weight"] = (31, 5)
    shapes["classifier.2.bias"] = (31,)
    storages, sd = [], collections.OrderedDict()
    for k, shape in shapes.items():
        n = 1
        for d in shape:
            n *= d
        stride, acc = [], 1
        for d in reversed(shape):
            stride.insert(0, acc)
            acc *= d
        key = str(len(storages))
        if k.endswith("num_batches_tracked"):
            st = Storage(key, "LongStorage", struct.pack("<q", 100))
        elif k.endswith("running_var"):
            st = Storage(key, "FloatStorage", struct.pack(f"<{n}f", *[0.5 + rng.random() for _ in range(n)]))
        else:
            st = Storage(key, "FloatStorage", struct.pack(f"<{n}f", *[rng.uniform(-0.5, 0.5) for _ in range(n)]))
        storages.append(st)
        sd[k] = Tensor(st, 0, shape, stride)
    return storages, {"epoch": 1, "state_dict": sd}


def storages_and_state():
    f32 = Storage("0", "FloatStorage", struct.pack("<12f", *[i / 7 for i in range(12)]))
    f16 = Storage("1", "HalfStorage", struct.pack("<4e", 0.5, -1.0, 2.0, 65504.0))
    i64 = Storage("2", "LongStorage", struct.pack("<q", 3))
    sd = collections.OrderedDict()
    sd["model.conv.weight"] = Tensor(f32, 0, [2, 2, 3], [6, 3, 1])
    sd["model.conv.bias"] = Tensor(f16, 2, [2], [1])
    sd["model.linear.weight"] = Tensor(f32, 1, [2, 3], [1, 2])  # a transposed view
    sd["model.bn.num_batches_tracked"] = Tensor(i64, 0, [], [])
    top = {"epoch": 3, "state_dict": sd, "loss": 0.25}
    return [f32, f16, i64], top


class ZipPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            numel = len(obj.data) // {"FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8}[obj.cls]
            return ("storage", storage_types[obj.cls], obj.key, "cpu", numel)
        return None


def zip_checkpoint(storages, top):
    buf = io.BytesIO()
    ZipPickler(buf, protocol=2).dump(top)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        for s in storages:
            z.writestr(f"archive/data/{s.key}", s.data)
        z.writestr("archive/version", b"3\n")
    return zbuf.getvalue()


# Small seeds only: every execution reads the whole input (the mini fixture
# checkpoints, 0.4-1.2 MB, would cut the rate a hundredfold).


class LegacyPickler(ZipPickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            pid = super().persistent_id(obj)
            return pid + (None,)
        return None


MAGIC = 0x1950A86A20F9469CFC6C


def legacy_checkpoint(storages, top):
    legacy = io.BytesIO()
    pickle.dump(MAGIC, legacy, protocol=2)
    assert legacy.tell() == 15
    pickle.dump(1001, legacy, protocol=2)
    pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"int": 4, "long": 4}}, legacy, protocol=2)
    LegacyPickler(legacy, protocol=2).dump(top)
    pickle.dump([s.key for s in storages], legacy, protocol=2)
    for s in storages:
        size = {"FloatStorage": 4, "HalfStorage": 2, "LongStorage": 8}[s.cls]
        legacy.write(struct.pack("<q", len(s.data) // size) + s.data)
    return legacy.getvalue()


def twobit(contigs):
    """A .2bit (version 0, little-endian) of (name, sequence) pairs, N runs
    as N blocks and lowercase runs as mask blocks (UCSC's format)."""
    def runs(seq, pred):
        out, i = [], 0
        while i < len(seq):
            if pred(seq[i]):
                s = i
                while i < len(seq) and pred(seq[i]):
                    i += 1
                out.append((s, i - s))
            else:
                i += 1
        return out

    bodies = []
    for _, seq in contigs:
        b = struct.pack("<I", len(seq))
        for blocks in [runs(seq, lambda c: c in "Nn"), runs(seq, str.islower)]:
            b += struct.pack("<I", len(blocks)) + b"".join(struct.pack("<I", s) for s, _ in blocks)
            b += b"".join(struct.pack("<I", l) for _, l in blocks)
        b += struct.pack("<I", 0)
        codes = {"T": 0, "C": 1, "A": 2, "G": 3}
        for i in range(0, len(seq), 4):
            byte = 0
            for k, c in enumerate(seq[i : i + 4]):
                byte |= codes.get(c.upper(), 0) << (6 - 2 * k)
            b += bytes([byte])
        bodies.append(b)
    out = struct.pack("<IIII", 0x1A412743, 0, len(contigs), 0)
    at = 16 + sum(1 + len(n) + 4 for n, _ in contigs)
    for (name, _), body in zip(contigs, bodies):
        out += bytes([len(name)]) + name.encode() + struct.pack("<I", at)
        at += len(body)
    return out + b"".join(bodies)


def small_genome():
    """fuzz/data/: a small genome (plain, bgzip in 256-byte blocks, their
    .fai and .gzi) that the genome targets open on every execution; small so
    that each execution is quick, with the fixture genome's features (a
    lowercase repeat, an N gap, contigs of several lengths)."""
    rng = random.Random(11)
    contigs = [
        ("chr1", "".join(rng.choice("ACGT") for _ in range(700)) + "acgtacgtac" * 20 + "N" * 100 + "".join(rng.choice("ACGT") for _ in range(500))),
        ("chr2", "".join(rng.choice("ACGT") for _ in range(400))),
        ("chrM", "".join(rng.choice("ACGT") for _ in range(171))),
    ]
    fasta, fai = b"", b""
    for name, seq in contigs:
        fasta += f">{name} synthetic\n".encode()
        offset = len(fasta)
        for i in range(0, len(seq), 60):
            fasta += seq[i : i + 60].encode() + b"\n"
        fai += f"{name}\t{len(seq)}\t{offset}\t60\t61\n".encode()
    gzi = []
    gz = bgzf(fasta, block=256, gzi=gzi)
    put("twobit", "small.2bit", twobit(contigs))
    d = os.path.join(here, "data")
    os.makedirs(d, exist_ok=True)
    for name, data in [
        ("genome.fa", fasta),
        ("genome.fa.fai", fai),
        ("genome.fa.gz", gz),
        ("genome.fa.gz.gzi", struct.pack("<Q", len(gzi)) + b"".join(struct.pack("<QQ", *e) for e in gzi)),
    ]:
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return fasta, fai, gz, gzi


if small_checkpoint_only:
    with open(sys.argv[2], "wb") as f:
        f.write(legacy_checkpoint(*small_network()))
    sys.exit(0)

# --- text formats ---------------------------------------------------------
vcf = fx("variants.vcf")
put("vcf", "variants.vcf", vcf)
put("vcf", "variants.vcf.gz", bgzf(vcf))
put("vcf", "small.vcf", b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\nchr1\t5001\tx\tT\tC,G\n1\t10\t.\tCA\tC\n")
put("fasta", "sequences.fa", fx("sequences.fa"))
put("fasta", "genome-head.fa", fx("genome/genome.fa")[:4000])
small_fasta, small_fai, small_gz, small_gzi = small_genome()
put("fai", "small.fa.fai", small_fai)
put("fai", "fixture.fa.fai", fx("genome/genome.fa.fai"))
put("gzi", "small.fa.gz.gzi", open(os.path.join(here, "data", "genome.fa.gz.gzi"), "rb").read())
put("gzi", "fixture.fa.gz.gzi", fx("genome/genome.fa.gz.gzi"))
put("bgzip", "small.fa.gz", small_gz)
put("fasta_index", "small.fa", small_fasta)
put("genotypes", "23andme.txt", b"# This data file generated by 23andMe\n# rsid\tchromosome\tposition\tgenotype\nrs1\t1\t100\tAG\nrs2\t1\t700\t--\nrs3\tMT\t50\tT\nrs4\t2\t10\tDI\n")
put("genotypes", "ancestry.txt", b"#AncestryDNA raw data download\nrsid\tchromosome\tposition\tallele1\tallele2\nrs1\t1\t100\tA\tG\nrs2\t26\t50\tT\tT\nrs3\t23\t5\t0\t0\n")
put("genotypes", "myheritage.csv", b"# MyHeritage DNA raw data.\nRSID,CHROMOSOME,POSITION,RESULT\n\"rs1\",\"1\",\"100\",\"AG\"\n\"rs2\",\"2\",\"7\",\"--\"\n")
put("fasta_index", "crlf.fa", small_fasta.replace(b"\n", b"\r\n"))
put("fasta_index", "sequences.fa", fx("sequences.fa"))
put("bgzip", "variants.vcf.gz", bgzf(vcf))
seqs = [l for l in fx("sequences.fa").decode().splitlines() if l and not l.startswith(">")]
pairs = "name\tref_sequence\talt_sequence\n" + "".join(
    f"p{i}\t{s}\t{s[:10]}A{s[11:]}\n" for i, s in enumerate(seqs[:4])
) + "# comment\nshort\tACGT\n"
put("pairs", "pairs.tsv", pairs.encode())
put(
    "annotations",
    "by-id.tsv",
    b"id\tlabel\tref_reads\talt_reads\tgerp\tmaf\tp_value\tpip\nsnv_mid\t1\t10\t3\t2.5\t0.1\t0.01\t0.9\nx\t0\t.\tNA\t-1\t0.4\t1\t0\n",
)
put("annotations", "by-locus.tsv", b"chrom\tpos\tref\talt\tmaf\nchr1\t5001\tT\tC\t0.2\n")
with open(scores_tsv, "rb") as f:
    put("scores_tsv", "scores.tsv", f.read())

# --- model.json and weights -----------------------------------------------
for d in model_dirs:
    tag = os.path.basename(os.path.normpath(d))
    with open(os.path.join(d, "model.json"), "rb") as f:
        manifest = f.read()
    with open(os.path.join(d, "weights.safetensors"), "rb") as f:
        weights = f.read()
    put("model_json", f"{tag}.json", manifest)
    if len(weights) <= 1 << 20:  # larger seeds slow every execution
        put("safetensors", f"{tag}.bin", struct.pack("<I", len(manifest)) + manifest + weights)

# --- checkpoints: small seeds only ------------------------------------------
# Every execution reads the whole input: the mini fixture checkpoints (0.4-1.2 MB)
# would cut the rate a hundredfold.
put("checkpoint_zip", "tiny.pth", zip_checkpoint(*storages_and_state()))
put("checkpoint_zip", "small-network.pth", zip_checkpoint(*small_network()))
# (tests/data/zip-bomb.pth, 294 KiB and slow to read, stays a regression test.)
for name in ["os-system.pth"]:
    with open(os.path.join(here, "..", "tests", "data", name), "rb") as f:
        put("checkpoint_zip", name, f.read())
# The legacy target prepends the magic number itself.
put("checkpoint_legacy", "tiny-legacy.bin", legacy_checkpoint(*storages_and_state())[15:])
put("checkpoint_legacy", "small-network-legacy.bin", legacy_checkpoint(*small_network())[15:])
print("seeds:", {t: len(os.listdir(os.path.join(corpus, t))) for t in sorted(os.listdir(corpus))})
