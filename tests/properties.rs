//! Property tests (proptest, stable): the parsers the fuzz targets cover
//! (`fuzz/`, nightly), here as a short pass in `cargo test`. Two kinds: any
//! input ends in items or an error naming the file, never a panic; and
//! well-formed input generated at random reads back exactly.

mod common;

use std::io::{BufReader, Cursor};

use brain_resnet::io::fasta::FastaReader;
use brain_resnet::io::genome::Genome;
use brain_resnet::io::lines::{read_line_capped, Capped, TableLines};
use brain_resnet::io::pairs::{PairLine, PairsReader};
use brain_resnet::io::vcf::{parse_line, vcf_reader, VcfItem, VcfReader};
use brain_resnet::scoring::{Event, ScoreOptions, Status, VariantScorer};
use brain_resnet::weights::checkpoint::read_checkpoint;
use brain_resnet::weights::format::parse_manifest;
use brain_resnet::Model;
use common::fixture;
use proptest::prelude::*;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).unwrap()
}

/// Bytes that look like the text formats: mostly tabs, newlines, digits, bases.
fn texty(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(b"\t\n\r#>ACGTNacgt0123456789.,-=;:chr ".to_vec()),
            1 => any::<u8>(),
        ],
        0..max,
    )
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_bytes_as_a_vcf_end_in_items_or_an_error_naming_the_file(data in texty(3000)) {
        let reader = vcf_reader(Cursor::new(data), "p.vcf").unwrap();
        for item in reader {
            match item {
                Ok(VcfItem::Record(r)) => prop_assert!(r.pos >= 1 && !r.alts.is_empty()),
                Ok(VcfItem::Invalid(i)) => prop_assert!(i.line >= 1 && !i.message.is_empty()),
                Ok(VcfItem::Header(_)) => {}
                Err(e) => {
                    prop_assert!(e.to_string().contains("p.vcf"));
                    break;
                }
            }
        }
    }

    #[test]
    fn vcf_records_read_back_as_written(
        chrom in "(chr)?[0-9XYM]{1,2}",
        pos in 1u64..=u64::MAX,
        id in "[a-z_0-9]{1,8}",
        reference in "[ACGTN]{1,6}",
        alts in prop::collection::vec("[ACGT]{1,6}|<DEL>|\\*", 1..4),
    ) {
        let line = format!("{chrom}\t{pos}\t{id}\t{reference}\t{}\t.\tPASS\t.", alts.join(","));
        match parse_line(&line, 7) {
            VcfItem::Record(r) => {
                prop_assert_eq!(r.line, 7);
                prop_assert_eq!(&r.chrom, &chrom);
                prop_assert_eq!(r.pos, pos);
                prop_assert_eq!(&r.reference, &reference);
                prop_assert_eq!(&r.alts, &alts);
                prop_assert_eq!(&r.raw, &line);
            }
            other => prop_assert!(false, "{line}: {other:?}"),
        }
    }

    #[test]
    fn capped_lines_come_back_whole_or_reported_with_their_length(
        lines in prop::collection::vec("[a-z\t]{0,40}", 0..20),
        crlf in any::<bool>(),
        cap in 1usize..30,
        capacity in 1usize..16,
    ) {
        let end = if crlf { "\r\n" } else { "\n" };
        let text: String = lines.iter().map(|l| format!("{l}{end}")).collect();
        let mut r = BufReader::with_capacity(capacity, text.as_bytes());
        let mut buf = vec![];
        for want in &lines {
            match read_line_capped(&mut r, &mut buf, cap).unwrap() {
                Some(Capped::Line) => prop_assert_eq!(&String::from_utf8(buf.clone()).unwrap(), want),
                Some(Capped::TooLong(n)) => {
                    prop_assert!(want.len() > cap);
                    prop_assert_eq!(n as usize, want.len() + end.len());
                    prop_assert!(buf.is_empty());
                }
                None => prop_assert!(false, "ended early"),
            }
        }
        prop_assert_eq!(read_line_capped(&mut r, &mut buf, cap).unwrap(), None);
    }

    #[test]
    fn fasta_records_read_back_as_written_and_long_ones_are_counted_not_kept(
        records in prop::collection::vec(("[A-Za-z0-9_]{1,12}", "[ACGTNacgtn]{0,1500}"), 1..6),
        width in 1usize..120,
    ) {
        let mut text = String::new();
        for (name, seq) in &records {
            text.push_str(&format!(">{name} some description\n"));
            for chunk in seq.as_bytes().chunks(width) {
                text.push_str(std::str::from_utf8(chunk).unwrap());
                text.push('\n');
            }
        }
        let got: Vec<_> = FastaReader::new(text.as_bytes(), "p.fa", 1000)
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(got.len(), records.len());
        for (g, (name, seq)) in got.iter().zip(&records) {
            prop_assert_eq!(&g.name, name);
            prop_assert_eq!(g.length, seq.len() as u64);
            let kept = seq.len().min(1000);
            prop_assert_eq!(&g.sequence[..], &seq.as_bytes()[..kept]);
            prop_assert_eq!(g.truncated(), seq.len() > 1000);
        }
    }

    #[test]
    fn any_bytes_as_a_fasta_end_in_records_or_errors_naming_the_file(data in texty(3000)) {
        for record in FastaReader::new(&data[..], "p.fa", 1000) {
            match record {
                Ok(r) => prop_assert!(r.sequence.len() <= 1000),
                Err(e) => prop_assert!(e.to_string().contains("p.fa")),
            }
        }
    }

    #[test]
    fn pairs_lines_become_pairs_or_invalid_items_with_their_number(data in texty(2000)) {
        for item in PairsReader::new(&data[..], "p.tsv") {
            match item.unwrap() {
                PairLine::Pair { line, .. } => prop_assert!(line >= 1),
                PairLine::Invalid { line, message, .. } => {
                    let prefix = format!("line {line}: ");
                    prop_assert!(message.starts_with(&prefix), "{}", message);
                }
            }
        }
    }

    #[test]
    fn any_bytes_as_a_twobit_genome_open_and_fetch_or_are_refused_by_name(
        body in prop::collection::vec(any::<u8>(), 0..600),
        count in 0u32..5,
        version in 0u32..3,
    ) {
        let mut file = vec![];
        file.extend(0x1A41_2743u32.to_le_bytes());
        file.extend(version.to_le_bytes());
        file.extend(count.to_le_bytes());
        file.extend(0u32.to_le_bytes());
        file.extend(body);
        let len = file.len() as u64;
        match Genome::from_twobit(Cursor::new(file), "p.2bit", len) {
            Err(e) => prop_assert!(e.to_string().contains("p.2bit")),
            Ok(mut g) => {
                let contigs = g.contigs().to_vec();
                for (name, len) in contigs {
                    let l = len.min(5000) as i64;
                    if let Ok(seq) = g.fetch(&name, -5, l) {
                        prop_assert_eq!(seq.len() as i64, l + 5);
                    }
                }
            }
        }
    }

    #[test]
    fn any_text_indexed_as_a_fasta_gives_an_index_that_opens_it_or_an_error(data in texty(3000)) {
        use brain_resnet::io::genome::index::{build_fai, fai_text};
        if let Ok(index) = build_fai(&data[..], "p.fa", &mut |_| {}) {
            let text = fai_text(&index);
            let len = data.len() as u64;
            let opened = Genome::from_readers(Cursor::new(data), "p.fa", Some(len), (text.as_bytes(), "p.fa.fai"), None::<(&[u8], &str)>);
            prop_assert!(opened.is_ok(), "{:?}\n{}", opened.as_ref().err(), text);
            let mut genome = opened.unwrap();
            let contigs = genome.contigs().to_vec();
            for (name, len) in contigs {
                let whole = genome.fetch(&name, 0, len as i64);
                prop_assert!(whole.is_ok(), "{}: {:?}\n{}", name, whole.err(), text);
            }
        }
    }

    #[test]
    fn annotation_and_score_tables_never_panic_and_errors_name_the_file(
        header in prop::sample::subsequence(
            vec!["id", "chrom", "pos", "ref", "alt", "status", "label", "maf", "gerp", "abs_diff:Glut", "log_ratio:Glut"],
            0..11,
        ),
        body in texty(1500),
    ) {
        let mut text = header.join("\t").into_bytes();
        text.push(b'\n');
        text.extend(body);
        if let Err(e) = brain_resnet::io::annotations::read_annotations(&text[..], "a.tsv") {
            prop_assert!(e.to_string().contains("a.tsv"));
        }
        if let Err(e) = brain_resnet::analysis::read_scores_tsv(&text[..], "Glut", "s.tsv") {
            prop_assert!(e.to_string().contains("s.tsv"));
        }
        for item in TableLines::new(&text[..], "t.tsv") {
            prop_assert!(item.is_ok());
        }
    }
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn any_fai_against_the_fixture_genome_opens_or_is_refused_and_fetches_are_exact(
        entries in prop::collection::vec(
            (
                prop::sample::select(vec!["chr1", "chr2", "chrM", "x"]),
                prop_oneof![0u64..40_000, Just(u64::MAX), any::<u64>()],
                prop_oneof![0u64..40_000, Just(u64::MAX / 2), any::<u64>()],
                prop_oneof![0u64..100, any::<u64>()],
                prop_oneof![0u64..100, any::<u64>()],
            ),
            1..4,
        ),
        regions in prop::collection::vec((any::<i32>(), 0i64..3000), 1..6),
    ) {
        let fasta = read("genome/genome.fa");
        let fai: String = entries
            .iter()
            .map(|(n, len, off, bases, width)| format!("{n}\t{len}\t{off}\t{bases}\t{width}\n"))
            .collect();
        let len = fasta.len() as u64;
        match Genome::from_readers(Cursor::new(fasta), "g.fa", Some(len), (fai.as_bytes(), "g.fa.fai"), None::<(&[u8], &str)>) {
            Err(e) => prop_assert!(e.to_string().contains("g.fa")),
            Ok(mut genome) => {
                let contigs = genome.contigs().to_vec();
                for (name, _) in contigs {
                    for &(start, span) in &regions {
                        let start = start as i64;
                        if let Ok(seq) = genome.fetch(&name, start, start + span) {
                            prop_assert_eq!(seq.len() as i64, span);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn model_json_with_any_architecture_numbers_is_read_or_refused_by_name(
        edits in prop::collection::vec((0usize..64, prop_oneof![Just(0u64), 1u64..40, Just(u64::MAX), any::<u64>()]), 1..6),
    ) {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/demo-motif-grammar/model.json"),
        )
        .unwrap();
        let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
        // Every number inside "architecture", as JSON pointers in document order.
        fn numbers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Number(_) => out.push(at),
                serde_json::Value::Array(a) => {
                    a.iter().enumerate().for_each(|(i, x)| numbers(x, format!("{at}/{i}"), out))
                }
                serde_json::Value::Object(o) => {
                    o.iter().for_each(|(k, x)| numbers(x, format!("{at}/{k}"), out))
                }
                _ => {}
            }
        }
        let mut slots = vec![];
        numbers(&json["architecture"], "/architecture".into(), &mut slots);
        for (i, value) in edits {
            *json.pointer_mut(&slots[i % slots.len()]).unwrap() = serde_json::json!(value);
        }
        match parse_manifest(&json.to_string(), "m.json") {
            Ok(m) => {
                let _ = m.architecture.graph();
                let _ = m.architecture.macs_per_window();
            }
            Err(e) => prop_assert!(e.to_string().contains("m.json")),
        }
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn a_checkpoint_with_bytes_changed_or_cut_is_read_or_refused_by_name(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        cut in prop::option::of(any::<prop::sample::Index>()),
        legacy in any::<bool>(),
    ) {
        let mut bytes = read(if legacy { "model/metachrom-mini-legacy.pth" } else { "model/metachrom-mini-dataparallel.pth" });
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Some(at) = cut {
            bytes.truncate(at.index(bytes.len()));
        }
        if let Err(e) = read_checkpoint(Cursor::new(bytes), "c.pth") {
            prop_assert!(e.to_string().contains("c.pth"));
        }
    }

    #[test]
    fn any_pickle_bytes_in_a_legacy_checkpoint_are_refused_by_name(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut file = vec![0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
        file.extend(body);
        if let Err(e) = read_checkpoint(Cursor::new(file), "l.pth") {
            prop_assert!(e.to_string().contains("l.pth"));
        }
    }
}

/// Variants at any position and REF length, scored against the fixture
/// genome: a status, and a score only where the window lies on the contig.
#[test]
fn variants_at_any_position_get_a_status_and_scores_only_on_the_contig() {
    let dir = common::mini_model();
    let model = Model::load_dir(dir.path()).unwrap();
    let lengths: std::collections::HashMap<String, u64> =
        Genome::open(&fixture("genome/genome.fa"))
            .unwrap()
            .contigs()
            .iter()
            .cloned()
            .collect();
    let strategy = (
        prop::sample::select(vec!["chr1", "chr2", "chrM", "MT", "2", "chrZ"]),
        prop_oneof![
            1u64..40_000,
            Just(u64::MAX),
            u64::MAX - 100..=u64::MAX,
            any::<u64>()
        ],
        "[ACGTN]{1,8}",
        "[ACGT]{1,8}",
    );
    let mut runner = proptest::test_runner::TestRunner::new(config(64));
    runner
        .run(&strategy, |(chrom, pos, reference, alt)| {
            let genome = Genome::open(&fixture("genome/genome.fa")).unwrap();
            let line = format!("{chrom}\t{pos}\tv\t{reference}\t{alt}");
            let items = VcfReader::new(line.as_bytes(), "p.vcf");
            let mut scorer = VariantScorer::new(
                &model,
                genome,
                ScoreOptions {
                    rc_mean: false,
                    batch: 4,
                    shard: None,
                },
            );
            let mut results = vec![];
            scorer
                .run(items, &mut |e| {
                    if let Event::Record(r) = e {
                        results.push(r);
                    }
                    Ok(())
                })
                .unwrap();
            prop_assert_eq!(results.len(), 1);
            let a = &results[0].alleles[0];
            let contig = match chrom {
                "MT" => "chrM",
                "2" => "chr2",
                c => c,
            };
            match lengths.get(contig) {
                None => prop_assert_eq!(a.status, Status::UnknownContig),
                Some(&len) => {
                    let beyond = pos
                        .checked_add(reference.len() as u64 - 1)
                        .is_none_or(|end| end > len);
                    if beyond {
                        prop_assert_eq!(a.status, Status::PosBeyondContigEnd, "{}", line);
                    } else {
                        prop_assert!(
                            matches!(a.status, Status::Ok | Status::RefMismatch),
                            "{}: {:?}",
                            line,
                            a.status
                        );
                    }
                }
            }
            prop_assert_eq!(a.probs.is_some(), a.status.scored());
            Ok(())
        })
        .unwrap();
}
