//! Windows' probabilities to variant scores: the score definitions
//! ([`score`]), what became of each allele ([`status`]), prediction for
//! scoring ([`predict`]: batches, reverse complements, incremental ALT
//! windows), and the three ways in: a VCF against a genome ([`vcf`]),
//! sequence pairs ([`pairs`]) and saturation mutagenesis ([`mutagenesis`]).

pub mod build;
pub mod mutagenesis;
pub mod pairs;
pub mod predict;
pub mod score;
mod select;
pub mod status;
pub mod vcf;

pub use pairs::{score_pairs, PairResult};
pub use predict::{predict_windows, predict_with_references, ScoreOptions};
pub use score::{Score, PROB_EPS};
pub use status::{classify_alt, Status};
pub use vcf::{AlleleResult, Event, RecordResult, Summary, VariantScorer};
