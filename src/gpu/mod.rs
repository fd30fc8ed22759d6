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

use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::architecture::{Config, Graph, LayerKind};
use crate::error::{Error, Result};
use crate::weights::Weights;
use device::Kernels;
use plan::{Launch, Plan, Step};

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
}

struct LayerBuffers {
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
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
    binding_limit: u64,
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
    /// the browser through WebGPU, where the page has already chosen).
    pub async fn new_async(
        cfg: &Config,
        weights: &Weights,
        allow_software: bool,
    ) -> Result<GpuNetwork> {
        let graph = cfg.graph();
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
        let conv_lengths: Vec<u32> = graph
            .layers
            .iter()
            .filter_map(|l| match l.kind {
                LayerKind::Conv { kernel, .. } => u32::try_from(kernel).ok(),
                _ => None,
            })
            .collect();
        let kernels = Kernels::new(&opened.device, &conv_lengths);
        let device_limits = opened.device.limits();
        let binding_limit = device_limits
            .max_storage_buffer_binding_size
            .min(device_limits.max_buffer_size);
        let mut layers = Vec::with_capacity(graph.layers.len());
        for spec in &graph.layers {
            let l = weights
                .get(&spec.name)
                .filter(|l| l.weight.shape == spec.weight_shape())
                .ok_or_else(|| Error::MissingKey {
                    source_name: "weights".into(),
                    key: format!("{}.weight", spec.name),
                })?;
            let buffer = |data: &[f32]| {
                opened
                    .device
                    .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                        label: Some(&spec.name),
                        contents: bytemuck::cast_slice(data),
                        usage: wgpu::BufferUsages::STORAGE,
                    })
            };
            layers.push(LayerBuffers {
                weight: buffer(&l.weight.data),
                bias: buffer(&l.bias),
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
            binding_limit,
        };
        net.check_errors()?;
        Ok(net)
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
        let per_window =
            self.allocation.slots.iter().sum::<usize>() + 4 * self.cfg.window + self.cfg.outputs;
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
        plan::max_batch_within(self.largest_binding_per_window(), self.binding_limit)
    }

    /// Lowers the binding limit batches are split by (tests force a small
    /// one; a limit above the device's is ignored).
    pub fn set_binding_limit(&mut self, bytes: u64) {
        self.binding_limit = self.binding_limit.min(bytes);
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
            if self.kernels.pipeline(kernel).is_none() {
                return Err(gpu_err(format!("no pipeline for {kernel:?}")));
            }
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
            let (w, b) = match layer {
                Some(l) => (&self.layers[l].weight, &self.layers[l].bias),
                None => (&self.unused, &self.unused),
            };
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
                bind_group,
                groups,
            });
        }
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (n * self.cfg.outputs * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(Plan {
            batch: n,
            input,
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
    /// idle while the host reads results.
    pub async fn predict_async(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        let per = 4 * self.cfg.window;
        if !windows.len().is_multiple_of(per) {
            return Err(gpu_err(format!(
                "{} values is not a whole number of {per}-value windows",
                windows.len()
            )));
        }
        let mut out = Vec::with_capacity(windows.len() / per * self.cfg.outputs);
        let mut start = 0;
        let mut pending: Option<InFlight> = None;
        for n in plan::batches(windows.len() / per, max_batch, self.batch_limit()?) {
            let chunk = &windows[start * per..(start + n) * per];
            start += n;
            // A plan of its own: the one in flight keeps its buffers.
            let plan = self.take_plan(n)?;
            let next = self.submit(plan, chunk);
            if let Some(prev) = pending.replace(next) {
                out.extend(self.finish(prev).await?);
            }
        }
        if let Some(last) = pending {
            out.extend(self.finish(last).await?);
        }
        Ok(out)
    }

    /// Awaits a submitted batch's readback, returns its plan and its outputs.
    async fn finish(&self, batch: InFlight) -> Result<Vec<f32>> {
        let InFlight {
            plan,
            rx,
            _submission,
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
        self.return_plan(plan);
        Ok(data)
    }

    /// Uploads the windows, queues the forward pass and the copy of the
    /// outputs into the plan's readback buffer, and asks for that buffer to
    /// be mapped once the copy is done.
    fn submit(&self, plan: Plan, windows: &[f32]) -> InFlight {
        self.queue
            .write_buffer(&plan.input, 0, bytemuck::cast_slice(windows));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("brain-resnet forward"),
                timestamp_writes: None,
            });
            for step in &plan.steps {
                // Every step's pipeline was checked when the plan was built.
                let Some(pipeline) = self.kernels.pipeline(step.kernel) else {
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
