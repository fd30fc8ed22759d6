//! How each layer's weights are stored on the GPU: int8 codes packed four to
//! a `u32` with a scale per output channel, f16 packed two to a `u32`, or
//! f32; the kernels bind every weight buffer as `array<u32>` and decode it
//! (a pipeline-overridable constant, `WFMT`, says which storage), always
//! accumulating in f32.
//!
//! The decoded value equals the CPU's f32 weight bit for bit: int8 is `code
//! as f32 * scale` (one f32 multiply, as [`crate::weights::quant::dequantize_int8`]),
//! f16 is an exact widening (subnormals included). A layer is stored as int8
//! or f16 only when that holds for every weight; otherwise it stays f32. So
//! f32 models upload as before, and an int8 model keeps its codes whether the
//! caller has them ([`StoredLayer::Int8`]) or only the dequantized f32
//! weights (the codes and scales are then recovered and checked).

use crate::weights::{LayerWeights, StoredLayer};

/// `WFMT` of the kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Storage {
    F32 = 0,
    Int8 = 1,
    F16 = 2,
}

/// One layer as uploaded: `words` is the weight buffer; `bias` holds the
/// bias, followed for int8 by the scale of each output channel (the kernels
/// read `bias[outputs + o]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PackedLayer {
    pub storage: Storage,
    pub words: Vec<u32>,
    pub bias: Vec<f32>,
}

impl PackedLayer {
    /// Bytes of the weight buffer (the bias buffer aside).
    pub fn weight_bytes(&self) -> usize {
        4 * self.words.len()
    }

    /// Packs a layer as its file stores it: int8 codes as they are, f32
    /// weights as f16 when exactly representable (a layer an int8 model
    /// keeps at f16), else as f32.
    pub fn from_stored(layer: &StoredLayer) -> PackedLayer {
        match layer {
            StoredLayer::F32(l) => Self::from_f32(l),
            StoredLayer::Int8 {
                codes,
                scales,
                bias,
                ..
            } => Self::int8(codes, scales, bias),
        }
    }

    /// Packs f32 weights: as int8 when every output channel is int8 codes
    /// times one scale exactly (a dequantized int8 layer), as f16 when
    /// every weight is an f16 value, else as f32.
    pub fn from_f32(l: &LayerWeights) -> PackedLayer {
        let data = &l.weight.data;
        let out = l.weight.shape.first().copied().unwrap_or(1).max(1);
        if let Some((codes, scales)) = recover_int8(data, out) {
            return Self::int8(&codes, &scales, &l.bias);
        }
        if data.iter().all(|&v| exact_f16(v).is_some()) {
            let halves: Vec<u16> = data.iter().filter_map(|&v| exact_f16(v)).collect();
            let words = halves
                .chunks(2)
                .map(|p| u32::from(p[0]) | (u32::from(p.get(1).copied().unwrap_or(0)) << 16))
                .collect();
            return PackedLayer {
                storage: Storage::F16,
                words,
                bias: l.bias.clone(),
            };
        }
        PackedLayer {
            storage: Storage::F32,
            words: data.iter().map(|v| v.to_bits()).collect(),
            bias: l.bias.clone(),
        }
    }

    fn int8(codes: &[i8], scales: &[f32], bias: &[f32]) -> PackedLayer {
        let words = codes
            .chunks(4)
            .map(|q| {
                q.iter()
                    .enumerate()
                    .fold(0u32, |w, (i, &c)| w | (u32::from(c as u8) << (8 * i)))
            })
            .collect();
        PackedLayer {
            storage: Storage::Int8,
            words,
            bias: bias.iter().chain(scales).copied().collect(),
        }
    }

    /// The weights as the kernels decode them (a host model of the WGSL
    /// decoding, for tests).
    pub fn decode(&self, len: usize) -> Vec<f32> {
        let outputs = match self.storage {
            Storage::Int8 => self.bias.len() / 2,
            _ => self.bias.len(),
        };
        let per = len / outputs.max(1);
        (0..len)
            .map(|i| match self.storage {
                Storage::F32 => f32::from_bits(self.words[i]),
                Storage::Int8 => {
                    let code = (self.words[i / 4] >> (8 * (i % 4))) as u8 as i8;
                    f32::from(code) * self.bias[outputs + i / per.max(1)]
                }
                Storage::F16 => {
                    f16_bits_to_f32(((self.words[i / 2] >> (16 * (i % 2))) & 0xffff) as u16)
                }
            })
            .collect()
    }
}

/// The f16 bits of `v` when `v` is exactly an f16 value (finite).
fn exact_f16(v: f32) -> Option<u16> {
    let h = half::f16::from_f32(v);
    (h.is_finite() && h.to_f32().to_bits() == v.to_bits()).then_some(h.to_bits())
}

/// Widens f16 bits as `conv.wgsl`'s `f16_value` does (exact, subnormals kept).
fn f16_bits_to_f32(h: u16) -> f32 {
    let h = u32::from(h);
    let sign = (h & 0x8000) << 16;
    let exp = (h >> 10) & 0x1f;
    let man = h & 0x3ff;
    if exp == 0 {
        let v = man as f32 * 5.960_464_5e-8; // 2^-24
        f32::from_bits(v.to_bits() | sign)
    } else {
        f32::from_bits(sign | ((exp + 112) << 23) | (man << 13))
    }
}

/// Int8 codes and a scale per row of `data` (`rows` rows) such that `code as
/// f32 * scale` is every weight bit for bit; `None` when there are none. The
/// quantizer maps each row's largest magnitude to 127 (a file may also hold
/// -128), so the scale is within a few ulps of `max / 127` or `max / 128`.
pub fn recover_int8(data: &[f32], rows: usize) -> Option<(Vec<i8>, Vec<f32>)> {
    if rows == 0 || data.is_empty() || !data.len().is_multiple_of(rows) {
        return None;
    }
    let per = data.len() / rows;
    let mut codes = vec![0i8; data.len()];
    let mut scales = vec![0f32; rows];
    for ((row, q), scale) in data
        .chunks(per)
        .zip(codes.chunks_mut(per))
        .zip(scales.iter_mut())
    {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        if !max.is_finite() {
            return None;
        }
        if max == 0.0 {
            // All zero (codes 0, scale 0): -0.0 would come back as +0.0.
            if row.iter().any(|v| v.to_bits() != 0) {
                return None;
            }
            continue;
        }
        *scale = [127.0f32, 128.0]
            .iter()
            .flat_map(|&top| ulps_around(max / top))
            .find(|&s| codes_at(row, s, q))?;
    }
    Some((codes, scales))
}

/// `s` and its neighbours within 2 ulps (positive finite `s`).
fn ulps_around(s: f32) -> impl Iterator<Item = f32> {
    let b = s.to_bits();
    [b, b + 1, b.wrapping_sub(1), b + 2, b.wrapping_sub(2)]
        .into_iter()
        .map(f32::from_bits)
        .filter(|v| v.is_finite() && *v > 0.0)
}

/// Fills `q` with `round(v / s)` and says whether every `q as f32 * s == v`
/// bit for bit.
fn codes_at(row: &[f32], s: f32, q: &mut [i8]) -> bool {
    for (d, &v) in q.iter_mut().zip(row) {
        let c = (v / s).round();
        if !(-128.0..=127.0).contains(&c) || (c * s).to_bits() != v.to_bits() {
            return false;
        }
        *d = c as i8;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weights::quant::{dequantize_int8, quantize_int8};
    use crate::weights::RawTensor;

    fn layer(shape: Vec<usize>, data: Vec<f32>) -> LayerWeights {
        let out = shape[0];
        LayerWeights {
            name: "l".into(),
            weight: RawTensor::new(shape, data),
            bias: (0..out).map(|i| i as f32 * 0.5).collect(),
        }
    }

    fn sample(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                let h = (i as u32 ^ seed).wrapping_mul(2_654_435_761);
                (h >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    #[test]
    fn int8_codes_from_the_file_and_recovered_from_f32_decode_to_the_same_bits() {
        let data = sample(6 * 5 * 7, 3);
        let (codes, scales) = quantize_int8(&data, 6);
        let f32s = dequantize_int8(&codes, &scales);
        let stored = StoredLayer::Int8 {
            name: "l".into(),
            shape: vec![6, 5, 7],
            codes: codes.clone(),
            scales: scales.clone(),
            bias: vec![0.25; 6],
        };
        let from_file = PackedLayer::from_stored(&stored);
        let mut l = layer(vec![6, 5, 7], f32s.clone());
        l.bias = vec![0.25; 6];
        let recovered = PackedLayer::from_f32(&l);
        assert_eq!(from_file.storage, Storage::Int8);
        assert_eq!(recovered.storage, Storage::Int8);
        assert_eq!(from_file.words.len(), (210usize).div_ceil(4));
        let bits = |v: Vec<f32>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(from_file.decode(210)), bits(f32s.clone()));
        assert_eq!(bits(recovered.decode(210)), bits(f32s));
    }

    #[test]
    fn f16_layers_pack_two_per_word_and_f32_layers_stay_f32() {
        let halves: Vec<f32> = sample(33, 5)
            .iter()
            .map(|v| half::f16::from_f32(*v).to_f32())
            // Subnormal f16 values (2^-24, -50 x 2^-24) and both zeros.
            .chain([0x0001, 0x8032, 0x0000, 0x8000].map(|b| half::f16::from_bits(b).to_f32()))
            .collect();
        let p = PackedLayer::from_f32(&layer(vec![37, 1], halves.clone()));
        assert_eq!(p.storage, Storage::F16);
        assert_eq!(p.words.len(), 19);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&p.decode(37)), bits(&halves));
        let f32s = sample(40, 9);
        let p = PackedLayer::from_f32(&layer(vec![4, 10], f32s.clone()));
        assert_eq!(p.storage, Storage::F32);
        assert_eq!(bits(&p.decode(40)), bits(&f32s));
    }
}
