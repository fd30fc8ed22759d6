// Max pooling with stride = kernel over the last dimension; the remainder is dropped.
// x [rows, lin] -> y [rows, lout], lout = lin / k.
struct Params { rows: u32, lin: u32, lout: u32, k: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    if (idx >= p.rows * p.lout) { return; }
    let r = idx / p.lout;
    let t = idx % p.lout;
    let base = r * p.lin + t * p.k;
    var m = x[base];
    for (var j = 1u; j < p.k; j = j + 1u) { m = max(m, x[base + j]); }
    y[idx] = m;
}
