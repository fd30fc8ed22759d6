//! Which records and alleles a run scores, beyond what the VCF holds: the
//! regions of a BED (`--regions`), the alleles one sample carries
//! (`--sample`, or a consumer genotype file read as one sample), and, in a
//! VCF with samples and none chosen, how many samples carry each ALT.

use serde::{Deserialize, Serialize};

use super::vcf::Summary;
use crate::error::{Error, Result};
use crate::io::bed::Regions;
use crate::io::genome::ContigResolver;
use crate::io::vcf::{carriers, genotype, sample_names, VcfRecord};

/// What the chosen sample's call means for a record.
pub(super) enum Call {
    /// Left out (counted): no ALT carried, or a missing call.
    Skip,
    /// Scored: the call, and the ALT indices (1-based) carried.
    Keep(SampleCall, Vec<usize>),
    /// The call cannot be read: the record becomes `invalid_record`.
    Invalid(String),
}

/// A sample's genotype at a record, as written in the VCF.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleCall {
    pub sample: String,
    pub genotype: String,
}

/// The run's selection.
#[derive(Debug, Default)]
pub(super) struct Selection {
    /// Regions to keep, by genome contig name.
    regions: Option<Regions>,
    /// The sample whose carried alleles are scored, and its column among
    /// the samples once the `#CHROM` line is read.
    pub(super) sample: Option<(String, Option<usize>)>,
    /// The `#CHROM` line names samples.
    has_samples: bool,
}

impl Selection {
    /// Keeps `regions`, their BED contig names matched to the genome's
    /// `contigs` as the VCF's are (`1` is `chr1`); a note names BED contigs
    /// the genome lacks.
    pub(super) fn set_regions<I: IntoIterator<Item = String>>(
        &mut self,
        regions: Regions,
        contigs: I,
    ) -> Option<String> {
        let mut resolver = ContigResolver::new(contigs);
        let (regions, missing) = regions.rekeyed(|bed| resolver.resolve(bed).map(String::from));
        self.regions = Some(regions);
        (!missing.is_empty()).then(|| {
            format!(
                "regions on contigs the genome lacks were ignored: {}",
                missing.join(", ")
            )
        })
    }

    /// A header line: the `#CHROM` line gives the samples and the chosen
    /// sample's column (a sample it lacks is an error listing those it has).
    pub(super) fn header(&mut self, header: &str) -> Result<()> {
        let Some(names) = sample_names(header) else {
            return Ok(());
        };
        self.has_samples = !names.is_empty();
        let Some((name, col)) = &mut self.sample else {
            return Ok(());
        };
        match names.iter().position(|n| n == name) {
            Some(k) => *col = Some(k),
            None => {
                let listed: Vec<&str> = names.iter().take(10).map(String::as_str).collect();
                return Err(Error::input(
                    "VCF",
                    format!(
                        "sample `{name}` is not in the #CHROM line (samples: {}{})",
                        if listed.is_empty() {
                            "none".to_string()
                        } else {
                            listed.join(", ")
                        },
                        if names.len() > 10 {
                            format!(" and {} more", names.len() - 10)
                        } else {
                            String::new()
                        }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Is this record outside the regions (when there are regions)?
    /// `resolver` maps its CHROM to the genome's contig.
    pub(super) fn outside_regions(&self, r: &VcfRecord, resolver: &mut ContigResolver) -> bool {
        let Some(regions) = &self.regions else {
            return false;
        };
        let Some(contig) = resolver.resolve(&r.chrom) else {
            return true;
        };
        let start = r.pos.saturating_sub(1);
        !regions.overlaps(
            contig,
            start,
            start.saturating_add(r.reference.len() as u64),
        )
    }

    /// With a chosen sample, what its call means for record `r` (`0/0` and
    /// `./.` are counted in `summary`); `None` without one.
    pub(super) fn sample_call(&self, r: &VcfRecord, summary: &mut Summary) -> Result<Option<Call>> {
        let Some((name, col)) = &self.sample else {
            return Ok(None);
        };
        let Some(k) = *col else {
            return Err(Error::input(
                "VCF",
                format!(
                    "no #CHROM line before {}: the column of sample `{name}` is unknown",
                    r.place()
                ),
            ));
        };
        let g = match genotype(&r.raw, k) {
            Ok(g) => g,
            Err(m) => return Ok(Some(Call::Invalid(format!("sample {name}: {m}")))),
        };
        if g.is_missing() {
            summary.missing_calls += 1;
            return Ok(Some(Call::Skip));
        }
        let carried = g.carried();
        if carried.is_empty() {
            summary.not_carried += 1;
            return Ok(Some(Call::Skip));
        }
        if let Some(&bad) = carried.iter().find(|&&a| a > r.alts.len()) {
            return Ok(Some(Call::Invalid(format!(
                "sample {name}: GT `{}` names allele {bad}, the record has {} ALT",
                g.text,
                r.alts.len()
            ))));
        }
        let call = SampleCall {
            sample: name.clone(),
            genotype: g.text,
        };
        Ok(Some(Call::Keep(call, carried)))
    }

    /// In a VCF with samples and none chosen: how many carry each ALT of `r`.
    pub(super) fn carriers(&self, r: &VcfRecord) -> Option<Vec<usize>> {
        (self.has_samples && self.sample.is_none())
            .then(|| carriers(&r.raw, r.alts.len()))
            .flatten()
    }
}
