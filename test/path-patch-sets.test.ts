/**
 * Path patching into a receiver set (lib/interp/path-patch.ts, perHead: false): the sender's
 * corrupted output read only by a set of heads, jointly (Wang et al. 2022), against the numpy
 * reference (scripts/reference/path_patch_sets_ref.py → test/fixtures/path-patch/receiver-sets.json)
 * on GPT-2 (random, tiny-facts), Llama (tiny-facts-llama, llama-gqa-bf16: receivers sharing a K/V
 * head) and GPT-NeoX: the joint effect and each receiver alone within 1e-4, 3 + 1 passes for the
 * set, no grid, no tensors left.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HeadRef, runPathPatch } from "../lib/interp/path-patch";
import { TraceError } from "../lib/interp/spec";
import { selectBackend } from "../lib/model/backend";
import type { Gpt2Model } from "../lib/model/gpt2";
import { ROOT } from "../scripts/reference/golden";
import { loadGoldenModels, type PathGolden, pathSpecOf } from "./helpers/path-goldens";

const TOL = 1e-4;

/** Each case: a receiver set (spec.receivers), its joint effect and each member's alone. */
interface SetGolden extends Omit<PathGolden, "scores" | "joint"> {
  dir: string;
  alone: number[];
  joint: number;
}

const goldens = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/path-patch/receiver-sets.json"), "utf8"),
) as { bundledSha256: Record<string, string>; cases: SetGolden[] };

let models = new Map<string, Gpt2Model>();
const head = ([layer, h]: [number, number]): HeadRef => ({ layer, head: h });
const specOf = (c: SetGolden, receivers: HeadRef[]) => ({
  ...pathSpecOf({ ...c, scores: [] }),
  receivers,
  perHead: false,
});

beforeAll(async () => {
  await selectBackend(["wasm"]);
  for (const [name, want] of Object.entries(goldens.bundledSha256)) {
    const file = path.join(ROOT, "public/models", name, "model.safetensors");
    if (createHash("sha256").update(readFileSync(file)).digest("hex") !== want)
      throw new Error(`receiver-set goldens are for another ${name}: rerun path_patch_sets_ref.py`);
  }
  models = await loadGoldenModels(goldens.cases);
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
});

describe("path patching into a receiver set (numpy reference)", () => {
  for (const c of goldens.cases) {
    it(`${c.name}: the joint effect and each receiver alone within ${TOL}`, async () => {
      const model = models.get(c.model) as Gpt2Model;
      const before = tf.memory().numTensors;
      const receivers = (c.spec.receivers ?? []).map(head);
      const r = await runPathPatch({ model }, specOf(c, receivers));
      expect(r.evaluations).toBe(4); // clean, corrupted, frozen, the set
      expect(r.scores.flat().every(Number.isNaN)).toBe(true); // no grid asked for
      expect(r.receivers).toEqual(receivers);
      expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(TOL);
      expect(Math.abs((r.joint as number) - c.joint)).toBeLessThan(TOL);
      const alone = [];
      for (const x of receivers) {
        alone.push((await runPathPatch({ model }, specOf(c, [x]))).joint as number);
      }
      const d = Math.max(...alone.map((v, i) => Math.abs(v - c.alone[i])));
      console.log(
        `${c.name}: joint Δ ${Math.abs((r.joint as number) - c.joint).toExponential(2)}, alone max Δ ${d.toExponential(2)}`,
      );
      expect(d).toBeLessThan(TOL);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("a set that is not the sum of its members (random GPT-2, k only)", () => {
    const c = goldens.cases.find((x) => x.name === "random-gpt2-f16-L0H0-k-L1H2+L1H3") as SetGolden;
    const sum = c.alone.reduce((a, b) => a + b, 0);
    expect(Math.abs(c.joint - sum)).toBeGreaterThan(1e-3);
  });

  it("refuses a joint-only run without receivers, leaving no tensors", async () => {
    const c = goldens.cases[0];
    const before = tf.memory().numTensors;
    const err = await runPathPatch(
      { model: models.get(c.model) as Gpt2Model },
      specOf(c, []),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(TraceError);
    expect((err as Error).message).toMatch(/receiver heads/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
