//! Contig names as VCFs write them (`1`, `chr1`, `MT`) read as the genome's own.

use std::collections::HashMap;

/// Maps VCF contig names to the genome's, trying `chr` added or removed and
/// the mitochondrion's names (`MT`, `M`, `chrM`, `chrMT`). Remembers answers.
#[derive(Debug, Default)]
pub struct ContigResolver {
    known: Vec<String>,
    cache: HashMap<String, Option<String>>,
}

impl ContigResolver {
    pub fn new<I: IntoIterator<Item = String>>(genome_contigs: I) -> Self {
        ContigResolver {
            known: genome_contigs.into_iter().collect(),
            cache: HashMap::new(),
        }
    }

    /// The genome's name for `chrom`, if any.
    pub fn resolve(&mut self, chrom: &str) -> Option<&str> {
        if !self.cache.contains_key(chrom) {
            let found = self
                .candidates(chrom)
                .into_iter()
                .find(|c| self.known.contains(c));
            self.cache.insert(chrom.to_string(), found);
        }
        self.cache[chrom].as_deref()
    }

    fn candidates(&self, chrom: &str) -> Vec<String> {
        let mut c = vec![chrom.to_string()];
        let bare = chrom.strip_prefix("chr").unwrap_or(chrom);
        if matches!(bare, "M" | "MT") {
            c.extend(["chrM", "MT", "chrMT", "M"].map(String::from));
        } else if chrom.starts_with("chr") {
            c.push(bare.to_string());
        } else {
            c.push(format!("chr{chrom}"));
        }
        c
    }

    /// VCF names that were read as another genome name: (VCF, genome).
    pub fn aliases(&self) -> Vec<(String, String)> {
        let mut v: Vec<_> = self
            .cache
            .iter()
            .filter_map(|(k, v)| {
                v.as_ref()
                    .filter(|g| *g != k)
                    .map(|g| (k.clone(), g.clone()))
            })
            .collect();
        v.sort();
        v
    }

    /// VCF names with no genome contig.
    pub fn unknown(&self) -> Vec<String> {
        let mut v: Vec<_> = self
            .cache
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contig_aliases() {
        let mut r = ContigResolver::new(["chr1", "chrM", "2"].map(String::from));
        assert_eq!(r.resolve("chr1"), Some("chr1"));
        assert_eq!(r.resolve("1"), Some("chr1"));
        assert_eq!(r.resolve("MT"), Some("chrM"));
        assert_eq!(r.resolve("chr2"), Some("2"));
        assert_eq!(r.resolve("chr9"), None);
        assert_eq!(
            r.aliases(),
            [("1", "chr1"), ("MT", "chrM"), ("chr2", "2")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(r.unknown(), ["chr9"]);
    }
}
