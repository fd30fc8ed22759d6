//! The integer GEMM kernels of [`super::qconv`], one per instruction set:
//! WebAssembly SIMD128 (`i32x4.dot_i16x8_s`), x86-64 AVX-512 VNNI
//! (`vpdpwssd`), AVX2 (`vpmaddwd`), and a scalar one for everything else.
//! The weights are int8, widened to int16 as they are loaded. All compute
//! the same exact i32 sums per chunk and add them to f32 in
//! the same order, so their results are bit-identical (tested).
//!
//! `gemm` computes, for output positions `j` (whose K values start at
//! `x[bases[j]]`) and channels `c` of every group `g`:
//! `out[j][g * 16 + c] += Σ_p w[g][p][c] · x[bases[j] + 2p ..][..2]`, the pairs
//! `p` summed in i32 in chunks of `flush`. Positions may come from different
//! windows (the short maps of the last stages fill whole register blocks).

use std::sync::atomic::{AtomicU8, Ordering};

use super::qconv::GROUP;

/// A kernel implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    Scalar,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512Vnni,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    Simd128,
}

impl Kernel {
    /// Every kernel this machine can run, the fastest last.
    pub fn available() -> Vec<Kernel> {
        #[allow(unused_mut)]
        let mut k = vec![Kernel::Scalar];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") {
                k.push(Kernel::Avx2);
            }
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vnni")
            {
                k.push(Kernel::Avx512Vnni);
            }
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        k.push(Kernel::Simd128);
        k
    }

    /// The kernel in use: the fastest available unless one is forced.
    pub fn active() -> Kernel {
        let forced = FORCED.load(Ordering::Relaxed);
        let all = Self::available();
        if forced > 0 {
            if let Some(&k) = all.get(usize::from(forced - 1)) {
                return k;
            }
        }
        *all.last().unwrap_or(&Kernel::Scalar)
    }

    /// Its name, for the backend note and the benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => "AVX2",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Vnni => "AVX-512 VNNI",
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            Kernel::Simd128 => "SIMD128 dot_i16x8",
        }
    }
}

/// 1 + the index in [`Kernel::available`] of a forced kernel; 0: none.
static FORCED: AtomicU8 = AtomicU8::new(0);

/// Runs `f` with `kernel` forced (tests and benchmarks compare kernels).
/// Kernels give identical results, so another thread's work is unaffected
/// but for its speed.
pub fn with_kernel<T>(kernel: Kernel, f: impl FnOnce() -> T) -> T {
    let i = Kernel::available()
        .iter()
        .position(|&k| k == kernel)
        .unwrap_or(0);
    FORCED.store(i as u8 + 1, Ordering::Relaxed);
    let r = f();
    FORCED.store(0, Ordering::Relaxed);
    r
}

/// See the module's documentation. Panics if a slice is too short for the
/// shape (a bug, never user data: shapes come from the graph).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    w: &[i8],
    groups: usize,
    pairs: usize,
    flush: usize,
    x: &[i16],
    bases: &[usize],
    out: &mut [f32],
) {
    if bases.is_empty() || pairs == 0 {
        return;
    }
    let width = groups * GROUP;
    assert!(
        w.len() >= groups * pairs * GROUP * 2,
        "packed weights too short"
    );
    let last = bases.iter().max().copied().unwrap_or(0);
    assert!(x.len() >= last + 2 * pairs, "activations too short");
    assert!(out.len() >= bases.len() * width, "output too short");
    let flush = flush.max(1);
    match Kernel::active() {
        Kernel::Scalar => scalar(w, groups, pairs, flush, x, bases, out),
        // SAFETY: the features were detected at run time (Kernel::available);
        // the lengths were checked above.
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 => unsafe { x86::avx2(w, groups, pairs, flush, x, bases, out) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512Vnni => unsafe { x86::avx512(w, groups, pairs, flush, x, bases, out) },
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        Kernel::Simd128 => unsafe { wasm::simd128(w, groups, pairs, flush, x, bases, out) },
    }
}

#[allow(clippy::too_many_arguments)]
fn scalar(
    w: &[i8],
    groups: usize,
    pairs: usize,
    flush: usize,
    x: &[i16],
    bases: &[usize],
    out: &mut [f32],
) {
    let width = groups * GROUP;
    for g in 0..groups {
        let wg = &w[g * pairs * GROUP * 2..(g + 1) * pairs * GROUP * 2];
        for (j, &base) in bases.iter().enumerate() {
            let xj = &x[base..];
            let o = &mut out[j * width + g * GROUP..j * width + (g + 1) * GROUP];
            let mut p0 = 0;
            while p0 < pairs {
                let p1 = (p0 + flush).min(pairs);
                let mut acc = [0i32; GROUP];
                for p in p0..p1 {
                    let (a, b) = (i32::from(xj[2 * p]), i32::from(xj[2 * p + 1]));
                    let wp = &wg[p * GROUP * 2..(p + 1) * GROUP * 2];
                    for (l, s) in acc.iter_mut().enumerate() {
                        *s += i32::from(wp[2 * l]) * a + i32::from(wp[2 * l + 1]) * b;
                    }
                }
                for (d, s) in o.iter_mut().zip(acc) {
                    *d += s as f32;
                }
                p0 = p1;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::GROUP;
    use std::arch::x86_64::*;

    /// The pair `x[at], x[at + 1]` as one i32.
    #[inline(always)]
    unsafe fn pair(x: *const i16, at: usize) -> i32 {
        (x.add(at) as *const i32).read_unaligned()
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn avx512(
        w: &[i8],
        groups: usize,
        pairs: usize,
        flush: usize,
        x: &[i16],
        bases: &[usize],
        out: &mut [f32],
    ) {
        let width = groups * GROUP;
        for g in 0..groups {
            let wg = w.as_ptr().add(g * pairs * GROUP * 2);
            let mut j = 0;
            while j + 8 <= bases.len() {
                let b: [*const i16; 8] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block512::<8>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 8;
            }
            while j + 4 <= bases.len() {
                let b: [*const i16; 4] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block512::<4>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 4;
            }
            while j + 2 <= bases.len() {
                let b: [*const i16; 2] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block512::<2>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 2;
            }
            while j < bases.len() {
                let b: [*const i16; 1] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block512::<1>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 1;
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn block512<const P: usize>(
        wg: *const i8,
        x: [*const i16; P],
        pairs: usize,
        flush: usize,
        out: *mut f32,
        width: usize,
    ) {
        let mut p0 = 0;
        while p0 < pairs {
            let p1 = (p0 + flush).min(pairs);
            let mut acc = [_mm512_setzero_si512(); P];
            for p in p0..p1 {
                let wv = _mm512_cvtepi8_epi16(_mm256_loadu_si256(
                    wg.add(p * GROUP * 2) as *const __m256i
                ));
                for (q, a) in acc.iter_mut().enumerate() {
                    let b = _mm512_set1_epi32(pair(x[q], 2 * p));
                    *a = _mm512_dpwssd_epi32(*a, wv, b);
                }
            }
            for (q, a) in acc.iter().enumerate() {
                let o = out.add(q * width);
                _mm512_storeu_ps(o, _mm512_add_ps(_mm512_loadu_ps(o), _mm512_cvtepi32_ps(*a)));
            }
            p0 = p1;
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(
        w: &[i8],
        groups: usize,
        pairs: usize,
        flush: usize,
        x: &[i16],
        bases: &[usize],
        out: &mut [f32],
    ) {
        let width = groups * GROUP;
        for g in 0..groups {
            let wg = w.as_ptr().add(g * pairs * GROUP * 2);
            let mut j = 0;
            while j + 4 <= bases.len() {
                let b: [*const i16; 4] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block256::<4>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 4;
            }
            while j + 2 <= bases.len() {
                let b: [*const i16; 2] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block256::<2>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 2;
            }
            while j < bases.len() {
                let b: [*const i16; 1] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block256::<1>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 1;
            }
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn block256<const P: usize>(
        wg: *const i8,
        x: [*const i16; P],
        pairs: usize,
        flush: usize,
        out: *mut f32,
        width: usize,
    ) {
        let mut p0 = 0;
        while p0 < pairs {
            let p1 = (p0 + flush).min(pairs);
            let mut lo = [_mm256_setzero_si256(); P];
            let mut hi = [_mm256_setzero_si256(); P];
            for p in p0..p1 {
                let wl =
                    _mm256_cvtepi8_epi16(_mm_loadu_si128(wg.add(p * GROUP * 2) as *const __m128i));
                let wh = _mm256_cvtepi8_epi16(_mm_loadu_si128(
                    wg.add(p * GROUP * 2 + GROUP) as *const __m128i
                ));
                for q in 0..P {
                    let b = _mm256_set1_epi32(pair(x[q], 2 * p));
                    lo[q] = _mm256_add_epi32(lo[q], _mm256_madd_epi16(wl, b));
                    hi[q] = _mm256_add_epi32(hi[q], _mm256_madd_epi16(wh, b));
                }
            }
            for q in 0..P {
                let o = out.add(q * width);
                _mm256_storeu_ps(
                    o,
                    _mm256_add_ps(_mm256_loadu_ps(o), _mm256_cvtepi32_ps(lo[q])),
                );
                let o = o.add(8);
                _mm256_storeu_ps(
                    o,
                    _mm256_add_ps(_mm256_loadu_ps(o), _mm256_cvtepi32_ps(hi[q])),
                );
            }
            p0 = p1;
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use super::GROUP;
    use core::arch::wasm32::*;

    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn simd128(
        w: &[i8],
        groups: usize,
        pairs: usize,
        flush: usize,
        x: &[i16],
        bases: &[usize],
        out: &mut [f32],
    ) {
        let width = groups * GROUP;
        for g in 0..groups {
            let wg = w.as_ptr().add(g * pairs * GROUP * 2);
            let mut j = 0;
            while j + 2 <= bases.len() {
                let b: [*const i16; 2] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block::<2>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 2;
            }
            while j < bases.len() {
                let b: [*const i16; 1] = core::array::from_fn(|q| x.as_ptr().add(bases[j + q]));
                block::<1>(
                    wg,
                    b,
                    pairs,
                    flush,
                    out.as_mut_ptr().add(j * width + g * GROUP),
                    width,
                );
                j += 1;
            }
        }
    }

    #[inline(always)]
    unsafe fn block<const P: usize>(
        wg: *const i8,
        x: [*const i16; P],
        pairs: usize,
        flush: usize,
        out: *mut f32,
        width: usize,
    ) {
        let mut p0 = 0;
        while p0 < pairs {
            let p1 = (p0 + flush).min(pairs);
            let mut acc = [[i32x4_splat(0); 4]; P];
            for p in p0..p1 {
                let wp = wg.add(p * GROUP * 2) as *const v128;
                let (w0, w1) = (v128_load(wp), v128_load(wp.add(1)));
                let wv = [
                    i16x8_extend_low_i8x16(w0),
                    i16x8_extend_high_i8x16(w0),
                    i16x8_extend_low_i8x16(w1),
                    i16x8_extend_high_i8x16(w1),
                ];
                for (q, a) in acc.iter_mut().enumerate() {
                    let b = v128_load32_splat(x[q].add(2 * p) as *const u32);
                    for v in 0..4 {
                        a[v] = i32x4_add(a[v], i32x4_dot_i16x8(wv[v], b));
                    }
                }
            }
            for (q, a) in acc.iter().enumerate() {
                let o = out.add(q * width) as *mut v128;
                for (v, s) in a.iter().enumerate() {
                    let d = o.add(v);
                    v128_store(d, f32x4_add(v128_load(d), f32x4_convert_i32x4(*s)));
                }
            }
            p0 = p1;
        }
    }
}
