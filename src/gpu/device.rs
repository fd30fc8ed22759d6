//! The adapter and device, the error sink, and the three compute pipelines
//! with their one bind-group layout.

use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use wgpu::util::DeviceExt;

use super::gpu_err;
use super::params::UNIFORM_BYTES;
use super::plan::Kernel;
use super::storage::Storage;
use crate::error::Result;

pub struct Opened {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    /// The adapter in words.
    pub adapter: String,
    /// Errors the device reported outside any call (validation, loss).
    pub errors: Arc<Mutex<Vec<String>>>,
}

/// Finds an adapter (a software one only when `allow_software`) and opens it.
pub async fn open(allow_software: bool) -> Result<Opened> {
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
    let name = format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend);
    if !allow_software && info.device_type == wgpu::DeviceType::Cpu {
        return Err(gpu_err(format!(
            "only a software adapter, {name}: the CPU path is faster"
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
        .map_err(|e| gpu_err(format!("{name}: cannot open the device ({e})")))?;
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = errors.clone();
    device.on_uncaptured_error(Arc::new(move |e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text = format!("{text}: {s}");
            source = s.source();
        }
        sink.lock().unwrap_or_else(|p| p.into_inner()).push(text);
    }));
    Ok(Opened {
        device,
        queue,
        adapter: name,
        errors,
    })
}

/// The pipelines of the kernels and their shared bind-group layout:
/// binding 0 the uniform parameters, 1 the input, 2 the weights, 3 the bias
/// (then the int8 scales), 4 the residual (read-only storage), 5 the output
/// (read-write).
pub struct Kernels {
    layout: wgpu::BindGroupLayout,
    /// One per kernel length and weight storage in the network (`KW` and
    /// `WFMT` overridden).
    conv: Vec<((u32, Storage), wgpu::ComputePipeline)>,
    pool: wgpu::ComputePipeline,
    /// One per weight storage in the network (`WFMT` overridden).
    linear: Vec<(Storage, wgpu::ComputePipeline)>,
    unpack: wgpu::ComputePipeline,
}

impl Kernels {
    /// The pipelines: a convolution pipeline for each (kernel length, weight
    /// storage) of `convs`, a linear pipeline for each storage of `linears`.
    pub fn new(device: &wgpu::Device, convs: &[(u32, Storage)], linears: &[Storage]) -> Kernels {
        let f32_bytes = NonZeroU64::new(4);
        let storage = |binding: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: f32_bytes,
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
                        min_binding_size: NonZeroU64::new(UNIFORM_BYTES),
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
        let pipeline = |label: &str, module: &wgpu::ShaderModule, constants: &[(&str, f64)]| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: Some(&pipeline_layout),
                module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants,
                    ..Default::default()
                },
                cache: None,
            })
        };
        // The weight decode is one file, prepended to both kernels that read weights.
        let with_weights = |label: &str, body: &str| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(
                    format!("{}\n{body}", include_str!("shaders/weights.wgsl")).into(),
                ),
            })
        };
        let conv = with_weights("conv.wgsl", include_str!("shaders/conv.wgsl"));
        let pool = device.create_shader_module(wgpu::include_wgsl!("shaders/pool.wgsl"));
        let linear = with_weights("linear.wgsl", include_str!("shaders/linear.wgsl"));
        let unpack = device.create_shader_module(wgpu::include_wgsl!("shaders/unpack.wgsl"));
        let mut convs = convs.to_vec();
        convs.sort_unstable_by_key(|&(k, s)| (k, s as u32));
        convs.dedup();
        let mut linears = linears.to_vec();
        linears.sort_unstable_by_key(|&s| s as u32);
        linears.dedup();
        let wfmt = |s: Storage| f64::from(s as u32);
        Kernels {
            conv: convs
                .into_iter()
                .map(|(k, s)| {
                    let label = format!("conv k{k} {s:?}");
                    let constants = [("KW", f64::from(k)), ("WFMT", wfmt(s))];
                    ((k, s), pipeline(&label, &conv, &constants))
                })
                .collect(),
            pool: pipeline("pool", &pool, &[]),
            linear: linears
                .into_iter()
                .map(|s| {
                    let label = format!("linear {s:?}");
                    (s, pipeline(&label, &linear, &[("WFMT", wfmt(s))]))
                })
                .collect(),
            unpack: pipeline("unpack", &unpack, &[]),
            layout,
        }
    }

    /// The pipeline of `kernel` for weights stored as `storage`; `None` for
    /// a convolution length or storage not built.
    pub fn pipeline(&self, kernel: Kernel, storage: Storage) -> Option<&wgpu::ComputePipeline> {
        Some(match kernel {
            Kernel::Conv(k) => self
                .conv
                .iter()
                .find(|(l, _)| *l == (k, storage))
                .map(|(_, p)| p)?,
            Kernel::Pool => &self.pool,
            Kernel::Linear => self
                .linear
                .iter()
                .find(|(s, _)| *s == storage)
                .map(|(_, p)| p)?,
            Kernel::Unpack => &self.unpack,
        })
    }

    /// A bind group: `params` as the uniform, then input, weights, bias,
    /// residual and output buffers.
    pub fn bind(
        &self,
        device: &wgpu::Device,
        params: &[u8],
        [x, w, bias, residual, y]: [&wgpu::Buffer; 5],
    ) -> wgpu::BindGroup {
        let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("params"),
            contents: params,
            usage: wgpu::BufferUsages::UNIFORM,
        });
        fn entry(binding: u32, buffer: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
            wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            }
        }
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &self.layout,
            entries: &[
                entry(0, &uniform),
                entry(1, x),
                entry(2, w),
                entry(3, bias),
                entry(4, residual),
                entry(5, y),
            ],
        })
    }
}
