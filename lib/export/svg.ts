/**
 * A causal-trace heatmap as a standalone SVG string (no DOM: runs in Node and the browser),
 * laid out as ROME's figures: tokens down the y axis with the subject's marked "*", layers along
 * x, axis labels, a title naming the kind and the answer, and a colour bar from low_score with
 * its scale. Text is XML-escaped; the PNG export draws this same SVG on a canvas.
 */
import { TRACE_SCHEMES } from "../viz/scales";
import { rangeTicks, tickLabel } from "../viz/ticks";
import type { TraceExport } from "./trace-data";

const TITLE: Record<TraceExport["kind"], string> = {
  hidden: "Impact of restoring state after corrupted input",
  mlp: "Impact of restoring MLP after corrupted input",
  attn: "Impact of restoring Attn after corrupted input",
};

/** Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(NOT_XML, "\ufffd");
}

/** The y-axis label of a token: whitespace shown, the subject's starred. */
export function tokenAxisLabel(token: string, inSubject: boolean): string {
  const v = token.replace(/ /g, "·").replace(/\n/g, "↵").replace(/\t/g, "⇥") || "∅";
  return inSubject ? `${v}*` : v;
}

export function xLabel(t: TraceExport): string {
  if (t.kind === "hidden") return "single restored layer";
  return `center of interval of ${t.window} restored ${t.kind === "mlp" ? "MLP" : "Attn"} layer${t.window === 1 ? "" : "s"}`;
}

const CELL_W = 22;
const CELL_H = 20;
const FONT = 12;
const TITLE_FONT = 14;
const MARGIN = 12;
/**
 * Width of a text line in em, an upper bound for Helvetica / Arial and their usual stand-ins
 * (Liberation Sans, DejaVu Sans is the widest at ≈ 0.6 em for mixed text): the layout reserves
 * this much so that no label is clipped by the figure's edge or runs into another.
 */
const EM_PER_CHAR = 0.62;
const textWidth = (text: string, size: number) => [...text].length * size * EM_PER_CHAR;

/** x of a centred text of width `w` near `cx`, moved inside [MARGIN, width − MARGIN]. */
function centreWithin(cx: number, w: number, width: number): number {
  return Math.min(Math.max(cx, MARGIN + w / 2), width - MARGIN - w / 2);
}

export function traceTitle(t: TraceExport): string {
  return t.model === "edited" ? `${TITLE[t.kind]} (edited model)` : TITLE[t.kind];
}

/** The colour scale: [low_score, the larger of high_score and the top cell]. */
function scoreRange(t: TraceExport): [number, number] {
  const lo = t.low_score;
  let hi = t.high_score;
  for (const row of t.scores) for (const v of row) if (Number.isFinite(v) && v > hi) hi = v;
  if (!(hi > lo)) hi = lo + 1e-6;
  return [lo, hi];
}

const rangeTicksOf = (t: TraceExport) => rangeTicks(...scoreRange(t), 4);

export function traceSvg(t: TraceExport): string {
  const rows = t.scores.length;
  const cols = rows > 0 ? t.scores[0].length : 0;
  const [b, e] = t.subject_range;
  const labels = t.input_tokens.map((tok, i) => tokenAxisLabel(tok, i >= b && i < e));
  const labelW = Math.max(30, ...labels.map((l) => textWidth(l, FONT))) + 8;
  const title = traceTitle(t);
  const subtitle = `answer: ${JSON.stringify(t.answer)} · p(clean) = ${t.high_score.toPrecision(4)}, p(corrupted) = ${t.low_score.toPrecision(4)}`;
  const barLabel = `p(${t.answer})`;
  // rows from the top: title, subtitle, the colour bar's label, then the plot
  const titleY = 20;
  const subtitleY = titleY + 18;
  const barLabelY = subtitleY + 20;
  const y0 = barLabelY + 10;
  const x0 = MARGIN + labelW + 16;
  const plotW = cols * CELL_W;
  const plotH = rows * CELL_H;
  const barX = x0 + plotW + 24;
  const tickW = Math.max(...rangeTicksOf(t).map((v) => textWidth(tickLabel(v), FONT)), 0);
  const width = Math.ceil(
    Math.max(
      barX + 16 + tickW,
      barX + textWidth(barLabel, FONT),
      x0 + textWidth(xLabel(t), FONT) / 2 + plotW / 2,
      // centred lines need a margin on both sides
      textWidth(title, TITLE_FONT) + MARGIN,
      textWidth(subtitle, FONT) + MARGIN,
    ) + MARGIN,
  );
  const height = y0 + plotH + 58;
  const scheme = TRACE_SCHEMES[t.kind];
  const [lo, hi] = scoreRange(t);
  const tOf = (v: number) => Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  const plotCx = x0 + plotW / 2;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${centreWithin(plotCx, textWidth(title, TITLE_FONT), width).toFixed(1)}" y="${titleY}" text-anchor="middle" font-size="${TITLE_FONT}" data-role="title">${xmlEscape(title)}</text>`,
    `<text x="${centreWithin(plotCx, textWidth(subtitle, FONT), width).toFixed(1)}" y="${subtitleY}" text-anchor="middle" fill="#555" data-role="subtitle">${xmlEscape(subtitle)}</text>`,
  );
  out.push(`<g data-role="cells">`);
  t.scores.forEach((row, r) => {
    row.forEach((v, c) => {
      const fill = Number.isNaN(v) ? "#f1f0ec" : scheme.interpolate(tOf(v));
      out.push(
        `<rect x="${x0 + c * CELL_W}" y="${y0 + r * CELL_H}" width="${CELL_W}" height="${CELL_H}" fill="${fill}"><title>${xmlEscape(`${labels[r]} · layer ${c}: ${Number.isNaN(v) ? "not computed" : v.toPrecision(4)}`)}</title></rect>`,
      );
    });
  });
  out.push(`</g>`, `<g data-role="y-axis">`);
  labels.forEach((l, r) => {
    out.push(
      `<text x="${x0 - 6}" y="${y0 + r * CELL_H + CELL_H / 2 + 4}" text-anchor="end" font-family="Menlo, monospace">${xmlEscape(l)}</text>`,
    );
  });
  out.push(
    `</g>`,
    `<g data-role="x-axis">`,
    ...Array.from(
      { length: cols },
      (_, c) =>
        `<text x="${x0 + c * CELL_W + CELL_W / 2}" y="${y0 + plotH + 14}" text-anchor="middle">${c}</text>`,
    ),
    `<text x="${centreWithin(plotCx, textWidth(xLabel(t), FONT), width).toFixed(1)}" y="${y0 + plotH + 34}" text-anchor="middle" data-role="x-label">${xmlEscape(xLabel(t))}</text>`,
    `</g>`,
  );
  // colour bar: 24 steps from low_score to the top, with tick labels
  const steps = 24;
  out.push(`<g data-role="colorbar">`);
  for (let i = 0; i < steps; i++) {
    const v = hi - ((i + 0.5) / steps) * (hi - lo);
    out.push(
      `<rect x="${barX}" y="${(y0 + (i * plotH) / steps).toFixed(2)}" width="12" height="${(plotH / steps + 0.5).toFixed(2)}" fill="${scheme.interpolate(tOf(v))}"/>`,
    );
  }
  for (const v of rangeTicksOf(t)) {
    const y = y0 + ((hi - v) / (hi - lo)) * plotH;
    out.push(`<text x="${barX + 16}" y="${(y + 4).toFixed(2)}">${xmlEscape(tickLabel(v))}</text>`);
  }
  out.push(
    `<text x="${barX}" y="${barLabelY}" text-anchor="start" data-role="colorbar-label">${xmlEscape(barLabel)}</text>`,
    `</g>`,
    `</svg>`,
  );
  return out.join("\n");
}
