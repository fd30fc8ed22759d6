// The zoomable view of an allelic-effect track (saturation mutagenesis of one window):
// an attribution logo (at each position the reference base, as tall as the prediction
// depends on it), the effect of every substitution, the reference sequence in letters, the
// variant marked, and padding that is not sequence greyed. Drawn with d3 (vendored).

const d3 = globalThis.d3;
const SVG = 'http://www.w3.org/2000/svg';

export const BASES = 'ACGT'; // the order of `delta` (src/scoring/mutagenesis.rs)
export const BASE_COLOURS = { A: '#109648', C: '#255c99', G: '#d9931a', T: '#d62839' };
export const MIN_SPAN = 40; // bases: the deepest zoom (less on a phone: letters >= 10 px)

/** The deepest zoom for a view `width` px wide: 40 bases, or as many as get 10 px each, at least 20. */
export function minSpan(width, window) {
  return Math.min(window, Math.max(20, Math.min(MIN_SPAN, Math.floor((width - marginsOf(width)) / 10))));
}

function marginsOf(width) { return width < 600 ? 44 + 8 : 62 + 14; }

// The four letters as filled outlines in a unit box (y down), so that a letter can be
// stretched to any height exactly, whatever fonts the browser has (as sequence-logo tools do).
const GLYPHS = {
  A: 'M0,1 L0.38,0 L0.62,0 L1,1 L0.79,1 L0.69,0.72 L0.31,0.72 L0.21,1 Z M0.37,0.55 L0.63,0.55 L0.5,0.19 Z',
  C: 'M0.9,0.24 A0.5,0.5 0 1 0 0.9,0.76 L0.74,0.66 A0.31,0.33 0 1 1 0.74,0.34 Z',
  G: 'M0.9,0.24 A0.5,0.5 0 1 0 0.96,0.6 L0.96,0.5 L0.56,0.5 L0.56,0.64 L0.76,0.64 A0.31,0.33 0 1 1 0.74,0.34 Z',
  T: 'M0,0 L1,0 L1,0.17 L0.59,0.17 L0.59,1 L0.41,1 L0.41,0.17 L0,0.17 Z',
};

/**
 * Per window position: `real` (a base of the contig: not before its start, not N) and
 * `attribution`, the mean over the three mutants of (mutant − reference) with the sign
 * flipped, for profile `o`: positive where mutating the base lowers the prediction.
 */
export function attribution(sat, o) {
  const seq = sat.sequence.toUpperCase();
  return Array.from({ length: sat.window }, (_, p) => {
    const base = seq[p] ?? 'N';
    const beyondEnd = sat.contig_length != null && sat.start + p >= sat.contig_length;
    const real = sat.start + p >= 0 && !beyondEnd && BASES.includes(base);
    let sum = 0;
    for (let b = 0; b < 4; b++) sum += sat.delta[(p * 4 + b) * sat.outputs + o];
    return { p, pos: sat.start + p + 1, base, real, beyondEnd, attribution: real ? -sum / 3 : 0 };
  });
}

/** Runs of padding (positions that are not sequence): [{from, to (exclusive), beforeStart, beyondEnd}]. */
export function paddingRuns(sites) {
  const runs = [];
  for (const s of sites) {
    if (s.real) continue;
    const last = runs[runs.length - 1];
    const beforeStart = s.pos < 1;
    const beyondEnd = Boolean(s.beyondEnd);
    if (last && last.to === s.p && last.beforeStart === beforeStart && last.beyondEnd === beyondEnd) last.to++;
    else runs.push({ from: s.p, to: s.p + 1, beforeStart, beyondEnd });
  }
  return runs;
}

function el(name, attrs = {}, parent = null) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  parent?.append(e);
  return e;
}

/**
 * Draws the window positions [lo, hi) of `sat` for profile `o` into `svg` (cleared first),
 * `width` px wide. `variantIndex`: the variant's window position (or null), `change` its
 * "REF>ALT". The logo and the substitutions' colours are scaled to the positions shown.
 */
export function drawDetail(svg, { sat, o, sites, lo, hi, width, variantIndex, label, change }) {
  svg.replaceChildren();
  const m = { left: width < 600 ? 44 : 62, right: width < 600 ? 8 : 14, top: 34 };
  const logoH = 130;
  const rowH = 13;
  const heatTop = m.top + logoH + 10;
  const seqTop = heatTop + 4 * rowH + 6;
  const seqH = 18;
  // Known motifs (JASPAR, p <= 1e-4) overlapping the view, in lanes that do not overlap.
  const hits = (sat.motifs ?? []).filter((h) => h.start < hi && h.start + h.len > lo);
  const laneEnds = [];
  const placed = [];
  for (const h of hits.slice().sort((a, b) => a.start - b.start || a.p_value - b.p_value)) {
    let lane = laneEnds.findIndex((e) => e <= h.start);
    if (lane < 0) { lane = laneEnds.length; laneEnds.push(0); }
    laneEnds[lane] = h.start + h.len + 1;
    placed.push({ h, lane });
  }
  const MAX_LANES = 4;
  const laneH = 15;
  const motifTop = seqTop + seqH + 2;
  const lanes = Math.min(laneEnds.length, MAX_LANES);
  const axisTop = motifTop + lanes * laneH + (lanes ? 4 : 0);
  const height = axisTop + 40;
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('font-family', 'system-ui, sans-serif');
  svg.setAttribute('font-size', '10');
  svg.classList.add('track-detail');
  svg.dataset.lo = String(lo);
  svg.dataset.hi = String(hi);
  el('rect', { x: 0, y: 0, width, height, fill: '#fff' }, svg);

  const x = d3.scaleLinear().domain([lo, hi]).range([m.left, width - m.right]);
  const bw = x(lo + 1) - x(lo); // px per base
  const shown = sites.slice(lo, hi);
  const real = shown.filter((s) => s.real);
  const top = d3.max(real, (s) => s.attribution) ?? 0;
  const bottom = d3.min(real, (s) => s.attribution) ?? 0;
  const span = Math.max(top, 0) - Math.min(bottom, 0) || 1e-9;
  const y = d3.scaleLinear().domain([Math.min(bottom, 0) - 0.04 * span, Math.max(top, 0) + 0.04 * span]).range([m.top + logoH, m.top]).nice(4);
  let heatMax = 0;
  for (const s of real) for (let b = 0; b < 4; b++) heatMax = Math.max(heatMax, Math.abs(sat.delta[(s.p * 4 + b) * sat.outputs + o]));
  heatMax ||= 1e-9;
  const colour = d3.scaleDiverging((t) => d3.interpolateRdBu(1 - t)).domain([-heatMax, 0, heatMax]);
  // The substitutions' colour scale, top right.
  const legend = el('g', { class: 'legend', transform: `translate(${width - m.right - 200},4)` }, svg);
  const gradient = el('linearGradient', { id: `track-ramp-${Math.random().toString(36).slice(2)}` }, el('defs', {}, legend));
  for (const t of [0, 0.25, 0.5, 0.75, 1]) el('stop', { offset: t, 'stop-color': d3.interpolateRdBu(1 - t) }, gradient);
  const f = d3.format('.2~g');
  el('text', { x: 64, y: 9, 'text-anchor': 'end', fill: '#333' }, legend).textContent = f(-heatMax);
  el('rect', { x: 68, y: 1, width: 90, height: 9, fill: `url(#${gradient.id})` }, legend);
  el('text', { x: 162, y: 9, fill: '#333' }, legend).textContent = `+${f(heatMax)}`;

  // Padding: greyed over every row, never drawn as sequence.
  for (const run of paddingRuns(shown)) {
    const r = el('rect', { class: 'padding', x: x(run.from), y: m.top, width: x(run.to) - x(run.from), height: axisTop - m.top, fill: '#d8d8d8' }, svg);
    r.dataset.from = String(run.from);
    r.dataset.to = String(run.to);
    el('title', {}, r).textContent = run.beforeStart ? 'padding before the contig start: not sequence' : run.beyondEnd ? 'padding beyond the contig end: not sequence' : 'N (unknown bases): not sequence';
    if (x(run.to) - x(run.from) > 90) {
      el('text', { x: (x(run.from) + x(run.to)) / 2, y: m.top + 14, 'text-anchor': 'middle', fill: '#555' }, svg).textContent = run.beforeStart ? 'before contig start' : run.beyondEnd ? 'beyond contig end' : 'not sequence (N)';
    }
  }

  // The variant: a band over every row, and a label above the logo.
  if (variantIndex != null && variantIndex >= lo && variantIndex < hi) {
    const g = el('g', { class: 'variant-mark' }, svg);
    g.dataset.index = String(variantIndex);
    el('rect', { x: x(variantIndex + 0.5) - Math.max(bw, 3) / 2, y: m.top - 4, width: Math.max(bw, 3), height: axisTop - m.top + 4, fill: '#ffe680', 'fill-opacity': 0.55, stroke: '#b08800', 'stroke-width': bw > 4 ? 1 : 0 }, g);
    el('text', { x: x(variantIndex + 0.5), y: m.top - 8, 'text-anchor': x(variantIndex + 0.5) > width - 40 ? 'end' : x(variantIndex + 0.5) < m.left + 30 ? 'start' : 'middle', 'font-weight': 'bold' }, g).textContent = change ? `variant ${change}` : 'variant';
  }

  // Attribution logo: the reference base, height |attribution|, above the line when positive.
  const logo = el('g', { class: 'logo' }, svg);
  const letters = bw >= 4;
  for (const s of real) {
    const y0 = y(0);
    const y1 = y(s.attribution);
    const h = Math.abs(y1 - y0);
    if (h < 0.3) continue;
    const x0 = x(s.p) + (bw > 6 ? bw * 0.05 : 0);
    const w = bw > 6 ? bw * 0.9 : bw;
    const ytop = Math.min(y0, y1);
    const glyph = letters
      ? el('path', { d: GLYPHS[s.base], transform: `translate(${x0},${ytop}) scale(${w},${h})`, fill: BASE_COLOURS[s.base] }, logo)
      : el('rect', { x: x0, y: ytop, width: Math.max(w, 0.6), height: h, fill: BASE_COLOURS[s.base] }, logo);
    glyph.classList.add('logo-letter');
    glyph.dataset.base = s.base;
    glyph.dataset.index = String(s.p);
    el('title', {}, glyph).textContent = `${s.pos} ${s.base}: ${s.attribution.toPrecision(3)}`;
  }
  el('line', { x1: m.left, x2: width - m.right, y1: y(0), y2: y(0), stroke: '#333' }, svg);
  const yAxis = d3.axisLeft(y).ticks(4).tickFormat(d3.format('.2~g'));
  const gy = el('g', { transform: `translate(${m.left},0)` }, svg);
  d3.select(gy).call(yAxis);
  el('text', { x: 4, y: 11, fill: '#333' }, svg).textContent = width < 600 ? `importance for ${label}` : `importance for ${label}: −(mean of the 3 mutants − reference)`;

  // Every substitution: 4 rows (A C G T), the reference base's own cell outlined.
  const heat = el('g', { class: 'substitutions' }, svg);
  for (let b = 0; b < 4; b++) {
    el('text', { x: m.left - 6, y: heatTop + b * rowH + rowH / 2 + 3.5, 'text-anchor': 'end', fill: BASE_COLOURS[BASES[b]], 'font-weight': 'bold' }, svg).textContent = `→${BASES[b]}`;
  }
  for (const s of real) {
    for (let b = 0; b < 4; b++) {
      const own = s.base === BASES[b];
      const v = sat.delta[(s.p * 4 + b) * sat.outputs + o];
      el('rect', {
        x: x(s.p), y: heatTop + b * rowH, width: Math.max(bw, 0.6), height: rowH,
        fill: own ? '#fff' : colour(v), stroke: own && bw > 4 ? '#999' : 'none', 'stroke-width': 0.5,
      }, heat);
    }
  }

  // The reference sequence: letters when there is room, else coloured ticks.
  const seq = el('g', { class: 'reference' }, svg);
  el('text', { x: m.left - 6, y: seqTop + 13, 'text-anchor': 'end', fill: '#333' }, svg).textContent = 'ref';
  for (const s of real) {
    if (bw >= 6) {
      const t = el('text', {
        class: 'ref-base', x: x(s.p + 0.5), y: seqTop + 13, 'text-anchor': 'middle',
        'font-family': 'ui-monospace, monospace', 'font-weight': 'bold', 'font-size': Math.min(14, bw * 1.1), fill: BASE_COLOURS[s.base],
      }, seq);
      t.dataset.index = String(s.p);
      t.textContent = s.base;
    } else {
      el('rect', { x: x(s.p), y: seqTop + 3, width: Math.max(bw, 0.6), height: seqH - 6, fill: BASE_COLOURS[s.base] }, seq);
    }
  }

  const motifG = el('g', { class: 'motifs' }, svg);
  if (lanes) el('text', { x: m.left - 6, y: motifTop + 11, 'text-anchor': 'end', fill: '#333' }, svg).textContent = 'motifs';
  const hidden = placed.filter((q) => q.lane >= MAX_LANES).length;
  for (const { h, lane } of placed) {
    if (lane >= MAX_LANES) continue;
    const x0 = x(Math.max(h.start, lo));
    const x1 = x(Math.min(h.start + h.len, hi));
    const yTop = motifTop + lane * laneH;
    const r = el('rect', { class: 'motif-hit', x: x0, y: yTop + 1, width: Math.max(x1 - x0, 1), height: laneH - 3, rx: 2, fill: '#e9e1f7', stroke: '#6a4fa3', 'stroke-width': 0.8 }, motifG);
    r.dataset.motif = h.motif;
    r.dataset.start = String(h.start);
    r.dataset.strand = h.strand;
    el('title', {}, r).textContent = `${h.motif} (JASPAR ${h.matrix_id}), ${h.strand} strand, ${sat.contig}:${(sat.start + h.start + 1).toLocaleString('en')}-${(sat.start + h.start + h.len).toLocaleString('en')}, p = ${h.p_value.toExponential(1)}`;
    const label = `${h.motif} ${h.strand === '+' ? '→' : '←'}`;
    if (x1 - x0 >= label.length * 5.5) {
      el('text', { x: (x0 + x1) / 2, y: yTop + laneH - 4, 'text-anchor': 'middle', fill: '#3b2a66', 'font-size': 9 }, motifG).textContent = label;
    }
  }
  if (hidden) el('text', { x: width - m.right, y: motifTop - 2, 'text-anchor': 'end', fill: '#555', 'font-size': 9 }, motifG).textContent = `+${hidden} more motif hits`;

  // Genome coordinates (1-based), labelled on sequence only.
  const onContig = shown.filter((s) => s.pos >= 1);
  const ticks = onContig.length ? d3.ticks(onContig[0].pos, onContig[onContig.length - 1].pos, Math.max(2, Math.floor((x(onContig[onContig.length - 1].p + 1) - x(onContig[0].p)) / 90)))
    .filter((pos) => Number.isInteger(pos) && sites[pos - sat.start - 1]?.real) : [];
  const gx = el('g', { class: 'axis' }, svg);
  for (const pos of ticks) {
    const cx = x(pos - sat.start - 1 + 0.5);
    el('line', { x1: cx, x2: cx, y1: axisTop, y2: axisTop + 5, stroke: '#333' }, gx);
    el('text', { x: cx, y: axisTop + 16, 'text-anchor': 'middle', fill: '#333' }, gx).textContent = pos.toLocaleString('en');
  }
  el('line', { x1: m.left, x2: width - m.right, y1: axisTop, y2: axisTop, stroke: '#333' }, gx);
  el('text', { x: width - m.right, y: axisTop + 32, 'text-anchor': 'end', fill: '#333' }, svg).textContent = `${sat.contig} position (1-based) →`;
  return { x, height };
}
