/**
 * Activation patching (lib/interp/patch.ts) against the numpy reference on the 4-layer tiny model
 * and the random F16 GPT-2, both strategies, both metrics; exact endpoints; errors; tensors.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { runPatch } from "../lib/interp/patch";
import { type PatchSpec, TraceError } from "../lib/interp/spec";
import { selectBackend } from "../lib/model/backend";
import { loadEngine, loadTraceGoldens, maxDiff, type PatchGolden } from "./interp-helpers";

const TOL = 1e-4;
const engines: Record<string, Engine> = {};
const cases = loadTraceGoldens().cases.filter((c): c is PatchGolden => c.type === "patch");

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engines["tiny-4l"] = await loadEngine("tiny-4l");
  engines["random-gpt2-f16"] = await loadEngine("random-gpt2-f16");
});
afterAll(() => {
  for (const e of Object.values(engines)) e.dispose();
});

const tensors = () => tf.memory().numTensors;

describe("patching goldens (numpy reference)", () => {
  for (const c of cases) {
    for (const strategy of ["fast", "naive"] as const) {
      it(`${c.name} (${strategy}): both metrics within ${TOL}`, async () => {
        const engine = engines[c.model];
        const before = tensors();
        const ld = await runPatch(engine, { ...c.spec, strategy });
        const pr = await runPatch(engine, { ...c.spec, strategy, metric: "prob" });
        expect(tensors()).toBe(before);
        for (const r of [ld, pr]) {
          expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(TOL);
          expect(Math.abs(r.corrupt_logit_diff - c.corrupt_logit_diff)).toBeLessThan(TOL);
          expect(Math.abs(r.clean_prob - c.clean_prob)).toBeLessThan(TOL);
          expect(Math.abs(r.corrupt_prob - c.corrupt_prob)).toBeLessThan(TOL);
        }
        const d = maxDiff(ld.scores, c.scores);
        const dp = maxDiff(pr.scores, c.prob_scores);
        if (strategy === "fast")
          console.log(`${c.name}: max |Δ| LD ${d.toExponential(2)}, prob ${dp.toExponential(2)}`);
        expect(d).toBeLessThan(TOL);
        expect(dp).toBeLessThan(TOL);
      });
    }
  }
});

describe("patching semantics", () => {
  const c = cases.find((x) => x.name === "random-patch-resid_pre")!;

  it("shapes: [L][T], [L][H], [L][T][H]", async () => {
    const e = engines["tiny-4l"];
    const base = cases.find((x) => x.name === "tiny-patch-resid_pre")!.spec as PatchSpec;
    const byPos = await runPatch(e, { ...base, site: "mlp_out" });
    expect(byPos.scores).toHaveLength(4);
    expect((byPos.scores as number[][])[0]).toHaveLength(10);
    const heads = await runPatch(e, { ...base, site: "head_out" });
    expect(heads.scores).toHaveLength(4);
    expect((heads.scores as number[][])[0]).toHaveLength(4);
    const hp = await runPatch(e, { ...base, site: "head_out_pos" });
    expect((hp.scores as number[][][])[0][0]).toHaveLength(4);
    expect(hp).toMatchObject({
      site: "head_out_pos",
      metric: "logit_diff_normalized",
      n_layer: 4,
      n_head: 4,
    });
  });

  it("patching the only differing token's input embedding restores the clean run (1); earlier positions change nothing (0)", async () => {
    // the random prompts differ only at position 1
    const r = await runPatch(engines["random-gpt2-f16"], c.spec);
    const s = r.scores as number[][];
    expect(Math.abs(s[0][1] - 1)).toBeLessThan(1e-5);
    expect(s[0][0]).toBe(0);
    for (let l = 0; l < s.length; l++) expect(s[l][0]).toBe(0);
  });

  it("fast spends fewer evaluations than naive, same numbers", async () => {
    for (const site of ["attn_out", "head_out", "head_out_pos"] as const) {
      const spec = { ...cases.find((x) => x.name === "tiny-patch-resid_pre")!.spec, site };
      const f = await runPatch(engines["tiny-4l"], { ...spec, strategy: "fast" });
      const n = await runPatch(engines["tiny-4l"], { ...spec, strategy: "naive" });
      const s = await runPatch(
        engines["tiny-4l"],
        { ...spec, strategy: "fast" },
        { singlePosition: true },
      );
      expect(maxDiff(f.scores, n.scores)).toBeLessThan(1e-5);
      expect(maxDiff(s.scores, n.scores)).toBeLessThan(1e-5);
      expect(s.evaluations).toBeLessThanOrEqual(f.evaluations);
      expect(f.evaluations).toBeLessThan(n.evaluations);
    }
  });

  it("streams rows: by position for resid_pre, by layer for head_out", async () => {
    const e = engines["tiny-4l"];
    const base = cases.find((x) => x.name === "tiny-patch-resid_pre")!.spec as PatchSpec;
    const rows: number[] = [];
    const r = await runPatch(e, base, { onRow: (row) => rows.push(row.index) });
    expect(rows).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(r.scores).toHaveLength(4);
    const lrows: { index: number; n: number }[] = [];
    await runPatch(
      e,
      { ...base, site: "head_out" },
      { onRow: (row) => lrows.push({ index: row.index, n: row.values.length }) },
    );
    expect(lrows.map((x) => x.index).sort()).toEqual([0, 1, 2, 3]);
    expect(lrows.every((x) => x.n === 4)).toBe(true);
  });

  const bad: [string, Partial<PatchSpec>, RegExp][] = [
    ["prompts of different lengths", { corrupt: [65, 17, 59] }, /same number of tokens/],
    ["identical prompts", { corrupt: [65, 398, 59, 233, 408, 151, 12] }, /same as the clean/],
    ["target = foil", { foil: 22, target: 22 }, /same token/],
    [
      "multi-token target",
      { clean: "ab cd", corrupt: "ab ce", target: "xyz", foil: 5 },
      /single token/,
    ],
    ["unknown site", { site: "neuron" as never }, /site/],
    ["unknown metric", { metric: "kl" as never }, /metric/],
  ];
  for (const [name, over, msg] of bad) {
    it(`rejects: ${name}`, async () => {
      const before = tensors();
      const run = runPatch(engines["random-gpt2-f16"], { ...(c.spec as PatchSpec), ...over });
      await expect(run).rejects.toThrow(msg);
      await expect(
        runPatch(engines["random-gpt2-f16"], { ...(c.spec as PatchSpec), ...over }),
      ).rejects.toBeInstanceOf(TraceError);
      expect(tensors()).toBe(before);
    });
  }
});
