//! Integer convolutions: int16 activations times int8 weights, summed
//! exactly in i32, for the models whose weights are int8 codes anyway.
//!
//! Why: WebAssembly SIMD128 has no fused f32 multiply-add (a multiply and an
//! add: 4 multiply-adds per two instructions) but `i32x4.dot_i16x8_s` does 8
//! per instruction; natively AVX-512 VNNI's `vpdpwssd` does 32 per instruction
//! against 16 for an f32 FMA. The int8 codes are kept as they are (packed
//! as int8: a quarter of the f32 copy, widened in the kernels); the
//! activations are rounded to 14 bits (±8191 times a per-window scale), a
//! relative step of 1/16,382 of the map's largest value.
//!
//! Layout: a convolution is a GEMM over K = kernel × in_channels, ordered
//! (tap, channel). With the input channels-last (`[position][channel]`, zero
//! rows as padding), the K values of output position `j` are the contiguous
//! slice starting at `j * in_channels`: no im2col copy. Weights are packed in
//! groups of 16 output channels, for each pair of K values
//! `[w(c, 2p), w(c, 2p + 1)]` for the 16 channels (32 bytes; 64 widened to
//! int16), the operand of the pairwise dot product of every instruction set
//! used here.
//!
//! Exactness: within a chunk of `flush` pairs no i32 sum can overflow (the
//! bound is set from the weights' and the activations' largest codes), and
//! the chunks' sums are added to f32 in order. Integer sums do not depend on
//! the order of their terms, so every kernel (scalar, SIMD128, AVX2, AVX-512)
//! gives bit-identical results: the page and the CLI agree exactly.

use super::simd;

/// Largest activation code: activations are `round(x / scale)` in ±ACT_MAX.
pub const ACT_MAX: i32 = 8191;
/// Largest weight code (int8 as the quantizer writes it: ±127).
const WEIGHT_MAX: i32 = 127;
/// Output channels per packed group.
pub(super) const GROUP: usize = 16;

/// Per window, the activation scale and its inverse (`x ≈ q * scale`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActScale {
    pub scale: f32,
    pub inv: f32,
}

impl ActScale {
    /// The scale that maps `max_abs` to [`ACT_MAX`] (1 for an all-zero map).
    pub fn for_max(max_abs: f32) -> ActScale {
        if max_abs > 0.0 && max_abs.is_finite() {
            ActScale {
                scale: max_abs / ACT_MAX as f32,
                inv: ACT_MAX as f32 / max_abs,
            }
        } else {
            ActScale {
                scale: 1.0,
                inv: 1.0,
            }
        }
    }

    /// The scale of a range `factor` times as wide (a power of two keeps it
    /// exact): incremental ALTs are quantized with their reference's scale
    /// widened, so that a stronger site than any in the reference is not
    /// clamped.
    pub fn widened(self, factor: f32) -> ActScale {
        ActScale {
            scale: self.scale * factor,
            inv: self.inv / factor,
        }
    }

    /// `x / scale` rounded to the nearest code (ties to even), clamped to
    /// ±ACT_MAX. Adding and subtracting 1.5 x 2^23 rounds in plain f32
    /// arithmetic, the same bits on every target; `f32::round` is a libm call
    /// on x86-64's baseline and on wasm32 (4-5 % of a native profile).
    fn code(self, x: f32) -> i16 {
        const ROUND: f32 = 12_582_912.0;
        let v = (x * self.inv).clamp(-ACT_MAX as f32, ACT_MAX as f32);
        ((v + ROUND) - ROUND) as i16
    }
}

/// A convolution (stride 1, zero padding) with packed integer weights.
pub struct QConv {
    pub out_ch: usize,
    pub in_ch: usize,
    pub kernel: usize,
    groups: usize,
    pairs: usize,
    /// Pairs per chunk summed in i32 before the f32 accumulation.
    flush: usize,
    /// `[groups][pairs][GROUP][2]`.
    w: Vec<i8>,
    w_scale: Vec<f32>,
    bias: Vec<f32>,
}

impl QConv {
    /// Packs `weight` (`[out, in, kernel]`, PyTorch layout) when every
    /// channel is int8 codes times a scale (a layer stored as int8, then
    /// dequantized: the codes are recovered exactly); `None` otherwise (a
    /// layer kept at f16 or f32).
    pub fn new(
        weight: &[f32],
        out_ch: usize,
        in_ch: usize,
        kernel: usize,
        bias: Vec<f32>,
    ) -> Option<Self> {
        let k_len = in_ch * kernel;
        let mut codes = vec![0i8; weight.len()];
        let mut scales = vec![0f32; out_ch];
        for (c, (row, q)) in weight
            .chunks(k_len.max(1))
            .zip(codes.chunks_mut(k_len.max(1)))
            .enumerate()
            .take(out_ch)
        {
            let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            if max == 0.0 {
                continue;
            }
            if !max.is_finite() {
                return None;
            }
            // The quantizer maps each channel's largest magnitude to ±127.
            let inv = WEIGHT_MAX as f32 / max;
            for (d, &v) in q.iter_mut().zip(row) {
                let code = v * inv;
                let r = code.round();
                if (code - r).abs() > 1e-3 {
                    return None;
                }
                *d = r as i8;
            }
            scales[c] = max / WEIGHT_MAX as f32;
        }
        Self::from_codes(&codes, &scales, out_ch, in_ch, kernel, bias)
    }

    /// Packs int8 `codes` (`[out, in, kernel]`) with a scale per output
    /// channel, as an int8 file stores them.
    pub fn from_codes(
        codes: &[i8],
        scales: &[f32],
        out_ch: usize,
        in_ch: usize,
        kernel: usize,
        bias: Vec<f32>,
    ) -> Option<Self> {
        let k_len = in_ch * kernel;
        if codes.len() != out_ch * k_len || scales.len() != out_ch || bias.len() != out_ch {
            return None;
        }
        let pairs = k_len.div_ceil(2);
        let groups = out_ch.div_ceil(GROUP);
        let mut w = vec![0i8; groups * pairs * GROUP * 2];
        for (c, row) in codes.chunks(k_len.max(1)).enumerate() {
            let (g, lane) = (c / GROUP, c % GROUP);
            for (ci, taps) in row.chunks(kernel.max(1)).enumerate() {
                for (t, &q) in taps.iter().enumerate() {
                    let k = t * in_ch + ci;
                    w[((g * pairs + k / 2) * GROUP + lane) * 2 + k % 2] = q;
                }
            }
        }
        // Two products per lane and pair: keep every chunk's sum within i32
        // (a file may hold -128, which the quantizer never writes).
        let wmax = codes
            .iter()
            .map(|&q| i64::from(q).abs())
            .max()
            .unwrap_or(0)
            .max(1);
        let per_pair = 2 * wmax * i64::from(ACT_MAX);
        let flush = ((i64::from(i32::MAX) / per_pair) as usize).clamp(1, pairs.max(1));
        Some(QConv {
            out_ch,
            in_ch,
            kernel,
            groups,
            pairs,
            flush,
            w,
            w_scale: scales.to_vec(),
            bias,
        })
    }

    /// `relu?(conv(x) + bias)` for `n` windows of `x` (`[n, in_ch, len]`,
    /// channel-major, f32), each quantized with its own scale, with `padding`
    /// zeros on both sides. Returns `[n, out_ch, len_out]`, channel-major.
    pub fn forward(
        &self,
        x: &[f32],
        n: usize,
        len: usize,
        padding: usize,
        scales: &[ActScale],
        relu: bool,
    ) -> Vec<f32> {
        let rows = len + 2 * padding;
        let len_out = (rows + 1).saturating_sub(self.kernel);
        // One extra zero pair at the end: an odd K reads one value past the last row.
        let stride = rows * self.in_ch + 2;
        let mut q = vec![0i16; n * stride];
        for_each_window(&mut q, stride, |i, dst| {
            let (win, s) = (
                &x[i * self.in_ch * len..(i + 1) * self.in_ch * len],
                scales[i],
            );
            for (ci, chan) in win.chunks_exact(len).enumerate() {
                for (t, &v) in chan.iter().enumerate() {
                    dst[(t + padding) * self.in_ch + ci] = s.code(v);
                }
            }
        });
        let width = self.groups * GROUP;
        let mut y = vec![0f32; n * self.out_ch * len_out];
        if len_out == 0 {
            return y;
        }
        // Whole windows at a time, about CHUNK_POSITIONS output positions: the
        // i32 sums' f32 buffer stays small whatever the batch (wasm memory
        // never shrinks, so a peak stays resident).
        let per_chunk = (CHUNK_POSITIONS / len_out).max(1);
        let mut acc = vec![0f32; per_chunk.min(n) * len_out * width];
        for (c0, y_chunk) in (0..n)
            .step_by(per_chunk)
            .zip(y.chunks_mut(per_chunk * self.out_ch * len_out))
        {
            let windows = per_chunk.min(n - c0);
            // Output positions of the chunk's windows in order; position g reads
            // its K values from `bases[g]`. Tiles of TILE_POSITIONS positions may
            // span windows, so the short maps of the last stages fill register blocks.
            let bases: Vec<usize> = (c0..c0 + windows)
                .flat_map(|i| (0..len_out).map(move |j| i * stride + j * self.in_ch))
                .collect();
            let acc = &mut acc[..bases.len() * width];
            acc.fill(0.0);
            let run = |bases: &[usize], out: &mut [f32]| {
                simd::gemm(&self.w, self.groups, self.pairs, self.flush, &q, bases, out);
            };
            for_each_tile(acc, width, &bases, run);
            let acc = &*acc;
            for_each_window(y_chunk, self.out_ch * len_out, |k, dst| {
                let src = &acc[k * len_out * width..(k + 1) * len_out * width];
                let scale = scales[c0 + k].scale;
                for c in 0..self.out_ch {
                    let m = self.w_scale[c] * scale;
                    let b = self.bias[c];
                    for (j, d) in dst[c * len_out..(c + 1) * len_out].iter_mut().enumerate() {
                        let v = src[j * width + c] * m + b;
                        *d = if relu { v.max(0.0) } else { v };
                    }
                }
            });
        }
        y
    }
}

/// A layer of an int16 network whose weights are not int8 codes (a mixed
/// model's f16 layers): f32, each output summed over K in one fixed order
/// (vectorized across output channels, never reassociated), so that it too
/// gives the same bits natively and in wasm.
pub struct FConv {
    pub out_ch: usize,
    pub in_ch: usize,
    pub kernel: usize,
    /// `[K][out_ch]`, K ordered (tap, channel) as the channels-last input.
    w: Vec<f32>,
    bias: Vec<f32>,
}

impl FConv {
    pub fn new(weight: &[f32], out_ch: usize, in_ch: usize, kernel: usize, bias: Vec<f32>) -> Self {
        let k_len = in_ch * kernel;
        let mut w = vec![0f32; k_len * out_ch];
        for c in 0..out_ch {
            for ci in 0..in_ch {
                for t in 0..kernel {
                    w[(t * in_ch + ci) * out_ch + c] = weight[(c * in_ch + ci) * kernel + t];
                }
            }
        }
        FConv {
            out_ch,
            in_ch,
            kernel,
            w,
            bias,
        }
    }

    /// As [`QConv::forward`], in f32.
    pub fn forward(&self, x: &[f32], n: usize, len: usize, padding: usize, relu: bool) -> Vec<f32> {
        let rows = len + 2 * padding;
        let len_out = (rows + 1).saturating_sub(self.kernel);
        let k_len = self.in_ch * self.kernel;
        let mut y = vec![0f32; n * self.out_ch * len_out];
        let mut xl = vec![0f32; rows * self.in_ch];
        let mut acc = vec![0f32; self.out_ch];
        for (win, out) in x
            .chunks_exact(self.in_ch * len)
            .zip(y.chunks_exact_mut(self.out_ch * len_out))
        {
            xl.fill(0.0);
            for (ci, chan) in win.chunks_exact(len).enumerate() {
                for (t, &v) in chan.iter().enumerate() {
                    xl[(t + padding) * self.in_ch + ci] = v;
                }
            }
            for j in 0..len_out {
                acc.fill(0.0);
                for (k, &v) in xl[j * self.in_ch..j * self.in_ch + k_len]
                    .iter()
                    .enumerate()
                {
                    let wk = &self.w[k * self.out_ch..(k + 1) * self.out_ch];
                    for (a, &wv) in acc.iter_mut().zip(wk) {
                        *a += wv * v;
                    }
                }
                for (c, (&a, &b)) in acc.iter().zip(&self.bias).enumerate() {
                    let v = a + b;
                    out[c * len_out + j] = if relu { v.max(0.0) } else { v };
                }
            }
        }
        y
    }
}

/// `1 / (1 + e^-x)` with a pure-Rust `expf`: the same bits on every target.
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + libm::expf(-x))
}

/// Per window of `x` (`[n, c * len]`), the scale mapping its largest
/// absolute value to [`ACT_MAX`].
pub fn window_scales(x: &[f32], n: usize) -> Vec<ActScale> {
    let per = x.len() / n.max(1);
    x.chunks(per.max(1))
        .take(n)
        .map(|w| ActScale::for_max(w.iter().fold(0f32, |m, v| m.max(v.abs()))))
        .collect()
}

/// Output positions per chunk of windows computed together (see `forward`).
const CHUNK_POSITIONS: usize = 4096;

/// Output positions per task: a task computes every channel of its positions.
const TILE_POSITIONS: usize = 32;

/// Runs `f(i, part)` on every window's part (`per` values) of `data`: on the
/// thread pool natively, in order on wasm32.
pub(super) fn for_each_window<T: Send, F>(data: &mut [T], per: usize, f: F)
where
    F: Fn(usize, &mut [T]) + Sync + Send,
{
    if per == 0 {
        return;
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(per)
            .enumerate()
            .for_each(|(i, d)| f(i, d));
    }
    #[cfg(target_arch = "wasm32")]
    for (i, d) in data.chunks_mut(per).enumerate() {
        f(i, d);
    }
}

/// Runs `f` on every tile of [`TILE_POSITIONS`] positions with its rows of
/// `acc` (`[positions][width]`): on the thread pool natively, in order on wasm32.
fn for_each_tile<F>(acc: &mut [f32], width: usize, bases: &[usize], f: F)
where
    F: Fn(&[usize], &mut [f32]) + Sync + Send,
{
    let tiles = bases.chunks(TILE_POSITIONS);
    let outs = acc.chunks_mut(TILE_POSITIONS * width);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        let parts: Vec<_> = tiles.zip(outs).collect();
        parts.into_par_iter().for_each(|(b, out)| f(b, out));
    }
    #[cfg(target_arch = "wasm32")]
    for (b, out) in tiles.zip(outs) {
        f(b, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f32 convolution the integer one approximates.
    fn reference(
        w: &[f32],
        b: &[f32],
        x: &[f32],
        cin: usize,
        k: usize,
        len: usize,
        p: usize,
    ) -> Vec<f32> {
        let cout = b.len();
        let len_out = len + 2 * p + 1 - k;
        let mut y = vec![0f32; cout * len_out];
        for c in 0..cout {
            for j in 0..len_out {
                let mut s = b[c];
                for ci in 0..cin {
                    for t in 0..k {
                        let pos = j as isize + t as isize - p as isize;
                        if pos >= 0 && (pos as usize) < len {
                            s += w[(c * cin + ci) * k + t] * x[ci * len + pos as usize];
                        }
                    }
                }
                y[c * len_out + j] = s;
            }
        }
        y
    }

    fn lcg(seed: &mut u64) -> f32 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((*seed >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }

    #[test]
    fn close_to_f32_and_every_kernel_identical() {
        let mut seed = 3;
        // Odd K (5 x 3), channels not a multiple of the group, padding.
        for &(cout, cin, k, len, p) in &[(20, 5, 3, 37, 1), (48, 4, 7, 50, 3), (17, 33, 8, 40, 0)] {
            // int8 codes times a per-channel scale, each channel reaching ±127.
            let mut w: Vec<f32> = (0..cout * cin * k)
                .map(|_| (lcg(&mut seed) * 127.0).round())
                .collect();
            for (c, row) in w.chunks_mut(cin * k).enumerate() {
                row[c % (cin * k)] = 127.0;
                row.iter_mut().for_each(|v| *v *= 0.001 * (c + 1) as f32);
            }
            let b: Vec<f32> = (0..cout).map(|_| lcg(&mut seed)).collect();
            let x: Vec<f32> = (0..2 * cin * len)
                .map(|_| lcg(&mut seed).max(0.0))
                .collect();
            let q = QConv::new(&w, cout, cin, k, b.clone()).expect("int8 codes");
            let s = window_scales(&x, 2);
            let y = q.forward(&x, 2, len, p, &s, false);
            let len_out = len + 2 * p + 1 - k;
            for i in 0..2 {
                let r = reference(
                    &w,
                    &b,
                    &x[i * cin * len..(i + 1) * cin * len],
                    cin,
                    k,
                    len,
                    p,
                );
                let got = &y[i * cout * len_out..(i + 1) * cout * len_out];
                let scale = r.iter().fold(0f32, |m, v| m.max(v.abs()));
                let err = r
                    .iter()
                    .zip(got)
                    .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
                assert!(
                    err <= 2e-3 * scale.max(1.0),
                    "{cout}x{cin}x{k}: error {err}"
                );
            }
            for kernel in simd::Kernel::available() {
                let z = simd::with_kernel(kernel, || q.forward(&x, 2, len, p, &s, false));
                assert_eq!(z, y, "{kernel:?} differs from the dispatched kernel");
            }
        }
    }

    #[test]
    fn int8_codes_are_kept_exactly() {
        // Codes -127..=127, every row with a 127 (as a quantizer writes them).
        let w: Vec<f32> = (0..64 * 32 * 8)
            .map(|i| (((i * 37) % 255) as f32 - 127.0) * 0.013)
            .collect();
        let q = QConv::new(&w, 64, 32, 8, vec![0.0; 64]).expect("int8 codes");
        // 256 K values of int8 x 8191: chunks of 1032 pairs never overflow; one chunk here.
        assert_eq!(q.flush, q.pairs);
    }

    #[test]
    fn activation_codes_round_to_nearest_even() {
        let s = ActScale {
            scale: 1.0,
            inv: 1.0,
        };
        let got: Vec<i16> = [
            0.4,
            0.5,
            1.5,
            2.5,
            -0.5,
            -1.5,
            -2.6,
            8190.7,
            9000.0,
            -9000.0,
            f32::NAN,
        ]
        .iter()
        .map(|&x| s.code(x))
        .collect();
        assert_eq!(got, [0, 0, 2, 2, 0, -2, -3, 8191, 8191, -8191, 0]);
    }

    #[test]
    fn a_code_of_minus_128_does_not_overflow() {
        // Every product at its largest with a code the quantizer never writes.
        let (cout, cin, k, len) = (16, 480, 8, 9);
        let codes = vec![-128i8; cout * cin * k];
        let q = QConv::from_codes(&codes, &vec![1.0; cout], cout, cin, k, vec![0.0; cout]).unwrap();
        let x = vec![-1.0f32; cin * len];
        let y = q.forward(&x, 1, len, 0, &window_scales(&x, 1), false);
        let want = 128.0 * (cin * k) as f32;
        for v in y {
            assert!(
                (v - want).abs() <= 1e-4 * want,
                "{v} vs {want}: an i32 sum overflowed"
            );
        }
    }

    #[test]
    fn weights_that_are_not_int8_codes_stay_f32() {
        let w: Vec<f32> = (0..16 * 4 * 3).map(|i| (i as f32 * 0.37).sin()).collect();
        assert!(QConv::new(&w, 16, 4, 3, vec![0.0; 16]).is_none());
    }

    #[test]
    fn the_largest_codes_do_not_overflow() {
        // Every product at its largest: K = 3,840 (the meta branch's third convolution).
        let (cout, cin, k, len) = (16, 480, 8, 9);
        let w = vec![1.0f32; cout * cin * k];
        let x = vec![1.0f32; cin * len];
        let q = QConv::new(&w, cout, cin, k, vec![0.0; cout]).unwrap();
        let y = q.forward(&x, 1, len, 0, &window_scales(&x, 1), false);
        let k_len = (cin * k) as f32;
        for v in y {
            assert!(
                (v - k_len).abs() <= 1e-4 * k_len,
                "{v} vs {k_len}: an i32 sum overflowed"
            );
        }
    }
}
