#!/usr/bin/env node
/**
 * The sequential-editing curves of `causeway edit --sequential --csv FILE` as an SVG: one panel
 * per score (efficacy, paraphrase, neighbourhood, their harmonic mean, generation fluency of the
 * batch just edited, general-text loss ratio) against the number of edits so far, one line per
 * method, the legend in a row above the panels; the CSV's `unedited` row (edits 0) is drawn as a
 * dashed grey reference line. A score with no values in the CSV (fluency with
 * --no-fluency) gets no panel. d3 (scales, ticks, line paths, CSV) without a DOM: the SVG is
 * written as text, so no browser or matplotlib is needed.
 *
 *   node scripts/plot-sequential.mjs docs/edits-sequential.csv docs/edits-sequential.svg
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import * as d3 from "d3";

const PANELS = [
  ["efficacy", "efficacy"],
  ["paraphrase", "paraphrase"],
  ["neighborhood", "neighbourhood"],
  ["score", "score (harmonic mean)"],
  ["fluency", "fluency (n-gram entropy)"],
  ["general_text_ratio", "general-text loss ratio"],
];
/** Scores in [0, 1] get that axis; the others (entropy, loss ratio) their data's extent. */
const RATES = new Set(["efficacy", "paraphrase", "neighborhood", "score"]);
/** The CSV's reference row (lib/export/edit-curve.ts), drawn dashed, not as a method. */
const UNEDITED = "unedited";
const REF_COLOUR = "#888";
/** Title row, then the legend row, then the panels. */
const TOP = 48;
const W = 260;
const H = 190;
const M = { top: 28, right: 12, bottom: 34, left: 42 };

const esc = (s) =>
  String(s).replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c],
  );

/** The SVG text for a curve CSV (method, edits, efficacy, …). */
export function sequentialSvg(csvText, title = "Sequential editing") {
  const rows = d3.csvParse(csvText, (r) => ({
    ...r,
    edits: Number(r.edits),
    ...Object.fromEntries(PANELS.map(([k]) => [k, r[k] === "" ? null : Number(r[k])])),
  }));
  const ref = rows.find((r) => r.method === UNEDITED);
  const methods = [...new Set(rows.map((r) => r.method))].filter((m) => m !== UNEDITED);
  if (methods.length === 0) throw new Error("the CSV has no rows of a method");
  const colour = d3.scaleOrdinal(methods, d3.schemeTableau10);
  const x = d3
    .scaleLinear()
    .domain([0, d3.max(rows, (r) => r.edits)])
    .range([M.left, W - M.right]);
  const parts = [];
  const panels = PANELS.filter(([key]) => rows.some((r) => Number.isFinite(r[key])));
  panels.forEach(([key, label], p) => {
    const all = rows.filter((r) => r[key] !== null && Number.isFinite(r[key]));
    const pts = all.filter((r) => r.method !== UNEDITED);
    const ext = RATES.has(key) ? [0, 1] : d3.extent(all, (r) => r[key]);
    const lo = ext[0] ?? 1;
    const hi = ext[1] ?? 1;
    const y = d3
      .scaleLinear()
      .domain(lo === hi ? [lo - 0.01, hi + 0.01] : [lo, hi])
      .nice()
      .range([H - M.bottom, M.top]);
    const g = [];
    for (const t of y.ticks(5)) {
      g.push(
        `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`,
        `<text x="${M.left - 4}" y="${y(t) + 3}" text-anchor="end">${y.tickFormat(5)(t)}</text>`,
      );
    }
    for (const t of x.ticks(5)) {
      g.push(`<text x="${x(t)}" y="${H - M.bottom + 14}" text-anchor="middle">${t}</text>`);
    }
    g.push(
      `<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">edits so far</text>`,
      `<text x="${M.left}" y="${M.top - 10}" font-weight="bold">${esc(label)}</text>`,
    );
    const line = d3
      .line()
      .x((r) => x(r.edits))
      .y((r) => y(r[key]));
    if (ref && Number.isFinite(ref[key])) {
      g.push(
        `<line class="reference" data-score="${key}" x1="${x(0)}" x2="${x.range()[1]}" y1="${y(ref[key])}" y2="${y(ref[key])}" stroke="${REF_COLOUR}" stroke-width="1.4" stroke-dasharray="4 3"/>`,
      );
    }
    for (const m of methods) {
      const ms = pts.filter((r) => r.method === m).sort((a, b) => a.edits - b.edits);
      if (ms.length === 0) continue;
      g.push(
        `<path class="curve" data-method="${esc(m)}" data-score="${key}" d="${line(ms)}" fill="none" stroke="${colour(m)}" stroke-width="1.8"/>`,
        ...ms.map(
          (r) => `<circle cx="${x(r.edits)}" cy="${y(r[key])}" r="2.2" fill="${colour(m)}"/>`,
        ),
      );
    }
    const col = p % 3;
    const row = Math.floor(p / 3);
    parts.push(`<g transform="translate(${col * W},${TOP + row * H})">${g.join("")}</g>`);
  });
  const keyed = ref ? [...methods, UNEDITED] : methods;
  const slot = Math.max(...keyed.map((m) => m.length)) * 7 + 34;
  const legend = keyed.map((m, i) => {
    const mark =
      m === UNEDITED
        ? `<line x2="14" y1="-2.5" y2="-2.5" stroke="${REF_COLOUR}" stroke-width="1.4" stroke-dasharray="4 3"/>`
        : `<rect width="14" height="3" y="-4" fill="${colour(m)}"/>`;
    return `<g transform="translate(${M.left + i * slot},38)">${mark}<text x="20" y="0" font-size="11">${esc(m)}</text></g>`;
  });
  const width = Math.max(3 * W, M.left + keyed.length * slot);
  const height = TOP + Math.ceil(panels.length / 3) * H;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10"><rect width="100%" height="100%" fill="white"/><text x="10" y="18" font-size="13" font-weight="bold">${esc(title)}</text>${parts.join("")}${legend.join("")}</svg>\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [csv, out, title] = process.argv.slice(2);
  if (!csv || !out) {
    console.error("usage: node scripts/plot-sequential.mjs CURVE.csv OUT.svg [title]");
    process.exit(2);
  }
  writeFileSync(out, sequentialSvg(readFileSync(csv, "utf8"), title));
}
