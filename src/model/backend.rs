//! Where inference runs: the user's choice ([`BackendChoice`]), the GPU
//! network in use if any, and the note that says which backend runs and why.
//! A GPU failure switches to the CPU for good, once, here, for the CLI and the
//! page alike.

use std::sync::Mutex;

use crate::error::Result;

/// Where inference runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// The GPU when an adapter is found, else the CPU.
    Auto,
    Cpu,
    /// The GPU, or an error saying why there is none.
    Gpu,
}

#[cfg(target_arch = "wasm32")]
pub(crate) const CPU_NAME: &str = "CPU (WebAssembly SIMD128)";
#[cfg(not(target_arch = "wasm32"))]
pub(crate) const CPU_NAME: &str = "CPU (candle)";

/// Shared between threads natively; in the browser the WebGPU handles are
/// bound to the worker's thread.
#[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
pub(crate) type GpuHandle = std::sync::Arc<crate::gpu::GpuNetwork>;
#[cfg(all(feature = "gpu", target_arch = "wasm32"))]
pub(crate) type GpuHandle = std::rc::Rc<crate::gpu::GpuNetwork>;

/// The backend in use and its note.
pub(crate) struct Backend {
    #[cfg(feature = "gpu")]
    gpu: Mutex<Option<GpuHandle>>,
    note: Mutex<String>,
}

impl Backend {
    pub(crate) fn cpu(note: String) -> Backend {
        Backend {
            #[cfg(feature = "gpu")]
            gpu: Mutex::new(None),
            note: Mutex::new(note),
        }
    }

    /// Uses `gpu` from now on, with `note` saying so.
    #[cfg(feature = "gpu")]
    pub(crate) fn set_gpu(&self, gpu: crate::gpu::GpuNetwork, note: String) {
        *lock(&self.gpu) = Some(GpuHandle::new(gpu));
        *lock(&self.note) = note;
    }

    /// The GPU network, while it is in use.
    #[cfg(feature = "gpu")]
    pub(crate) fn gpu(&self) -> Option<GpuHandle> {
        lock(&self.gpu).clone()
    }

    pub(crate) fn on_gpu(&self) -> bool {
        #[cfg(feature = "gpu")]
        return lock(&self.gpu).is_some();
        #[cfg(not(feature = "gpu"))]
        false
    }

    /// Drops the GPU after `error`; the note says what happened.
    #[cfg(feature = "gpu")]
    pub(crate) fn gpu_failed(&self, error: &crate::Error) {
        *lock(&self.gpu) = None;
        *lock(&self.note) = format!(
            "{CPU_NAME}: the GPU failed ({error}); switched to the CPU, no result came from the failed run"
        );
    }

    pub(crate) fn set_note(&self, note: String) {
        *lock(&self.note) = note;
    }

    pub(crate) fn note(&self) -> String {
        lock(&self.note).clone()
    }
}

/// Locks a mutex whose holder cannot leave it inconsistent (each critical
/// section is one assignment or clone), so a poisoned lock is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs a future to completion on this thread: natively by blocking on it
/// (the GPU's readback is awaited by polling the device); in the browser by
/// polling it once, which completes every CPU-only computation. A future that
/// waits there (a WebGPU readback) is an error: the browser must await it.
pub(crate) fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        pollster::block_on(f)
    }
    #[cfg(target_arch = "wasm32")]
    {
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => Err(crate::Error::input(
                "predict",
                "asynchronous GPU work was started on a synchronous path; await the asynchronous call",
            )),
        }
    }
}
