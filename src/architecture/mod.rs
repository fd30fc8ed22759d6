//! The network's description: its widths ([`Config`], read from a checkpoint's
//! tensor shapes by `weights::shapes`, never hard-coded) and the one list of
//! operations they imply ([`Graph`]), which every backend walks.
//!
//! Layer names are the checkpoint's own key prefixes (see
//! ../shared/spec/architecture.md). Batch norms are folded away at import, so an
//! inference layer is either a convolution or a linear layer with a bias.

use serde::{Deserialize, Serialize};

pub mod graph;

pub use graph::{Activation, Graph, LayerKind, LayerSpec, Op, Shape, ValueId};

use crate::error::{Error, Result};

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

/// Bounds on a configuration read from a file, checked by [`Config::validate`]
/// before any shape is computed: far above any MetaChrom-like network (the
/// published one: 1000 bp, 960 channels, kernels of 8 and 9, 28 M parameters),
/// low enough that no shape arithmetic overflows, in 32-bit WebAssembly too.
pub mod limits {
    /// Window length in base pairs.
    pub const WINDOW: usize = 1 << 16;
    /// Channels of a convolution, units of a linear layer.
    pub const WIDTH: usize = 1 << 14;
    pub const KERNEL: usize = 1 << 10;
    /// Meta convolutions, residual stages.
    pub const LAYERS: usize = 16;
    /// Blocks of a residual stage.
    pub const BLOCKS: usize = 64;
    /// Parameters of the whole network (4 GiB as f32).
    pub const PARAMETERS: u64 = 1 << 30;
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

    /// Rejects configurations whose feature maps would vanish.
    pub fn validate(&self, source_name: &str) -> Result<()> {
        let bad = |m: String| Err(Error::input(source_name, m));
        let (m, r) = (&self.meta, &self.resnet);
        let sizes = [
            ("window_length", self.window),
            ("meta.kernel", m.kernel),
            ("meta.pool", m.pool),
            ("meta.hidden", m.hidden),
            ("meta.outputs", m.outputs),
            ("resnet.stem", r.stem),
            ("resnet.kernel", r.kernel),
            ("resnet.pool", r.pool),
            ("resnet.hidden", r.hidden),
            ("resnet.outputs", r.outputs),
            ("head_hidden", self.head_hidden),
            ("outputs", self.outputs),
        ];
        let stages = r.stages.iter().flat_map(|s| [s.channels, s.blocks]);
        if let Some((name, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return bad(format!(
                "`{name}` is 0; every width, kernel and pool must be at least 1"
            ));
        }
        if m.channels.contains(&0) || stages.clone().any(|v| v == 0) {
            return bad("a convolution of 0 channels or a stage of 0 blocks".into());
        }
        if let Err(m) = self.check_limits() {
            return bad(m);
        }
        if self.meta.channels.is_empty() {
            return bad("no meta-feature convolution (`base_model.conv_net.0`)".into());
        }
        if self.resnet.kernel.is_multiple_of(2) {
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

    /// Bounds every number at once, before any shape is computed (see [`limits`]).
    fn check_limits(&self) -> std::result::Result<(), String> {
        let (m, r) = (&self.meta, &self.resnet);
        let over = |what: &str, v: usize, max: usize| {
            (v > max).then(|| format!("`{what}` is {v}, more than the {max} this reader accepts"))
        };
        let widths = m
            .channels
            .iter()
            .map(|&c| ("meta.channels", c))
            .chain(
                r.stages
                    .iter()
                    .map(|s| ("resnet.stages.channels", s.channels)),
            )
            .chain([
                ("meta.hidden", m.hidden),
                ("meta.outputs", m.outputs),
                ("resnet.stem", r.stem),
                ("resnet.hidden", r.hidden),
                ("resnet.outputs", r.outputs),
                ("head_hidden", self.head_hidden),
                ("outputs", self.outputs),
            ]);
        let checks = [
            over("window_length", self.window, limits::WINDOW),
            over("meta.kernel", m.kernel, limits::KERNEL),
            over("resnet.kernel", r.kernel, limits::KERNEL),
            over("meta.pool", m.pool, self.window),
            over("resnet.pool", r.pool, self.window),
            over("meta.channels (count)", m.channels.len(), limits::LAYERS),
            over("resnet.stages (count)", r.stages.len(), limits::LAYERS),
        ]
        .into_iter()
        .chain(
            r.stages
                .iter()
                .map(|s| over("resnet.stages.blocks", s.blocks, limits::BLOCKS)),
        )
        .chain(widths.map(|(what, v)| over(what, v, limits::WIDTH)));
        if let Some(message) = checks.flatten().next() {
            return Err(message);
        }
        // Within those bounds every shape fits a 32-bit usize; the total may not.
        let mut total: u64 = 0;
        for (name, shape) in self.checkpoint_tensors() {
            let n = shape
                .iter()
                .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
                .filter(|&n| n <= limits::PARAMETERS)
                .ok_or_else(|| format!("tensor `{name}` of shape {shape:?} is too large"))?;
            total = total.saturating_add(n);
        }
        if total > limits::PARAMETERS {
            return Err(format!(
                "{total} parameters, more than the {} this reader accepts",
                limits::PARAMETERS
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

    /// The forward pass as one list of operations (see [`Graph`]).
    pub fn graph(&self) -> Graph {
        Graph::new(self)
    }

    /// Every inference layer, in the order of the weights file.
    pub fn layers(&self) -> Vec<LayerSpec> {
        self.graph().layers
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
        self.graph().macs_per_window()
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
