/**
 * lib/export/rome-fields.ts: the one camelCase → ROME mapping. The numpy goldens (written by
 * scripts/reference, in ROME's names) must be reachable from the engine's names, and the JSON a
 * mapped object gives must keep the engine's key order (the CLI's --json bytes depend on it).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ROME_FIELDS, toRome } from "../lib/export/rome-fields";

const goldens = JSON.parse(
  readFileSync(new URL("./fixtures/trace/goldens.json", import.meta.url), "utf8"),
) as { cases: Record<string, unknown>[] };

describe("toRome", () => {
  it("renames the engine's fields to ROME's, keeps the rest and the order", () => {
    const out = toRome({
      ids: [1, 2],
      tokens: ["a", "b"],
      subject: [0, 1] as [number, number],
      kind: "hidden",
      high: 0.9,
      low: 0.1,
      noiseSigma: null,
      scores: [[0.5]],
      firstCorrupted: 0,
    });
    expect(JSON.stringify(out)).toBe(
      '{"input_ids":[1,2],"input_tokens":["a","b"],"subject_range":[0,1],"kind":"hidden","high_score":0.9,"low_score":0.1,"noise_sigma":null,"scores":[[0.5]],"first_corrupted":0}',
    );
  });

  it("gives every snake_case field of the numpy trace goldens from one engine name", () => {
    const romeNames = new Set<string>(Object.values(ROME_FIELDS));
    expect(romeNames.size).toBe(Object.keys(ROME_FIELDS).length);
    const snake = new Set(
      goldens.cases
        .filter((c) => c.type === "trace")
        .flatMap((c) => Object.keys(c))
        .filter((k) => k.includes("_")),
    );
    expect(snake.size).toBeGreaterThan(0);
    for (const k of snake) expect(romeNames.has(k), k).toBe(true);
  });
});
