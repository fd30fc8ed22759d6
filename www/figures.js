// Figures of the paper's analyses and the allelic-effect track, drawn with
// Observable Plot (vendored in vendor/, with d3). Each figure can be saved as SVG and PNG,
// made in the page (no upload). The rows they draw come ranked and joined with the
// annotations by the Rust core (BrainResNet.joinedRows), and every score by its formulas.
import { scoreValues } from './brain-resnet.js';
import { attribution, paddingRuns, drawDetail, minSpan as deepest } from './logo.js';

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

/**
 * The figure's SVG text: its one SVG, or its SVGs (a legend and a plot, a locus view's
 * panels) stacked in one, with the size of the result.
 */
function svgOf(node) {
  const all = node.tagName.toLowerCase() === 'svg' ? [node] : [...node.querySelectorAll('svg')].filter((s) => !s.parentElement.closest('svg'));
  const sized = all.map((svg) => ({ svg, box: svg.getBoundingClientRect() })).filter(({ box }) => box.width > 0 && box.height > 0);
  const width = Math.ceil(d3.max(sized, ({ box }) => box.width) ?? 0);
  const height = Math.ceil(d3.sum(sized, ({ box }) => box.height));
  const out = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  out.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  out.setAttribute('width', width);
  out.setAttribute('height', height);
  out.setAttribute('viewBox', `0 0 ${width} ${height}`);
  let y = 0;
  for (const { svg, box } of sized) {
    const clone = svg.cloneNode(true);
    clone.setAttribute('x', 0);
    clone.setAttribute('y', y);
    clone.setAttribute('width', box.width);
    clone.setAttribute('height', box.height);
    clone.querySelectorAll('.track-brush').forEach((b) => b.remove());
    out.append(clone);
    y += box.height;
  }
  return { width, height, text: new XMLSerializer().serializeToString(out) };
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

/**
 * A sentence for the captions saying what the figures' model and data are, when they are not
 * real: the demo model (trained on synthetic sequences; the demo's genome, variants and
 * annotations are synthetic) or a model with random weights. `model`: its model.json
 * (default: the page's, `window.brainResNet.br.manifest`).
 */
export function provenance(model) {
  const page = globalThis.brainResNet;
  model = model ?? page?.br?.manifest;
  if (!model) return '';
  const listed = page?.models?.find((m) => m.name === model.name || m.id === model.name);
  if (/synthetic/i.test(model.genome_build ?? '') || /^DEMO\b/.test(model.description ?? '')) {
    return `Made with the demo model (${model.name}), trained on synthetic sequences labelled by a motif grammar, not on chromatin data; the demo's genome, variants and annotations are synthetic too. Read it to learn the method, not as biology.`;
  }
  if (listed?.random_weights || /random weights/i.test(model.description ?? '')) {
    return `Made with ${model.name}, a test model with random weights: the effects are noise and show only how the figure works.`;
  }
  return '';
}

/**
 * Appends a titled figure (a <figure> with a plain-language <figcaption>) with SVG and PNG
 * downloads named after it to `parent`. `name`: a few words for the buttons ("heatmap").
 */
export function figure(parent, id, title, node, { note = '', caption = '', name = id } = {}) {
  const box = document.createElement('figure');
  box.className = 'figure';
  box.id = `figure-${id}`;
  const h = document.createElement('h3');
  h.textContent = title;
  box.append(h);
  if (note) { const p = document.createElement('p'); p.className = 'note'; p.textContent = note; box.append(p); }
  const body = document.createElement('div');
  body.className = 'figure-body';
  body.append(node);
  box.append(body);
  if (caption) {
    const c = document.createElement('figcaption');
    c.textContent = caption;
    box.append(c);
  }
  const actions = document.createElement('div');
  actions.className = 'figure-actions';
  const svgButton = document.createElement('button');
  svgButton.type = 'button';
  svgButton.textContent = `Save ${name} as SVG`;
  svgButton.className = 'save-svg';
  svgButton.onclick = () => save(new Blob([svgOf(node).text], { type: 'image/svg+xml' }), `${id}.svg`);
  const pngButton = document.createElement('button');
  pngButton.type = 'button';
  pngButton.textContent = `Save ${name} as PNG`;
  pngButton.className = 'save-png';
  pngButton.onclick = async () => {
    const { width, height, text } = svgOf(node);
    save(await svgToPng(text, width, height), `${id}.png`);
  };
  actions.append(svgButton, pngButton);
  box.append(actions);
  parent.append(box);
  return box;
}

function skipped(parent, id, title, why) {
  const box = document.createElement('figure');
  box.className = 'figure skipped';
  box.id = `figure-${id}`;
  box.innerHTML = '<h3></h3><figcaption class="note"></figcaption>';
  box.querySelector('h3').textContent = title;
  box.querySelector('figcaption').textContent = `Not drawn: this figure ${why}.`;
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

/** Redraws `draw()` when `parent`'s width changes (a phone turned, a window resized). */
function redrawOnResize(parent, draw) {
  parent.resizeObserver?.disconnect();
  let drawn = parent.clientWidth;
  let pending = 0;
  parent.resizeObserver = new ResizeObserver(() => {
    if (!parent.clientWidth || Math.abs(parent.clientWidth - drawn) < 8 || pending) return;
    pending = requestAnimationFrame(() => { pending = 0; drawn = parent.clientWidth; draw(); });
  });
  parent.resizeObserver.observe(parent);
}

/** The width to draw a figure in `parent`: its content box, at most `max`. */
function widthOf(parent, max) {
  const w = parent.clientWidth || 900;
  // The figure's border and padding (style.css: 1px + 0.5rem each side).
  return Math.max(240, Math.min(max, w - 2 * 9));
}

/**
 * Draws every analysis figure into `parent` (cleared first; redrawn when its width changes).
 * `rows`: BrainResNet.joinedRows of `records` for `profile` (rank order, annotations joined).
 * `model`: the model.json of the model that scored them (default: the page's), for captions.
 */
export function drawAnalyses(parent, options) {
  // The model that made them, fixed now: a redraw after another model is chosen still names this one.
  options = { ...options, model: options.model ?? globalThis.brainResNet?.br?.manifest };
  drawAnalysesNow(parent, options);
  redrawOnResize(parent, () => drawAnalysesNow(parent, options));
}

function drawAnalysesNow(parent, { rows, records, analysis, labels, profile, top, model }) {
  parent.replaceChildren();
  const width = widthOf(parent, 1000);
  parent.dataset.drawnWidth = String(parent.clientWidth);
  const narrow = width < 600;
  const made = provenance(model);
  const caption = (text) => (made ? `${text} ${made}` : text);
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
      width, height: 50 + 16 * labels.length, marginLeft: narrow ? 96 : 120, marginRight: 20,
      x: { type: 'log', label: 'odds ratio (95 % CI)', grid: true, ticks: narrow ? 3 : undefined },
      y: { domain: labels, label: null },
      marks: [
        Plot.ruleX([1], { stroke: '#999' }),
        Plot.ruleY(finite, { y: 'profile', x1: 'lo', x2: 'hi', stroke: '#4060c0' }),
        Plot.dot(finite, { y: 'profile', x: 'or', fill: (d) => (d.profile === profile ? '#c03030' : '#4060c0'), title: (d) => `${d.profile}: OR ${d.or.toFixed(2)}, fold ${d.fold.toFixed(2)}, p ${d.p.toExponential(2)}` }),
      ],
    }), {
      name: 'enrichment plot',
      caption: caption(`One row per brain profile. The dot is the odds ratio: how much more often the variants labelled 1 in your annotations are among the top ${top} variants by predicted effect (abs_diff) than among the rest; the line is its 95 % confidence interval. Right of the grey line at 1: labelled variants are enriched among the strongest predicted effects; a line that crosses 1: the data cannot tell. The red dot is the profile chosen above.`),
    });
  } else skipped(parent, 'enrichment', 'Enrichment per profile', 'needs a `label` column in the annotations');

  // 2. Heatmap: variants x profiles (diff), the 40 variants with the largest effect. A column
  // is at least 14 px wide, so that the vertical profile names never overlap: on a phone the
  // heatmap scrolls sideways inside its figure.
  const topRows = largestEffects(rows, records, labels.length, 40);
  const cells = topRows.flatMap(({ row: r, diff }) => Array.from(diff, (v, i) => ({ variant: `${r.id} ${r.alt}`, profile: labels[i], v })));
  const m = d3.max(cells, (c) => Math.abs(c.v)) || 1;
  const heatLeft = narrow ? 110 : 140;
  const legend = Plot.legend({ color: { type: 'diverging', scheme: 'BuRd', domain: [-m, m], label: 'ALT − REF (probability)' }, marginLeft: 14, marginRight: 14, width: 300 });
  const heatmap = document.createElement('div');
  heatmap.append(legend, Plot.plot({
    width: Math.max(width, heatLeft + 14 * labels.length + 20), height: 60 + 14 * topRows.length + 90, marginLeft: heatLeft, marginBottom: 90, marginRight: 20,
    style: { fontSize: '10px' },
    x: { domain: labels, tickRotate: -90, label: null, axis: 'bottom' },
    y: { domain: topRows.map(({ row: r }) => `${r.id} ${r.alt}`), label: null },
    color: { type: 'diverging', scheme: 'BuRd', domain: [-m, m] },
    marks: [Plot.cell(cells, { x: 'profile', y: 'variant', fill: 'v', title: (c) => `${c.variant} ${c.profile}: ${c.v.toPrecision(3)}` })],
  }));
  figure(parent, 'heatmap', `Predicted effects (ALT − REF) of the ${topRows.length} variants with the largest effects × ${labels.length} profiles`, heatmap, {
    name: 'heatmap',
    caption: caption(`One row per variant (its id and ALT allele), one column per brain profile. The colour is the predicted change in that profile when the reference allele is replaced by the alternative one (ALT − REF): red, the ALT allele raises the predicted signal (for example more open chromatin); blue, it lowers it; white, no change. Shown: the ${topRows.length} variants with the largest change in any profile, largest first.${narrow ? ' Scroll sideways to see every profile.' : ''}`),
  });

  // 3. Locus view: p-value, PIP and predicted effect along the coordinate (densest contig).
  const withLocus = rows.filter((r) => r.ann && (r.ann.p_value != null || r.ann.pip != null));
  if (withLocus.length) {
    const chrom = d3.greatest(d3.rollups(withLocus, (v) => v.length, (r) => r.chrom), (d) => d[1])[0];
    const here = rows.filter((r) => r.chrom === chrom);
    const panel = (y, label, data, last) => Plot.plot({
      width, height: last ? 150 : 120, marginLeft: 60, marginRight: 20, marginBottom: last ? 40 : 20,
      x: { label: last ? `${chrom} position` : null, axis: last ? 'bottom' : null, domain: d3.extent(here, (r) => r.pos), ticks: narrow ? 3 : undefined },
      y: { label, grid: true, ticks: 4 },
      marks: [Plot.dot(data, { x: 'pos', y, r: 2.5, fill: '#4060c0', title: (r) => r.id })],
    });
    const box = document.createElement('div');
    box.append(
      panel((r) => -Math.log10(r.ann.p_value), '−log10 p', here.filter((r) => r.ann?.p_value > 0)),
      panel((r) => r.ann.pip, 'PIP', here.filter((r) => r.ann?.pip != null)),
      panel('abs_diff', `abs_diff (${profile})`, here, true),
    );
    figure(parent, 'locus', `Locus view of ${chrom}: association, fine-mapping and predicted effect`, box, {
      name: 'locus view',
      caption: caption(`Three panels share one horizontal axis, the position on ${chrom}; each dot is a variant. Top: its association p-value (higher is a stronger association). Middle: its fine-mapping posterior inclusion probability (PIP: the chance that it is the causal variant). Bottom: the model's predicted effect on ${profile} (abs_diff). A variant high in all three panels is a good candidate.`),
    });
  } else skipped(parent, 'locus', 'Locus view', 'needs `p_value` or `pip` in the annotations');

  // 4. Observed vs predicted allelic imbalance.
  const imb = rows.filter((r) => r.imbalance != null && r.log_ratio != null)
    .map((r) => ({ id: r.id, observed: r.imbalance, predicted: r.log_ratio }));
  if (imb.length && current?.direction) {
    const d = current.direction;
    figure(parent, 'imbalance', `Observed vs predicted allelic imbalance (${profile}): Spearman rho ${d.spearman_rho.toFixed(3)}, p ${d.p_value.toExponential(2)}, same sign ${(100 * d.sign_agreement).toFixed(1)} %`, Plot.plot({
      width: Math.min(width, 640), height: narrow ? 300 : 360, grid: true, marginLeft: 50, marginBottom: 40, marginRight: 20,
      x: { label: narrow ? 'predicted ln(ref/alt)' : 'predicted ln(ref/alt) (log_ratio)', ticks: narrow ? 4 : undefined },
      y: { label: narrow ? 'observed ln(ref/alt reads)' : 'observed ln(ref reads / alt reads)' },
      marks: [Plot.ruleX([0]), Plot.ruleY([0]), Plot.dot(imb, { x: 'predicted', y: 'observed', r: 2.5, fill: '#4060c0', title: 'id' }), Plot.linearRegressionY(imb, { x: 'predicted', y: 'observed', stroke: '#c03030', clip: true })],
    }), {
      name: 'allelic imbalance plot',
      caption: caption(`One dot per variant with allele-specific read counts. Across: the model's predicted log ratio ln(REF/ALT) for ${profile}; up: the observed log ratio of the reads carrying each allele. If the model is right the dots run from lower left to upper right (red line: a least-squares fit). Spearman's rho measures that agreement by rank (1: perfect, 0: none); "same sign" counts the dots in the lower-left and upper-right quarters.`),
    });
  } else skipped(parent, 'imbalance', 'Observed vs predicted allelic imbalance', 'needs `ref_reads` and `alt_reads` in the annotations');

  // 5. GERP of the top N vs the rest.
  const gerp = rows.map((r) => ({ group: r.rank < top ? `top ${top}` : 'rest', gerp: r.ann?.gerp })).filter((g) => g.gerp != null);
  if (gerp.length && current?.constraint) {
    figure(parent, 'gerp', `Constraint (GERP) of the top ${top} by abs_diff vs the rest (${profile}): rank-sum p ${current.constraint.p_value.toExponential(2)}`, Plot.plot({
      width: Math.min(width, 500), height: 320, marginLeft: 50, grid: true,
      x: { label: null, domain: [`top ${top}`, 'rest'] }, y: { label: 'GERP' },
      marks: [Plot.boxY(gerp, { x: 'group', y: 'gerp', fill: '#c8d4f4' })],
    }), {
      name: 'GERP box plot',
      caption: caption(`GERP measures evolutionary constraint: higher means the base changed less across mammals than expected. Left: the top ${top} variants by predicted effect on ${profile}; right: the rest. Each box holds the middle half of the variants, its line the median, the whiskers the range without outliers (dots). If the left box sits higher, the strongest predicted effects fall on constrained bases; the rank-sum p in the title says how surprising that difference is.`),
    });
  } else skipped(parent, 'gerp', 'Constraint (GERP)', 'needs `gerp` in the annotations');

  // 6. MAF by score bin with SEM.
  if (current?.selection) {
    const bins = current.selection.filter((b) => b.n > 0).map((b) => ({ ...b, bin: `[${b.lo}, ${b.hi}${b.hi === 1 ? ']' : ')'}`, lo_v: b.mean - (b.sem || 0), hi_v: b.mean + (b.sem || 0) }));
    const mafWidth = Math.min(width, 560);
    const crowded = mafWidth / Math.max(1, bins.length) < 70;
    figure(parent, 'maf', `Mean minor allele frequency by abs_diff bin (${profile}), ± SEM`, Plot.plot({
      width: mafWidth, height: crowded ? 360 : 320, marginLeft: 50, marginRight: 20, marginBottom: crowded ? 80 : 40, grid: true,
      x: { label: `abs_diff (${profile})`, domain: bins.map((b) => b.bin), tickRotate: crowded ? -90 : 0 }, y: { label: 'mean MAF' },
      marks: [Plot.ruleX(bins, { x: 'bin', y1: 'lo_v', y2: 'hi_v', stroke: '#4060c0' }), Plot.dot(bins, { x: 'bin', y: 'mean', fill: '#4060c0', r: 4, title: (b) => `n ${b.n}` }), Plot.text(bins, { x: 'bin', y: 'hi_v', text: (b) => `n=${b.n}`, dy: -8 })],
    }), {
      name: 'MAF plot',
      caption: caption(`Variants grouped by predicted effect on ${profile} (abs_diff, bins along the bottom). Dot: the mean minor allele frequency of a bin; bar: ± one standard error; n: how many variants the bin holds. Selection keeps harmful alleles rare, so a mean MAF that falls as the predicted effect grows hints that strong predicted effects matter.`),
    });
  } else skipped(parent, 'maf', 'MAF by score bin', 'needs `maf` in the annotations');
}

// The zoom of each saturation result ({lo, hi}: window positions), kept across redraws
// (another profile, another width).
const zooms = new WeakMap();

/**
 * Allelic-effect track from a saturation result, for profile index `o`: a zoomable view
 * (attribution logo, every substitution, the reference sequence, the variant marked) and an
 * overview of the whole window on which a range can be brushed. Returns the per-position
 * largest change (for the bedGraph). `options.model`: model.json for the captions (default:
 * the page's). Redrawn when `parent`'s width changes.
 */
export function drawTrack(parent, sat, o, labels, variant, options = {}) {
  options = { ...options, model: options.model ?? globalThis.brainResNet?.br?.manifest };
  const maxima = drawTrackNow(parent, sat, o, labels, variant, options);
  redrawOnResize(parent, () => drawTrackNow(parent, sat, o, labels, variant, options));
  return maxima;
}

function drawTrackNow(parent, sat, o, labels, variant, { model } = {}) {
  parent.replaceChildren();
  parent.dataset.drawnWidth = String(parent.clientWidth);
  const maxima = [];
  for (let p = 0; p < sat.window; p++) {
    let best = 0;
    for (let b = 0; b < 4; b++) {
      const v = sat.delta[(p * 4 + b) * sat.outputs + o];
      if (Math.abs(v) > Math.abs(best)) best = v;
    }
    maxima.push({ pos: sat.start + p + 1, v: best });
  }
  const sites = attribution(sat, o);
  const label = labels[o];
  const made = provenance(model);
  const width = widthOf(parent, 1100);
  const variantIndex = variant ? variant.pos - sat.start - 1 : null;
  const alleles = variant?.row ? [variant.row.r?.reference, variant.row.a?.alt] : [];
  const change = alleles.every((a) => a && a.length <= 6) && alleles.length ? alleles.join('>') : null;
  const minSpan = deepest(width, sat.window);

  // Zoom: centred on the variant by default, as wide as letters stay readable (>= 12 px a base).
  // Until the user zooms, the default is chosen again for each width.
  let zoom = zooms.get(sat);
  if (!zoom || zoom.auto) {
    const span = Math.max(minSpan, Math.min(sat.window, Math.floor((width - 76) / 12)));
    zoom = { ...centred(variantIndex ?? sat.window / 2, span), auto: true };
    zooms.set(sat, zoom);
  }
  function centred(c, span) {
    span = Math.round(Math.max(minSpan, Math.min(sat.window, span)));
    const lo = Math.max(0, Math.min(sat.window - span, Math.round(c - span / 2)));
    return { lo, hi: lo + span };
  }

  // Controls: zoom out / slider / zoom in, move, back to the variant, whole window.
  const controls = document.createElement('div');
  controls.className = 'track-zoom';
  const button = (text, aria, onclick) => {
    const bt = document.createElement('button');
    bt.type = 'button';
    bt.textContent = text;
    bt.setAttribute('aria-label', aria);
    bt.title = aria;
    bt.onclick = onclick;
    return bt;
  };
  const slider = document.createElement('input');
  slider.type = 'range';
  slider.id = 'track-zoom';
  slider.min = '0';
  slider.max = '100';
  slider.step = '1';
  slider.setAttribute('aria-label', 'Zoom: how many bases the view shows');
  const toSpan = (v) => sat.window * (minSpan / sat.window) ** (v / 100);
  const toSlider = (span) => (sat.window === minSpan ? 100 : (100 * Math.log(span / sat.window)) / Math.log(minSpan / sat.window));
  const where = document.createElement('output');
  where.id = 'track-range';
  where.setAttribute('aria-live', 'polite');
  const centre = () => (zoom.lo + zoom.hi) / 2;
  controls.append(
    button('−', 'Zoom out', () => setZoom(centred(centre(), (zoom.hi - zoom.lo) * 2))),
    slider,
    button('+', 'Zoom in', () => setZoom(centred(centre(), (zoom.hi - zoom.lo) / 2))),
    button('◀', 'Move left', () => setZoom(centred(centre() - (zoom.hi - zoom.lo) / 2, zoom.hi - zoom.lo))),
    button('▶', 'Move right', () => setZoom(centred(centre() + (zoom.hi - zoom.lo) / 2, zoom.hi - zoom.lo))),
    ...(variantIndex != null ? [button('Centre on the variant', 'Centre on the variant', () => setZoom(centred(variantIndex + 0.5, zoom.hi - zoom.lo)))] : []),
    button('Whole window', 'Show the whole window', () => setZoom({ lo: 0, hi: sat.window })),
    where,
  );
  slider.oninput = () => setZoom(centred(centre(), toSpan(Number(slider.value))), 'slider');

  const detail = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const detailBox = document.createElement('div');
  detailBox.append(controls, detail);
  const fmt = (n) => n.toLocaleString('en');
  figure(parent, 'track-logo', `What the prediction of ${label} depends on, base by base`, detailBox, {
    name: 'zoomed track',
    caption: `Top, the attribution logo: at each position the reference base, drawn as tall as the prediction for ${label} depends on it (the mean change in the prediction when that base is replaced by each of the other three, sign flipped). Tall letters above the line are bases whose loss lowers the prediction, like the letters of a motif the model recognises; letters below the line are bases whose loss raises it. Middle: the change for each single substitution (red: raises the prediction, blue: lowers it, on the scale at the top right; the reference base's own cell is white). Bottom: the reference sequence; the yellow band marks the variant; purple boxes under it are known transcription-factor motifs (JASPAR 2024, log-odds scan of both strands, p ≤ 1e-4; the arrow gives the strand): a variant inside one may break that factor's site. Grey is padding (before the contig's start or beyond its end) or N, not sequence. Zoom with − and +, the slider or by dragging across the overview below; ◀ and ▶ move along the window.${made ? ` ${made}` : ''}`,
  });

  // Overview of the whole window: the largest change per position, the zoomed range brushed.
  const shownMaxima = maxima.map((d, p) => ({ ...d, v: sites[p].real ? d.v : NaN }));
  const pad = paddingRuns(sites);
  // Coordinates are labelled on the contig only (none below 1 in the padding before it).
  const domain = [sat.start + 0.5, sat.start + sat.window + 0.5];
  const ticks = d3.scaleLinear().domain(domain).ticks(width < 600 ? 4 : 10).filter((t) => t >= 1 && Number.isInteger(t));
  const x = { label: `${sat.contig} position (1-based)`, domain, ticks };
  const overview = Plot.plot({
    width, height: 170, marginLeft: 62, marginRight: 14, marginBottom: 36, x, y: { label: 'largest Δ', grid: true, ticks: 4 },
    marks: [
      Plot.rectX(pad, { x1: (r) => sat.start + r.from + 0.5, x2: (r) => sat.start + r.to + 0.5, fill: '#e2e2e2' }),
      Plot.text(pad.filter((r) => r.to - r.from > 0.15 * sat.window), { x: (r) => sat.start + (r.from + r.to) / 2 + 0.5, frameAnchor: 'top', dy: 6, text: (r) => (r.beforeStart ? 'before contig start' : r.beyondEnd ? 'beyond contig end' : 'not sequence'), fill: '#555' }),
      Plot.areaY(shownMaxima, { x: 'pos', y: 'v', fill: '#4060c0', fillOpacity: 0.5, defined: (d) => Number.isFinite(d.v) }),
      Plot.ruleY([0]),
      ...(variant ? [Plot.ruleX([variant.pos], { stroke: '#000', strokeDasharray: '3,3' })] : []),
    ],
  });
  overview.classList.add('track-overview');
  figure(parent, 'track-max', `The whole ${fmt(sat.window)} bp window: largest change per position on ${label}`, overview, {
    name: 'overview',
    caption: `At each position of the window, the largest change in the prediction for ${label} among the three substitutions (below 0: mutating that base lowers the prediction). A dip or a peak a few bases wide is often a motif. The dashed line is the variant; grey is padding or N, not sequence; the orange box is the zoomed range shown above: drag across the plot to choose another.${made ? ` ${made}` : ''}`,
  });
  const sx = overview.scale('x');
  const [bx0, bx1] = sx.range;
  const brush = d3.brushX().extent([[bx0, 20], [bx1, 170 - 36]]);
  const brushG = d3.select(overview).append('g').attr('class', 'track-brush');
  let moving = false;
  const toIndex = (px) => sx.invert(px) - sat.start - 0.5;
  brush.on('end', (event) => {
    if (moving || !event.sourceEvent) return;
    if (!event.selection) { moveBrush(); return; }
    const [a, b] = event.selection.map(toIndex);
    setZoom((b - a) < minSpan ? centred((a + b) / 2, minSpan) : { lo: Math.max(0, Math.round(a)), hi: Math.min(sat.window, Math.round(b)) });
  });
  brushG.call(brush);
  function moveBrush() {
    moving = true;
    // The whole window: no box, so that a drag anywhere brushes a new range.
    const whole = zoom.lo === 0 && zoom.hi === sat.window;
    brushG.call(brush.move, whole ? null : [sx.apply(sat.start + zoom.lo + 0.5), sx.apply(sat.start + zoom.hi + 0.5)]);
    moving = false;
  }

  function setZoom(z, from = 'user') {
    zoom = from === 'init' ? z : { lo: z.lo, hi: z.hi };
    zooms.set(sat, zoom);
    const real = sites.slice(z.lo, z.hi).filter((s) => s.real);
    const first = real[0]?.pos;
    const last = real[real.length - 1]?.pos;
    where.value = real.length
      ? `${sat.contig}:${fmt(first)}–${fmt(last)} (${fmt(z.hi - z.lo)} bp shown)`
      : `${fmt(z.hi - z.lo)} bp of padding shown`;
    if (from !== 'slider') slider.value = String(Math.round(toSlider(z.hi - z.lo)));
    drawDetail(detail, { sat, o, sites, lo: z.lo, hi: z.hi, width, variantIndex, label, change });
    moveBrush();
  }
  setZoom(zoom, 'init');
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
