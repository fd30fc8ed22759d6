// A run's results, compact enough for a whole genome: records arrive in input order and are
// kept in chunks. Per allele only a few typed-array columns stay in memory (its chunk, its
// status, its largest |ALT - REF| over the profiles, for the default order); a chunk's records
// (with their probabilities) stay as objects only while the run is small, and otherwise live
// as JSON in a Blob (the browser keeps large Blobs outside the page's heap, on disk if need be)
// and are parsed again when the table, a download or a figure needs them.

/** Alleles above which chunks are kept as Blobs, not objects. */
export const KEEP_IN_MEMORY = 100_000;
/** Messages of alleles kept to show (the rest are counted). */
const MESSAGES = 20;
/** Alleles per chunk. */
const CHUNK = 4096;
/** Chunks kept parsed once they live in Blobs (a table page needs one or two). */
const CACHED = 4;

class Column {
  constructor(Type) { this.Type = Type; this.data = new Type(1024); this.length = 0; }
  push(v) {
    if (this.length === this.data.length) {
      const next = new this.Type(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view() { return this.data.subarray(0, this.length); }
}

export class ResultStore {
  /** `keepInMemory`: alleles up to which the records stay as objects (tests lower it). */
  constructor({ keepInMemory = KEEP_IN_MEMORY } = {}) {
    this.keepInMemory = keepInMemory;
    this.headers = [];
    this.statuses = []; // status names, indexed by the codes of `status`
    this.status = new Column(Uint8Array);
    this.effect = new Column(Float32Array); // max over profiles of |ALT - REF|; NaN unscored
    this.chunkOf = new Column(Uint32Array);
    this.chunks = []; // {firstAllele, alleles, records (or null), blob (or null)}
    this.open = []; // records of the chunk being filled
    this.openAlleles = 0;
    this.records = 0;
    this.cache = new Map(); // chunk index -> records, least recently used first
    this.inMemory = true;
    this.messages = []; // the first MESSAGES {status, message} of alleles not scored cleanly
    this.moreMessages = 0; // and how many more there were
  }

  get alleles() { return this.status.length; }

  /** Appends records (in input order). */
  add(records) {
    for (const r of records) {
      this.records++;
      for (const a of r.alleles) {
        let code = this.statuses.indexOf(a.status);
        if (code < 0) { code = this.statuses.length; this.statuses.push(a.status); }
        this.status.push(code);
        this.effect.push(a.probs ? maxAbsDiff(a.probs) : NaN);
        this.chunkOf.push(this.chunks.length);
        if (a.message) {
          if (this.messages.length < MESSAGES) this.messages.push({ status: a.status, message: a.message });
          else this.moreMessages++;
        }
      }
      this.open.push(r);
      this.openAlleles += r.alleles.length;
      if (this.openAlleles >= CHUNK) this.#seal();
    }
  }

  /** Ends the run: the last chunk is sealed. */
  finish() { if (this.open.length) this.#seal(); }

  #seal() {
    const firstAllele = this.alleles - this.openAlleles;
    this.chunks.push({ firstAllele, alleles: this.openAlleles, records: this.open, blob: null });
    this.open = [];
    this.openAlleles = 0;
    if (this.inMemory && this.alleles > this.keepInMemory) {
      this.inMemory = false;
      for (const c of this.chunks) this.#toBlob(c);
    } else if (!this.inMemory) {
      this.#toBlob(this.chunks[this.chunks.length - 1]);
    }
  }

  #toBlob(c) {
    if (c.blob) return;
    c.blob = new Blob([JSON.stringify(c.records)], { type: 'application/json' });
    c.records = null;
  }

  /** The records of chunk `k`. */
  async chunk(k) {
    const c = this.chunks[k];
    if (c.records) return c.records;
    if (this.cache.has(k)) {
      const records = this.cache.get(k);
      this.cache.delete(k);
      this.cache.set(k, records);
      return records;
    }
    const records = JSON.parse(await c.blob.text());
    this.cache.set(k, records);
    if (this.cache.size > CACHED) this.cache.delete(this.cache.keys().next().value);
    return records;
  }

  /** Every record, in input order, one chunk at a time: `for await (const records of store.chunks())`. */
  async *chunkRecords() {
    for (let k = 0; k < this.chunks.length; k++) yield await this.chunk(k);
  }

  /** All records as one array, for runs kept in memory (null otherwise: too large to hold). */
  allRecords() {
    if (!this.inMemory) return null;
    return [...this.chunks.flatMap((c) => c.records), ...this.open];
  }

  /** The rows `{r, a}` of alleles `indices` (any order; answered in that order). */
  async rows(indices) {
    const out = new Array(indices.length);
    const byChunk = new Map();
    indices.forEach((i, k) => {
      const c = this.chunkOf.data[i];
      if (!byChunk.has(c)) byChunk.set(c, []);
      byChunk.get(c).push([i, k]);
    });
    for (const [c, wanted] of byChunk) {
      const records = await this.chunk(c);
      const alleles = [];
      for (const r of records) for (const a of r.alleles) alleles.push({ r, a });
      for (const [i, k] of wanted) out[k] = alleles[i - this.chunks[c].firstAllele];
    }
    return out;
  }

  /**
   * A value for every allele, in input order (one pass over the chunks): `f(rows)` gives the
   * values of one chunk's rows `{r, a}`. An array of `Type` (Float64Array, or Array for text).
   */
  async column(f, Type = Float64Array) {
    const out = new Type(this.alleles);
    let i = 0;
    for await (const records of this.chunkRecords()) {
      const rows = [];
      for (const r of records) for (const a of r.alleles) rows.push({ r, a });
      const values = f(rows);
      for (let k = 0; k < values.length; k++) out[i++] = values[k];
    }
    return out;
  }

  /** Allele indices whose status is `status` (all when empty). */
  filter(status) {
    const n = this.alleles;
    if (!status) return Uint32Array.from({ length: n }, (_, i) => i);
    const code = this.statuses.indexOf(status);
    const st = this.status.data;
    let count = 0;
    for (let i = 0; i < n; i++) if (st[i] === code) count++;
    const out = new Uint32Array(count);
    for (let i = 0, k = 0; i < n; i++) if (st[i] === code) out[k++] = i;
    return out;
  }
}

/** The largest |ALT - REF| over the profiles of an allele's probabilities [ref, alt]. */
export function maxAbsDiff([ref, alt]) {
  let m = 0;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(alt[i] - ref[i]));
  return m;
}

/**
 * Sorts allele indices by `values[i]` (`dir` 1 ascending, -1 descending); NaN (unscored) last,
 * ties and NaNs in input order. Returns a new Uint32Array.
 */
export function sortIndices(indices, values, dir) {
  const out = Uint32Array.from(indices);
  out.sort((i, j) => {
    const a = values[i], b = values[j];
    const an = Number.isNaN(a), bn = Number.isNaN(b);
    if (an || bn) return an - bn || i - j;
    return a === b ? i - j : (a < b ? -dir : dir);
  });
  return out;
}

/**
 * Merges shards' records into input order. Each shard's records come in increasing line
 * order; a record is released once every unfinished shard has sent one at or past it.
 * `push(k, records)` and `end(k)` return the records now in order.
 */
export class ShardMerge {
  constructor(n) {
    this.queues = Array.from({ length: n }, () => []);
    this.heads = new Array(n).fill(0);
    this.ended = new Array(n).fill(false);
  }

  push(k, records) { this.queues[k].push(...records); return this.#release(); }

  end(k) { this.ended[k] = true; return this.#release(); }

  #release() {
    const out = [];
    for (;;) {
      let best = -1;
      let waiting = false;
      for (let k = 0; k < this.queues.length; k++) {
        const q = this.queues[k];
        if (this.heads[k] < q.length) {
          if (best < 0 || q[this.heads[k]].line < this.queues[best][this.heads[best]].line) best = k;
        } else if (!this.ended[k]) waiting = true;
      }
      if (best < 0 || waiting) break;
      out.push(this.queues[best][this.heads[best]++]);
    }
    for (let k = 0; k < this.queues.length; k++) {
      if (this.heads[k] > 4096) { this.queues[k] = this.queues[k].slice(this.heads[k]); this.heads[k] = 0; }
    }
    return out;
  }
}
