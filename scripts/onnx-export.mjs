#!/usr/bin/env node
// Writes an ONNX model (ModelProto, IR 8, opset 17) of one of our model directories
// (model.json + weights.safetensors), reproducing src/model/network.rs layer by layer, so
// other runtimes (onnxruntime-web in scripts/bench.mjs) run the SAME network and weights.
//
//   node scripts/onnx-export.mjs MODEL_DIR OUT.onnx [--int8 dequantize|qdq]
//
// Input `x`: float32 [batch, 4, window] (one-hot, AGCT), batch dynamic. Output `y`:
// float32 [batch, outputs], probabilities.
//
// Weights: f32 as stored; f16 widened to f32; int8 dequantized exactly as our Rust loader
// does (src/weights/quant.rs `dequantize_int8`: w = (q as f32) * scale[o], one f32 multiply,
// reproduced here with Math.fround). With `--int8 qdq` the int8 tensors stay int8 in the
// file and a DequantizeLinear (per output channel, zero point 0) turns them into f32 in
// the graph: a quarter of the bytes, the same f32 values ((q - 0) * scale, one f32 multiply).
//
// Protobuf is encoded by hand (the subset ONNX needs: varints, 32-bit floats,
// length-delimited fields); field numbers are those of onnx/onnx.proto. No npm package.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------- protobuf, by hand
const enc = new TextEncoder();

function varint(value) {
  // int64 as protobuf writes it: negative numbers as their 64-bit two's complement.
  let v = BigInt.asUintN(64, BigInt(value));
  const out = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}
const tag = (field, wire) => varint((field << 3) | wire);
/** A message under construction: a list of byte chunks. */
class Msg {
  constructor() { this.parts = []; this.size = 0; }
  push(b) { this.parts.push(b); this.size += b.length; return this; }
  int(field, v) { return this.push(tag(field, 0)).push(varint(v)); }
  float(field, v) { const b = Buffer.alloc(4); b.writeFloatLE(v); return this.push(tag(field, 5)).push(b); }
  bytes(field, data) {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.push(tag(field, 2)).push(varint(b.length)).push(b);
  }
  str(field, s) { return this.bytes(field, Buffer.from(enc.encode(s))); }
  msg(field, m) {
    this.push(tag(field, 2)).push(varint(m.size));
    for (const p of m.parts) this.push(p);
    return this;
  }
  packedInts(field, vs) { return this.bytes(field, Buffer.concat(vs.map(varint))); }
  toBuffer() { return Buffer.concat(this.parts, this.size); }
}

// onnx.proto enums
const FLOAT = 1;
const INT8 = 3;
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

function attribute(name, value) {
  const a = new Msg().str(1, name);
  if (Array.isArray(value)) { for (const v of value) a.int(8, v); a.int(20, ATTR_INTS); }
  else if (Number.isInteger(value)) a.int(3, value).int(20, ATTR_INT);
  else a.float(2, value).int(20, ATTR_FLOAT);
  return a;
}

function tensor(name, dims, dataType, typed) {
  const t = new Msg();
  for (const d of dims) t.int(1, d);
  return t.int(2, dataType).str(8, name).bytes(9, typed); // raw_data: little-endian
}

function valueInfo(name, elemType, dims) {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === 'string' ? new Msg().str(2, d) : new Msg().int(1, d));
  const tensorType = new Msg().int(1, elemType).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tensorType));
}

// ---------------------------------------------------------------- our model directory
/** Reads safetensors bytes: Map(name -> {dtype, shape, bytes (Uint8Array view)}). */
export function readSafetensors(buf) {
  const u8 = new Uint8Array(buf.buffer ?? buf, buf.byteOffset ?? 0, buf.byteLength);
  const n = Number(new DataView(u8.buffer, u8.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(u8.subarray(8, 8 + n)));
  const base = 8 + n;
  const out = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [s, e] = t.data_offsets;
    out.set(name, { dtype: t.dtype, shape: t.shape, bytes: u8.subarray(base + s, base + e) });
  }
  return out;
}

/** Copies little-endian bytes into a fresh, aligned typed array. */
function typedCopy(bytes, Type) {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return new Type(copy.buffer);
}

function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** src/weights/quant.rs `dequantize_int8`: row o of q times scale[o], as an f32 multiply. */
export function dequantizeInt8(q, scales) {
  const perOut = q.length / scales.length;
  const out = new Float32Array(q.length);
  for (let o = 0; o < scales.length; o++) {
    const s = scales[o];
    for (let i = o * perOut; i < (o + 1) * perOut; i++) out[i] = Math.fround(q[i] * s);
  }
  return out;
}

/**
 * The inference layers of `arch` (model.json "architecture") in forward order, as
 * src/architecture/graph.rs (`Config::layers()`): {name, kind: 'conv'|'linear', shape, padding}.
 */
export function layers(arch) {
  const out = [];
  const m = arch.meta;
  const r = arch.resnet;
  const conv = (name, i, o, k, padding) => out.push({ name, kind: 'conv', shape: [o, i, k], padding });
  const linear = (name, i, o) => out.push({ name, kind: 'linear', shape: [o, i] });
  let len = arch.window_length;
  let inCh = 4;
  m.channels.forEach((c, i) => {
    conv(`base_model.conv_net.${4 * i}`, inCh, c, m.kernel, 0);
    inCh = c;
    len = Math.floor(Math.max(len - (m.kernel - 1), 0) / m.pool);
  });
  linear('base_model.classifier.0', inCh * len, m.hidden);
  linear('base_model.classifier.2', m.hidden, m.outputs);
  const pad = Math.floor(r.kernel / 2);
  conv('seq_model.conv1', 4, r.stem, r.kernel, pad);
  let rlen = Math.floor(arch.window_length / r.pool);
  inCh = r.stem;
  r.stages.forEach((st, s) => {
    for (let b = 0; b < st.blocks; b++) {
      const p = `seq_model.layer${s + 1}.${b}`;
      conv(`${p}.conv1`, inCh, st.channels, r.kernel, pad);
      conv(`${p}.conv2`, st.channels, st.channels, r.kernel, pad);
      if (inCh !== st.channels) conv(`${p}.downsample.0`, inCh, st.channels, 1, 0);
      inCh = st.channels;
    }
    rlen = Math.floor(rlen / r.pool);
  });
  linear('seq_model.classifier.0', inCh * rlen, r.hidden);
  linear('seq_model.classifier.2', r.hidden, r.outputs);
  linear('seq_model.classifier.4', r.outputs, r.outputs);
  linear('classifier.0', m.outputs + r.outputs, arch.head_hidden);
  linear('classifier.2', arch.head_hidden, arch.outputs);
  return out;
}

/** Reads a model directory: {manifest, weightsBytes}. */
export function readModelDir(dir) {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  if (manifest.format !== 'brain-resnet-model') throw new Error(`${dir}/model.json: not a brain-resnet model`);
  if (manifest.input.channel_order !== 'AGCT') throw new Error(`${dir}/model.json: channel order must be AGCT`);
  const weightsBytes = fs.readFileSync(path.join(dir, manifest.weights.file));
  if (weightsBytes.length !== manifest.weights.bytes) throw new Error(`${dir}: weights file size differs from model.json`);
  return { manifest, weightsBytes };
}

/**
 * The ONNX model (bytes) of a manifest + safetensors bytes.
 * int8: 'dequantize' (f32 initializers, exactly our loader's values) or 'qdq'
 * (int8 initializers + DequantizeLinear per output channel).
 */
export function exportOnnx(manifest, weightsBytes, { int8 = 'dequantize' } = {}) {
  const arch = manifest.architecture;
  const dtype = manifest.weights.dtype;
  const st = readSafetensors(weightsBytes);
  const get = (key, shape, want) => {
    const t = st.get(key);
    if (!t) throw new Error(`weights: tensor ${key} is missing`);
    if (t.dtype !== want) throw new Error(`weights: ${key} is ${t.dtype}, expected ${want}`);
    if (JSON.stringify(t.shape) !== JSON.stringify(shape)) throw new Error(`weights: ${key} has shape [${t.shape}], expected [${shape}]`);
    return t.bytes;
  };

  const graph = new Msg();
  const nodes = [];
  const inits = [];
  let counter = 0;
  const fresh = (hint) => `${hint}_${counter++}`;
  const node = (op, inputs, attrs = {}, outName = null) => {
    const out = outName ?? fresh(op.toLowerCase());
    const n = new Msg();
    for (const i of inputs) n.str(1, i);
    n.str(2, out).str(3, fresh(`n_${op}`)).str(4, op);
    for (const [k, v] of Object.entries(attrs)) n.msg(5, attribute(k, v));
    nodes.push(n);
    return out;
  };

  // Initializers: weight (f32, or int8 + scale through DequantizeLinear) and bias.
  const params = new Map();
  for (const spec of layers(arch)) {
    const n = spec.shape[0];
    const wkey = `${spec.name}.weight`;
    let weightName = wkey;
    if (dtype === 'f32') {
      inits.push(tensor(wkey, spec.shape, FLOAT, typedCopy(get(wkey, spec.shape, 'F32'), Float32Array)));
    } else if (dtype === 'f16') {
      const h = typedCopy(get(wkey, spec.shape, 'F16'), Uint16Array);
      inits.push(tensor(wkey, spec.shape, FLOAT, Float32Array.from(h, halfToFloat)));
    } else if (dtype === 'int8') {
      const q = typedCopy(get(wkey, spec.shape, 'I8'), Int8Array);
      const scales = typedCopy(get(`${spec.name}.weight_scale`, [n], 'F32'), Float32Array);
      if (int8 === 'qdq') {
        inits.push(tensor(`${wkey}_q`, spec.shape, INT8, q));
        inits.push(tensor(`${wkey}_scale`, [n], FLOAT, scales));
        inits.push(tensor(`${wkey}_zero`, [n], INT8, new Int8Array(n)));
        weightName = node('DequantizeLinear', [`${wkey}_q`, `${wkey}_scale`, `${wkey}_zero`], { axis: 0 }, wkey);
      } else {
        inits.push(tensor(wkey, spec.shape, FLOAT, dequantizeInt8(q, scales)));
      }
    } else {
      throw new Error(`weights dtype ${dtype} is not supported`);
    }
    const bkey = `${spec.name}.bias`;
    inits.push(tensor(bkey, [n], FLOAT, typedCopy(get(bkey, [n], 'F32'), Float32Array)));
    params.set(spec.name, { ...spec, w: weightName, b: bkey });
  }

  // The forward pass of src/model/network.rs.
  const conv = (x, name) => {
    const p = params.get(name);
    return node('Conv', [x, p.w, p.b], {
      kernel_shape: [p.shape[2]], pads: [p.padding, p.padding], strides: [1], dilations: [1], group: 1,
    });
  };
  // Gemm: x [N, in] times W^T ([out, in] stored) plus bias: Linear.
  const linear = (x, name) => { const p = params.get(name); return node('Gemm', [x, p.w, p.b], { transB: 1 }); };
  const relu = (x) => node('Relu', [x]);
  const sigmoid = (x, out = null) => node('Sigmoid', [x], {}, out);
  // MaxPool with stride = kernel, no padding, floor: the remainder is dropped.
  const pool = (x, k) => node('MaxPool', [x], { kernel_shape: [k], strides: [k], pads: [0, 0], ceil_mode: 0 });
  const flatten = (x) => node('Flatten', [x], { axis: 1 });

  // Branch 1: meta-feature convolutions.
  let meta = 'x';
  arch.meta.channels.forEach((_, i) => { meta = pool(relu(conv(meta, `base_model.conv_net.${4 * i}`)), arch.meta.pool); });
  meta = sigmoid(linear(relu(linear(flatten(meta), 'base_model.classifier.0')), 'base_model.classifier.2'));
  // Branch 2: residual network; block = relu(conv2(relu(conv1(x)))) + shortcut(x).
  const rp = arch.resnet.pool;
  let r = pool(relu(conv('x', 'seq_model.conv1')), rp);
  arch.resnet.stages.forEach((stage, s) => {
    for (let b = 0; b < stage.blocks; b++) {
      const p = `seq_model.layer${s + 1}.${b}`;
      const y = relu(conv(relu(conv(r, `${p}.conv1`)), `${p}.conv2`));
      const sc = params.has(`${p}.downsample.0`) ? conv(r, `${p}.downsample.0`) : r;
      r = node('Add', [y, sc]);
    }
    r = pool(r, rp);
  });
  let h = relu(linear(flatten(r), 'seq_model.classifier.0'));
  h = relu(linear(h, 'seq_model.classifier.2'));
  const res = sigmoid(linear(h, 'seq_model.classifier.4'));
  // Head on concat(meta-features first, residual outputs).
  h = node('Concat', [meta, res], { axis: 1 });
  sigmoid(linear(relu(linear(h, 'classifier.0')), 'classifier.2'), 'y');

  for (const n of nodes) graph.msg(1, n);
  graph.str(2, manifest.name || 'brain-resnet');
  for (const t of inits) graph.msg(5, t);
  graph.str(10, `Brain-ResNet (${manifest.name}), exported from our model directory by scripts/onnx-export.mjs`);
  graph.msg(11, valueInfo('x', FLOAT, ['batch', 4, arch.window_length]));
  graph.msg(12, valueInfo('y', FLOAT, ['batch', arch.outputs]));

  const model = new Msg()
    .int(1, 8) // ir_version 8 (ONNX 1.13 / opset 17)
    .str(2, 'brain-resnet onnx-export.mjs')
    .str(3, '0.1.0')
    .msg(7, graph)
    .msg(8, new Msg().str(1, '').int(2, 17));
  return new Uint8Array(model.toBuffer());
}

/** Exports MODEL_DIR to OUT: returns {bytes, nodes}. */
export function exportModelDir(dir, out, options = {}) {
  const { manifest, weightsBytes } = readModelDir(dir);
  const onnx = exportOnnx(manifest, weightsBytes, options);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, onnx);
  return { bytes: onnx.length, manifest };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--int8');
  const int8 = i >= 0 ? args.splice(i, 2)[1] : 'dequantize';
  if (args.length !== 2 || !['dequantize', 'qdq'].includes(int8)) {
    console.error('usage: node scripts/onnx-export.mjs MODEL_DIR OUT.onnx [--int8 dequantize|qdq]');
    process.exit(2);
  }
  const { bytes } = exportModelDir(args[0], args[1], { int8 });
  console.error(`wrote ${args[1]} (${bytes} bytes)`);
}
