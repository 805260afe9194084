/**
 * `causeway forget` trains each test fact once and reads both rows off that one trajectory
 * (lib/edit/forget-suite.ts): the final state is the cap-off row, the last state within the cap
 * the capped one. That capped state must be exactly what training under the cap keeps
 * (lib/edit/lora.ts), here on the seeded random GPT-2 with a cap chosen to bind mid-way.
 */
import "../lib/model/backends-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeImportance } from "../lib/edit/forget";
import { cappedEdit, NO_CAP } from "../lib/edit/forget-suite";
import { keptState, type LoraState, learnLora } from "../lib/edit/lora";
import type { LoraEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

const TEXTS = ["the cat sat on the mat.", "a dog ran to the park.", "we ate the red apple."];
const edit = (epsilon: number, lambda: number): LoraEdit => ({
  kind: "lora",
  site: { layers: [0, 1] },
  params: {
    prefix: "the dog sat on the",
    suffix: " qzx",
    rank: 2,
    alpha: 2,
    steps: 6,
    lr: 0.3,
    seed: 1,
    epsilon,
    eval_prompts: ["a dog ran to the"],
    ...(lambda > 0 ? { forget: { lambda, steps: 2, batch: 2 } } : {}),
  },
});
let model: Gpt2Model;

describe("forget: one trajectory gives the cap-off and the capped rows", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  for (const lambda of [0, 0.3]) {
    it(`λ ${lambda}: the state kept under ε is the one training under ε keeps`, async () => {
      const states: LoraState[] = [];
      const dataset = { general_text: TEXTS };
      const off = await learnLora(model, charTokenizer, edit(NO_CAP, lambda), {
        dataset,
        onState: (s) => states.push(s),
      });
      expect(states.map((s) => s.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(off.learned!.info!.kept_step).toBe(6); // no cap: the final state
      // a cap at one of the trajectory's ratios such that it binds after step 0 and before the end
      const epsilon =
        states
          .map((s) => s.nll / states[0].nll - 1)
          .find((e) => [1, 2, 3, 4, 5].includes(keptState(states, e).step)) ?? Number.NaN;
      const k = keptState(states, epsilon);
      expect(k.step).toBeGreaterThan(0);
      expect(k.step).toBeLessThan(6);

      const under = await learnLora(model, charTokenizer, edit(epsilon, lambda), { dataset });
      const capped = cappedEdit(off, states, epsilon);
      const info = under.learned!.info!;
      expect(capped.edit.learned!.info!.kept_step).toBe(info.kept_step);
      expect(capped.ratio).toBe(info.loss_ratio);
      expect(capped.edit.learned!.factors).toEqual(under.learned!.factors);
    });
  }

  it("importance computed once for a run gives each training the numbers it computes itself", async () => {
    const dataset = { general_text: TEXTS };
    const e = edit(NO_CAP, 0.3);
    const own = await learnLora(model, charTokenizer, e, { dataset });
    const importance = await computeImportance({
      model,
      tok: charTokenizer,
      weights: [0, 1].map((layer) => ({ layer, name: "wOut" as const })),
      texts: TEXTS,
      params: e.params.forget!,
    });
    try {
      const given = await learnLora(model, charTokenizer, e, { dataset, importance });
      expect(given.learned!.info!.losses).toEqual(own.learned!.info!.losses);
      expect(given.learned!.factors).toEqual(own.learned!.factors);
      expect(importance.weights[0].omega.isDisposed).toBe(false); // the caller's to free
    } finally {
      importance.dispose();
    }
  });
});
