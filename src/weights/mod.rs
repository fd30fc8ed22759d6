//! Weights: PyTorch checkpoint import, batch-norm folding, and our own
//! quantized web format (`model.json` + `weights.safetensors`).

pub mod checkpoint;
pub mod fold;
pub mod format;
mod pickle_guard;
pub mod quant;
pub mod shapes;

use std::collections::BTreeMap;

/// A dense row-major f32 tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct RawTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl RawTensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        RawTensor { shape, data }
    }
}

/// Tensors by name, as in a PyTorch `state_dict`.
pub type TensorMap = BTreeMap<String, RawTensor>;

/// One inference layer's parameters after folding: the weight in PyTorch layout
/// (`[out, in, k]` or `[out, in]`) and a bias per output channel.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerWeights {
    pub name: String,
    pub weight: RawTensor,
    pub bias: Vec<f32>,
}

/// One inference layer as its file stores it: f32 (decoded from f32 or f16),
/// or int8 codes with a scale per output channel, not yet dequantized (the
/// int16 network packs the codes as they are).
#[derive(Debug, Clone, PartialEq)]
pub enum StoredLayer {
    F32(LayerWeights),
    Int8 {
        name: String,
        /// PyTorch layout, as [`LayerWeights::weight`].
        shape: Vec<usize>,
        codes: Vec<i8>,
        scales: Vec<f32>,
        bias: Vec<f32>,
    },
}

impl StoredLayer {
    /// The layer in f32 (int8 codes dequantized).
    pub fn into_f32(self) -> LayerWeights {
        match self {
            StoredLayer::F32(l) => l,
            StoredLayer::Int8 {
                name,
                shape,
                codes,
                scales,
                bias,
            } => LayerWeights {
                name,
                weight: RawTensor::new(shape, quant::dequantize_int8(&codes, &scales)),
                bias,
            },
        }
    }

    pub fn name(&self) -> &str {
        match self {
            StoredLayer::F32(l) => &l.name,
            StoredLayer::Int8 { name, .. } => name,
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            StoredLayer::F32(l) => &l.weight.shape,
            StoredLayer::Int8 { shape, .. } => shape,
        }
    }
}

/// Every inference layer's parameters, in [`crate::architecture::Config::layers`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    pub layers: Vec<LayerWeights>,
}

impl Weights {
    pub fn get(&self, name: &str) -> Option<&LayerWeights> {
        self.layers.iter().find(|l| l.name == name)
    }

    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.weight.data.len() + l.bias.len())
            .sum()
    }
}
