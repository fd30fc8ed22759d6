// Figures of the paper's analyses and the allelic-effect track, drawn with
// Observable Plot (vendored in vendor/, with d3). Each figure can be saved as SVG and PNG,
// made in the page (no upload). The rows they draw come ranked and joined with the
// annotations by the Rust core (BrainResNet.joinedRows), and every score by its formulas.
import { scoreValues } from './brain-resnet.js';

const Plot = globalThis.Plot;
const d3 = globalThis.d3;

/** Saves `blob` as the file `name` (a local blob: URL, never the network): every download of the page. */
export function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function svgOf(node) {
  const svg = node.tagName.toLowerCase() === 'svg' ? node : node.querySelector('svg');
  const clone = svg.cloneNode(true);
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  return { svg, text: new XMLSerializer().serializeToString(clone) };
}

export async function svgToPng(svgText, width, height, scale = 2) {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svgText], { type: 'image/svg+xml' }));
  try {
    await new Promise((resolve, reject) => { img.onload = resolve; img.onerror = () => reject(new Error('the figure could not be rendered')); img.src = url; });
    const canvas = document.createElement('canvas');
    canvas.width = width * scale;
    canvas.height = height * scale;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Appends a titled figure with SVG and PNG downloads to `parent`. */
export function figure(parent, id, title, node, note = '') {
  const box = document.createElement('div');
  box.className = 'figure';
  box.id = `figure-${id}`;
  const h = document.createElement('h3');
  h.textContent = title;
  box.append(h);
  if (note) { const p = document.createElement('p'); p.className = 'note'; p.textContent = note; box.append(p); }
  box.append(node);
  const actions = document.createElement('div');
  actions.className = 'figure-actions';
  const svgButton = document.createElement('button');
  svgButton.type = 'button';
  svgButton.textContent = 'SVG';
  svgButton.className = 'save-svg';
  svgButton.onclick = () => save(new Blob([svgOf(node).text], { type: 'image/svg+xml' }), `${id}.svg`);
  const pngButton = document.createElement('button');
  pngButton.type = 'button';
  pngButton.textContent = 'PNG';
  pngButton.className = 'save-png';
  pngButton.onclick = async () => {
    const { svg, text } = svgOf(node);
    const box2 = svg.getBoundingClientRect();
    save(await svgToPng(text, Math.ceil(box2.width), Math.ceil(box2.height)), `${id}.png`);
  };
  actions.append(svgButton, pngButton);
  box.append(actions);
  parent.append(box);
  return box;
}

function skipped(parent, id, title, why) {
  const box = document.createElement('div');
  box.className = 'figure skipped';
  box.id = `figure-${id}`;
  box.innerHTML = '<h3></h3><p class="note"></p>';
  box.querySelector('h3').textContent = title;
  box.querySelector('p').textContent = why;
  parent.append(box);
}

/** The `k` items with the largest `key`, largest first, in one pass (no sort of all rows:
 * the page must stay responsive with 100,000 variants). */
function largest(items, k, key) {
  const best = [];
  for (const item of items) {
    const v = key(item);
    if (best.length === k && v <= best[k - 1][0]) continue;
    let i = best.length;
    while (i > 0 && best[i - 1][0] < v) i--;
    best.splice(i, 0, [v, item]);
    if (best.length > k) best.pop();
  }
  return best.map((b) => b[1]);
}

/**
 * The `k` rows with the largest effect on any profile (max |alt - ref|), largest first, with
 * their effects on every profile: [{row, diff: Float64Array(labels)}]. Computed in chunks
 * of rows, by the Rust core's `diff`.
 */
function largestEffects(rows, records, n, k) {
  const chunk = 4096;
  const refs = new Float32Array(chunk * n);
  const alts = new Float32Array(chunk * n);
  const candidates = [];
  for (let at = 0; at < rows.length; at += chunk) {
    const part = rows.slice(at, at + chunk);
    part.forEach((r, j) => {
      const [ref, alt] = records[r.record].alleles[r.allele].probs;
      refs.set(ref, j * n);
      alts.set(alt, j * n);
    });
    const diff = scoreValues('diff', refs.subarray(0, part.length * n), alts.subarray(0, part.length * n));
    const best = largest(part.map((row, j) => ({ row, diff: diff.slice(j * n, (j + 1) * n) })), k, (c) => d3.max(c.diff, Math.abs));
    candidates.push(...best);
  }
  return largest(candidates, k, (c) => d3.max(c.diff, Math.abs));
}

/**
 * Draws every analysis figure into `parent` (cleared first). `rows`: BrainResNet.joinedRows
 * of `records` for `profile` (rank order, annotations joined).
 */
export function drawAnalyses(parent, { rows, records, analysis, labels, profile, top }) {
  parent.replaceChildren();
  const width = Math.min(1000, parent.clientWidth || 900);
  const byProfile = analysis.profiles;
  const current = byProfile.find((p) => p.profile === profile);

  // 1. Enrichment per profile, odds ratio with 95 % CI.
  const enr = byProfile.filter((p) => p.enrichment).map((p) => ({
    profile: p.profile,
    or: p.enrichment.odds_ratio ?? Infinity,
    lo: p.enrichment.odds_ratio_ci95[0],
    hi: p.enrichment.odds_ratio_ci95[1],
    fold: p.enrichment.fold,
    p: p.enrichment.p_value,
  }));
  if (enr.length) {
    const finite = enr.map((e) => ({ ...e, or: Number.isFinite(e.or) ? e.or : e.hi }));
    figure(parent, 'enrichment', `Enrichment of labelled variants in the top ${top} by abs_diff, per profile`, Plot.plot({
      width, height: 40 + 16 * labels.length, marginLeft: 120,
      x: { type: 'log', label: 'odds ratio (95 % CI)', grid: true },
      y: { domain: labels, label: null },
      marks: [
        Plot.ruleX([1], { stroke: '#999' }),
        Plot.ruleY(finite, { y: 'profile', x1: 'lo', x2: 'hi', stroke: '#4060c0' }),
        Plot.dot(finite, { y: 'profile', x: 'or', fill: (d) => (d.profile === profile ? '#c03030' : '#4060c0'), title: (d) => `${d.profile}: OR ${d.or.toFixed(2)}, fold ${d.fold.toFixed(2)}, p ${d.p.toExponential(2)}` }),
      ],
    }));
  } else skipped(parent, 'enrichment', 'Enrichment per profile', 'needs a `label` column in the annotations');

  // 2. Heatmap: variants x profiles (diff), the 40 variants with the largest effect.
  const topRows = largestEffects(rows, records, labels.length, 40);
  const cells = topRows.flatMap(({ row: r, diff }) => Array.from(diff, (v, i) => ({ variant: `${r.id} ${r.alt}`, profile: labels[i], v })));
  const m = d3.max(cells, (c) => Math.abs(c.v)) || 1;
  figure(parent, 'heatmap', 'Predicted effects (alt - ref) of the variants with the largest effects, x 31 profiles', Plot.plot({
    width, height: 60 + 14 * topRows.length, marginLeft: 140, marginBottom: 110,
    x: { domain: labels, tickRotate: -60, label: null },
    y: { domain: topRows.map(({ row: r }) => `${r.id} ${r.alt}`), label: null },
    color: { type: 'diverging', scheme: 'BuRd', domain: [-m, m], legend: true, label: 'alt - ref' },
    marks: [Plot.cell(cells, { x: 'profile', y: 'variant', fill: 'v', title: (c) => `${c.variant} ${c.profile}: ${c.v.toPrecision(3)}` })],
  }));

  // 3. Locus view: p-value, PIP and predicted effect along the coordinate (densest contig).
  const withLocus = rows.filter((r) => r.ann && (r.ann.p_value != null || r.ann.pip != null));
  if (withLocus.length) {
    const chrom = d3.greatest(d3.rollups(withLocus, (v) => v.length, (r) => r.chrom), (d) => d[1])[0];
    const here = rows.filter((r) => r.chrom === chrom);
    const panel = (y, label, data) => Plot.plot({
      width, height: 140, marginLeft: 60, x: { label: `${chrom} position`, domain: d3.extent(here, (r) => r.pos) }, y: { label, grid: true },
      marks: [Plot.dot(data, { x: 'pos', y, r: 2.5, fill: '#4060c0', title: (r) => r.id })],
    });
    const box = document.createElement('div');
    box.append(
      panel((r) => -Math.log10(r.ann.p_value), '−log10 p', here.filter((r) => r.ann?.p_value > 0)),
      panel((r) => r.ann.pip, 'PIP', here.filter((r) => r.ann?.pip != null)),
      panel('abs_diff', `abs_diff (${profile})`, here),
    );
    figure(parent, 'locus', `Locus view of ${chrom}: association, fine-mapping and predicted effect`, box);
  } else skipped(parent, 'locus', 'Locus view', 'needs `p_value` or `pip` in the annotations');

  // 4. Observed vs predicted allelic imbalance.
  const imb = rows.filter((r) => r.imbalance != null && r.log_ratio != null)
    .map((r) => ({ id: r.id, observed: r.imbalance, predicted: r.log_ratio }));
  if (imb.length && current?.direction) {
    const d = current.direction;
    figure(parent, 'imbalance', `Observed vs predicted allelic imbalance (${profile}): Spearman rho ${d.spearman_rho.toFixed(3)}, p ${d.p_value.toExponential(2)}, same sign ${(100 * d.sign_agreement).toFixed(1)} %`, Plot.plot({
      width, height: 360, grid: true,
      x: { label: 'predicted ln(ref/alt) (log_ratio)' }, y: { label: 'observed ln(ref reads / alt reads)' },
      marks: [Plot.ruleX([0]), Plot.ruleY([0]), Plot.dot(imb, { x: 'predicted', y: 'observed', r: 2.5, fill: '#4060c0', title: 'id' }), Plot.linearRegressionY(imb, { x: 'predicted', y: 'observed', stroke: '#c03030' })],
    }));
  } else skipped(parent, 'imbalance', 'Observed vs predicted allelic imbalance', 'needs `ref_reads` and `alt_reads` in the annotations');

  // 5. GERP of the top N vs the rest.
  const gerp = rows.map((r) => ({ group: r.rank < top ? `top ${top}` : 'rest', gerp: r.ann?.gerp })).filter((g) => g.gerp != null);
  if (gerp.length && current?.constraint) {
    figure(parent, 'gerp', `Constraint (GERP) of the top ${top} by abs_diff vs the rest (${profile}): rank-sum p ${current.constraint.p_value.toExponential(2)}`, Plot.plot({
      width: Math.min(width, 500), height: 320, marginLeft: 50, grid: true,
      x: { label: null, domain: [`top ${top}`, 'rest'] }, y: { label: 'GERP' },
      marks: [Plot.boxY(gerp, { x: 'group', y: 'gerp', fill: '#c8d4f4' })],
    }));
  } else skipped(parent, 'gerp', 'Constraint (GERP)', 'needs `gerp` in the annotations');

  // 6. MAF by score bin with SEM.
  if (current?.selection) {
    const bins = current.selection.filter((b) => b.n > 0).map((b) => ({ ...b, bin: `[${b.lo}, ${b.hi}${b.hi === 1 ? ']' : ')'}`, lo_v: b.mean - (b.sem || 0), hi_v: b.mean + (b.sem || 0) }));
    figure(parent, 'maf', `Mean minor allele frequency by abs_diff bin (${profile}), ± SEM`, Plot.plot({
      width: Math.min(width, 560), height: 320, marginLeft: 50, grid: true,
      x: { label: `abs_diff (${profile})`, domain: bins.map((b) => b.bin) }, y: { label: 'mean MAF' },
      marks: [Plot.ruleX(bins, { x: 'bin', y1: 'lo_v', y2: 'hi_v', stroke: '#4060c0' }), Plot.dot(bins, { x: 'bin', y: 'mean', fill: '#4060c0', r: 4, title: (b) => `n ${b.n}` }), Plot.text(bins, { x: 'bin', y: 'hi_v', text: (b) => `n=${b.n}`, dy: -8 })],
    }));
  } else skipped(parent, 'maf', 'MAF by score bin', 'needs `maf` in the annotations');
}

/** Allelic-effect track from a saturation result, for profile index `o`. */
export function drawTrack(parent, sat, o, labels, variant) {
  parent.replaceChildren();
  const bases = 'ACGT';
  const cells = [];
  const maxima = [];
  for (let p = 0; p < sat.window; p++) {
    let best = 0;
    for (let b = 0; b < 4; b++) {
      const v = sat.delta[(p * 4 + b) * sat.outputs + o];
      cells.push({ pos: sat.start + p + 1, base: bases[b], v });
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    maxima.push({ pos: sat.start + p + 1, v: best });
  }
  const m = d3.max(cells, (c) => Math.abs(c.v)) || 1;
  const width = Math.min(1100, parent.clientWidth || 1000);
  const x = { label: `${sat.contig} position (1-based)`, domain: [sat.start + 1, sat.start + sat.window] };
  const marks = variant ? [Plot.ruleX([variant.pos], { stroke: '#000', strokeDasharray: '3,3' })] : [];
  figure(parent, 'track-heat', `Per-base effect of every substitution on ${labels[o]} (mutant − reference)`, Plot.plot({
    width, height: 150, marginLeft: 40, x, y: { domain: [...bases], label: null },
    color: { type: 'diverging', scheme: 'BuRd', domain: [-m, m], legend: true, label: 'Δ probability' },
    marks: [Plot.barX(cells, { x1: (c) => c.pos - 0.5, x2: (c) => c.pos + 0.5, y: 'base', fill: 'v', inset: 0 }), ...marks],
  }));
  figure(parent, 'track-max', `Largest change per position on ${labels[o]}`, Plot.plot({
    width, height: 180, marginLeft: 60, x, y: { label: 'Δ probability', grid: true },
    marks: [Plot.areaY(maxima, { x: 'pos', y: 'v', fill: '#4060c0', fillOpacity: 0.5 }), Plot.ruleY([0]), ...marks],
  }));
  return maxima;
}

/** bedGraph (0-based half-open) of the per-position largest change. */
export function bedGraph(sat, maxima, label) {
  const lines = [`track type=bedGraph name="brain-resnet ${label}" description="largest predicted change per position (saturation mutagenesis)"`];
  for (const { pos, v } of maxima) {
    if (pos < 1) continue;
    lines.push(`${sat.contig}\t${pos - 1}\t${pos}\t${v.toPrecision(6)}`);
  }
  return `${lines.join('\n')}\n`;
}
