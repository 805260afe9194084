/**
 * LoReFT edits (lib/edit/loreft.ts, the "loreft" intervention op of lib/model/hook-plan.ts):
 * the maths of docs/methods.md §6 on recorded activations of a small random GPT-2 (R h′ = W h + b,
 * (I − RᵀR) h′ = (I − RᵀR) h, W = R and b = 0 is the identity, positions outside the rule
 * untouched, per-row rules in padded batches), the bundled model's logits against a numpy
 * reference (scripts/reference/loreft_ref.py), the JSON round trip, bad input, and tensor balance.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { padRows } from "../lib/edit/batch";
import { loreftParamCount, orthonormalRows } from "../lib/edit/loreft";
import { defaultLoreftLayers, loreftInterventions } from "../lib/edit/loreft-site";
import { parseEditFile, serializeEdits } from "../lib/edit/parse";
import { planEdits } from "../lib/edit/plan";
import type { Edit, LoreftEdit } from "../lib/edit/types";
import { gaussianArray } from "../lib/interp/rng";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const D = SMALL.dModel;
const r = 3;
let model: Gpt2Model;
const IDS = [charTokenizer.encode("the cat sat on it"), charTokenizer.encode("a dog ran far")];

const gauss = (n: number, seed: number, scale = 1) => Array.from(gaussianArray(seed, n, scale));
const R = Array.from(orthonormalRows(gauss(r * D, 1), r, D));
const W = gauss(r * D, 2, 0.3);
const b = gauss(r, 3, 0.5);

function loreftEdit(over: Partial<LoreftEdit> = {}, lr = { R, W, b }): LoreftEdit {
  return {
    kind: "loreft",
    site: { layers: [0], position: "aspect" },
    params: { rank: r },
    learned: { layers: [{ layer: 0, ...lr }] },
    ...over,
  };
}

/** hook_resid_post of layer 0 for one row, without and with the edit: [T, D] each. */
async function residPost(edits: Edit[], ids: number[]) {
  const hook = "blocks.0.hook_resid_post";
  const read = async (m: { forward: Gpt2Model["forward"] }) => {
    const { logits, activations } = m.forward({ inputIds: [ids], record: [hook] });
    const a = activations.get(hook)!;
    const out = { h: await a.array(), logits: await logits.array() };
    tf.dispose([logits, a]);
    return { h: (out.h as number[][][])[0], logits: (out.logits as number[][][])[0] };
  };
  const edited = applyEdits(model, edits);
  try {
    return { plain: await read(model), edited: await read(edited) };
  } finally {
    edited.dispose();
  }
}

const matVec = (m: number[], v: number[], rows: number) =>
  Array.from({ length: rows }, (_, i) => v.reduce((s, x, j) => s + m[i * v.length + j] * x, 0));
/** (I − RᵀR) v */
const complement = (v: number[]) => {
  const c = matVec(R, v, r);
  return v.map((x, j) => x - c.reduce((s, ci, i) => s + ci * R[i * D + j], 0));
};
const maxDiff = (a: number[], b2: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b2[i])));

describe("LoReFT on a random model", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    model = Gpt2Model.fromWeights(SMALL, randomWeights());
  });
  afterAll(() => model?.dispose());

  it("R h′ = W h + b and (I − RᵀR) h′ = (I − RᵀR) h at the edited position; others untouched", async () => {
    const ids = IDS[0];
    const T = ids.length;
    const { plain, edited } = await residPost([loreftEdit()], ids);
    const h = plain.h[T - 2];
    const h2 = edited.h[T - 2];
    expect(maxDiff(h, h2)).toBeGreaterThan(0.1); // the edit does something
    const Wh = matVec(W, h, r).map((x, i) => x + b[i]);
    expect(maxDiff(matVec(R, h2, r), Wh)).toBeLessThan(1e-4);
    expect(maxDiff(complement(h2), complement(h))).toBeLessThan(1e-4);
    for (let t = 0; t < T - 2; t++) expect(maxDiff(plain.h[t], edited.h[t])).toBe(0);
    // causal: logits before the edited position are exactly the original ones
    for (let t = 0; t < T - 2; t++) expect(maxDiff(plain.logits[t], edited.logits[t])).toBe(0);
    expect(maxDiff(plain.logits[T - 1], edited.logits[T - 1])).toBeGreaterThan(1e-3);
  });

  it("W = R and b = 0 is the identity", async () => {
    const ids = IDS[1];
    const { plain, edited } = await residPost([loreftEdit({}, { R, W: R, b: [0, 0, 0] })], ids);
    for (let t = 0; t < ids.length; t++) {
      expect(maxDiff(plain.logits[t], edited.logits[t])).toBeLessThan(1e-5);
    }
  });

  it('"last" and given positions act there only', async () => {
    const ids = IDS[0];
    const T = ids.length;
    for (const [position, at] of [
      ["last", [T - 1]],
      [
        [2, 5],
        [2, 5],
      ],
    ] as const) {
      const { plain, edited } = await residPost(
        [
          loreftEdit({
            site: { layers: [0], position: position as LoreftEdit["site"]["position"] },
          }),
        ],
        ids,
      );
      for (let t = 0; t < T; t++) {
        const d = maxDiff(plain.h[t], edited.h[t]);
        if ((at as readonly number[]).includes(t)) expect(d).toBeGreaterThan(0.1);
        else if (t < Math.min(...at)) expect(d).toBe(0);
      }
    }
  });

  it("a padded batch applies the rule at each row's own position (= each row alone)", async () => {
    const edited = applyEdits(model, [loreftEdit()]);
    const padded = padRows(IDS);
    const batch = tf.tidy(
      () =>
        edited.view(padded.lengths).forward({ inputIds: padded.ids, logitPositions: "all" }).logits,
    );
    const rows = (await batch.array()) as number[][][];
    batch.dispose();
    for (const [i, ids] of IDS.entries()) {
      const alone = tf.tidy(() => edited.forward({ inputIds: [ids] }).logits);
      const one = ((await alone.array()) as number[][][])[0];
      alone.dispose();
      for (let t = 0; t < ids.length; t++) expect(maxDiff(rows[i][t], one[t])).toBeLessThan(1e-4);
    }
    edited.dispose();
    // rows of different lengths share one intervention per distinct position
    const ivs = loreftInterventions("h", { R, W, b }, "aspect", [5, 7, 5]);
    expect(ivs.map((iv) => [iv.positions, iv.batchIndex])).toEqual([
      [[3], [0, 2]],
      [[5], [1]],
    ]);
  });

  it("is never folded into weights, and a file round trip applies identically", async () => {
    const e = loreftEdit({ site: { layers: [0, 1], hook: "resid_mid", position: "last" } });
    e.learned!.layers.push({ layer: 1, R, W: gauss(r * D, 9, 0.2), b });
    const plan = planEdits([e], SMALL, { fold: true });
    expect(plan.patches).toEqual([]);
    expect(plan.maps).toHaveLength(2);
    const back = parseEditFile(JSON.parse(serializeEdits([e], "random")));
    expect(back.edits[0]).toEqual(e);
    const ids = IDS[1];
    const a = applyEdits(model, [e]);
    const c = applyEdits(model, back.edits);
    const [la, lc] = [a, c].map((m) => tf.tidy(() => m.forward({ inputIds: [ids] }).logits));
    expect(maxDiff(Array.from(await la.data()), Array.from(await lc.data()))).toBe(0);
    tf.dispose([la, lc]);
    a.dispose();
    c.dispose();
  });

  it("rejects bad edits with specific messages", () => {
    const bad = (x: unknown) => () => parseEditFile([x]);
    expect(bad({ kind: "loreft", site: { position: "all" }, params: {} })).toThrow(
      /site.position must be "last", "aspect"/,
    );
    expect(bad({ kind: "loreft", site: { layers: [] }, params: {} })).toThrow(/site.layers/);
    expect(bad({ kind: "loreft", site: {}, params: { rank: 0 } })).toThrow(/rank/);
    expect(
      bad({ kind: "loreft", site: {}, params: {}, learned: { layers: [{ layer: 0 }] } }),
    ).toThrow(/learned.layers\[0\].R/);
    // sizes against the model
    expect(() => applyEdits(model, [loreftEdit({}, { R, W: W.slice(1), b })])).toThrow(
      /learned W of layer 0 \(rank 3 × 32\)/,
    );
    expect(() =>
      applyEdits(model, [{ ...loreftEdit(), learned: { layers: [{ layer: 9, R, W, b }] } }]),
    ).toThrow(/layers must be 0 to 1/);
    expect(() =>
      model.forward({
        inputIds: [IDS[0]],
        interventions: [{ hook: "blocks.0.attn.hook_z", op: "loreft", loreft: { R, W, b } }],
      }),
    ).toThrow(/loreft applies only to \[B, T, F\] hooks/);
  });

  it("default layers, parameter count, and no leaked tensors", async () => {
    expect(defaultLoreftLayers({ ...SMALL, nLayer: 6 })).toEqual([2]);
    expect(defaultLoreftLayers({ ...SMALL, nLayer: 32 })).toEqual([10, 11, 12, 13, 14]);
    expect(defaultLoreftLayers({ ...SMALL, nLayer: 2 })).toEqual([1]);
    expect(loreftParamCount(6, 4, 4096)).toBe(196632); // docs/methods.md §1: 6·(2·4·4096 + 4)
    expect(() => orthonormalRows([1, 2, 2, 4.000001], 2, 2)).toThrow(/dependent/);
    const before = tf.memory().numTensors;
    await residPost([loreftEdit()], IDS[0]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

const GOLDEN = path.join(__dirname, "fixtures/edit/loreft-forward.json");
const bundled = existsSync(path.join(BUNDLED_DIR, "model.safetensors")) && existsSync(GOLDEN);

describe.skipIf(!bundled)("LoReFT on the bundled model against numpy", () => {
  it("logits with R, W, b at layers 2 and 3 (resid_post, aspect) match ≤ 1e-4", async () => {
    await selectBackend(["wasm"]);
    const engine = await loadEngine(BUNDLED_DIR);
    const g = JSON.parse(readFileSync(GOLDEN, "utf8"));
    const edit: LoreftEdit = {
      kind: "loreft",
      site: {
        layers: g.layers.map((l: { layer: number }) => l.layer),
        hook: g.hook,
        position: "aspect",
      },
      params: { rank: g.rank },
      learned: { layers: g.layers },
    };
    const before = tf.memory().numTensors;
    const edited = applyEdits(engine.model, [edit]);
    let worst = 0;
    for (const [i, row] of g.rows.entries()) {
      expect(engine.tokenizer.encode(g.prompts[i])).toEqual(row.ids);
      for (const [m, want] of [
        [engine.model, row.logits],
        [edited, row.edited],
      ] as const) {
        const logits = tf.tidy(
          () => m.forward({ inputIds: [row.ids], logitPositions: row.logit_positions }).logits,
        );
        const got = (await logits.array()) as number[][][];
        logits.dispose();
        (want as number[][]).forEach((w, p) => {
          worst = Math.max(worst, maxDiff(got[0][p], w));
        });
      }
      // the positions before the edit are unchanged; the edit moves the last logits
      expect(maxDiff(row.logits[0], row.edited[0])).toBeLessThan(1e-9);
      expect(maxDiff(row.logits[3], row.edited[3])).toBeGreaterThan(0.1);
    }
    expect(worst).toBeLessThan(1e-4);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
    engine.dispose();
  });
});
