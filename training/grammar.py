"""The motif grammar: PWM scanning and the ground-truth labels of a sequence.

Everything here is deterministic and uses integer scores, so the labels of a
sequence never depend on the machine, the batch size or the float order.

    from grammar import Grammar
    g = Grammar.load()                 # training/grammar.json + training/motifs.json
    g.labels("ACGT...")                # -> np.uint8 array of 31 labels (grammar order)
    g.labels_batch(codes)              # codes: (B, 1000) uint8 from encode(); -> (B, 31)
    g.sites("ACGT...")                 # motif sites, for explanations and the demo data

Sequences: any letters; uppercase is applied; anything but A/C/G/T (N, IUPAC)
blocks every motif site that overlaps it. Only sites entirely inside the scored
region (grammar.json: scoring.region, the central 400 bp) count.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BASES = "ACGT"
_LUT = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _LUT[ord(_b)] = _i
    _LUT[ord(_b.lower())] = _i
NEG = -10_000_000  # score of a window that overlaps a non-ACGT base


def encode(seqs):
    """str or list of equal-length str -> uint8 codes (0..3 = A,C,G,T; 4 = other)."""
    if isinstance(seqs, str):
        return _LUT[np.frombuffer(seqs.encode("ascii"), dtype=np.uint8)]
    arr = np.frombuffer("".join(seqs).encode("ascii"), dtype=np.uint8).reshape(len(seqs), -1)
    return _LUT[arr]


def triplet_index(codes):
    """(B, L) codes -> (B, L) index of the 3-mer starting at each position (125 values)."""
    c = codes.astype(np.int16)
    pad = np.full((c.shape[0], 2), 4, dtype=np.int16)
    c = np.concatenate([c, pad], 1)
    return c[:, :-2] * 25 + c[:, 1:-1] * 5 + c[:, 2:]


def decode(codes):
    return "".join(np.array(list("ACGTN"))[codes])


def _score_pvalue_threshold(mat, bg, p_value):
    """Smallest integer score s with P_bg(score >= s) <= p_value (exact, by convolution)."""
    cur_lo = 0
    dist = np.array([1.0])  # dist[k] = P(partial score == cur_lo + k)
    for row in mat:
        rlo, rhi = int(row.min()), int(row.max())
        new = np.zeros(len(dist) + rhi - rlo)
        for b in range(4):
            shift = int(row[b]) - rlo
            new[shift:shift + len(dist)] += dist * bg[b]
        dist = new
        cur_lo += rlo
    tail = np.cumsum(dist[::-1])[::-1]  # tail[k] = P(score >= cur_lo + k)
    ok = np.nonzero(tail <= p_value)[0]
    if len(ok) == 0:
        k = len(dist) - 1
    else:
        k = ok[0]
    return cur_lo + int(k), float(tail[k]), float(tail[-1])


def _tail_pvalue(mat, bg, s):
    """P_bg(score >= s) for an integer score matrix (exact)."""
    dist = {0: 1.0}
    for row in mat:
        new = {}
        for v, p in dist.items():
            for b in range(4):
                k = v + int(row[b])
                new[k] = new.get(k, 0.0) + p * bg[b]
        dist = new
    return float(sum(p for v, p in dist.items() if v >= s))


class Motif:
    def __init__(self, key, entry, bg, pseudocount, p_value, min_relative):
        self.key = key
        self.matrix_id = entry["matrix_id"]
        self.name = entry["name"]
        counts = np.array([entry["counts"][b] for b in BASES], dtype=np.float64).T  # (L, 4)
        self.length = counts.shape[0]
        n = counts.sum(1, keepdims=True)
        self.prob = (counts + pseudocount * bg) / (n + pseudocount)
        llr = np.log2(self.prob / bg)
        self.score = np.rint(llr * 100).astype(np.int64)  # centibits
        self.max_score = int(self.score.max(1).sum())
        thr_p, _, self.p_max = _score_pvalue_threshold(self.score, bg, p_value)
        self.threshold = max(thr_p, int(np.ceil(min_relative * self.max_score)))
        self.p_at_threshold = _tail_pvalue(self.score, bg, self.threshold)
        # lookup tables with a 5th column for non-ACGT codes
        self.fwd = np.concatenate([self.score, np.full((self.length, 1), NEG)], 1).astype(np.int32)
        rc = self.score[::-1, ::-1]  # reverse positions, complement A<->T, C<->G (ACGT order)
        self.rev = np.concatenate([rc, np.full((self.length, 1), NEG)], 1).astype(np.int32)

    def _tables(self, mat):
        """Split the (L, 5) lookup into 3-base chunks (125-entry tables) plus a 1-base rest."""
        tabs = []
        j = 0
        while j + 3 <= self.length:
            t = (mat[j][:, None, None] + mat[j + 1][None, :, None] + mat[j + 2][None, None, :])
            tabs.append((j, 3, np.maximum(t, NEG).reshape(-1).astype(np.int32)))
            j += 3
        while j < self.length:
            tabs.append((j, 1, mat[j].astype(np.int32)))
            j += 1
        return tabs

    def scan(self, codes, idx3=None):
        """codes (B, L) -> best-strand scores (B, L - len + 1) int32 and strand (+1/-1)."""
        b, n = codes.shape
        w = n - self.length + 1
        if idx3 is None:
            idx3 = triplet_index(codes)
        if not hasattr(self, "_ftab"):
            self._ftab = self._tables(self.fwd.astype(np.int64))
            self._rtab = self._tables(self.rev.astype(np.int64))
        f = np.zeros((b, w), dtype=np.int32)
        r = np.zeros((b, w), dtype=np.int32)
        for acc, tabs in ((f, self._ftab), (r, self._rtab)):
            for j, k, t in tabs:
                src = idx3 if k == 3 else codes
                acc += t[src[:, j:j + w]]
        best = np.maximum(f, r)
        strand = np.where(f >= r, 1, -1).astype(np.int8)
        return best, strand

    def site_starts(self, codes, idx3=None):
        """Per sequence: sorted non-overlapping site starts (greedy from the left)."""
        best, _ = self.scan(codes, idx3)
        rows, cols = np.nonzero(best >= self.threshold)
        out = [[] for _ in range(codes.shape[0])]
        for r, c in zip(rows.tolist(), cols.tolist()):
            lst = out[r]
            if not lst or c >= lst[-1] + self.length:
                lst.append(c)
        return out


class Grammar:
    def __init__(self, grammar, motifs_json):
        sc = grammar["scoring"]
        self.bg = np.array([sc["background"][b] for b in BASES])
        self.p_value = sc["p_value"]
        self.region = tuple(sc.get("region", (0, 10 ** 9)))
        self.macros = grammar["macros"]
        self.rules = grammar["profiles"]
        self.labels_order = list(self.rules)
        used = set()
        for r in list(self.rules.values()) + list(self.macros.values()):
            used |= self._motifs_in(r)
        self.motifs = {k: Motif(k, motifs_json["motifs"][k], self.bg, sc["pseudocount"], self.p_value,
                                sc["min_relative_score"])
                       for k in motifs_json["motifs"] if k in used}
        missing = used - set(self.motifs)
        if missing:
            raise ValueError(f"grammar uses motifs not in motifs.json: {sorted(missing)}")
        self.motif_keys = sorted(self.motifs)

    @classmethod
    def load(cls, grammar_path=None, motifs_path=None):
        with open(grammar_path or os.path.join(HERE, "grammar.json")) as f:
            g = json.load(f)
        with open(motifs_path or os.path.join(HERE, "motifs.json")) as f:
            m = json.load(f)
        return cls(g, m)

    # -- rule structure -------------------------------------------------
    def _motifs_in(self, node):
        if "motif" in node:
            return {node["motif"]}
        if "near" in node:
            return set(node["near"])
        if "and" in node or "or" in node:
            s = set()
            for c in node.get("and", node.get("or")):
                s |= self._motifs_in(c)
            return s
        if "not" in node:
            return self._motifs_in(node["not"])
        if "macro" in node:
            return self._motifs_in(self.macros[node["macro"]])
        if "profile" in node:
            return self._motifs_in(self.rules[node["profile"]])
        raise ValueError(f"unknown rule node {node}")

    # -- evaluation -----------------------------------------------------
    def sites_batch(self, codes):
        """{motif key: per-sequence list of site starts} for codes (B, L): the sites that
        lie entirely inside the scored region (window positions region[0]..region[1])."""
        r0, r1 = self.region
        codes = codes[:, r0:min(r1, codes.shape[1])]
        idx3 = triplet_index(codes)
        return {k: [[s + r0 for s in lst] for lst in m.site_starts(codes, idx3)]
                for k, m in self.motifs.items()}

    def _eval(self, node, sites, n, cache):
        key = json.dumps(node, sort_keys=True)
        if key in cache:
            return cache[key]
        if "motif" in node:
            starts = sites[node["motif"]]
            need = node.get("min", 1)
            within = node.get("within")
            length = self.motifs[node["motif"]].length
            out = np.zeros(n, dtype=bool)
            for i, s in enumerate(starts):
                if len(s) < need:
                    continue
                if within is None:
                    out[i] = True
                else:
                    out[i] = any(s[j + need - 1] + length - s[j] <= within
                                 for j in range(len(s) - need + 1))
        elif "near" in node:
            a, b = node["near"]
            la, lb = self.motifs[a].length, self.motifs[b].length
            within = node["within"]
            out = np.zeros(n, dtype=bool)
            for i in range(n):
                sa, sb = sites[a][i], sites[b][i]
                if not sa or not sb:
                    continue
                out[i] = any(
                    abs((x + la / 2) - (y + lb / 2)) <= within and (x + la <= y or y + lb <= x)
                    for x in sa for y in sb)
        elif "and" in node:
            out = np.ones(n, dtype=bool)
            for c in node["and"]:
                out &= self._eval(c, sites, n, cache)
        elif "or" in node:
            out = np.zeros(n, dtype=bool)
            for c in node["or"]:
                out |= self._eval(c, sites, n, cache)
        elif "not" in node:
            out = ~self._eval(node["not"], sites, n, cache)
        elif "macro" in node:
            out = self._eval(self.macros[node["macro"]], sites, n, cache)
        elif "profile" in node:
            out = self._eval(self.rules[node["profile"]], sites, n, cache)
        else:
            raise ValueError(f"unknown rule node {node}")
        cache[key] = out
        return out

    def labels_from_sites(self, sites, n):
        cache = {}
        return np.stack([self._eval(self.rules[p], sites, n, cache) for p in self.labels_order],
                        1).astype(np.uint8)

    def labels_batch(self, codes, chunk=2048):
        """codes (B, 1000) uint8 (see encode) -> labels (B, 31) uint8."""
        codes = np.asarray(codes, dtype=np.uint8)
        out = []
        for i in range(0, len(codes), chunk):
            c = codes[i:i + chunk]
            out.append(self.labels_from_sites(self.sites_batch(c), len(c)))
        return np.concatenate(out) if out else np.zeros((0, len(self.labels_order)), np.uint8)

    def motif_features_batch(self, codes, chunk=2048):
        """codes (B, L) -> (B, 2K) uint8: [has >= 1 site, has >= 2 sites] per motif
        (motif_keys order). Auxiliary training targets for the meta-feature branch,
        the analogue of the DeepSEA chromatin features the original branch was trained on."""
        codes = np.asarray(codes, dtype=np.uint8)
        out = []
        for i in range(0, len(codes), chunk):
            sites = self.sites_batch(codes[i:i + chunk])
            cnt = np.array([[len(sites[k][j]) for k in self.motif_keys]
                            for j in range(len(codes[i:i + chunk]))])
            out.append(np.concatenate([cnt >= 1, cnt >= 2], 1).astype(np.uint8))
        return np.concatenate(out)

    def both_batch(self, codes, chunk=2048):
        """(labels (B, 31), motif features (B, 2K)) with one scan."""
        codes = np.asarray(codes, dtype=np.uint8)
        labs, feats = [], []
        for i in range(0, len(codes), chunk):
            c = codes[i:i + chunk]
            sites = self.sites_batch(c)
            labs.append(self.labels_from_sites(sites, len(c)))
            cnt = np.array([[len(sites[k][j]) for k in self.motif_keys] for j in range(len(c))])
            feats.append(np.concatenate([cnt >= 1, cnt >= 2], 1).astype(np.uint8))
        return np.concatenate(labs), np.concatenate(feats)

    def labels(self, seq):
        """One 1000 bp window (str, any case; shorter is right-padded with N, like the
        model's input) -> the 31 ground-truth labels, uint8, grammar order."""
        if len(seq) > 1000:
            raise ValueError("a window is at most 1000 bp")
        return self.labels_batch(encode(seq.upper().ljust(1000, "N"))[None, :])[0]

    def sites(self, seq, region=True):
        """One sequence -> list of (motif key, start, end, strand, score) sites
        (only those inside the scored region unless region=False)."""
        codes = encode(seq.upper())[None, :]
        r0, r1 = self.region if region else (0, len(seq))
        out = []
        for k, m in self.motifs.items():
            best, strand = m.scan(codes)
            for s in m.site_starts(codes)[0]:
                if r0 <= s and s + m.length <= r1:
                    out.append((k, s, s + m.length, "+" if strand[0, s] > 0 else "-", int(best[0, s])))
        return sorted(out, key=lambda t: t[1])


def render(node, top=True):
    """A rule as readable text."""
    if "motif" in node:
        n, w = node.get("min", 1), node.get("within")
        s = node["motif"] if n == 1 else f"{n}x {node['motif']}"
        return s + (f" within {w} bp" if w else "")
    if "near" in node:
        a, b = node["near"]
        return f"{a} near {b} (centres <= {node['within']} bp)"
    if "and" in node or "or" in node:
        op = "AND" if "and" in node else "OR"
        s = f" {op} ".join(render(c, False) for c in node.get("and", node.get("or")))
        return s if top else f"({s})"
    if "not" in node:
        return "NOT " + render(node["not"], False)
    if "macro" in node:
        return node["macro"]
    if "profile" in node:
        return f"[{node['profile']}]"
    raise ValueError(node)


if __name__ == "__main__":
    g = Grammar.load()
    print("| key | JASPAR | TF | length | threshold (centibits) | max | threshold/max | p per strand-position |")
    print("|---|---|---|---|---|---|---|---|")
    for k in g.motif_keys:
        m = g.motifs[k]
        print(f"| {k} | {m.matrix_id} | {m.name} | {m.length} | {m.threshold} | {m.max_score} | "
              f"{m.threshold / m.max_score:.2f} | {m.p_at_threshold:.1e} |")
    print()
    for k, v in g.macros.items():
        print(f"- **{k}** = {render(v)}")
    print()
    print("| # | profile | rule |")
    print("|---|---|---|")
    for i, p in enumerate(g.labels_order):
        print(f"| {i} | {p} | {render(g.rules[p])} |")
