//! Inputs, one module per format: the user's files are read in place (by
//! region or streamed, never uploaded): [`fasta`] (sequences), [`vcf`]
//! (variants), [`genotypes`] (consumer raw data as a one-sample VCF), [`genome`] (reference genome by region, contig names),
//! [`annotations`] (what the user knows about their variants), [`bed`]
//! (regions to keep), [`pairs`] (REF/ALT
//! sequences given directly); [`lines`] reads
//! their lines with a cap. Results go
//! out through `crate::output`.

pub mod annotations;
pub mod bed;
pub mod bgzip_out;
pub mod fasta;
pub mod genome;
pub mod genotypes;
pub mod indexed;
pub mod lines;
pub mod pairs;
pub mod vcf;
