// Shared by conv.wgsl and linear.wgsl (prepended to each, src/gpu/device.rs): the decode of
// a weight as stored (override WFMT, src/gpu/storage.rs): 0 f32, 1 int8 packed 4 per u32
// times its output's scale, 2 f16 packed 2 per u32. Exact; accumulation stays f32. Each
// kernel declares `w` (array<u32>), `bias` (biases, then the int8 scales) and WFMT.

// f16 bits to f32, exactly (subnormals kept; weights are finite).
fn f16_value(h: u32) -> f32 {
    let sign = (h & 0x8000u) << 16u;
    let e = (h >> 10u) & 0x1fu;
    let m = h & 0x3ffu;
    if (e == 0u) { return bitcast<f32>(bitcast<u32>(f32(m) * 5.9604645e-8) | sign); }
    return bitcast<f32>(sign | ((e + 112u) << 23u) | (m << 13u));
}

// Weight `i` of the flat weight array; an int8 code is scaled by bias[scale_at].
fn weight(i: u32, scale_at: u32) -> f32 {
    if (WFMT == 1u) {
        let code = extractBits(bitcast<i32>(w[i >> 2u]), 8u * (i & 3u), 8u);
        return f32(code) * bias[scale_at];
    }
    if (WFMT == 2u) { return f16_value(extractBits(w[i >> 1u], 16u * (i & 1u), 16u)); }
    return bitcast<f32>(w[i]);
}
