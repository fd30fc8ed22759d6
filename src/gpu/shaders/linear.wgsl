// Linear layer: y[b, offset + o * 1] = f(bias[o] + sum_i w[o, i] x[b, i]), rows of y of `stride`
// (so two layers can write side by side: the head's concat). f: ReLU (flags 1) or sigmoid (flags 4).
// One workgroup per output value; its 64 invocations split the dot product and reduce.
struct Params { batch: u32, inputs: u32, outputs: u32, stride: u32, offset: u32, flags: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let group = wg.x + wg.y * nwg.x;
    let valid = group < p.batch * p.outputs;
    let b = group / p.outputs;
    let o = group % p.outputs;
    var acc = 0.0;
    if (valid) {
        let xb = b * p.inputs;
        let wb = o * p.inputs;
        for (var i = lid.x; i < p.inputs; i = i + 64u) {
            acc = acc + w[wb + i] * x[xb + i];
        }
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s = s >> 1u) {
        if (lid.x < s) { partial[lid.x] = partial[lid.x] + partial[lid.x + s]; }
        workgroupBarrier();
    }
    if (lid.x != 0u || !valid) { return; }
    var v = partial[0] + bias[o];
    if ((p.flags & 1u) != 0u) { v = max(v, 0.0); }
    if ((p.flags & 4u) != 0u) { v = 1.0 / (1.0 + exp(-v)); }
    y[b * p.stride + p.offset + o] = v;
}
