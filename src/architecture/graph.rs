//! The network as one list of operations, derived once from [`Config`]: every
//! backend walks this list (the candle CPU network, the incremental patcher,
//! the GPU plan), so a change to the architecture is made here and only here.
//!
//! Values are numbered; each operation reads earlier values and writes one
//! new value. A value is, per window, a feature map `[channels, len]` or a
//! vector of features. Layers (the operations with parameters) are listed in
//! the order the weights file stores them, named by the checkpoint's key
//! prefixes (see ../shared/spec/architecture.md).
//!
//! (Over 400 lines on purpose: the graph's types, its one builder and its
//! shape test belong together; splitting them would scatter the one place
//! the wiring is written.)

use super::{block_prefix, meta_conv_prefix, Config};

/// A value of the graph, by its index in [`Graph::values`].
pub type ValueId = usize;

/// The shape of a value for one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A feature map: `channels` rows of `len` positions.
    Map { channels: usize, len: usize },
    /// A vector of features (a linear layer's output, a concatenation).
    Vector(usize),
}

impl Shape {
    /// Number of f32 values per window (a map flattens channel by channel).
    pub fn size(self) -> usize {
        match self {
            Shape::Map { channels, len } => channels.saturating_mul(len),
            Shape::Vector(n) => n,
        }
    }
}

/// The function applied after a linear layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Relu,
    Sigmoid,
}

/// One operation of the forward pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `relu?(conv1d(input) + bias)`: layer [`Graph::layers`]`[layer]`, stride 1,
    /// zero padding as the layer says.
    Conv {
        layer: usize,
        input: ValueId,
        output: ValueId,
        relu: bool,
    },
    /// Max pooling with stride = `size`; the remainder of the map is dropped.
    Pool {
        input: ValueId,
        output: ValueId,
        size: usize,
    },
    /// `a + b`, two maps of one shape (the residual connection).
    Add {
        a: ValueId,
        b: ValueId,
        output: ValueId,
    },
    /// `activation(W x + bias)`; a map input is flattened channel by channel.
    Linear {
        layer: usize,
        input: ValueId,
        output: ValueId,
        activation: Activation,
    },
    /// The vectors `inputs`, one after another.
    Concat {
        inputs: Vec<ValueId>,
        output: ValueId,
    },
}

impl Op {
    pub fn output(&self) -> ValueId {
        match self {
            Op::Conv { output, .. }
            | Op::Pool { output, .. }
            | Op::Add { output, .. }
            | Op::Linear { output, .. }
            | Op::Concat { output, .. } => *output,
        }
    }

    /// The values this operation reads.
    pub fn inputs(&self) -> Vec<ValueId> {
        match self {
            Op::Conv { input, .. } | Op::Pool { input, .. } | Op::Linear { input, .. } => {
                vec![*input]
            }
            Op::Add { a, b, .. } => vec![*a, *b],
            Op::Concat { inputs, .. } => inputs.clone(),
        }
    }
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

/// The forward pass: layers, values and operations, in execution order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Every layer with parameters, in the order of the weights file.
    pub layers: Vec<LayerSpec>,
    /// The shape of every value, per window.
    pub values: Vec<Shape>,
    /// Operations in an order where every input is computed before it is read.
    pub ops: Vec<Op>,
    /// The one-hot window, `[4, window]`.
    pub input: ValueId,
    /// The predicted probabilities.
    pub output: ValueId,
}

impl Graph {
    /// The Brain-ResNet / MetaChrom forward pass for the widths of `cfg`:
    /// a meta-feature branch (valid convolutions, ReLU, pool; two linear
    /// layers), a residual branch (same-padded stem, stages of blocks
    /// `relu(conv2(relu(conv1(x)))) + shortcut(x)`, pool after each stage;
    /// three linear layers), and a head on the two branches' outputs.
    ///
    /// Sizes use saturating arithmetic; [`Config::validate`] refuses widths
    /// whose values would be empty.
    pub fn new(cfg: &Config) -> Graph {
        let mut g = Builder::new(Shape::Map {
            channels: 4,
            len: cfg.window,
        });
        let x = g.graph.input;

        // Branch 1: meta-features.
        let m = &cfg.meta;
        let mut meta = x;
        for (i, &c) in m.channels.iter().enumerate() {
            let y = g.conv(meta_conv_prefix(i), meta, c, m.kernel, 0, true);
            meta = g.pool(y, m.pool);
        }
        let h = g.linear("base_model.classifier.0", meta, m.hidden, Activation::Relu);
        let meta = g.linear("base_model.classifier.2", h, m.outputs, Activation::Sigmoid);

        // Branch 2: residual network.
        let r = &cfg.resnet;
        let pad = r.kernel / 2;
        let y = g.conv("seq_model.conv1".into(), x, r.stem, r.kernel, pad, true);
        g.fold_bn_into_last("seq_model.bn1".into());
        let mut res = g.pool(y, r.pool);
        for (s, stage) in r.stages.iter().enumerate() {
            for b in 0..stage.blocks {
                let p = block_prefix(s, b);
                let c = stage.channels;
                let y = g.conv(format!("{p}.conv1"), res, c, r.kernel, pad, true);
                let y = g.conv(format!("{p}.conv2"), y, c, r.kernel, pad, true);
                let shortcut = if g.channels(res) != c {
                    let sc = g.conv(format!("{p}.downsample.0"), res, c, 1, 0, false);
                    g.fold_bn_into_last(format!("{p}.downsample.1"));
                    g.graph.layers.last_mut().expect("just added").has_bias = false;
                    sc
                } else {
                    res
                };
                res = g.add(y, shortcut);
            }
            res = g.pool(res, r.pool);
        }
        let h = g.linear("seq_model.classifier.0", res, r.hidden, Activation::Relu);
        let h = g.linear("seq_model.classifier.2", h, r.outputs, Activation::Relu);
        let res = g.linear("seq_model.classifier.4", h, r.outputs, Activation::Sigmoid);

        // Head on concat(meta-features, residual outputs).
        let cat = g.concat(vec![meta, res]);
        let h = g.linear("classifier.0", cat, cfg.head_hidden, Activation::Relu);
        let out = g.linear("classifier.2", h, cfg.outputs, Activation::Sigmoid);
        g.graph.output = out;
        g.graph
    }

    pub fn shape(&self, v: ValueId) -> Shape {
        self.values[v]
    }

    /// For each operation, the values whose last reader it is (they can be
    /// freed after it). The graph's output is never freed.
    pub fn last_uses(&self) -> Vec<Vec<ValueId>> {
        let mut last = vec![None; self.values.len()];
        for (i, op) in self.ops.iter().enumerate() {
            for v in op.inputs() {
                last[v] = Some(i);
            }
        }
        let mut out = vec![vec![]; self.ops.len()];
        for (v, l) in last.into_iter().enumerate() {
            if let Some(i) = l {
                if v != self.output {
                    out[i].push(v);
                }
            }
        }
        out
    }

    /// How many operations read each value.
    pub fn readers(&self) -> Vec<usize> {
        let mut n = vec![0; self.values.len()];
        for op in &self.ops {
            for v in op.inputs() {
                n[v] += 1;
            }
        }
        n
    }

    /// Multiply-adds for one window (pooling, adds and activations not counted).
    pub fn macs_per_window(&self) -> u64 {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Conv { layer, output, .. } => {
                    let LayerKind::Conv { in_ch, kernel, .. } = self.layers[*layer].kind else {
                        return 0;
                    };
                    in_ch as u64 * kernel as u64 * self.values[*output].size() as u64
                }
                Op::Linear { layer, .. } => {
                    let LayerKind::Linear { inputs, outputs } = self.layers[*layer].kind else {
                        return 0;
                    };
                    inputs as u64 * outputs as u64
                }
                _ => 0,
            })
            .sum()
    }
}

/// Adds layers, values and operations in order, computing each shape.
struct Builder {
    graph: Graph,
}

impl Builder {
    fn new(input: Shape) -> Builder {
        Builder {
            graph: Graph {
                layers: vec![],
                values: vec![input],
                ops: vec![],
                input: 0,
                output: 0,
            },
        }
    }

    fn value(&mut self, shape: Shape) -> ValueId {
        self.graph.values.push(shape);
        self.graph.values.len() - 1
    }

    fn layer(&mut self, name: String, kind: LayerKind) -> usize {
        self.graph.layers.push(LayerSpec {
            name,
            kind,
            has_bias: true,
            folded_bn: None,
        });
        self.graph.layers.len() - 1
    }

    fn fold_bn_into_last(&mut self, bn: String) {
        self.graph.layers.last_mut().expect("a layer").folded_bn = Some(bn);
    }

    fn map(&self, v: ValueId) -> (usize, usize) {
        match self.graph.values[v] {
            Shape::Map { channels, len } => (channels, len),
            Shape::Vector(n) => (n, 1),
        }
    }

    fn channels(&self, v: ValueId) -> usize {
        self.map(v).0
    }

    fn conv(
        &mut self,
        name: String,
        input: ValueId,
        out_ch: usize,
        kernel: usize,
        padding: usize,
        relu: bool,
    ) -> ValueId {
        let (in_ch, len) = self.map(input);
        let layer = self.layer(
            name,
            LayerKind::Conv {
                in_ch,
                out_ch,
                kernel,
                padding,
            },
        );
        let len = (len + 2 * padding).saturating_sub(kernel.saturating_sub(1));
        let output = self.value(Shape::Map {
            channels: out_ch,
            len,
        });
        self.graph.ops.push(Op::Conv {
            layer,
            input,
            output,
            relu,
        });
        output
    }

    fn pool(&mut self, input: ValueId, size: usize) -> ValueId {
        let (channels, len) = self.map(input);
        let output = self.value(Shape::Map {
            channels,
            len: len.checked_div(size).unwrap_or(0),
        });
        self.graph.ops.push(Op::Pool {
            input,
            output,
            size,
        });
        output
    }

    fn add(&mut self, a: ValueId, b: ValueId) -> ValueId {
        let output = self.value(self.graph.values[a]);
        self.graph.ops.push(Op::Add { a, b, output });
        output
    }

    fn linear(
        &mut self,
        name: &str,
        input: ValueId,
        outputs: usize,
        activation: Activation,
    ) -> ValueId {
        let inputs = self.graph.values[input].size();
        let layer = self.layer(name.into(), LayerKind::Linear { inputs, outputs });
        let output = self.value(Shape::Vector(outputs));
        self.graph.ops.push(Op::Linear {
            layer,
            input,
            output,
            activation,
        });
        output
    }

    fn concat(&mut self, inputs: Vec<ValueId>) -> ValueId {
        let n = inputs.iter().map(|&v| self.graph.values[v].size()).sum();
        let output = self.value(Shape::Vector(n));
        self.graph.ops.push(Op::Concat { inputs, output });
        output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_graph_shapes() {
        let g = Graph::new(&Config::published());
        // 3 meta convs + 2 linear; stem; 8 blocks x 2 convs + 4 downsamples; 3 + 2 linear.
        assert_eq!(g.layers.len(), 3 + 2 + 1 + 8 * 2 + 4 + 3 + 2);
        assert_eq!(g.shape(g.output), Shape::Vector(31));
        // The meta branch's last map is [960, 13]; the residual branch's [512, 4].
        let flat: Vec<usize> = g
            .ops
            .iter()
            .filter_map(|op| match op {
                Op::Linear { input, .. } => match g.shape(*input) {
                    Shape::Map { channels, len } => Some(channels * len),
                    Shape::Vector(_) => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(flat, [960 * 13, 512 * 4]);
        // Every value but the input is written once, after what it reads.
        let mut written = vec![false; g.values.len()];
        written[g.input] = true;
        for op in &g.ops {
            assert!(op.inputs().iter().all(|&v| written[v]), "{op:?}");
            assert!(!written[op.output()], "{op:?}");
            written[op.output()] = true;
        }
        assert!(written.iter().all(|&w| w));
    }
}
