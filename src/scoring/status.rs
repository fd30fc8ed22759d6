//! What became of each record and allele: scored, or why not.

/// Why an allele is not scored, or `Ok`/`RefMismatch` when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Scored; REF matches the genome.
    Ok,
    /// Scored, but REF differs from the genome at POS.
    RefMismatch,
    UnknownContig,
    PosBeyondContigEnd,
    SymbolicAllele,
    SpanningDeletion,
    MissingAlt,
    InvalidAllele,
    InvalidRecord,
    GenomeError,
    InvalidSequence,
    /// The chosen sample does not carry this ALT (`--sample`).
    NotCarried,
}

impl Status {
    pub const ALL: [Status; 12] = [
        Status::Ok,
        Status::RefMismatch,
        Status::UnknownContig,
        Status::PosBeyondContigEnd,
        Status::SymbolicAllele,
        Status::SpanningDeletion,
        Status::MissingAlt,
        Status::InvalidAllele,
        Status::InvalidRecord,
        Status::GenomeError,
        Status::InvalidSequence,
        Status::NotCarried,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::RefMismatch => "ref_mismatch",
            Status::UnknownContig => "unknown_contig",
            Status::PosBeyondContigEnd => "pos_beyond_contig_end",
            Status::SymbolicAllele => "symbolic_allele",
            Status::SpanningDeletion => "spanning_deletion",
            Status::MissingAlt => "missing_alt",
            Status::InvalidAllele => "invalid_allele",
            Status::InvalidRecord => "invalid_record",
            Status::GenomeError => "genome_error",
            Status::InvalidSequence => "invalid_sequence",
            Status::NotCarried => "not_carried",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Status::Ok => "scored",
            Status::RefMismatch => "scored, but REF does not match the genome at POS",
            Status::UnknownContig => "CHROM is not a contig of the genome (aliases tried)",
            Status::PosBeyondContigEnd => "REF lies past the end of its contig",
            Status::SymbolicAllele => "symbolic ALT (<DEL>, breakends) is not scored",
            Status::SpanningDeletion => "ALT `*` (spanning deletion) is not scored",
            Status::MissingAlt => "ALT `.` (no alternate allele) is not scored",
            Status::InvalidAllele => "REF or ALT holds letters other than A, C, G, T, N",
            Status::InvalidRecord => "the line is not a valid VCF record",
            Status::GenomeError => "the genome could not be read around this variant",
            Status::InvalidSequence => "the sequence cannot be encoded (too long)",
            Status::NotCarried => {
                "the chosen sample does not carry this ALT (its genotype has other alleles)"
            }
        }
    }

    /// Was the allele scored?
    pub fn scored(self) -> bool {
        matches!(self, Status::Ok | Status::RefMismatch)
    }
}

/// What we can say about an ALT before touching the genome.
pub fn classify_alt(reference: &str, alt: &str) -> Option<Status> {
    let bases = |s: &str| s.bytes().all(|b| b"ACGTNacgtn".contains(&b));
    if alt == "*" {
        Some(Status::SpanningDeletion)
    } else if alt.starts_with('<') || alt.contains('[') || alt.contains(']') {
        Some(Status::SymbolicAllele)
    } else if alt == "." || alt.is_empty() {
        Some(Status::MissingAlt)
    } else if !bases(reference) || !bases(alt) {
        Some(Status::InvalidAllele)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alt_classes() {
        assert_eq!(classify_alt("A", "G"), None);
        assert_eq!(classify_alt("C", "<DEL>"), Some(Status::SymbolicAllele));
        assert_eq!(
            classify_alt("G", "G]chr2:100]"),
            Some(Status::SymbolicAllele)
        );
        assert_eq!(classify_alt("G", "*"), Some(Status::SpanningDeletion));
        assert_eq!(classify_alt("G", "."), Some(Status::MissingAlt));
        assert_eq!(classify_alt("R", "A"), Some(Status::InvalidAllele));
    }
}
