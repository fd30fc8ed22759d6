//! The architecture's widths, read from a checkpoint's tensor shapes (never
//! hard-coded), and the list of inference layers they imply.
//!
//! Layer names are the checkpoint's own key prefixes (see
//! ../shared/spec/architecture.md). Batch norms are folded away at import, so an
//! inference layer is either a convolution or a linear layer with a bias.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, ShapeText};
use crate::weights::TensorMap;

/// Meta-feature branch (`base_model.*`): valid convolutions, ReLU, max pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetaConfig {
    pub channels: Vec<usize>,
    pub kernel: usize,
    pub pool: usize,
    pub hidden: usize,
    pub outputs: usize,
}

/// One stage of residual blocks and the channels they produce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResStage {
    pub channels: usize,
    pub blocks: usize,
}

/// Residual branch (`seq_model.*`): same-padded convolutions, stages of blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResConfig {
    pub stem: usize,
    pub kernel: usize,
    pub pool: usize,
    pub stages: Vec<ResStage>,
    pub hidden: usize,
    pub outputs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Input window in base pairs.
    #[serde(rename = "window_length")]
    pub window: usize,
    pub meta: MetaConfig,
    pub resnet: ResConfig,
    /// Width of the head's hidden layer (`classifier.0`).
    pub head_hidden: usize,
    /// Number of predicted profiles.
    pub outputs: usize,
}

/// What an inference layer computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerKind {
    /// Conv1d with `padding` zeros on both sides, stride 1.
    Conv {
        in_ch: usize,
        out_ch: usize,
        kernel: usize,
        padding: usize,
    },
    Linear {
        inputs: usize,
        outputs: usize,
    },
}

/// An inference layer: checkpoint key prefix, kind, and the batch norm (if any)
/// folded into it at import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    pub name: String,
    pub kind: LayerKind,
    /// Does the checkpoint store a bias for this layer (before folding)?
    pub has_bias: bool,
    /// Checkpoint prefix of the BatchNorm that follows, folded into this layer.
    pub folded_bn: Option<String>,
}

impl LayerSpec {
    /// Shape of the weight tensor, PyTorch layout (`[out, in, k]` or `[out, in]`).
    pub fn weight_shape(&self) -> Vec<usize> {
        match self.kind {
            LayerKind::Conv {
                in_ch,
                out_ch,
                kernel,
                ..
            } => vec![out_ch, in_ch, kernel],
            LayerKind::Linear { inputs, outputs } => vec![outputs, inputs],
        }
    }

    pub fn out_channels(&self) -> usize {
        self.weight_shape()[0]
    }

    /// Weights plus bias after folding.
    pub fn parameters(&self) -> usize {
        self.weight_shape().iter().product::<usize>() + self.out_channels()
    }
}

fn conv(name: String, in_ch: usize, out_ch: usize, kernel: usize, padding: usize) -> LayerSpec {
    LayerSpec {
        name,
        kind: LayerKind::Conv {
            in_ch,
            out_ch,
            kernel,
            padding,
        },
        has_bias: true,
        folded_bn: None,
    }
}

fn linear(name: String, inputs: usize, outputs: usize) -> LayerSpec {
    LayerSpec {
        name,
        kind: LayerKind::Linear { inputs, outputs },
        has_bias: true,
        folded_bn: None,
    }
}

/// Keys of a stage's block: `seq_model.layer{stage+1}.{block}`.
pub fn block_prefix(stage: usize, block: usize) -> String {
    format!("seq_model.layer{}.{block}", stage + 1)
}

/// Key of meta convolution `i` (`base_model.conv_net.{4 i}`: conv, ReLU, pool, dropout).
pub fn meta_conv_prefix(i: usize) -> String {
    format!("base_model.conv_net.{}", 4 * i)
}

impl Config {
    /// The published Brain-ResNet / MetaChrom architecture (28,234,359 parameters).
    pub fn published() -> Self {
        Config {
            window: 1000,
            meta: MetaConfig {
                channels: vec![320, 480, 960],
                kernel: 8,
                pool: 4,
                hidden: 919,
                outputs: 919,
            },
            resnet: ResConfig {
                stem: 48,
                kernel: 7,
                pool: 3,
                stages: [96, 128, 256, 512]
                    .into_iter()
                    .map(|channels| ResStage {
                        channels,
                        blocks: 2,
                    })
                    .collect(),
                hidden: 1000,
                outputs: 31,
            },
            head_hidden: 31,
            outputs: 31,
        }
    }

    /// Reads every width from the tensor shapes of a checkpoint (keys without
    /// any `module.` prefix), then checks every tensor the architecture needs.
    /// Pool sizes and the 1000 bp window are fixed by the architecture.
    pub fn from_checkpoint(map: &TensorMap, source_name: &str) -> Result<Config> {
        let shape = |key: &str| -> Result<&[usize]> {
            map.get(key)
                .map(|t| t.shape.as_slice())
                .ok_or_else(|| Error::MissingKey {
                    source_name: source_name.to_string(),
                    key: key.to_string(),
                })
        };
        let dim = |key: &str, rank: usize, i: usize| -> Result<usize> {
            let s = shape(key)?;
            if s.len() != rank {
                return Err(Error::input(
                    source_name,
                    format!("tensor `{key}` has shape {s:?}, expected a rank-{rank} tensor"),
                ));
            }
            Ok(s[i])
        };

        let mut meta_channels = vec![];
        while map.contains_key(&format!("{}.weight", meta_conv_prefix(meta_channels.len()))) {
            meta_channels.push(dim(
                &format!("{}.weight", meta_conv_prefix(meta_channels.len())),
                3,
                0,
            )?);
        }
        let meta_kernel = dim("base_model.conv_net.0.weight", 3, 2)?;
        let mut stages = vec![];
        loop {
            let mut blocks = 0;
            while map.contains_key(&format!(
                "{}.conv1.weight",
                block_prefix(stages.len(), blocks)
            )) {
                blocks += 1;
            }
            if blocks == 0 {
                break;
            }
            let channels = dim(
                &format!("{}.conv1.weight", block_prefix(stages.len(), 0)),
                3,
                0,
            )?;
            stages.push(ResStage { channels, blocks });
        }
        if stages.is_empty() {
            return Err(Error::MissingKey {
                source_name: source_name.to_string(),
                key: "seq_model.layer1.0.conv1.weight".into(),
            });
        }
        let cfg = Config {
            window: 1000,
            meta: MetaConfig {
                channels: meta_channels,
                kernel: meta_kernel,
                pool: 4,
                hidden: dim("base_model.classifier.0.weight", 2, 0)?,
                outputs: dim("base_model.classifier.2.weight", 2, 0)?,
            },
            resnet: ResConfig {
                stem: dim("seq_model.conv1.weight", 3, 0)?,
                kernel: dim("seq_model.conv1.weight", 3, 2)?,
                pool: 3,
                stages,
                hidden: dim("seq_model.classifier.0.weight", 2, 0)?,
                outputs: dim("seq_model.classifier.2.weight", 2, 0)?,
            },
            head_hidden: dim("classifier.0.weight", 2, 0)?,
            outputs: dim("classifier.2.weight", 2, 0)?,
        };
        cfg.validate(source_name)?;
        cfg.check_checkpoint(map, source_name)?;
        Ok(cfg)
    }

    /// Rejects configurations whose feature maps would vanish.
    pub fn validate(&self, source_name: &str) -> Result<()> {
        let bad = |m: String| Err(Error::input(source_name, m));
        if self.meta.channels.is_empty() {
            return bad("no meta-feature convolution (`base_model.conv_net.0`)".into());
        }
        if self.resnet.kernel % 2 == 0 {
            return bad(format!(
                "residual kernel {} is even; same padding needs an odd kernel",
                self.resnet.kernel
            ));
        }
        if self.meta_flat_len() == 0 || self.res_flat_len() == 0 {
            return bad(format!(
                "a {} bp window leaves no positions after pooling",
                self.window
            ));
        }
        Ok(())
    }

    /// Length of the meta branch's feature map before flattening (13 for 1000 bp).
    pub fn meta_len(&self) -> usize {
        let mut len = self.window;
        for _ in &self.meta.channels {
            len = len.saturating_sub(self.meta.kernel - 1) / self.meta.pool;
        }
        len
    }

    pub fn meta_flat_len(&self) -> usize {
        self.meta.channels.last().copied().unwrap_or(0) * self.meta_len()
    }

    /// Length of the residual branch's feature map before flattening (4 for 1000 bp).
    pub fn res_len(&self) -> usize {
        let mut len = self.window / self.resnet.pool;
        for _ in &self.resnet.stages {
            len /= self.resnet.pool;
        }
        len
    }

    pub fn res_flat_len(&self) -> usize {
        self.resnet.stages.last().map_or(0, |s| s.channels) * self.res_len()
    }

    /// Every inference layer, in the order the forward pass uses them.
    pub fn layers(&self) -> Vec<LayerSpec> {
        let mut out = vec![];
        let m = &self.meta;
        let mut in_ch = 4;
        for (i, &c) in m.channels.iter().enumerate() {
            out.push(conv(meta_conv_prefix(i), in_ch, c, m.kernel, 0));
            in_ch = c;
        }
        out.push(linear(
            "base_model.classifier.0".into(),
            self.meta_flat_len(),
            m.hidden,
        ));
        out.push(linear(
            "base_model.classifier.2".into(),
            m.hidden,
            m.outputs,
        ));

        let r = &self.resnet;
        let pad = r.kernel / 2;
        let mut stem = conv("seq_model.conv1".into(), 4, r.stem, r.kernel, pad);
        stem.folded_bn = Some("seq_model.bn1".into());
        out.push(stem);
        let mut in_ch = r.stem;
        for (s, stage) in r.stages.iter().enumerate() {
            for b in 0..stage.blocks {
                let p = block_prefix(s, b);
                out.push(conv(
                    format!("{p}.conv1"),
                    in_ch,
                    stage.channels,
                    r.kernel,
                    pad,
                ));
                out.push(conv(
                    format!("{p}.conv2"),
                    stage.channels,
                    stage.channels,
                    r.kernel,
                    pad,
                ));
                if in_ch != stage.channels {
                    let mut sc = conv(format!("{p}.downsample.0"), in_ch, stage.channels, 1, 0);
                    sc.has_bias = false;
                    sc.folded_bn = Some(format!("{p}.downsample.1"));
                    out.push(sc);
                }
                in_ch = stage.channels;
            }
        }
        out.push(linear(
            "seq_model.classifier.0".into(),
            self.res_flat_len(),
            r.hidden,
        ));
        out.push(linear("seq_model.classifier.2".into(), r.hidden, r.outputs));
        out.push(linear(
            "seq_model.classifier.4".into(),
            r.outputs,
            r.outputs,
        ));

        out.push(linear(
            "classifier.0".into(),
            m.outputs + r.outputs,
            self.head_hidden,
        ));
        out.push(linear(
            "classifier.2".into(),
            self.head_hidden,
            self.outputs,
        ));
        out
    }

    /// Every tensor a checkpoint must hold, with its shape. The block-internal
    /// batch norms (`bn1`, `bn2`), unused by the trained network, are not required.
    pub fn checkpoint_tensors(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = vec![];
        for layer in self.layers() {
            let n = layer.out_channels();
            out.push((format!("{}.weight", layer.name), layer.weight_shape()));
            if layer.has_bias {
                out.push((format!("{}.bias", layer.name), vec![n]));
            }
            if let Some(bn) = &layer.folded_bn {
                for field in ["weight", "bias", "running_mean", "running_var"] {
                    out.push((format!("{bn}.{field}"), vec![n]));
                }
            }
        }
        out
    }

    fn check_checkpoint(&self, map: &TensorMap, source_name: &str) -> Result<()> {
        for (key, expected) in self.checkpoint_tensors() {
            check_shape(map, &key, &expected, source_name)?;
        }
        Ok(())
    }

    /// Parameters of the network as trained (folded batch norms and the unused
    /// block batch norms counted as in the checkpoint's `parameters()`).
    pub fn trained_parameter_count(&self) -> usize {
        let mut n: usize = self.layers().iter().map(LayerSpec::parameters).sum();
        for layer in self.layers() {
            if !layer.has_bias {
                n -= layer.out_channels(); // folding adds a bias the checkpoint lacks
            }
            if layer.folded_bn.is_some() {
                n += 2 * layer.out_channels(); // BN weight and bias
            }
        }
        // Unused bn1/bn2 inside every block: weight and bias each.
        for s in &self.resnet.stages {
            n += s.blocks * 2 * 2 * s.channels;
        }
        n
    }

    /// Multiply-adds for one window (batch norms folded, pooling and adds not counted).
    pub fn macs_per_window(&self) -> u64 {
        let conv = |i: usize, o: usize, k: usize, len: usize| (i * o * k * len) as u64;
        let (m, r) = (&self.meta, &self.resnet);
        let mut macs = 0;
        let (mut len, mut in_ch) = (self.window, 4);
        for &c in &m.channels {
            let out_len = len.saturating_sub(m.kernel - 1);
            macs += conv(in_ch, c, m.kernel, out_len);
            (len, in_ch) = (out_len / m.pool, c);
        }
        macs += (self.meta_flat_len() * m.hidden + m.hidden * m.outputs) as u64;
        let mut len = self.window;
        macs += conv(4, r.stem, r.kernel, len);
        len /= r.pool;
        let mut in_ch = r.stem;
        for stage in &r.stages {
            let c = stage.channels;
            for _ in 0..stage.blocks {
                macs += conv(in_ch, c, r.kernel, len) + conv(c, c, r.kernel, len);
                if in_ch != c {
                    macs += conv(in_ch, c, 1, len);
                }
                in_ch = c;
            }
            len /= r.pool;
        }
        macs +=
            (self.res_flat_len() * r.hidden + r.hidden * r.outputs + r.outputs * r.outputs) as u64;
        macs +=
            ((m.outputs + r.outputs) * self.head_hidden + self.head_hidden * self.outputs) as u64;
        macs
    }
}

/// Checks that `map[key]` exists with shape `expected`.
pub fn check_shape(
    map: &TensorMap,
    key: &str,
    expected: &[usize],
    source_name: &str,
) -> Result<()> {
    match map.get(key) {
        None => Err(Error::MissingKey {
            source_name: source_name.to_string(),
            key: key.to_string(),
        }),
        Some(t) if t.shape != expected => Err(Error::Shape {
            source_name: source_name.to_string(),
            key: key.to_string(),
            expected: ShapeText(expected.to_vec()),
            found: ShapeText(t.shape.clone()),
        }),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_sizes_match_the_spec() {
        let cfg = Config::published();
        assert_eq!(cfg.meta_len(), 13);
        assert_eq!(cfg.meta_flat_len(), 12480);
        assert_eq!(cfg.res_len(), 4);
        assert_eq!(cfg.res_flat_len(), 2048);
        assert_eq!(cfg.trained_parameter_count(), 28_234_359);
        // Folding drops 2 x 1040 BN parameters and 7936 unused block BN
        // parameters, and gives the 4 downsample convolutions a bias (992).
        let inference: usize = cfg.layers().iter().map(|l| l.parameters()).sum();
        assert_eq!(inference, 28_234_359 - 2 * 1040 - 7936 + 992);
        let gmac = cfg.macs_per_window() as f64 / 1e9;
        assert!((gmac - 0.78).abs() < 0.01, "{gmac} GMAC per window");
    }
}
