/**
 * Sweeps on the bundled model (public/models/tiny-facts) against the numpy reference
 * (test/fixtures/trace/bundled-goldens.json from scripts/reference/trace_ref.py): ROME's defaults
 * (10 samples, ν = 3σ, seed 1) on real known facts, text in. Skipped until the model exists;
 * fails with "re-run trace_ref.py" when the model was retrained after the goldens were made.
 */
import "../lib/model/backends-node";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import { parseKnownFacts, runTraceDataset } from "../lib/interp/dataset";
import { runPatch } from "../lib/interp/patch";
import { runTrace } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import {
  BUNDLED_DIR,
  loadEngine,
  maxDiff,
  type PatchGolden,
  TRACE_DIR,
  type TraceGolden,
} from "./interp-helpers";

const GOLDEN = path.join(TRACE_DIR, "bundled-goldens.json");
const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors")) && existsSync(GOLDEN);
const golden = present
  ? (JSON.parse(readFileSync(GOLDEN, "utf8")) as {
      modelSha256: string;
      cases: (TraceGolden | PatchGolden)[];
    })
  : { modelSha256: "", cases: [] };

let engine: Engine;

describe.skipIf(!present)("bundled model (tiny-facts)", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("goldens were computed from this model.safetensors", () => {
    const sha = createHash("sha256")
      .update(readFileSync(path.join(BUNDLED_DIR, "model.safetensors")))
      .digest("hex");
    expect(sha, "the bundled model changed: re-run python3 scripts/reference/trace_ref.py").toBe(
      golden.modelSha256,
    );
  });

  for (const c of golden.cases) {
    if (c.type === "trace") {
      it(`${c.name}: fast trace within 1e-4 of numpy`, async () => {
        const before = tf.memory().numTensors;
        const r = await runTrace(engine, c.spec);
        expect(tf.memory().numTensors).toBe(before);
        expect(r.ids).toEqual(c.input_ids);
        expect(r.subject).toEqual(c.subject_range);
        expect(r.answer.ids).toEqual(c.target);
        expect(Math.abs(r.high - c.high_score)).toBeLessThan(1e-4);
        expect(Math.abs(r.low - c.low_score)).toBeLessThan(1e-4);
        const d = maxDiff(r.scores, c.scores);
        console.log(
          `${c.name}: max |Δ| ${d.toExponential(2)}, ${r.evaluations} evaluations, ${r.ms.toFixed(0)} ms`,
        );
        expect(d).toBeLessThan(1e-4);
      });
    } else {
      it(`${c.name}: patching within 1e-4 of numpy`, async () => {
        const r = await runPatch(engine, c.spec);
        expect(Math.abs(r.clean_logit_diff - c.clean_logit_diff)).toBeLessThan(1e-4);
        expect(Math.abs(r.corrupt_logit_diff - c.corrupt_logit_diff)).toBeLessThan(1e-4);
        expect(maxDiff(r.scores, c.scores)).toBeLessThan(1e-4);
      });
    }
  }

  it("hidden trace of a known fact: naive == fast, fast ≤ 1/3 of naive's evaluations", async () => {
    const c = golden.cases.find(
      (x) => x.type === "trace" && x.spec.kind === "hidden",
    ) as TraceGolden;
    const naive = await runTrace(engine, { ...c.spec, strategy: "naive" });
    const fast = await runTrace(engine, { ...c.spec, strategy: "fast" });
    expect(maxDiff(fast.scores, naive.scores)).toBeLessThan(1e-5);
    const ratio = fast.evaluations / naive.evaluations;
    console.log(
      `bundled hidden trace, T=${fast.ids.length}, subject ${JSON.stringify(fast.subject)}: ` +
        `fast/naive evaluations ${fast.evaluations}/${naive.evaluations} = ${ratio.toFixed(3)}, ` +
        `time ${fast.ms.toFixed(0)}/${naive.ms.toFixed(0)} ms`,
    );
    if (fast.subject[0] <= 1) expect(ratio).toBeLessThanOrEqual(1 / 3);
  });

  it("dataset mode on the first known facts: the model knows them all", async () => {
    const facts = parseKnownFacts(
      JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
    );
    const r = await runTraceDataset(engine, facts, { limit: 4, kinds: ["hidden"], samples: 2 });
    expect(r.n_used + r.skipped_wrong + r.skipped_invalid).toBe(4);
    expect(r.skipped_invalid).toBe(0);
    expect(r.n_used).toBeGreaterThan(0);
    expect(r.kinds.hidden!.groups[2].n).toBe(r.n_used); // one last-subject-token sample per fact
  });
});
