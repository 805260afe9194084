/**
 * Interventions (lib/model/intervention.ts) against goldens the numpy reference computed with
 * its own implementation of the same semantics, plus properties the goldens cannot show:
 * tensor-valued interventions, absolute positions with cached keys/values, validation.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Gpt2Config, Gpt2Weights } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import { ModelError } from "../lib/model/errors";
import { Gpt2Model, type ModelIntervention } from "../lib/model/gpt2";
import {
  compareCase,
  type GoldenSet,
  loadGolden,
  loadModelDir,
  maxAbsDiff,
  RANDOM_MODEL_DIR,
  worst,
} from "../scripts/reference/golden";

const TOL = 1e-4;
let config: Gpt2Config;
let weights: Gpt2Weights;
let golden: GoldenSet;
let model: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  ({ config, weights } = await loadModelDir(RANDOM_MODEL_DIR));
  golden = await loadGolden("random-gpt2-f16");
  model = Gpt2Model.fromWeights(config, weights);
  return () => model.dispose();
});

const read = async (t: tf.Tensor) => Float32Array.from(await t.data());

async function logitsOf(
  interventions: ModelIntervention[],
  ids: number[][],
): Promise<Float32Array> {
  const { logits } = model.forward({ inputIds: ids, interventions });
  const out = await read(logits);
  logits.dispose();
  return out;
}

const CASES = [
  "zero_head_z",
  "embed_noise",
  "embed_noise_shared",
  "replace_resid_pre",
  "scale_mlp_out",
  "pattern_scale",
  "pattern_replace_slice",
  "qkv_edits",
  "stacked",
  "embed_noise_rows",
  "z_per_head",
];

describe("interventions vs numpy reference goldens", () => {
  for (const name of CASES) {
    it(`${name}: logits and recorded hooks within ${TOL}`, async () => {
      const c = golden.case(name);
      expect(c.interventions?.length).toBeGreaterThan(0);
      const diffs = await compareCase(model, golden, c);
      const [key, d] = worst(diffs);
      console.log(`intervention ${name}: max |Δ| = ${d.toExponential(2)} (${key})`);
      for (const [k, v] of diffs) expect(v, k).toBeLessThanOrEqual(TOL);
      // every case really changes the output (so a no-op implementation would fail)
      const clean = golden.get("batch2", "logits").data;
      expect(maxAbsDiff(golden.get(name, "logits").data, clean)).toBeGreaterThan(1e-2);
    });
  }

  it("zeroing head 1's hook_z removes exactly its contribution to attn_out", async () => {
    const c = golden.case("zero_head_z");
    const rec = ["blocks.0.attn.hook_z", "blocks.0.hook_attn_out"];
    const { logits, activations } = model.forward({
      inputIds: c.ids,
      interventions: c.interventions,
      record: rec,
    });
    const z = await read(activations.get(rec[0])!); // [2, 8, 4, 8]
    tf.dispose([logits, ...activations.values()]);
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 8; t++) {
        for (let h = 0; h < 4; h++) {
          const cell = z.subarray(((b * 8 + t) * 4 + h) * 8, ((b * 8 + t) * 4 + h + 1) * 8);
          const zeroed = h === 1 && (t === 2 || t === 5);
          expect(cell.every((x) => x === 0)).toBe(zeroed);
        }
      }
    }
  });
});

describe("tensor values, cached prefixes, validation", () => {
  const ids = [
    [3, 1, 4, 1, 5, 9, 2, 6],
    [2, 7, 1, 8, 2, 8, 1, 8],
  ];

  it("a tensor value gives the same result as the same numbers in an array", async () => {
    const v = Array.from({ length: 2 * 32 }, (_, i) => Math.sin(i));
    const asArray = await logitsOf(
      [{ hook: "blocks.0.hook_resid_mid", op: "replace", positions: [2, 6], value: v }],
      ids,
    );
    const t = tf.tensor2d(v, [2, 32]);
    const asTensor = await logitsOf(
      [{ hook: "blocks.0.hook_resid_mid", op: "replace", positions: [2, 6], value: t }],
      ids,
    );
    expect(t.isDisposed).toBe(false); // the caller owns it
    t.dispose();
    expect(maxAbsDiff(asArray, asTensor)).toBe(0);
  });

  it("positions are absolute when a block runs after a cached prefix", async () => {
    const ivs: ModelIntervention[] = [
      { hook: "blocks.1.attn.hook_z", op: "zero", heads: [0, 2], positions: [1, 5] },
      {
        hook: "blocks.0.hook_resid_post",
        op: "add",
        positions: [2, 6],
        value: Array.from({ length: 2 * 32 }, (_, i) => (i % 7) - 3),
      },
      { hook: "blocks.1.attn.hook_pattern", op: "scale", positions: [7], heads: [3], value: 0.5 },
    ];
    const full = await logitsOf(ivs, ids);
    const split = 4;
    const fast = tf.tidy(() => {
      const hooks = model.hooks({ interventions: ivs });
      let a = model.embed(
        ids.map((r) => r.slice(0, split)),
        { hooks },
      ).resid;
      let b = model.embed(
        ids.map((r) => r.slice(split)),
        { hooks, posOffset: split },
      ).resid;
      for (let l = 0; l < config.nLayer; l++) {
        const pa = model.block(l, a, { hooks });
        b = model.block(l, b, { hooks, past: pa.kv }).resid;
        a = pa.resid;
      }
      return tf.concat([model.unembed(a, "all").logits, model.unembed(b, "all").logits], 1);
    });
    expect(maxAbsDiff(await read(fast), full)).toBeLessThanOrEqual(1e-5);
    fast.dispose();
  });

  it("an add at hook_embed of [positions × D] noise equals adding it to the embeddings", async () => {
    const noise = Array.from({ length: 3 * 32 }, (_, i) => Math.cos(i * 1.7));
    const got = await logitsOf(
      [{ hook: "hook_embed", op: "add", positions: [1, 2, 3], value: noise }],
      ids,
    );
    // the same run through the building blocks, with the noise added to resid by hand
    const want = tf.tidy(() => {
      const { resid } = model.embed(ids);
      const delta = tf.zeros([2, 8, 32]).add(
        tf.tensor3d(noise, [1, 3, 32]).pad([
          [0, 0],
          [1, 4],
          [0, 0],
        ]),
      );
      let r = resid.add(delta) as tf.Tensor3D;
      for (let l = 0; l < config.nLayer; l++) r = model.block(l, r).resid;
      return model.unembed(r, "all").logits;
    });
    expect(maxAbsDiff(got, await read(want))).toBeLessThanOrEqual(1e-5);
    want.dispose();
  });

  it("rejects malformed interventions with a ModelError naming the problem", () => {
    const bad: [ModelIntervention, RegExp][] = [
      [{ hook: "blocks.2.hook_resid_pre", op: "zero" }, /no such hook point/],
      [{ hook: "hook_embed", op: "shift" as "add", value: [1] }, /op must be one of/],
      [{ hook: "hook_embed", op: "zero", heads: [0] }, /heads apply only/],
      [{ hook: "blocks.0.attn.hook_z", op: "zero", heads: [4] }, /head 4 is out of range/],
      [{ hook: "hook_embed", op: "zero", positions: [32] }, /position 32 is out of range/],
      [{ hook: "hook_embed", op: "zero", positions: [1, 1] }, /position 1 is repeated/],
      [{ hook: "hook_embed", op: "zero", positions: [] }, /non-empty array/],
      [{ hook: "hook_embed", op: "scale", value: [2] }, /finite number/],
      [{ hook: "hook_embed", op: "add" }, /non-empty array or tensor/],
      [{ hook: "hook_embed", op: "zero", positions: [8] }, /position 8 ≥ sequence length 8/],
      [{ hook: "hook_embed", op: "zero", batchIndex: [2] }, /batch index 2 ≥ batch size 2/],
      [
        { hook: "hook_embed", op: "add", positions: [1, 2], value: new Array(33).fill(0) },
        /33 numbers; expected one of 32 = 32 \(features\), 2×32 = 64 \(positions × features\), 2×2×32 = 128/,
      ],
    ];
    const before = tf.memory().numTensors;
    for (const [iv, msg] of bad) {
      const run = () => model.forward({ inputIds: ids, interventions: [iv] });
      expect(run, iv.hook).toThrow(msg);
      expect(run).toThrow(ModelError);
    }
    expect(() => model.forward({ inputIds: ids, record: ["blocks.0.hook_nothing"] })).toThrow(
      /cannot record/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
