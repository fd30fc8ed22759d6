//! The network as WGSL compute shaders through wgpu (Vulkan natively; lavapipe
//! in CI; WebGPU in the browser). One WGSL file per kernel family
//! (`shaders/`: conv, pool, linear), their uniform parameters in
//! [`params`]; the device and pipelines in [`device`]; the graph walked into
//! launches and buffers in [`plan`]; results read back by one asynchronous
//! path ([`readback`]) that native code blocks on.
//!
//! Pipelines are built once per model and weights uploaded once; a plan
//! (buffers, bind groups, dispatches of one batch size) is reused across
//! batches. Only the outputs are read back. Errors (validation, device loss,
//! non-finite outputs) come back as `Err`, never as wrong numbers: the caller
//! falls back to the CPU.

mod device;
pub mod params;
pub mod plan;
mod readback;
pub mod storage;
pub mod tune;

use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::architecture::{Config, Graph, LayerKind};
use crate::error::{Error, Result};
use crate::weights::{StoredLayer, Weights};
use device::Kernels;
use plan::{Kernel, Launch, Plan, Step};
use storage::{PackedLayer, Storage};

/// The widest convolution kernel the GPU path accepts (the implicit-GEMM
/// kernel has no structural limit; this bounds the pipelines built).
pub const MAX_CONV_KERNEL: usize = 17;

/// Idle plans kept for reuse (a plan per batch size in use; an odd last
/// batch adds one, the oldest idle one goes).
const IDLE_PLANS: usize = 4;

pub(crate) fn gpu_err(e: impl std::fmt::Display) -> Error {
    Error::Gpu {
        message: e.to_string(),
    }
}

/// A batch submitted and not yet read back.
struct InFlight {
    plan: Plan,
    rx: readback::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
    /// Natively, what to poll the device for (unused in the browser).
    _submission: wgpu::SubmissionIndex,
    /// When it was queued ([`tune::now_ms`]).
    queued_ms: f64,
}

struct LayerBuffers {
    weight: wgpu::Buffer,
    /// The bias, then (int8) the scale of each output channel.
    bias: wgpu::Buffer,
    storage: Storage,
}

pub struct GpuNetwork {
    cfg: Config,
    graph: Graph,
    launches: Vec<Launch>,
    allocation: plan::Allocation,
    device: wgpu::Device,
    queue: wgpu::Queue,
    kernels: Kernels,
    layers: Vec<LayerBuffers>,
    /// Bound where a kernel has no such input (pool's weights, a conv's residual).
    unused: wgpu::Buffer,
    /// Plans not in use. A prediction takes one out and puts it back, so two
    /// threads never share a plan's buffers.
    idle: Mutex<Vec<Plan>>,
    errors: Arc<Mutex<Vec<String>>>,
    adapter: String,
    /// The largest storage binding the device allows, in bytes (batches are
    /// split so that no activation buffer exceeds it).
    binding_limit: std::sync::atomic::AtomicU64,
    /// Bytes of the weight buffers as uploaded, and as f32 would take.
    weight_bytes: (u64, u64),
    /// The batch size chosen from measured speed ([`GpuNetwork::predict_auto_async`]).
    tuner: Mutex<tune::Tuner>,
}

impl GpuNetwork {
    /// Finds an adapter (discrete, integrated, or also a CPU driver such as
    /// lavapipe) and uploads the model. `Err` says why there is no GPU path.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(cfg: &Config, weights: &Weights) -> Result<GpuNetwork> {
        pollster::block_on(Self::new_async(cfg, weights, true))
    }

    /// Like [`GpuNetwork::new`], refusing software adapters (for automatic
    /// choice: on a CPU driver our CPU path is faster).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_hardware(cfg: &Config, weights: &Weights) -> Result<GpuNetwork> {
        pollster::block_on(Self::new_async(cfg, weights, false))
    }

    /// Finds an adapter and uploads the model (natively through Vulkan, in
    /// the browser through WebGPU, where the page has already chosen). Int8
    /// layers (dequantized in `weights`) are recovered and uploaded as int8
    /// codes and scales, layers of f16 values as f16 ([`storage`]).
    pub async fn new_async(
        cfg: &Config,
        weights: &Weights,
        allow_software: bool,
    ) -> Result<GpuNetwork> {
        let graph = cfg.graph();
        let mut packed = Vec::with_capacity(graph.layers.len());
        for spec in &graph.layers {
            let l = weights
                .get(&spec.name)
                .filter(|l| l.weight.shape == spec.weight_shape())
                .ok_or_else(|| Error::MissingKey {
                    source_name: "weights".into(),
                    key: format!("{}.weight", spec.name),
                })?;
            packed.push(PackedLayer::from_f32(l));
        }
        Self::from_packed(cfg, graph, packed, allow_software).await
    }

    /// [`GpuNetwork::new_async`] from the layers as the file stores them
    /// ([`crate::weights::format::decode_layers`]): int8 codes are packed as
    /// they are, and no f32 copy of the whole model is ever held.
    pub async fn from_layers_async(
        cfg: &Config,
        layers: impl IntoIterator<Item = Result<StoredLayer>>,
        allow_software: bool,
    ) -> Result<GpuNetwork> {
        let graph = cfg.graph();
        let mut packed = Vec::with_capacity(graph.layers.len());
        for (spec, l) in graph.layers.iter().zip(layers) {
            let l = l?;
            if l.name() != spec.name || l.shape() != spec.weight_shape().as_slice() {
                return Err(Error::MissingKey {
                    source_name: "weights".into(),
                    key: format!("{}.weight", spec.name),
                });
            }
            packed.push(PackedLayer::from_stored(&l));
        }
        if packed.len() != graph.layers.len() {
            return Err(gpu_err("fewer layers than the architecture has"));
        }
        Self::from_packed(cfg, graph, packed, allow_software).await
    }

    async fn from_packed(
        cfg: &Config,
        graph: Graph,
        packed: Vec<PackedLayer>,
        allow_software: bool,
    ) -> Result<GpuNetwork> {
        for spec in &graph.layers {
            if let LayerKind::Conv { kernel, .. } = spec.kind {
                if kernel > MAX_CONV_KERNEL {
                    return Err(gpu_err(format!(
                        "layer {}: kernel {kernel} is wider than the GPU conv kernel's {MAX_CONV_KERNEL}",
                        spec.name
                    )));
                }
            }
        }
        let launches = plan::schedule(&graph)?;
        let allocation = plan::allocate(&graph, &launches);
        let opened = device::open(allow_software).await?;
        let mut convs = vec![];
        let mut linears = vec![];
        for (spec, p) in graph.layers.iter().zip(&packed) {
            match spec.kind {
                LayerKind::Conv { kernel, .. } => {
                    convs.push((u32::try_from(kernel).unwrap_or(u32::MAX), p.storage));
                }
                _ => linears.push(p.storage),
            }
        }
        let kernels = Kernels::new(&opened.device, &convs, &linears);
        let device_limits = opened.device.limits();
        let binding_limit = device_limits
            .max_storage_buffer_binding_size
            .min(device_limits.max_buffer_size);
        let mut layers = Vec::with_capacity(graph.layers.len());
        let mut weight_bytes = (0u64, 0u64);
        for (spec, p) in graph.layers.iter().zip(&packed) {
            let buffer = |data: &[u8]| {
                opened
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(&spec.name),
                        contents: data,
                        usage: wgpu::BufferUsages::STORAGE,
                    })
            };
            weight_bytes.0 += p.weight_bytes() as u64;
            weight_bytes.1 += 4 * spec.weight_shape().iter().product::<usize>() as u64;
            layers.push(LayerBuffers {
                weight: buffer(bytemuck::cast_slice(&p.words)),
                bias: buffer(bytemuck::cast_slice(&p.bias)),
                storage: p.storage,
            });
        }
        let unused = opened.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("unused binding"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let net = GpuNetwork {
            cfg: cfg.clone(),
            graph,
            launches,
            allocation,
            device: opened.device,
            queue: opened.queue,
            kernels,
            layers,
            unused,
            idle: Mutex::default(),
            errors: opened.errors,
            adapter: opened.adapter,
            binding_limit: binding_limit.into(),
            weight_bytes,
            tuner: Mutex::new(tune::Tuner::new()),
        };
        net.check_errors()?;
        Ok(net)
    }

    /// Bytes of the weight buffers as uploaded (int8 and f16 layers packed),
    /// and what they would take as f32.
    pub fn weight_bytes(&self) -> (u64, u64) {
        self.weight_bytes
    }

    /// How each layer's weights are stored on the GPU, in layer order.
    pub fn weight_storage(&self) -> Vec<Storage> {
        self.layers.iter().map(|l| l.storage).collect()
    }

    /// Destroys the device, as a driver reset or unplugged GPU would (tests
    /// of the CPU fallback use it).
    pub fn destroy_device(&self) {
        self.device.destroy();
    }

    /// The adapter in words, e.g. `llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan)`.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }

    /// Bytes of activation buffers a plan of `batch` windows holds (input and
    /// output included), from the graph's shapes.
    pub fn plan_bytes(&self, batch: usize) -> u64 {
        // The f32 input, its bytes (a quarter of it), the output.
        let per_window =
            self.allocation.slots.iter().sum::<usize>() + 5 * self.cfg.window + self.cfg.outputs;
        (per_window * batch * 4) as u64
    }

    /// Bytes per window of the largest activation binding (a shared slot,
    /// the input or the output).
    pub fn largest_binding_per_window(&self) -> u64 {
        let floats = self
            .allocation
            .slots
            .iter()
            .copied()
            .chain([4 * self.cfg.window, self.cfg.outputs])
            .max()
            .unwrap_or(1);
        (floats * 4) as u64
    }

    /// The largest batch one dispatch can take within the device's binding
    /// limit (larger requests are split into batches of at most this).
    pub fn batch_limit(&self) -> Result<usize> {
        plan::max_batch_within(
            self.largest_binding_per_window(),
            self.binding_limit
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    /// Lowers the binding limit batches are split by (tests force a small
    /// one; a limit above the device's is ignored).
    pub fn set_binding_limit(&self, bytes: u64) {
        self.binding_limit
            .fetch_min(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// The batch sizes of the plans kept for reuse (one per batch size run
    /// recently): shows how requests were split.
    pub fn plan_batches(&self) -> Vec<usize> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        idle.iter().map(|p| p.batch).collect()
    }

    fn check_errors(&self) -> Result<()> {
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        if errors.is_empty() {
            Ok(())
        } else {
            Err(gpu_err(errors.drain(..).collect::<Vec<_>>().join("; ")))
        }
    }

    fn storage(&self, label: &str, floats: usize, extra: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: (floats.max(4) * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE | extra,
            mapped_at_creation: false,
        })
    }

    /// An idle plan for `n` windows, or a new one.
    fn take_plan(&self, n: usize) -> Result<Plan> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        match idle.iter().position(|p| p.batch == n) {
            Some(i) => Ok(idle.swap_remove(i)),
            None => {
                drop(idle);
                self.build_plan(n)
            }
        }
    }

    fn return_plan(&self, plan: Plan) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() >= IDLE_PLANS {
            idle.remove(0);
        }
        idle.push(plan);
    }

    fn build_plan(&self, n: usize) -> Result<Plan> {
        let g = &self.graph;
        let none = wgpu::BufferUsages::empty();
        let input = self.storage(
            "input",
            n * 4 * self.cfg.window,
            wgpu::BufferUsages::COPY_DST,
        );
        let values = n * 4 * self.cfg.window;
        let packed = self.storage(
            "input bytes",
            values.div_ceil(4),
            wgpu::BufferUsages::COPY_DST,
        );
        let output = self.storage("output", n * self.cfg.outputs, wgpu::BufferUsages::COPY_SRC);
        let slots: Vec<wgpu::Buffer> = self
            .allocation
            .slots
            .iter()
            .enumerate()
            .map(|(i, &floats)| self.storage(&format!("activations {i}"), n * floats, none))
            .collect();
        let buffer_of = |v: usize| -> Result<&wgpu::Buffer> {
            if v == g.input {
                Ok(&input)
            } else if v == g.output {
                Ok(&output)
            } else {
                self.allocation.slot_of[v]
                    .map(|s| &slots[s])
                    .ok_or_else(|| gpu_err(format!("value {v} has no buffer")))
            }
        };
        let mut steps = vec![];
        for launch in &self.launches {
            let (kernel, params, groups) = plan::launch_params(g, launch, n)?;
            let (x, layer, residual, y) = match launch {
                Launch::Conv {
                    layer,
                    input,
                    output,
                    residual,
                    ..
                } => (*input, Some(*layer), *residual, *output),
                Launch::Pool { input, output, .. } => (*input, None, None, *output),
                Launch::Linear {
                    layer,
                    input,
                    output,
                    ..
                } => (*input, Some(*layer), None, *output),
            };
            let (w, b, storage) = match layer {
                Some(l) => {
                    let l = &self.layers[l];
                    (&l.weight, &l.bias, l.storage)
                }
                None => (&self.unused, &self.unused, Storage::F32),
            };
            if self.kernels.pipeline(kernel, storage).is_none() {
                return Err(gpu_err(format!("no pipeline for {kernel:?} {storage:?}")));
            }
            let residual = match residual {
                Some(r) => buffer_of(r)?,
                None => &self.unused,
            };
            let bind_group = self.kernels.bind(
                &self.device,
                params.bytes(),
                [buffer_of(x)?, w, b, residual, buffer_of(y)?],
            );
            steps.push(Step {
                kernel,
                storage,
                bind_group,
                groups,
            });
        }
        let count = u32::try_from(values)
            .map_err(|_| gpu_err(format!("{n} windows exceed 32-bit indices")))?;
        let unpack = Step {
            kernel: Kernel::Unpack,
            storage: Storage::F32,
            bind_group: self.kernels.bind(
                &self.device,
                bytemuck::bytes_of(&params::UnpackParams {
                    count,
                    _pad: [0; 7],
                }),
                [&packed, &self.unused, &self.unused, &self.unused, &input],
            ),
            groups: plan::split_dispatch(count.div_ceil(64)),
        };
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (n * self.cfg.outputs * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(Plan {
            batch: n,
            input,
            packed,
            unpack,
            output,
            readback,
            steps,
            out_len: n * self.cfg.outputs,
        })
    }

    /// Predicts `[n, 4, window]` one-hot windows, at most `max_batch` per
    /// dispatch (and at most what the device's binding limit allows:
    /// [`GpuNetwork::batch_limit`]); returns `n * outputs` probabilities
    /// (blocking: native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        pollster::block_on(self.predict_async(windows, max_batch))
    }

    /// Predicts `[n, 4, window]` one-hot windows with two batches in flight:
    /// the next batch is uploaded and queued before the previous one's
    /// readback is awaited (natively by polling the device for that
    /// submission, in the browser on the event loop), so the GPU does not
    /// idle while the host reads results. Batches of `max_batch` windows
    /// (fewer where the binding limit says so).
    pub async fn predict_async(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        self.run(windows, max_batch, false).await
    }

    /// [`GpuNetwork::predict_async`] with the batch size chosen from measured
    /// speed ([`tune`]): at most `max_batch`, within the binding limit, and
    /// small enough that one submission stays under [`tune::SAFE_MS`] (a
    /// weak GPU's watchdog never fires). [`GpuNetwork::batch_size`] says
    /// the size in use.
    pub async fn predict_auto_async(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        self.run(windows, max_batch, true).await
    }

    /// [`GpuNetwork::predict_auto_async`], blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict_auto(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        pollster::block_on(self.predict_auto_async(windows, max_batch))
    }

    /// The batch size [`GpuNetwork::predict_auto_async`] allows next (from
    /// the last submissions' times; 1 before any), within the binding limit;
    /// a call's own maximum may cap it further.
    pub fn batch_size(&self) -> usize {
        let limit = self.batch_limit().unwrap_or(1);
        self.tuner().batch().min(limit)
    }

    /// The batch size in words, for the page and the CLI: the last
    /// submission's size, or the first one's before any.
    pub fn describe_batch(&self) -> String {
        let limit = self.batch_limit().unwrap_or(1);
        match self.tuner().last() {
            Some(n) => format!(
                "batch {n} (chosen from measured speed, under {} ms per submission; the device allows up to {limit})",
                tune::SAFE_MS
            ),
            None => format!(
                "batch 1 to start, then chosen from measured speed (under {} ms per submission; the device allows up to {limit})",
                tune::SAFE_MS
            ),
        }
    }

    /// Bounds one submission's time by `ms` instead of [`tune::SAFE_MS`]
    /// (tests: the growth rule without depending on the machine's speed).
    #[doc(hidden)]
    pub fn set_submission_bound_ms(&self, ms: f64) {
        self.tuner().set_bound_ms(ms);
    }

    fn tuner(&self) -> std::sync::MutexGuard<'_, tune::Tuner> {
        self.tuner.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn run(&self, windows: &[f32], max_batch: usize, auto: bool) -> Result<Vec<f32>> {
        let per = 4 * self.cfg.window;
        if !windows.len().is_multiple_of(per) {
            return Err(gpu_err(format!(
                "{} values is not a whole number of {per}-value windows",
                windows.len()
            )));
        }
        let total = windows.len() / per;
        let limit = self.batch_limit()?;
        let mut out = Vec::with_capacity(total * self.cfg.outputs);
        let mut start = 0;
        let mut pending: Option<InFlight> = None;
        while start < total {
            let mut n = max_batch.max(1).min(limit).min(total - start);
            if auto {
                n = n.min(self.tuner().batch().max(1));
            }
            let chunk = &windows[start * per..(start + n) * per];
            start += n;
            // A plan of its own: the one in flight keeps its buffers.
            let plan = self.take_plan(n)?;
            let next = self.submit(plan, chunk);
            if let Some(prev) = pending.replace(next) {
                out.extend(self.finish(prev, limit).await?);
            }
        }
        if let Some(last) = pending {
            out.extend(self.finish(last, limit).await?);
        }
        Ok(out)
    }

    /// Awaits a submitted batch's readback, returns its plan and its outputs.
    async fn finish(&self, batch: InFlight, limit: usize) -> Result<Vec<f32>> {
        let InFlight {
            plan,
            rx,
            _submission,
            queued_ms,
        } = batch;
        #[cfg(not(target_arch = "wasm32"))]
        self.device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(_submission),
                timeout: None,
            })
            .map_err(|e| gpu_err(format!("device lost or stalled: {e}")))?;
        rx.await
            .ok_or_else(|| gpu_err("readback never completed"))?
            .map_err(|e| gpu_err(format!("cannot read results back: {e}")))?;
        let data = self.read_back(&plan)?;
        self.tuner()
            .record(plan.batch, tune::now_ms() - queued_ms, limit);
        self.return_plan(plan);
        Ok(data)
    }

    /// Uploads the windows, queues the forward pass and the copy of the
    /// outputs into the plan's readback buffer, and asks for that buffer to
    /// be mapped once the copy is done.
    fn submit(&self, plan: Plan, windows: &[f32]) -> InFlight {
        let queued_ms = tune::now_ms();
        let packed_input = pack_bytes(windows);
        match &packed_input {
            Some(words) => self
                .queue
                .write_buffer(&plan.packed, 0, bytemuck::cast_slice(words)),
            None => self
                .queue
                .write_buffer(&plan.input, 0, bytemuck::cast_slice(windows)),
        }
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("brain-resnet forward"),
                timestamp_writes: None,
            });
            let unpack = packed_input.as_ref().map(|_| &plan.unpack);
            for step in unpack.into_iter().chain(&plan.steps) {
                // Every step's pipeline was checked when the plan was built.
                let Some(pipeline) = self.kernels.pipeline(step.kernel, step.storage) else {
                    continue;
                };
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, &step.bind_group, &[]);
                pass.dispatch_workgroups(step.groups.0, step.groups.1, 1);
            }
        }
        let bytes = (plan.out_len * 4) as u64;
        encoder.copy_buffer_to_buffer(&plan.output, 0, &plan.readback, 0, bytes);
        let submission = self.queue.submit([encoder.finish()]);
        let (tx, rx) = readback::oneshot();
        plan.readback
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| tx.send(r));
        InFlight {
            plan,
            rx,
            _submission: submission,
            queued_ms,
        }
    }

    /// Copies the mapped readback buffer out, unmaps it, and refuses the
    /// results when the device reported an error or they are not finite.
    fn read_back(&self, plan: &Plan) -> Result<Vec<f32>> {
        let data = {
            let view = plan
                .readback
                .slice(..)
                .get_mapped_range()
                .map_err(gpu_err)?;
            bytemuck::pod_collect_to_vec::<u8, f32>(&view)
        };
        plan.readback.unmap();
        self.check_errors()?;
        if data.iter().any(|v| !v.is_finite()) {
            return Err(gpu_err("non-finite outputs"));
        }
        Ok(data)
    }
}

/// The windows as bytes, 4 per u32 (little-endian, value `i` in byte `i % 4`
/// of word `i / 4`), when every value is a whole number in 0..=255 (one-hot
/// windows: 0 and 1); `None` otherwise (then they are uploaded as f32).
pub fn pack_bytes(values: &[f32]) -> Option<Vec<u32>> {
    let mut words = vec![0u32; values.len().div_ceil(4)];
    for (w, quad) in words.iter_mut().zip(values.chunks(4)) {
        for (i, &v) in quad.iter().enumerate() {
            // -0.0 widens back as +0.0: the same value for the network.
            if !(0.0..=255.0).contains(&v) || v.fract() != 0.0 {
                return None;
            }
            *w |= (v as u32) << (8 * i);
        }
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::pack_bytes;

    #[test]
    fn one_hot_windows_pack_as_bytes_and_other_values_do_not() {
        let v = [1.0, 0.0, 0.0, 1.0, 255.0, 0.0];
        assert_eq!(pack_bytes(&v), Some(vec![0x0100_0001, 0x0000_00ff]));
        assert_eq!(pack_bytes(&[]), Some(vec![]));
        for bad in [0.25, -1.0, 256.0, f32::NAN, f32::INFINITY] {
            assert_eq!(pack_bytes(&[1.0, bad]), None, "{bad}");
        }
    }
}
