/**
 * The deviation cap's general-text loss is measured after every training step, so it is most of
 * the canonical evaluation's time; generalTextLoss (lib/edit/metrics.ts) runs it in groups of
 * rows of similar length (little padding, small batches: half the CPU time on tiny-facts). The
 * cheaper path must give the numbers of one padded batch of every text: checked here on the
 * seeded random GPT-2 with texts of very different lengths, plain and with a LoRA edit applied.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, type ModelLike } from "../lib/edit/apply";
import { generalTextLoss, tokenLogProbs } from "../lib/edit/metrics";
import type { LoraEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

// 1 to 40 characters (the context is 32: the longest are cut; one single-token text is skipped);
// 400 of them, so that the groups (at most 2^19 logits: 327 rows of 32 tokens) are several
const TEXTS = Array.from({ length: 400 }, (_, i) =>
  "the cat sat on the mat and a dog ran off.".slice(0, ((i * 7) % 40) + 1),
);

/** The mean NLL of one padded batch of every text, as generalTextLoss computed it before. */
async function oneBatch(m: ModelLike) {
  const rows = TEXTS.map((t) => charTokenizer.encode(t).slice(0, SMALL.nCtx)).filter(
    (r) => r.length > 1,
  );
  const lp = await tokenLogProbs(
    m,
    rows,
    rows.map((r) => r.slice(0, -1).map((_, i) => i)),
    rows.map((r) => r.slice(1)),
  );
  const all = lp.flat();
  return {
    nll: -all.reduce((a, b) => a + b, 0) / all.length,
    tokens: all.length,
    texts: rows.length,
  };
}

let model: Gpt2Model;

describe("general-text loss in length groups equals one padded batch", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  it("on the model and on a LoRA-edited view", async () => {
    const lora: LoraEdit = {
      kind: "lora",
      site: { layers: [0, 1] },
      params: { prefix: "the cat", suffix: " sat", rank: 2, alpha: 2 },
      learned: {
        factors: [0, 1].map((layer) => ({
          layer,
          module: "c_proj" as const,
          a: Array.from({ length: SMALL.dMlp * 2 }, (_, i) => Math.sin(i + layer) * 0.3),
          b: Array.from({ length: 2 * SMALL.dModel }, (_, i) => Math.cos(i) * 0.3),
        })),
      },
    };
    const edited = applyEdits(model, [lora]);
    try {
      const nll: number[] = [];
      for (const m of [model, edited]) {
        const got = await generalTextLoss(m, charTokenizer, TEXTS);
        const want = await oneBatch(m);
        expect(got.tokens).toBe(want.tokens);
        expect(got.texts).toBe(want.texts);
        expect(Math.abs(got.nll - want.nll) / want.nll).toBeLessThan(1e-6);
        nll.push(got.nll);
      }
      // the edit moved the loss far more than the grouping's rounding
      expect(Math.abs(nll[0] - nll[1]) / nll[0]).toBeGreaterThan(1e-3);
    } finally {
      edited.dispose();
    }
  });
});
