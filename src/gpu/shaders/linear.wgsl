// Linear layer: y[b * stride + offset + o] = f(bias[o] + sum_i w[o, i] x[b, i]), rows of y of
// `stride` (so two layers can write side by side: the head's concat). f: ReLU (flags 1) or
// sigmoid (flags 4).
// Batched across windows: a workgroup computes OT = 4 outputs for BT = 8 windows, so every
// weight it loads serves 8 windows (the weight matrix is streamed once per 8 windows, not once
// per window). Its 64 invocations split the dot products over i (coalesced loads of rows of w
// and x) into 4 x 8 register accumulators, then reduce them in workgroup memory (8 KB).
struct Params { batch: u32, inputs: u32, outputs: u32, stride: u32, offset: u32, flags: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<u32>;

// How the weights are stored (as in conv.wgsl): 0 f32, 1 int8 packed 4 per u32 times a scale
// per output (bias[outputs + o]), 2 f16 packed 2 per u32; decoded exactly, accumulated in f32.
override WFMT: u32 = 0u;

// `weight(i, scale_at)`: weights.wgsl, prepended.
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const OT: u32 = 4u;
const BT: u32 = 8u;

// partial[j * 64 + lane][q]: window j, output q, one invocation's share.
var<workgroup> partial: array<vec4<f32>, 512>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let otiles = (p.outputs + OT - 1u) / OT;
    let btiles = (p.batch + BT - 1u) / BT;
    let group = wg.x + wg.y * nwg.x;
    if (group >= otiles * btiles) { return; } // the whole workgroup: uniform
    let o0 = (group % otiles) * OT;
    let b0 = (group / otiles) * BT;
    // Rows past the end are clamped to the last one (computed, never written): no branch
    // in the inner loop.
    let last_o = p.outputs - 1u;
    let last_b = p.batch - 1u;
    let q0 = min(o0, last_o);
    let q1 = min(o0 + 1u, last_o);
    let q2 = min(o0 + 2u, last_o);
    let q3 = min(o0 + 3u, last_o);
    let w0 = q0 * p.inputs;
    let w1 = q1 * p.inputs;
    let w2 = q2 * p.inputs;
    let w3 = q3 * p.inputs;
    var xb: array<u32, 8>;
    for (var j = 0u; j < BT; j = j + 1u) { xb[j] = min(b0 + j, last_b) * p.inputs; }
    var acc: array<vec4<f32>, 8>;
    for (var j = 0u; j < BT; j = j + 1u) { acc[j] = vec4<f32>(0.0); }
    for (var i = lid; i < p.inputs; i = i + 64u) {
        let wv = vec4<f32>(weight(w0 + i, p.outputs + q0), weight(w1 + i, p.outputs + q1),
                            weight(w2 + i, p.outputs + q2), weight(w3 + i, p.outputs + q3));
        for (var j = 0u; j < BT; j = j + 1u) {
            acc[j] = acc[j] + wv * x[xb[j] + i];
        }
    }
    for (var j = 0u; j < BT; j = j + 1u) { partial[j * 64u + lid] = acc[j]; }
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s >> 1u) {
        if (lid < s) {
            for (var j = 0u; j < BT; j = j + 1u) {
                partial[j * 64u + lid] = partial[j * 64u + lid] + partial[j * 64u + lid + s];
            }
        }
        workgroupBarrier();
    }
    if (lid >= OT * BT) { return; }
    let j = lid / OT;
    let q = lid % OT;
    let o = o0 + q;
    let b = b0 + j;
    if (o >= p.outputs || b >= p.batch) { return; }
    var v = partial[j * 64u][q] + bias[o];
    if ((p.flags & 1u) != 0u) { v = max(v, 0.0); }
    if ((p.flags & 4u) != 0u) { v = 1.0 / (1.0 + exp(-v)); }
    y[b * p.stride + p.offset + o] = v;
}
