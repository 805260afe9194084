/**
 * Trace exports parse back: JSON (ROME's field names) and CSV give the same numbers, the SVG is
 * well-formed XML (checked by Python's strict xml.etree parser, an independent implementation)
 * with the axis labels, starred subject tokens, title and colour bar; session files round-trip.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCsv, traceCsv } from "../lib/export/csv";
import { traceJson } from "../lib/export/json";
import { traceSvg } from "../lib/export/svg";
import { exportsOf, type TraceExport } from "../lib/export/trace-data";
import { readSessionFile, sessionFile } from "../lib/share/file";
import { DEFAULT_SESSION } from "../lib/share/session";

const carried = {
  tokens: ["<b>", ' "Stennos', ",lives", " in", "\n&"],
  subject: [0, 2] as [number, number],
  answer: ' Par"row',
  low: 0.0123,
  high: 0.8765,
  window: 2,
  grids: [
    {
      kind: "hidden" as const,
      rows: 5,
      cols: 3,
      values: [
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
        0.6,
        0.7,
        0.8,
        0.9,
        0.05,
        Number.NaN,
        0.25,
        0.125,
        0.0625,
        1,
      ],
    },
    {
      kind: "mlp" as const,
      rows: 5,
      cols: 3,
      values: Array.from({ length: 15 }, (_, i) => i / 20),
    },
  ],
};
const traces: TraceExport[] = exportsOf(carried);

describe("JSON export", () => {
  it("has ROME's field names and the grid", () => {
    const one = JSON.parse(traceJson([traces[0]]));
    expect(Object.keys(one).sort()).toEqual(
      [
        "answer",
        "high_score",
        "input_tokens",
        "kind",
        "low_score",
        "scores",
        "subject_range",
        "window",
      ].sort(),
    );
    expect(one.scores).toEqual([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
      [0.7, 0.8, 0.9],
      [0.05, null, 0.25],
      [0.125, 0.0625, 1],
    ]);
    expect(one.subject_range).toEqual([0, 2]);
    expect(one.input_tokens).toEqual(carried.tokens);
    const both = JSON.parse(traceJson(traces));
    expect(both.map((t: { kind: string }) => t.kind)).toEqual(["hidden", "mlp"]);
  });
});

describe("CSV export", () => {
  it("parses back to every cell, tokens with commas, quotes and newlines intact", () => {
    const rows = parseCsv(traceCsv(traces));
    expect(rows[0]).toEqual([
      "kind",
      "position",
      "token",
      "in_subject",
      "layer",
      "score",
      "low_score",
      "high_score",
      "answer",
    ]);
    expect(rows.length).toBe(1 + 2 * 15);
    for (const t of traces) {
      for (const [pos, row] of t.scores.entries()) {
        for (const [layer, v] of row.entries()) {
          const r = rows.find(
            (x) => x[0] === t.kind && x[1] === String(pos) && x[4] === String(layer),
          );
          expect(r).toBeDefined();
          expect(r?.[2]).toBe(t.input_tokens[pos]);
          expect(r?.[3]).toBe(String(pos < 2));
          expect(r?.[5]).toBe(Number.isNaN(v) ? "" : String(v));
          expect(Number(r?.[6])).toBe(t.low_score);
          expect(r?.[8]).toBe(t.answer);
        }
      }
    }
  });
});

const python = ["python3", "/usr/bin/python3"].find(
  (p) => spawnSync(p, ["-c", "import xml.etree.ElementTree"]).status === 0,
);

describe("SVG export", () => {
  const svg = traceSvg(traces[0]);
  it.skipIf(!python)(
    `is well-formed XML with the expected labels (${python ? "xml.etree" : "SKIPPED: no python3"})`,
    () => {
      const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
ns = "{http://www.w3.org/2000/svg}"
def texts(role):
    return ["".join(g.itertext()) for g in root.iter() if g.get("data-role") == role]
ys = [t.text for g in root.iter(ns + "g") if g.get("data-role") == "y-axis" for t in g]
xs = [t.text for g in root.iter(ns + "g") if g.get("data-role") == "x-axis" for t in g]
cells = [r for g in root.iter(ns + "g") if g.get("data-role") == "cells" for r in g]
print(json.dumps({"tag": root.tag, "title": texts("title"), "subtitle": texts("subtitle"), "y": ys, "x": xs,
                  "cells": len(cells), "bar": texts("colorbar-label"),
                  "ticks": [t.text for g in root.iter(ns + "g") if g.get("data-role") == "colorbar" for t in g if t.tag == ns + "text"]}))
`;
      const r = spawnSync(python as string, ["-c", script], { input: svg, encoding: "utf8" });
      expect(r.stderr).toBe("");
      const got = JSON.parse(r.stdout);
      expect(got.tag).toBe("{http://www.w3.org/2000/svg}svg");
      expect(got.title).toEqual(["Impact of restoring state after corrupted input"]);
      expect(got.subtitle[0]).toContain('" Par\\"row"');
      expect(got.y).toEqual(["<b>*", '·"Stennos*', ",lives", "·in", "↵&"]);
      expect(got.x).toEqual(["0", "1", "2", "single restored layer"]);
      expect(got.cells).toBe(15);
      expect(got.bar).toEqual(['p( Par"row)']);
      expect(got.ticks.length).toBeGreaterThan(2);
    },
  );

  it("names the edited model in the title and the JSON; the original's stay ROME's", () => {
    const edited = { ...traces[0], model: "edited" as const };
    expect(traceSvg(edited)).toContain(
      "Impact of restoring state after corrupted input (edited model)",
    );
    expect(traceSvg(traces[0])).not.toContain("edited");
    expect(JSON.parse(traceJson([edited])).model).toBe("edited");
    expect("model" in JSON.parse(traceJson([{ ...traces[0], model: "original" }]))).toBe(false);
  });

  it("labels the window of the mlp and attn kinds", () => {
    expect(traceSvg(traces[1])).toContain("center of interval of 2 restored MLP layers");
    expect(traceSvg(traces[1])).toContain("Impact of restoring MLP after corrupted input");
  });
});

describe("session file", () => {
  it("round-trips and refuses other files", () => {
    const s = {
      ...DEFAULT_SESSION,
      prompt: "Ralkrok Stennos lives in the city of",
      trace: carried,
    };
    const back = readSessionFile(sessionFile(s));
    expect(back.prompt).toBe(s.prompt);
    expect(back.trace?.grids[0].values.slice(0, 3)).toEqual([
      0.0999755859375, 0.199951171875, 0.300048828125,
    ]);
    expect(() => readSessionFile("{")).toThrow(/not JSON/);
    expect(() => readSessionFile('{"format":"x"}')).toThrow(/not a Causeway session file/);
    expect(() => readSessionFile('{"format":"causeway-session","version":9,"session":{}}')).toThrow(
      /v9/,
    );
  });
});
