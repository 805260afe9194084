/**
 * Gpt2Model against the numpy reference (scripts/reference/gpt2_ref.py) on the random F16
 * GPT-2 (test/fixtures/random-gpt2-f16): logits and every hook, batching, the building blocks
 * (run from a layer, reuse a prefix's keys/values), input checks and tensor hygiene.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { Gpt2Config, Gpt2Weights } from "../lib/load/types";
import { selectBackend } from "../lib/model/backend";
import { ModelError } from "../lib/model/errors";
import { Gpt2Model } from "../lib/model/gpt2";
import { hookNames } from "../lib/model/hooks";
import {
  assertGoldenMatchesModel,
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

beforeAll(async () => {
  await selectBackend(["wasm"]);
  ({ config, weights } = await loadModelDir(RANDOM_MODEL_DIR));
  golden = await loadGolden("random-gpt2-f16");
});

function withModel<T>(fn: (m: Gpt2Model) => Promise<T>, cfg: Gpt2Config = config): Promise<T> {
  const m = Gpt2Model.fromWeights(cfg, weights);
  return fn(m).finally(() => m.dispose());
}

const read = async (t: tf.Tensor) => Float32Array.from(await t.data());

describe("random F16 GPT-2 vs numpy reference", () => {
  it("goldens belong to this checkpoint", async () => {
    await assertGoldenMatchesModel(golden, RANDOM_MODEL_DIR);
  });

  it("loads the F16 checkpoint with the attn.bias buffers skipped", () => {
    expect(config).toMatchObject({ nLayer: 2, nHead: 4, dModel: 32, nCtx: 32, vocabSize: 500 });
    expect(golden.manifest.hooks).toEqual(hookNames(2));
  });

  for (const name of ["p0", "p1", "full_ctx", "batch2"]) {
    it(`case ${name}: logits and every recorded hook within ${TOL}`, async () => {
      const c = golden.case(name);
      const diffs = await withModel((m) => compareCase(m, golden, c));
      expect(diffs.size).toBe(c.recorded.length + 1);
      const [key, d] = worst(diffs);
      console.log(`random ${name}: max |Δ| = ${d.toExponential(2)} (${key})`);
      for (const [k, v] of diffs) expect(v, k).toBeLessThanOrEqual(TOL);
    });
  }

  it("exact (erf) GELU matches the reference's gelu", async () => {
    const c = golden.case("gelu_exact");
    const diffs = await withModel((m) => compareCase(m, golden, c), {
      ...config,
      activation: "gelu",
    });
    console.log(`random gelu_exact: max |Δ| = ${worst(diffs)[1].toExponential(2)}`);
    for (const [k, v] of diffs) expect(v, k).toBeLessThanOrEqual(TOL);
    // …and the goldens can tell the two GELUs apart (the comparison is able to fail)
    const wrong = await withModel((m) => compareCase(m, golden, c));
    expect(worst(wrong)[1]).toBeGreaterThan(1e-3);
  });

  it("records every hook, in hook order, with TransformerLens shapes", async () => {
    await withModel(async (m) => {
      const T = 5;
      const { logits, activations } = m.forward({
        inputIds: [[1, 2, 3, 4, 5]],
        record: hookNames(2),
      });
      try {
        expect([...activations.keys()]).toEqual(hookNames(2));
        expect(logits.shape).toEqual([1, T, 500]);
        expect(activations.get("hook_pos_embed")!.shape).toEqual([1, T, 32]);
        expect(activations.get("blocks.0.attn.hook_q")!.shape).toEqual([1, T, 4, 8]);
        expect(activations.get("blocks.1.attn.hook_z")!.shape).toEqual([1, T, 4, 8]);
        expect(activations.get("blocks.0.attn.hook_pattern")!.shape).toEqual([1, 4, T, T]);
        expect(activations.get("blocks.1.mlp.hook_post")!.shape).toEqual([1, T, 128]);
        expect(activations.get("ln_final.hook_normalized")!.shape).toEqual([1, T, 32]);
        // recorded tensors are independent: disposing one leaves its neighbour readable
        activations.get("blocks.0.hook_resid_post")!.dispose();
        expect((await activations.get("blocks.1.hook_resid_pre")!.data()).length).toBe(T * 32);
      } finally {
        tf.dispose([logits, ...activations.values()]);
      }
    });
  });
});

describe("batching and logit positions", () => {
  it("a batch of 3 equals 3 single runs", async () => {
    const rows = [
      [5, 17, 300, 2, 499, 81, 7],
      [0, 0, 1, 2, 3, 4, 5],
      [250, 42, 42, 42, 9, 123, 8],
    ];
    await withModel(async (m) => {
      const rec = ["blocks.1.attn.hook_pattern", "blocks.0.hook_mlp_out"];
      const batched = m.forward({ inputIds: rows, record: rec });
      try {
        const all = await read(batched.logits);
        const acts = await Promise.all(rec.map((h) => read(batched.activations.get(h)!)));
        for (const [i, row] of rows.entries()) {
          const single = m.forward({ inputIds: [row], record: rec });
          const one = await read(single.logits);
          const n = one.length;
          expect(maxAbsDiff(all.subarray(i * n, (i + 1) * n), one)).toBeLessThanOrEqual(1e-5);
          for (const [j, h] of rec.entries()) {
            const a = await read(single.activations.get(h)!);
            expect(
              maxAbsDiff(acts[j].subarray(i * a.length, (i + 1) * a.length), a),
              h,
            ).toBeLessThanOrEqual(1e-5);
          }
          tf.dispose([single.logits, ...single.activations.values()]);
        }
      } finally {
        tf.dispose([batched.logits, ...batched.activations.values()]);
      }
    });
  });

  it("logitPositions 'last' and lists select rows of the full logits", async () => {
    const c = golden.case("p1");
    const want = golden.get("p1", "logits"); // [1, 11, 500]
    const V = 500;
    await withModel(async (m) => {
      const last = m.forward({ inputIds: c.ids, logitPositions: "last" });
      const some = m.forward({ inputIds: c.ids, logitPositions: [7, 2, 2] });
      expect(last.logits.shape).toEqual([1, 1, V]);
      expect(some.logits.shape).toEqual([1, 3, V]);
      expect(
        maxAbsDiff(await read(last.logits), want.data.subarray(10 * V, 11 * V)),
      ).toBeLessThanOrEqual(TOL);
      const s = await read(some.logits);
      for (const [i, p] of [7, 2, 2].entries()) {
        expect(
          maxAbsDiff(s.subarray(i * V, (i + 1) * V), want.data.subarray(p * V, (p + 1) * V)),
        ).toBeLessThanOrEqual(TOL);
      }
      tf.dispose([last.logits, some.logits]);
    });
  });
});

describe("building blocks for the tracing engine", () => {
  it("embed → blocks with a prefix's cached keys/values equals the full pass", async () => {
    const c = golden.case("batch2"); // [2][8]
    const want = golden.get("batch2", "logits"); // [2, 8, V]
    const split = 3;
    await withModel(async (m) => {
      const before = tf.memory().numTensors;
      const prefix = c.ids.map((r) => r.slice(0, split));
      const suffix = c.ids.map((r) => r.slice(split));
      const out = tf.tidy(() => {
        let a = m.embed(prefix).resid;
        let b = m.embed(suffix, { posOffset: split }).resid;
        for (let l = 0; l < config.nLayer; l++) {
          const pa = m.block(l, a);
          const pb = m.block(l, b, { past: pa.kv });
          // the suffix block returns only its own keys/values
          expect(pb.kv.k.shape).toEqual([2, 4, 8 - split, 8]);
          a = pa.resid;
          b = pb.resid;
        }
        return m.unembed(b, "all").logits; // [2, 5, V]
      });
      const got = await read(out);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const V = 500;
      for (let r = 0; r < 2; r++) {
        const g = got.subarray(r * 5 * V, (r + 1) * 5 * V);
        const w = want.data.subarray((r * 8 + split) * V, (r + 1) * 8 * V);
        expect(maxAbsDiff(g, w)).toBeLessThanOrEqual(TOL);
      }
    });
  });

  it("a batch-1 prefix cache broadcasts over a batch of suffixes", async () => {
    const rows = [
      [10, 11, 12, 13, 14, 15],
      [10, 11, 12, 99, 98, 97],
    ];
    await withModel(async (m) => {
      const full = m.forward({ inputIds: rows, logitPositions: "last" });
      const fast = tf.tidy(() => {
        let a = m.embed([rows[0].slice(0, 3)]).resid; // shared prefix, batch 1
        let b = m.embed(
          rows.map((r) => r.slice(3)),
          { posOffset: 3 },
        ).resid;
        for (let l = 0; l < config.nLayer; l++) {
          const pa = m.block(l, a);
          b = m.block(l, b, { past: pa.kv }).resid;
          a = pa.resid;
        }
        return m.unembed(b, "last").logits;
      });
      expect(maxAbsDiff(await read(fast), await read(full.logits))).toBeLessThanOrEqual(1e-5);
      tf.dispose([fast, full.logits]);
    });
  });

  it("running from layer 1 with a recorded resid_pre reproduces the logits", async () => {
    const c = golden.case("p1");
    const want = golden.get("p1", "logits");
    await withModel(async (m) => {
      const { logits, activations } = m.forward({
        inputIds: c.ids,
        record: ["blocks.1.hook_resid_pre"],
      });
      const resid = activations.get("blocks.1.hook_resid_pre") as tf.Tensor3D;
      const out = tf.tidy(() => m.unembed(m.block(1, resid).resid, "all").logits);
      expect(maxAbsDiff(await read(out), want.data)).toBeLessThanOrEqual(TOL);
      tf.dispose([out, logits, resid]);
    });
  });
});

describe("input checks and tensor hygiene", () => {
  it("forward + dispose leaves no tensors behind", async () => {
    await withModel(async (m) => {
      const before = tf.memory().numTensors;
      const r = m.forward({
        inputIds: [
          [1, 2, 3],
          [4, 5, 6],
        ],
        record: hookNames(2),
        interventions: [
          { hook: "hook_embed", op: "add", positions: [1], value: new Array(32).fill(0.1) },
        ],
      });
      expect(tf.memory().numTensors).toBe(before + 1 + hookNames(2).length);
      tf.dispose([r.logits, ...r.activations.values()]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it("dispose frees every weight", () => {
    const before = tf.memory().numTensors;
    const m = Gpt2Model.fromWeights(config, weights);
    expect(tf.memory().numTensors).toBe(before + 4 + 12 * config.nLayer);
    m.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("counts parameters", async () => {
    await withModel(async (m) => {
      const d = 32;
      const perBlock =
        4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
      expect(m.nParams).toBe(500 * d + 32 * d + 2 * perBlock + 2 * d);
    });
  });

  it("rejects bad ids with a ModelError, before building anything", async () => {
    await withModel(async (m) => {
      const before = tf.memory().numTensors;
      const cases: [number[][], RegExp][] = [
        [[], /at least one row/],
        [[[]], /at least one token/],
        [[[1, 2], [3]], /row 1 has 1 tokens/],
        [[[1, 500]], /token id 500 .* outside the vocabulary/],
        [[[1, -1]], /outside the vocabulary/],
        [[[1.5]], /outside the vocabulary/],
        [[new Array(33).fill(1)], /context of 32/],
      ];
      for (const [ids, msg] of cases) {
        expect(() => m.forward({ inputIds: ids })).toThrow(msg);
        expect(() => m.forward({ inputIds: ids })).toThrow(ModelError);
      }
      expect(() => m.forward({ inputIds: [[1, 2]], logitPositions: [2] })).toThrow(
        /outside 0 to 1/,
      );
      expect(() => m.embed([[1, 2]], { posOffset: 31 })).toThrow(/context of 32/);
      expect(tf.memory().numTensors).toBe(before);
    });
  });

  it("rejects weights whose shapes disagree with the config", () => {
    expect(() => Gpt2Model.fromWeights({ ...config, dMlp: 64 }, weights)).toThrow(
      /mlp\.c_fc\.weight has shape \[32, 128\]/,
    );
  });
});
