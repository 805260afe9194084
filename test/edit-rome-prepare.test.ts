/**
 * ROME's preparation before its first step reports progress and can be cancelled: C over the
 * corpus ("statistics", texts done of total) and the context templates ("templates", tokens
 * sampled of total) each report until done = total; a cancel during C stops the edit with
 * EditError "cancelled", frees every tensor and leaves nothing cached, so the next edit computes
 * C again (and reports it); once cached, an edit has no preparation to report.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { computeRome, type PreparePhase } from "../lib/edit/rome";
import type { RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

const tok = charTokenizer;
const TEXTS = ["the cat sat on the mat.", "a dog ran far away, fast!", "who is there? nobody is."];
const dataset = { general_text: [...TEXTS, ...TEXTS.map((t) => t.toUpperCase())] };
const edit: RomeEdit = {
  kind: "rome",
  site: { layer: 0 },
  params: {
    prompt: "{} lives in",
    subject: "bob",
    target_new: "x",
    steps: 1,
    cov: "general_text",
    context: { lengths: [4, 6], per_length: 2 },
  },
};

type Report = [PreparePhase, number, number];
let model: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomWeights(SMALL, 7));
});

describe("ROME's preparation", () => {
  it("a cancel during C stops the edit, frees its tensors and caches nothing", async () => {
    const signal = { cancelled: false };
    const reports: Report[] = [];
    const before = tf.memory().numTensors;
    await expect(
      computeRome(model, tok, edit, {
        dataset,
        signal,
        onPrepare: (what, done, total) => {
          reports.push([what, done, total]);
          if (what === "statistics") signal.cancelled = true;
        },
      }),
    ).rejects.toMatchObject({ code: "cancelled" });
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.every(([w]) => w === "statistics")).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reports C's texts and the templates' tokens up to their totals, then nothing once cached", async () => {
    const reports: Report[] = [];
    await computeRome(model, tok, edit, {
      dataset,
      onPrepare: (what, done, total) => reports.push([what, done, total]),
    });
    for (const what of ["statistics", "templates"] as const) {
      const mine = reports.filter(([w]) => w === what);
      expect(mine.length, what).toBeGreaterThan(0);
      const dones = mine.map(([, d]) => d);
      expect(dones).toEqual([...dones].sort((a, b) => a - b));
      const [, last, total] = mine[mine.length - 1];
      expect(last, what).toBe(total);
    }
    // C's total is the corpus's texts; the templates' is every text grown from its starter
    expect(reports.find(([w]) => w === "statistics")?.[2]).toBe(dataset.general_text.length);
    const again: Report[] = [];
    await computeRome(model, tok, edit, {
      dataset,
      onPrepare: (what, done, total) => again.push([what, done, total]),
    });
    expect(again).toEqual([]);
  });
});
