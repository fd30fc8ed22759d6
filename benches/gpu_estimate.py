#!/usr/bin/env python3
"""Analytic model of the WGSL kernels (src/gpu/shaders/) on two reference GPUs.

    python3 benches/gpu_estimate.py [--batch 16] [--markdown]

For every launch of the published network (the 39 dispatches of src/gpu/plan.rs: 24
convolutions with the residual adds fused, 8 poolings, 7 linear layers) it counts, per
window, the multiply-adds (FMAs), the instructions issued per FMA, the global (L2/DRAM)
and workgroup-memory loads per FMA, and the DRAM bytes, for

  (a) "before": the kernels as they were until issue 19 (one output per invocation, weights
      loaded from global memory on every FMA, 64-position tiles of one (window, channel) row,
      the kernel length a runtime loop bound; linear: one workgroup per (window, output), so
      the weight matrix is streamed once per window);
  (b) "after": the implicit-GEMM conv (32 x 64 tile of output channels x (window, position)
      columns, 4 x 8 register accumulators per invocation, K in stages of 16 staged in
      workgroup memory, kernel length an `override` constant) and the batched linear layer
      (4 outputs x 8 windows per workgroup, workgroup reduction), f32 weights and inputs;
  (c) "int8": (b) with an int8 model's weights kept int8 on the GPU (1 byte per weight read
      from DRAM, decoded in the shader: extract, convert, multiply by the channel's scale;
      WFMT in src/gpu/shaders/) and the windows uploaded as bytes (the unpack dispatch reads
      1 byte and writes 4 per input value).

and prints estimated windows/s for the two reference GPUs of issue 19.

The model (a roofline with an instruction-issue compute roof), per launch:

    time = max(compute, dram) + dispatch overhead / batch
    compute = FMAs / lane_utilisation * issue_slots_per_FMA / (peak_FMA_lanes_per_s * occupancy)
    issue_slots_per_FMA = max(instructions_per_FMA, LSU_RATIO * load_store_instructions_per_FMA)
    dram = bytes / bandwidth

Assumptions, stated so they can be argued with:
  - One warp/SIMD instruction issues per clock per scheduler, and the peak FLOP/s counts one
    FMA per lane per clock, so every instruction (FMA, integer, load, store) takes one FMA's
    issue slot. Loads and stores of 4..16 bytes per lane go through a load/store path with
    a quarter of that rate (LSU_RATIO = 4: 128 bytes/clock/SM of shared memory against 128
    FMA lanes/clock/SM on the RTX 3060 class; Apple's GPUs are similar).
    Broadcast loads (all lanes one address) and conflict-free vec4 loads count as one.
  - OCCUPANCY = 0.8: latency hiding across resident workgroups is imperfect; barriers are
    otherwise not charged (other workgroups run meanwhile).
  - Instruction counts per FMA come from reading the WGSL (unrolled inner loops, constant
    offsets folded); integer index arithmetic is counted explicitly (constants below).
  - DRAM: every activation is read and written once per launch (fused residual read once);
    conv weights are read once per batch (tiles of one layer share them through L2);
    linear weights are read once per window (before) or once per 8 windows (after), as they
    do not fit in L2 (the 12480 x 919 layer alone is 46 MB).
  - DISPATCH_US = 5 microseconds of pipeline drain per dispatch, per batch.
  - Pooling runs as its own pass in all three (fusion into the conv epilogue is not done).
  - int8 decoding: conv stages 8 weights per invocation per stage of 512 FMAs, each +3
    instructions (the scale is one load per channel, hoisted); linear decodes 4 weights per
    32 FMAs, +3 instructions each (scales hoisted out of the loop). Host-to-GPU transfer
    (4 KB instead of 16 KB of input per window) is not modelled (it overlaps with the two
    batches in flight).
These are estimates from counting, not measurements; the software adapters (lavapipe,
SwiftShader) are CPU rasterizers and say nothing about them.
"""

import argparse
import math

GPUS = [
    # name, peak FP32 FLOP/s (2 per FMA), DRAM bytes/s
    ("discrete (RTX 3060 class: 13 TFLOP/s, 360 GB/s)", 13e12, 360e9),
    ("integrated (Apple M1 class: 2.6 TFLOP/s, 68 GB/s)", 2.6e12, 68e9),
]
LSU_RATIO = 4.0
OCCUPANCY = 0.8
DISPATCH_US = 5.0
# The page's CPU path (issue 19: about 20 windows/s at batch 16), for the ratio printed.
PAGE_CPU_WPS = 20.0

# --- the network: the launch list of the published architecture ----------------------

def launches():
    """(name, kind, shape dict) in the order src/gpu/plan.rs schedules them."""
    out = []

    def conv(name, cin, cout, k, pad, lin, residual=False):
        lout = lin + 2 * pad - k + 1
        out.append((name, "conv", dict(cin=cin, cout=cout, k=k, lin=lin, lout=lout,
                                       residual=residual)))
        return lout

    def pool(name, ch, lin, size):
        out.append((name, "pool", dict(ch=ch, lin=lin, lout=lin // size)))
        return lin // size

    def linear(name, i, o):
        out.append((name, "linear", dict(inputs=i, outputs=o)))

    # Branch 1 (meta features).
    n = conv("conv_net.0", 4, 320, 8, 0, 1000)
    n = pool("pool 4", 320, n, 4)
    n = conv("conv_net.4", 320, 480, 8, 0, n)
    n = pool("pool 4", 480, n, 4)
    n = conv("conv_net.8", 480, 960, 8, 0, n)
    n = pool("pool 4", 960, n, 4)
    linear("classifier.0 (meta)", 960 * n, 919)
    linear("classifier.2 (meta)", 919, 919)
    # Branch 2 (residual).
    n = conv("conv1", 4, 48, 7, 3, 1000)
    n = pool("pool 3", 48, n, 3)
    cin = 48
    for stage, cout in enumerate([96, 128, 256, 512], start=1):
        for block in range(2):
            c_in = cin if block == 0 else cout
            if c_in != cout:
                conv(f"layer{stage}.{block}.downsample", c_in, cout, 1, 0, n)
            conv(f"layer{stage}.{block}.conv1", c_in, cout, 7, 3, n)
            conv(f"layer{stage}.{block}.conv2", cout, cout, 7, 3, n, residual=True)
        cin = cout
        n = pool("pool 3", cout, n, 3)
    linear("classifier.0 (res)", cin * n, 1000)
    linear("classifier.2 (res)", 1000, 31)
    linear("classifier.4 (res)", 31, 31)
    linear("head classifier.0", 950, 31)
    linear("head classifier.2", 31, 31)
    return out


# --- per-kernel counts -----------------------------------------------------------------

def conv_before(s, batch):
    """conv.wgsl before issue 19: a workgroup = 64 positions of one (window, channel) row;
    per input channel: stage TILE + k - 1 inputs, 2 barriers, then k FMAs per lane, each
    with a global weight load (broadcast) and a workgroup load."""
    cin, cout, k, lout = s["cin"], s["cout"], s["k"], s["lout"]
    tiles = math.ceil(lout / 64)
    lanes = cout * tiles * 64           # invocations per window
    util = lout / (tiles * 64)
    fma = cin * cout * k * lout
    # Inner loop per lane-FMA: FMA, w load, span load, 2 integer (index, loop) = 5 instr, 2 LSU.
    inner_instr, inner_lsu = 5.0, 2.0
    # Per lane per input channel: staging ~(64 + k - 1)/64 loads + 1 store + ~10 integer.
    stage_instr = 10 + 2 * (64 + k - 1) / 64
    stage_lsu = 2 * (64 + k - 1) / 64
    instr = inner_instr + stage_instr / k
    lsu = inner_lsu + stage_lsu / k
    glob = 1.0 + (64 + k - 1) / 64 / k                   # global loads per lane-FMA
    wgl = 1.0                                             # workgroup loads per lane-FMA
    return dict(fma=fma, util=util, instr=instr, lsu=lsu, glob=glob, wg=wgl,
                lanes=lanes)


BM, BN, KT, TM, TN = 32, 64, 16, 4, 8


def conv_after(s, batch, wbytes=4):
    """conv.wgsl after: implicit GEMM, 32 x 64 tile, 4 x 8 accumulators per invocation;
    `wbytes` per weight (1: int8 decoded while staging W)."""
    cin, cout, k, lout = s["cin"], s["cout"], s["k"], s["lout"]
    kdim = cin * k
    mt = math.ceil(cout / BM)
    nt = math.ceil(batch * lout / BN)
    kt = math.ceil(kdim / KT)
    fma = cin * cout * k * lout
    issued = mt * BM * nt * BN * kt * KT / batch   # lane-FMAs per window, padding included
    util = fma / issued
    # Per stage (64 invocations): compute 16 x (32 FMA + 3 vec4 workgroup loads);
    # staging X 16 values (~10 integer + load + store each), W 8 values (~6 + load + store).
    per_stage_fma = KT * TM * TN
    decode = 8 * 3 if wbytes == 1 else 0
    instr = (per_stage_fma + KT * 3 + 16 * 12 + 8 * 8 + decode) / per_stage_fma
    lsu = (KT * 3 + 16 * 2 + 8 * 2) / per_stage_fma
    glob = (16 + 8) / per_stage_fma
    wgl = KT * 3 / per_stage_fma
    return dict(fma=fma, util=util, instr=instr, lsu=lsu, glob=glob, wg=wgl, wbytes=wbytes)


def linear_before(s, batch):
    i, o = s["inputs"], s["outputs"]
    fma = i * o
    util = min(1.0, i / (64 * math.ceil(i / 64)))
    # Per lane-FMA: 2 global loads, FMA, ~2 integer.
    return dict(fma=fma, util=util, instr=5.0, lsu=2.0, glob=2.0, wg=0.0,
                weight_bytes=4 * i * o)


def linear_after(s, batch, wbytes=4):
    i, o = s["inputs"], s["outputs"]
    fma = i * o
    bt = math.ceil(batch / 8)
    util = min(1.0, i / (64 * math.ceil(i / 64))) * batch / (bt * 8) \
        * o / (4 * math.ceil(o / 4))
    # Per i-step: 4 weight + 8 input loads, 32 FMAs (8 vec4), ~4 integer; int8: +3 per weight.
    decode = 4 * 3 if wbytes == 1 else 0
    return dict(fma=fma, util=util, instr=(32 + 12 + 4 + decode) / 32, lsu=12 / 32,
                glob=12 / 32, wg=0.0, weight_bytes=wbytes * i * o * bt / batch)


def dram_bytes(kind, s, counts, batch):
    if kind == "conv":
        act = 4 * (s["cin"] * s["lin"] + s["cout"] * s["lout"] * (2 if s["residual"] else 1))
        return act + counts.get("wbytes", 4) * s["cin"] * s["cout"] * s["k"] / batch
    if kind == "pool":
        return 4 * s["ch"] * (s["lin"] + s["lout"])
    if kind == "unpack":
        return 5 * s["values"]
    return 4 * (s["inputs"] + s["outputs"]) + counts["weight_bytes"]


VARIANTS = ("before", "after", "int8")


def estimate(batch):
    rows = []
    # The byte inputs' unpack dispatch runs only in "int8" (zero cost elsewhere).
    for name, kind, s in [("unpack (byte inputs)", "unpack", dict(values=4000))] + launches():
        r = dict(name=name, kind=kind)
        for tag, fn in (("before", {"conv": conv_before, "linear": linear_before}),
                        ("after", {"conv": conv_after, "linear": linear_after}),
                        ("int8", {"conv": lambda s, b: conv_after(s, b, 1),
                                  "linear": lambda s, b: linear_after(s, b, 1)})):
            if kind == "unpack" and tag != "int8":
                c = dict(fma=0, util=1.0, instr=0, lsu=0, glob=0, wg=0, dram=0, slots=0,
                         times=[0.0 for _ in GPUS])
                r[tag] = c
                continue
            if kind in ("pool", "unpack"):
                c = dict(fma=0, util=1.0, instr=0, lsu=0, glob=0, wg=0)
            else:
                c = fn[kind](s, batch)
            c["dram"] = dram_bytes(kind, s, c, batch)
            c["slots"] = max(c["instr"], LSU_RATIO * c["lsu"]) if c["fma"] else 0
            times = []
            for _, flops, bw in GPUS:
                fma_rate = flops / 2 * OCCUPANCY
                compute = c["fma"] / c["util"] * c["slots"] / fma_rate if c["fma"] else 0
                t = max(compute, c["dram"] / bw) + DISPATCH_US * 1e-6 / batch
                times.append(t)
            c["times"] = times
            r[tag] = c
        rows.append(r)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args()
    rows = estimate(args.batch)
    fma_total = sum(r["before"]["fma"] for r in rows)
    assert len(rows) == 40, len(rows)  # 39 launches + the unpack dispatch
    assert abs(fma_total / 1e9 - 0.78) < 0.01, fma_total  # the spec's 0.78 G MACs
    print(f"Estimated per-window cost at batch {args.batch} (39 dispatches, +1 unpacking "
          f"byte inputs in int8; {fma_total / 1e9:.3f} G FMA/window). Times in microseconds "
          "per window; before = the kernels before issue 19, after = implicit GEMM with f32 "
          "weights, int8 = the same with int8 weights decoded in the shader and byte inputs.")
    print("| launch | MFMA | before: instr/FMA, LSU/FMA, global ld/FMA, wg ld/FMA, util | "
          "int8: same | DRAM KB before/after/int8 | discrete us before/after/int8 | "
          "integrated us before/after/int8 |")
    print("|---|---:|---|---|---:|---:|---:|")
    totals = [[0.0 for _ in VARIANTS] for _ in GPUS]
    for r in rows:
        b, i8 = r["before"], r["int8"]

        def counts(c):
            if not c["fma"]:
                return "-"
            return (f"{c['instr']:.2f}, {c['lsu']:.3f}, {c['glob']:.3f}, {c['wg']:.3f}, "
                    f"{c['util']:.2f}")
        for g in range(len(GPUS)):
            for v, tag in enumerate(VARIANTS):
                totals[g][v] += r[tag]["times"][g]
        dram = " / ".join(f"{r[t]['dram'] / 1e3:.0f}" for t in VARIANTS)
        us = [" / ".join(f"{r[t]['times'][g] * 1e6:.1f}" for t in VARIANTS)
              for g in range(len(GPUS))]
        print(f"| {r['name']} | {b['fma'] / 1e6:.1f} | {counts(b)} | {counts(i8)} | "
              f"{dram} | {us[0]} | {us[1]} |")
    print()
    print("| GPU | before: windows/s | after (f32): windows/s | int8: windows/s | "
          f"int8 / page CPU ({PAGE_CPU_WPS:.0f}/s) |")
    print("|---|---:|---:|---:|---:|")
    for g, (name, _, _) in enumerate(GPUS):
        wps = [1 / t for t in totals[g]]
        print(f"| {name} | {wps[0]:,.0f} | {wps[1]:,.0f} | {wps[2]:,.0f} | "
              f"{wps[2] / PAGE_CPU_WPS:.0f}x |")


if __name__ == "__main__":
    main()
