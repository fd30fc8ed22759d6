//! Is the VCF called on the genome's build? Two signs, before thousands of
//! `ref_mismatch` rows would say it: the VCF header's `##contig` lengths
//! against the genome's (checked before the first record), and the share of
//! `ref_mismatch` among the first scored alleles (a note).

use crate::io::genome::{ContigResolver, CHR1_LENGTHS};

/// How many scored alleles the `ref_mismatch` share is judged on.
pub const WATCHED: usize = 200;
/// The share of `ref_mismatch` among them that makes the note.
pub const MISMATCH_SHARE: f64 = 0.1;

/// `(ID, length)` of a `##contig=<ID=..,length=..,...>` header line.
pub fn header_contig(line: &str) -> Option<(String, u64)> {
    let inner = line.strip_prefix("##contig=<")?.strip_suffix('>')?;
    let mut id = None;
    let mut length = None;
    for field in inner.split(',') {
        match field.split_once('=') {
            Some(("ID", v)) => id = Some(v.to_string()),
            Some(("length", v)) => length = v.trim().parse().ok(),
            _ => {}
        }
    }
    Some((id?, length?))
}

fn primary(name: &str) -> bool {
    let n = name.strip_prefix("chr").unwrap_or(name);
    matches!(n, "X" | "Y") || n.parse::<u8>().is_ok_and(|k| (1..=22).contains(&k))
}

fn build_of(name: &str, len: u64) -> Option<&'static str> {
    (name.strip_prefix("chr").unwrap_or(name) == "1")
        .then(|| {
            CHR1_LENGTHS
                .iter()
                .find(|(l, _)| *l == len)
                .map(|(_, b)| *b)
        })
        .flatten()
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Compares the VCF header's contig lengths with the genome's (chromosomes
/// 1-22, X and Y, read through the same aliases as the records): `Some`
/// sentence when they differ, naming the builds where chr1 tells them.
pub fn header_mismatch(
    header: &[(String, u64)],
    genome: &[(String, u64)],
    resolver: &mut ContigResolver,
    genome_name: &str,
) -> Option<String> {
    let mut differ: Vec<(String, u64, u64)> = vec![];
    for (id, len) in header.iter().filter(|(id, _)| primary(id)) {
        let Some(contig) = resolver.resolve(id).map(String::from) else {
            continue;
        };
        let Some(&(_, glen)) = genome.iter().find(|(n, _)| *n == contig) else {
            continue;
        };
        if glen != *len {
            differ.push((contig, *len, glen));
        }
    }
    let (name, vlen, glen) = differ.first()?.clone();
    let build = |len| {
        build_of(&name, len)
            .map(|b| format!(" ({b})"))
            .unwrap_or_default()
    };
    let more = match differ.len() - 1 {
        0 => String::new(),
        1 => ", and 1 more chromosome differs".into(),
        n => format!(", and {n} more chromosomes differ"),
    };
    Some(format!(
        "the VCF is not from this genome's build: its header gives {name} as {} bp{}, {genome_name} has {} bp{}{more}. Choose the genome the VCF was called on (or lift the VCF over); `--allow-build-mismatch` scores anyway",
        thousands(vlen),
        build(vlen),
        thousands(glen),
        build(glen),
    ))
}

/// The note when many of the first scored alleles have a REF that differs
/// from the genome (a VCF without `##contig` lines on another build).
pub fn mismatch_note(
    mismatched: usize,
    scored: usize,
    genome_name: &str,
    model_build: &str,
) -> Option<String> {
    (scored >= WATCHED && mismatched as f64 > MISMATCH_SHARE * scored as f64).then(|| {
        format!(
            "{mismatched} of the first {scored} scored variants have a REF that differs from {genome_name}: is it the build the VCF was called on? (this model expects {model_build})"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_contig_lines() {
        assert_eq!(
            header_contig("##contig=<ID=chr1,length=249250621,assembly=b37>"),
            Some(("chr1".into(), 249_250_621))
        );
        assert_eq!(header_contig("##contig=<ID=1>"), None);
        assert_eq!(header_contig("##INFO=<ID=DP>"), None);
        assert_eq!(thousands(249_250_621), "249,250,621");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_grch37_header_against_a_grch38_genome_is_named_as_such() {
        let genome = vec![
            ("chr1".to_string(), 248_956_422),
            ("chr2".into(), 242_193_529),
            ("chrM".into(), 16_569),
        ];
        let mut r = ContigResolver::new(genome.iter().map(|(n, _)| n.clone()));
        let header = vec![
            ("1".to_string(), 249_250_621),
            ("2".into(), 243_199_373),
            ("MT".into(), 16_571),
        ];
        let m = header_mismatch(&header, &genome, &mut r, "hg38.2bit").unwrap();
        assert!(m.starts_with("the VCF is not from this genome's build: its header gives chr1 as 249,250,621 bp (GRCh37/hg19), hg38.2bit has 248,956,422 bp (GRCh38/hg38), and 1 more chromosome differs."), "{m}");
        // chrM differs between hg19 and GRCh37 themselves: never a sign.
        let same = vec![("1".to_string(), 248_956_422), ("MT".into(), 16_571)];
        assert_eq!(header_mismatch(&same, &genome, &mut r, "g"), None);
        assert_eq!(header_mismatch(&[], &genome, &mut r, "g"), None);
    }
}
