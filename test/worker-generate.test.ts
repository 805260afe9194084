/**
 * The worker's generate requests (workers/generate-job.ts) in Node, with the bundled model:
 * answers carry numpy's greedy ids (test/fixtures/generate/bundled.json), a newer request of the
 * same variant wins, the two variants run side by side, cancel stops a generation, no model is
 * an error, and the edited variant uses the edited model.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, type EditedModel } from "../lib/edit/apply";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker, GenerateSettings } from "../lib/protocol";
import { GenerateJobs } from "../workers/generate-job";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const fx = JSON.parse(readFileSync(path.join(__dirname, "fixtures/generate/bundled.json"), "utf8"));
const greedy: GenerateSettings = { maxNew: 12, sample: false, seed: 0, temperature: 1, topK: 0 };

let engine: Engine;

function jobs(opts: { engine?: Engine | null; edited?: EditedModel | null } = {}) {
  const sent: FromWorker[] = [];
  const g = new GenerateJobs({
    post: (m) => sent.push(m),
    engine: async () => (opts.engine === undefined ? engine : opts.engine),
    edited: () => opts.edited ?? null,
    track: (p) => p,
  });
  return { g, sent };
}

const answers = (sent: FromWorker[]) =>
  sent.filter((m): m is Extract<FromWorker, { type: "generate" }> => m.type === "generate");

describe.skipIf(!present)("worker generate requests", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("answers with the reference ids, progress per token, and done", async () => {
    const { g, sent } = jobs();
    const ref = fx.greedy[1];
    await g.submit({
      type: "generate",
      reqId: 1,
      prompt: ref.prompt,
      settings: greedy,
      variant: "original",
    });
    const [a] = answers(sent);
    expect(a.result.ids).toEqual(ref.ids);
    expect(a.result.tokens.join("")).toBe(a.result.text);
    expect(a.variant).toBe("original");
    expect(sent.filter((m) => m.type === "progress")).toHaveLength(ref.ids.length);
    expect(sent[sent.length - 1].type).toBe("done");
  });

  it("the latest request of a variant wins; the other variant runs beside it", async () => {
    const { g, sent } = jobs();
    const p1 = g.submit({
      type: "generate",
      reqId: 1,
      prompt: "The",
      settings: greedy,
      variant: "edited",
    });
    const p2 = g.submit({
      type: "generate",
      reqId: 2,
      prompt: fx.greedy[2].prompt,
      settings: greedy,
      variant: "edited",
    });
    const p3 = g.submit({
      type: "generate",
      reqId: 3,
      prompt: fx.greedy[2].prompt,
      settings: greedy,
      variant: "original",
    });
    await Promise.all([p1, p2, p3]);
    const got = answers(sent);
    expect(got.map((m) => m.reqId).sort()).toEqual([2, 3]);
    for (const m of got) expect(m.result.ids).toEqual(fx.greedy[2].ids);
    // no edit stack: the edited variant says it is the original
    expect(got.find((m) => m.reqId === 2)!.result.sameAsOriginal).toBe(true);
    expect(sent.some((m) => m.reqId === 1)).toBe(false);
  });

  it("cancel stops a generation without an answer; no model is an error", async () => {
    const { g, sent } = jobs();
    const p = g.submit({
      type: "generate",
      reqId: 5,
      prompt: "The",
      settings: { ...greedy, maxNew: 30 },
      variant: "original",
    });
    expect(g.cancel(5)).toBe(true);
    await p;
    expect(answers(sent)).toHaveLength(0);
    expect(g.cancel(99)).toBe(false);
    const none = jobs({ engine: null });
    await none.g.submit({ type: "generate", reqId: 6, prompt: "The", settings: greedy });
    expect(none.sent).toEqual([
      { type: "error", reqId: 6, code: "no_model", message: "No model is loaded" },
    ]);
    const bad = jobs();
    await bad.g.submit({
      type: "generate",
      reqId: 7,
      prompt: "The",
      settings: { ...greedy, sample: true, temperature: 0 },
    });
    expect(bad.sent[0]).toMatchObject({ type: "error", reqId: 7, code: "bad_edit" });
  });

  it("the edited variant generates with the edited model", async () => {
    const before = tf.memory().numTensors;
    const edited = applyEdits(engine.model, [
      {
        kind: "lora",
        site: { layers: fx.lora.layers },
        params: { prefix: "x", suffix: " y", rank: fx.lora.rank, alpha: fx.lora.alpha },
        learned: { factors: fx.lora.factors },
      },
    ]);
    const { g, sent } = jobs({ edited });
    await g.submit({
      type: "generate",
      reqId: 8,
      prompt: fx.lora.prompt,
      settings: greedy,
      variant: "edited",
    });
    await g.submit({
      type: "generate",
      reqId: 9,
      prompt: fx.lora.prompt,
      settings: greedy,
      variant: "original",
    });
    const [e, o] = answers(sent);
    expect(e.result.ids).toEqual(fx.lora.ids);
    expect(e.result.sameAsOriginal).toBe(false);
    expect(o.result.ids).toEqual(fx.greedy[0].ids);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
