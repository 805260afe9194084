/**
 * ROME's / MEMIT's C = E[k kᵀ] and ROME's context templates are statistics of the UNEDITED model:
 * ROME computes them once (rome/compute_u.py inv_mom2_cache, context_templates_cache) and reuses
 * them for every later edit. Here: an edited view of a loaded model gets the root's cached C and
 * templates (no recomputation, identical values, even though the edit changes the layer's keys),
 * two loaded models never share one, and disposing the root drops the cache without leaking.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { contextTemplates, templateCache } from "../lib/edit/context";
import { momentCache, secondMoment } from "../lib/edit/cov";
import type { RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { randomWeights, SMALL, charTokenizer as tok } from "./fixtures/edit/random-model";

const TEXTS = ["the cat sat on the mat.", "a dog ran far away, fast!", "rain falls on hills"];
const CONTEXT = { lengths: [4], per_length: 2 };

/** A rank-one ROME edit of layer 0's MLP output, large enough to move layer 1's MLP keys. */
const romeEdit: RomeEdit = {
  kind: "rome",
  id: "e1",
  enabled: true,
  site: { layer: 0 },
  params: { prompt: "{} is", subject: "a", target_new: "b" },
  learned: {
    u: Array.from({ length: SMALL.dMlp }, (_, i) => Math.cos(i) / Math.sqrt(SMALL.dMlp / 2)),
    v: Array.from({ length: SMALL.dModel }, (_, j) => 3 * Math.sin(j + 1)),
  },
} as RomeEdit;

/** blocks.1.mlp.hook_post of a short text in a model: to check that the edit moves C's keys. */
async function keys(m: Gpt2Model): Promise<Float32Array> {
  const { logits, activations } = m.forward({
    inputIds: [tok.encode("the cat")],
    record: ["blocks.1.mlp.hook_post"],
    logitPositions: "last",
  });
  const k = activations.get("blocks.1.mlp.hook_post")!;
  const out = (await k.data()) as Float32Array;
  tf.dispose([logits, k]);
  return out;
}

beforeAll(async () => {
  await selectBackend(["wasm"]);
});

describe("C and context templates are cached per root model", () => {
  it("an edited view reuses the root's C and templates; disposing the root drops them", async () => {
    const before = tf.memory().numTensors;
    const model = Gpt2Model.fromWeights(SMALL, randomWeights());
    const c0 = momentCache.computed;
    const t0 = templateCache.computed;
    const ref = await secondMoment(model, tok, TEXTS, 1);
    const tpl = await contextTemplates(model, tok, CONTEXT);
    expect(momentCache.computed).toBe(c0 + 1);
    expect(templateCache.computed).toBe(t0 + 1);

    const edited = applyEdits(model, [romeEdit]);
    expect(edited.weights.root).toBe(model);
    expect(edited.view(3).root).toBe(model);
    // the edit does change layer 1's keys, so a C computed on the view would differ
    const [kBase, kEdit] = [await keys(model), await keys(edited.weights)];
    let moved = 0;
    for (let i = 0; i < kBase.length; i++) moved = Math.max(moved, Math.abs(kBase[i] - kEdit[i]));
    expect(moved).toBeGreaterThan(1e-3);

    for (const m of [edited, edited.weights, edited.view(5)]) {
      const mom = await secondMoment(m, tok, TEXTS, 1);
      expect(Array.from(mom.C)).toEqual(Array.from(ref.C));
      expect(mom).toBe(ref);
      expect(await contextTemplates(m, tok, CONTEXT)).toEqual(tpl);
    }
    expect(momentCache.computed).toBe(c0 + 1);
    expect(templateCache.computed).toBe(t0 + 1);
    // another layer or corpus is another entry
    await secondMoment(edited, tok, TEXTS.slice(1), 1);
    expect(momentCache.computed).toBe(c0 + 2);
    expect(momentCache.size(edited)).toBe(2);

    edited.dispose();
    model.dispose();
    expect(momentCache.size(model)).toBe(0);
    expect(templateCache.size(model)).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("two loaded models with the same weights never share one C", async () => {
    const a = Gpt2Model.fromWeights(SMALL, randomWeights());
    const b = Gpt2Model.fromWeights(SMALL, randomWeights());
    const c0 = momentCache.computed;
    const [ma, mb] = [await secondMoment(a, tok, TEXTS, 0), await secondMoment(b, tok, TEXTS, 0)];
    expect(momentCache.computed).toBe(c0 + 2);
    expect(ma).not.toBe(mb);
    a.dispose();
    expect(momentCache.size(a)).toBe(0);
    expect(momentCache.size(b)).toBe(1);
    b.dispose();
  });

  it("a failed computation leaves no tensor and no cache entry", async () => {
    const model = Gpt2Model.fromWeights(SMALL, randomWeights());
    model.dispose();
    const before = tf.memory().numTensors;
    await expect(secondMoment(model, tok, TEXTS, 0)).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
    expect(momentCache.size(model)).toBe(0);
  });
});
