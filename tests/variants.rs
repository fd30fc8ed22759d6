//! Variant scoring against ../shared/fixtures: variants.vcf on the plain and
//! bgzip genome, expected probabilities, EXPECT statuses, malformed inputs.

mod common;

use std::collections::HashMap;
use std::io::Write;

use common::*;

/// The status each fixture EXPECT value asks for.
fn status_for(expect: &str) -> &'static str {
    match expect {
        "scored"
        | "scored,_one_row_per_ALT"
        | "scored_as_chr1"
        | "scored_as_chrM"
        | "scored,_REF_N_matches" => "ok",
        "REF_does_not_match" => "ref_mismatch",
        "contig_not_in_genome" => "unknown_contig",
        "skipped:_symbolic_ALT" => "symbolic_allele",
        "skipped:_spanning_deletion" => "spanning_deletion",
        "POS_beyond_contig_end" => "pos_beyond_contig_end",
        other => panic!("fixture EXPECT `{other}` has no status mapping yet: add it"),
    }
}

/// Two columns of every data row of a TSV, e.g. (id, status).
fn column_pairs(tsv: &str, a: usize, b: usize) -> Vec<(&str, &str)> {
    tsv.lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[a], c[b])
        })
        .collect()
}

/// Rows of a `score` TSV keyed by (id, alt): (status, columns by name).
fn rows_by_key(tsv: &str) -> HashMap<(String, String), (String, HashMap<String, String>)> {
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(header[..6], ["chrom", "pos", "id", "ref", "alt", "status"]);
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            assert_eq!(cells.len(), header.len(), "row {l}");
            let cols = header
                .iter()
                .zip(&cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect();
            (
                (cells[2].to_string(), cells[4].to_string()),
                (cells[5].to_string(), cols),
            )
        })
        .collect()
}

#[test]
fn fixture_variants_match_expected_on_plain_and_bgzip_genomes() {
    let model = mini_model();
    let vcf = fixture("variants.vcf");
    let plain = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &vcf,
        &["--scores", "ref,alt,diff"],
    );
    let bgzip = score(
        model.path(),
        &fixture("genome/genome.fa.gz"),
        &vcf,
        &["--scores", "ref,alt,diff"],
    );
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert!(
        bgzip.status.success(),
        "{}",
        String::from_utf8_lossy(&bgzip.stderr)
    );
    assert_eq!(
        plain.stdout, bgzip.stdout,
        "plain and bgzip genomes must give identical output"
    );
    let out = String::from_utf8(plain.stdout).unwrap();
    let rows = rows_by_key(&out);

    // Every VCF record and ALT has a row with the status its EXPECT asks for.
    let vcf_text = std::fs::read_to_string(&vcf).unwrap();
    let mut expected_rows = 0;
    for line in vcf_text.lines().filter(|l| !l.starts_with('#')) {
        let c: Vec<&str> = line.split('\t').collect();
        let expect = c[7].strip_prefix("EXPECT=").unwrap();
        for alt in c[4].split(',') {
            expected_rows += 1;
            let (status, _) = rows
                .get(&(c[2].to_string(), alt.to_string()))
                .unwrap_or_else(|| panic!("no row for {} {alt}", c[2]));
            assert_eq!(status, status_for(expect), "{} {alt}", c[2]);
        }
    }
    assert_eq!(
        out.lines().count() - 1,
        expected_rows,
        "one row per record and ALT"
    );

    // Probabilities of every scored row within 1e-5 of the reference.
    let exp = std::fs::read_to_string(fixture("expected/variants-mini.tsv")).unwrap();
    let mut lines = exp.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let mut checked = 0;
    let mut worst = 0f64;
    for line in lines {
        let c: Vec<&str> = line.split('\t').collect();
        let (status, cols) = &rows[&(c[0].to_string(), c[4].to_string())];
        let ref_match = c[5] == "true";
        assert_eq!(
            status,
            if ref_match { "ok" } else { "ref_mismatch" },
            "{}",
            c[0]
        );
        for (h, v) in header.iter().zip(&c).skip(6) {
            let want: f64 = v.parse().unwrap();
            let got: f64 = cols[*h]
                .parse()
                .unwrap_or_else(|_| panic!("{} {h}: `{}`", c[0], cols[*h]));
            worst = worst.max((want - got).abs());
            checked += 1;
        }
        // diff = alt - ref, per profile.
        for label in header.iter().skip(6).filter_map(|h| h.strip_prefix("ref:")) {
            let r: f64 = cols[&format!("ref:{label}")].parse().unwrap();
            let a: f64 = cols[&format!("alt:{label}")].parse().unwrap();
            let d: f64 = cols[&format!("diff:{label}")].parse().unwrap();
            assert!((d - (a - r)).abs() < 1e-6, "{} {label}", c[0]);
        }
    }
    assert_eq!(checked, 12 * 62, "12 scored rows x (31 REF + 31 ALT)");
    assert!(worst <= 1e-5, "max error {worst}");
}

#[test]
fn vcf_output_adds_declared_info_fields() {
    let model = mini_model();
    let o = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &fixture("variants.vcf"),
        &["--format", "vcf"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let input = std::fs::read_to_string(fixture("variants.vcf")).unwrap();
    assert!(out.contains("##INFO=<ID=BR_abs_diff,Number=.,Type=Float"));
    assert!(out.contains("##INFO=<ID=BR_log_ratio,Number=.,Type=Float"));
    assert!(out.contains("##INFO=<ID=BR_status,Number=A,Type=String"));
    let header_at = out.find("#CHROM").unwrap();
    assert!(out.find("##INFO=<ID=BR_status").unwrap() < header_at);
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    let inputs: Vec<&str> = input.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records.len(), inputs.len());
    for (r, i) in records.iter().zip(&inputs) {
        assert!(r.starts_with(i), "input columns kept verbatim: {r}");
        let info = r.split('\t').nth(7).unwrap();
        let n_alts = i.split('\t').nth(4).unwrap().split(',').count();
        let field = |k: &str| {
            info.split(';')
                .find_map(|f| f.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_string()
        };
        assert_eq!(field("BR_status").split(',').count(), n_alts);
        assert_eq!(field("BR_abs_diff").split(',').count(), 31 * n_alts, "{r}");
    }
    let multi = records
        .iter()
        .find(|r| r.contains("multi_allelic"))
        .unwrap();
    assert!(multi.contains("BR_status=ok,ok"));
    let sym = records.iter().find(|r| r.contains("\tsymbolic\t")).unwrap();
    assert!(
        sym.contains("BR_status=symbolic_allele;BR_abs_diff=.,."),
        "{sym}"
    );
}

#[test]
fn headerless_five_column_vcf_and_bad_lines_keep_the_good_records() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("five.vcf");
    std::fs::write(
        &vcf,
        "chr1\t5001\tsnv_mid\tT\tC\nchr1\t5001\ttoo_few\tT\nchr1\tfive\tnot_a_number\tT\tC\nchr1\t10\tsnv_contig_start\tC\tT\n",
    )
    .unwrap();
    let o = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &vcf,
        &["--scores", "ref"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("five.vcf: line 2: 4 tab-separated columns"),
        "{err}"
    );
    assert!(
        err.contains("five.vcf: line 3: POS `five` is not a number"),
        "{err}"
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let statuses = column_pairs(&out, 2, 5);
    assert_eq!(
        statuses,
        [
            ("snv_mid", "ok"),
            ("too_few", "invalid_record"),
            ("not_a_number", "invalid_record"),
            ("snv_contig_start", "ok")
        ]
    );
    // The scored rows equal those from the full fixture VCF.
    let full = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &fixture("variants.vcf"),
        &["--scores", "ref"],
    );
    let full = rows_by_key(&String::from_utf8(full.stdout).unwrap());
    let five = rows_by_key(&out);
    for id in ["snv_mid", "snv_contig_start"] {
        let alt = if id == "snv_mid" { "C" } else { "T" };
        let key = (id.to_string(), alt.to_string());
        assert_eq!(five[&key].1["ref:Glut"], full[&key].1["ref:Glut"]);
    }
}

fn bgzip(data: &[u8]) -> Vec<u8> {
    let mut w = noodles::bgzf::io::Writer::new(Vec::new());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

#[test]
fn bgzip_vcf_reads_like_plain_and_truncated_bgzip_is_an_error_after_the_good_records() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(fixture("variants.vcf")).unwrap();
    let gz = dir.path().join("v.vcf.gz");
    std::fs::write(&gz, bgzip(&text)).unwrap();
    let genome = fixture("genome/genome.fa");
    let plain = score(model.path(), &genome, &fixture("variants.vcf"), &[]);
    let compressed = score(model.path(), &genome, &gz, &[]);
    assert!(
        compressed.status.success(),
        "{}",
        String::from_utf8_lossy(&compressed.stderr)
    );
    assert_eq!(plain.stdout, compressed.stdout);

    // Several blocks, the last one cut short.
    let mut w = noodles::bgzf::io::Writer::new(Vec::new());
    let header_end = text.windows(6).position(|w| w == b"\nchr1\t").unwrap() + 1; // first data line
    w.write_all(&text[..header_end]).unwrap();
    w.flush().unwrap();
    let lines: Vec<&[u8]> = text[header_end..]
        .split_inclusive(|&b| b == b'\n')
        .collect();
    for l in &lines[..3] {
        w.write_all(l).unwrap();
    }
    w.flush().unwrap();
    for l in &lines[3..] {
        w.write_all(l).unwrap();
    }
    let full = w.finish().unwrap();
    let cut = dir.path().join("cut.vcf.gz");
    std::fs::write(&cut, &full[..full.len() - 60]).unwrap();
    let o = score(model.path(), &genome, &cut, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cut.vcf.gz") && err.contains("truncated"),
        "{err}"
    );
    let out = String::from_utf8(o.stdout).unwrap();
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(2).unwrap())
        .collect();
    assert_eq!(
        ids,
        ["snv_mid", "snv_contig_start", "snv_contig_end"],
        "good records before the cut are written: {err}"
    );
}

#[test]
fn fasta_whose_fai_does_not_match_is_refused() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("g.fa");
    std::fs::copy(fixture("genome/genome.fa"), &fa).unwrap();
    // A .fai for 61 bases per line: offsets drift into newlines.
    let fai = std::fs::read_to_string(fixture("genome/genome.fa.fai")).unwrap();
    std::fs::write(
        dir.path().join("g.fa.fai"),
        fai.replace("\t60\t61", "\t61\t62"),
    )
    .unwrap();
    let o = score(model.path(), &fa, &fixture("variants.vcf"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not match its .fai"), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.lines().skip(1).all(|l| !l.contains("\tok\t")),
        "nothing scored from a mismatched genome:\n{out}"
    );

    // A .fai pointing past the end of the file.
    std::fs::write(dir.path().join("g.fa.fai"), fai.replace("34585", "94585")).unwrap();
    let o = score(model.path(), &fa, &fixture("variants.vcf"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("g.fa") && err.contains("does not match its .fai"),
        "{err}"
    );
}

#[test]
fn genome_lacking_every_vcf_contig_says_so() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let fa = dir.path().join("other.fa");
    let seq = "ACGT".repeat(500);
    std::fs::write(&fa, format!(">scaffold_1\n{seq}\n")).unwrap();
    std::fs::write(
        dir.path().join("other.fa.fai"),
        "scaffold_1\t2000\t12\t2000\t2001\n",
    )
    .unwrap();
    let o = score(model.path(), &fa, &fixture("variants.vcf"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("VCF contigs not in the genome: 1, MT, chr1, chr2, chr9"),
        "{err}"
    );
    assert!(err.contains("genome has scaffold_1"), "{err}");
    assert!(err.contains("no variant could be scored"), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        out.lines().count(),
        1 + 16,
        "every record still has its row"
    );
}

#[test]
fn reverse_complement_mean_differs_and_is_strand_symmetric() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.tsv");
    let a = "ACGTTGCAAC".repeat(100);
    let b = "ACGTTGCAAG".repeat(100);
    let rc = |s: &str| -> String {
        s.chars()
            .rev()
            .map(|c| match c {
                'A' => 'T',
                'T' => 'A',
                'C' => 'G',
                _ => 'C',
            })
            .collect()
    };
    std::fs::write(
        &pairs,
        format!(
            "name\tref\talt\nfwd\t{a}\t{b}\nrev\t{}\t{}\n",
            rc(&a),
            rc(&b)
        ),
    )
    .unwrap();
    let run = |rc: &str| {
        let o = cli(&[
            "score",
            "--model",
            path_str(model.path()),
            "--pairs",
            path_str(&pairs),
            "--scores",
            "ref,alt",
            "--rc",
            rc,
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        read_tsv(&String::from_utf8(o.stdout).unwrap().replace("\tok\t", "\t")).1
    };
    let plain = run("none");
    let mean = run("mean");
    assert_ne!(
        plain[0].1, plain[1].1,
        "the network is not strand-symmetric by itself"
    );
    for (x, y) in mean[0].1.iter().zip(&mean[1].1) {
        assert!(
            (x - y).abs() < 1e-6,
            "rc-mean must give the same scores on both strands: {x} {y}"
        );
    }
}

#[test]
fn pairs_report_bad_lines_and_score_the_rest() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.tsv");
    let ok = "ACGT".repeat(250);
    std::fs::write(
        &pairs,
        format!("a\t{ok}\t{ok}\nb\tACGT\nc\t{ok}A\t{ok}\nd\tACGT\tACGA\n"),
    )
    .unwrap();
    let o = cli(&[
        "score",
        "--model",
        path_str(model.path()),
        "--pairs",
        path_str(&pairs),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("pairs.tsv: line 2: 2 columns"), "{err}");
    assert!(err.contains("line 3") && err.contains("1001 bp"), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    let st = column_pairs(&out, 0, 1);
    assert_eq!(
        st,
        [
            ("a", "ok"),
            ("b", "invalid_record"),
            ("c", "invalid_sequence"),
            ("d", "ok")
        ]
    );
    let a_row = out.lines().nth(1).unwrap();
    assert!(
        a_row.split('\t').nth(2).unwrap() == "0",
        "identical REF and ALT give abs_diff 0: {a_row}"
    );
}

/// A file that is not a VCF (a letter renamed `.vcf`) fails the run once, up
/// front, before any row is written.
#[test]
fn a_letter_renamed_vcf_is_refused_once() {
    let model = mini_model();
    let letter =
        "Dear colleague,\n\nplease find attached the variants we discussed.\nBest wishes,\nA.\n";
    for extra in [&[][..], &["--format", "vcf"][..]] {
        let o = score_vcf_text(model.path(), "letter.vcf", letter, extra);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        let want = "letter.vcf: this does not look like a VCF (no #CHROM header, no tab-separated columns)";
        assert_eq!(err.matches(want).count(), 1, "{err}");
        assert!(!err.contains("Dear colleague"), "{err}");
        assert!(
            o.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
}
