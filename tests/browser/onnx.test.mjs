// scripts/onnx-export.mjs writes the same network as ours: the fixture model exported to
// ONNX and run by onnxruntime-web (its WebAssembly backend, here under Node: the same wasm
// the browser runs) gives the fixtures' expected probabilities within 1e-5, and the int8
// export (dequantized in JS, or kept int8 behind DequantizeLinear) gives our CLI's int8
// predictions within 1e-5, which proves the dequantization is our loader's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-web';
import { dist, fixtures, root } from './harness.mjs';
import { exportOnnx, readModelDir } from '../../scripts/onnx-export.mjs';

ort.env.wasm.numThreads = 1;

/** FASTA text -> [{name, seq}]. */
function readFasta(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('>')) out.push({ name: line.slice(1).trim().split(/\s/)[0], seq: '' });
    else if (out.length) out[out.length - 1].seq += line.trim();
  }
  return out;
}

/** One-hot [n, 4, window] as src/window.rs: AGCT, uppercased, others zero, right padding. */
function oneHot(seqs, window) {
  const x = new Float32Array(seqs.length * 4 * window);
  seqs.forEach((s, n) => {
    assert.ok(s.length <= window, 'sequence longer than the window');
    for (let i = 0; i < s.length; i++) {
      const c = 'AGCT'.indexOf(s[i].toUpperCase());
      if (c >= 0) x[(n * 4 + c) * window + i] = 1;
    }
  });
  return x;
}

function readTsv(text) {
  const [header, ...rows] = text.trim().split('\n').map((l) => l.split('\t'));
  return { labels: header.slice(1), rows: new Map(rows.map((r) => [r[0], r.slice(1).map(Number)])) };
}

async function runOnnx(onnxBytes, records, manifest) {
  const session = await ort.InferenceSession.create(onnxBytes);
  const window = manifest.architecture.window_length;
  const x = new ort.Tensor('float32', oneHot(records.map((r) => r.seq), window), [records.length, 4, window]);
  const { y } = await session.run({ x });
  assert.deepEqual(y.dims, [records.length, manifest.architecture.outputs]);
  await session.release();
  return records.map((r, i) => Array.from(y.data.subarray(i * y.dims[1], (i + 1) * y.dims[1])));
}

function maxDiff(got, expected, records) {
  let worst = 0;
  records.forEach((r, i) => {
    const e = expected.rows.get(r.name);
    assert.ok(e, `no expected row for ${r.name}`);
    assert.equal(got[i].length, e.length);
    got[i].forEach((v, j) => { worst = Math.max(worst, Math.abs(v - e[j])); });
  });
  return worst;
}

const records = readFasta(fs.readFileSync(path.join(fixtures, 'sequences.fa'), 'utf8'));

test('the ONNX export of the f32 fixture model gives the expected probabilities (1e-5)', async () => {
  const { manifest, weightsBytes } = readModelDir(path.join(dist, 'models', 'fixture-mini-random-f32'));
  const expected = readTsv(fs.readFileSync(path.join(fixtures, 'expected', 'sequences-mini.tsv'), 'utf8'));
  assert.deepEqual(expected.labels, manifest.labels);
  const got = await runOnnx(exportOnnx(manifest, weightsBytes), records, manifest);
  const worst = maxDiff(got, expected, records);
  console.log(`f32 fixture, onnxruntime-web vs expected/sequences-mini.tsv: max |diff| ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `max |diff| ${worst}`);
});

test('the ONNX export of the int8 fixture model gives our CLI\'s int8 predictions (1e-5 in f32; 1e-3 in our default int16 arithmetic), both int8 modes', async () => {
  const dir = path.join(dist, 'models', 'fixture-mini-random-int8');
  const cli = path.join(root, 'target', 'release', 'brain-resnet');
  // ONNX runs f32 on the dequantized weights: compare with our f32 arithmetic to 1e-5, and
  // with the int16 arithmetic our int8 models run in by default (src/model/qconv.rs) to 1e-3.
  const predict = (arithmetic) => readTsv(execFileSync(cli, ['predict', '--backend', 'cpu', '--model', dir, path.join(fixtures, 'sequences.fa')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, BRAIN_RESNET_ARITHMETIC: arithmetic } }));
  const f32 = predict('f32');
  const int16 = predict('int16');
  const { manifest, weightsBytes } = readModelDir(dir);
  for (const int8 of ['dequantize', 'qdq']) {
    const onnx = exportOnnx(manifest, weightsBytes, { int8 });
    const got = await runOnnx(onnx, records, manifest);
    const worst = maxDiff(got, f32, records);
    const worstInt16 = maxDiff(got, int16, records);
    console.log(`int8 fixture (--int8 ${int8}, ${onnx.length} bytes), onnxruntime-web vs brain-resnet predict: max |diff| ${worst.toExponential(2)} (f32), ${worstInt16.toExponential(2)} (int16)`);
    assert.ok(worst < 1e-5, `--int8 ${int8}: max |diff| ${worst}`);
    assert.ok(worstInt16 > 0 && worstInt16 < 1e-3, `--int8 ${int8}, int16 arithmetic: max |diff| ${worstInt16}`);
  }
});
