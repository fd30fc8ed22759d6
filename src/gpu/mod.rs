//! The network as WGSL compute shaders through wgpu (Vulkan natively; lavapipe
//! in CI). One WGSL file per kernel family (conv, pool, linear); pipelines are
//! built once per model, weights uploaded once, and the activation buffers and
//! bind groups of a batch size ("plan") reused across batches. Only the
//! outputs are read back. Errors (validation, device loss) come back as
//! `Err`, never as wrong numbers: the caller falls back to the CPU.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use crate::error::{Error, Result};
use crate::model::config::{block_prefix, meta_conv_prefix, Config, LayerKind};
use crate::weights::Weights;

const WG: u32 = 64;
const CONV_TILE: u32 = 64;
const MAX_DISPATCH: u32 = 65535;

fn gpu_err(e: impl std::fmt::Display) -> Error {
    Error::input("GPU", e)
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kernel {
    Conv,
    Pool,
    Linear,
}

struct LayerBuffers {
    weight: wgpu::Buffer,
    bias: wgpu::Buffer,
    kind: LayerKind,
}

/// Activation buffers, bind groups and dispatches for one batch size.
struct Plan {
    batch: usize,
    input: wgpu::Buffer,
    output: wgpu::Buffer,
    readback: wgpu::Buffer,
    steps: Vec<(Kernel, wgpu::BindGroup, (u32, u32))>,
    out_len: usize,
}

pub struct GpuNetwork {
    cfg: Config,
    device: wgpu::Device,
    queue: wgpu::Queue,
    layout: wgpu::BindGroupLayout,
    pipelines: HashMap<Kernel, wgpu::ComputePipeline>,
    layers: HashMap<String, LayerBuffers>,
    dummy: wgpu::Buffer,
    plans: Mutex<HashMap<usize, Arc<Plan>>>,
    errors: Arc<Mutex<Vec<String>>>,
    adapter: String,
}

fn split_dispatch(groups: u32) -> (u32, u32) {
    if groups <= MAX_DISPATCH {
        (groups.max(1), 1)
    } else {
        (MAX_DISPATCH, groups.div_ceil(MAX_DISPATCH))
    }
}

impl GpuNetwork {
    /// Finds an adapter (discrete, integrated, or also a CPU driver such as
    /// lavapipe when `allow_software`) and uploads the model. `Err` says why
    /// there is no GPU path.
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
        #[cfg(target_arch = "wasm32")]
        let backends = wgpu::Backends::BROWSER_WEBGPU;
        #[cfg(not(target_arch = "wasm32"))]
        let backends = wgpu::Backends::VULKAN;
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| gpu_err(format!("no GPU adapter ({e})")))?;
        let info = adapter.get_info();
        let adapter_name = format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend);
        if !allow_software && info.device_type == wgpu::DeviceType::Cpu {
            return Err(gpu_err(format!(
                "only a software adapter, {adapter_name}: the CPU path is faster"
            )));
        }
        let limits = adapter.limits();
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("brain-resnet"),
                required_limits: wgpu::Limits {
                    max_storage_buffer_binding_size: limits.max_storage_buffer_binding_size,
                    max_buffer_size: limits.max_buffer_size,
                    // Five storage bindings per kernel (WebGPU's default limit is 8).
                    max_storage_buffers_per_shader_stage: limits
                        .max_storage_buffers_per_shader_stage
                        .min(8),
                    ..wgpu::Limits::downlevel_defaults()
                },
                ..Default::default()
            })
            .await
            .map_err(|e| gpu_err(format!("{adapter_name}: cannot open the device ({e})")))?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e| {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            sink.lock().expect("error sink").push(text);
        }));
        let storage = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("brain-resnet layer"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage(1, true),
                storage(2, true),
                storage(3, true),
                storage(4, true),
                storage(5, false),
            ],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("brain-resnet"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let mut pipelines = HashMap::new();
        for (kernel, source) in [
            (Kernel::Conv, include_str!("conv.wgsl")),
            (Kernel::Pool, include_str!("pool.wgsl")),
            (Kernel::Linear, include_str!("linear.wgsl")),
        ] {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&format!("{kernel:?}")),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&format!("{kernel:?}")),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            pipelines.insert(kernel, pipeline);
        }
        let mut layers = HashMap::new();
        for spec in cfg.layers() {
            let l = weights.get(&spec.name).ok_or_else(|| Error::MissingKey {
                source_name: "weights".into(),
                key: format!("{}.weight", spec.name),
            })?;
            let buffer = |label: &str, data: &[f32]| {
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some(label),
                    contents: bytes_of(data),
                    usage: wgpu::BufferUsages::STORAGE,
                })
            };
            layers.insert(
                spec.name.clone(),
                LayerBuffers {
                    weight: buffer(&spec.name, &l.weight.data),
                    bias: buffer(&spec.name, &l.bias),
                    kind: spec.kind,
                },
            );
        }
        let dummy = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("unused binding"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let net = GpuNetwork {
            cfg: cfg.clone(),
            device,
            queue,
            layout,
            pipelines,
            layers,
            dummy,
            plans: Mutex::default(),
            errors,
            adapter: adapter_name,
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

    fn check_errors(&self) -> Result<()> {
        let mut errors = self.errors.lock().expect("error sink");
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

    fn plan(&self, batch: usize) -> Arc<Plan> {
        let mut plans = self.plans.lock().expect("plans");
        plans
            .entry(batch)
            .or_insert_with(|| Arc::new(self.build_plan(batch)))
            .clone()
    }

    fn build_plan(&self, n: usize) -> Plan {
        let cfg = &self.cfg;
        let (m, r) = (&cfg.meta, &cfg.resnet);
        // The largest activation of any layer, per window.
        let mut max_act = 4 * cfg.window;
        let mut len = cfg.window;
        for &c in &m.channels {
            len -= m.kernel - 1;
            max_act = max_act.max(c * len);
            len /= m.pool;
        }
        let mut len = cfg.window;
        max_act = max_act.max(r.stem * len);
        len /= r.pool;
        for s in &r.stages {
            max_act = max_act.max(s.channels * len);
            len /= r.pool;
        }
        let hidden = m.hidden.max(r.hidden).max(cfg.head_hidden).max(r.outputs);
        let cat_width = m.outputs + r.outputs;
        let usage = wgpu::BufferUsages::empty();
        let input = self.storage("input", n * 4 * cfg.window, wgpu::BufferUsages::COPY_DST);
        let big = [
            self.storage("a", n * max_act, usage),
            self.storage("b", n * max_act, usage),
        ];
        let res: Vec<wgpu::Buffer> = ["r0", "r1", "t", "s"]
            .iter()
            .map(|l| self.storage(l, n * max_act, usage))
            .collect();
        let h1 = self.storage("h1", n * hidden, usage);
        let h2 = self.storage("h2", n * hidden, usage);
        let cat = self.storage("concat", n * cat_width, usage);
        let output = self.storage("output", n * cfg.outputs, wgpu::BufferUsages::COPY_SRC);
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: (n * cfg.outputs * 4) as u64,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });

        let mut steps = vec![];
        let n32 = n as u32;
        let conv = |steps: &mut Vec<_>,
                    name: &str,
                    x: &wgpu::Buffer,
                    y: &wgpu::Buffer,
                    lin: usize,
                    relu: bool,
                    residual: Option<&wgpu::Buffer>|
         -> usize {
            let l = &self.layers[name];
            let LayerKind::Conv {
                in_ch,
                out_ch,
                kernel,
                padding,
            } = l.kind
            else {
                unreachable!("conv layer")
            };
            let lout = lin + 2 * padding - (kernel - 1);
            let flags = u32::from(relu) | if residual.is_some() { 2 } else { 0 };
            let params = [
                n32,
                in_ch as u32,
                out_ch as u32,
                lin as u32,
                lout as u32,
                kernel as u32,
                padding as u32,
                flags,
            ];
            let groups = (n * out_ch) as u32 * (lout as u32).div_ceil(CONV_TILE);
            steps.push((
                Kernel::Conv,
                self.bind(&params, x, &l.weight, &l.bias, residual, y),
                split_dispatch(groups),
            ));
            lout
        };
        let pool = |steps: &mut Vec<_>,
                    x: &wgpu::Buffer,
                    y: &wgpu::Buffer,
                    channels: usize,
                    lin: usize,
                    k: usize|
         -> usize {
            let lout = lin / k;
            let rows = (n * channels) as u32;
            let params = [rows, lin as u32, lout as u32, k as u32, 0, 0, 0, 0];
            steps.push((
                Kernel::Pool,
                self.bind(&params, x, &self.dummy, &self.dummy, None, y),
                split_dispatch((rows * lout as u32).div_ceil(WG)),
            ));
            lout
        };
        let linear = |steps: &mut Vec<_>,
                      name: &str,
                      x: &wgpu::Buffer,
                      y: &wgpu::Buffer,
                      stride: usize,
                      offset: usize,
                      flags: u32| {
            let l = &self.layers[name];
            let LayerKind::Linear { inputs, outputs } = l.kind else {
                unreachable!("linear layer")
            };
            let params = [
                n32,
                inputs as u32,
                outputs as u32,
                stride as u32,
                offset as u32,
                flags,
                0,
                0,
            ];
            steps.push((
                Kernel::Linear,
                self.bind(&params, x, &l.weight, &l.bias, None, y),
                split_dispatch((n * outputs) as u32),
            ));
        };
        const RELU: u32 = 1;
        const SIGMOID: u32 = 4;

        // Branch 1: meta-features -> concat[:, 0..m.outputs].
        let mut len = cfg.window;
        let mut src = &input;
        for (i, &c) in m.channels.iter().enumerate() {
            len = conv(
                &mut steps,
                &meta_conv_prefix(i),
                src,
                &big[0],
                len,
                true,
                None,
            );
            len = pool(&mut steps, &big[0], &big[1], c, len, m.pool);
            src = &big[1];
        }
        linear(
            &mut steps,
            "base_model.classifier.0",
            &big[1],
            &h1,
            m.hidden,
            0,
            RELU,
        );
        linear(
            &mut steps,
            "base_model.classifier.2",
            &h1,
            &cat,
            cat_width,
            0,
            SIGMOID,
        );

        // Branch 2: residual network -> concat[:, m.outputs..].
        let len = conv(
            &mut steps,
            "seq_model.conv1",
            &input,
            &big[0],
            cfg.window,
            true,
            None,
        );
        let mut len = pool(&mut steps, &big[0], &res[0], r.stem, len, r.pool);
        let (mut cur, mut next) = (0usize, 1usize);
        let mut in_ch = r.stem;
        for (s, stage) in r.stages.iter().enumerate() {
            for b in 0..stage.blocks {
                let p = block_prefix(s, b);
                conv(
                    &mut steps,
                    &format!("{p}.conv1"),
                    &res[cur],
                    &res[2],
                    len,
                    true,
                    None,
                );
                let shortcut = if in_ch != stage.channels {
                    conv(
                        &mut steps,
                        &format!("{p}.downsample.0"),
                        &res[cur],
                        &res[3],
                        len,
                        false,
                        None,
                    );
                    &res[3]
                } else {
                    &res[cur]
                };
                conv(
                    &mut steps,
                    &format!("{p}.conv2"),
                    &res[2],
                    &res[next],
                    len,
                    true,
                    Some(shortcut),
                );
                std::mem::swap(&mut cur, &mut next);
                in_ch = stage.channels;
            }
            len = pool(
                &mut steps,
                &res[cur],
                &res[next],
                stage.channels,
                len,
                r.pool,
            );
            std::mem::swap(&mut cur, &mut next);
        }
        linear(
            &mut steps,
            "seq_model.classifier.0",
            &res[cur],
            &h1,
            r.hidden,
            0,
            RELU,
        );
        linear(
            &mut steps,
            "seq_model.classifier.2",
            &h1,
            &h2,
            r.outputs,
            0,
            RELU,
        );
        linear(
            &mut steps,
            "seq_model.classifier.4",
            &h2,
            &cat,
            cat_width,
            m.outputs,
            SIGMOID,
        );

        // Head.
        linear(
            &mut steps,
            "classifier.0",
            &cat,
            &h1,
            cfg.head_hidden,
            0,
            RELU,
        );
        linear(
            &mut steps,
            "classifier.2",
            &h1,
            &output,
            cfg.outputs,
            0,
            SIGMOID,
        );

        Plan {
            batch: n,
            input,
            output,
            readback,
            steps,
            out_len: n * cfg.outputs,
        }
    }

    fn bind(
        &self,
        params: &[u32; 8],
        x: &wgpu::Buffer,
        w: &wgpu::Buffer,
        bias: &wgpu::Buffer,
        residual: Option<&wgpu::Buffer>,
        y: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: bytes_of_u32(params),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &[
                entry(0, &uniform),
                entry(1, x),
                entry(2, w),
                entry(3, bias),
                entry(4, residual.unwrap_or(&self.dummy)),
                entry(5, y),
            ],
        })
    }

    /// Predicts `[n, 4, window]` one-hot windows; returns `n * outputs`
    /// probabilities (blocking: native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn predict(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        let per = 4 * self.cfg.window;
        let mut out = Vec::with_capacity(windows.len() / per * self.cfg.outputs);
        for chunk in windows.chunks(per * max_batch.max(1)) {
            let plan = self.submit(chunk, chunk.len() / per);
            let slice = plan.readback.slice(..);
            let (tx, rx) = std::sync::mpsc::channel();
            slice.map_async(wgpu::MapMode::Read, move |r| {
                let _ = tx.send(r);
            });
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| gpu_err(format!("device lost or stalled: {e}")))?;
            rx.recv()
                .map_err(|_| gpu_err("readback never completed"))?
                .map_err(|e| gpu_err(format!("cannot read results back: {e}")))?;
            out.extend(self.read_back(&plan)?);
        }
        Ok(out)
    }

    /// Like `predict`, awaiting each batch's readback (WebGPU maps buffers
    /// asynchronously: the worker's event loop must run meanwhile).
    #[cfg(target_arch = "wasm32")]
    pub async fn predict_async(&self, windows: &[f32], max_batch: usize) -> Result<Vec<f32>> {
        use wasm_bindgen::JsValue;
        let per = 4 * self.cfg.window;
        let mut out = Vec::with_capacity(windows.len() / per * self.cfg.outputs);
        for chunk in windows.chunks(per * max_batch.max(1)) {
            let plan = self.submit(chunk, chunk.len() / per);
            let slice = plan.readback.slice(..);
            let mut settle: Option<js_sys::Function> = None;
            let promise = js_sys::Promise::new(&mut |resolve, _reject| settle = Some(resolve));
            let settle = settle.ok_or_else(|| gpu_err("no promise"))?;
            slice.map_async(wgpu::MapMode::Read, move |r| {
                let text = match r {
                    Ok(()) => JsValue::NULL,
                    Err(e) => JsValue::from_str(&e.to_string()),
                };
                let _ = settle.call1(&JsValue::NULL, &text);
            });
            let outcome = wasm_bindgen_futures::JsFuture::from(promise)
                .await
                .map_err(|e| gpu_err(format!("readback failed: {e:?}")))?;
            if let Some(e) = outcome.as_string() {
                return Err(gpu_err(format!("cannot read results back: {e}")));
            }
            out.extend(self.read_back(&plan)?);
        }
        Ok(out)
    }

    /// Uploads `n` windows and queues the forward pass and the copy of the
    /// outputs into the plan's readback buffer.
    fn submit(&self, windows: &[f32], n: usize) -> Arc<Plan> {
        let plan = self.plan(n);
        debug_assert_eq!(plan.batch, n);
        self.queue.write_buffer(&plan.input, 0, bytes_of(windows));
        let mut encoder = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("brain-resnet forward"),
                timestamp_writes: None,
            });
            for (kernel, group, (x, y)) in &plan.steps {
                pass.set_pipeline(&self.pipelines[kernel]);
                pass.set_bind_group(0, group, &[]);
                pass.dispatch_workgroups(*x, *y, 1);
            }
        }
        let bytes = (plan.out_len * 4) as u64;
        encoder.copy_buffer_to_buffer(&plan.output, 0, &plan.readback, 0, bytes);
        self.queue.submit([encoder.finish()]);
        plan
    }

    /// Copies the mapped readback buffer out, unmaps it, and refuses the
    /// results when the device reported an error or they are not finite.
    fn read_back(&self, plan: &Plan) -> Result<Vec<f32>> {
        let slice = plan.readback.slice(..);
        let data = {
            let view = slice.get_mapped_range().map_err(gpu_err)?;
            view.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect::<Vec<f32>>()
        };
        plan.readback.unmap();
        self.check_errors()?;
        if data.iter().any(|v| !v.is_finite()) {
            return Err(gpu_err("non-finite outputs"));
        }
        Ok(data)
    }
}

fn bytes_of(data: &[f32]) -> &[u8] {
    // SAFETY: f32 has no padding and every bit pattern is a valid u8 sequence.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

fn bytes_of_u32(data: &[u32]) -> &[u8] {
    // SAFETY: as above.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}
