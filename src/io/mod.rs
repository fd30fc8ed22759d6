//! Inputs and outputs, one module per format: the user's files are read in
//! place (by region or streamed, never uploaded) and results written back.
//!
//! Inputs: [`fasta`] (sequences), [`vcf`] (variants), [`genome`] (reference
//! genome by region, contig names), [`annotations`] (what the user knows about
//! their variants). Outputs: [`output`] (TSV, annotated VCF, pairs TSV).

pub mod annotations;
pub mod fasta;
pub mod genome;
pub mod output;
pub mod vcf;
