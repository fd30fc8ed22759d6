//! The core engine against ../shared/fixtures: checkpoint import (zip, legacy,
//! DataParallel), convert + predict through the CLI, quantization error, and
//! the errors users meet.

mod common;

use std::io::Cursor;

use brain_resnet::weights::checkpoint::{read_checkpoint, read_checkpoint_file};
use brain_resnet::weights::fold::fold_checkpoint;
use brain_resnet::weights::format::{read_model_dir, MANIFEST_FILE, WEIGHTS_FILE};
use brain_resnet::{Error, Model};
use common::*;

fn expected() -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    read_tsv(&std::fs::read_to_string(fixture("expected/sequences-mini.tsv")).unwrap())
}

/// convert + predict of one checkpoint at one dtype; returns (stdout table, max error vs expected).
fn convert_predict(checkpoint: &str, dtype: &str) -> (Vec<(String, Vec<f64>)>, f64) {
    let dir = tempfile::tempdir().unwrap();
    convert(checkpoint, dir.path(), dtype);
    let out = predict(dir.path(), &fixture("sequences.fa"));
    let (header, rows) = read_tsv(&out);
    let (exp_header, exp_rows) = expected();
    assert_eq!(
        header, exp_header,
        "header must be `name` then the labels in order"
    );
    let err = max_abs_diff(&rows, &exp_rows);
    (rows, err)
}

#[test]
fn legacy_checkpoint_predicts_the_expected_probabilities() {
    let (_, err) = convert_predict("model/metachrom-mini-legacy.pth", "f32");
    assert!(err <= 1e-5, "max error {err}");
}

#[test]
fn dataparallel_checkpoint_predicts_the_expected_probabilities() {
    let (_, err) = convert_predict("model/metachrom-mini-dataparallel.pth", "f32");
    assert!(err <= 1e-5, "max error {err}");
}

/// `metachrom-mini.pth` (zip, with optimizer state) does not hold the weights
/// the other two fixtures hold: PyTorch's own `torch.load` shows 79 of its 163
/// tensors differ, all BatchNorm `num_batches_tracked` that are used read 1001
/// where the others read 1002 — a checkpoint of one training step earlier.
/// So its predictions cannot match expected/sequences-mini.tsv (reported on
/// the issue). What we can check: it imports completely, its architecture is
/// the others', and its raw tensors are those one optimizer step away.
#[test]
fn zip_checkpoint_with_optimizer_state_imports_completely() {
    let zip = read_checkpoint_file(&fixture("model/metachrom-mini.pth")).unwrap();
    let legacy = read_checkpoint_file(&fixture("model/metachrom-mini-legacy.pth")).unwrap();
    assert_eq!(
        zip.len(),
        163,
        "every state_dict tensor, no optimizer state"
    );
    assert_eq!(
        zip.keys().collect::<Vec<_>>(),
        legacy.keys().collect::<Vec<_>>()
    );
    let cfg = brain_resnet::weights::shapes::config_from_checkpoint(&zip, "zip").unwrap();
    assert_eq!(
        cfg,
        brain_resnet::weights::shapes::config_from_checkpoint(&legacy, "legacy").unwrap()
    );
    assert_eq!(zip["seq_model.bn1.num_batches_tracked"].data, vec![1001.0]);
    assert_eq!(
        legacy["seq_model.bn1.num_batches_tracked"].data,
        vec![1002.0]
    );
    // Weights differ by at most one Adam step (lr 1e-3), and the unused block
    // batch norms, never updated, are identical.
    for (k, t) in &zip {
        let u = &legacy[k];
        assert_eq!(t.shape, u.shape, "{k}");
        if k.ends_with(".weight") && !k.contains(".bn") {
            let d = t
                .data
                .iter()
                .zip(&u.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(d <= 1.001e-3, "{k}: {d}");
        }
        if k.contains(".bn1.") && k.contains("layer") {
            assert_eq!(t.data, u.data, "{k}");
        }
    }
    // The first tensor's leading values, as Python's zipfile + struct read them.
    assert_eq!(
        zip["base_model.conv_net.0.weight"].data[..4],
        [0.13333584, 0.09444563, 0.58484006, 0.26083022]
    );
    // And it converts and predicts like any other checkpoint.
    let (rows, _) = convert_predict("model/metachrom-mini.pth", "f32");
    assert_eq!(rows.len(), 8);
}

/// f16 rounds every weight to 11 significant bits (relative error <= 2^-12);
/// int8 to a per-row step of max|w| / 127 at most. Bounds: see docs/MODEL_FORMAT.md ("Errors and the bounds the tests assert").
#[test]
fn quantized_models_stay_within_their_error_bounds() {
    let (_, f16) = convert_predict("model/metachrom-mini-legacy.pth", "f16");
    let (_, int8) = convert_predict("model/metachrom-mini-legacy.pth", "int8");
    eprintln!("max abs error vs expected: f16 {f16:.2e}, int8 {int8:.2e}");
    assert!(f16 <= 2e-3, "f16 error {f16}");
    assert!(int8 < 0.02, "int8 error {int8}");
    assert!(
        f16 < int8,
        "f16 ({f16}) should be more precise than int8 ({int8})"
    );
}

#[test]
fn quantized_files_are_smaller() {
    let size = |dtype: &str| {
        let dir = tempfile::tempdir().unwrap();
        convert("model/metachrom-mini-legacy.pth", dir.path(), dtype);
        std::fs::metadata(dir.path().join(WEIGHTS_FILE))
            .unwrap()
            .len() as f64
    };
    let (f32b, f16b, int8b) = (size("f32"), size("f16"), size("int8"));
    assert!(f16b / f32b < 0.55, "f16 {f16b} vs f32 {f32b}");
    assert!(int8b / f32b < 0.32, "int8 {int8b} vs f32 {f32b}");
}

#[test]
fn one_hot_rules_hold_through_the_network() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = Model::load_dir(dir.path()).unwrap();
    let seq: Vec<u8> = b"ACGTTGCAAC".iter().cycle().take(900).copied().collect();
    let lower = seq.to_ascii_lowercase();
    let mut iupac = seq.clone();
    let mut n_run = seq.clone();
    for i in (100..200).step_by(3) {
        iupac[i] = b"RYSWKMBDHV"[i % 10];
        n_run[i] = b'N';
    }
    let mut padded = seq.clone();
    padded.extend(std::iter::repeat_n(b'N', 100));
    let out = model.predict_sequences(
        [
            ("upper", &seq[..]),
            ("lower", &lower[..]),
            ("iupac", &iupac[..]),
            ("n_run", &n_run[..]),
            ("padded", &padded[..]),
        ],
        8,
    );
    let rows: Vec<Vec<f32>> = out.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        rows[0], rows[1],
        "soft-masked sequence must predict as uppercase"
    );
    assert_eq!(rows[2], rows[3], "IUPAC codes must encode as N");
    assert_eq!(rows[0], rows[4], "short sequences pad right with N");
    assert_ne!(rows[0], rows[2], "N columns change the prediction");
}

#[test]
fn batch_size_does_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let model = Model::load_dir(dir.path()).unwrap();
    let recs = brain_resnet::io::fasta::read_fasta(
        std::io::BufReader::new(std::fs::File::open(fixture("sequences.fa")).unwrap()),
        "sequences.fa",
    )
    .unwrap();
    let seqs = || {
        recs.iter()
            .map(|r| (r.name.as_str(), r.sequence.as_slice()))
    };
    let one: Vec<_> = model
        .predict_sequences(seqs(), 1)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let all: Vec<_> = model
        .predict_sequences(seqs(), 8)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    for (a, b) in one.iter().zip(&all) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
        }
    }
}

// ---- errors users meet ----

#[test]
fn truncated_checkpoints_are_refused_with_the_file_named() {
    for name in ["metachrom-mini.pth", "metachrom-mini-legacy.pth"] {
        let bytes = std::fs::read(fixture(&format!("model/{name}"))).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 100] {
            let err = read_checkpoint(Cursor::new(&bytes[..cut]), name).unwrap_err();
            let msg = err.to_string();
            assert!(msg.starts_with(name), "{msg}");
            assert!(msg.contains("truncated"), "{name} cut at {cut}: {msg}");
        }
    }
    let err = read_checkpoint(Cursor::new(b"hello"), "x.pth")
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a PyTorch checkpoint"), "{err}");
}

#[test]
fn missing_key_and_wrong_shape_name_the_tensor() {
    let map = read_checkpoint_file(&fixture("model/metachrom-mini-legacy.pth")).unwrap();

    let mut missing = map.clone();
    missing.remove("seq_model.layer2.0.downsample.1.running_var");
    let err =
        brain_resnet::weights::shapes::config_from_checkpoint(&missing, "ckpt.pth").unwrap_err();
    assert!(
        matches!(&err, Error::MissingKey { key, .. } if key == "seq_model.layer2.0.downsample.1.running_var"),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "ckpt.pth: missing tensor `seq_model.layer2.0.downsample.1.running_var`"
    );

    let mut wrong = map.clone();
    let t = wrong.get_mut("seq_model.layer3.1.conv1.weight").unwrap();
    t.shape = vec![24, 12, 14];
    let err = brain_resnet::weights::shapes::config_from_checkpoint(&wrong, "ckpt.pth")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ckpt.pth: tensor `seq_model.layer3.1.conv1.weight` has shape [24, 12, 14], expected [24, 24, 7]"
    );

    // The unused block batch norms may be absent.
    let mut no_block_bn = map.clone();
    no_block_bn
        .retain(|k, _| !(k.contains("layer") && (k.contains(".bn1.") || k.contains(".bn2."))));
    let cfg =
        brain_resnet::weights::shapes::config_from_checkpoint(&no_block_bn, "ckpt.pth").unwrap();
    fold_checkpoint(&cfg, &no_block_bn, "ckpt.pth").unwrap();
}

#[test]
fn convert_reports_checkpoint_errors_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("cut.pth");
    let bytes = std::fs::read(fixture("model/metachrom-mini.pth")).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 3]).unwrap();
    let o = cli(&[
        "convert",
        path_str(&bad),
        "--labels",
        path_str(&fixture("model/labels.txt")),
        "--out",
        path_str(&dir.path().join("m")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("cut.pth") && err.contains("truncated"),
        "{err}"
    );

    let labels = dir.path().join("labels.txt");
    std::fs::write(&labels, "Glut\nNPC\n").unwrap();
    let o = cli(&[
        "convert",
        path_str(&fixture("model/metachrom-mini-legacy.pth")),
        "--labels",
        path_str(&labels),
        "--out",
        path_str(&dir.path().join("m")),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("31 profiles"), "{err}");
}

#[test]
fn model_directory_integrity_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "int8");
    let wpath = dir.path().join(WEIGHTS_FILE);
    let good = std::fs::read(&wpath).unwrap();
    read_model_dir(dir.path()).unwrap();

    // Truncated weights.
    std::fs::write(&wpath, &good[..good.len() - 10]).unwrap();
    let err = read_model_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains(WEIGHTS_FILE) && err.contains("truncated"),
        "{err}"
    );

    // Same size, one byte changed.
    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(&wpath, &flipped).unwrap();
    let err = read_model_dir(dir.path()).unwrap_err().to_string();
    assert!(err.contains("SHA-256") && err.contains("refusing"), "{err}");
    std::fs::write(&wpath, &good).unwrap();

    // A manifest that is not one.
    let mpath = dir.path().join(MANIFEST_FILE);
    let manifest = std::fs::read_to_string(&mpath).unwrap();
    std::fs::write(&mpath, "{\"format\": 1}").unwrap();
    let err = read_model_dir(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains(MANIFEST_FILE) && err.contains("not a valid model manifest"),
        "{err}"
    );
    std::fs::write(&mpath, manifest).unwrap();
}

#[test]
fn weights_file_missing_key_or_wrong_shape_is_named() {
    use brain_resnet::weights::format::decode_weights;
    use brain_resnet::weights::quant::DType;
    use safetensors::tensor::TensorView;

    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let (m, _) = read_model_dir(dir.path()).unwrap();
    let bytes = std::fs::read(dir.path().join(WEIGHTS_FILE)).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let rebuild = |skip: &str, reshape: Option<(&str, Vec<usize>)>| {
        let tensors: Vec<(String, TensorView)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| n != skip)
            .map(|(n, v)| match &reshape {
                Some((name, shape)) if n == *name => {
                    let data = v.data();
                    let len: usize = shape.iter().product::<usize>() * 4;
                    (
                        n,
                        TensorView::new(v.dtype(), shape.clone(), &data[..len]).unwrap(),
                    )
                }
                _ => (n, v),
            })
            .collect();
        safetensors::serialize(tensors, None).unwrap()
    };
    let no_key = rebuild("classifier.2.bias", None);
    let err = decode_weights(&m.architecture, DType::F32, &no_key, "w.safetensors").unwrap_err();
    assert_eq!(
        err.to_string(),
        "w.safetensors: missing tensor `classifier.2.bias`"
    );

    let bad_shape = rebuild("", Some(("seq_model.conv1.weight", vec![8, 4, 6])));
    let err = decode_weights(&m.architecture, DType::F32, &bad_shape, "w.safetensors").unwrap_err();
    assert_eq!(
        err.to_string(),
        "w.safetensors: tensor `seq_model.conv1.weight` has shape [8, 4, 6], expected [8, 4, 7]"
    );
}

#[test]
fn predict_reports_long_sequences_and_still_predicts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let fasta = dir.path().join("mixed.fa");
    let long = "A".repeat(1001);
    let ok = "ACGT".repeat(250);
    std::fs::write(
        &fasta,
        format!(">first\n{ok}\n>too_long\n{long}\n>last\n{ok}\n"),
    )
    .unwrap();
    let o = cli(&["predict", "--model", path_str(dir.path()), path_str(&fasta)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("too_long") && err.contains("1001 bp") && err.contains("mixed.fa"),
        "{err}"
    );
    let (_, rows) = read_tsv(&String::from_utf8(o.stdout).unwrap());
    let names: Vec<_> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["first", "last"]);
}

#[test]
fn predict_refuses_an_empty_fasta() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let fasta = dir.path().join("empty.fa");
    std::fs::write(&fasta, "").unwrap();
    let o = cli(&["predict", "--model", path_str(dir.path()), path_str(&fasta)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("empty.fa") && err.contains("no FASTA records"),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

/// Each record's problems are named on stderr with the file and the record:
/// letters that are not bases and a header without sequence are errors (not
/// predicted, exit status 1), IUPAC codes a warning (read as N), a short
/// record is padded with a note; the good records are still predicted.
#[test]
fn predict_names_bad_letters_empty_records_iupac_codes_and_padding() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let fasta = dir.path().join("checked.fa");
    let ok = "ACGT".repeat(250);
    let iupac = format!("{}ACRY", "ACGT".repeat(249));
    std::fs::write(
        &fasta,
        format!(">letters\nACGTXYZ\n>empty\n>one\nA\n>iupac\n{iupac}\n>full\n{ok}\n"),
    )
    .unwrap();
    let o = cli(&["predict", "--model", path_str(dir.path()), path_str(&fasta)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    let path = fasta.display();
    for line in [
        format!("error: {path}: sequence `letters`: `X` at position 5 is not a base (A, C, G, T, N or an IUPAC code)"),
        format!("error: {path}: sequence `empty`: no sequence after the `>name` line"),
        format!("note: {path}: sequence `one`: 1 bp, padded with 999 N to the model's 1000 bp window"),
        format!("warning: {path}: sequence `iupac`: 2 IUPAC ambiguity codes (R Y S W K M B D H V; the first, `R`, at position 999) read as N"),
        "error: 2 of 5 sequences not predicted (see above)".to_string(),
    ] {
        assert!(err.lines().any(|l| l == line), "missing {line:?} in\n{err}");
    }
    assert!(!err.contains("sequence `full`"), "{err}");
    let (_, rows) = read_tsv(&String::from_utf8(o.stdout).unwrap());
    let names: Vec<_> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names, ["one", "iupac", "full"]);
    // IUPAC codes predict as N.
    let as_n = dir.path().join("as_n.fa");
    std::fs::write(&as_n, format!(">iupac\n{}ACNN\n", "ACGT".repeat(249))).unwrap();
    let (_, n_rows) = read_tsv(&predict(dir.path(), &as_n));
    assert_eq!(rows[1].1, n_rows[0].1);
}

/// A raw sequence without any `>name` line is one record named `sequence`,
/// with a note; text that is not sequence is refused as before any output.
#[test]
fn predict_takes_a_raw_sequence_and_refuses_text_that_is_not_fasta() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-legacy.pth", dir.path(), "f32");
    let raw = dir.path().join("raw.txt");
    let ok = "ACGT".repeat(250);
    std::fs::write(&raw, format!("{}\n{}\n", &ok[..500], &ok[500..])).unwrap();
    let o = cli(&["predict", "--model", path_str(dir.path()), path_str(&raw)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "note: {}: sequence `sequence`: no `>name` line: the text was read as one sequence named `sequence`",
            raw.display()
        )),
        "{err}"
    );
    let (_, rows) = read_tsv(&String::from_utf8(o.stdout).unwrap());
    let named = dir.path().join("named.fa");
    std::fs::write(&named, format!(">sequence\n{ok}\n")).unwrap();
    let (_, expected) = read_tsv(&predict(dir.path(), &named));
    assert_eq!(rows, expected);

    let letter = dir.path().join("letter.fa");
    std::fs::write(&letter, "Dear colleague,\nplease find the sequences.\n").unwrap();
    let o = cli(&[
        "predict",
        "--model",
        path_str(dir.path()),
        path_str(&letter),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "{}: line 1: FASTA must start with a '>name' line",
            letter.display()
        )),
        "{err}"
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn info_describes_the_model() {
    let dir = tempfile::tempdir().unwrap();
    convert("model/metachrom-mini-dataparallel.pth", dir.path(), "int8");
    let o = cli(&["info", "--model", path_str(dir.path())]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(out.contains("int8-symmetric-per-output-channel"), "{out}");
    assert!(
        out.contains("stages [\"2x12\", \"2x16\", \"2x24\", \"2x32\"]"),
        "{out}"
    );
    assert!(out.contains("Glut, CP, DN"), "{out}");
}
