//! Hostile and unlucky inputs (issue 13): each one gets a clear error or a
//! status naming what is wrong, never a panic, an abort or a wrong number.

mod common;

use brain_resnet::weights::format::read_model_dir;
use common::*;

/// A POS near 2^64 with a two-base REF used to overflow the window arithmetic
/// (in release: scored against the contig start as `ref_mismatch`).
#[test]
fn a_pos_near_two_to_the_64_is_beyond_the_contig_end_not_a_score() {
    let model = mini_model();
    let o = score_vcf_text(model.path(), "huge.vcf", "chr1\t18446744073709551615\thuge\tAC\tA\nchr1\t9223372036854775808\thalf\tA\tG\nchr1\t5001\tsnv_mid\tT\tC\n", &["--scores", "abs_diff"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    let status: Vec<(&str, &str)> = out
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c[2], c[5])
        })
        .collect();
    assert_eq!(
        status,
        [
            ("huge", "pos_beyond_contig_end"),
            ("half", "pos_beyond_contig_end"),
            ("snv_mid", "ok")
        ]
    );
}

/// Rewrites the model directory's `model.json` with `edit` applied.
fn edit_manifest(dir: &std::path::Path, edit: impl Fn(&mut serde_json::Value)) {
    let path = dir.join("model.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut m);
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// `"pool": 0` divided by zero inside validation; a zero-width layer made the
/// int8 decoder call `chunks(0)`. Both are refused by name.
/// The error of loading the mini model with the model.json value at `path` set to `value`.
fn model_error_with(path: &[&str], value: serde_json::Value) -> String {
    let model = mini_model();
    edit_manifest(model.path(), |m| {
        let mut v = &mut *m;
        for k in path {
            v = &mut v[*k];
        }
        *v = value.clone();
    });
    read_model_dir(model.path()).unwrap_err().to_string()
}

#[test]
fn zero_pool_kernel_or_width_in_model_json_is_refused_by_name() {
    for (field, path) in [
        ("meta.pool", &["architecture", "meta", "pool"][..]),
        ("resnet.kernel", &["architecture", "resnet", "kernel"][..]),
        ("head_hidden", &["architecture", "head_hidden"][..]),
    ] {
        let err = model_error_with(path, 0u64.into());
        assert!(
            err.contains("model.json") && err.contains(&format!("`{field}` is 0")),
            "{field}: {err}"
        );
    }
    let model = mini_model();
    edit_manifest(model.path(), |m| {
        m["architecture"]["meta"]["channels"][1] = 0.into();
    });
    let err = read_model_dir(model.path()).unwrap_err().to_string();
    assert!(err.contains("0 channels"), "{err}");
}

/// Found by the property test of model.json: a huge kernel overflowed the
/// padding arithmetic, huge widths the multiply-add count (a panic, an abort
/// in the page). Every number is bounded before any shape is computed.
#[test]
fn huge_numbers_in_model_json_are_refused_by_name_before_any_shape_arithmetic() {
    for (path, value, want) in [
        (
            &["architecture", "meta", "kernel"][..],
            u64::MAX,
            "`meta.kernel` is 18446744073709551615, more than the 1024",
        ),
        (
            &["architecture", "resnet", "kernel"][..],
            (1u64 << 40) + 1,
            "`resnet.kernel` is 1099511627777",
        ),
        (
            &["architecture", "meta", "pool"][..],
            5000,
            "`meta.pool` is 5000, more than the 1000",
        ),
        (
            &["architecture", "resnet", "stem"][..],
            1 << 15,
            "`resnet.stem` is 32768, more than the 16384",
        ),
    ] {
        let err = model_error_with(path, value.into());
        assert!(
            err.contains("model.json") && err.contains(want),
            "{path:?}: {err}"
        );
    }
    // Widths each within bounds whose product is not: a 16384 x (16384 x 13) linear layer.
    let model = mini_model();
    edit_manifest(model.path(), |m| {
        m["architecture"]["meta"]["channels"][2] = 16384.into();
        m["architecture"]["meta"]["hidden"] = 16384.into();
    });
    let err = read_model_dir(model.path()).unwrap_err().to_string();
    assert!(
        err.contains("model.json") && err.contains("of shape [16384, 212992] is too large"),
        "{err}"
    );
}

/// The GPU's conv kernel stages 16 extra inputs per tile: a wider kernel
/// would read past them and return undefined values. Refused at plan time.
#[cfg(feature = "gpu")]
#[test]
fn a_kernel_wider_than_the_gpu_conv_kernel_is_refused_not_miscomputed() {
    let mut cfg = brain_resnet::architecture::Config::published();
    cfg.meta.channels = vec![4];
    cfg.meta.kernel = 19;
    let weights = brain_resnet::weights::fold::random_weights(&cfg, 1);
    // Refused while planning, before any adapter is asked for: no GPU needed.
    let err = match brain_resnet::gpu::GpuNetwork::new(&cfg, &weights) {
        Ok(_) => panic!("a 19-wide kernel was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("base_model.conv_net.0") && err.contains("kernel 19"),
        "{err}"
    );
}

/// NaN and infinite weights, and f16 overflow, were written silently (NaN
/// became 0, inf an infinite int8 scale, 70000 an f16 inf). Convert refuses
/// them with the tensor's name.
#[test]
fn non_finite_weights_and_f16_overflow_are_refused_at_convert() {
    use brain_resnet::weights::format::encode_weights;
    use brain_resnet::weights::quant::DType;
    let cfg = brain_resnet::architecture::Config::published();
    let clean = brain_resnet::weights::fold::random_weights(&cfg, 3);
    let layer = clean.layers[2].name.clone();
    for (value, dtype, what) in [
        (f32::NAN, DType::F32, "non-finite"),
        (f32::INFINITY, DType::Int8, "non-finite"),
        (f32::NEG_INFINITY, DType::F16, "non-finite"),
        (70_000.0, DType::F16, "beyond f16's range"),
    ] {
        let mut w = clean.clone();
        w.layers[2].weight.data[5] = value;
        let err = encode_weights(&w, dtype).unwrap_err().to_string();
        assert!(
            err.contains(&format!("`{layer}.weight`"))
                && err.contains(what)
                && err.contains("index 5"),
            "{value} as {dtype}: {err}"
        );
    }
    let mut w = clean.clone();
    w.layers[0].bias[1] = f32::NAN;
    let err = encode_weights(&w, DType::Int8).unwrap_err().to_string();
    assert!(
        err.contains(".bias`") && err.contains("non-finite"),
        "{err}"
    );
    // 70000 is fine where it can be stored.
    let mut w = clean;
    w.layers[2].weight.data[5] = 70_000.0;
    assert!(encode_weights(&w, DType::F32).is_ok());
    assert!(encode_weights(&w, DType::Int8).is_ok());
}

/// A `.fai` whose line width is less than its bases per line overflowed
/// (`capacity overflow` in release); a huge line width on a non-last contig,
/// or on any contig of a bgzip genome, tried to allocate about 100 TB and
/// aborted. Both are refused at open, naming the index line.
#[test]
fn corrupt_fai_geometry_is_refused_at_open_plain_and_bgzip() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "chr1\t30000\t6\t60\t59\n",
            "line 1: contig chr1: line width 59 for 60 bases per line",
        ),
        (
            "chr1\t30000\t6\t60\t100000000000000\n",
            "line 1: contig chr1: line width 100000000000000",
        ),
        (
            "chr1\t18446744073709551615\t6\t60\t61\n",
            "line 1: contig chr1: length 18446744073709551615",
        ),
    ];
    for (gz, fasta) in [(false, "genome.fa"), (true, "genome.fa.gz")] {
        for (k, (first, want)) in cases.iter().enumerate() {
            let sub = dir.path().join(format!("{k}-{gz}"));
            std::fs::create_dir_all(&sub).unwrap();
            let genome = sub.join(fasta);
            std::fs::copy(fixture(&format!("genome/{fasta}")), &genome).unwrap();
            if gz {
                std::fs::copy(
                    fixture("genome/genome.fa.gz.gzi"),
                    sub.join("genome.fa.gz.gzi"),
                )
                .unwrap();
            }
            let fai = std::fs::read_to_string(fixture(&format!("genome/{fasta}.fai"))).unwrap();
            let rest: String = fai.lines().skip(1).map(|l| format!("{l}\n")).collect();
            std::fs::write(sub.join(format!("{fasta}.fai")), format!("{first}{rest}")).unwrap();
            let err = brain_resnet::io::genome::Genome::open(&genome)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(".fai") && err.contains(want),
                "{fasta} case {k}: {err}"
            );
        }
    }
}

/// `--format vcf` dropped the lines that are not valid records, and a header
/// without `##fileformat` gave output without one. Every data line comes
/// back, in order, and the output starts with `##fileformat`.
#[test]
fn vcf_output_gives_back_every_data_line_and_a_fileformat_line() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let vcf = dir.path().join("bad.vcf");
    let lines = [
        "chr1\t5001\tsnv_mid\tT\tC",
        "chr1\t5001\ttoo_few\tT",
        "chr1\tfive\tnot_a_number\tT\tC",
        "chr1\t10\tsnv_contig_start\tC\tT",
    ];
    std::fs::write(
        &vcf,
        format!(
            "##source=hand\n#CHROM\tPOS\tID\tREF\tALT\n{}\n",
            lines.join("\n")
        ),
    )
    .unwrap();
    let o = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &vcf,
        &["--format", "vcf", "--scores", "abs_diff"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(
        out.starts_with("##fileformat=VCFv4.2\n##source=hand\n"),
        "{out}"
    );
    let records: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(records.len(), lines.len(), "{out}");
    for (r, i) in records.iter().zip(lines) {
        assert!(r.starts_with(i), "{r}");
        let status = if i.contains("snv_") {
            "BR_status=ok"
        } else {
            "BR_status=invalid_record"
        };
        assert!(r.contains(status), "{r}");
    }
}

/// Lines and records have caps: a VCF line or a pairs line over 1 MiB is
/// reported by number and skipped in bounded memory, the records around it
/// are scored; `predict` streams its FASTA, counting a record longer than the
/// window without keeping it, and a file with no newline at all ends with a
/// clear error.
#[test]
fn overlong_lines_and_records_are_reported_by_number_and_the_rest_goes_on() {
    let model = mini_model();
    let dir = tempfile::tempdir().unwrap();
    let huge = format!("chr1\t5001\thuge\tT\t{}", "C".repeat(2 << 20));
    let vcf = dir.path().join("long.vcf");
    std::fs::write(
        &vcf,
        format!("chr1\t5001\tsnv_mid\tT\tC\n{huge}\nchr1\t10\tsnv_contig_start\tC\tT\n"),
    )
    .unwrap();
    let o = score(
        model.path(),
        &fixture("genome/genome.fa"),
        &vcf,
        &["--scores", "abs_diff"],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let want = format!(
        "long.vcf: line 2: {} bytes, longer than the 1 MiB",
        huge.len() + 1
    );
    assert!(err.contains(&want), "{err}");
    let out = String::from_utf8(o.stdout).unwrap();
    let statuses: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split('\t').nth(5).unwrap())
        .collect();
    assert_eq!(statuses, ["ok", "invalid_record", "ok"], "{out}");

    let pairs = dir.path().join("pairs.tsv");
    let ok = "ACGT".repeat(250);
    std::fs::write(
        &pairs,
        format!("a\t{ok}\t{ok}\nb\t{}\nc\t{ok}\t{ok}\n", "A".repeat(2 << 20)),
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
    assert!(
        err.contains("line 2") && err.contains("longer than the 1 MiB"),
        "{err}"
    );
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(out.lines().count(), 4, "header and three rows: {out}");

    let fasta = dir.path().join("genome-by-mistake.fa");
    std::fs::write(
        &fasta,
        format!(
            ">first\n{ok}\n>chr1\n{}\n>last\n{ok}\n",
            "ACGTTGCA\n".repeat(400_000)
        ),
    )
    .unwrap();
    let o = cli(&[
        "predict",
        "--model",
        path_str(model.path()),
        path_str(&fasta),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("sequence `chr1`: 3200000 bp is longer"),
        "{err}"
    );
    let (_, rows) = read_tsv(&String::from_utf8(o.stdout).unwrap());
    assert_eq!(
        rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["first", "last"]
    );

    let no_newline = dir.path().join("one-line.bin");
    std::fs::write(&no_newline, "N".repeat(3 << 20)).unwrap();
    let o = cli(&[
        "predict",
        "--model",
        path_str(model.path()),
        path_str(&no_newline),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("one-line.bin: line 1: 3145728 bytes before the first `>` header"),
        "{err}"
    );

    // `analyze` reads a scores TSV: the same file is refused by line, in bounded memory.
    let o = cli(&[
        "analyze",
        "--scores",
        path_str(&no_newline),
        "--annotations",
        path_str(&no_newline),
        "--profile",
        "x",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("one-line.bin: line 1: 3145728 bytes, longer than the 1 MiB"),
        "{err}"
    );
}

/// The error of reading `tests/data/<name>` as a checkpoint.
fn checkpoint_error(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    brain_resnet::weights::checkpoint::read_checkpoint_file(&path)
        .unwrap_err()
        .to_string()
}

/// A `.pth` is a pickle: one that names anything but a state dict's classes
/// (here `os.system`) is refused by name, never run (our decoder runs
/// nothing, and now also refuses to read on).
#[test]
fn a_checkpoint_pickle_naming_os_system_is_refused_by_name() {
    let err = checkpoint_error("os-system.pth");
    assert!(
        err.contains("os-system.pth") && err.contains("`os.system`") && err.contains("refusing"),
        "{err}"
    );
}

/// A zip bomb: the first storage inflates to 256 MiB of zeros from 256 KB.
/// It is refused with a message naming the storage, in bounded memory (our
/// zip reader takes stored entries, as torch.save writes them, and reads no
/// more of a storage than its tensors reach).
#[test]
fn a_zip_bomb_checkpoint_is_refused_in_bounded_memory() {
    let err = checkpoint_error("zip-bomb.pth");
    assert!(
        err.contains("zip-bomb.pth") && err.contains("cannot read storage"),
        "{err}"
    );
}

#[test]
fn a_legacy_checkpoint_pickle_that_clones_itself_into_gigabytes_is_refused() {
    // The legacy layout: magic number, protocol, system info, then the
    // state dict's pickle; here a BINGET/TUPLE2 chain doubling a string 40
    // times (2^40 copies for candle's decoder, which clones on every GET).
    let mut file = vec![
        0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
    ];
    file.extend([0x80, 0x02, b'K', 0x03, b'.']); // protocol 1001 stand-in
    file.extend([0x80, 0x02, b'}', b'.']); // system info
    file.extend([0x80, 0x02, b'X', 4, 0, 0, 0]);
    file.extend(b"bomb");
    file.extend([b'q', 0]);
    for _ in 0..40 {
        file.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
    }
    file.push(b'.');
    let err =
        brain_resnet::weights::checkpoint::read_checkpoint(std::io::Cursor::new(file), "bomb.pth")
            .unwrap_err()
            .to_string();
    assert!(
        err.contains("bomb.pth") && err.contains("builds more than 256 MiB"),
        "{err}"
    );
}

/// Found by the fuzzer (fuzz/artifacts/fai, now tests/data/fuzz/): a region
/// starting near i64::MIN overflowed the padding arithmetic in `fetch`.
#[test]
fn genome_regions_at_the_ends_of_i64_are_padded_or_refused_never_overflowed() {
    let mut g = brain_resnet::io::genome::Genome::open(&fixture("genome/genome.fa.gz")).unwrap();
    assert_eq!(
        g.fetch("chr1", i64::MIN, i64::MIN + 1000).unwrap(),
        vec![b'N'; 1000]
    );
    assert_eq!(
        g.fetch("chr1", i64::MAX - 10, i64::MAX).unwrap(),
        vec![b'N'; 10]
    );
    let edge = g.fetch("chr2", -3, 2).unwrap();
    assert_eq!(&edge[..3], b"NNN");
    for (start, end) in [(0, i64::MAX), (i64::MIN, i64::MAX), (10, 5)] {
        let err = g.fetch("chr1", start, end).unwrap_err().to_string();
        assert!(
            err.contains("genome.fa.gz") && err.contains("is not a region of 0 to 4194304 bases"),
            "{err}"
        );
    }
}
