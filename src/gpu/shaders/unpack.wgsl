// The input windows arrive as bytes, 4 per u32 (one-hot values 0 and 1: a quarter of the f32
// upload); this widens them into the f32 input buffer the first convolution reads.
struct Params { count: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let idx = gid.x + gid.y * nwg.x * 64u;
    if (idx >= p.count) { return; }
    y[idx] = f32(extractBits(x[idx >> 2u], 8u * (idx & 3u), 8u));
}
