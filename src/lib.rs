//! Brain-ResNet (MetaChrom) in Rust: the chromatin-profile network of Lai, Qian
//! et al. (PLOS Comput Biol 2022) for scoring noncoding variants, natively and
//! in the browser.
//!
//! Data flows one way, and the modules follow it:
//! inputs ([`io`]: FASTA, VCF, genome, annotations) -> windows ([`window`]) ->
//! network ([`model`]: one graph of operations run by the CPU ([`model::network`],
//! [`model::incremental`]) and the GPU ([`gpu`]); weights from [`weights`]) ->
//! scores ([`scoring`]) -> outputs ([`output`]) and analyses ([`analysis`]).
//! [`web`] is the thin WebAssembly layer the page calls; the CLI lives in
//! `src/cli/` beside `src/main.rs`.

pub mod analysis;
pub mod architecture;
pub mod error;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod io;
pub mod model;
pub mod output;
pub mod scoring;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod weights;
pub mod window;

pub use error::{Error, Result};
pub use model::{BackendChoice, Config, Model, Network};
