//! Genomes as people download them: UCSC `.2bit`, a plain FASTA without its
//! `.fai`, a plain-gzip FASTA. Each is checked against the fixture FASTA with
//! its samtools index (../shared/fixtures/genome), region by region and
//! through `brain-resnet score`.

mod common;

use std::path::Path;

use brain_resnet::io::fasta::FastaReader;
use brain_resnet::io::genome::index::{build_fai, fai_text};
use brain_resnet::io::genome::Genome;
use common::*;

/// Writes `records` (name, bases with N runs and lowercase repeats) as a
/// `.2bit` file, from UCSC's description of the format: version 0 (32-bit
/// offsets) or 1 (64-bit), little- or big-endian.
fn write_twobit(records: &[(String, Vec<u8>)], version: u32, big_endian: bool) -> Vec<u8> {
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let runs = |seq: &[u8], pred: &dyn Fn(u8) -> bool| {
        let mut out: Vec<(u32, u32)> = vec![];
        let mut i = 0;
        while i < seq.len() {
            if pred(seq[i]) {
                let s = i;
                while i < seq.len() && pred(seq[i]) {
                    i += 1;
                }
                out.push((s as u32, (i - s) as u32));
            } else {
                i += 1;
            }
        }
        out
    };
    let offset_bytes = if version == 1 { 8 } else { 4 };
    let index_len: usize = records
        .iter()
        .map(|(n, _)| 1 + n.len() + offset_bytes)
        .sum();
    let mut bodies: Vec<Vec<u8>> = vec![];
    for (_, seq) in records {
        let mut b = vec![];
        b.extend(u32b(seq.len() as u32));
        for blocks in [
            runs(seq, &|c| c == b'N' || c == b'n'),
            runs(seq, &|c| c.is_ascii_lowercase()),
        ] {
            b.extend(u32b(blocks.len() as u32));
            blocks.iter().for_each(|(s, _)| b.extend(u32b(*s)));
            blocks.iter().for_each(|(_, l)| b.extend(u32b(*l)));
        }
        b.extend(u32b(0));
        for chunk in seq.chunks(4) {
            let mut byte = 0u8;
            for (k, c) in chunk.iter().enumerate() {
                let code = match c.to_ascii_uppercase() {
                    b'T' => 0,
                    b'C' => 1,
                    b'A' => 2,
                    b'G' => 3,
                    _ => 0, // N: a T under an N block, as faToTwoBit writes
                };
                byte |= code << (6 - 2 * k);
            }
            b.push(byte);
        }
        bodies.push(b);
    }
    let mut out = vec![];
    out.extend(u32b(0x1A41_2743));
    out.extend(u32b(version));
    out.extend(u32b(records.len() as u32));
    out.extend(u32b(0));
    let mut at = (16 + index_len) as u64;
    for ((name, _), body) in records.iter().zip(&bodies) {
        out.push(name.len() as u8);
        out.extend(name.as_bytes());
        if version == 1 {
            out.extend(if big_endian {
                at.to_be_bytes()
            } else {
                at.to_le_bytes()
            });
        } else {
            out.extend(u32b(at as u32));
        }
        at += body.len() as u64;
    }
    bodies.iter().for_each(|b| out.extend(b));
    out
}

fn fixture_records() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read(fixture("genome/genome.fa")).unwrap();
    FastaReader::new(&text[..], "genome.fa", usize::MAX)
        .map(|r| {
            let r = r.unwrap();
            (r.name, r.sequence)
        })
        .collect()
}

/// Regions of every contig: edges, both ends, across N runs and repeats.
fn regions(len: i64) -> Vec<(i64, i64)> {
    let mut out = vec![
        (-700, 300),
        (len - 300, len + 700),
        (0, len),
        (len / 2, len / 2 + 1),
    ];
    for start in (0..len).step_by(997) {
        out.push((start, start + 1000));
        out.push((start + 3, start + 6));
    }
    out
}

#[test]
fn a_twobit_genome_reads_as_the_fasta_it_was_made_from_in_every_layout() {
    let records = fixture_records();
    let dir = tempfile::tempdir().unwrap();
    let mut fasta = Genome::open(&fixture("genome/genome.fa")).unwrap();
    for (version, big_endian) in [(0, false), (1, false), (0, true)] {
        let bytes = write_twobit(&records, version, big_endian);
        let path = dir
            .path()
            .join(format!("genome-v{version}-{big_endian}.2bit"));
        std::fs::write(&path, &bytes).unwrap();
        // The writer, checked by an independent reader (the `twobit` crate reads version 0).
        if version == 0 {
            let mut tb = twobit::TwoBitFile::open(&path)
                .unwrap()
                .enable_softmask(true);
            for (name, seq) in &records {
                let theirs = tb.read_sequence(name, ..).unwrap();
                assert_eq!(theirs.as_bytes(), &seq[..], "{name}: the test's writer");
            }
        }
        let mut ours = Genome::open(&path).unwrap();
        assert!(!ours.built_index());
        assert_eq!(ours.contigs(), fasta.contigs());
        let contigs = ours.contigs().to_vec();
        for (name, len) in contigs {
            for (s, e) in regions(len as i64) {
                assert_eq!(
                    ours.fetch(&name, s, e).unwrap(),
                    fasta.fetch(&name, s, e).unwrap(),
                    "{name}:{s}-{e} of v{version} {}",
                    if big_endian {
                        "big-endian"
                    } else {
                        "little-endian"
                    }
                );
            }
        }
    }
}

#[test]
fn scoring_against_a_twobit_or_an_unindexed_fasta_equals_the_indexed_fasta() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let twobit = dir.path().join("genome.2bit");
    std::fs::write(&twobit, write_twobit(&fixture_records(), 0, false)).unwrap();
    let plain = dir.path().join("genome.fa");
    std::fs::copy(fixture("genome/genome.fa"), &plain).unwrap();
    assert!(!Path::new(&format!("{}.fai", plain.display())).exists());
    let vcf = fixture("variants.vcf");
    let want = score(model.path(), &fixture("genome/genome.fa"), &vcf, &[]);
    assert!(want.status.success());
    for genome in [&twobit, &plain] {
        let got = score(model.path(), genome, &vcf, &[]);
        let err = String::from_utf8_lossy(&got.stderr);
        assert!(got.status.success(), "{err}");
        assert_eq!(got.stdout, want.stdout, "{}", genome.display());
        if genome == &plain {
            assert!(
                err.contains("genome.fa has no .fai beside it: indexed it in one pass")
                    && err.contains("3 contigs"),
                "{err}"
            );
        }
    }
}

#[test]
fn the_index_built_in_one_pass_equals_samtools_faidx() {
    let fa = std::fs::read(fixture("genome/genome.fa")).unwrap();
    let mut reports = vec![];
    let index = build_fai(&fa[..], "genome.fa", &mut |b| reports.push(b)).unwrap();
    let samtools = std::fs::read_to_string(fixture("genome/genome.fa.fai")).unwrap();
    assert_eq!(fai_text(&index), samtools);
    assert_eq!(reports.last(), Some(&(fa.len() as u64)));
    // CRLF line endings: the same bases, wider lines (as samtools counts them).
    let crlf: Vec<u8> = String::from_utf8(fa.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let index = build_fai(&crlf[..], "crlf.fa", &mut |_| {}).unwrap();
    for (a, b) in index
        .as_ref()
        .iter()
        .zip(fai_text(&build_fai(&fa[..], "x", &mut |_| {}).unwrap()).lines())
    {
        let cols: Vec<u64> = b.split('\t').skip(1).map(|c| c.parse().unwrap()).collect();
        assert_eq!(a.length(), cols[0]);
        assert_eq!(a.line_width().get(), cols[3] + 1);
    }
}

#[test]
fn unindexable_fastas_and_plain_gzip_are_refused_with_what_to_do() {
    for (text, want) in [
        (
            &b">a\nACGT\nAC\nACGT\n"[..],
            "line 4: sequence a has a line after a shorter or blank one",
        ),
        (
            b">a\nACGT\nACGTAC\n",
            "line 3: sequence a has lines of different lengths",
        ),
        (b">a\nACGT\n>a\nACGT\n", "line 3: sequence a appears twice"),
        (
            b"ACGT\n>a\nACGT\n",
            "line 1: sequence before the first `>` header",
        ),
        (b"just text", "line 1: sequence before the first `>` header"),
        (
            b">a\nAC-T\n",
            "line 2: sequence a holds '-', which is not a base",
        ),
        (b">a\n>b\nACGT\n", "sequence a has no bases"),
        (b">only-a-header", "sequence only-a-header has no bases"),
        (
            b">a\nAC\rGT\n",
            "line 2: sequence a holds '\\r', which is not a base",
        ),
        (
            b">a\x00b\nACGT\n",
            "line 1: the sequence name is not printable text",
        ),
        (b"", "no `>` header: not a FASTA"),
    ] {
        let err = build_fai(text, "bad.fa", &mut |_| {}).unwrap_err();
        assert!(err.contains("bad.fa") && err.contains(want), "{err}");
    }
    let dir = tempfile::tempdir().unwrap();
    // A file of the wrong kind (a VCF) given as the genome: named once, by line.
    let vcf = dir.path().join("calls.vcf");
    std::fs::copy(fixture("variants.vcf"), &vcf).unwrap();
    let err = Genome::open(&vcf).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: line 1: sequence before the first `>` header",
            vcf.display()
        )
    );
    let gz = dir.path().join("hg38.fa.gz");
    let mut enc = flate2_free_gzip(&std::fs::read(fixture("genome/genome.fa")).unwrap());
    std::fs::write(&gz, &mut enc).unwrap();
    let err = Genome::open(&gz).unwrap_err().to_string();
    assert!(
        err.contains("hg38.fa.gz")
            && err.contains("plain gzip, which cannot be read by region")
            && err.contains(".2bit"),
        "{err}"
    );
}

/// A plain gzip member of `data` (stored blocks; no compression library needed).
fn flate2_free_gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let chunks: Vec<&[u8]> = data.chunks(65535).collect();
    for (i, c) in chunks.iter().enumerate() {
        out.push(u8::from(i + 1 == chunks.len()));
        out.extend((c.len() as u16).to_le_bytes());
        out.extend((!(c.len() as u16)).to_le_bytes());
        out.extend(*c);
    }
    let crc = crc32(data);
    out.extend(crc.to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn damaged_twobit_files_are_refused_by_name_never_a_panic() {
    let good = write_twobit(&fixture_records(), 0, false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.2bit");
    let mut cases: Vec<Vec<u8>> = vec![
        good[..10].to_vec(),
        good[..40].to_vec(),
        good[..good.len() - 100].to_vec(),
    ];
    let mut huge_count = good.clone();
    huge_count[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(huge_count);
    let mut huge_blocks = good.clone();
    // The first record's N block count (just after its DNA size).
    let first = u32::from_le_bytes(good[16 + 1 + 4..16 + 1 + 4 + 4].try_into().unwrap()) as usize;
    huge_blocks[first + 4..first + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    cases.push(huge_blocks);
    let mut bad_version = good.clone();
    bad_version[4] = 7;
    cases.push(bad_version);
    for (i, bytes) in cases.iter().enumerate() {
        std::fs::write(&path, bytes).unwrap();
        let err = match Genome::open(&path) {
            Err(e) => e.to_string(),
            Ok(mut g) => {
                let contigs = g.contigs().to_vec();
                contigs
                    .iter()
                    .find_map(|(n, len)| g.fetch(n, 0, *len as i64).err())
                    .unwrap_or_else(|| panic!("case {i}: damage not noticed"))
                    .to_string()
            }
        };
        assert!(err.contains("bad.2bit"), "case {i}: {err}");
    }
}

#[test]
fn a_vcf_from_another_build_is_named_before_scoring_and_a_high_mismatch_rate_is_noted() {
    let model = mini_model();
    let records = std::fs::read_to_string(fixture("variants.vcf")).unwrap();
    let body: String = records
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let header = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621,assembly=b37>\n##contig=<ID=2,length=243199373>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    let o = score_vcf_text(model.path(), "b37.vcf", &format!("{header}{body}"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the VCF is not from this genome's build: its header gives chr1 as 249,250,621 bp (GRCh37/hg19), ")
            && err.contains("genome.fa has 30,000 bp, and 1 more chromosome differs")
            && String::from_utf8_lossy(&o.stdout).lines().count() <= 1,
        "{err}"
    );
    let o = score_vcf_text(
        model.path(),
        "b37.vcf",
        &format!("{header}{body}"),
        &["--allow-build-mismatch"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        o.status.success() && err.contains("warning: the VCF is not from this genome's build"),
        "{err}"
    );

    // No ##contig lines, but most REFs wrong: a note after the first 200 scored alleles.
    let fasta = std::fs::read(fixture("genome/genome.fa")).unwrap();
    let chr1 = &FastaReader::new(&fasta[..], "g", usize::MAX)
        .next()
        .unwrap()
        .unwrap()
        .sequence;
    let lines: String = (0..240)
        .map(|i| {
            let pos = 1000 + 100 * i;
            let genome_base = chr1[pos - 1].to_ascii_uppercase();
            let r = if i % 2 == 0 {
                genome_base
            } else if genome_base == b'A' {
                b'C'
            } else {
                b'A'
            };
            let alt = if r == b'G' { 'T' } else { 'G' };
            format!("chr1\t{pos}\tv{i}\t{}\t{alt}\n", r as char)
        })
        .collect();
    let o = score_vcf_text(model.path(), "shifted.vcf", &lines, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: ")
            && err.contains("of the first 200 scored variants have a REF that differs from")
            && err.contains("is it the build the VCF was called on? (this model expects"),
        "{err}"
    );
}

/// BED regions keep only the variants whose REF overlaps them; BED names are
/// matched to the genome's as the VCF's are (`1` is `chr1`, `MT` is `chrM`).
#[test]
fn regions_keep_only_the_variants_inside_and_count_the_rest() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let bed = dir.path().join("locus.bed");
    // snv_mid (chr1:5001), the deletion's REF (chr1:9001-9003) touching 9002,
    // mito_alias (MT:700) through chrM; chr9 is not in the genome.
    std::fs::write(
        &bed,
        "track name=locus\n1\t4990\t5010\tpeak\nchr1\t9002\t9003\nchrM\t650\t750\nchr9\t0\t5000\n",
    )
    .unwrap();
    let o = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &fixture("variants.vcf"),
        &["--regions", path_str(&bed)],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(ids, ["snv_mid", "mito_alias", "deletion"]);
    assert!(
        err.contains("regions: 4 from") && err.contains("left out 12 records outside the regions"),
        "{err}"
    );
    assert!(
        err.contains("regions on contigs the genome lacks were ignored: chr9"),
        "{err}"
    );
    // The kept rows are those of a run without regions (to f32 rounding: the
    // windows are batched differently).
    let all = String::from_utf8(
        score(
            model.path(),
            &fixture("genome/genome.fa"),
            &fixture("variants.vcf"),
            &[],
        )
        .stdout,
    )
    .unwrap();
    let fields = |l: &str| l.split('\t').map(String::from).collect::<Vec<_>>();
    for line in out.lines().skip(1) {
        let kept = fields(line);
        let full = all
            .lines()
            .map(fields)
            .find(|f| f[..6] == kept[..6])
            .unwrap_or_else(|| panic!("{line}"));
        for (a, b) in kept[6..].iter().zip(&full[6..]) {
            let (a, b): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
            assert!((a - b).abs() <= 1e-6, "{line}: {a} vs {b}");
        }
    }
}

/// A VCF with samples: `--sample` scores only the ALTs that sample carries;
/// its other ALTs are `not_carried`; 0/0 and ./. records are counted.
#[test]
fn a_chosen_sample_scores_only_the_alleles_it_carries_with_genotype_columns() {
    let model = mini_model();
    let text = std::fs::read_to_string(fixture("variants.vcf")).unwrap();
    let mut vcf = String::new();
    // Genotypes of NA1 and NA2 by record id (records not listed: 0/1 and 0/0).
    let gts = [
        ("snv_mid", "0|1", "1/1"),
        ("snv_contig_start", "0/0", "0/1"),
        ("multi_allelic", "0/2", "1/2"),
        ("no_chr_prefix", "./.", "0/1"),
        ("deletion", "1/1", "0/0"),
    ];
    for line in text.lines() {
        if line.starts_with("##") {
            vcf.push_str(line);
        } else if line.starts_with('#') {
            vcf.push_str("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tNA1\tNA2");
        } else {
            let cols: Vec<&str> = line.split('\t').collect();
            let (a, b) = gts
                .iter()
                .find(|g| g.0 == cols[2])
                .map_or(("0/1", "0/0"), |g| (g.1, g.2));
            let mut c: Vec<String> = cols.iter().map(|s| s.to_string()).collect();
            c.resize(8, ".".into());
            vcf.push_str(&format!("{}\tGT:DP\t{a}:7\t{b}:9", c.join("\t")));
        }
        vcf.push('\n');
    }
    let o = score_vcf_text(model.path(), "samples.vcf", &vcf, &["--sample", "NA1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    let header: Vec<&str> = out.lines().next().unwrap().split('\t').collect();
    assert_eq!(
        &header[..8],
        ["chrom", "pos", "id", "ref", "alt", "status", "sample", "genotype"]
    );
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    let row = |id: &str, alt: &str| {
        rows.iter()
            .find(|r| r[2] == id && r[4] == alt)
            .map(|r| (r[5], r[6], r[7]))
    };
    assert_eq!(row("snv_mid", "C"), Some(("ok", "NA1", "0|1")));
    assert_eq!(
        row("multi_allelic", "A"),
        Some(("not_carried", "NA1", "0/2"))
    );
    assert_eq!(row("multi_allelic", "C"), Some(("ok", "NA1", "0/2")));
    assert_eq!(row("deletion", "A"), Some(("ok", "NA1", "1/1")));
    assert_eq!(row("snv_contig_start", "T"), None, "0/0: left out");
    assert_eq!(row("no_chr_prefix", "C"), None, "./.: left out");
    assert!(
        err.contains("left out 1 records where the sample carries no ALT (0/0) and 1 with a missing call (./.)"),
        "{err}"
    );
    // Scored values equal the run without a sample (f32 rounding: other batches).
    let all =
        String::from_utf8(score_vcf_text(model.path(), "samples.vcf", &vcf, &[]).stdout).unwrap();
    let plain = all
        .lines()
        .find(|l| l.contains("\tmulti_allelic\t") && l.split('\t').nth(4) == Some("C"))
        .unwrap();
    let ours = out
        .lines()
        .find(|l| l.contains("\tmulti_allelic\t") && l.split('\t').nth(4) == Some("C"))
        .unwrap();
    let nums = |l: &str, skip: usize| {
        l.split('\t')
            .skip(skip)
            .map(|v| v.parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    for (a, b) in nums(ours, 8).iter().zip(nums(plain, 7)) {
        assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
    }
    // No sample chosen: every ALT scored once, with how many samples carry it.
    let head: Vec<&str> = all.lines().next().unwrap().split('\t').take(7).collect();
    assert_eq!(
        head,
        ["chrom", "pos", "id", "ref", "alt", "status", "carriers"]
    );
    let carriers = |id: &str, alt: &str| {
        all.lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .find(|c| c[2] == id && c[4] == alt)
            .map(|c| c[6].to_string())
    };
    assert_eq!(carriers("snv_mid", "C").as_deref(), Some("2"));
    assert_eq!(carriers("multi_allelic", "A").as_deref(), Some("1"));
    assert_eq!(carriers("multi_allelic", "C").as_deref(), Some("2"));
    assert_eq!(
        carriers("no_chr_prefix", "C").as_deref(),
        Some("1"),
        "./. and 0/1"
    );
    assert_eq!(carriers("snv_contig_start", "T").as_deref(), Some("1"));
    // A sample the VCF lacks: an error listing those it has.
    let o = score_vcf_text(model.path(), "samples.vcf", &vcf, &["--sample", "NA3"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("sample `NA3` is not in the #CHROM line (samples: NA1, NA2)"),
        "{err}"
    );
}

/// Consumer raw data (23andMe, AncestryDNA, MyHeritage layouts; synthetic
/// genotypes on the fixture genome) given as the VCF: the same rows from
/// each layout, and the rows of the equivalent one-sample VCF.
#[test]
fn consumer_genotype_files_score_the_alleles_the_person_carries() {
    let model = mini_model();
    let fasta = std::fs::read(fixture("genome/genome.fa")).unwrap();
    let records: Vec<_> = FastaReader::new(&fasta[..], "g", usize::MAX)
        .map(|r| r.unwrap())
        .collect();
    let base = |contig: &str, pos: usize| {
        let r = records.iter().find(|r| r.name == contig).unwrap();
        r.sequence[pos - 1].to_ascii_uppercase() as char
    };
    let other = |b: char, k: usize| "ACGT".chars().filter(|&c| c != b).nth(k).unwrap();
    // (chrom, ancestry chrom, pos, genotype): het, hom-alt, two ALTs, hom-ref, no call, indel, haploid MT.
    let (p1, p2, p3, p4, p5, p6) = (5001, 6001, 7501, 8001, 8501, 9001);
    let calls: Vec<(&str, &str, usize, String)> = vec![
        (
            "1",
            "1",
            p1,
            format!("{}{}", base("chr1", p1), other(base("chr1", p1), 0)),
        ),
        ("1", "1", p2, format!("{0}{0}", other(base("chr1", p2), 1))),
        (
            "1",
            "1",
            p3,
            format!(
                "{}{}",
                other(base("chr1", p3), 0),
                other(base("chr1", p3), 2)
            ),
        ),
        ("1", "1", p4, format!("{0}{0}", base("chr1", p4))),
        ("1", "1", p5, "--".into()),
        ("1", "1", p6, "DI".into()),
        ("MT", "26", 700, other(base("chrM", 700), 0).to_string()),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut files = vec![];
    for (layout, ext) in [
        ("23andme", "txt"),
        ("ancestry", "txt"),
        ("myheritage", "csv"),
    ] {
        let d = dir.path().join(layout);
        std::fs::create_dir(&d).unwrap();
        let mut text = match layout {
            "23andme" => "# This data file generated by 23andMe at: Mon Jan 01 2024\n# rsid\tchromosome\tposition\tgenotype\n".to_string(),
            "ancestry" => "#AncestryDNA raw data download\n#Genome build 37\nrsid\tchromosome\tposition\tallele1\tallele2\n".to_string(),
            _ => "# MyHeritage DNA raw data.\n# build 37\nRSID,CHROMOSOME,POSITION,RESULT\n".to_string(),
        };
        for (i, (chrom, anc, pos, gt)) in calls.iter().enumerate() {
            let rsid = format!("rs{}", 1000 + i);
            text.push_str(&match layout {
                "23andme" => format!("{rsid}\t{chrom}\t{pos}\t{gt}\n"),
                "ancestry" => {
                    let g = if gt == "--" {
                        "00".to_string()
                    } else if gt.len() == 1 {
                        format!("{gt}{gt}")
                    } else {
                        gt.clone()
                    };
                    let (a, b) = g.split_at(1);
                    format!("{rsid}\t{anc}\t{pos}\t{a}\t{b}\n")
                }
                _ => format!("\"{rsid}\",\"{chrom}\",\"{pos}\",\"{gt}\"\n"),
            });
        }
        let path = d.join(format!("me.{ext}"));
        std::fs::write(&path, text).unwrap();
        files.push((layout, path));
    }
    let mut outputs = vec![];
    for (layout, path) in &files {
        let o = score(model.path(), &fixture("genome/genome.fa"), path, &[]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{layout}: {err}");
        assert!(
            err.contains("raw data (GRCh37 positions)") && err.contains("sample `me`"),
            "{layout}: {err}"
        );
        assert!(err.contains("left out 1 records where the sample carries no ALT (0/0) and 1 with a missing call (./.)"), "{layout}: {err}");
        assert!(
            err.contains("left out 1 calls of indel codes"),
            "{layout}: {err}"
        );
        outputs.push((layout, String::from_utf8(o.stdout).unwrap()));
    }
    let cells = |t: &str| -> Vec<String> {
        t.lines()
            .skip(1)
            .map(|l| l.split('\t').take(8).collect::<Vec<_>>().join("\t"))
            .collect()
    };
    let first = cells(&outputs[0].1);
    assert_eq!(first.len(), 5, "het, hom-alt, two ALT rows, MT: {first:?}");
    let gts: Vec<&str> = first
        .iter()
        .map(|r| r.split('\t').nth(7).unwrap())
        .collect();
    assert_eq!(gts, ["0/1", "1/1", "1/2", "1/2", "1"]);
    assert!(
        first
            .iter()
            .all(|r| r.split('\t').nth(5) == Some("ok") && r.split('\t').nth(6) == Some("me")),
        "{first:?}"
    );
    // AncestryDNA writes a haploid call twice (`AA`): the MT row reads 1/1 there.
    for (layout, out) in &outputs[1..] {
        let theirs = cells(out);
        for (a, b) in first.iter().zip(&theirs) {
            let strip = |r: &str| r.rsplit_once('\t').unwrap().0.to_string();
            assert_eq!(strip(a), strip(b), "{layout}");
        }
    }
    // The same calls written as a one-sample VCF give the same rows.
    let mut vcf = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tme\n".to_string();
    for (i, (chrom, _, pos, gt)) in calls.iter().enumerate().filter(|(_, c)| c.3 != "DI") {
        let contig = if *chrom == "MT" { "chrM" } else { "chr1" };
        let r = base(contig, *pos);
        let mut alts: Vec<char> = vec![];
        let g: Vec<String> = if gt == "--" {
            vec![".".into(), ".".into()]
        } else {
            gt.chars()
                .map(|c| {
                    if c == r {
                        "0".into()
                    } else {
                        if !alts.contains(&c) {
                            alts.push(c);
                        }
                        (alts.iter().position(|&a| a == c).unwrap() + 1).to_string()
                    }
                })
                .collect()
        };
        let alt = if alts.is_empty() {
            ".".into()
        } else {
            alts.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        vcf.push_str(&format!(
            "{chrom}\t{pos}\trs{}\t{r}\t{alt}\t.\t.\t.\tGT\t{}\n",
            1000 + i,
            g.join("/")
        ));
    }
    let o = score_vcf_text(model.path(), "me.vcf", &vcf, &["--sample", "me"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(cells(&String::from_utf8(o.stdout).unwrap()), first);
}
