//! Brain-ResNet (MetaChrom) in Rust: the chromatin-profile network of Lai, Qian
//! et al. (PLOS Comput Biol 2022) for scoring noncoding variants, natively and
//! in the browser.
//!
//! Data flows one way: inputs ([`sequences`], [`variants`], [`genome`]) ->
//! windows ([`window`]) -> network ([`model`], weights from [`weights`]) ->
//! scores ([`scores`]).

pub mod analysis;
pub mod error;
pub mod genome;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod model;
pub mod mutagenesis;
pub mod output;
pub mod scores;
pub mod sequences;
pub mod stats;
pub mod variants;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
pub mod weights;
pub mod window;

pub use error::{Error, Result};
pub use model::{BackendChoice, Config, Model, Network};
