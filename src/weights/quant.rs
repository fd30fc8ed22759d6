//! Weight storage types of our format. int8 is symmetric with one scale per
//! output channel: `w[o, ..] ~= q[o, ..] * scale[o]`, `q = round(w / scale)`
//! clamped to [-127, 127], the scale chosen per row to minimize squared error
//! (see [`quantize_int8`]). Biases always stay f32.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DType {
    F32,
    F16,
    Int8,
}

impl DType {
    /// The scheme's name as written in `model.json`.
    pub fn scheme(self) -> &'static str {
        match self {
            DType::F32 => "none",
            DType::F16 => "f16-cast",
            DType::Int8 => "int8-symmetric-per-output-channel",
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DType::F32 => "f32",
            DType::F16 => "f16",
            DType::Int8 => "int8",
        })
    }
}

impl FromStr for DType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(DType::F32),
            "f16" => Ok(DType::F16),
            "int8" => Ok(DType::Int8),
            other => Err(format!(
                "unknown dtype `{other}` (expected f32, f16 or int8)"
            )),
        }
    }
}

/// Quantizes a weight whose first dimension is the output channel. Each row's
/// scale is the one, among clipping the row's largest magnitude to 100 % down to
/// 50 % of it (in 1 % steps), that minimizes the row's squared rounding error.
pub fn quantize_int8(data: &[f32], out_channels: usize) -> (Vec<i8>, Vec<f32>) {
    let per_out = data.len() / out_channels.max(1);
    let mut q = Vec::with_capacity(data.len());
    let mut scales = Vec::with_capacity(out_channels);
    for row in data.chunks(per_out.max(1)) {
        let max = row.iter().fold(0f32, |m, v| m.max(v.abs()));
        let scale = best_scale(row, max);
        scales.push(scale);
        q.extend(row.iter().map(|&v| quantize(v, scale)));
    }
    (q, scales)
}

fn quantize(v: f32, scale: f32) -> i8 {
    if scale == 0.0 {
        0
    } else {
        (v / scale).round().clamp(-127.0, 127.0) as i8
    }
}

fn best_scale(row: &[f32], max: f32) -> f32 {
    if max == 0.0 {
        return 0.0;
    }
    let sq_err = |scale: f32| -> f64 {
        row.iter()
            .map(|&v| {
                let e = (v - quantize(v, scale) as f32 * scale) as f64;
                e * e
            })
            .sum()
    };
    (50..=100)
        .map(|pct| max * pct as f32 / 100.0 / 127.0)
        .map(|s| (sq_err(s), s))
        .fold((f64::INFINITY, max / 127.0), |best, c| {
            if c.0 < best.0 {
                c
            } else {
                best
            }
        })
        .1
}

pub fn dequantize_int8(q: &[i8], scales: &[f32]) -> Vec<f32> {
    let per_out = q.len() / scales.len().max(1);
    q.chunks(per_out)
        .zip(scales)
        .flat_map(|(row, &s)| row.iter().map(move |&v| v as f32 * s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_round_trip_error_within_half_a_step_or_clipping() {
        // Two rows of very different magnitude: scales are per row.
        let w: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        let w2: Vec<f32> = w.iter().map(|v| v * 0.01).collect();
        let data: Vec<f32> = w.iter().chain(&w2).copied().collect();
        let (q, s) = quantize_int8(&data, 2);
        assert_eq!(s.len(), 2);
        assert!((s[0] / s[1] - 100.0).abs() < 1e-3, "scales {s:?}");
        let back = dequantize_int8(&q, &s);
        for (o, row) in data.chunks(64).enumerate() {
            let clip = 127.0 * s[o];
            let mut mse_ours = 0.0;
            let mut mse_max = 0.0;
            let max_scale = row.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            for (i, v) in row.iter().enumerate() {
                let err = (back[o * 64 + i] - v).abs();
                let bound = s[o] / 2.0 + (v.abs() - clip).max(0.0);
                assert!(err <= bound + 1e-7, "row {o}: {err} > {bound}");
                mse_ours += err * err;
                let e_max = (v / max_scale).round() * max_scale - v;
                mse_max += e_max * e_max;
            }
            assert!(
                mse_ours <= mse_max + 1e-9,
                "row {o}: {mse_ours} > {mse_max}"
            );
        }
    }

    #[test]
    fn all_zero_channel_stays_zero() {
        let (q, s) = quantize_int8(&[0.0; 8], 2);
        assert_eq!(s, vec![0.0, 0.0]);
        assert!(dequantize_int8(&q, &s).iter().all(|v| *v == 0.0));
    }
}
