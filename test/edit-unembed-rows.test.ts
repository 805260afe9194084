/**
 * Logits at each row's own positions (lib/edit/unembed-rows.ts), which the learning passes of
 * ROME, MEMIT, PMET, SWEA, LoReFT and ABSC read: an intervention at ln_final.hook_normalized must
 * land on the pass's own rows and positions, as in forward(). No edit kind acts there, so these
 * tests build such a model by hand (Gpt2Model.withOverrides) on a small random GPT-2:
 *   - unembedRows against a float64 reference in plain JS (the un-intervened normalised states
 *     recorded by forward, the interventions applied cell by cell, times the unembedding);
 *     picking rows first and unembedding them as a pass gives other numbers (checked too);
 *   - ROME's first step (δ = 0): its NLL is forward()'s and its KL to forward() is 0.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { padRows, pickPositions } from "../lib/edit/batch";
import { romeParams } from "../lib/edit/rome";
import { optimiseDelta, romeBatch } from "../lib/edit/rome-delta";
import { unembedRows } from "../lib/edit/unembed-rows";
import { GaussianRng } from "../lib/interp/rng";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model, type ModelIntervention } from "../lib/model/gpt2";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";

const NORMED = "ln_final.hook_normalized";
const { dModel: D, vocabSize: V, nLayer } = SMALL;
let model: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  model = Gpt2Model.fromWeights(SMALL, randomWeights());
});
afterAll(() => model?.dispose());

function randn(n: number, seed: number, scale = 1): Float32Array {
  const rng = new GaussianRng(seed);
  return Float32Array.from({ length: n }, () => scale * rng.nextNormal());
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe("unembedRows", () => {
  it("applies ln_final interventions at the pass's rows and positions, then picks", async () => {
    const ids = [
      [1, 4, 9, 16, 25, 36, 49],
      [2, 3, 5, 7, 11],
      [8, 6, 7, 5, 3, 0, 9, 12, 40],
    ].map((r) => r.map((x) => x % V));
    const { ids: padded } = padRows(ids);
    const [B, T] = [padded.length, padded[0].length];
    const added = randn(2 * 2 * D, 11, 2); // [R = 2, P = 2, D]: rows 0 and 2, positions 2 and 6
    const ivs: ModelIntervention[] = [
      { hook: NORMED, op: "add", batchIndex: [0, 2], positions: [2, 6], value: added },
      { hook: NORMED, op: "scale", positions: [4], value: 3 },
      { hook: NORMED, op: "zero", batchIndex: [2], positions: [8] },
    ];
    const picks = [
      [2, 6],
      [4, 3],
      [8, 6],
    ];
    // the plain pass: the last block's output and the normalised states without interventions
    const last = `blocks.${nLayer - 1}.hook_resid_post`;
    const plain = model.forward({ inputIds: padded, record: [last, NORMED] });
    const resid = plain.activations.get(last) as tf.Tensor3D; // [B, T, D]
    const normed = await plain.activations.get(NORMED)!.data(); // [B, T, D]
    const headT = await model.unembedding().data(); // [D, V]
    // reference: the interventions cell by cell in float64, then the unembedding
    const ref = new Float64Array(B * 2 * V);
    picks.forEach((row, b) => {
      row.forEach((t, j) => {
        const x = Float64Array.from(normed.subarray((b * T + t) * D, (b * T + t + 1) * D));
        const r = [0, 2].indexOf(b);
        const p = [2, 6].indexOf(t);
        if (r >= 0 && p >= 0) for (let d = 0; d < D; d++) x[d] += added[(r * 2 + p) * D + d];
        if (t === 4) for (let d = 0; d < D; d++) x[d] *= 3;
        if (b === 2 && t === 8) x.fill(0);
        for (let v = 0; v < V; v++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += x[d] * headT[d * V + v];
          ref[(b * 2 + j) * V + v] = s;
        }
      });
    });
    const view = model.withOverrides({ interventions: ivs });
    const hooks = view.hooks();
    const o0 = 2; // a window [o0, T) of the pass, as SWEA's passes unembed it
    const [whole, windowed, gathered] = tf.tidy(() => [
      unembedRows(view, resid, picks, { hooks }),
      unembedRows(
        view,
        resid.slice([0, o0, 0], [B, T - o0, D]),
        picks.map((r) => r.map((t) => t - o0)),
        { hooks, posOffset: o0 },
      ),
      // the old way: the picked rows unembedded as if they were a pass of 2 positions
      view.unembed(pickPositions(resid, picks), "all", { hooks }).logits,
    ]);
    expect(whole.shape).toEqual([B, 2, V]);
    const scale = Math.max(...Array.from(ref, Math.abs));
    expect(maxAbs(await whole.data(), ref)).toBeLessThan(1e-5 * scale);
    expect(maxAbs(await windowed.data(), ref)).toBeLessThan(1e-5 * scale);
    expect(maxAbs(await gathered.data(), ref)).toBeGreaterThan(0.1 * scale);
    tf.dispose([whole, windowed, gathered, plain.logits, ...plain.activations.values()]);
  });

  it("unembed refuses a selector of the wrong shape or with picked positions", () => {
    const resid = tf.zeros([2, 5, D]) as tf.Tensor3D;
    const select = tf.zeros([2, 1, 4]) as tf.Tensor3D;
    const select5 = tf.zeros([2, 1, 5]) as tf.Tensor3D;
    expect(() => model.unembed(resid, "all", { select })).toThrow(/select must be \[2, P, 5\]/);
    expect(() => model.unembed(resid, "last", { select: select5 })).toThrow(/positions "all"/);
    tf.dispose([resid, select, select5]);
  });
});

describe("ROME's loss on a model with ln_final interventions", () => {
  it("at δ = 0 its NLL is forward()'s and its KL is 0", async () => {
    const p = romeParams({
      prompt: "{} lives in",
      subject: "bob",
      target_new: "xy",
      steps: 1,
      context: { lengths: [3, 5], per_length: 1 },
    });
    const b = await romeBatch(model, charTokenizer, p);
    const { T } = b.padded;
    const B = b.padded.ids.length;
    expect(new Set(b.padded.lengths).size).toBeGreaterThan(1); // rows end at different positions
    // a different offset at every position, and one more on row 0 at its first target position
    const ivs: ModelIntervention[] = [
      {
        hook: NORMED,
        op: "add",
        positions: Array.from({ length: T }, (_, t) => t),
        value: randn(T * D, 5, 1.5),
      },
      {
        hook: NORMED,
        op: "add",
        batchIndex: [0],
        positions: [b.tgtPos[0][0]],
        value: randn(D, 6, 3),
      },
    ];
    const view = model.withOverrides({ interventions: ivs });
    const d = await optimiseDelta({ model: view, batch: b, layer: 0, p });
    expect(d.losses).toHaveLength(1);
    // reference: forward()'s log-probabilities of the targets, in float64
    const logits = view.forward({ inputIds: b.padded.ids }).logits; // [B, T, V]
    const all = await logits.data();
    logits.dispose();
    const logProb = (r: number, t: number, id: number) => {
      const row = Array.from(all.subarray((r * T + t) * V, (r * T + t + 1) * V));
      const m = Math.max(...row);
      return row[id] - m - Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0));
    };
    let nll = 0;
    for (let r = 0; r < b.nR; r++) {
      b.tgtPos[r].forEach((t, j) => {
        nll -= logProb(r, t, b.target[j]) / b.nT / b.nR;
      });
    }
    expect(B).toBeGreaterThan(b.nR); // a KL row
    expect(Math.abs(d.losses[0].nll - nll)).toBeLessThan(1e-4 * Math.max(1, nll));
    expect(Math.abs(d.losses[0].kl)).toBeLessThan(1e-5);
  });
});
