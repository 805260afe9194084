/**
 * Canonical-examples editing on the bundled model (lib/edit/lora.ts, lib/edit/canonical.ts):
 *  - the LoRA training trajectory equals torch's (scripts/reference/lora_ref.py: its own GPT-2
 *    forward, autograd and torch.optim.Adam) on the example "Ralkrok Stennos lives in the city
 *    of" → " Orvane";
 *  - with the defaults, training on that one example raises the success rate on the fact's
 *    held-out phrasings while the general-text loss stays within (1 + ε) of the original, and
 *    the kept step is the last one within the cap (re-measured here, not read from the info);
 *  - the same held-out scoring applies to a ROME edit of the same example (C = I: the scoring is
 *    checked here, ROME's own quality in edit-rome-bundled.test.ts).
 * The measured numbers are printed (docs/edits.md quotes them).
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { canonicalPrompts, canonicalScore } from "../lib/edit/canonical";
import type { EditDataset } from "../lib/edit/dataset";
import { learnLora } from "../lib/edit/lora";
import { LORA_DEFAULTS } from "../lib/edit/lora-site";
import { generalTextLoss } from "../lib/edit/metrics";
import { computeRome, ROME_DEFAULTS } from "../lib/edit/rome";
import type { LoraEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const REF = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures/edit/lora-train.json"), "utf8"),
) as {
  prefix: string;
  suffix: string;
  layers: [number, number];
  rank: number;
  alpha: number;
  lr: number;
  seed: number;
  steps: number;
  losses: number[];
  factors: { layer: number; a: number[]; b: number[] }[];
};

let engine: Engine;
let dataset: EditDataset;
const recipe = (params: Partial<LoraEdit["params"]> = {}, layers?: [number, number]): LoraEdit => ({
  kind: "lora",
  site: layers ? { layers } : {},
  params: { prefix: REF.prefix, suffix: REF.suffix, ...params },
});

/** A training step measures the general-text loss too (≤ 100 texts): ~1–2 s idle. */
const LORA_LIMIT = (steps: number) =>
  workLimit({ units: steps, perUnitMs: 60_000, fixedMs: 300_000 });

describe.skipIf(!present)("canonical-examples LoRA on the bundled model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    dataset = JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8"));
  });
  afterAll(() => engine?.dispose());

  it(
    "the training trajectory matches torch (losses and factors after 4 Adam steps)",
    async () => {
      const before = tf.memory().numTensors;
      const steps: number[] = [];
      const e = await learnLora(
        engine.model,
        engine.tokenizer,
        recipe(
          {
            rank: REF.rank,
            alpha: REF.alpha,
            lr: REF.lr,
            seed: REF.seed,
            steps: REF.steps,
            modules: ["c_proj"],
            epsilon: 10, // keep the last step: this test is about the optimisation
            texts: 5,
          },
          REF.layers,
        ),
        { dataset, onStep: (s) => steps.push(s.step) },
      );
      expect(tf.memory().numTensors).toBe(before);
      expect(steps).toEqual([0, 1, 2, 3, 4]);
      const info = e.learned!.info!;
      expect(info.kept_step).toBe(REF.steps);
      info.losses.forEach((l, k) => {
        expect(Math.abs(l.loss - REF.losses[k]) / REF.losses[k], `step ${k}`).toBeLessThan(2e-3);
      });
      for (const [i, f] of e.learned!.factors.entries()) {
        const ref = REF.factors[i];
        expect(f.layer).toBe(ref.layer);
        const maxB = Math.max(...ref.b.map(Math.abs));
        const errB = Math.max(...f.b.map((x, j) => Math.abs(x - ref.b[j])));
        const errA = Math.max(...f.a.map((x, j) => Math.abs(x - ref.a[j])));
        expect(errB / maxB).toBeLessThan(1e-2);
        expect(errA).toBeLessThan(1e-3);
      }
    },
    LORA_LIMIT(REF.steps),
  );

  it(
    "one example raises held-out success within the ε = 1e-3 cap (defaults)",
    async () => {
      const texts = dataset.general_text!.slice(0, 100);
      const before = tf.memory().numTensors;
      const e = await learnLora(engine.model, engine.tokenizer, recipe(), { dataset });
      const info = e.learned!.info!;
      console.log(
        `LoRA canonical: success ${info.success_before} → ${info.success_rate} over ${info.n_eval} held-out prompts; ` +
          `kept step ${info.kept_step}/${info.losses.length - 1}, loss ratio ${info.loss_ratio.toFixed(6)} (ε ${info.epsilon}), ${info.params} params, ${info.ms} ms`,
      );
      expect(info.n_eval).toBe(6);
      expect(info.success_before).toBe(0);
      expect(info.success_rate!).toBeGreaterThanOrEqual(0.5);
      expect(info.loss_ratio).toBeLessThanOrEqual(1 + 1e-3);
      // the kept step is the last within the cap
      const within = info.losses.filter((l) => l.ratio <= 1 + info.epsilon).map((l) => l.step);
      expect(info.kept_step).toBe(Math.max(...within));
      expect(info.kept_step).toBeGreaterThan(0);
      expect(info.losses.some((l) => l.ratio > 1 + info.epsilon)).toBe(true); // the cap bit
      // re-measure the deviation and the success rate on the applied edit
      const edited = applyEdits(engine.model, [e]);
      const [orig, now] = [
        await generalTextLoss(engine.model, engine.tokenizer, texts),
        await generalTextLoss(edited, engine.tokenizer, texts),
      ];
      expect(Math.abs(now.nll / orig.nll - info.loss_ratio)).toBeLessThan(1e-5);
      const prompts = canonicalPrompts(dataset, REF.prefix)!.prompts;
      const score = await canonicalScore(edited, engine.tokenizer, {
        prompts,
        suffix: REF.suffix,
        threshold: 0.2,
      });
      expect(score.success_rate).toBe(info.success_rate);
      edited.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
    LORA_LIMIT(LORA_DEFAULTS.steps + 1),
  );

  it(
    "a tighter cap (ε = 1e-5) keeps an earlier step",
    async () => {
      const e = await learnLora(
        engine.model,
        engine.tokenizer,
        recipe({ epsilon: 1e-5, texts: 50 }),
        { dataset },
      );
      const info = e.learned!.info!;
      console.log(
        `LoRA ε=1e-5: kept step ${info.kept_step}, ratio ${info.loss_ratio.toFixed(7)}, success ${info.success_rate}`,
      );
      expect(info.loss_ratio).toBeLessThanOrEqual(1 + 1e-5);
      expect(info.kept_step).toBeLessThan(6);
    },
    LORA_LIMIT(LORA_DEFAULTS.steps),
  );

  it("held-out prompts of a fact: the relation's other phrasings with the same subject", () => {
    const c = canonicalPrompts(dataset, REF.prefix)!;
    expect(c.subject).toBe("Ralkrok Stennos");
    expect(c.relation_id).toBe("P1");
    expect(c.prompts).toContain("Ralkrok Stennos resides in the city of");
    expect(c.prompts).not.toContain(REF.prefix);
    expect(canonicalPrompts(dataset, "Nothing like a template")).toBeNull();
  });

  it(
    "the canonical evaluation scores a ROME edit of the same example",
    async () => {
      const prompts = canonicalPrompts(dataset, REF.prefix)!.prompts;
      const r = await computeRome(
        engine.model,
        engine.tokenizer,
        {
          kind: "rome",
          site: {},
          params: {
            prompt: "{} lives in the city of",
            subject: "Ralkrok Stennos",
            target_new: "Orvane",
            context: { per_length: 2 },
            cov: "identity",
          },
        },
        { dataset },
      );
      const before = await canonicalScore(engine.model, engine.tokenizer, {
        prompts,
        suffix: REF.suffix,
        threshold: 0.2,
      });
      const edited = applyEdits(engine.model, [r.edit]);
      const after = await canonicalScore(edited, engine.tokenizer, {
        prompts,
        suffix: REF.suffix,
        threshold: 0.2,
      });
      edited.dispose();
      console.log(`ROME canonical: success ${before.success_rate} → ${after.success_rate}`);
      expect(before.success_rate).toBe(0);
      expect(after.p.reduce((a, b) => a + b)).toBeGreaterThan(before.p.reduce((a, b) => a + b));
    },
    workLimit({ units: ROME_DEFAULTS.steps, perUnitMs: 15_000, fixedMs: 300_000 }),
  );

  it("bad input: no general text, an empty prefix", async () => {
    await expect(
      learnLora(engine.model, engine.tokenizer, recipe(), { dataset: {} }),
    ).rejects.toThrow(/general_text/);
    await expect(
      learnLora(engine.model, engine.tokenizer, recipe({ prefix: "" }), { dataset }),
    ).rejects.toThrow(/prefix/);
  });
});
