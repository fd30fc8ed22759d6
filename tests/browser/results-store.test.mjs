// The page's result store and shard merge (www/results.js), in Node: the same module the page
// loads. The browser tests run them end to end; these check their edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResultStore, ShardMerge, sortIndices } from '../../www/results.js';

/** A record at `line` with ALTs of `alleles` ({status, probs?, message?}). */
function record(line, alleles) {
  return { line, chrom: 'chr1', pos: String(line * 10), id: `v${line}`, reference: 'A', alleles: alleles.map((a, k) => ({ alt: 'CGT'[k], ...a })) };
}
const ok = (d) => ({ status: 'ok', probs: [[0.5, 0.5], [0.5 + d, 0.5 - d / 2]] });

test('shards merge into input order whatever order their batches come in, a shard that ends early included', () => {
  const m = new ShardMerge(3);
  const out = [];
  out.push(...m.push(0, [record(1, []), record(4, [])]));
  assert.deepEqual(out, [], 'nothing is released while a shard has sent nothing');
  out.push(...m.push(1, [record(2, []), record(5, []), record(8, [])]));
  out.push(...m.end(2)); // a shard with no record at all
  assert.deepEqual(out.map((r) => r.line), [1, 2, 4]);
  out.push(...m.push(0, [record(7, [])]));
  out.push(...m.end(0));
  out.push(...m.end(1));
  assert.deepEqual(out.map((r) => r.line), [1, 2, 4, 5, 7, 8]);
});

test('a store past its in-memory limit keeps chunks as Blobs and gives the same rows, columns and order', async () => {
  const records = [];
  for (let i = 1; i <= 9000; i++) {
    records.push(i % 3 === 0
      ? record(i, [ok(i / 1e5), { status: 'ref_mismatch', probs: ok(1e-6).probs, message: `line ${i} REF differs` }])
      : record(i, [i % 7 === 0 ? { status: 'unknown_contig', message: `line ${i}` } : ok(i / 1e5)]));
  }
  const small = new ResultStore();
  const large = new ResultStore({ keepInMemory: 100 });
  for (let i = 0; i < records.length; i += 500) { small.add(records.slice(i, i + 500)); large.add(records.slice(i, i + 500)); }
  small.finish();
  large.finish();
  assert.equal(small.inMemory, true);
  assert.equal(large.inMemory, false);
  assert.equal(large.allRecords(), null);
  assert.ok(large.chunks.length >= 3 && large.chunks.every((c) => c.blob && !c.records));
  assert.equal(small.alleles, 12000);
  assert.equal(large.alleles, 12000);
  assert.deepEqual(small.allRecords(), records);
  const back = [];
  for await (const chunk of large.chunkRecords()) back.push(...chunk);
  assert.deepEqual(back, records, 'the Blobs give back every record, in input order');
  // Rows of any indices, in the order asked, from several chunks.
  const want = [11999, 0, 5000, 4095, 4096, 7];
  const rows = await large.rows(Uint32Array.from(want));
  const flat = records.flatMap((r) => r.alleles.map((a) => ({ r, a })));
  assert.deepEqual(rows, want.map((i) => flat[i]));
  // Filters and the default order (largest |ALT - REF| first, unscored last, ties in input order).
  assert.equal(large.filter('unknown_contig').length, flat.filter((x) => x.a.status === 'unknown_contig').length);
  const order = sortIndices(large.filter(''), large.effect.view(), -1);
  const effects = Array.from(order, (i) => large.effect.data[i]);
  const scored = effects.filter((v) => !Number.isNaN(v));
  assert.deepEqual(scored, [...scored].sort((a, b) => b - a));
  assert.ok(effects.slice(scored.length).every(Number.isNaN));
  const col = await large.column((rs) => rs.map((x) => Number(x.r.pos)));
  assert.deepEqual(Array.from(col), flat.map((x) => Number(x.r.pos)));
  // Messages: the first 20 kept, the rest counted.
  const withMessage = flat.filter((x) => x.a.message).length;
  assert.equal(large.messages.length, 20);
  assert.equal(large.moreMessages, withMessage - 20);
});
