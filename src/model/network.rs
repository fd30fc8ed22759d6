//! The network's forward pass on candle tensors (CPU; natively and on wasm32):
//! the operations of [`Graph`] walked in order.
//!
//! Batch norms are already folded into the convolution before them, so a layer
//! is conv/linear + bias. The walk is written once ([`Network::run`]) over an
//! [`Exec`]utor of the feature-map operations: whole tensors ([`Plain`]) or the
//! incremental path's patches (see `incremental.rs`).

use candle_core::{DType, Device, Module, Tensor};

use super::qconv::{for_each_window, sigmoid, window_scales, ActScale, FConv, QConv};
use crate::architecture::{Activation, Config, Graph, LayerKind, Op, ValueId};
use crate::error::{Error, Result};
use crate::weights::{StoredLayer, Weights};

/// A convolution with its folded bias: stride 1, zero padding.
pub(super) struct Conv {
    pub(super) weights: ConvWeights,
    pub(super) padding: usize,
}

/// A convolution's parameters in the network's arithmetic.
pub(super) enum ConvWeights {
    /// f32 through candle.
    F32 {
        weight: Tensor, // [out, in, k]
        bias: Tensor,   // [1, out, 1]
    },
    /// Packed integer weights (int16 activations).
    Int(QConv),
    /// A layer an int16 network keeps in f32 (not int8 codes), in our own
    /// fixed-order kernel: the same bits natively and in wasm.
    Exact(FConv),
}

impl Conv {
    pub(super) fn out_channels(&self) -> candle_core::Result<usize> {
        Ok(match &self.weights {
            ConvWeights::F32 { weight, .. } => weight.dims3()?.0,
            ConvWeights::Int(q) => q.out_ch,
            ConvWeights::Exact(f) => f.out_ch,
        })
    }

    pub(super) fn kernel(&self) -> candle_core::Result<usize> {
        Ok(match &self.weights {
            ConvWeights::F32 { weight, .. } => weight.dims3()?.2,
            ConvWeights::Int(q) => q.kernel,
            ConvWeights::Exact(f) => f.kernel,
        })
    }
}

/// The arithmetic of the CPU network's convolutions (linear layers stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arithmetic {
    /// f32 throughout (candle): what the weights say, to float rounding.
    F32,
    /// Activations rounded to int16 (14-bit codes, a scale per window and
    /// map) times integer weights, summed exactly ([`super::qconv`]). The
    /// default for int8 models, whose weights are integer codes anyway; a
    /// layer a mixed model keeps at f16 runs in f32.
    Int16,
}

impl Arithmetic {
    /// The default for weights stored as `dtype`; `BRAIN_RESNET_ARITHMETIC`
    /// (`f32` or `int16`) overrides it natively.
    pub fn default_for(dtype: crate::weights::quant::DType) -> Arithmetic {
        #[cfg(not(target_arch = "wasm32"))]
        match std::env::var("BRAIN_RESNET_ARITHMETIC").as_deref() {
            Ok("f32") => return Arithmetic::F32,
            Ok("int16") => return Arithmetic::Int16,
            _ => {}
        }
        match dtype {
            crate::weights::quant::DType::Int8 => Arithmetic::Int16,
            _ => Arithmetic::F32,
        }
    }

    /// Words for the backend note.
    pub fn describe(self) -> String {
        match self {
            Arithmetic::F32 => "f32".into(),
            Arithmetic::Int16 => format!(
                "int16 activations x int8 weights, {} kernel",
                super::simd::Kernel::active().name()
            ),
        }
    }
}

/// A linear layer: f32 with its weight kept transposed (`[in, out]`,
/// contiguous) for the matmul, or packed integer weights (a convolution of
/// kernel 1 over the batch's windows).
enum Linear {
    F32 {
        weight_t: Tensor,
        bias: Tensor,
    },
    Int(QConv),
    /// See [`ConvWeights::Exact`].
    Exact(FConv),
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Linear::F32 { weight_t, bias } => x.matmul(weight_t)?.broadcast_add(bias),
            Linear::Int(q) => {
                let (n, f) = x.dims2()?;
                if f != q.in_ch {
                    return Err(candle_core::Error::Msg(format!(
                        "{f} features into a layer of {} inputs",
                        q.in_ch
                    )));
                }
                let data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                let scales = window_scales(&data, n);
                let y = q.forward(&data, n, 1, 0, &scales, false);
                Tensor::from_vec(y, (n, q.out_ch), x.device())
            }
            Linear::Exact(l) => {
                let n = x.dims2()?.0;
                let data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                Tensor::from_vec(l.forward(&data, n, 1, 0, false), (n, l.out_ch), x.device())
            }
        }
    }
}

enum Layer {
    Conv(Conv),
    Linear(Linear),
}

/// Max pooling over the last dimension with stride = kernel; the remainder is
/// dropped. Our own loop, per window on the thread pool natively: candle's
/// (a strided copy, then a reduction) ran on one thread and its own pool of
/// spinning threads, in the way of ours.
pub(super) fn max_pool(x: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let (b, c, l) = x.dims3()?;
    let lo = l / k.max(1);
    let data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let mut y = vec![0f32; b * c * lo];
    for_each_window(&mut y, c * lo, |i, out| {
        for (ch, row) in out.chunks_exact_mut(lo.max(1)).enumerate() {
            let src = &data[(i * c + ch) * l..(i * c + ch + 1) * l];
            for (j, v) in row.iter_mut().enumerate() {
                *v = src[j * k..(j + 1) * k]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max);
            }
        }
    });
    Tensor::from_vec(y, (b, c, lo), x.device())
}

/// `a + b` for two maps of one shape (the residual connection), per window
/// on the thread pool natively (see [`max_pool`]).
fn add_maps(a: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
    let (n, c, l) = a.dims3()?;
    if b.dims3()? != (n, c, l) {
        return a + b; // candle's shape error
    }
    let x = a.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    let mut y = b.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
    for_each_window(&mut y, c * l, |i, out| {
        for (o, v) in out.iter_mut().zip(&x[i * c * l..(i + 1) * c * l]) {
            *o += *v;
        }
    });
    Tensor::from_vec(y, (n, c, l), a.device())
}

pub(super) fn conv_relu(x: &Tensor, c: &Conv, relu: bool) -> candle_core::Result<Tensor> {
    conv_with(x, c, c.padding, relu, None)
}

/// `relu?(conv(x) + bias)` with `padding`; integer convolutions quantize each
/// window of `x` with `scales` (by window) or, when `None`, its own scale.
pub(super) fn conv_with(
    x: &Tensor,
    c: &Conv,
    padding: usize,
    relu: bool,
    scales: Option<&[ActScale]>,
) -> candle_core::Result<Tensor> {
    match &c.weights {
        ConvWeights::F32 { weight, bias } => {
            let y = x.conv1d(weight, padding, 1, 1, 1)?.broadcast_add(bias)?;
            if relu {
                y.relu()
            } else {
                Ok(y)
            }
        }
        ConvWeights::Int(q) => {
            let (n, _, len) = x.dims3()?;
            let data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            let own;
            let scales = match scales {
                Some(s) => s,
                None => {
                    own = window_scales(&data, n);
                    &own
                }
            };
            let len_out = (len + 2 * padding + 1).saturating_sub(q.kernel);
            let y = q.forward(&data, n, len, padding, scales, relu);
            Tensor::from_vec(y, (n, q.out_ch, len_out), x.device())
        }
        ConvWeights::Exact(f) => {
            let (n, _, len) = x.dims3()?;
            let data = x.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
            let len_out = (len + 2 * padding + 1).saturating_sub(f.kernel);
            let y = f.forward(&data, n, len, padding, relu);
            Tensor::from_vec(y, (n, f.out_ch, len_out), x.device())
        }
    }
}

/// One executor of the graph's feature-map operations (conv, pool, add).
/// `id` arguments name the value read, so an executor can keep or look up
/// per-value state (the incremental path's recorded reference maps).
pub(super) trait Exec {
    type Map;
    fn conv(
        &mut self,
        x: &Self::Map,
        id: ValueId,
        c: &Conv,
        relu: bool,
    ) -> candle_core::Result<Self::Map>;
    fn pool(&mut self, x: &Self::Map, id: ValueId, k: usize) -> candle_core::Result<Self::Map>;
    fn add(
        &mut self,
        a: (&Self::Map, ValueId),
        b: (&Self::Map, ValueId),
    ) -> candle_core::Result<Self::Map>;
    /// The whole map `[n, c, len]` as a tensor (before a linear layer).
    fn whole(&mut self, x: &Self::Map, id: ValueId) -> candle_core::Result<Tensor>;
    /// Called once for every map value, the input included, when it is computed.
    fn computed(&mut self, _id: ValueId, _x: &Self::Map) -> candle_core::Result<()> {
        Ok(())
    }
}

/// Whole tensors.
pub(super) struct Plain;

impl Exec for Plain {
    type Map = Tensor;
    fn conv(
        &mut self,
        x: &Tensor,
        _: ValueId,
        c: &Conv,
        relu: bool,
    ) -> candle_core::Result<Tensor> {
        conv_relu(x, c, relu)
    }
    fn pool(&mut self, x: &Tensor, _: ValueId, k: usize) -> candle_core::Result<Tensor> {
        max_pool(x, k)
    }
    fn add(&mut self, a: (&Tensor, ValueId), b: (&Tensor, ValueId)) -> candle_core::Result<Tensor> {
        add_maps(a.0, b.0)
    }
    fn whole(&mut self, x: &Tensor, _: ValueId) -> candle_core::Result<Tensor> {
        Ok(x.clone())
    }
}

/// A layer of an int16 network: packed int8 codes, or (weights that are not
/// int8 codes: a layer a mixed model keeps at f16) our fixed-order f32 kernel.
enum Int16Layer {
    Int(QConv),
    Exact(FConv),
}

impl Int16Layer {
    fn new(stored: StoredLayer, out_ch: usize, in_ch: usize, kernel: usize) -> Self {
        let q = match &stored {
            StoredLayer::Int8 {
                codes,
                scales,
                bias,
                ..
            } => QConv::from_codes(codes, scales, out_ch, in_ch, kernel, bias.clone()),
            StoredLayer::F32(l) => {
                QConv::new(&l.weight.data, out_ch, in_ch, kernel, l.bias.clone())
            }
        };
        match q {
            Some(q) => Int16Layer::Int(q),
            None => {
                let l = stored.into_f32();
                Int16Layer::Exact(FConv::new(&l.weight.data, out_ch, in_ch, kernel, l.bias))
            }
        }
    }
}

/// A value during a walk: a feature map in the executor's form, or a dense
/// `[n, features]` tensor.
enum Value<M> {
    Map(M),
    Dense(Tensor),
}

pub struct Network {
    pub(super) cfg: Config,
    pub(super) graph: Graph,
    layers: Vec<Layer>,
    /// Per operation, the values to drop after it (their last reader).
    last_uses: Vec<Vec<ValueId>>,
    pub(super) device: Device,
    arithmetic: Arithmetic,
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
        Self::from_weights_with(cfg, weights, Arithmetic::F32)
    }

    /// [`Network::from_weights`] in the chosen arithmetic.
    pub fn from_weights_with(
        cfg: &Config,
        weights: Weights,
        arithmetic: Arithmetic,
    ) -> Result<Self> {
        Self::from_layers(
            cfg,
            weights.layers.into_iter().map(|l| Ok(StoredLayer::F32(l))),
            arithmetic,
        )
    }

    /// Builds the network from layers decoded one at a time (each decoded
    /// copy is dropped once its layer is built), laid out as `cfg.layers()`.
    pub fn from_layers(
        cfg: &Config,
        weights: impl Iterator<Item = Result<StoredLayer>>,
        arithmetic: Arithmetic,
    ) -> Result<Self> {
        let device = Device::Cpu;
        let graph = cfg.graph();
        let mut layers = Vec::with_capacity(graph.layers.len());
        let mut weights = weights.peekable();
        for spec in &graph.layers {
            let Some(stored) = weights.next().transpose()? else {
                return Err(Error::input(
                    "weights",
                    format!(
                        "{} layers, the architecture has {}",
                        layers.len(),
                        graph.layers.len()
                    ),
                ));
            };
            if stored.name() != spec.name || stored.shape() != spec.weight_shape() {
                return Err(Error::MissingKey {
                    source_name: "weights".into(),
                    key: format!("{}.weight", spec.name),
                });
            }
            let (out_ch, in_ch, kernel) = match spec.kind {
                LayerKind::Conv {
                    in_ch,
                    out_ch,
                    kernel,
                    ..
                } => (out_ch, in_ch, kernel),
                LayerKind::Linear { inputs, outputs } => (outputs, inputs, 1),
            };
            layers.push(match arithmetic {
                Arithmetic::Int16 => {
                    match (Int16Layer::new(stored, out_ch, in_ch, kernel), spec.kind) {
                        (Int16Layer::Int(q), LayerKind::Conv { padding, .. }) => {
                            Layer::Conv(Conv {
                                weights: ConvWeights::Int(q),
                                padding,
                            })
                        }
                        (Int16Layer::Exact(f), LayerKind::Conv { padding, .. }) => {
                            Layer::Conv(Conv {
                                weights: ConvWeights::Exact(f),
                                padding,
                            })
                        }
                        (Int16Layer::Int(q), LayerKind::Linear { .. }) => {
                            Layer::Linear(Linear::Int(q))
                        }
                        (Int16Layer::Exact(f), LayerKind::Linear { .. }) => {
                            Layer::Linear(Linear::Exact(f))
                        }
                    }
                }
                Arithmetic::F32 => {
                    let l = stored.into_f32();
                    let n = l.bias.len();
                    let weight =
                        Tensor::from_vec(l.weight.data, l.weight.shape.as_slice(), &device)?;
                    match spec.kind {
                        LayerKind::Conv { padding, .. } => Layer::Conv(Conv {
                            weights: ConvWeights::F32 {
                                weight,
                                bias: Tensor::from_vec(l.bias, (1, n, 1), &device)?,
                            },
                            padding,
                        }),
                        LayerKind::Linear { .. } => Layer::Linear(Linear::F32 {
                            weight_t: weight.t()?.contiguous()?,
                            bias: Tensor::from_vec(l.bias, n, &device)?,
                        }),
                    }
                }
            });
        }
        if weights.peek().is_some() {
            return Err(Error::input(
                "weights",
                format!("more layers than the architecture's {}", graph.layers.len()),
            ));
        }
        Ok(Network {
            cfg: cfg.clone(),
            last_uses: graph.last_uses(),
            graph,
            layers,
            device,
            arithmetic,
        })
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The arithmetic of the convolutions.
    pub fn arithmetic(&self) -> Arithmetic {
        self.arithmetic
    }

    fn conv(&self, layer: usize) -> candle_core::Result<&Conv> {
        match &self.layers[layer] {
            Layer::Conv(c) => Ok(c),
            Layer::Linear(_) => Err(candle_core::Error::Msg(format!(
                "layer {layer} is not a convolution"
            ))),
        }
    }

    /// Walks the graph: feature-map operations through `e`, linear layers and
    /// the concatenation on dense tensors. Returns the output probabilities
    /// `[n, outputs]`.
    pub(super) fn run<E: Exec>(&self, e: &mut E, x: E::Map) -> candle_core::Result<Tensor> {
        let g = &self.graph;
        let mut values: Vec<Option<Value<E::Map>>> = (0..g.values.len()).map(|_| None).collect();
        e.computed(g.input, &x)?;
        values[g.input] = Some(Value::Map(x));
        let missing =
            |v: ValueId| candle_core::Error::Msg(format!("value {v} read before it is computed"));
        for (op, free) in g.ops.iter().zip(&self.last_uses) {
            let map = |v: ValueId| match values[v].as_ref() {
                Some(Value::Map(m)) => Ok(m),
                _ => Err(missing(v)),
            };
            let out = match op {
                Op::Conv {
                    layer, input, relu, ..
                } => Value::Map(e.conv(map(*input)?, *input, self.conv(*layer)?, *relu)?),
                Op::Pool { input, size, .. } => Value::Map(e.pool(map(*input)?, *input, *size)?),
                Op::Add { a, b, .. } => Value::Map(e.add((map(*a)?, *a), (map(*b)?, *b))?),
                Op::Linear {
                    layer,
                    input,
                    activation,
                    ..
                } => {
                    let x = match values[*input].as_ref() {
                        Some(Value::Map(m)) => e.whole(m, *input)?.flatten_from(1)?,
                        Some(Value::Dense(t)) => t.clone(),
                        None => return Err(missing(*input)),
                    };
                    let Layer::Linear(l) = &self.layers[*layer] else {
                        return Err(candle_core::Error::Msg(format!(
                            "layer {layer} is not linear"
                        )));
                    };
                    let y = l.forward(&x)?;
                    Value::Dense(match activation {
                        Activation::Relu => y.relu()?,
                        Activation::Sigmoid if self.arithmetic == Arithmetic::Int16 => {
                            // The same bits natively and in wasm (candle's exp is the
                            // platform's): the head quantizes these values again.
                            let (n, f) = y.dims2()?;
                            let v = y.flatten_all()?.to_vec1::<f32>()?;
                            Tensor::from_vec(
                                v.into_iter().map(sigmoid).collect::<Vec<_>>(),
                                (n, f),
                                y.device(),
                            )?
                        }
                        Activation::Sigmoid => candle_nn::ops::sigmoid(&y)?,
                    })
                }
                Op::Concat { inputs, .. } => {
                    let parts = inputs
                        .iter()
                        .map(|&v| match values[v].as_ref() {
                            Some(Value::Dense(t)) => Ok(t),
                            _ => Err(missing(v)),
                        })
                        .collect::<candle_core::Result<Vec<_>>>()?;
                    Value::Dense(Tensor::cat(&parts, 1)?)
                }
            };
            if let Value::Map(m) = &out {
                e.computed(op.output(), m)?;
            }
            values[op.output()] = Some(out);
            for &v in free {
                values[v] = None;
            }
        }
        match values[g.output].take() {
            Some(Value::Dense(t)) => Ok(t),
            _ => Err(missing(g.output)),
        }
    }

    pub(super) fn to_input(&self, windows: &[f32]) -> Result<Tensor> {
        let per = 4 * self.cfg.window;
        if windows.is_empty() || !windows.len().is_multiple_of(per) {
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

    pub(super) fn to_vec(y: &Tensor) -> Result<Vec<f32>> {
        Ok(y.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
    }

    /// Predicts a batch of one-hot windows laid out `[n, 4, window]` in `windows`;
    /// returns `n * outputs` probabilities, row by row.
    pub fn predict(&self, windows: &[f32]) -> Result<Vec<f32>> {
        if windows.is_empty() {
            return Ok(vec![]);
        }
        let y = self.run(&mut Plain, self.to_input(windows)?)?;
        Self::to_vec(&y)
    }
}
