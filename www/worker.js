// One Web Worker = one model instance (WebAssembly). Requests come as
// {id, type, ...}; answers go back as {id, type: 'result' | 'error' | 'batch' | 'crash', ...}.
// 'crash': the WebAssembly instance aborted (a panic in the core); this worker is
// finished and the page replaces it.
// User files arrive as File objects and are read here, by slices (FileReaderSync).
import init, { Engine, format_results, genotype_layout, index_fasta, joined_rows, last_panic, parse_annotations, vcf_samples } from './pkg/brain_resnet.js';

let engine = null;
const ready = init().then((exports) => { self.wasmMemory = exports.memory; }); // memory: for the benchmarks' figures

function reply(id, type, payload) {
  postMessage({ id, type, ...payload });
}

self.onmessage = async (event) => {
  const m = event.data;
  try {
    await ready;
    switch (m.type) {
      case 'load':
        engine = new Engine(m.manifest, new Uint8Array(m.weights), m.sha256 ?? undefined);
        reply(m.id, 'result', { labels: engine.labels(), arithmetic: engine.arithmetic() });
        break;
      case 'predict':
        reply(m.id, 'result', { rows: await engine.predict_fasta(m.text), gpuBatch: engine.gpu_batch() ?? null });
        break;
      case 'predict-file': // a FASTA File, read by slices (never whole)
        reply(m.id, 'result', { rows: await engine.predict_fasta_file(m.file), gpuBatch: engine.gpu_batch() ?? null });
        break;
      case 'gpu':
        reply(m.id, 'result', {
          backend: await engine.init_gpu(new Uint8Array(m.weights), m.sha256 ?? undefined, m.adapter),
          gpuBatch: engine.gpu_batch() ?? null, // the batch size it runs at (from measured speed)
        });
        break;
      case 'gpu-parity': // browser tests: the GPU against the CPU (f32) at given batch sizes
        reply(m.id, 'result', { parity: await engine.gpu_parity(new Uint8Array(m.weights), m.text, Uint32Array.from(m.batches)) });
        break;
      case 'lose-gpu': // tests of the CPU fallback: a driver reset, on purpose
        engine.lose_gpu_device();
        reply(m.id, 'result', {});
        break;
      case 'score': {
        const summary = await engine.score_vcf({ vcf: m.vcf, fasta: m.fasta, fai: m.fai, gzi: m.gzi, regions: m.regions }, m.options,
          (batch) => reply(m.id, 'batch', { batch }));
        reply(m.id, 'result', { summary, gpuBatch: engine.gpu_batch() ?? null });
        break;
      }
      case 'analyze':
        reply(m.id, 'result', { analysis: engine.analyze_all({ records: m.records }, m.annotations, m.top ?? undefined, Boolean(m.excludeRefMismatch)) });
        break;
      case 'rows':
        reply(m.id, 'result', { rows: joined_rows({ records: m.records }, m.annotations ?? undefined, m.profile, Boolean(m.excludeRefMismatch)) });
        break;
      case 'index': // a plain FASTA without its .fai: one pass over the File's slices
        reply(m.id, 'result', { fai: index_fasta(m.file, (read, total) => reply(m.id, 'batch', { batch: { read, total } })) });
        break;
      case 'samples': // the sample names of a VCF's #CHROM line, or the layout of consumer raw data
      { // consumer raw data first: it is not a VCF, and the VCF reader would refuse it
        const layout = genotype_layout(m.file) ?? null;
        reply(m.id, 'result', { samples: layout ? [] : vcf_samples(m.file), layout });
      }
        break;
      case 'annotations':
        reply(m.id, 'result', { annotations: parse_annotations(m.text, m.name) });
        break;
      case 'saturation':
        reply(m.id, 'result', {
          saturation: await engine.saturation(m.fasta, m.fai ?? undefined, m.gzi ?? undefined, m.chrom, m.pos,
            (done, total) => reply(m.id, 'batch', { batch: { done, total } }), m.from ?? undefined, m.to ?? undefined),
        });
        break;
      case 'format':
        reply(m.id, 'result', { text: format_results(m.format, m.events, m.manifest, m.scores, Boolean(m.rcMean), m.columns ?? undefined, Boolean(m.continuing)) });
        break;
      default:
        throw new Error(`unknown request ${m.type}`);
    }
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) crashed(e);
    else reply(m.id, 'error', { message: String(e?.message ?? e) });
  }
};

// A panic in the core aborts the instance: inside a call it throws a RuntimeError, inside
// a running future (a scoring run) it is uncaught. Either way the page hears of it once,
// with the panic's message, and replaces this worker.
let reported = false;
function crashed(error) {
  if (reported) return;
  reported = true;
  let panic = null;
  try { panic = last_panic(); } catch { /* the instance may be unusable */ }
  postMessage({ id: null, type: 'crash', message: (panic ?? String(error?.message ?? error)).replace(/\s*\n\s*/g, ' ') });
}
self.addEventListener('error', (e) => {
  if (e.error instanceof WebAssembly.RuntimeError) { crashed(e.error); e.preventDefault(); }
});
self.addEventListener('unhandledrejection', (e) => {
  if (e.reason instanceof WebAssembly.RuntimeError) { crashed(e.reason); e.preventDefault(); }
});
