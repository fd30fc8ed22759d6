//! The WebAssembly layer (wasm-bindgen) the page's Web Workers call: a thin
//! wrapper over the plain Rust of the other modules, as candle's wasm examples
//! keep theirs. Each worker holds one [`engine::Engine`] (a loaded model);
//! [`files`] reads the user's `File`s in place, [`scoring`] scores a VCF,
//! [`format`] writes results as the CLI does. Results cross to JavaScript
//! with serde-wasm-bindgen.

pub mod engine;
mod files;
pub mod format;
mod scoring;

use serde::Serialize;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The message of the panic that stopped this instance, if one did.
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

#[wasm_bindgen(start)]
pub fn start() {
    // A panic aborts the WebAssembly instance (a `RuntimeError` in the
    // worker): keep its message for the page, which replaces the worker.
    std::panic::set_hook(Box::new(|info| {
        let message = format!("{info}");
        web_sys::console::error_1(&format!("brain-resnet: {message}").into());
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(message));
    }));
}

/// The message of the panic that aborted this instance (`undefined` if none):
/// the worker reads it after a `WebAssembly.RuntimeError` to say what failed.
#[wasm_bindgen]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow().clone())
}

/// Plain JS objects and arrays (maps as objects), as the page expects.
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, serde_wasm_bindgen::Error> {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
}

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}
