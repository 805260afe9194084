/**
 * The exported SVG figure laid out by a real browser's text engine (Chromium's fonts, not the
 * exporter's own width estimate): every text lies inside the figure, and the title, subtitle and
 * colour-bar label do not overlap, for a narrow grid (3 layers: the title is wider than the
 * plot), the bundled model's 10 × 6, a long answer and the edited-model title. The figures are
 * written to test-results/export-layout-*.png to be looked at.
 */
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { traceSvg } from "../lib/export/svg";
import type { TraceExport } from "../lib/export/trace-data";

const ROOT = path.resolve(__dirname, "..");

function trace(
  rows: number,
  cols: number,
  over: Partial<TraceExport> = {},
  tokens?: string[],
): TraceExport {
  return {
    kind: "hidden",
    scores: Array.from({ length: rows }, (_, r) =>
      Array.from({ length: cols }, (_, c) => 0.05 + ((r * cols + c) % 17) / 20),
    ),
    low_score: 0.0123,
    high_score: 0.8765,
    input_tokens: tokens ?? Array.from({ length: rows }, (_, i) => ` tok${i}`),
    subject_range: [0, 2],
    answer: " Parrow",
    window: 1,
    ...over,
  };
}

const TOKENS = ["R", "al", "krok", " Sten", "nos", " lives", " in", " the", " city", " of"];

const CASES: [string, TraceExport][] = [
  ["narrow", trace(5, 3, {}, ["<b>", ' "Stennos', ",lives", " in", "\n&"])],
  ["bundled", trace(10, 6, {}, TOKENS)],
  ["mlp-window", trace(10, 6, { kind: "mlp", window: 3 }, TOKENS)],
  ["long-answer", trace(10, 6, { answer: " the city of Parrow, on the river Stenn" }, TOKENS)],
  ["edited", trace(4, 2, { kind: "attn", model: "edited", window: 2 })],
  ["one-layer", trace(2, 1, { answer: "x" })],
];

interface Box {
  role: string;
  text: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

// one page for every case: each test replaces its content (a fresh context per case was most
// of these tests' time, and no case leaves anything behind but the figure it replaces)
let page: Page;
test.beforeAll(async ({ browser }) => {
  page = await browser.newPage();
});
test.afterAll(async () => {
  await page.close();
});

for (const [name, t] of CASES) {
  test(`SVG export layout: ${name}`, async () => {
    const svg = traceSvg(t);
    await page.setContent(`<!doctype html><body style="margin:0;background:#888">${svg}</body>`);
    const { width, height, boxes } = await page.evaluate(() => {
      const root = document.querySelector("svg") as SVGSVGElement;
      const out: Box[] = [];
      for (const el of root.querySelectorAll("text")) {
        const b = (el as SVGTextElement).getBBox();
        const role =
          el.getAttribute("data-role") ?? el.parentElement?.getAttribute("data-role") ?? "";
        out.push({
          role,
          text: el.textContent ?? "",
          x: b.x,
          y: b.y,
          width: b.width,
          height: b.height,
        });
      }
      return { width: root.width.baseVal.value, height: root.height.baseVal.value, boxes: out };
    });
    for (const b of boxes) {
      expect(b.x, `"${b.text}" starts inside the figure`).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, `"${b.text}" ends inside the figure`).toBeLessThanOrEqual(width);
      expect(b.y, `"${b.text}" is below the top`).toBeGreaterThanOrEqual(0);
      expect(b.y + b.height, `"${b.text}" is above the bottom`).toBeLessThanOrEqual(height);
    }
    const header = ["title", "subtitle", "colorbar-label"].map((role) => {
      const b = boxes.find((x) => x.role === role);
      if (!b) throw new Error(`no ${role}`);
      return b;
    });
    const overlap = (a: Box, b: Box) =>
      a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    for (let i = 0; i < header.length; i++) {
      for (let j = i + 1; j < header.length; j++) {
        expect(
          overlap(header[i], header[j]),
          `${header[i].role} "${header[i].text}" and ${header[j].role} "${header[j].text}" overlap`,
        ).toBe(false);
      }
    }
    if (t.model === "edited") expect(header[0].text).toContain("(edited model)");
    await page
      .locator("svg")
      .screenshot({ path: path.join(ROOT, "test-results", `export-layout-${name}.png`) });
  });
}
