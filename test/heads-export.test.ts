/**
 * Head-score exports (lib/export/head-scores.ts): JSON with `causeway heads --json`'s fields
 * (read back equal), CSV one row per head with an empty cell for a score the prompt does not
 * define, numbers in full.
 */
import { describe, expect, it } from "vitest";
import { parseCsv } from "../lib/export/csv";
import { headScoresCsv, headScoresJson } from "../lib/export/head-scores";
import {
  HEAD_SCORE_DEFINITIONS,
  HEAD_SCORE_NAMES,
  type HeadScoresResult,
} from "../lib/interp/head-scores";

const grid = (seed: number) => [
  [seed + 0.125, 1 / 3],
  [2 ** -20, seed],
];

const result: HeadScoresResult = {
  input_ids: [5, 6, 7],
  input_tokens: ["a", " b,", ' "c"'],
  subject_range: null,
  repeat: { length: 2, batch: 1, seed: 1, ids: [[1, 2, 1, 2]] },
  scores: {
    previous_token: grid(0.1),
    first_token: grid(0.2),
    subject: null,
    duplicate_token: grid(0.3),
    induction: grid(0.4),
  },
  definitions: { ...HEAD_SCORE_DEFINITIONS },
  n_layer: 2,
  n_head: 2,
};

describe("head score exports", () => {
  it("JSON: the CLI's fields, read back equal, with the backend when given", () => {
    const back = JSON.parse(headScoresJson(result, { backend: "webgpu" }));
    expect(back).toEqual({ ...result, backend: "webgpu" });
    expect(JSON.parse(headScoresJson(result))).toEqual(result);
    // what it is of comes first
    const model = { name: "tiny-facts", source: "bundled:tiny-facts", n_params: 1 };
    const text = headScoresJson(result, { backend: "wasm", model });
    expect(Object.keys(JSON.parse(text))[0]).toBe("model");
    expect(JSON.parse(text)).toEqual({ model, ...result, backend: "wasm" });
  });

  it("CSV: layer, head and one column per score; an undefined score is an empty cell", () => {
    const rows = parseCsv(headScoresCsv(result));
    expect(rows[0]).toEqual(["layer", "head", ...HEAD_SCORE_NAMES]);
    expect(rows).toHaveLength(1 + 4);
    for (const row of rows.slice(1)) {
      const [l, h] = [Number(row[0]), Number(row[1])];
      HEAD_SCORE_NAMES.forEach((name, i) => {
        const g = result.scores[name];
        if (g === null) expect(row[2 + i]).toBe("");
        else expect(Number(row[2 + i])).toBe(g[l][h]); // full precision
      });
    }
  });
});
