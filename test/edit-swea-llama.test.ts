/**
 * SWEA's lookup on a Llama (the bundled tiny-facts-llama: BOS, RMSNorm, rotary, untied head): a
 * SWEA edit learned there acts exactly as an `add` of its offsets at the subject's positions of
 * hook_embed would (the lookup finds the subject after the BOS and, in its other spelling, in mid-sentence), and leaves
 * a prompt without the subject bit-identical. A cheap recipe: this is about where it acts; the
 * numbers of the learning are checked against torch in test/edit-swea.test.ts.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { learnSwea } from "../lib/edit/swea";
import { sweaHits } from "../lib/edit/swea-site";
import type { SweaEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { matchSpans } from "../lib/model/token-match";
import { continuationTokens } from "../lib/util/tokenizer";
import { loadEngine } from "./interp-helpers";

const DIR = path.resolve(__dirname, "../public/models/tiny-facts-llama");
const present = existsSync(path.join(DIR, "model.safetensors"));
let engine: Engine;

describe.skipIf(!present)("SWEA on tiny-facts-llama", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(DIR);
  });
  afterAll(() => engine?.dispose());

  it("adds its offsets where the subject occurs, as an add at those positions would", async () => {
    const tok = engine.tokenizer;
    const model = engine.model;
    const edit = await learnSwea(model, tok, {
      kind: "swea",
      params: {
        requests: [
          {
            prompt: "{} lives in the city of",
            subject: "Ralkrok Stennos",
            target_new: "Orvane",
            target_true: "Parrow",
          },
        ],
        v_num_grad_steps: 3,
        kn_steps: 2,
        context: { per_length: 0 },
      },
    } satisfies SweaEdit);
    const fusions = edit.learned!.fusions;
    const edited = applyEdits(model, [edit]);
    const before = tf.memory().numTensors;
    const found: number[] = [];
    try {
      for (const text of [
        "Ralkrok Stennos lives in the city of",
        "Every morning, Ralkrok Stennos walks through the streets of",
        "The home city of Vonbak Nerbak is",
      ]) {
        const ids = tok.encode(text);
        const spans = matchSpans(
          [ids],
          fusions.map((f) => f.tokens),
        );
        found.push(spans.length);
        expect(sweaHits(edit, ids), text).toEqual(spans.length > 0 ? [0] : []);
        const got = edited.forward({ inputIds: [ids], logitPositions: "last" }).logits;
        const want = model.forward({
          inputIds: [ids],
          logitPositions: "last",
          interventions: spans.map((s) => ({
            hook: "hook_embed",
            op: "add" as const,
            positions: fusions[s.key].tokens.map((_, j) => s.start + j),
            value: fusions[s.key].offsets,
          })),
        }).logits;
        const plain = model.forward({ inputIds: [ids], logitPositions: "last" }).logits;
        const [g, w, p] = await Promise.all([got.data(), want.data(), plain.data()]);
        tf.dispose([got, want, plain]);
        expect(Math.max(...g.map((x, i) => Math.abs(x - w[i]))), text).toBeLessThan(1e-5);
        const moved = Math.max(...g.map((x, i) => Math.abs(x - p[i])));
        if (spans.length === 0) expect(moved, text).toBe(0);
        else expect(moved, text).toBeGreaterThan(1e-3);
      }
    } finally {
      edited.dispose();
    }
    // after the BOS at the start, and in mid-sentence: the subject's two spellings (there with
    // another number of tokens), each a key with offsets of its own
    expect(found).toEqual([1, 1, 0]);
    expect(fusions.map((f) => f.tokens)).toEqual([
      tok.encode("Ralkrok Stennos").slice(1),
      continuationTokens(tok, " Ralkrok Stennos"),
    ]);
    expect(edit.learned!.info!.requests[0].skipped_keys).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
