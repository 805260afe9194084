/**
 * ROME's δ and direction, as ROME has them and with the options params.delta_at "footprint" (δ
 * learned under the update's footprint, lib/edit/rome-footprint.ts) and params.preserve λ (the
 * prompts' other keys added to C, lib/edit/rome-preserve.ts), against the torch reference
 * (scripts/reference/rome_variants_ref.py → test/fixtures/edit/rome-variants.json): on the random
 * GPT-2 fixture (C from a small corpus) and the Llama GQA fixture (C = I), both update keys, three
 * fixed templates, 6 Adam steps: every step's loss and its parts, δ, u and v equal the
 * reference's, and the edited model's
 * NLL of the new object on the templates equals the reference's, which with the footprint is the
 * last step's own NLL (without it, ROME's objective, it is not: the fixture's "subject" case).
 * Also: no tensor leaked, a bad delta_at or preserve refused by name. The templates are in the context cache,
 * so the character tokenizer never has to name the fixtures' ids past its 50.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, type ModelLike } from "../lib/edit/apply";
import { CONTEXT_DEFAULTS, templateCache } from "../lib/edit/context";
import { parseEdit } from "../lib/edit/parse";
import { computeRome } from "../lib/edit/rome";
import type { CovSource, DeltaAt, RomeEdit } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import type { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { charTokenizer as tok } from "./fixtures/edit/random-model";
import { loadModelDir } from "./helpers/load-model-dir";
import { relErr } from "./helpers/rel-err";

interface RefCase {
  family: string;
  model: string;
  layer: number;
  cov: CovSource;
  update_key: "bare" | "mean";
  delta_at: DeltaAt;
  preserve: number;
  losses: { loss: number; nll: number; kl: number; decay: number }[];
  delta: number[];
  u: number[];
  v: number[];
  edited_nll: number;
}
interface Golden {
  request: { prompt: string; subject: string; target_new: string };
  templates: string[];
  corpus: string[];
  hparams: Record<string, number>;
  cases: RefCase[];
}
const g: Golden = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/edit/rome-variants.json"), "utf8"),
);

/** The context option whose cache entry holds the reference's templates. */
const CONTEXT = { lengths: [3], per_length: 1 };

/** Mean over the templates of the new object's per-token NLL on `model`. */
async function templateNll(model: ModelLike): Promise<number> {
  const { prompt, subject, target_new } = g.request;
  const target = tok.encode(` ${target_new}`);
  let sum = 0;
  for (const t of g.templates) {
    const ids = tok.encode(t.replace("{}", prompt).replace("{}", subject));
    const lp = tf.tidy(() =>
      tf.logSoftmax(
        model.forward({ inputIds: [[...ids, ...target.slice(0, -1)]], logitPositions: "all" })
          .logits,
      ),
    );
    const rows = (await lp.array()) as number[][][];
    lp.dispose();
    sum -= target.reduce((a, id, j) => a + rows[0][ids.length - 1 + j][id], 0) / target.length;
  }
  return sum / g.templates.length;
}

const models = new Map<string, Gpt2Model>();

beforeAll(async () => {
  await selectBackend(["wasm"]);
  for (const c of g.cases) {
    if (models.has(c.model)) continue;
    const model = await loadModelDir(path.join(ROOT, c.model));
    models.set(c.model, model);
    // the reference's templates in place of self-generated ones
    const key = JSON.stringify({ ...CONTEXT_DEFAULTS, ...CONTEXT });
    await templateCache.get(model, key, async () => g.templates);
  }
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

describe("ROME's δ and direction, with delta_at and preserve, against the torch reference", () => {
  for (const c of g.cases) {
    it(`${c.family}, delta_at ${c.delta_at}, preserve ${c.preserve}, C ${c.cov}, key ${c.update_key}`, async () => {
      const model = models.get(c.model)!;
      const hp = g.hparams;
      const before = tf.memory().numTensors;
      const edit: RomeEdit = {
        kind: "rome",
        site: { layer: c.layer },
        params: {
          ...g.request,
          steps: hp.steps,
          lr: hp.lr,
          kl_weight: hp.kl_weight,
          weight_decay: hp.weight_decay,
          clamp: hp.clamp,
          early_stop: hp.early_stop,
          shrinkage: hp.shrinkage,
          cov: c.cov,
          update_key: c.update_key,
          delta_at: c.delta_at,
          preserve: c.preserve,
          preserve_cost: 0, // λ as given, as the reference (κ: edit-rome-preserve-cost.test.ts)
          context: CONTEXT,
        },
      };
      const done = await computeRome(model, tok, edit, { dataset: { general_text: g.corpus } });
      const info = done.edit.learned!.info!;
      expect(info.templates).toEqual(g.templates);
      expect(info.losses).toHaveLength(c.losses.length);
      for (const k of ["loss", "nll", "decay"] as const) {
        expect(
          relErr(
            info.losses.map((l) => l[k]),
            c.losses.map((l) => l[k]),
          ),
          k,
        ).toBeLessThan(1e-4);
      }
      // KL is a difference of nearly equal float32 sums (down to 1e-3 here): an absolute floor
      info.losses.forEach((l, i) => {
        const ref = c.losses[i].kl;
        expect(Math.abs(l.kl - ref), `kl ${i}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(ref));
      });
      const delta = Array.from(done.vStar, (x, i) => x - done.v0[i]);
      expect(relErr(delta, c.delta)).toBeLessThan(1e-3);
      expect(relErr(done.edit.learned!.u, c.u)).toBeLessThan(1e-4);
      expect(relErr(done.edit.learned!.v, c.v)).toBeLessThan(1e-3);
      const edited = applyEdits(model, [done.edit]);
      const nll = await templateNll(edited);
      edited.dispose();
      expect(Math.abs(nll - c.edited_nll)).toBeLessThan(1e-3 * c.edited_nll);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("the reference: with the footprint the edited model's NLL is the last step's; without, not", () => {
    for (const c of g.cases) {
      const gap = Math.abs(c.edited_nll - c.losses.at(-1)!.nll);
      if (c.delta_at === "footprint") expect(gap).toBeLessThan(1e-9);
      else expect(gap).toBeGreaterThan(0.05);
    }
  });

  it("refuses a delta_at it does not know, by name", () => {
    expect(() =>
      parseEdit({
        kind: "rome",
        site: {},
        params: { prompt: "{} x", subject: "s", target_new: "t", delta_at: "everywhere" },
      }),
    ).toThrow(/params\.delta_at/);
  });

  it("refuses a preserve weight outside 0 to 1,000, by name", () => {
    for (const preserve of [-1, 2000, "10"]) {
      expect(() =>
        parseEdit({
          kind: "rome",
          site: {},
          params: { prompt: "{} x", subject: "s", target_new: "t", preserve },
        }),
      ).toThrow(/params\.preserve/);
    }
  });
});
