//! Our model format: a directory with `model.json` (the manifest) and
//! `weights.safetensors` (folded inference weights under the checkpoint's layer
//! names: `<layer>.weight` as f32, f16 or int8, `<layer>.weight_scale` for int8,
//! `<layer>.bias` always f32). The browser fetches the same two files.
//! (Over 400 lines: the manifest, the writer and the checked reader of one
//! format, kept together.)

use std::path::Path;

use safetensors::{Dtype as StDtype, SafeTensors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::quant::{quantize_int8, DType};
use super::{LayerWeights, RawTensor, StoredLayer, Weights};
use crate::architecture::Config;
use crate::error::{Error, Result, ShapeText};
use crate::window::CHANNEL_ORDER;

pub const FORMAT_NAME: &str = "brain-resnet-model";
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "model.json";
pub const WEIGHTS_FILE: &str = "weights.safetensors";

/// How windows are encoded for this model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSpec {
    pub window_length: usize,
    /// One-hot channel order, `AGCT`.
    pub channel_order: String,
    pub encoding: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightsInfo {
    pub file: String,
    pub dtype: DType,
    pub quantization: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `model.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub name: String,
    pub description: String,
    pub genome_build: String,
    pub input: InputSpec,
    /// Profile names in output order.
    pub labels: Vec<String>,
    pub architecture: Config,
    pub parameters: usize,
    pub weights: WeightsInfo,
    pub provenance: String,
}

impl Manifest {
    /// The value of the `##brain_resnet_model=` header line of an annotated
    /// VCF (the CLI's and the page's): name, dtype, weights' SHA-256 and
    /// whether reverse complements were averaged.
    pub fn vcf_model_line(&self, rc_mean: bool) -> String {
        format!(
            "<Name={},Dtype={},Sha256={},Rc={}>",
            self.name,
            self.weights.dtype,
            self.weights.sha256,
            if rc_mean { "mean" } else { "none" }
        )
    }
}

/// What a user says about a model when converting it.
#[derive(Debug, Clone, Default)]
pub struct ModelInfo {
    pub name: String,
    pub description: String,
    pub genome_build: String,
    pub labels: Vec<String>,
    pub provenance: String,
}

pub fn input_spec(window_length: usize) -> InputSpec {
    InputSpec {
        window_length,
        channel_order: CHANNEL_ORDER.iter().collect(),
        encoding: "one-hot; uppercased first; other letters (N, IUPAC) all-zero; shorter sequences zero-padded on the right".into(),
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Refuses weights that cannot be stored faithfully in `dtype`: NaN or
/// infinite values (an int8 row with an inf would get an infinite scale and
/// dequantize to NaN), and f16 overflow (|w| > 65504 would become inf).
fn check_storable(weights: &Weights, dtype: DType) -> Result<()> {
    for l in &weights.layers {
        for (tensor, data) in [("weight", &l.weight.data), ("bias", &l.bias)] {
            let bad = |what: String| {
                Err(Error::input(
                    WEIGHTS_FILE,
                    format!("tensor `{}.{tensor}` {what}; refusing to convert", l.name),
                ))
            };
            if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                return bad(format!(
                    "holds a non-finite value ({}) at index {i}",
                    data[i]
                ));
            }
            if dtype == DType::F16 && tensor == "weight" {
                let max = f32::from(half::f16::MAX);
                if let Some(i) = data.iter().position(|v| v.abs() > max) {
                    return bad(format!(
                        "holds {} at index {i}, beyond f16's range (65504): use --dtype f32",
                        data[i]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Serializes inference weights as safetensors in `dtype`.
pub fn encode_weights(weights: &Weights, dtype: DType) -> Result<Vec<u8>> {
    encode_weights_mixed(weights, dtype, &[])
}

/// Serializes inference weights as safetensors in `dtype`, except the layers
/// named in `f16_layers`, whose weights are stored as f16 (for an int8 model:
/// the few layers that carry most of the quantization error; see
/// `brain-resnet convert --keep-f16`). Readers take each tensor's storage from
/// its safetensors dtype, so such a file loads wherever an int8 one does.
pub fn encode_weights_mixed(
    weights: &Weights,
    dtype: DType,
    f16_layers: &[String],
) -> Result<Vec<u8>> {
    check_storable(weights, dtype)?;
    if let Some(unknown) = f16_layers.iter().find(|n| weights.get(n).is_none()) {
        let names: Vec<&str> = weights.layers.iter().map(|l| l.name.as_str()).collect();
        return Err(Error::input(
            WEIGHTS_FILE,
            format!(
                "no layer `{unknown}` to keep at f16; the layers are {}",
                names.join(", ")
            ),
        ));
    }
    let mut tensors: Vec<(String, StDtype, Vec<usize>, Vec<u8>)> = vec![];
    for l in &weights.layers {
        let shape = l.weight.shape.clone();
        let layer_dtype = if dtype == DType::Int8 && f16_layers.contains(&l.name) {
            check_storable(
                &Weights {
                    layers: vec![l.clone()],
                },
                DType::F16,
            )?;
            DType::F16
        } else {
            dtype
        };
        match layer_dtype {
            DType::F32 => tensors.push((
                format!("{}.weight", l.name),
                StDtype::F32,
                shape,
                l.weight.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )),
            DType::F16 => tensors.push((
                format!("{}.weight", l.name),
                StDtype::F16,
                shape,
                l.weight
                    .data
                    .iter()
                    .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                    .collect(),
            )),
            DType::Int8 => {
                let (q, scales) = quantize_int8(&l.weight.data, shape[0]);
                tensors.push((
                    format!("{}.weight", l.name),
                    StDtype::I8,
                    shape.clone(),
                    q.iter().map(|v| *v as u8).collect(),
                ));
                tensors.push((
                    format!("{}.weight_scale", l.name),
                    StDtype::F32,
                    vec![shape[0]],
                    scales.iter().flat_map(|v| v.to_le_bytes()).collect(),
                ));
            }
        }
        tensors.push((
            format!("{}.bias", l.name),
            StDtype::F32,
            vec![l.bias.len()],
            l.bias.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ));
    }
    let views = tensors
        .iter()
        .map(|(name, dt, shape, data)| {
            safetensors::tensor::TensorView::new(*dt, shape.clone(), data)
                .map(|v| (name.clone(), v))
        })
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::input(WEIGHTS_FILE, e))?;
    safetensors::serialize(views, None).map_err(|e| Error::input(WEIGHTS_FILE, e))
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Reads inference weights for `cfg` from safetensors bytes, checking every
/// tensor's presence, dtype and shape.
pub fn decode_weights(
    cfg: &Config,
    dtype: DType,
    bytes: &[u8],
    source_name: &str,
) -> Result<Weights> {
    let layers = decode_layers(cfg, dtype, bytes, source_name)?
        .map(|l| l.map(StoredLayer::into_f32))
        .collect::<Result<Vec<_>>>()?;
    Ok(Weights { layers })
}

/// [`decode_weights`] one layer at a time, in [`Config::layers`] order: a
/// network built from it never holds every layer's decoded f32 copy at once
/// (in the browser, wasm memory never shrinks: its peak stays resident).
pub fn decode_layers<'a>(
    cfg: &Config,
    dtype: DType,
    bytes: &'a [u8],
    source_name: &'a str,
) -> Result<impl Iterator<Item = Result<StoredLayer>> + 'a> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| {
        Error::input(
            source_name,
            format!("not a readable safetensors file ({e})"),
        )
    })?;
    Ok(cfg
        .layers()
        .into_iter()
        .map(move |spec| decode_layer(&st, spec, dtype, source_name)))
}

fn decode_layer(
    st: &SafeTensors<'_>,
    spec: crate::architecture::LayerSpec,
    dtype: DType,
    source_name: &str,
) -> Result<StoredLayer> {
    let get = |key: &str, expected: &[usize], want: StDtype| -> Result<&[u8]> {
        let view = st.tensor(key).map_err(|_| Error::MissingKey {
            source_name: source_name.to_string(),
            key: key.to_string(),
        })?;
        if view.shape() != expected {
            return Err(Error::Shape {
                source_name: source_name.to_string(),
                key: key.to_string(),
                expected: ShapeText(expected.to_vec()),
                found: ShapeText(view.shape().to_vec()),
            });
        }
        if view.dtype() != want {
            return Err(Error::input(
                source_name,
                format!(
                    "tensor `{key}` is {:?}, expected {want:?} for a {dtype} model",
                    view.dtype()
                ),
            ));
        }
        Ok(view.data())
    };
    let shape = spec.weight_shape();
    let n = shape[0];
    let wkey = format!("{}.weight", spec.name);
    // An int8 model may keep some layers at f16 or f32 (encode_weights_mixed):
    // the stored tensor's own dtype says which.
    let stored = match (dtype, st.tensor(&wkey).map(|v| v.dtype())) {
        (DType::Int8, Ok(StDtype::F16)) => DType::F16,
        (DType::Int8, Ok(StDtype::F32)) => DType::F32,
        _ => dtype,
    };
    let data = match stored {
        DType::F32 => f32s(get(&wkey, &shape, StDtype::F32)?),
        DType::F16 => get(&wkey, &shape, StDtype::F16)?
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        DType::Int8 => {
            let scales = f32s(get(
                &format!("{}.weight_scale", spec.name),
                &[n],
                StDtype::F32,
            )?);
            let codes: Vec<i8> = get(&wkey, &shape, StDtype::I8)?
                .iter()
                .map(|&b| b as i8)
                .collect();
            let bias = f32s(get(&format!("{}.bias", spec.name), &[n], StDtype::F32)?);
            return Ok(StoredLayer::Int8 {
                name: spec.name,
                shape,
                codes,
                scales,
                bias,
            });
        }
    };
    let bias = f32s(get(&format!("{}.bias", spec.name), &[n], StDtype::F32)?);
    Ok(StoredLayer::F32(LayerWeights {
        name: spec.name,
        weight: RawTensor::new(shape, data),
        bias,
    }))
}

/// Writes a model directory; returns its manifest.
pub fn write_model_dir(
    dir: &Path,
    info: &ModelInfo,
    cfg: &Config,
    weights: &Weights,
    dtype: DType,
) -> Result<Manifest> {
    write_model_dir_mixed(dir, info, cfg, weights, dtype, &[])
}

/// [`write_model_dir`] with the layers of `f16_layers` stored as f16 in an
/// int8 model ([`encode_weights_mixed`]); `model.json` names them in
/// `weights.quantization`.
pub fn write_model_dir_mixed(
    dir: &Path,
    info: &ModelInfo,
    cfg: &Config,
    weights: &Weights,
    dtype: DType,
    f16_layers: &[String],
) -> Result<Manifest> {
    let dir_name = dir.display().to_string();
    if info.labels.len() != cfg.outputs {
        return Err(Error::input(
            &dir_name,
            format!(
                "{} labels given for a model with {} outputs",
                info.labels.len(),
                cfg.outputs
            ),
        ));
    }
    let bytes = encode_weights_mixed(weights, dtype, f16_layers)?;
    let quantization = if dtype == DType::Int8 && !f16_layers.is_empty() {
        // in the network's layer order, whatever order they were given in
        let kept: Vec<&str> = weights
            .layers
            .iter()
            .filter(|l| f16_layers.contains(&l.name))
            .map(|l| l.name.as_str())
            .collect();
        format!("{}; f16 weights: {}", dtype.scheme(), kept.join(", "))
    } else {
        dtype.scheme().into()
    };
    let manifest = Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        name: info.name.clone(),
        description: info.description.clone(),
        genome_build: info.genome_build.clone(),
        input: input_spec(cfg.window),
        labels: info.labels.clone(),
        architecture: cfg.clone(),
        parameters: weights.parameter_count(),
        weights: WeightsInfo {
            file: WEIGHTS_FILE.into(),
            dtype,
            quantization,
            sha256: sha256_hex(&bytes),
            bytes: bytes.len() as u64,
        },
        provenance: info.provenance.clone(),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::input(&dir_name, e))?;
    let write = |file: &str, data: &[u8]| {
        let path = dir.join(file);
        std::fs::write(&path, data).map_err(|e| Error::input(path.display(), e))
    };
    write(WEIGHTS_FILE, &bytes)?;
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    write(MANIFEST_FILE, format!("{json}\n").as_bytes())?;
    Ok(manifest)
}

/// Parses and checks a manifest (`source_name` names it in errors).
pub fn parse_manifest(json: &str, source_name: &str) -> Result<Manifest> {
    let m: Manifest = serde_json::from_str(json)
        .map_err(|e| Error::input(source_name, format!("not a valid model manifest ({e})")))?;
    if m.format != FORMAT_NAME {
        return Err(Error::input(
            source_name,
            format!("format is `{}`, expected `{FORMAT_NAME}`", m.format),
        ));
    }
    if m.format_version > FORMAT_VERSION {
        return Err(Error::input(
            source_name,
            format!(
                "format version {} is newer than this program's {FORMAT_VERSION}; update brain-resnet",
                m.format_version
            ),
        ));
    }
    if m.input.channel_order != CHANNEL_ORDER.iter().collect::<String>() {
        return Err(Error::input(
            source_name,
            format!(
                "channel order `{}` is not supported (only AGCT)",
                m.input.channel_order
            ),
        ));
    }
    if m.input.window_length != m.architecture.window {
        return Err(Error::input(
            source_name,
            "input.window_length differs from architecture.window_length",
        ));
    }
    if m.labels.len() != m.architecture.outputs {
        return Err(Error::input(
            source_name,
            format!(
                "{} labels for {} outputs",
                m.labels.len(),
                m.architecture.outputs
            ),
        ));
    }
    m.architecture.validate(source_name)?;
    Ok(m)
}

/// Checks the weights file's size and SHA-256 against the manifest, then decodes it.
pub fn load_weights(m: &Manifest, bytes: &[u8], source_name: &str) -> Result<Weights> {
    load_weights_with_digest(m, bytes, source_name, None)
}

/// Like [`load_weights`], with the file's SHA-256 (hex) computed by the
/// caller when given (the page hashes once with WebCrypto, many times faster
/// than hashing in WebAssembly, for all its workers); it is still compared
/// with the manifest's, and the size is still checked.
pub fn load_weights_with_digest(
    m: &Manifest,
    bytes: &[u8],
    source_name: &str,
    sha256: Option<&str>,
) -> Result<Weights> {
    let layers = load_layers_with_digest(m, bytes, source_name, sha256)?;
    Ok(Weights {
        layers: layers
            .map(|l| l.map(StoredLayer::into_f32))
            .collect::<Result<Vec<_>>>()?,
    })
}

/// [`load_weights_with_digest`] one layer at a time ([`decode_layers`]).
pub fn load_layers_with_digest<'a>(
    m: &Manifest,
    bytes: &'a [u8],
    source_name: &'a str,
    sha256: Option<&str>,
) -> Result<impl Iterator<Item = Result<StoredLayer>> + 'a> {
    if bytes.len() as u64 != m.weights.bytes {
        return Err(Error::input(
            source_name,
            format!(
                "{} bytes, but model.json says {}; the file is truncated or belongs to another model",
                bytes.len(),
                m.weights.bytes
            ),
        ));
    }
    let sha = match sha256 {
        Some(hex) => hex.to_ascii_lowercase(),
        None => sha256_hex(bytes),
    };
    if sha != m.weights.sha256 {
        return Err(Error::input(
            source_name,
            format!(
                "SHA-256 {sha} does not match model.json ({}); refusing to run",
                m.weights.sha256
            ),
        ));
    }
    decode_layers(&m.architecture, m.weights.dtype, bytes, source_name)
}

/// Reads a model directory written by [`write_model_dir`].
pub fn read_model_dir(dir: &Path) -> Result<(Manifest, Weights)> {
    let mpath = dir.join(MANIFEST_FILE);
    let mname = mpath.display().to_string();
    let json = std::fs::read_to_string(&mpath).map_err(|e| Error::input(&mname, e))?;
    let m = parse_manifest(&json, &mname)?;
    let wpath = dir.join(&m.weights.file);
    let wname = wpath.display().to_string();
    let bytes = std::fs::read(&wpath).map_err(|e| Error::input(&wname, e))?;
    let weights = load_weights(&m, &bytes, &wname)?;
    Ok((m, weights))
}
