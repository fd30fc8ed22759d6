//! PyTorch checkpoint import, in Rust (no Python at run time).
//!
//! Reads both layouts `torch.save` writes: the zip archive of PyTorch 1.6 and
//! later (`archive/data.pkl` + `archive/data/<key>`), and the legacy pickle
//! stream (magic number, protocol, system info, the object, the storage keys,
//! then each storage's raw bytes). The pickle opcodes are decoded by candle's
//! `pickle::Stack`; this module walks the resulting objects to find the
//! `state_dict` (under the `state_dict` key of the training script's dict, or
//! the whole object when a bare state dict was saved), strips a `module.`
//! prefix, and converts every floating tensor to f32. Other entries (epoch,
//! loss, optimizer state) are skipped without reading their storages.
//!
//! (Over 400 lines: the zip and legacy layouts share the pickle walker and
//! the tensor rebuild; one file keeps the format's rules in one place.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use candle_core::pickle::{Object, Stack};

use super::pickle_guard::read_bounded_pickle;

use super::{RawTensor, TensorMap};
use crate::error::{Error, Result};

/// The first bytes of a legacy `torch.save` file: the pickled magic number
/// 0x1950a86a20f9469cfc6c (protocol 2, LONG1 of 10 bytes, STOP).
const LEGACY_MAGIC: [u8; 15] = [
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
];

/// Reads the state dict of the checkpoint file at `path`.
pub fn read_checkpoint_file(path: &Path) -> Result<TensorMap> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::input(&name, e))?;
    read_checkpoint(file, &name)
}

/// Reads the state dict of a checkpoint from any seekable reader; `source_name`
/// names it in errors.
pub fn read_checkpoint<R: Read + Seek>(mut reader: R, source_name: &str) -> Result<TensorMap> {
    let io = |e: std::io::Error| Error::input(source_name, e);
    let mut head = [0u8; 15];
    let n = read_up_to(&mut reader, &mut head).map_err(io)?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    if n >= 4 && head[..4] == *b"PK\x03\x04" {
        read_zip(reader, source_name)
    } else if n == LEGACY_MAGIC.len() && head == LEGACY_MAGIC {
        read_legacy(reader, source_name)
    } else if n == 0 {
        Err(Error::input(source_name, "the file is empty"))
    } else {
        Err(Error::input(
            source_name,
            "not a PyTorch checkpoint (neither a torch.save zip archive nor a legacy torch.save file)",
        ))
    }
}

fn read_up_to<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Storage element types we can read, by their pickled class name.
#[derive(Debug, Clone, Copy, PartialEq)]
enum StorageType {
    F32,
    F64,
    F16,
    BF16,
    I64,
    I32,
    U8,
}

impl StorageType {
    fn from_class(class: &str) -> Option<Self> {
        Some(match class {
            "FloatStorage" => Self::F32,
            "DoubleStorage" => Self::F64,
            "HalfStorage" => Self::F16,
            "BFloat16Storage" => Self::BF16,
            "LongStorage" => Self::I64,
            "IntStorage" => Self::I32,
            "ByteStorage" | "BoolStorage" => Self::U8,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            Self::F32 | Self::I32 => 4,
            Self::F64 | Self::I64 => 8,
            Self::F16 | Self::BF16 => 2,
            Self::U8 => 1,
        }
    }

    fn value(self, b: &[u8]) -> f32 {
        match self {
            Self::F32 => f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            Self::F64 => f64::from_le_bytes(b[..8].try_into().unwrap()) as f32,
            Self::F16 => half::f16::from_le_bytes([b[0], b[1]]).to_f32(),
            Self::BF16 => half::bf16::from_le_bytes([b[0], b[1]]).to_f32(),
            Self::I64 => i64::from_le_bytes(b[..8].try_into().unwrap()) as f32,
            Self::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32,
            Self::U8 => b[0] as f32,
        }
    }
}

/// A tensor as the pickle describes it: a view into a storage.
#[derive(Debug)]
struct TensorRef {
    storage_key: String,
    storage_type: StorageType,
    offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
}

fn parse_pickle<R: BufRead>(r: &mut R, what: &str, source_name: &str) -> Result<Object> {
    // candle's decoder trusts lengths and counts in the file: a size-only pass
    // bounds what it will build, then it decodes the pickle from memory.
    let bytes = read_bounded_pickle(r)
        .map_err(|e| Error::input(source_name, format!("the {what} pickle {e}; refusing it")))?;
    // Kept as a second line of defence: a panic must not crash the caller.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut stack = Stack::empty();
        stack.read_loop(&mut bytes.as_slice())?;
        stack.finalize()
    }));
    match parsed {
        Ok(Ok(obj)) => {
            check_globals(&obj, what, source_name)?;
            Ok(obj)
        }
        Ok(Err(e)) => Err(Error::input(
            source_name,
            format!("cannot decode the {what} pickle ({e}); the file may be truncated or damaged"),
        )),
        Err(_) => Err(Error::input(
            source_name,
            format!("the {what} pickle is malformed"),
        )),
    }
}

/// The classes and functions a state dict's pickle may name (GLOBAL): the
/// ordered dict, torch's tensor rebuild functions and storage types, and the
/// numpy scalars training scripts store beside it. We never call them (the
/// decoder only builds a tree), but a pickle that names anything else, such
/// as `os.system`, is not a checkpoint and is refused by name.
fn allowed_global(module: &str, name: &str) -> bool {
    match module {
        "collections" => name == "OrderedDict",
        "torch._utils" => matches!(
            name,
            "_rebuild_tensor"
                | "_rebuild_tensor_v2"
                | "_rebuild_parameter"
                | "_rebuild_parameter_with_state"
        ),
        "torch" => name.ends_with("Storage") && name.chars().all(|c| c.is_ascii_alphanumeric()),
        "torch.storage" => matches!(name, "UntypedStorage" | "TypedStorage"),
        "numpy.core.multiarray" | "numpy._core.multiarray" => name == "scalar",
        "numpy" => name == "dtype",
        "_codecs" => name == "encode",
        "builtins" | "__builtin__" => matches!(name, "set" | "frozenset" | "slice"),
        _ => false,
    }
}

/// Refuses a pickle that names a class or function outside [`allowed_global`]
/// (walked without recursion: a deeply nested pickle cannot exhaust the stack).
fn check_globals(o: &Object, what: &str, source_name: &str) -> Result<()> {
    let mut todo = vec![o];
    while let Some(o) = todo.pop() {
        match o {
            Object::Class {
                module_name,
                class_name,
            } if !allowed_global(module_name, class_name) => {
                return Err(Error::input(
                    source_name,
                    format!(
                        "the {what} pickle names `{module_name}.{class_name}`, which a PyTorch state dict never does; refusing it (only tensors, storages and plain containers are read)"
                    ),
                ))
            }
            Object::Tuple(v) | Object::List(v) => todo.extend(v.iter()),
            Object::Dict(kv) => kv.iter().for_each(|(k, v)| todo.extend([k, v])),
            Object::Reduce { callable, args } | Object::Build { callable, args } => {
                todo.extend([callable.as_ref(), args.as_ref()])
            }
            Object::PersistentLoad(x) => todo.push(x),
            _ => {}
        }
    }
    Ok(())
}

fn as_usize(o: &Object) -> Option<usize> {
    match o {
        Object::Int(v) => usize::try_from(*v).ok(),
        Object::Long(v) => usize::try_from(*v).ok(),
        _ => None,
    }
}

fn as_usizes(o: &Object) -> Option<Vec<usize>> {
    match o {
        Object::Tuple(v) | Object::List(v) => v.iter().map(as_usize).collect(),
        _ => None,
    }
}

fn class_name(o: &Object) -> Option<(&str, &str)> {
    match o {
        Object::Class {
            module_name,
            class_name,
        } => Some((module_name, class_name)),
        _ => None,
    }
}

/// Storage key and type from a persistent id `('storage', Type, key, location, numel, ...)`.
fn storage_id(o: &Object) -> Option<(String, std::result::Result<StorageType, String>)> {
    let Object::PersistentLoad(id) = o else {
        return None;
    };
    let Object::Tuple(fields) = id.as_ref() else {
        return None;
    };
    let (_, class) = class_name(fields.get(1)?)?;
    let Object::Unicode(key) = fields.get(2)? else {
        return None;
    };
    Some((
        key.clone(),
        StorageType::from_class(class).ok_or_else(|| class.to_string()),
    ))
}

/// Interprets a state-dict value as a tensor. `Ok(None)` for values that are not
/// tensors; an error for tensors we cannot read.
fn tensor_ref(value: &Object) -> std::result::Result<Option<TensorRef>, String> {
    let Object::Reduce { callable, args } = value else {
        return Ok(None);
    };
    let (callable, args) = match class_name(callable) {
        Some(("torch._utils", "_rebuild_parameter")) => match args.as_ref() {
            Object::Tuple(a) => match a.first() {
                Some(Object::Reduce { callable, args }) => (callable.as_ref(), args.as_ref()),
                _ => return Ok(None),
            },
            _ => return Ok(None),
        },
        _ => (callable.as_ref(), args.as_ref()),
    };
    if class_name(callable) != Some(("torch._utils", "_rebuild_tensor_v2")) {
        return Ok(None);
    }
    let Object::Tuple(a) = args else {
        return Err("tensor arguments are not a tuple".into());
    };
    let (key, ty) = a
        .first()
        .and_then(storage_id)
        .ok_or("tensor without a storage")?;
    let storage_type = ty.map_err(|class| format!("unsupported storage type {class}"))?;
    let offset = a.get(1).and_then(as_usize).ok_or("bad storage offset")?;
    let shape = a.get(2).and_then(as_usizes).ok_or("bad size")?;
    let stride = a.get(3).and_then(as_usizes).ok_or("bad stride")?;
    if shape.len() != stride.len() {
        return Err("size and stride differ in rank".into());
    }
    Ok(Some(TensorRef {
        storage_key: key,
        storage_type,
        offset,
        shape,
        stride,
    }))
}

/// The `state_dict` entries that are tensors, keys without a `module.` prefix.
fn state_dict(top: Object, source_name: &str) -> Result<Vec<(String, TensorRef)>> {
    let Object::Dict(entries) = top else {
        return Err(Error::input(
            source_name,
            "the checkpoint holds no dictionary (expected a dict with `state_dict`, or a state dict)",
        ));
    };
    let entries = match entries
        .iter()
        .position(|(k, _)| *k == Object::Unicode("state_dict".into()))
    {
        Some(i) => match entries.into_iter().nth(i).map(|(_, v)| v) {
            Some(Object::Dict(sd)) => sd,
            _ => {
                return Err(Error::input(
                    source_name,
                    "`state_dict` is not a dictionary",
                ))
            }
        },
        None => entries,
    };
    let mut out = vec![];
    for (k, v) in entries {
        let Object::Unicode(key) = k else { continue };
        match tensor_ref(&v) {
            Ok(Some(t)) => {
                let key = key.strip_prefix("module.").unwrap_or(&key).to_string();
                out.push((key, t));
            }
            Ok(None) => {}
            Err(why) => return Err(Error::input(source_name, format!("tensor `{key}`: {why}"))),
        }
    }
    if out.is_empty() {
        return Err(Error::input(source_name, "the state dict holds no tensors"));
    }
    Ok(out)
}

/// The largest tensor read from a checkpoint (the published network's largest
/// weight has 12.9 M elements).
const MAX_TENSOR_ELEMENTS: usize = 1 << 28;

/// A tensor's element count and the storage bytes it reaches, with checked
/// arithmetic (`None` on overflow): shapes, strides and offsets come from the file.
fn extent(t: &TensorRef) -> Option<(usize, usize)> {
    let numel = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))?;
    if numel == 0 {
        return Some((0, 0));
    }
    let last = t
        .shape
        .iter()
        .zip(&t.stride)
        .try_fold(t.offset, |acc, (&n, &s)| {
            acc.checked_add((n - 1).checked_mul(s)?)
        })?;
    let needed = last.checked_add(1)?.checked_mul(t.storage_type.size())?;
    Some((numel, needed))
}

/// Copies a (possibly strided) view out of a storage's bytes as f32.
fn materialize(t: &TensorRef, key: &str, storage: &[u8], source_name: &str) -> Result<RawTensor> {
    let size = t.storage_type.size();
    let (numel, needed) = extent(t).ok_or_else(|| {
        Error::input(
            source_name,
            format!(
                "tensor `{key}`: shape {:?} with strides {:?} at offset {} does not fit in memory",
                t.shape, t.stride, t.offset
            ),
        )
    })?;
    if numel > MAX_TENSOR_ELEMENTS {
        return Err(Error::input(
            source_name,
            format!(
                "tensor `{key}` has {numel} elements, more than the {MAX_TENSOR_ELEMENTS} a checkpoint tensor may have"
            ),
        ));
    }
    if needed > storage.len() {
        return Err(Error::input(
            source_name,
            format!(
                "tensor `{key}` reaches past the end of its storage ({} bytes); the file may be truncated",
                storage.len()
            ),
        ));
    }
    let mut data = Vec::with_capacity(numel);
    let mut idx = vec![0usize; t.shape.len()];
    for _ in 0..numel {
        let pos = t.offset + idx.iter().zip(&t.stride).map(|(i, s)| i * s).sum::<usize>();
        data.push(t.storage_type.value(&storage[pos * size..(pos + 1) * size]));
        for d in (0..idx.len()).rev() {
            idx[d] += 1;
            if idx[d] < t.shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(RawTensor::new(t.shape.clone(), data))
}

/// How many bytes of each storage its tensors reach: no more is read (a zip
/// bomb's entry inflates to gigabytes, a legacy file can claim any storage
/// size; a state dict needs what its shapes say).
fn storage_reach(refs: &[(String, TensorRef)]) -> HashMap<String, u64> {
    let mut reach: HashMap<String, usize> = HashMap::new();
    for (_, t) in refs {
        let needed = extent(t).map_or(usize::MAX, |(_, b)| b);
        let r = reach.entry(t.storage_key.clone()).or_default();
        *r = (*r).max(needed);
    }
    reach
        .into_iter()
        .map(|(k, v)| (k, v.min(MAX_TENSOR_ELEMENTS * 8) as u64))
        .collect()
}

fn read_zip<R: Read + Seek>(reader: R, source_name: &str) -> Result<TensorMap> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| {
        Error::input(
            source_name,
            format!("cannot read the checkpoint's zip archive ({e}); the file may be truncated"),
        )
    })?;
    let pkl = zip
        .file_names()
        .filter_map(|n| n.ok())
        .find(|n| n.ends_with("data.pkl"))
        .map(|n| n.into_owned())
        .ok_or_else(|| {
            Error::input(
                source_name,
                "zip archive without data.pkl: not a torch.save file",
            )
        })?;
    let prefix = pkl.strip_suffix("data.pkl").unwrap_or("").to_string();
    let top = {
        let entry = zip
            .by_name(&pkl)
            .map_err(|e| Error::input(source_name, format!("{pkl}: {e}")))?;
        parse_pickle(&mut BufReader::new(entry), "checkpoint", source_name)?
    };
    let refs = state_dict(top, source_name)?;
    let reach = storage_reach(&refs);
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    let mut map = TensorMap::new();
    for (key, t) in refs {
        if !storages.contains_key(&t.storage_key) {
            let name = format!("{prefix}data/{}", t.storage_key);
            let mut bytes = vec![];
            let limit = reach[&t.storage_key];
            zip.by_name(&name)
                .and_then(|f| f.take(limit).read_to_end(&mut bytes).map_err(Into::into))
                .map_err(|e| {
                    Error::input(
                        source_name,
                        format!("cannot read storage {name} of tensor `{key}` ({e}); the file may be truncated"),
                    )
                })?;
            storages.insert(t.storage_key.clone(), bytes);
        }
        let tensor = materialize(&t, &key, &storages[&t.storage_key], source_name)?;
        map.insert(key, tensor);
    }
    Ok(map)
}

/// Every storage a pickled object refers to, with its type (class name if unknown).
fn collect_storages(
    o: &Object,
    out: &mut HashMap<String, std::result::Result<StorageType, String>>,
) {
    if let Some((key, ty)) = storage_id(o) {
        out.insert(key, ty);
        return;
    }
    match o {
        Object::Tuple(v) | Object::List(v) => v.iter().for_each(|x| collect_storages(x, out)),
        Object::Dict(kv) => kv.iter().for_each(|(k, v)| {
            collect_storages(k, out);
            collect_storages(v, out)
        }),
        Object::Reduce { callable, args } | Object::Build { callable, args } => {
            collect_storages(callable, out);
            collect_storages(args, out)
        }
        Object::PersistentLoad(x) => collect_storages(x, out),
        _ => {}
    }
}

fn read_legacy<R: Read + Seek>(reader: R, source_name: &str) -> Result<TensorMap> {
    let mut r = BufReader::new(reader);
    let truncated = |what: String| {
        Error::input(
            source_name,
            format!("{what}: the file ends early (truncated legacy checkpoint)"),
        )
    };
    r.seek_relative(LEGACY_MAGIC.len() as i64)
        .map_err(|e| Error::input(source_name, e))?;
    parse_pickle(&mut r, "protocol version", source_name)?;
    let sys_info = parse_pickle(&mut r, "system info", source_name)?;
    if let Object::Dict(kv) = &sys_info {
        if kv.iter().any(|(k, v)| {
            *k == Object::Unicode("little_endian".into()) && *v == Object::Bool(false)
        }) {
            return Err(Error::input(
                source_name,
                "big-endian legacy checkpoints are not supported",
            ));
        }
    }
    let top = parse_pickle(&mut r, "checkpoint", source_name)?;
    let mut types = HashMap::new();
    collect_storages(&top, &mut types);
    let refs = state_dict(top, source_name)?;
    let keys = match parse_pickle(&mut r, "storage key list", source_name)? {
        Object::List(keys) => keys,
        _ => {
            return Err(Error::input(
                source_name,
                "the storage key list is not a list",
            ))
        }
    };
    let reach = storage_reach(&refs);
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    for key in keys {
        let Object::Unicode(key) = key else {
            return Err(Error::input(source_name, "a storage key is not a string"));
        };
        let mut numel = [0u8; 8];
        r.read_exact(&mut numel)
            .map_err(|_| truncated(format!("storage {key}")))?;
        let numel = u64::from_le_bytes(numel) as usize;
        let size = match types.get(&key) {
            Some(Ok(t)) => t.size(),
            Some(Err(class)) if !reach.contains_key(&key) => match class.as_str() {
                // Storages we never convert still have to be skipped over.
                "ShortStorage" | "HalfStorage" => 2,
                "CharStorage" | "BoolStorage" => 1,
                _ => {
                    return Err(Error::input(
                        source_name,
                        format!("storage {key} has unsupported type {class}"),
                    ))
                }
            },
            _ => {
                return Err(Error::input(
                    source_name,
                    format!("storage {key} is listed but never referenced"),
                ))
            }
        };
        let bytes = numel
            .checked_mul(size)
            .ok_or_else(|| Error::input(source_name, format!("storage {key} is too large")))?;
        // Keep what the tensors reach, skip the rest of the storage.
        let keep = reach.get(&key).map_or(0, |&r| r.min(bytes as u64));
        let mut buf = vec![];
        (&mut r)
            .take(keep)
            .read_to_end(&mut buf)
            .map_err(|e| Error::input(source_name, e))?;
        let skipped = std::io::copy(
            &mut (&mut r).take(bytes as u64 - keep),
            &mut std::io::sink(),
        )
        .map_err(|e| Error::input(source_name, e))?;
        if buf.len() as u64 + skipped != bytes as u64 {
            return Err(truncated(format!("storage {key}")));
        }
        if reach.contains_key(&key) {
            storages.insert(key, buf);
        }
    }
    let mut map = TensorMap::new();
    for (key, t) in refs {
        let storage = storages.get(&t.storage_key).ok_or_else(|| {
            Error::input(
                source_name,
                format!(
                    "tensor `{key}` refers to storage {} that the file does not hold",
                    t.storage_key
                ),
            )
        })?;
        let tensor = materialize(&t, &key, storage, source_name)?;
        map.insert(key, tensor);
    }
    Ok(map)
}
