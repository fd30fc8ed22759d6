//! Region access (issue 20): `score --region` / `--regions` reads a bgzip
//! VCF through its tabix or CSI index and keeps exactly the records a
//! streamed run keeps; `--out x.vcf.gz` / `x.tsv.gz` is bgzip with a tabix
//! index; `concat` merges shards into the whole run; errors name the file.

mod common;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use common::*;

/// The fixture genome's contigs and sequences.
fn genome() -> Vec<(String, Vec<u8>)> {
    let text = std::fs::read_to_string(fixture("genome/genome.fa")).unwrap();
    let mut out: Vec<(String, Vec<u8>)> = vec![];
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('>') {
            out.push((name.split_whitespace().next().unwrap().to_string(), vec![]));
        } else {
            out.last_mut().unwrap().1.extend(line.trim().bytes());
        }
    }
    out
}

/// A sorted VCF over the fixture genome: SNVs every `step` bp, a deletion
/// every 10th record (a REF of 3 bases), a multi-ALT every 7th, and one
/// record on a contig the genome lacks (last, as sorting puts it).
fn generated_vcf(step: usize) -> String {
    let mut text = String::from("##fileformat=VCFv4.2\n");
    for (name, seq) in genome() {
        text += &format!("##contig=<ID={name},length={}>\n", seq.len());
    }
    text += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
    let mut n = 0;
    for (name, seq) in genome() {
        for pos in (50..seq.len().saturating_sub(50)).step_by(step) {
            n += 1;
            let base = seq[pos - 1].to_ascii_uppercase() as char;
            let alt = if base == 'A' { "G" } else { "A" };
            let (reference, alt) = if n % 10 == 0 {
                (
                    String::from_utf8_lossy(&seq[pos - 1..pos + 2]).to_uppercase(),
                    base.to_string(),
                )
            } else if n % 7 == 0 {
                let second = if base == 'C' { 'T' } else { 'C' };
                (base.to_string(), format!("{alt},{second}"))
            } else {
                (base.to_string(), alt.to_string())
            };
            text += &format!("{name}\t{pos}\tv{n}\t{reference}\t{alt}\t.\t.\t.\n");
        }
    }
    text += "chrUn\t100\tunknown\tA\tG\t.\t.\t.\n";
    text
}

fn run_ok(args: &[&str]) -> (String, String) {
    let o = cli(args);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "brain-resnet {args:?} failed: {err}");
    (String::from_utf8(o.stdout).unwrap(), err)
}

fn run_err(args: &[&str]) -> String {
    let o = cli(args);
    assert!(!o.status.success(), "brain-resnet {args:?} should fail");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The text of a bgzip file.
fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    noodles::bgzf::io::Reader::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

struct Setup {
    dir: tempfile::TempDir,
    model: tempfile::TempDir,
    plain: PathBuf,
    gz: PathBuf,
    genome: String,
}

/// The generated VCF, plain and as bgzip + .tbi (written by `concat`).
fn setup(step: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("v.vcf");
    std::fs::write(&plain, generated_vcf(step)).unwrap();
    let gz = dir.path().join("v.vcf.gz");
    run_ok(&["concat", "--out", path_str(&gz), path_str(&plain)]);
    assert!(dir.path().join("v.vcf.gz.tbi").exists());
    assert_eq!(gunzip(&gz), std::fs::read_to_string(&plain).unwrap());
    Setup {
        dir,
        model: mini_model(),
        plain,
        gz,
        genome: path_str(&fixture("genome/genome.fa")).to_string(),
    }
}

fn score_args<'a>(s: &'a Setup, vcf: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "score",
        "--model",
        path_str(s.model.path()),
        "--genome",
        s.genome.as_str(),
        "--vcf",
        path_str(vcf),
    ];
    args.extend_from_slice(extra);
    args
}

/// Writes a CSI index of a bgzip VCF (min_shift 14, depth 5, a tabix
/// header in its aux data), as `bcftools index` would.
fn write_csi(gz: &Path) -> PathBuf {
    use noodles::core::Position;
    use noodles::csi::binning_index::index::header::Builder;
    use noodles::csi::binning_index::index::reference_sequence::bin::Chunk;
    use noodles::csi::binning_index::index::reference_sequence::index::BinnedIndex;
    use noodles::csi::binning_index::Indexer;
    let mut reader = noodles::bgzf::io::Reader::new(std::fs::File::open(gz).unwrap());
    let mut indexer = Indexer::<BinnedIndex>::new(14, 5).unwrap();
    let mut names: Vec<String> = vec![];
    let mut line = String::new();
    loop {
        let start = reader.virtual_position();
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.starts_with('#') {
            continue;
        }
        let c: Vec<&str> = line.trim_end().split('\t').collect();
        if !names.iter().any(|n| n == c[0]) {
            names.push(c[0].to_string());
        }
        let id = names.iter().position(|n| n == c[0]).unwrap();
        let pos: usize = c[1].parse().unwrap();
        let ctx = (
            id,
            Position::new(pos).unwrap(),
            Position::new(pos + c[3].len() - 1).unwrap(),
            true,
        );
        indexer
            .add_record(Some(ctx), Chunk::new(start, reader.virtual_position()))
            .unwrap();
    }
    let header = Builder::vcf()
        .set_reference_sequence_names(names.iter().map(|n| n.as_str().into()).collect())
        .build();
    let index = indexer.set_header(header).build(names.len());
    let path = PathBuf::from(format!("{}.csi", gz.display()));
    noodles::csi::fs::write(&path, &index).unwrap();
    path
}

/// Largest difference between numbers that scores of one window may have
/// in two runs: a window's probabilities are computed in batches, and a
/// batch of other windows (a shard starts its own) rounds f32 sums
/// differently (measured: under 1e-6).
const ROUNDING: f64 = 1e-5;

/// Fails with the first differing line unless `got` and `want` have the
/// same lines, where numbers may differ by [`ROUNDING`] and nothing else may.
fn assert_same_rows(got: &str, want: &str, what: &str) {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    let cells = |l: &str| {
        l.split(['\t', ';', ',', '='])
            .map(String::from)
            .collect::<Vec<_>>()
    };
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        let (ca, cb) = (cells(a), cells(b));
        let same = ca.len() == cb.len()
            && ca.iter().zip(&cb).all(|(x, y)| {
                x == y
                    || matches!((x.parse::<f64>(), y.parse::<f64>()),
                        (Ok(x), Ok(y)) if (x - y).abs() <= ROUNDING * x.abs().max(1.0))
            });
        if !same {
            let head = |l: &str| l.split('\t').take(6).collect::<Vec<_>>().join(" ");
            panic!(
                "{what}: line {} differs:\n  got  {}\n  want {}",
                i + 1,
                head(a),
                head(b)
            );
        }
    }
    assert_eq!(g.len(), w.len(), "{what}: line counts differ");
}

/// The ids of a score TSV's rows.
fn ids(tsv: &str) -> Vec<String> {
    tsv.lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap().to_string())
        .collect()
}

#[test]
fn regions_read_through_tbi_and_csi_keep_what_a_streamed_run_keeps() {
    let s = setup(61);
    let regions = [
        "--region",
        "chr1:1000-5000",
        "--region",
        "chr1:4,900-6000",
        "--region",
        "chr2:1-300",
        "--region",
        "chrM:1000",
    ];
    // Through the .tbi.
    let (by_index, err) = run_ok(&score_args(&s, &s.gz, &regions));
    assert!(err.contains("read by region through"), "{err}");
    // Streamed: the plain VCF with the same regions as a BED.
    let bed = s.dir.path().join("r.bed");
    std::fs::write(
        &bed,
        "chr1\t999\t5000\nchr1\t4899\t6000\nchr2\t0\t300\nchrM\t999\t1000\n",
    )
    .unwrap();
    let (streamed, err) = run_ok(&score_args(&s, &s.plain, &["--regions", path_str(&bed)]));
    assert!(err.contains("left out"), "{err}");
    assert_same_rows(&by_index, &streamed, "indexed run against the streamed run");
    // What the overlap rule keeps: REF [pos, pos + len) touching a region.
    let mut want = vec![];
    for line in generated_vcf(61).lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let pos: u64 = c[1].parse().unwrap();
        let end = pos + c[3].len() as u64 - 1;
        let inside = |a: u64, b: u64| pos <= b && end >= a;
        let keep = match c[0] {
            "chr1" => inside(1000, 6000),
            "chr2" => inside(1, 300),
            "chrM" => inside(1000, 1000),
            _ => false,
        };
        if keep {
            let n_alts = c[4].split(',').count();
            want.extend(std::iter::repeat_n(c[2].to_string(), n_alts));
        }
    }
    assert!(want.len() > 60, "{}", want.len());
    assert_eq!(ids(&by_index), want);
    // Region contigs named as the genome allows (`1`, `2`, `MT`): matched to the
    // index's `chr1`, `chr2`, `chrM` through the genome's names.
    let aliased = [
        "--region",
        "1:1000-5000",
        "--region",
        "1:4900-6000",
        "--region",
        "2:1-300",
        "--region",
        "MT:1000",
    ];
    let (by_alias, _) = run_ok(&score_args(&s, &s.gz, &aliased));
    assert_same_rows(
        &by_alias,
        &by_index,
        "regions named 1, 2, MT against chr1, chr2, chrM",
    );
    // A contig the index does not list: no records, a note.
    let (none, err) = run_ok(&score_args(&s, &s.gz, &["--region", "chr9:1-100"]));
    assert_eq!(none.lines().count(), 1, "{none}");
    assert!(
        err.contains("does not list (no records there): chr9"),
        "{err}"
    );
    // Through a .csi instead of the .tbi: the same rows.
    std::fs::remove_file(format!("{}.tbi", s.gz.display())).unwrap();
    let csi = write_csi(&s.gz);
    let (by_csi, err) = run_ok(&score_args(&s, &s.gz, &regions));
    assert!(err.contains(&format!("through {}", csi.display())), "{err}");
    assert_same_rows(&by_csi, &by_index, "run through the .csi against the .tbi");
}

#[test]
fn bgzip_outputs_are_indexed_and_shards_concatenate_to_the_whole_run() {
    let s = setup(97);
    let d = s.dir.path();
    // The whole run, plain VCF and TSV.
    let (whole_tsv, _) = run_ok(&score_args(&s, &s.plain, &[]));
    let (whole_vcf, _) = run_ok(&score_args(&s, &s.plain, &["--format", "vcf"]));
    // Shards by region (boundaries no record spans), each written bgzip + tbi.
    let shards = [
        vec!["--region", "chr1:1-10000"],
        vec!["--region", "chr1:10001-30000"],
        vec!["--region", "chr2", "--region", "chrM"],
        vec!["--region", "chrUn"],
    ];
    let mut tsvs = vec![];
    let mut vcfs = vec![];
    for (i, r) in shards.iter().enumerate() {
        let tsv = d.join(format!("s{i}.tsv.gz"));
        let vcf = d.join(format!("s{i}.vcf.gz"));
        // The last shard holds only a record on a contig the genome lacks:
        // exit status 1 (nothing could be scored), its output written whole.
        let want = if i == 3 { 1 } else { 0 };
        // Odd shards: VCF and TSV in one pass (--tsv-out); even: one run each.
        let runs: Vec<Vec<&str>> = if i % 2 == 1 {
            vec![vec![
                "--format",
                "vcf",
                "--out",
                path_str(&vcf),
                "--tsv-out",
                path_str(&tsv),
            ]]
        } else {
            vec![
                vec!["--out", path_str(&tsv)],
                vec!["--format", "vcf", "--out", path_str(&vcf)],
            ]
        };
        for run in runs {
            let mut a = r.clone();
            a.extend(run);
            let o = cli(&score_args(&s, &s.gz, &a));
            assert_eq!(
                o.status.code(),
                Some(want),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        assert!(PathBuf::from(format!("{}.tbi", tsv.display())).exists());
        assert!(PathBuf::from(format!("{}.tbi", vcf.display())).exists());
        tsvs.push(tsv);
        vcfs.push(vcf);
    }
    let merged_tsv = d.join("all.tsv.gz");
    let merged_vcf = d.join("all.vcf.gz");
    let mut a = vec!["concat", "--out", path_str(&merged_tsv)];
    a.extend(tsvs.iter().map(|p| path_str(p)));
    run_ok(&a);
    let mut a = vec!["concat", "--out", path_str(&merged_vcf)];
    a.extend(vcfs.iter().map(|p| path_str(p)));
    run_ok(&a);
    assert_same_rows(
        &gunzip(&merged_tsv),
        &whole_tsv,
        "merged TSV against the whole run",
    );
    assert_same_rows(
        &gunzip(&merged_vcf),
        &whole_vcf,
        "merged VCF against the whole run",
    );
    assert!(ids(&whole_tsv).contains(&"unknown".to_string()));
    // The merged VCF's index works: a region of it read back through it
    // (the scored VCF is a VCF) gives that region's records.
    let (again, err) = run_ok(&score_args(&s, &merged_vcf, &["--region", "chr2:1-2000"]));
    assert!(err.contains("all.vcf.gz.tbi"), "{err}");
    let want: Vec<String> = whole_tsv
        .lines()
        .skip(1)
        .filter(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            c[0] == "chr2" && c[1].parse::<u64>().unwrap() <= 2000
        })
        .map(|l| l.split('\t').nth(2).unwrap().to_string())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(ids(&again), want);
}

#[test]
fn region_errors_name_the_file_and_what_is_wrong() {
    let s = setup(500);
    let d = s.dir.path();
    // A plain VCF cannot be read by region.
    let e = run_err(&score_args(&s, &s.plain, &["--region", "chr1:1-100"]));
    assert!(
        e.contains("v.vcf: region access needs a bgzip-compressed VCF"),
        "{e}"
    );
    // A bgzip VCF without an index: which index files were looked for.
    let bare = d.join("bare.vcf.gz");
    std::fs::copy(&s.gz, &bare).unwrap();
    let e = run_err(&score_args(&s, &bare, &["--region", "chr1:1-100"]));
    assert!(
        e.contains("bare.vcf.gz: no index found (looked for")
            && e.contains("bare.vcf.gz.tbi and")
            && e.contains("bare.vcf.gz.csi"),
        "{e}"
    );
    // ... but a BED with --regions still streams the whole file, as before.
    let bed = d.join("r.bed");
    std::fs::write(&bed, "chr1\t0\t1000\n").unwrap();
    let (_, err) = run_ok(&score_args(&s, &bare, &["--regions", path_str(&bed)]));
    assert!(err.contains("has no index beside it"), "{err}");
    // Bad region syntax.
    for (region, want) in [
        ("chr1:9-5", "end 5 is before start 9"),
        ("chr1:0-5", "start must be 1 or more"),
        ("chr1:1-x", "end `x` is not a whole number"),
    ] {
        let e = run_err(&score_args(&s, &s.gz, &["--region", region]));
        assert!(
            e.contains(&format!("--region: region `{region}`: {want}")),
            "{e}"
        );
    }
    // A corrupt index names itself.
    let tbi = PathBuf::from(format!("{}.tbi", s.gz.display()));
    std::fs::write(&tbi, b"not an index").unwrap();
    let e = run_err(&score_args(&s, &s.gz, &["--region", "chr1:1-100"]));
    assert!(
        e.contains("v.vcf.gz.tbi: cannot read this tabix index"),
        "{e}"
    );
    // An output name that says the other format.
    let e = run_err(&score_args(
        &s,
        &s.plain,
        &["--out", path_str(&d.join("x.vcf.gz"))],
    ));
    assert!(
        e.contains("x.vcf.gz: the name says VCF but --format is tsv"),
        "{e}"
    );
    // --tsv-out goes with --format vcf.
    let e = run_err(&score_args(
        &s,
        &s.plain,
        &["--tsv-out", path_str(&d.join("t.tsv.gz"))],
    ));
    assert!(e.contains("--tsv-out: is for --format vcf runs"), "{e}");
    // An unsorted VCF is written but refused an index, naming the line.
    let unsorted = d.join("u.vcf");
    std::fs::write(
        &unsorted,
        "#CHROM\tPOS\tID\tREF\tALT\nchr1\t200\ta\tA\tG\nchr1\t100\tb\tA\tG\n",
    )
    .unwrap();
    let out = d.join("u.vcf.gz");
    let e = run_err(&["concat", "--out", path_str(&out), path_str(&unsorted)]);
    assert!(
        e.contains("u.vcf.gz: written, but not indexed: line 3 (chr1:100) cannot be indexed"),
        "{e}"
    );
    // Shards of different runs do not concatenate.
    let other = d.join("other.vcf");
    std::fs::write(
        &other,
        "##x\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n",
    )
    .unwrap();
    let e = run_err(&[
        "concat",
        "--out",
        path_str(&d.join("m.vcf.gz")),
        path_str(&s.plain),
        path_str(&other),
    ]);
    assert!(e.contains("other.vcf: its header differs from"), "{e}");
}
