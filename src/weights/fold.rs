//! From a checkpoint's state dict to inference weights: every tensor the
//! architecture needs is checked, inference-time batch norms are folded into the
//! convolution before them, and the unused block batch norms are dropped.

use super::shapes::check_shape;
use super::{LayerWeights, RawTensor, TensorMap, Weights};
use crate::architecture::Config;
use crate::error::Result;

/// PyTorch's default BatchNorm epsilon, used by the trained network.
pub const BN_EPS: f64 = 1e-5;

/// Builds the inference weights of `cfg` from a checkpoint's tensors.
pub fn fold_checkpoint(cfg: &Config, map: &TensorMap, source_name: &str) -> Result<Weights> {
    let mut layers = vec![];
    for spec in cfg.layers() {
        let wkey = format!("{}.weight", spec.name);
        check_shape(map, &wkey, &spec.weight_shape(), source_name)?;
        let n = spec.out_channels();
        let mut weight = map[&wkey].clone();
        let mut bias = if spec.has_bias {
            let bkey = format!("{}.bias", spec.name);
            check_shape(map, &bkey, &[n], source_name)?;
            map[&bkey].data.clone()
        } else {
            vec![0.0; n]
        };
        if let Some(bn) = &spec.folded_bn {
            let field = |f: &str| -> Result<&RawTensor> {
                let key = format!("{bn}.{f}");
                check_shape(map, &key, &[n], source_name)?;
                Ok(&map[&key])
            };
            let (gamma, beta) = (field("weight")?, field("bias")?);
            let (mean, var) = (field("running_mean")?, field("running_var")?);
            let per_out = weight.data.len() / n;
            let rows = weight.data.chunks_mut(per_out).zip(bias.iter_mut());
            for (o, (row, b)) in rows.enumerate() {
                let s = gamma.data[o] as f64 / (var.data[o] as f64 + BN_EPS).sqrt();
                for w in row {
                    *w = (*w as f64 * s) as f32;
                }
                *b = ((*b as f64 - mean.data[o] as f64) * s + beta.data[o] as f64) as f32;
            }
        }
        layers.push(LayerWeights {
            name: spec.name,
            weight,
            bias,
        });
    }
    Ok(Weights { layers })
}

/// Deterministic random weights for `cfg` (benchmarks and tests of the full-size
/// architecture): uniform in +-sqrt(3 / fan_in), so activations keep their scale.
pub fn random_weights(cfg: &Config, seed: u64) -> Weights {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut uniform = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let v = state.wrapping_mul(0x2545F4914F6CDD1D) >> 40;
        v as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
    };
    let layers = cfg
        .layers()
        .into_iter()
        .map(|spec| {
            let shape = spec.weight_shape();
            let numel: usize = shape.iter().product();
            let fan_in = numel / shape[0];
            let a = (3.0 / fan_in as f32).sqrt();
            let data = (0..numel).map(|_| a * uniform()).collect();
            let bias = (0..shape[0]).map(|_| 0.1 * uniform()).collect();
            LayerWeights {
                name: spec.name,
                weight: RawTensor::new(shape, data),
                bias,
            }
        })
        .collect();
    Weights { layers }
}
