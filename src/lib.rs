//! Brain-ResNet (MetaChrom) in Rust: the chromatin-profile network of Lai, Qian
//! et al. (PLOS Comput Biol 2022) for scoring noncoding variants, natively and
//! in the browser.
//!
//! Data flows one way: inputs ([`sequences`]) -> windows ([`window`]) ->
//! network ([`model`], weights from [`weights`]) -> scores.

pub mod error;
pub mod model;
pub mod sequences;
pub mod weights;
pub mod window;

pub use error::{Error, Result};
pub use model::{Config, Model, Network};
