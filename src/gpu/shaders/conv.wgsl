// conv1d (stride 1, zero padding) + bias, optional ReLU, optional residual add after it,
// as an implicit GEMM: Y[M, N] = W[M, K] X[K, N] with M = output channels, N = windows x
// output positions (flattened, so short maps of late stages fill whole tiles), K = input
// channels x kernel taps (X is the im2col view of the input, never materialized).
// Layout: x [batch, cin, lin], w [cout, cin, KW] (= W[M, K] row-major), y/res [batch, cout, lout].
//
// A workgroup of 64 invocations computes a BM x BN = 32 x 64 tile of Y; each invocation holds
// TM x TN = 4 x 8 accumulators (4 channels x 8 consecutive columns) in registers. K is walked
// in stages of KT = 16 rows: the stage's W tile (KT x BM) and X tile (KT x BN) are staged in
// workgroup memory (6 KB of the 16 KB baseline), then every invocation runs KT steps of one
// vec4 load of W, two vec4 loads of X and 32 multiply-adds.
// KW, the kernel length, is a pipeline-overridable constant (one pipeline per length), so
// the im2col index arithmetic divides by a constant.
// WFMT, also overridable, is how the weights are stored (src/gpu/storage.rs): 0 f32, 1 int8
// codes packed 4 per u32 times a scale per output channel (bias[cout + o]), 2 f16 packed 2 per
// u32. They are decoded while the W tile is staged; the decoded value is the CPU's f32 weight
// bit for bit, and the accumulation is f32 in every case.
struct Params {
    batch: u32, cin: u32, cout: u32, lin: u32,
    lout: u32, k: u32, pad: u32, flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

override KW: u32 = 7u;
override WFMT: u32 = 0u;
const BM: u32 = 32u;
const BN: u32 = 64u;
const KT: u32 = 16u;

// ws[kk * BM/4 + m/4][m % 4] = W[m0 + m, k0 + kk]; xs[kk * BN/4 + n/4][n % 4] = X[k0 + kk, n0 + n].
var<workgroup> ws: array<vec4<f32>, 128>;
var<workgroup> xs: array<vec4<f32>, 256>;

// `weight(i, scale_at)`: weights.wgsl, prepended.

// Writes the 4 channels `o0 .. o0 + 3` of column `col`.
fn store(col: u32, o0: u32, a: vec4<f32>) {
    if (col >= p.batch * p.lout) { return; }
    let b = col / p.lout;
    let t = col % p.lout;
    for (var i = 0u; i < 4u; i = i + 1u) {
        let o = o0 + i;
        if (o >= p.cout) { return; }
        var v = a[i] + bias[o];
        if ((p.flags & 1u) != 0u) { v = max(v, 0.0); }
        let idx = (b * p.cout + o) * p.lout + t;
        if ((p.flags & 2u) != 0u) { v = v + res[idx]; }
        y[idx] = v;
    }
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let mtiles = (p.cout + BM - 1u) / BM;
    let ncols = p.batch * p.lout;
    let ntiles = (ncols + BN - 1u) / BN;
    let group = wg.x + wg.y * nwg.x;
    if (group >= mtiles * ntiles) { return; } // the whole workgroup: uniform
    let m0 = (group % mtiles) * BM;
    let n0 = (group / mtiles) * BN;
    let kdim = p.cin * KW;

    // Staging X: this invocation fills column `lid` of every stage.
    let col = n0 + lid;
    let col_ok = col < ncols;
    let xwin = min(col, ncols - 1u) / p.lout;
    let xt = i32(min(col, ncols - 1u) % p.lout) - i32(p.pad);
    let xbase = xwin * p.cin * p.lin;
    let lin = i32(p.lin);
    // Staging W: row kk = lid % KT, channels lid / KT + 4 r for r in 0..8.
    let wk = lid % KT;
    let wm = lid / KT;
    // Computing: channels m0 + 4 tm .. + 3, columns n0 + 8 tn .. + 7.
    let tm = lid / 8u;
    let tn = lid % 8u;

    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0);
    var a5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0);
    var a7 = vec4<f32>(0.0);
    for (var k0 = 0u; k0 < kdim; k0 = k0 + KT) {
        workgroupBarrier();
        for (var kk = 0u; kk < KT; kk = kk + 1u) {
            let kidx = k0 + kk;
            let pos = xt + i32(kidx % KW);
            var v = 0.0;
            if (col_ok && kidx < kdim && pos >= 0 && pos < lin) {
                v = x[xbase + (kidx / KW) * p.lin + u32(pos)];
            }
            xs[kk * (BN / 4u) + lid / 4u][lid % 4u] = v;
        }
        for (var r = 0u; r < BM / 4u; r = r + 1u) {
            let m = wm + 4u * r;
            let o = m0 + m;
            let kidx = k0 + wk;
            var v = 0.0;
            if (o < p.cout && kidx < kdim) { v = weight(o * kdim + kidx, p.cout + o); }
            ws[wk * (BM / 4u) + m / 4u][m % 4u] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < KT; kk = kk + 1u) {
            let a = ws[kk * (BM / 4u) + tm];
            let b0 = xs[kk * (BN / 4u) + 2u * tn];
            let b1 = xs[kk * (BN / 4u) + 2u * tn + 1u];
            a0 = a0 + a * b0.x;
            a1 = a1 + a * b0.y;
            a2 = a2 + a * b0.z;
            a3 = a3 + a * b0.w;
            a4 = a4 + a * b1.x;
            a5 = a5 + a * b1.y;
            a6 = a6 + a * b1.z;
            a7 = a7 + a * b1.w;
        }
    }
    let c = n0 + 8u * tn;
    let o = m0 + 4u * tm;
    store(c, o, a0);
    store(c + 1u, o, a1);
    store(c + 2u, o, a2);
    store(c + 3u, o, a3);
    store(c + 4u, o, a4);
    store(c + 5u, o, a5);
    store(c + 6u, o, a6);
    store(c + 7u, o, a7);
}
