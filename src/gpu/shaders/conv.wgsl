// conv1d (stride 1, zero padding) + bias, optional ReLU, optional residual add after it.
// Layout: x [batch, cin, lin], w [cout, cin, k], y/res [batch, cout, lout].
// A workgroup computes 64 consecutive output positions of one (batch, out-channel) row;
// the input span those positions read is staged once per input channel in workgroup memory.
struct Params {
    batch: u32, cin: u32, cout: u32, lin: u32,
    lout: u32, k: u32, pad: u32, flags: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TILE: u32 = 64u;
const MAX_K: u32 = 16u;
var<workgroup> span: array<f32, 80>; // TILE + MAX_K

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let tiles = (p.lout + TILE - 1u) / TILE;
    let group = wg.x + wg.y * nwg.x;
    let row = group / tiles;              // b * cout + o
    let valid_row = row < p.batch * p.cout;
    let o = row % p.cout;
    let b = row / p.cout;
    let t0 = (group % tiles) * TILE;
    let t = t0 + lid.x;
    var acc = 0.0;
    let width = TILE + p.k - 1u;
    for (var i = 0u; i < p.cin; i = i + 1u) {
        workgroupBarrier();
        let xb = (b * p.cin + i) * p.lin;
        for (var j = lid.x; j < width; j = j + TILE) {
            let pos = i32(t0 + j) - i32(p.pad);
            var v = 0.0;
            if (valid_row && pos >= 0 && pos < i32(p.lin)) { v = x[xb + u32(pos)]; }
            span[j] = v;
        }
        workgroupBarrier();
        if (valid_row && t < p.lout) {
            let wb = (o * p.cin + i) * p.k;
            for (var k = 0u; k < p.k; k = k + 1u) {
                acc = acc + w[wb + k] * span[lid.x + k];
            }
        }
    }
    if (!valid_row || t >= p.lout) { return; }
    acc = acc + bias[o];
    if ((p.flags & 1u) != 0u) { acc = max(acc, 0.0); }
    let idx = row * p.lout + t;
    if ((p.flags & 2u) != 0u) { acc = acc + res[idx]; }
    y[idx] = acc;
}
