//! The network's forward pass on candle tensors (CPU; natively and on wasm32).
//!
//! Batch norms are already folded into the convolution before them, so a layer
//! is conv/linear + bias. The residual block is the one the trained weights
//! expect: `relu(conv2(relu(conv1(x)))) + shortcut(x)`, nothing after the add.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, D};

use super::config::{block_prefix, meta_conv_prefix, Config, LayerKind};
use crate::error::{Error, Result};
use crate::weights::Weights;

pub(super) struct Conv {
    pub(super) weight: Tensor, // [out, in, k]
    pub(super) bias: Tensor,   // [1, out, 1]
    pub(super) padding: usize,
}

impl Conv {
    pub(super) fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.conv1d(&self.weight, self.padding, 1, 1, 1)?
            .broadcast_add(&self.bias)
    }
}

struct Linear {
    weight_t: Tensor, // [in, out], contiguous
    bias: Tensor,     // [out]
}

impl Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

pub(super) struct Block {
    pub(super) conv1: Conv,
    pub(super) conv2: Conv,
    pub(super) shortcut: Option<Conv>,
}

/// Max pooling over the last dimension with stride = kernel; the remainder is dropped.
pub(super) fn max_pool(x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let (b, c, l) = x.dims3()?;
    let keep = l / k * k;
    x.narrow(2, 0, keep)?
        .reshape((b, c, keep / k, k))?
        .max(D::Minus1)
}

fn sigmoid(x: &Tensor) -> candle_core::Result<Tensor> {
    candle_nn::ops::sigmoid(x)
}

pub struct Network {
    pub(super) cfg: Config,
    pub(super) device: Device,
    pub(super) meta_convs: Vec<Conv>,
    meta_fc: Vec<Linear>,
    pub(super) stem: Conv,
    pub(super) stages: Vec<Vec<Block>>,
    res_fc: Vec<Linear>,
    head_fc: Vec<Linear>,
}

impl Network {
    /// Builds the network from inference weights laid out as `cfg.layers()`.
    pub fn new(cfg: &Config, weights: &Weights) -> Result<Self> {
        Self::from_weights(cfg, weights.clone())
    }

    /// [`Network::new`] taking the weights: their buffers become the tensors
    /// without a copy (in the browser, wasm memory never shrinks, so every
    /// copy at load time stays as resident memory).
    pub fn from_weights(cfg: &Config, weights: Weights) -> Result<Self> {
        let device = Device::Cpu;
        let mut convs = HashMap::new();
        let mut linears = HashMap::new();
        let mut by_name: HashMap<String, crate::weights::LayerWeights> = weights
            .layers
            .into_iter()
            .map(|l| (l.name.clone(), l))
            .collect();
        for spec in cfg.layers() {
            let l = by_name
                .remove(&spec.name)
                .ok_or_else(|| Error::MissingKey {
                    source_name: "weights".into(),
                    key: format!("{}.weight", spec.name),
                })?;
            let n = l.bias.len();
            let weight = Tensor::from_vec(l.weight.data, l.weight.shape.as_slice(), &device)?;
            match spec.kind {
                LayerKind::Conv { padding, .. } => {
                    let bias = Tensor::from_vec(l.bias, (1, n, 1), &device)?;
                    convs.insert(
                        spec.name,
                        Conv {
                            weight,
                            bias,
                            padding,
                        },
                    );
                }
                LayerKind::Linear { .. } => {
                    let weight_t = weight.t()?.contiguous()?;
                    let bias = Tensor::from_vec(l.bias, n, &device)?;
                    linears.insert(spec.name, Linear { weight_t, bias });
                }
            }
        }
        // Every name below is one `cfg.layers()` listed, so it was inserted above.
        let mut conv = |name: String| convs.remove(&name);
        let meta_convs = (0..cfg.meta.channels.len())
            .map(|i| conv(meta_conv_prefix(i)).expect("listed layer"))
            .collect();
        let stem = conv("seq_model.conv1".into()).expect("listed layer");
        let stages = cfg
            .resnet
            .stages
            .iter()
            .enumerate()
            .map(|(s, stage)| {
                (0..stage.blocks)
                    .map(|b| {
                        let p = block_prefix(s, b);
                        Block {
                            conv1: conv(format!("{p}.conv1")).expect("listed layer"),
                            conv2: conv(format!("{p}.conv2")).expect("listed layer"),
                            shortcut: conv(format!("{p}.downsample.0")),
                        }
                    })
                    .collect()
            })
            .collect();
        let mut lin = |names: &[&str]| -> Vec<Linear> {
            names
                .iter()
                .map(|n| linears.remove(*n).expect("listed layer"))
                .collect()
        };
        Ok(Network {
            cfg: cfg.clone(),
            meta_fc: lin(&["base_model.classifier.0", "base_model.classifier.2"]),
            res_fc: lin(&[
                "seq_model.classifier.0",
                "seq_model.classifier.2",
                "seq_model.classifier.4",
            ]),
            head_fc: lin(&["classifier.0", "classifier.2"]),
            meta_convs,
            stem,
            stages,
            device,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (meta, r) = self.conv_stack(&mut super::incremental::Plain, x.clone())?;
        self.dense(&meta, &r)
    }

    /// The two convolution branches, written once for every executor (whole
    /// tensors, or the incremental path's patches): returns the meta branch's
    /// and the residual branch's last feature maps.
    pub(super) fn conv_stack<E: super::incremental::Exec>(
        &self,
        e: &mut E,
        x: E::A,
    ) -> candle_core::Result<(E::A, E::A)> {
        // Branch 1: meta-feature convolutions.
        let mut meta = x.clone();
        for c in &self.meta_convs {
            let y = e.conv(&meta, c, true)?;
            meta = e.pool(&y, self.cfg.meta.pool)?;
        }
        // Branch 2: residual network.
        let pool = self.cfg.resnet.pool;
        let y = e.conv(&x, &self.stem, true)?;
        let mut r = e.pool(&y, pool)?;
        for stage in &self.stages {
            for block in stage {
                let y = e.conv(&r, &block.conv1, true)?;
                let y = e.conv(&y, &block.conv2, true)?;
                r = e.residual(&y, &r, block.shortcut.as_ref())?;
            }
            r = e.pool(&r, pool)?;
        }
        Ok((meta, r))
    }

    /// The dense layers on the two branches' last feature maps (`[n, C, L]` each).
    pub(super) fn dense(&self, meta: &Tensor, r: &Tensor) -> candle_core::Result<Tensor> {
        let h = self.meta_fc[0].forward(&meta.flatten_from(1)?)?.relu()?;
        let meta = sigmoid(&self.meta_fc[1].forward(&h)?)?;

        let h = self.res_fc[0].forward(&r.flatten_from(1)?)?.relu()?;
        let h = self.res_fc[1].forward(&h)?.relu()?;
        let res = sigmoid(&self.res_fc[2].forward(&h)?)?;

        // Head on concat(meta-features, residual outputs).
        let h = Tensor::cat(&[&meta, &res], 1)?;
        let h = self.head_fc[0].forward(&h)?.relu()?;
        sigmoid(&self.head_fc[1].forward(&h)?)
    }

    pub(super) fn to_input(&self, windows: &[f32]) -> Result<Tensor> {
        let per = 4 * self.cfg.window;
        if windows.is_empty() || windows.len() % per != 0 {
            return Err(Error::input(
                "predict",
                format!(
                    "{} values is not a whole number of {per}-value windows",
                    windows.len()
                ),
            ));
        }
        Ok(Tensor::from_slice(
            windows,
            (windows.len() / per, 4, self.cfg.window),
            &self.device,
        )?)
    }

    /// Predicts a batch of one-hot windows laid out `[n, 4, window]` in `windows`;
    /// returns `n * outputs` probabilities, row by row.
    pub fn predict(&self, windows: &[f32]) -> Result<Vec<f32>> {
        if windows.is_empty() {
            return Ok(vec![]);
        }
        let y = self.forward(&self.to_input(windows)?)?;
        Ok(y.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    }
}
