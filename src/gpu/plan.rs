//! From the architecture's graph to GPU work: which kernel runs each
//! operation ([`schedule`]), which buffer holds each value ([`allocate`]), and
//! a [`Plan`]: the buffers, bind groups and dispatches of one batch size.
//!
//! Two rewrites fit the graph to our three kernels: a convolution whose only
//! reader is a residual add runs with the add fused in (its output is never
//! stored), and a concatenation costs nothing (the linear layers that feed it
//! write side by side into its buffer). Values share buffers once their last
//! reader has run, so a plan holds roughly the largest live set of
//! activations, not one buffer per value.
//!
//! (Over 400 lines on purpose: schedule, allocation and launch parameters are
//! three passes over the same launch list, with the test that checks them
//! together.)

use crate::architecture::{Activation, Graph, LayerKind, Op, Shape, ValueId};
use crate::error::{Error, Result};

use super::params::{ConvParams, LinearParams, PoolParams, RELU, RESIDUAL, SIGMOID};

/// The kernels (one WGSL file each); a convolution's pipeline is
/// specialized for its kernel length (a WGSL `override`). `Unpack` widens
/// the input windows uploaded as bytes to f32.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Kernel {
    Conv(u32),
    Pool,
    Linear,
    Unpack,
}

/// One kernel launch, in terms of graph values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launch {
    Conv {
        layer: usize,
        input: ValueId,
        output: ValueId,
        relu: bool,
        /// Added after the activation (a fused residual add).
        residual: Option<ValueId>,
    },
    Pool {
        input: ValueId,
        output: ValueId,
        size: usize,
    },
    /// Writes `output[b * stride + offset + o]`: `output` is the layer's own
    /// value (offset 0) or the concatenation it feeds.
    Linear {
        layer: usize,
        input: ValueId,
        output: ValueId,
        offset: usize,
        activation: Activation,
    },
}

impl Launch {
    fn reads(&self) -> Vec<ValueId> {
        match self {
            Launch::Conv {
                input, residual, ..
            } => std::iter::once(*input).chain(*residual).collect(),
            Launch::Pool { input, .. } | Launch::Linear { input, .. } => vec![*input],
        }
    }

    fn writes(&self) -> ValueId {
        match self {
            Launch::Conv { output, .. }
            | Launch::Pool { output, .. }
            | Launch::Linear { output, .. } => *output,
        }
    }
}

fn unsupported(what: String) -> Error {
    Error::Gpu {
        message: format!("the GPU kernels cannot run this network: {what}"),
    }
}

/// The launches of `graph`, in order, with residual adds fused into the
/// convolution before them and concatenations written in place.
pub fn schedule(graph: &Graph) -> Result<Vec<Launch>> {
    let readers = graph.readers();
    let producer: Vec<Option<&Op>> = {
        let mut p = vec![None; graph.values.len()];
        for op in &graph.ops {
            p[op.output()] = Some(op);
        }
        p
    };
    let fusable = |v: ValueId| readers[v] == 1 && matches!(producer[v], Some(Op::Conv { .. }));
    // Convolutions to run at the add that reads them: conv output -> add.
    let mut fused = vec![false; graph.values.len()];
    for op in &graph.ops {
        if let Op::Add { a, b, .. } = op {
            if fusable(*a) {
                fused[*a] = true;
            } else if fusable(*b) {
                fused[*b] = true;
            } else {
                return Err(unsupported(format!(
                    "an add of values {a} and {b}, neither a convolution read only there"
                )));
            }
        }
    }
    // Linear outputs written into a concatenation: value -> (concat, offset).
    let mut into_concat: Vec<Option<(ValueId, usize)>> = vec![None; graph.values.len()];
    for op in &graph.ops {
        if let Op::Concat { inputs, output } = op {
            let mut offset = 0;
            for &v in inputs {
                if readers[v] != 1 || !matches!(producer[v], Some(Op::Linear { .. })) {
                    return Err(unsupported(format!(
                        "a concatenation of value {v}, not a linear layer's output read only there"
                    )));
                }
                into_concat[v] = Some((*output, offset));
                offset += graph.values[v].size();
            }
        }
    }
    let mut launches = vec![];
    for op in &graph.ops {
        match op {
            Op::Conv { output, .. } if fused[*output] => {}
            Op::Conv {
                layer,
                input,
                output,
                relu,
            } => launches.push(Launch::Conv {
                layer: *layer,
                input: *input,
                output: *output,
                relu: *relu,
                residual: None,
            }),
            Op::Add { a, b, output } => {
                let (conv, other) = if fused[*a] { (*a, *b) } else { (*b, *a) };
                let Some(Op::Conv {
                    layer, input, relu, ..
                }) = producer[conv]
                else {
                    return Err(unsupported(format!("value {conv} is not a convolution")));
                };
                launches.push(Launch::Conv {
                    layer: *layer,
                    input: *input,
                    output: *output,
                    relu: *relu,
                    residual: Some(other),
                });
            }
            Op::Pool {
                input,
                output,
                size,
            } => launches.push(Launch::Pool {
                input: *input,
                output: *output,
                size: *size,
            }),
            Op::Linear {
                layer,
                input,
                output,
                activation,
            } => {
                let (output, offset) = into_concat[*output].unwrap_or((*output, 0));
                launches.push(Launch::Linear {
                    layer: *layer,
                    input: *input,
                    output,
                    offset,
                    activation: *activation,
                });
            }
            Op::Concat { .. } => {}
        }
    }
    Ok(launches)
}

/// Where each value lives: the graph's input and output have buffers of
/// their own; every other stored value gets a shared slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Floats per window of each shared slot.
    pub slots: Vec<usize>,
    /// The slot of each value (`None`: the input, the output, or not stored).
    pub slot_of: Vec<Option<usize>>,
}

/// Assigns slots in launch order: a value takes the best-fitting free slot
/// when it is first written, and frees it after its last reader.
pub fn allocate(graph: &Graph, launches: &[Launch]) -> Allocation {
    let n = graph.values.len();
    let mut last_read = vec![None; n];
    for (i, l) in launches.iter().enumerate() {
        for v in l.reads() {
            last_read[v] = Some(i);
        }
    }
    let mut slots: Vec<usize> = vec![];
    let mut free: Vec<usize> = vec![];
    let mut slot_of: Vec<Option<usize>> = vec![None; n];
    for (i, l) in launches.iter().enumerate() {
        let v = l.writes();
        if v != graph.output && slot_of[v].is_none() {
            let need = graph.values[v].size();
            let fit = free
                .iter()
                .enumerate()
                .filter(|(_, &s)| slots[s] >= need)
                .min_by_key(|(_, &s)| slots[s])
                .or_else(|| free.iter().enumerate().max_by_key(|(_, &s)| slots[s]))
                .map(|(k, _)| k);
            let s = match fit {
                Some(k) => free.swap_remove(k),
                None => {
                    slots.push(0);
                    slots.len() - 1
                }
            };
            slots[s] = slots[s].max(need);
            slot_of[v] = Some(s);
        }
        for r in l.reads() {
            if last_read[r] == Some(i) {
                if let Some(s) = slot_of[r] {
                    free.push(s);
                }
            }
        }
    }
    Allocation { slots, slot_of }
}

/// Activation buffers, bind groups and dispatches for one batch size.
pub struct Plan {
    pub batch: usize,
    pub input: wgpu::Buffer,
    /// The input windows as bytes (4 per u32), widened into `input` by
    /// `unpack` when every value is a whole number in 0..=255.
    pub packed: wgpu::Buffer,
    pub unpack: Step,
    pub output: wgpu::Buffer,
    pub readback: wgpu::Buffer,
    pub steps: Vec<Step>,
    /// Floats read back: `batch * outputs`.
    pub out_len: usize,
}

pub struct Step {
    pub kernel: Kernel,
    /// How the layer's weights are stored (f32 for kernels without weights).
    pub storage: super::storage::Storage,
    pub bind_group: wgpu::BindGroup,
    pub groups: (u32, u32),
}

/// The uniform parameters and dispatch size of one launch for `n` windows.
pub enum Params {
    Conv(ConvParams),
    Pool(PoolParams),
    Linear(LinearParams),
}

impl Params {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Params::Conv(p) => bytemuck::bytes_of(p),
            Params::Pool(p) => bytemuck::bytes_of(p),
            Params::Linear(p) => bytemuck::bytes_of(p),
        }
    }
}

const MAX_DISPATCH: u32 = 65535;
/// `conv.wgsl`'s tile: output channels x (window, position) columns.
pub const CONV_TILE_M: u32 = 32;
pub const CONV_TILE_N: u32 = 64;
/// `linear.wgsl`'s tile: outputs x windows.
pub const LINEAR_TILE_O: u32 = 4;
pub const LINEAR_TILE_B: u32 = 8;
const WG: u32 = 64;

/// The largest batch whose every binding fits in `limit` bytes, when the
/// largest binding takes `bytes_per_window` per window (the activation
/// buffers grow with the batch; weights do not). `Err` when not even one
/// window fits.
pub fn max_batch_within(bytes_per_window: u64, limit: u64) -> Result<usize> {
    let n = limit / bytes_per_window.max(1);
    if n == 0 {
        return Err(Error::Gpu {
            message: format!(
                "one window needs a {bytes_per_window}-byte binding; the adapter allows {limit}"
            ),
        });
    }
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// The batch sizes `n` windows run in: chunks of at most `max_batch` (the
/// caller's choice) and at most `limit_batch` (what the bindings allow).
pub fn batches(n: usize, max_batch: usize, limit_batch: usize) -> Vec<usize> {
    let step = max_batch.max(1).min(limit_batch.max(1));
    (0..n).step_by(step).map(|s| step.min(n - s)).collect()
}

/// Workgroups as `(x, y)` within the per-dimension limit.
pub fn split_dispatch(groups: u32) -> (u32, u32) {
    if groups <= MAX_DISPATCH {
        (groups.max(1), 1)
    } else {
        (MAX_DISPATCH, groups.div_ceil(MAX_DISPATCH))
    }
}

fn u32_of(v: usize, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::Gpu {
        message: format!("{what} ({v}) exceeds the kernels' 32-bit indices; use a smaller batch"),
    })
}

fn map_shape(graph: &Graph, v: ValueId) -> (usize, usize) {
    match graph.values[v] {
        Shape::Map { channels, len } => (channels, len),
        Shape::Vector(n) => (n, 1),
    }
}

/// The kernel, parameters and workgroups of `launch` for `n` windows.
pub fn launch_params(
    graph: &Graph,
    launch: &Launch,
    n: usize,
) -> Result<(Kernel, Params, (u32, u32))> {
    let n32 = u32_of(n, "batch")?;
    Ok(match launch {
        Launch::Conv {
            layer,
            input,
            output,
            relu,
            residual,
        } => {
            let LayerKind::Conv {
                in_ch,
                out_ch,
                kernel,
                padding,
            } = graph.layers[*layer].kind
            else {
                return Err(unsupported(format!("layer {layer} is not a convolution")));
            };
            let (_, lin) = map_shape(graph, *input);
            let (_, lout) = map_shape(graph, *output);
            let flags =
                if *relu { RELU } else { 0 } | if residual.is_some() { RESIDUAL } else { 0 };
            let p = ConvParams {
                batch: n32,
                cin: u32_of(in_ch, "channels")?,
                cout: u32_of(out_ch, "channels")?,
                lin: u32_of(lin, "length")?,
                lout: u32_of(lout, "length")?,
                k: u32_of(kernel, "kernel")?,
                pad: u32_of(padding, "padding")?,
                flags,
            };
            u32_of(n * (out_ch * lout).max(in_ch * lin), "activations")?;
            let columns = u32_of(n * lout, "columns")?;
            let groups = p
                .cout
                .div_ceil(CONV_TILE_M)
                .checked_mul(columns.div_ceil(CONV_TILE_N))
                .ok_or_else(|| unsupported("too many workgroups".into()))?;
            (Kernel::Conv(p.k), Params::Conv(p), split_dispatch(groups))
        }
        Launch::Pool {
            input,
            output,
            size,
        } => {
            let (channels, lin) = map_shape(graph, *input);
            let (_, lout) = map_shape(graph, *output);
            let p = PoolParams {
                rows: u32_of(n * channels, "rows")?,
                lin: u32_of(lin, "length")?,
                lout: u32_of(lout, "length")?,
                k: u32_of(*size, "pool")?,
                _pad: [0; 4],
            };
            let groups = u32_of(n * channels * lout, "pool outputs")?.div_ceil(WG);
            (Kernel::Pool, Params::Pool(p), split_dispatch(groups))
        }
        Launch::Linear {
            layer,
            input: _,
            output,
            offset,
            activation,
        } => {
            let LayerKind::Linear { inputs, outputs } = graph.layers[*layer].kind else {
                return Err(unsupported(format!("layer {layer} is not linear")));
            };
            let p = LinearParams {
                batch: n32,
                inputs: u32_of(inputs, "inputs")?,
                outputs: u32_of(outputs, "outputs")?,
                stride: u32_of(graph.values[*output].size(), "width")?,
                offset: u32_of(*offset, "offset")?,
                flags: match activation {
                    Activation::Relu => RELU,
                    Activation::Sigmoid => SIGMOID,
                },
                _pad: [0; 2],
            };
            u32_of(n * p.stride.max(p.inputs) as usize, "activations")?;
            let groups = p.outputs.div_ceil(LINEAR_TILE_O) * n32.div_ceil(LINEAR_TILE_B);
            (Kernel::Linear, Params::Linear(p), split_dispatch(groups))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::architecture::Config;

    #[test]
    fn a_batch_over_the_binding_limit_is_split() {
        // 1.27 MB per window (the published first map) under 128 MiB: 105.
        let per = 320 * 993 * 4;
        let limit = 128 << 20;
        assert_eq!(max_batch_within(per, limit).unwrap(), 105);
        assert_eq!(batches(256, 256, 105), vec![105, 105, 46]);
        assert_eq!(batches(10, 4, 105), vec![4, 4, 2]);
        assert_eq!(batches(7, 16, 3), vec![3, 3, 1]);
        assert_eq!(batches(0, 16, 3), Vec::<usize>::new());
        assert!(max_batch_within(per, per - 1).is_err());
    }

    #[test]
    fn published_schedule_fuses_adds_and_shares_buffers() {
        let g = Graph::new(&Config::published());
        let launches = schedule(&g).unwrap();
        let adds = g.ops.iter().filter(|o| matches!(o, Op::Add { .. })).count();
        let fused = launches
            .iter()
            .filter(|l| {
                matches!(
                    l,
                    Launch::Conv {
                        residual: Some(_),
                        ..
                    }
                )
            })
            .count();
        assert_eq!((adds, fused), (8, 8));
        // Every value read is written earlier (or is the input).
        let mut written = vec![false; g.values.len()];
        written[g.input] = true;
        for l in &launches {
            assert!(l.reads().iter().all(|&v| written[v]), "{l:?}");
            written[l.writes()] = true;
        }
        let alloc = allocate(&g, &launches);
        // A launch never writes the slot it reads.
        for l in &launches {
            let w = alloc.slot_of[l.writes()];
            for r in l.reads() {
                assert!(w.is_none() || w != alloc.slot_of[r], "{l:?}");
            }
        }
        let per_window: usize = alloc.slots.iter().sum();
        let largest = g.values.iter().map(|s| s.size()).max().unwrap();
        // Far less than one buffer per value, at least the two largest maps.
        let every_value: usize = g.values.iter().map(|s| s.size()).sum();
        assert!(
            per_window < every_value / 2,
            "{per_window} of {every_value}"
        );
        assert!(per_window >= largest, "{per_window} < {largest}");
    }
}
