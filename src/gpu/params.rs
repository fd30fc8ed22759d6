//! The uniform parameters of each kernel, laid out as its WGSL `Params` struct
//! (`#[repr(C)]`, u32 fields, 16-byte multiples as uniform buffers require).

use bytemuck::{Pod, Zeroable};

/// `conv.wgsl`: conv1d (stride 1, zero padding) + bias, optional ReLU
/// (`flags & 1`) and residual add after it (`flags & 2`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct ConvParams {
    pub batch: u32,
    pub cin: u32,
    pub cout: u32,
    pub lin: u32,
    pub lout: u32,
    pub k: u32,
    pub pad: u32,
    pub flags: u32,
}

/// `pool.wgsl`: max pooling with stride = kernel over rows of `lin` values.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct PoolParams {
    pub rows: u32,
    pub lin: u32,
    pub lout: u32,
    pub k: u32,
    pub _pad: [u32; 4],
}

/// `linear.wgsl`: `y[b * stride + offset + o] = f(bias[o] + w[o] . x[b])`,
/// f = ReLU (`flags & 1`) or sigmoid (`flags & 4`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct LinearParams {
    pub batch: u32,
    pub inputs: u32,
    pub outputs: u32,
    pub stride: u32,
    pub offset: u32,
    pub flags: u32,
    pub _pad: [u32; 2],
}

/// `unpack.wgsl`: `y[i] = f32(byte i of x)` for `i < count`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct UnpackParams {
    pub count: u32,
    pub _pad: [u32; 7],
}

pub const RELU: u32 = 1;
pub const RESIDUAL: u32 = 2;
pub const SIGMOID: u32 = 4;

/// Every kernel's parameters take 32 bytes (the bind-group layout states
/// this size for binding 0; WGSL structs may be shorter, never longer).
pub const UNIFORM_BYTES: u64 = 32;

const _: () = assert!(std::mem::size_of::<ConvParams>() as u64 == UNIFORM_BYTES);
const _: () = assert!(std::mem::size_of::<PoolParams>() as u64 == UNIFORM_BYTES);
const _: () = assert!(std::mem::size_of::<LinearParams>() as u64 == UNIFORM_BYTES);
const _: () = assert!(std::mem::size_of::<UnpackParams>() as u64 == UNIFORM_BYTES);
