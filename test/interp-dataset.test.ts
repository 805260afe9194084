/**
 * Dataset mode (lib/interp/dataset.ts): ROME's token groups averaged over facts, wrong facts
 * skipped and counted, curves equal to averaging single traces by hand.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { CancelledError } from "../lib/interp/cancel";
import {
  type KnownFact,
  parseKnownFacts,
  runTraceDataset,
  TOKEN_GROUPS,
} from "../lib/interp/dataset";
import { runTrace } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { loadEngine } from "./interp-helpers";

let engine: Engine;
let right: KnownFact[] = [];
let wrong: KnownFact[] = [];

// Prompts end in a space so that a one-character attribute is one byte-level token.
const CANDIDATES = [
  ["Big cats run far ", "cats"],
  ["Old dogs sing loud ", "Old dogs"],
  ["Red fox jumps ", "fox"],
  ["Small birds fly high ", "birds"],
  ["Green frogs swim ", "frogs"],
  ["Quick owls hoot ", "owls"],
  ["Kind bears nap ", "Kind"],
  ["Wild mice dig ", "mice"],
];

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine("tiny-4l");
  for (const [prompt, subject] of CANDIDATES) {
    const p = await engine.predict(prompt, 1);
    const id = p.top[0].id;
    if (id < 33 || id > 126) continue; // printable ASCII: one token, decodes and re-encodes
    const ch = String.fromCharCode(id);
    if (right.length < 3) right.push({ prompt, subject, attribute: ch });
    else if (wrong.length < 1) wrong.push({ prompt, subject, attribute: ch === "q" ? "z" : "q" });
  }
  if (wrong.length === 0)
    wrong = [{ ...right[0], attribute: right[0].attribute === "q" ? "z" : "q" }];
  right = right.slice(0, 3);
});
afterAll(() => engine?.dispose());

describe("dataset mode", () => {
  it("has facts the model gets right to work with", () => {
    expect(right.length).toBeGreaterThanOrEqual(2);
  });

  it("averages ROME's token groups over the facts it gets right; counts the others", async () => {
    const before = tf.memory().numTensors;
    const invalid: KnownFact = { prompt: "Big cats run far ", subject: "zebras", attribute: "x" };
    const facts = [...right, ...wrong, invalid];
    const seen: string[] = [];
    const r = await runTraceDataset(engine, facts, {
      kinds: ["hidden", "mlp"],
      samples: 2,
      window: 2,
      onFact: (_, __, status) => seen.push(status),
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r).toMatchObject({
      n_facts: facts.length,
      n_used: right.length,
      skipped_wrong: wrong.length,
      skipped_invalid: 1,
      n_layer: 4,
      samples: 2,
    });
    expect(seen.filter((s) => s === "used")).toHaveLength(right.length);
    expect(Object.keys(r.kinds)).toEqual(["hidden", "mlp"]);

    // by hand: the same traces, grouped as ROME does
    const manual: Record<string, number[][]> = Object.fromEntries(TOKEN_GROUPS.map((g) => [g, []]));
    let high = 0;
    for (const f of right) {
      const ids = engine.tokenizer.encode(f.prompt);
      const t = await runTrace(engine, {
        prompt: ids,
        subject: f.subject,
        samples: 2,
        window: 2,
        kind: "mlp",
      });
      high += t.high;
      const [b, e] = t.subject;
      const T = t.scores.length;
      const ie = (row: number[]) => row.map((v) => v - t.low);
      manual.first_subject.push(ie(t.scores[b]));
      for (let i = b + 1; i < e - 1; i++) manual.middle_subject.push(ie(t.scores[i]));
      manual.last_subject.push(ie(t.scores[e - 1]));
      if (e < T) manual.first_after.push(ie(t.scores[e]));
      for (let i = e + 1; i < T - 1; i++) manual.further.push(ie(t.scores[i]));
      manual.last.push(ie(t.scores[T - 1]));
    }
    expect(r.avg_high_score).toBeCloseTo(high / right.length, 6);
    for (const g of r.kinds.mlp!.groups) {
      const rows = manual[g.group];
      expect(g.n, g.group).toBe(rows.length);
      if (rows.length === 0) continue;
      for (let l = 0; l < 4; l++) {
        const vals = rows.map((x) => x[l]);
        const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
        expect(g.mean[l]).toBeCloseTo(mean, 6);
        expect(g.lo[l]).toBeLessThanOrEqual(g.mean[l]);
        expect(g.hi[l]).toBeGreaterThanOrEqual(g.mean[l]);
        if (vals.length > 1) {
          const sd = Math.sqrt(vals.reduce((a, v) => a + (v - mean) ** 2, 0) / (vals.length - 1));
          expect(g.hi[l] - g.mean[l]).toBeCloseTo((1.96 * sd) / Math.sqrt(vals.length), 6);
        }
      }
    }
    expect(r.kinds.hidden!.evaluations).toBeGreaterThan(0);
  });

  it("cancels between facts without leaking", async () => {
    const before = tf.memory().numTensors;
    const flag = { cancelled: false };
    const run = runTraceDataset(engine, [...right, ...right], {
      kinds: ["hidden"],
      samples: 1,
      signal: flag,
      onFact: (done) => {
        if (done === 1) flag.cancelled = true;
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reads dataset.json's known_facts and ROME's bare known_1000 list", () => {
    const fact = {
      known_id: 0,
      subject: "Vinson Massif",
      attribute: "Antarctica",
      template: "{} is located in the continent of",
      prediction: " Antarctica",
      prompt: "Vinson Massif is located in the continent of",
      relation_id: "P30",
    };
    expect(parseKnownFacts([fact])).toEqual([fact]);
    expect(parseKnownFacts({ known_facts: [fact], counterfact: [] })).toEqual([fact]);
    expect(() => parseKnownFacts({ facts: [] })).toThrow(/known_facts/);
    expect(() => parseKnownFacts([{ prompt: "x" }])).toThrow(/subject/);
  });
});
