// The page: wires the controls to the API in brain-resnet.js. No data leaves the page.
import { listModels, BrainResNet, sortGenomeFiles, loadCore, scoreNames, scoreValues } from './brain-resnet.js';
import { sortIndices, maxAbsDiff, KEEP_IN_MEMORY } from './results.js';
import { drawAnalyses, drawTrack, bedGraph, save } from './figures.js';
import { fmtGB } from './genome-store.js';
import './kept-genomes.js';

const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 50;
const state = {
  br: null, models: [], files: {}, run: null, store: null, view: new Uint32Array(0), viewKey: '', page: 0,
  sort: { key: 'effect', dir: -1 }, score: 'abs_diff', status: '', busy: false,
  annotations: null, // {text, name}
  runFiles: null, saturation: null, trackVariant: null,
  keepInMemory: undefined, // alleles held as objects (results.js KEEP_IN_MEMORY; tests lower it)
  savePicker: true, // large downloads through showSaveFilePicker where the browser has it
};
window.brainResNet = state; // for tests and the curious: everything stays in this tab

function message(text, kind = 'error') {
  const div = document.createElement('div');
  div.className = kind;
  div.textContent = text;
  $('messages').append(div);
}
function clearMessages() { $('messages').replaceChildren(); }
function fmtBytes(n) { return n > 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`; }
function setBusy(busy) {
  state.busy = busy;
  const ready = !!state.br && !busy;
  $('score-button').disabled = !ready;
  $('demo-button').disabled = !ready;
  $('quick-demo-button').disabled = !ready;
  $('chrx-demo-button').disabled = !ready;
  $('predict-button').disabled = !ready;
  $('cancel-button').disabled = !busy;
  $('model-select').disabled = busy;
  $('backend-select').disabled = busy;
}

function showBackend() {
  const b = state.br?.backend;
  $('backend-status').textContent = b ? `Runs on: ${b.text}` : '';
  $('backend-status').dataset.kind = b?.kind ?? '';
}

async function loadModel(model) {
  setBusy(true);
  state.br?.cancel();
  state.br = null;
  $('model-status').textContent = `loading ${model.name}…`;
  $('model-status').className = 'status';
  delete $('model-status').dataset.ready;
  showBackend();
  $('model-progress').hidden = false;
  $('model-note').textContent = model.description ?? '';
  $('model-card').hidden = !model.card;
  if (model.card) { $('model-card').href = model.card; $('model-card').textContent = `model card of ${model.name}`; }
  $('model-note').className = model.random_weights ? 'note warning' : 'note';
  try {
    state.br = await BrainResNet.load(model.url, {
      backend: $('backend-select').value,
      onProgress: (p) => {
        if (p.phase === 'download' && p.total) {
          $('model-progress').value = p.loaded / p.total;
          $('model-status').textContent = `downloading weights: ${fmtBytes(p.loaded)} of ${fmtBytes(p.total)}`;
        } else if (p.phase === 'start') {
          $('model-status').textContent = `starting ${p.total} worker${p.total > 1 ? 's' : ''}…`;
        }
      },
    });
    const m = state.br.manifest;
    $('model-status').textContent = `${m.name}: ${m.weights.dtype} weights, ${m.labels.length} profiles, ${m.genome_build}; ` +
      `${state.br.backend.kind === 'gpu' ? 'GPU' : `${state.br.size} CPU workers`}${state.br.fromCache ? '; weights from the browser cache' : ''}`;
    $('model-status').dataset.ready = 'true';
    showBackend();
    showResultsModel();
  } catch (e) {
    $('model-status').textContent = 'the model could not be loaded';
    $('model-status').className = 'status warning';
    message(`Model ${model.name}: ${e.message}`);
  } finally {
    $('model-progress').hidden = true;
    setBusy(false);
  }
}

function showFiles() {
  const f = state.files;
  const what = { vcf: 'VCF', fasta: 'genome', fai: 'index', gzi: 'bgzip index', regions: 'regions' };
  const names = Object.keys(what).filter((k) => f[k]).map((k) => `${what[k]}: ${f[k].name} (${fmtBytes(f[k].size)})`);
  $('chosen-files').textContent = names.length ? names.join(' · ') : 'No files chosen.';
}

function addFiles(list) {
  try {
    const chosen = sortGenomeFiles([...list]);
    // A new genome replaces the old one with its indexes (a stale .fai must not stay).
    if (chosen.fasta) { delete state.files.fai; delete state.files.gzi; }
    Object.assign(state.files, chosen);
  } catch (e) {
    message(e.message);
  }
  showFiles();
}

function progress(p) {
  $('progress-section').hidden = false;
  $('progress').value = p.fraction ?? 0;
  const left = p.secondsLeft == null ? '' : `, about ${Math.ceil(p.secondsLeft)} s left`;
  $('progress-text').textContent = `${p.done} variants, ${p.perSecond.toFixed(1)} variants/s${left}`;
}

/** The chosen VCF's samples, to pick whose alleles to score (hidden for a VCF without samples). */
async function showSamples() {
  const vcf = state.files.vcf;
  $('sample-label').hidden = true;
  if (!vcf || !state.br) return;
  try {
    const { samples, layout } = await state.br.vcfSamples(vcf);
    if (state.files.vcf !== vcf) return;
    if (layout) {
      message(`${vcf.name} is ${layout} raw data: its positions are GRCh37, so choose an hg19 genome (e.g. UCSC's hg19.2bit). Each called SNV that differs from the genome's base is scored for this person; nothing leaves this page.`, 'warn');
    }
    if (!samples.length) return;
    $('sample-select').replaceChildren(new Option('every ALT (no sample)', ''), ...samples.map((n) => new Option(n, n)));
    $('sample-label').hidden = false;
  } catch (e) {
    message(e.message);
  }
}

function indexProgress({ phase, read, total, name, bytes, created, reused }) {
  if (phase === 'kept') { keptMessage(name, bytes, created, reused); return; }
  $('progress-section').hidden = false;
  $('progress').value = total ? read / total : 0;
  $('progress-text').textContent = phase === 'unpack'
    ? `Unpacking ${name} (plain gzip) into this browser's private storage, once: ${fmtBytes(read)} of ${fmtBytes(total)} read`
    : phase === 'index'
      ? `Indexing the unpacked copy of ${name}: ${fmtBytes(read)} of ${fmtBytes(total)}`
      : `Indexing the genome FASTA (no .fai chosen): ${fmtBytes(read)} of ${fmtBytes(total)}`;
}

/** A plain-gzip genome: says that the page unpacked it (or reused its kept copy) here. */
function keptMessage(name, bytes, created, reused) {
  const size = fmtGB(bytes);
  message(reused
    ? `${name} is plain gzip (not bgzip): this run read the copy unpacked into this browser's private storage on ${new Date(created).toLocaleString()} (${size}), without unpacking it again; nothing left the machine.`
    : `${name} is plain gzip (not bgzip): the page unpacked it once into this browser's private storage (${size}); later runs reuse it; nothing left the machine.`, 'info');
}

/** A .fai built here for a FASTA chosen without one: offered for download (next time, choose it too). */
function offerIndex(chosen, used) {
  const link = $('download-fai');
  // A kept copy of a plain-gzip genome carries its own .fai (in this browser's storage).
  link.hidden = !(used.fai && !chosen.fai) || used.fasta !== chosen.fasta;
  if (link.hidden) return;
  if (link.href) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(used.fai);
  link.download = used.fai.name;
  link.textContent = `Save ${used.fai.name}`;
  message(`${chosen.fasta.name} came without its .fai: the page indexed it in one pass. Save ${used.fai.name} and choose it with the genome next time to skip the pass.`, 'warn');
}

async function score(files, { demo = null } = {}) {
  clearMessages();
  setBusy(true);
  // A new run: the last one's table, track and analyses go (they belong to other inputs).
  for (const id of ['results-section', 'track-section', 'analysis-section']) { $(id).hidden = true; delete $(id).dataset.ready; }
  state.run = null;
  state.saturation = null;
  const started = performance.now();
  try {
    const sample = $('sample-label').hidden ? null : ($('sample-select').value || null);
    const run = await state.br.scoreVcf(files, { rcMean: $('rc-mean').checked, sample, onProgress: progress, onIndexProgress: indexProgress, keepInMemory: state.keepInMemory });
    run.rcMean = $('rc-mean').checked;
    run.model = state.br.manifest.name;
    run.manifest = state.br.manifest; // the model that made these results (figure captions name it)
    state.run = run;
    state.runFiles = run.files;
    offerIndex(files, run.files);
    await loadCore(); // the score formulas of the table (loaded long before a run ends)
    await showRun(run);
    if (demo) remember(demo, (performance.now() - started) / 1000);
    $('summary').focus(); // keyboard and screen-reader users land on what the run found
    // Let the page paint the table before the figures (separate tasks, no long freeze).
    await new Promise((resolve) => setTimeout(resolve, 0));
    await analyses();
  } catch (e) {
    message(e.message === 'cancelled' ? 'Scoring cancelled.' : e.message, e.message === 'cancelled' ? 'warn' : 'error');
  } finally {
    setBusy(false);
  }
}

function showRun(run) {
  const s = run.summary;
  const counts = Object.entries(s.by_status).map(([k, v]) => `${k} ${v}`).join(', ');
  let outside = s.outside_regions ? ` ${s.outside_regions} records outside the regions were left out.` : '';
  if (s.not_carried || s.missing_calls) outside += ` Left out: ${s.not_carried} records where the sample carries no ALT (0/0), ${s.missing_calls} with a missing call (./.).`;
  $('summary').textContent = `Scored ${s.scored} of ${s.alleles} alleles from ${s.records} records in ${run.seconds.toFixed(1)} s on ${s.backend} (${counts}).${outside}`;
  showBackend();
  for (const note of s.notes ?? []) message(note, 'warn');
  for (const [vcf, genome] of s.aliases) message(`VCF contig ${vcf} was read as genome contig ${genome}.`, 'warn');
  if (s.unknown_contigs.length) {
    const genome = s.genome_contigs ?? [];
    const listed = genome.length > 30 ? `${genome.slice(0, 30).join(', ')} and ${genome.length - 30} more` : genome.join(', ');
    const rows = s.by_status.unknown_contig ?? 0;
    message(`${rows} allele${rows === 1 ? '' : 's'} on contigs the genome lacks: ${s.unknown_contigs.join(', ')}. The genome has ${listed || 'no contigs'}. `
      + `Is the genome the build the VCF was called on (${state.br.manifest.genome_build} for this model)? Filter the table by status unknown_contig to see the records.`, s.scored ? 'warn' : 'error');
  }
  if (s.alleles && !s.scored) message('No variant could be scored: see the status column.');
  const store = run.store;
  // Unknown contigs are said once above; the other alleles' messages one by one (the first 20).
  const shown = store.messages.filter((m) => m.status !== 'unknown_contig');
  for (const m of shown) message(`${m.status}: ${m.message}`, 'warn');
  const more = store.moreMessages + store.messages.length - shown.length - (s.by_status.unknown_contig ?? 0);
  if (more > 0) message(`${more} more messages: filter the table by status to see the records.`, 'warn');
  showResultsModel();
  state.store = store;
  state.viewKey = '';
  $('status-filter').replaceChildren(new Option('all', ''), ...[...store.statuses].sort().map((s) => new Option(s, s)));
  state.status = '';
  state.sort = { key: 'effect', dir: -1 };
  state.page = 0;
  $('results-section').hidden = false;
  $('progress-text').textContent += ' — done';
  return refresh().then(() => { $('results-section').dataset.ready = 'true'; });
}

/** The chosen score of profile `i` for every row (NaN where not scored), by the Rust core. */
function scoreColumn(rows, i) {
  const refs = new Float32Array(rows.length);
  const alts = new Float32Array(rows.length);
  rows.forEach((x, k) => { if (x.a.probs) { refs[k] = x.a.probs[0][i]; alts[k] = x.a.probs[1][i]; } });
  const values = scoreValues(state.score, refs, alts);
  rows.forEach((x, k) => { if (!x.a.probs) values[k] = NaN; });
  return values;
}

/** The chosen score of every profile for one row, or null where not scored. */
function scoreRow(row) {
  return row.a.probs ? scoreValues(state.score, row.a.probs[0], row.a.probs[1]) : null;
}

/** The sort key's value for every allele of the store (a pass over its chunks for a column). */
async function sortValues(key) {
  const store = state.store;
  if (key === 'effect') return store.effect.view();
  if (typeof key === 'number') return store.column((rows) => scoreColumn(rows, key));
  const val = (x) => (key === 'pos' ? Number(x.r.pos) : (key === 'alt' || key === 'status' ? x.a[key] : x.r[key]));
  const text = key !== 'pos';
  const values = await store.column((rows) => rows.map(val), text ? Array : Float64Array);
  if (!text) return values;
  // Text sorts as the rank of its value.
  const ranks = new Map([...new Set(values)].sort().map((v, k) => [v, k]));
  return Float64Array.from(values, (v) => ranks.get(v));
}

/** The rows in view (filtered and sorted), then the current page of the table. */
async function refresh() {
  const store = state.store;
  const { key, dir } = state.sort;
  const viewKey = `${state.status}|${key}|${dir}|${typeof key === 'number' ? state.score : ''}`;
  if (viewKey !== state.viewKey) {
    let view = store.filter(state.status);
    if (key !== null) view = sortIndices(view, await sortValues(key), dir);
    state.view = view;
    state.viewKey = viewKey;
  }
  const n = state.view.length;
  const pages = Math.max(1, Math.ceil(n / PAGE_SIZE));
  state.page = Math.min(state.page, pages - 1);
  renderTable(await store.rows(state.view.subarray(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE)));
  $('page-info').textContent = `${n} rows · page ${state.page + 1} of ${pages}`;
  $('prev-page').disabled = state.page === 0;
  $('next-page').disabled = state.page >= pages - 1;
}

function renderTable(rows) {
  const labels = state.br.labels;
  const cols = [['chrom', 'text'], ['pos', ''], ['id', 'text'], ['ref', 'text'], ['alt', 'text'], ['status', 'text']];
  const head = document.createElement('tr');
  // Each header is a button (Tab reaches it, Enter sorts); aria-sort says the order.
  const th = (text, key, cls) => {
    const el = document.createElement('th');
    el.scope = 'col';
    el.className = cls;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'sort';
    button.textContent = text;
    button.dataset.key = String(key);
    el.append(button);
    if (state.sort.key === key) {
      el.classList.add(state.sort.dir > 0 ? 'sorted-asc' : 'sorted-desc');
      el.setAttribute('aria-sort', state.sort.dir > 0 ? 'ascending' : 'descending');
    }
    el.onclick = () => {
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : (typeof key === 'number' || key === 'effect' ? -1 : 1) };
      state.page = 0;
      refresh().then(() => $('results-table').querySelector(`button.sort[data-key="${String(key)}"]`)?.focus());
    };
    head.append(el);
  };
  cols.forEach(([c, cls]) => th(c, c, cls));
  th('max |diff|', 'effect', '');
  head.lastChild.title = 'the largest change of probability, |ALT - REF|, over the profiles: rows are sorted by it first';
  labels.forEach((l, i) => th(`${state.score}:${l}`, i, ''));
  $('results-table').tHead.replaceChildren(head);
  const body = document.createDocumentFragment();
  const offset = state.page * PAGE_SIZE;
  for (const [k, x] of rows.entries()) {
    const tr = document.createElement('tr');
    tr.dataset.index = String(offset + k);
    tr.tabIndex = 0; // Tab reaches the rows; Enter or Space opens the track
    tr.title = 'click or Enter: allelic-effect track of this variant';
    const cells = [x.r.chrom, x.r.pos, x.r.id, x.r.reference, x.a.alt, x.a.status];
    cells.forEach((c, j) => {
      const td = document.createElement('td');
      td.textContent = c;
      td.className = cols[j][1];
      if (j === 5) td.classList.add(x.a.probs ? 'status-ok' : 'status-bad');
      tr.append(td);
    });
    const effect = document.createElement('td');
    effect.textContent = x.a.probs ? maxAbsDiff(x.a.probs).toPrecision(4) : '';
    tr.append(effect);
    const values = scoreRow(x);
    labels.forEach((_, i) => {
      const td = document.createElement('td');
      const v = values ? values[i] : NaN;
      td.textContent = Number.isNaN(v) ? '' : v.toPrecision(4);
      tr.append(td);
    });
    body.append(tr);
  }
  $('results-table').tBodies[0].replaceChildren(body);
}

/**
 * Saves the run's results as the CLI writes them. Written in parts (one per chunk of the run):
 * into a file chosen with showSaveFilePicker where the browser has it and the run is large
 * (nothing of it held in the page), else as a Blob of those parts.
 */
async function download(format) {
  const name = format === 'tsv' ? 'brain-resnet-scores.tsv' : 'brain-resnet-scores.vcf';
  const run = state.run;
  try {
    if (!run.store.inMemory && window.showSaveFilePicker && state.savePicker !== false) {
      const handle = await window.showSaveFilePicker({ suggestedName: name });
      const out = await handle.createWritable();
      const blob = await state.br.formatRun(run, format, { onProgress: (f) => { $('download-status').textContent = `writing ${name}: ${Math.round(100 * f)} %`; } });
      await blob.stream().pipeTo(out);
      $('download-status').textContent = `${name} written`;
      return;
    }
    save(await state.br.formatRun(run, format), name);
  } catch (e) {
    if (e.name !== 'AbortError') message(`Download: ${e.message}`);
  }
}

async function demoFiles({ quick = false, dir = 'demo' } = {}) {
  const get = async (name) => {
    const res = await fetch(new URL(`${dir}/${name}`, document.baseURI));
    if (!res.ok) throw new Error(`demo file ${name} is missing (${res.status})`);
    return new File([await res.blob()], name);
  };
  const index = dir === 'demo' ? await demoIndex() : await (await fetch(new URL(`${dir}/index.json`, document.baseURI))).json();
  const files = {};
  const chosen = quick ? { ...index.files, ...index.quick, variants: undefined } : index.files;
  for (const [k, name] of Object.entries(chosen)) {
    if (!name) continue;
    if (k === 'annotations') state.annotations = { text: await (await get(name)).text(), name };
    else files[k] = await get(name);
  }
  return files;
}

async function predict() {
  clearMessages();
  // A new run starts from a clean slate: the previous table never stays under a new error.
  $('predictions-section').hidden = true;
  $('predictions-table').tHead.replaceChildren();
  $('predictions-table').tBodies[0].replaceChildren();
  const text = $('fasta-text').value;
  const file = $('fasta-file').files[0];
  if (!text.trim() && !file) { message('Paste FASTA sequences or choose a FASTA file.'); return; }
  setBusy(true);
  try {
    // A chosen file is read in the worker by slices, never whole (a genome chosen by mistake
    // is refused record by record, with each record's length).
    const rows = text.trim() ? await state.br.predictFasta(text) : await state.br.predictFastaFile(file);
    showBackend(); // on the GPU: the batch size measured speed chose
    const labels = state.br.labels;
    const head = document.createElement('tr');
    ['name', ...labels].forEach((h) => { const el = document.createElement('th'); el.textContent = h; head.append(el); });
    const body = document.createDocumentFragment();
    // Each record's error (not predicted), warnings (IUPAC codes read as N) and notes (padding,
    // a sequence without a '>name' line), in record order; each message names its record.
    for (const r of rows) {
      if (r.error) message(r.error, 'error');
      for (const w of r.warnings ?? []) message(w, 'warn');
      for (const n of r.notes ?? []) message(n, 'info');
      if (r.error) continue;
      const tr = document.createElement('tr');
      [r.name, ...r.probs.map((p) => p.toPrecision(4))].forEach((c, j) => {
        const td = document.createElement('td'); td.textContent = c; if (j === 0) td.className = 'text'; tr.append(td);
      });
      body.append(tr);
    }
    const predicted = rows.filter((r) => !r.error).length;
    if (predicted) {
      $('predictions-table').tHead.replaceChildren(head);
      $('predictions-table').tBodies[0].replaceChildren(body);
      $('predictions-section').hidden = false;
    }
    if (predicted < rows.length) {
      message(`${rows.length - predicted} of ${rows.length} sequence${rows.length === 1 ? '' : 's'} not predicted (see above).`, 'error');
    }
  } catch (e) {
    message(e.message);
  } finally {
    setBusy(false);
  }
}

function wire() {
  $('annotations-input').onchange = async (e) => {
    const f = e.target.files[0];
    state.annotations = f ? { text: await f.text(), name: f.name } : null;
    if (state.annotations) $('chosen-files').textContent += ` · annotations: ${f.name}`;
  };
  $('analysis-run').onclick = () => analyses();
  $('analysis-exclude-mismatch').onchange = () => analyses();
  $('analysis-profile').onchange = () => analyses();
  $('track-profile').onchange = () => showTrack();
  $('download-bedgraph').onclick = () => {
    if (!state.saturation) return;
    const o = $('track-profile').selectedIndex;
    save(new Blob([bedGraph(state.saturation, state.trackMaxima, state.br.labels[o])], { type: 'text/plain' }), `brain-resnet-${state.trackVariant.id}-${state.br.labels[o]}.bedGraph`);
  };
  const openRow = (tr) => {
    if (tr?.dataset.index == null) return;
    state.store.rows([state.view[Number(tr.dataset.index)]]).then(([row]) => track(row));
  };
  $('results-table').tBodies[0].onclick = (e) => openRow(e.target.closest('tr'));
  $('results-table').tBodies[0].onkeydown = (e) => {
    if (e.key !== 'Enter' && e.key !== ' ') return;
    e.preventDefault();
    openRow(e.target.closest('tr'));
  };
  const tabs = [['tab-variants', 'variants-panel'], ['tab-sequences', 'sequences-panel']];
  const choose = (tab) => {
    for (const [t, p] of tabs) {
      const on = t === tab;
      $(t).classList.toggle('active', on);
      $(t).setAttribute('aria-selected', String(on));
      $(t).tabIndex = on ? 0 : -1;
      $(p).hidden = !on;
    }
  };
  for (const [tab] of tabs) {
    $(tab).onclick = () => choose(tab);
    $(tab).onkeydown = (e) => { // the tab list's arrow keys (WAI-ARIA tabs pattern)
      if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
      const other = tabs.find(([t]) => t !== tab)[0];
      choose(other);
      $(other).focus();
    };
  }
  $('vcf-input').onchange = (e) => { addFiles(e.target.files); showSamples(); };
  $('genome-input').onchange = (e) => addFiles(e.target.files);
  $('regions-input').onchange = (e) => { state.files.regions = e.target.files[0]; showFiles(); };
  const zone = $('drop-zone');
  zone.ondragover = (e) => { e.preventDefault(); zone.classList.add('over'); };
  zone.ondragleave = () => zone.classList.remove('over');
  zone.ondrop = (e) => { e.preventDefault(); zone.classList.remove('over'); addFiles(e.dataTransfer.files); showSamples(); };
  $('score-button').onclick = () => score(state.files);
  $('demo-button').onclick = async () => {
    try { await score(await demoFiles(), { demo: 'full' }); } catch (e) { message(e.message); }
  };
  $('quick-demo-button').onclick = async () => {
    try { await score(await demoFiles({ quick: true }), { demo: 'quick' }); } catch (e) { message(e.message); }
  };
  // The real-chromatin demo runs with the model it was made for (demo-chrx/index.json names it).
  $('chrx-demo-button').onclick = async () => {
    try {
      const index = await (await fetch(new URL('demo-chrx/index.json', document.baseURI))).json();
      const k = state.models.findIndex((m) => m.id === index.model);
      if (k < 0) throw new Error(`the real-chromatin demo needs the model ${index.model}, which this site does not list`);
      if (state.br?.manifest.name !== state.models[k].name) {
        $('model-select').selectedIndex = k;
        await loadModel(state.models[k]);
      }
      await score(await demoFiles({ dir: 'demo-chrx' }), { demo: 'chrx' });
    } catch (e) { message(e.message); }
  };
  $('download-analysis').onclick = () => {
    save(new Blob([$('analysis-json').textContent], { type: 'application/json' }), `brain-resnet-analysis-${$('analysis-profile').value}.json`);
  };
  $('analysis-top').oninput = () => checkTop();
  $('cancel-button').onclick = () => state.br?.cancel();
  $('predict-button').onclick = predict;
  $('score-select').onchange = (e) => { state.score = e.target.value; showScoreCaption(); if (state.store) refresh(); };
  $('status-filter').onchange = (e) => { state.status = e.target.value; state.page = 0; refresh(); };
  $('prev-page').onclick = () => { state.page--; refresh(); };
  $('next-page').onclick = () => { state.page++; refresh(); };
  $('download-tsv').onclick = () => download('tsv');
  $('download-vcf').onclick = () => download('vcf');
  $('model-select').onchange = (e) => loadModel(state.models[e.target.selectedIndex]);
  $('backend-select').onchange = () => loadModel(state.models[$('model-select').selectedIndex]);
}

async function analyses() {
  const labels = state.br.labels;
  if ($('analysis-profile').options.length !== labels.length) {
    $('analysis-profile').replaceChildren(...labels.map((l) => new Option(l, l)));
    $('track-profile').replaceChildren(...labels.map((l) => new Option(l, l)));
  }
  const profile = $('analysis-profile').value || labels[0];
  if (!checkTop()) return;
  const topInput = Number($('analysis-top').value);
  const excludeRefMismatch = $('analysis-exclude-mismatch').checked;
  if (!state.run.records) {
    // A run too large to hold as objects: the table pages over it, the analyses need all of it.
    $('analysis-section').hidden = false;
    $('figures').replaceChildren();
    $('analysis-counts').textContent = '';
    $('analysis-json').textContent = `The analyses and figures run in the page on up to ${KEEP_IN_MEMORY.toLocaleString('en')} alleles; this run has ${state.store.alleles.toLocaleString('en')}. `
      + 'Save the TSV and run `brain-resnet analyze --scores brain-resnet-scores.tsv --annotations FILE` (the same analyses, natively).';
    analysisTable(null);
    $('analysis-table').tBodies[0].rows[0].cells[2].textContent = $('analysis-json').textContent;
    $('analysis-details').hidden = false;
    $('analysis-section').dataset.ready = 'true';
    return;
  }
  try {
    let analysis = { profiles: [] };
    if (state.annotations) {
      analysis = await state.br.analyzeAll(state.run.records, state.annotations.text, topInput > 0 ? topInput : null, { excludeRefMismatch });
    }
    const current = analysis.profiles.find((p) => p.profile === profile);
    const scored = state.run.summary.scored;
    const top = current?.top ?? (topInput > 0 ? topInput : Math.max(1, Math.ceil(scored / 10)));
    $('analysis-json').textContent = current ? JSON.stringify(current, null, 1) : '';
    analysisTable(current);
    // Ranked and joined with the annotations by the Rust core, as the analyses see them.
    const rows = await state.br.joinedRows(state.run.records, state.annotations?.text ?? null, labels.indexOf(profile), { excludeRefMismatch });
    const mismatched = state.run.summary.by_status.ref_mismatch ?? 0;
    $('analysis-counts').textContent = `${rows.length} scored alleles ranked; ${mismatched} with status ref_mismatch (REF differs from the genome) ${
      excludeRefMismatch ? 'left out' : 'included'}.`;
    $('analysis-section').hidden = false;
    drawAnalyses($('figures'), { rows, records: state.run.records, analysis, labels, profile, top, model: state.run.manifest });
    $('analysis-section').dataset.ready = 'true';
  } catch (e) {
    message(`Analyses: ${e.message}`);
  }
}

async function track(row) {
  // One track at a time: a click while one computes is ignored (and says so).
  if (state.trackBusy) { $('track-status').textContent = 'A track is being computed: wait for it, then choose another row.'; return; }
  if (!row?.a.probs || !state.runFiles) { message('Only scored variants have an allelic-effect track.', 'warn'); return; }
  state.trackBusy = true;
  setBusy(true);
  const name = `${row.r.chrom}:${row.r.pos} ${row.r.reference}>${row.a.alt} (${row.r.id})`;
  $('track-section').hidden = false;
  delete $('track-section').dataset.ready;
  $('track-status').textContent = '';
  $('track-figures').replaceChildren();
  $('track-summary').textContent = '';
  $('track-title').textContent = `${name}: computing the mutants…`;
  $('track-progress').hidden = false;
  $('track-progress').value = 0;
  $('track-section').scrollIntoView({ block: 'start' }); // the track is drawn here, below the table
  try {
    state.saturation = await state.br.saturation(state.runFiles, row.r.chrom, Number(row.r.pos), {
      onProgress: ({ done, total }) => {
        $('track-progress').value = done / total;
        $('track-title').textContent = `${name}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')} mutants…`;
      },
    });
    state.trackVariant = { id: row.r.id, pos: Number(row.r.pos), row };
    if (!$('track-profile').value) $('track-profile').value = $('analysis-profile').value;
    $('track-title').textContent = name;
    showTrack();
    $('track-section').dataset.ready = 'true';
  } catch (e) {
    message(`Track: ${e.message}`);
  } finally {
    $('track-progress').hidden = true;
    state.trackBusy = false;
    setBusy(false);
  }
}

function showTrack() {
  if (!state.saturation) return;
  const o = Math.max(0, $('track-profile').selectedIndex);
  const { row } = state.trackVariant;
  const [ref, alt] = row.a.probs;
  const diff = scoreValues('diff', [ref[o]], [alt[o]])[0];
  $('track-summary').textContent = `${state.br.labels[o]}: REF window ${ref[o].toPrecision(4)}, ALT window ${alt[o].toPrecision(4)}, diff ${diff.toPrecision(4)}`;
  state.trackMaxima = drawTrack($('track-figures'), state.saturation, o, state.br.labels, state.trackVariant, { model: state.run?.manifest ?? state.br.manifest });
}

/** The Top N field: a whole number from 1 to the scored alleles, or empty (10 %); says what is wrong. */
function checkTop() {
  const input = $('analysis-top');
  const text = input.value.trim();
  const scored = state.run?.summary.scored ?? Infinity;
  const n = Number(text);
  let problem = '';
  if (text && !(Number.isInteger(n) && n >= 1)) problem = `Top N must be a whole number of variants (1 or more), not ${text}.`;
  else if (text && n > scored) problem = `Top N is ${n}, but only ${scored} alleles were scored: choose at most ${scored}.`;
  $('analysis-top-error').textContent = problem;
  input.setAttribute('aria-invalid', String(Boolean(problem)));
  return !problem;
}

const fmt = (x, digits = 3) => (x == null || Number.isNaN(x) ? '–' : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(1) : x.toFixed(digits));

/** The analyses of the chosen profile in words: one row each, the JSON behind "Details". */
function analysisTable(a) {
  const rows = [];
  if (!a) {
    rows.push(['–', 'The analyses compare the scores with what is known of the variants.', 'Choose an annotations TSV (with the VCF) to run them; the heatmap below needs none.']);
  } else {
    const e = a.enrichment, d = a.direction, c = a.constraint;
    if (e) rows.push(['Enrichment', `Are known functional variants (label 1) over-represented among the top ${a.top} by |diff|?`,
      `${e.hits} of the top ${a.top} are labelled functional: ${fmt(e.fold, 2)}× the rate in the rest (odds ratio ${fmt(e.odds_ratio, 2)}, 95 % CI ${fmt(e.odds_ratio_ci95[0], 2)}–${fmt(e.odds_ratio_ci95[1], 2)}; Fisher p = ${fmt(e.p_value)}).`]);
    if (d) rows.push(['Direction', 'Does the predicted change (log ratio) go the way of the measured allelic imbalance?',
      `Spearman ρ = ${fmt(d.spearman_rho)} over ${d.n} variants (p = ${fmt(d.p_value)}); the signs agree for ${(100 * d.sign_agreement).toFixed(0)} % of them.`]);
    if (c) rows.push(['Constraint', `Are the top ${a.top} more conserved (GERP) than the rest?`, `Mann–Whitney U = ${fmt(c.u, 0)}, p = ${fmt(c.p_value)}.`]);
    if (a.selection?.length) rows.push(['Selection', 'Are strong effects rarer in common variants (higher MAF)?',
      a.selection.map((b) => `MAF ${b.lo}–${b.hi}: mean |diff| ${fmt(b.mean)} (n ${b.n})`).join('; ') + '.']);
    if (!rows.length) rows.push(['–', '', 'The annotations lack the columns these analyses need (label, reads, gerp, maf).']);
  }
  $('analysis-table').tBodies[0].replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) { const td = document.createElement('td'); td.className = 'text'; td.textContent = c; tr.append(td); }
    return tr;
  }));
  $('analysis-details').hidden = !a;
}

/** Names the model that made the results on screen, and says so when another is chosen now. */
function showResultsModel() {
  const run = state.run;
  if (!run) return;
  const now = state.br?.manifest.name;
  const stale = now && now !== run.model;
  $('results-model').textContent = stale
    ? `These results were made by the model ${run.model}; the chosen model is now ${now}. Score again to use it.`
    : `Made by the model ${run.model}${run.model.startsWith('demo') ? ' (trained on synthetic data: for learning, not for biology)' : ''}.`;
  $('results-model').className = stale ? 'note warning' : 'note';
}

function showScoreCaption() {
  const info = scoreNames().find((x) => x.name === state.score);
  $('score-caption').textContent = info ? `${info.name}: ${info.description}. The table shows it for each profile; the downloads hold abs_diff and log_ratio.` : '';
}

let demoIndexCache = null;
function demoIndex() {
  demoIndexCache ??= fetch(new URL('demo/index.json', document.baseURI)).then((r) => {
    if (!r.ok) throw new Error(`demo/index.json is missing (${r.status})`);
    return r.json();
  });
  return demoIndexCache;
}

/** Seconds the last demo runs took in this tab: the times shown before the next ones. */
const demoSeconds = {};
function remember(demo, seconds) {
  demoSeconds[demo] = seconds;
  showDemoTimes();
}

async function showDemoTimes() {
  try {
    const index = await demoIndex();
    const time = (k, n) => {
      const here = demoSeconds[k];
      const typical = index.seconds?.[k];
      const est = here ?? typical;
      return `${k === 'quick' ? 'Quick' : 'Full'} demo: ${n.toLocaleString('en')} variants, ${est ? `about ${Math.max(1, Math.round(est))} s` : 'time unknown'}${here ? ' (as it took here)' : typical ? ' on a 2-core laptop' : ''}`;
    };
    $('demo-times').textContent = `${time('quick', index.quick?.variants ?? 0)}. ${time('full', index.variants ?? 0)}, then every analysis and figure.`;
    $('quick-demo-button').textContent = `Quick demo (${index.quick?.variants ?? '?'} variants)`;
    $('demo-button').textContent = `Full demo (${(index.variants ?? 0).toLocaleString('en')} variants)`;
    const names = [...new Set([...Object.values(index.files), index.quick?.vcf].filter(Boolean))];
    $('demo-files').replaceChildren(...names.flatMap((n, k) => {
      const a = document.createElement('a');
      a.href = new URL(`demo/${n}`, document.baseURI).href;
      a.download = n;
      a.textContent = n;
      return k ? [', ', a] : [a];
    }));
  } catch (e) {
    $('demo-times').textContent = `The demo files could not be listed: ${e.message}`;
  }
}

function showScores() {
  $('score-select').replaceChildren(...scoreNames().map(({ name, description }) => {
    const option = new Option(name, name, name === state.score, name === state.score);
    option.title = description;
    return option;
  }));
  showScoreCaption();
}

/**
 * The service worker (sw.js) keeps this site's files, so that after one visit the page loads
 * and scores offline. A rebuilt site installs itself on the next online visit; the page says
 * so, and the next load uses it.
 */
function offline() {
  if (!('serviceWorker' in navigator) || location.protocol === 'file:') {
    $('offline-status').textContent = 'This browser cannot keep the page for offline use (no service workers here).';
    return;
  }
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (hadController) message('A new version of this page was installed: reload the page to use it.', 'info');
  });
  navigator.serviceWorker.register('sw.js').then(async () => {
    await navigator.serviceWorker.ready;
    $('offline-status').textContent = 'Kept for offline use: after this visit the page opens and scores without a network (each model once it has been loaded here).';
    $('offline-status').dataset.ready = 'true';
  }, (e) => {
    $('offline-status').textContent = `The page could not be kept for offline use: ${e.message}`;
  });
}

async function main() {
  wire();
  offline();
  showDemoTimes();
  // The score definitions come from the Rust core (loaded beside the model list; the model waits for it).
  loadCore().then(showScores, (e) => message(`The WebAssembly core could not be loaded: ${e.message}`));
  try {
    state.models = await listModels();
  } catch (e) {
    $('model-status').textContent = 'no models found';
    message(e.message);
    return;
  }
  $('model-select').replaceChildren(...state.models.map((m) => new Option(`${m.name} (${m.dtype}, ${fmtBytes(m.bytes)})`)));
  if (state.models.length) await loadModel(state.models[0]);
}

main();
