/**
 * Backend selection in Node, and the wasm and cpu backends giving the same numbers (every hook)
 * on the random model and, when it is there, the bundled one.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { hookNames } from "../lib/model/hooks";
import {
  BUNDLED_MODEL_DIR,
  loadModelDir,
  maxAbsDiff,
  RANDOM_MODEL_DIR,
} from "../scripts/reference/golden";

describe("selectBackend", () => {
  it("skips backends that are not registered or cannot start in Node", async () => {
    await expect(selectBackend(["webgpu", "webgl", "wasm", "cpu"])).resolves.toEqual({
      backend: "wasm",
    });
    expect(tf.getBackend()).toBe("wasm");
    await expect(selectBackend(["cpu", "wasm"])).resolves.toEqual({ backend: "cpu" });
    expect(tf.getBackend()).toBe("cpu");
  });

  it("says what it tried when nothing starts", async () => {
    await expect(selectBackend(["webgpu"])).rejects.toThrow(
      /no tfjs backend could start: tried webgpu/,
    );
    await expect(selectBackend([])).rejects.toThrow(/empty backend list/);
    await selectBackend(["wasm"]); // leave a working backend behind
  });
});

async function runOn(backend: "wasm" | "cpu", dir: string, ids: number[][]) {
  await selectBackend([backend]);
  const { config, weights } = await loadModelDir(dir);
  const m = Gpt2Model.fromWeights(config, weights);
  const out = new Map<string, Float32Array>();
  try {
    const { logits, activations } = m.forward({ inputIds: ids, record: hookNames(config.nLayer) });
    for (const [k, t] of [["logits", logits] as const, ...activations])
      out.set(k, Float32Array.from(await t.data()));
    tf.dispose([logits, ...activations.values()]);
  } finally {
    m.dispose();
  }
  return out;
}

const models: [string, string][] = [["random", RANDOM_MODEL_DIR]];
if (existsSync(path.join(BUNDLED_MODEL_DIR, "model.safetensors")))
  models.push(["tiny-facts", BUNDLED_MODEL_DIR]);

describe("wasm and cpu agree", () => {
  for (const [name, dir] of models) {
    it(`${name}: logits and every hook within 1e-4`, async () => {
      const ids = [
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
        [9, 8, 7, 6, 5, 4, 3, 2, 1],
      ];
      const wasm = await runOn("wasm", dir, ids);
      const cpu = await runOn("cpu", dir, ids);
      await selectBackend(["wasm"]);
      expect([...wasm.keys()]).toEqual([...cpu.keys()]);
      let worst = 0;
      for (const [k, a] of wasm) {
        const d = maxAbsDiff(a, cpu.get(k)!);
        worst = Math.max(worst, d);
        expect(d, k).toBeLessThanOrEqual(1e-4);
      }
      console.log(`${name}: wasm vs cpu max |Δ| = ${worst.toExponential(2)}`);
    });
  }
});
